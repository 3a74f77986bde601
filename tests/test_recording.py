"""`fakeapollo record` against a second fakeapollo as the upstream, over real HTTP on loopback."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import requests

from mock_server.domain.data import load_fixture_persons, violations
from tests.conftest import ROOT, key_registry, start_serve
from tests.recording_helpers import SECRET, UPSTREAM_KEYS, files_containing, recorder, upstream_journal
from tests.webhook_helpers import WITH_MOBILE, Emulator, emulator, receiver

pytestmark = pytest.mark.slow


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[Emulator]:
    """A fakeapollo that knows only the recorder's real key and serves complete persons (no thin share)."""
    with emulator(keys=key_registry(tmp_path, UPSTREAM_KEYS), webhook_delay="1", thin_share=0) as handle:
        yield handle


def _post(url: str, path: str, body: dict[str, Any], **headers: str) -> requests.Response:
    """A client call through the recorder, with a key that is not the real one."""
    return requests.post(
        f"{url}{path}", json=body, headers={"x-api-key": "any-client-key", **headers}, timeout=10
    )


def _forced(url: str, outcome: str) -> requests.Response:
    """A people/match through the recorder that asks the upstream for a forced outcome."""
    return _post(url, "/api/v1/people/match", {"email": "x@acme.com"}, **{"X-Mock-Scenario": outcome})


def test_recorded_persons_are_served_identically_by_serve_fixtures(
    upstream: Emulator, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    with recorder(upstream.url, out) as rec:
        single = _post(rec.url, "/api/v1/people/match", {"email": "jane.doe@acme.com"})
        bulk = _post(
            rec.url,
            "/v1/people/bulk_match",
            {"details": [{"email": "sam.lee@globex.com"}, {"name": "Nobody"}]},
        )
    assert single.status_code == 200 and bulk.status_code == 200
    recorded = [single.json()["person"], bulk.json()["matches"][0]]
    assert bulk.json()["matches"][1] is None
    assert sorted(p.name for p in (out / "persons").iterdir()) == sorted(f"{p['id']}.json" for p in recorded)

    served = start_serve("--fixtures", str(out / "persons"))
    try:
        for person in recorded:
            again = requests.post(
                f"{served.url}/api/v1/people/match",
                json={"email": person["email"]},
                headers={"x-api-key": "test-key"},
                timeout=10,
            )
            assert again.status_code == 200
            assert again.json()["person"] == person
    finally:
        served.stop()


def test_every_exchange_is_a_json_line_without_the_key(upstream: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    with recorder(upstream.url, out) as rec:
        _post(rec.url, "/api/v1/people/match", {"email": "jane.doe@acme.com", "api_key": SECRET})
        requests.get(
            f"{rec.url}/api/v1/organizations/enrich?domain=acme.com",
            headers={"x-api-key": SECRET},
            timeout=10,
        )
        exchanges = rec.exchanges()
    assert [(e["request"]["method"], e["request"]["path"], e["response"]["status"]) for e in exchanges] == [
        ("POST", "/api/v1/people/match", 422),  # api_key in the body: the upstream's own answer, passed on
        ("GET", "/api/v1/organizations/enrich", 200),
    ]
    assert exchanges[1]["response"]["body"]["organization"]["primary_domain"] == "acme.com"
    assert "x-rate-limit-minute" in exchanges[1]["response"]["headers"]
    assert all(isinstance(e["seconds"], float) and e["at"].endswith("Z") for e in exchanges)
    assert files_containing(out, SECRET) == []
    # The upstream saw the real key (it knows no other), never the client's.
    assert [e["response"]["status"] for e in upstream_journal(upstream.url)] == [422, 200]


def test_the_call_that_would_cross_the_cap_is_never_sent(upstream: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    with recorder(upstream.url, out, max_credits=2) as rec:
        assert _post(rec.url, "/api/v1/people/match", {"email": "jane.doe@acme.com"}).status_code == 200
        details = [{"email": "a.b@acme.com"}, {"email": "c.d@acme.com"}]
        refused = _post(rec.url, "/api/v1/people/bulk_match", {"details": details})
    assert refused.status_code == 422
    assert refused.json() == {
        "error": "fakeapollo record: this call could cost up to 2 credits, but 1 of the 2 allowed by "
        "--max-credits are spent; it was not sent to the upstream",
        "error_code": "RECORDING_CREDIT_CAP_REACHED",
        "credits_spent": 1.0,
        "credits_reserved": 0.0,
        "max_credits": 2.0,
        "call_could_cost": 2.0,
    }
    assert [e["path"] for e in upstream_journal(upstream.url)] == ["/api/v1/people/match"]
    # The count survives a restart: one more credit is allowed, then nothing.
    with recorder(upstream.url, out, max_credits=2) as rec:
        assert _post(rec.url, "/v1/people/match", {"email": "e.f@acme.com"}).status_code == 200
        assert _post(rec.url, "/v1/people/match", {"email": "g.h@acme.com"}).status_code == 422
    assert json.loads((out / "credits.json").read_text())["spent"] == 2.0
    assert len(upstream_journal(upstream.url)) == 2


def test_a_phone_reveal_is_held_at_nine_credits_until_its_webhook_says_what_it_cost(
    upstream: Emulator, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    upstream.freeze()
    with receiver() as client_hook, recorder(upstream.url, out, max_credits=10) as rec:
        body = {"email": WITH_MOBILE, "reveal_phone_number": True, "webhook_url": client_hook.url}
        answer = _post(rec.url, "/api/v1/people/match", body)
        assert answer.status_code == 200
        assert rec.proxy.cap.describe() == {"spent": 1.0, "reserved": 8.0, "max_credits": 10}
        # A second reveal could cost 9 more: refused while the first one's phones are pending.
        assert _post(rec.url, "/api/v1/people/match", {**body, "email": "p1@phones.com"}).status_code == 422
        forwarded = upstream_journal(upstream.url)[0]["body"]["webhook_url"]
        assert forwarded.startswith(rec.url + "/__record/webhooks/")
        upstream.advance(10)
        [payload] = client_hook.wait_for(1)
        assert payload["people"][0]["id"] == answer.json()["person"]["id"]
        assert rec.proxy.cap.describe() == {"spent": 9.0, "reserved": 0.0, "max_credits": 10}
        hooks = [e for e in rec.exchanges() if e["kind"] == "webhook"]
    assert [h["payload"] for h in hooks] == [payload]
    assert hooks[0]["passed_on"] == {"status": 200, "error": None}
    assert files_containing(out, SECRET) == []

    # The recorded numbers are the ones `serve --fixtures` delivers for the same reveal offline.
    with emulator(fixtures=out / "persons", webhook_delay="1") as offline, receiver() as offline_hook:
        offline.freeze()
        assert offline.match(WITH_MOBILE, offline_hook.url).status_code == 200
        offline.advance(10)
        [replayed] = offline_hook.wait_for(1)
    numbers = [(p["sanitized_number"], p["type_cd"]) for p in payload["people"][0]["phone_numbers"]]
    assert [(p["sanitized_number"], p["type_cd"]) for p in replayed["people"][0]["phone_numbers"]] == numbers
    assert replayed["credits_consumed"] == payload["credits_consumed"]


def test_a_webhook_off_the_allowlist_is_recorded_and_never_passed_on(
    upstream: Emulator, tmp_path: Path
) -> None:
    upstream.freeze()
    with recorder(upstream.url, tmp_path / "rec") as rec:
        body = {"email": WITH_MOBILE, "reveal_phone_number": True, "webhook_url": "http://203.0.113.9/hook"}
        assert _post(rec.url, "/api/v1/people/match", body).status_code == 200
        upstream.advance(10)
        [hook] = [e for e in rec.exchanges() if e["kind"] == "webhook"]
    assert hook["passed_on"] == {
        "status": None,
        "error": "not passed on: webhook_url host '203.0.113.9' is not on the allowlist "
        "(loopback and private networks by default; see --webhook-allow)",
    }
    assert hook["payload"]["people"][0]["phone_numbers"]
    # The payload was recorded: the upstream hears success and does not retry.
    assert [d["status"] for d in upstream.deliveries()] == ["delivered"]


def test_an_upstream_429_reaches_the_client_unchanged(upstream: Emulator, tmp_path: Path) -> None:
    direct = upstream.http.post(
        f"{upstream.url}/api/v1/people/match",
        json={"email": "x@acme.com"},
        headers={"X-Mock-Scenario": "rate_limited", "x-api-key": SECRET},
    )
    with recorder(upstream.url, tmp_path / "rec") as rec:
        proxied = _forced(rec.url, "rate_limited")
        [exchange] = rec.exchanges()
    assert proxied.status_code == direct.status_code == 429
    assert proxied.content == direct.content
    assert {k.lower() for k in proxied.headers} == {k.lower() for k in direct.headers}
    assert exchange["response"]["status"] == 429 and exchange["fault"] is None
    journal = upstream_journal(upstream.url)
    assert [e["response"]["status"] for e in journal] == [429, 429]
    # Exactly the headers the upstream sent for the proxied call (its journal leaves out only Date).
    sent = {k.lower(): v for k, v in journal[1]["response"]["headers"].items()}
    assert {k.lower(): v for k, v in proxied.headers.items() if k.lower() != "date"} == sent


def test_an_upstream_reset_resets_the_client_and_is_not_retried(upstream: Emulator, tmp_path: Path) -> None:
    with recorder(upstream.url, tmp_path / "rec", max_credits=5) as rec:
        with pytest.raises(requests.ConnectionError):
            _forced(rec.url, "connection_reset")
        [exchange] = rec.exchanges()
        # Apollo may have charged before the reset: the reservation is kept as spent.
        assert rec.proxy.cap.describe()["spent"] == 1.0
    assert exchange["fault"].startswith("reset") and "response" not in exchange
    assert len(upstream_journal(upstream.url)) == 1


def test_an_upstream_stream_error_outside_httpx_s_own_also_resets_the_client(
    upstream: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        raise anyio.BrokenResourceError

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", broken)
    with recorder(upstream.url, tmp_path / "rec", max_credits=5) as rec:
        with pytest.raises(requests.ConnectionError):
            _post(rec.url, "/api/v1/people/match", {"email": "x@acme.com"})
        [exchange] = rec.exchanges()
    assert exchange["fault"] == "reset (BrokenResourceError)" and "response" not in exchange


def test_an_upstream_5xx_reaches_the_client_unchanged(upstream: Emulator, tmp_path: Path) -> None:
    with recorder(upstream.url, tmp_path / "rec") as rec:
        proxied = _forced(rec.url, "bad_gateway")
    assert proxied.status_code == 502
    assert proxied.headers["content-type"] == "text/html; charset=utf-8"
    assert proxied.text.startswith("<html>") and "502 Bad Gateway" in proxied.text
    assert len(upstream_journal(upstream.url)) == 1


RICH_PERSON_FILE = ROOT / "fixtures" / "persons" / "tim-zheng.json"


def _rich_person() -> dict[str, Any]:
    """A fixture person with every kind of personal data filled in."""
    person: dict[str, Any] = json.loads(RICH_PERSON_FILE.read_text())
    person.update(
        first_name="Oriane",
        last_name="Vasquez-Thorne",
        name="Oriane Vasquez-Thorne",
        email="oriane.vasquez-thorne@apollo.io",
        personal_emails=["oriane.vt48213957@gmail.com"],
        linkedin_url="http://www.linkedin.com/in/oriane-vasquez-thorne-7f3a21",
        twitter_url="https://twitter.com/orianevt",
        github_url="https://github.com/orianevt",
        facebook_url="https://www.facebook.com/oriane.vasquezthorne",
        photo_url="https://media.licdn.com/dms/image/C4E03AQHoriane/profile-displayphoto-shrink_200_200/0/1611",
        phone_numbers=[
            {
                "raw_number": "+1 415-555-0142",
                "sanitized_number": "+14155550142",
                "type": "mobile",
                "position": 0,
                "status": "valid_number",
                "dnc_status": None,
                "dnc_other_info": None,
            }
        ],
        headline=None,
    )
    return person


def test_scrub_leaves_no_personal_value_and_still_validates(tmp_path: Path) -> None:
    fixtures = tmp_path / "upstream-persons"
    fixtures.mkdir()
    person = _rich_person()
    (fixtures / "oriane.json").write_text(json.dumps(person))
    real_email = person["email"]
    md5, sha256 = (
        hashlib.md5(real_email.encode()).hexdigest(),
        hashlib.sha256(real_email.encode()).hexdigest(),
    )
    out = tmp_path / "rec"
    with emulator(keys=key_registry(tmp_path, UPSTREAM_KEYS), fixtures=fixtures) as upstream:
        with recorder(upstream.url, out, scrub=True) as rec:
            by_email = _post(
                rec.url, "/api/v1/people/match", {"email": real_email, "reveal_personal_emails": True}
            )
            by_hash = _post(rec.url, "/api/v1/people/match", {"hashed_email": md5})
            by_url = _post(rec.url, "/api/v1/people/match", {"linkedin_url": person["linkedin_url"]})
            exchanges = rec.exchanges()
    real = by_email.json()["person"]
    assert (
        real["email"] == real_email
        and by_hash.json()["person"]["id"] == by_url.json()["person"]["id"] == real["id"]
    )

    personal = ["oriane", "vasquez", "thorne", "orianevt", "48213957", "5550142", md5, sha256]
    for value in personal:
        leaks = [p for p in out.rglob("*") if p.is_file() and value.encode() in p.read_bytes().lower()]
        assert leaks == [], f"{value!r} left in {leaks}"

    [fake] = load_fixture_persons(out / "persons")  # validates, as `serve --fixtures` does
    assert violations("person", fake) == []
    # The person's id is replaced too (it names the person at Apollo); the organization is kept.
    assert fake["id"] != real["id"] and fake["organization"] == real["organization"]
    first, last = fake["first_name"], fake["last_name"]
    assert fake["name"] == f"{first} {last}"
    assert fake["email"] == f"{first.lower()}.{last.lower()}@apollo.io"
    assert fake["linkedin_url"].startswith(f"http://www.linkedin.com/in/{first.lower()}-{last.lower()}-")
    # The same real value became the same fake in every file: the request by hash names the fake's hash.
    fake_md5 = hashlib.md5(fake["email"].encode()).hexdigest()
    assert [e["request"]["body"] for e in exchanges[:2]] == [
        {"email": fake["email"], "reveal_personal_emails": True},
        {"hashed_email": fake_md5},
    ]
    assert exchanges[2]["request"]["body"] == {"linkedin_url": fake["linkedin_url"]}
    assert exchanges[0]["response"]["body"]["person"]["personal_emails"] == fake["personal_emails"]
    report = json.loads((out / "scrubbed.json").read_text())
    assert {"names", "emails", "hashed_emails", "urls"} <= set(report)
    assert (out / ".gitignore").read_text() == "scrub.key\n"


def test_drift_report_names_unknown_keys_and_header_families(tmp_path: Path) -> None:
    fixtures = tmp_path / "upstream-persons"
    fixtures.mkdir()
    person = _rich_person()
    person["favourite_colour"] = "teal"  # a key the person schema does not document
    (fixtures / "p.json").write_text(json.dumps(person))
    out = tmp_path / "rec"
    with emulator(keys=key_registry(tmp_path, UPSTREAM_KEYS), fixtures=fixtures) as upstream:
        with recorder(upstream.url, out) as rec:
            assert _post(rec.url, "/api/v1/people/match", {"email": person["email"]}).status_code == 200
            _forced(rec.url, "invalid_request")
    drift = (out / "drift.md").read_text()
    assert "## unknown keys" in drift and "people/match $.person: Additional properties" in drift
    assert "favourite_colour" in drift
    # The 422 body is Apollo's documented one: not drift.
    assert "## error bodies" not in drift


def _record_command(upstream: str, out: Path, *flags: str) -> list[str]:
    """`python -m mock_server record` for `upstream` into `out` on a free port."""
    return [
        sys.executable,
        "-m",
        "mock_server",
        "record",
        "--upstream",
        upstream,
        "--out",
        str(out),
        "--port",
        "0",
        *flags,
    ]


def _record_one_call(command: list[str], emails: tuple[str, ...] = ("jane.doe@acme.com",)) -> tuple[str, str]:
    """Run the recorder, send a match per email through it, stop it with Ctrl-C; its stdout and stderr."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "APOLLO_API_KEY": SECRET},
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith("fakeapollo record: http://127.0.0.1:"), banner
        for email in emails:
            assert _post(banner.split()[2], "/api/v1/people/match", {"email": email}).status_code == 200
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    return banner + stdout, stderr


def test_record_command_reads_the_key_from_the_environment_only(upstream: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    command = _record_command(upstream.url, out)
    missing = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, "APOLLO_API_KEY": ""}, timeout=30
    )
    assert missing.returncode == 2 and "APOLLO_API_KEY" in missing.stderr
    uncapped = subprocess.run(
        _record_command("https://api.apollo.io", out),
        capture_output=True,
        text=True,
        env={**os.environ, "APOLLO_API_KEY": SECRET},
        timeout=30,
    )
    assert uncapped.returncode == 2 and "--max-credits is required" in uncapped.stderr

    stdout, stderr = _record_one_call(command)
    assert upstream.url in stdout
    assert "1 person file(s) written, 1 credits spent" in stdout
    assert "will hold personal data" in stderr
    assert files_containing(out, SECRET) == []


def test_record_counts_each_person_file_once(upstream: Emulator, tmp_path: Path) -> None:
    out = tmp_path / "rec"
    emails = ("jane.doe@acme.com", "tim@apollo.io", "jane.doe@acme.com", "nobody@nomatch.test")
    stdout, _ = _record_one_call(_record_command(upstream.url, out), emails)
    files = sorted(path.name for path in (out / "persons").iterdir())
    assert len(files) == 2
    assert "2 person file(s) written, 3 credits spent" in stdout
    # Nothing drifted and no call named a webhook_url: those two files are not written at all.
    assert not (out / "drift.md").exists() and not (out / "webhooks.json").exists()


def test_record_command_refuses_a_folder_whose_count_it_cannot_read(
    upstream: Emulator, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    out.mkdir()
    (out / "credits.json").write_text("{not json")
    refused = subprocess.run(
        _record_command(upstream.url, out),
        capture_output=True,
        text=True,
        env={**os.environ, "APOLLO_API_KEY": SECRET},
        timeout=30,
    )
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"fakeapollo record: cannot record into {out}: Expecting property name")
    assert "Traceback" not in refused.stderr


def test_record_command_says_what_it_scrubbed(upstream: Emulator, tmp_path: Path) -> None:
    stdout, stderr = _record_one_call(_record_command(upstream.url, tmp_path / "rec", "--scrub"))
    assert re.search(
        r"1 person file\(s\) written, 1 credits spent; scrubbed: .*\b2 emails, .*\b3 names, 1 urls\n", stdout
    )
    assert "personal data" not in stderr


def _queue(upstream: Emulator, *responses: dict[str, Any]) -> None:
    """Make the upstream answer exactly `responses`, in order, to the recorder's key."""
    scenario = {
        "match": {"api_key": SECRET},
        "outcome": "respond",
        "responses": list(responses),
        "times": len(responses),
    }
    answer = requests.post(f"{upstream.url}/__admin/scenarios", json=scenario, timeout=10)
    assert answer.status_code in (200, 201), answer.text


def test_a_person_that_does_not_validate_is_saved_and_reported_as_drift(
    upstream: Emulator, tmp_path: Path
) -> None:
    odd = {"id": "0123456789abcdef01234567", "first_name": 5, "name": "Odd Person"}
    _queue(
        upstream,
        {"status": 200, "headers": {"X-Credit-Balance": "41"}, "body": {"person": odd, "request_id": 1}},
        {"status": 404, "body": {"weird": True}},
    )
    out = tmp_path / "rec"
    with recorder(upstream.url, out) as rec:
        assert _post(rec.url, "/api/v1/people/match", {"email": "odd@acme.com"}).json()["person"] == odd
        assert _post(rec.url, "/api/v1/people/match", {"email": "odd@acme.com"}).status_code == 404
    assert json.loads((out / "persons" / f"{odd['id']}.json").read_text()) == odd
    drift = (out / "drift.md").read_text()
    assert "## person fixtures do not validate" in drift
    assert f"{odd['id']}.json $.first_name: 5 is not of type 'string', 'null'" in drift
    assert "`x-credit-balance` (on people/match, HTTP 200)" in drift
    assert '## error bodies\n\n- people/match HTTP 404: {"weird": true}' in drift


def test_a_fractional_credits_consumed_settles_the_count(upstream: Emulator, tmp_path: Path) -> None:
    details = [{"email": "a.b@acme.com"}, {"email": "c.d@acme.com"}]
    body = {"status": "success", "credits_consumed": 1.5, "matches": [None, None], "request_id": 7}
    _queue(upstream, {"status": 200, "body": body})
    with recorder(upstream.url, tmp_path / "rec", max_credits=3) as rec:
        assert _post(rec.url, "/api/v1/people/bulk_match", {"details": details}).json() == body
        assert rec.proxy.cap.describe() == {"spent": 1.5, "reserved": 0.0, "max_credits": 3}


def test_an_upstream_that_does_not_answer_in_time_resets_the_client(
    upstream: Emulator, tmp_path: Path
) -> None:
    with recorder(upstream.url, tmp_path / "rec", upstream_timeout=0.3) as rec:
        with pytest.raises(requests.ConnectionError):
            _forced(rec.url, "slow; delay_ms=2000")
        [exchange] = rec.exchanges()
    assert exchange["fault"] == "timeout"
    assert exchange["request"]["headers"]["x-mock-scenario"] == "slow; delay_ms=2000"


def test_a_scrubbed_recording_holds_fake_phones_while_the_client_gets_the_real_payload(
    upstream: Emulator, tmp_path: Path
) -> None:
    out = tmp_path / "rec"
    upstream.freeze()
    with receiver() as client_hook, recorder(upstream.url, out, scrub=True) as rec:
        body = {"email": WITH_MOBILE, "reveal_phone_number": True, "webhook_url": client_hook.url}
        assert _post(rec.url, "/api/v1/people/match", body).status_code == 200
        upstream.advance(10)
        [payload] = client_hook.wait_for(1)
        [hook] = [e for e in rec.exchanges() if e["kind"] == "webhook"]
    real_numbers = [p["sanitized_number"] for p in payload["people"][0]["phone_numbers"]]
    fake_numbers = [p["sanitized_number"] for p in hook["payload"]["people"][0]["phone_numbers"]]
    assert len(fake_numbers) == len(real_numbers) > 0
    for number in real_numbers:
        assert files_containing(out, number[3:]) == []
    # The payload names the person by the same fake id as the saved fixture, which got the numbers.
    fake_id = hook["payload"]["people"][0]["id"]
    assert fake_id != payload["people"][0]["id"]
    assert files_containing(out, payload["people"][0]["id"]) == []
    saved = json.loads((out / "persons" / f"{fake_id}.json").read_text())
    assert [p["sanitized_number"] for p in saved["phone_numbers"]] == fake_numbers
    assert WITH_MOBILE not in json.dumps(hook) and files_containing(out, WITH_MOBILE) == []


def test_the_recorder_answers_what_it_cannot_forward_with_a_json_4xx(
    upstream: Emulator, tmp_path: Path
) -> None:
    with recorder(upstream.url, tmp_path / "rec") as rec:
        elsewhere = requests.get(f"{rec.url}/__admin/requests", timeout=10)
        unknown_hook = requests.post(f"{rec.url}/__record/webhooks/not-a-token", json={}, timeout=10)
        huge = requests.post(
            f"{rec.url}/api/v1/people/match", data=b"{" + b" " * (1024 * 1024) + b"}", timeout=10
        )
    assert (elsewhere.status_code, elsewhere.json()) == (404, {"error": "Not Found"})
    assert (unknown_hook.status_code, unknown_hook.json()) == (
        404,
        {"error": "No recorded call has this webhook receiver"},
    )
    assert (huge.status_code, huge.json()) == (413, {"error": "Request body is larger than 1048576 bytes"})
    assert upstream_journal(upstream.url) == []
