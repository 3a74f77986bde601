"""Attacks on `fakeapollo record` over real HTTP: the credit cap, other sites' requests, private files."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import key_registry, raw
from tests.recording_helpers import UPSTREAM_KEYS, recorder, upstream_journal
from tests.webhook_helpers import Emulator, emulator

pytestmark = pytest.mark.slow

BULK = "/api/v1/people/bulk_match"
TEN = [{"email": f"p{i}.q@acme.com"} for i in range(10)]
# What a browser adds to a request another site's page makes (an <img>, a no-cors fetch).
BROWSER_CROSS_SITE = {
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "no-cors",
    "User-Agent": "Mozilla/5.0 Chrome/131.0",
    "Referer": "https://attacker.example/",
}


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[Emulator]:
    """A fakeapollo that knows only the recorder's real key and serves complete persons (no thin share)."""
    with emulator(keys=key_registry(tmp_path, UPSTREAM_KEYS), webhook_delay="1", thin_share=0) as handle:
        yield handle



def refused(problem: str) -> dict[str, str]:
    """The recorder's answer to a call it will not cost."""
    return {
        "error": f"fakeapollo record: {problem}; it was not sent to the upstream",
        "error_code": "RECORDING_CALL_REFUSED",
    }


def test_a_body_the_upstream_may_read_as_json_is_never_costed_as_a_form(
    upstream: Emulator, tmp_path: Path
) -> None:
    body = json.dumps({"details": TEN}).encode()
    ambiguous = "application/json; x-www-form-urlencoded"

    with recorder(upstream.url, tmp_path / "rec", max_credits=10) as rec:

        def send(_: int) -> tuple[int, Any]:
            return raw(rec.url, "POST", BULK, body, **{"Content-Type": ambiguous, "x-api-key": "k"})

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(send, range(8)))
    only_json = "the recorder forwards bodies sent as application/json only"
    assert answers == [(400, refused(f"a body sent as {ambiguous!r}: {only_json}"))] * 8
    assert upstream_journal(upstream.url) == []


def test_concurrent_bulks_never_spend_past_the_cap(upstream: Emulator, tmp_path: Path) -> None:
    with recorder(upstream.url, tmp_path / "rec", max_credits=10) as rec:

        def send(_: int) -> int:
            return requests.post(
                f"{rec.url}{BULK}", json={"details": TEN}, headers={"x-api-key": "k"}, timeout=10
            ).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = sorted(pool.map(send, range(8)))
        spent = json.loads((tmp_path / "rec" / "credits.json").read_text())["spent"]
    assert statuses == [200] + [422] * 7
    assert spent == 10.0 and len(upstream_journal(upstream.url)) == 1


def test_a_repeated_query_parameter_is_refused_not_guessed(upstream: Emulator, tmp_path: Path) -> None:
    with recorder(upstream.url, tmp_path / "rec", max_credits=100) as rec:
        answer = requests.post(
            f"{rec.url}/api/v1/people/match?email=a.b@acme.com"
            "&reveal_phone_number=true&reveal_phone_number=false&webhook_url=http://127.0.0.1:9/h",
            headers={"x-api-key": "k"},
            timeout=10,
        )
        bracketed = requests.post(
            f"{rec.url}{BULK}?details[][email]=a.b@acme.com&details[][email]=c.d@acme.com",
            headers={"x-api-key": "k"},
            timeout=10,
        )
        both = requests.post(
            f"{rec.url}/api/v1/people/match?reveal_phone_number=false",
            json={"email": "a.b@acme.com", "reveal_phone_number": True},
            headers={"x-api-key": "k"},
            timeout=10,
        )
    assert (answer.status_code, answer.json()) == (
        400,
        refused(
            "the query string gives 'reveal_phone_number' more than once (the upstream may read another)"
        ),
    )
    assert (bracketed.status_code, bracketed.json()) == (
        400,
        refused(
            "the query string names a parameter 'details[][email]': the recorder forwards names of letters, "
            "digits and '_' (and 'name[]' for arrays); send nested values in a JSON body"
        ),
    )
    assert (both.status_code, both.json()) == (
        400,
        refused(
            "the parameter 'reveal_phone_number' is in both the query string and the body (send it once)"
        ),
    )
    assert upstream_journal(upstream.url) == []


@pytest.mark.parametrize(
    "target",
    [
        "/api/v1/../v1/people/bulk_match",
        "/api/v1/../../__admin/clock",
        "/api/v1/people/%2e%2e/bulk_match",
        "/api/v1//people/match",
        "/v1/people/./match",
    ],
)
def test_a_path_with_dot_segments_or_escapes_never_reaches_the_upstream(
    upstream: Emulator, tmp_path: Path, target: str
) -> None:
    with recorder(upstream.url, tmp_path / "rec", max_credits=100) as rec:
        status, body = raw(
            rec.url,
            "POST",
            target,
            json.dumps({"details": TEN}).encode(),
            **{"Content-Type": "application/json", "x-api-key": "k"},
        )
    assert status == 400 and body["error_code"] == "RECORDING_CALL_REFUSED"
    assert body["error"].startswith(
        f"fakeapollo record: the path {target!r} is not one the recorder forwards"
    )
    assert upstream_journal(upstream.url) == []


def test_the_forwarded_call_is_exactly_the_costed_one(upstream: Emulator, tmp_path: Path) -> None:
    with recorder(upstream.url, tmp_path / "rec", max_credits=100) as rec:
        answer = requests.post(
            f"{rec.url}/v1/organizations/bulk_enrich?domains[]=acme.com&domains[]=globex.com",
            headers={"x-api-key": "k", "X-HTTP-Method-Override": "DELETE"},
            timeout=10,
        )
        body = requests.post(
            f"{rec.url}/api/v1/people/match",
            data=b' {"email": "a.b@acme.com"} ',
            headers={"x-api-key": "k", "Content-Type": "application/json; charset=UTF-8"},
            timeout=10,
        )
    assert answer.status_code == 200 and len(answer.json()["organizations"]) == 2
    assert body.status_code == 200
    [enrich, match] = upstream_journal(upstream.url)
    assert enrich["method"] == "POST" and enrich["query"] == {"domains[]": ["acme.com", "globex.com"]}
    assert "x-http-method-override" not in {k.lower() for k in enrich["headers"]}
    assert match["body"] == {"email": "a.b@acme.com"}
    assert match["headers"]["Content-Type"] == "application/json"


def test_a_call_at_the_cap_that_looks_free_is_still_refused(upstream: Emulator, tmp_path: Path) -> None:
    with recorder(upstream.url, tmp_path / "rec", max_credits=1) as rec:
        first = requests.post(
            f"{rec.url}/api/v1/people/match", json={"email": "a.b@acme.com"}, headers={"x-api-key": "k"}
        )
        empty = requests.post(f"{rec.url}{BULK}", json={"details": []}, headers={"x-api-key": "k"})
        unknown = requests.post(f"{rec.url}/api/v1/people/search", json={}, headers={"x-api-key": "k"})
    assert first.status_code == 200
    assert [empty.status_code, unknown.status_code] == [422, 422]
    assert empty.json()["call_could_cost"] == unknown.json()["call_could_cost"] == 1.0
    assert len(upstream_journal(upstream.url)) == 1


def test_another_sites_page_cannot_spend_through_the_recorder(upstream: Emulator, tmp_path: Path) -> None:
    match = "/api/v1/people/match?email=victim.one@acme.com"
    with recorder(upstream.url, tmp_path / "rec", max_credits=100) as rec:
        # <img src="http://127.0.0.1:PORT/api/v1/people/match?email=..."> in a browser.
        image = raw(rec.url, "GET", match, **BROWSER_CROSS_SITE, Accept="image/avif,image/webp,*/*")
        # The same from a browser that sends no Sec-Fetch-* headers.
        old_image = raw(rec.url, "GET", match, Accept="image/*")
        # fetch(url, {method: "POST", mode: "no-cors", body: "..."}) from https://attacker.example.
        no_cors = raw(
            rec.url,
            "POST",
            "/api/v1/people/match",
            b'{"email":"victim.one@acme.com"}',
            **BROWSER_CROSS_SITE,
            Origin="https://attacker.example",
            **{"Content-Type": "text/plain;charset=UTF-8"},
        )
        port = urlsplit(rec.url).port
        rebound = raw(
            rec.url,
            "GET",
            match,
            Host=f"attacker.example:{port}",
            **{"x-api-key": "k", "Sec-Fetch-Site": "same-origin"},
        )
        own = raw(rec.url, "GET", match, Host=f"localhost:{port}", **{"x-api-key": "k"})
    assert image[0] == 403 and image[1]["error_code"] == "CROSS_SITE_REQUEST_REFUSED"
    assert (
        image[1]["error"]
        == "fakeapollo record: refused a request another site started (Sec-Fetch-Site: cross-site)"
    )
    assert old_image == (
        403,
        {
            "error": "fakeapollo record: a call needs an x-api-key header (any value: the recorder forwards"
            " with APOLLO_API_KEY), as Apollo does",
            "error_code": "CROSS_SITE_REQUEST_REFUSED",
        },
    )
    assert no_cors[0] == 403 and no_cors[1]["error"].startswith(
        "fakeapollo record: refused a request another"
    )
    assert rebound[0] == 403 and rebound[1]["error"].startswith(
        f"fakeapollo record: Host 'attacker.example:{port}' is not this server"
    )
    assert own[0] == 200
    assert len(upstream_journal(upstream.url)) == 1


def test_a_webhook_delivery_aimed_at_the_recorder_is_not_forwarded(
    upstream: Emulator, tmp_path: Path
) -> None:
    with recorder(upstream.url, tmp_path / "rec", max_credits=100) as rec:
        status, body = raw(
            rec.url,
            "POST",
            "/api/v1/people/match",
            b'{"email":"a.b@acme.com"}',
            **{"Content-Type": "application/json", "x-api-key": "k", "X-Fakeapollo-Webhook-Delivery": "1"},
        )
    assert (status, body["error"]) == (403, "fakeapollo record: a webhook delivery is never forwarded")
    assert upstream_journal(upstream.url) == []


def test_the_recording_is_readable_by_its_owner_only(upstream: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    with recorder(upstream.url, out, scrub=True) as rec:
        requests.post(
            f"{rec.url}/api/v1/people/match", json={"email": "a.b@acme.com"}, headers={"x-api-key": "k"}
        )
    paths = [out, *out.rglob("*")]
    assert {p.relative_to(out).as_posix() for p in paths if p.is_file()} >= {
        "exchanges.jsonl",
        "credits.json",
        "scrub.key",
        "scrubbed.json",
        "scrub-hashes.json",
        ".gitignore",
    }
    assert any(p.parent.name == "persons" for p in paths)
    modes = {p.relative_to(out).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in paths}
    assert {name: mode for name, mode in modes.items() if mode & 0o077} == {}
