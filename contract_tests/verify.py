"""`fakeapollo verify`: probe a real Apollo (or any base URL) and report drift from the schemas.

A small, documented set of probes is sent; every answer is checked for its status and validated
against fakeapollo's schemas, and each difference is reported field by field. Keys the schemas do
not document are listed too (as notes, not failures): Apollo adds fields over time.

| probe | request | expects | credits at most |
|---|---|---|---|
| match | people/match `email=tim@apollo.io` (Apollo's documented example person) | 200, a person | 1 |
| no_match | people/match with a name and no domain | 200, `{"person": null}` | 1 |
| bad_key | people/match with an invalid key | 401 | 0 |
| bulk | bulk_match: the example person and the no-match name | 200, 2 matches, the second null | 2 |
| phone_reveal | people/match `reveal_phone_number=true`, no `webhook_url` | 400/422 naming it | 0 |
| unknown_email | people/match for `fakeapollo-verify@nobody.thin.test` | 200, the thin person: its keys | 1 |
| organization | organizations/enrich `domain=apollo.io` (GET) | 200, an organization | 1 |

Every 200 must also carry Apollo's recorded headers (docs/apollo-facts.md 3.4): `Content-Type:
application/json; charset=utf-8`, `cache-control: max-age=0, private, must-revalidate`, a weak
`etag` of 32 hex digits and a uuid4 `x-transaction-id`.

Apollo does not charge for misses, but the budget counts them anyway. `--max-credits N` is
required: verify refuses to start when the selected probes could spend more than N credits.

Every documented shape is accepted: keys Apollo's examples leave out, and a miss answered as a
stub person (`match_confidence: "none"`). Exit status: 0 as documented, 1 drift, 2 refused to
start, 3 the provider could not be reached (no drift seen; nothing can be said).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contract_tests.defaults import TIMEOUT_RANGE
from contract_tests.misses import is_miss
from mock_server.config import number_flag
from mock_server.domain.data import violations

EXAMPLE_PERSON = {"email": "tim@apollo.io"}
NOBODY = {"first_name": "Nobody", "last_name": "Matchesthisname"}
INVALID_KEY = "fakeapollo-verify-invalid-key"
# An address Apollo has no one for (a reserved .test domain); the emulator's thin.test answers it thin.
UNKNOWN_EMAIL = {"email": "fakeapollo-verify@nobody.thin.test"}
# docs/apollo-facts.md 3.4: the headers of every 200 in the 2026 recordings.
OK_HEADERS = {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "max-age=0, private, must-revalidate",
}
WEAK_ETAG = re.compile(r'W/"[0-9a-f]{32}"')
# Exit statuses besides 0 (as documented) and 2 (refused to start).
DRIFT = 1
UNREACHABLE = 3


@dataclass(frozen=True)
class Probe:
    """One request sent to the provider and what its answer must look like."""

    name: str
    description: str
    path: str
    body: dict[str, Any]
    expect_status: tuple[int, ...]
    schema: str
    credits: int
    valid_key: bool = True
    check: Callable[[Any], list[str]] = lambda document: []
    method: str = "POST"


def _expect_person(document: Any) -> list[str]:
    if isinstance(document, dict) and is_miss(document.get("person")):
        return ["$.person: expected the example person, got a miss"]
    return []


def _expect_no_person(document: Any) -> list[str]:
    if isinstance(document, dict) and not is_miss(document.get("person")):
        return ["$.person: expected null (or a stub person) for a name without a domain"]
    return []


def _expect_bulk(document: Any) -> list[str]:
    matches = document.get("matches") if isinstance(document, dict) else None
    if not isinstance(matches, list) or len(matches) != 2:
        return [f"$.matches: expected 2 positional matches, got {json.dumps(matches)[:80]}"]
    problems = []
    if is_miss(matches[0]):
        problems.append("$.matches[0]: expected the example person, got a miss")
    if not is_miss(matches[1]):
        problems.append("$.matches[1]: expected null (or a stub person) for the no-match details")
    return problems


def _expect_thin_person(document: Any) -> list[str]:
    """The thin person Apollo creates for an unknown email (docs/apollo-facts.md 2.2): exactly its keys."""
    from mock_server.domain.generation.people import THIN_KEYS

    person = document.get("person") if isinstance(document, dict) else None
    if not isinstance(person, dict):
        return [f"$.person: expected the thin person of an unknown email, got {json.dumps(person)[:80]}"]
    problems = [f"$.person: key {key!r} missing" for key in THIN_KEYS if key not in person]
    problems += [f"$.person: key {key!r} not in the thin person" for key in person if key not in THIN_KEYS]
    named = person.get("first_name") is not None or person.get("last_name") is not None
    if person.get("name") != "" or named:
        problems.append('$.person: expected name "" and null first_name, last_name')
    return problems


def _expect_organization(document: Any) -> list[str]:
    if not isinstance(document, dict) or not isinstance(document.get("organization"), dict):
        return ["$.organization: expected the organization of apollo.io"]
    return []


def header_drift(status: int, headers: Mapping[str, str]) -> list[str]:
    """What differs from Apollo's recorded headers of a 200 (docs/apollo-facts.md 3.4)."""
    if status != 200:
        return []
    named = {name.lower(): value for name, value in headers.items()}
    problems = [
        f"header {name}: {named.get(name)!r}, expected {value!r}"
        for name, value in OK_HEADERS.items()
        if named.get(name, "").replace(" ", "").lower() != value.replace(" ", "")
    ]
    if not WEAK_ETAG.fullmatch(named.get("etag", "")):
        problems.append(f'header etag: {named.get("etag")!r}, expected W/"<32 lowercase hex>"')
    transaction = named.get("x-transaction-id", "")
    try:
        fresh = uuid.UUID(transaction).version == 4
    except ValueError:
        fresh = False
    if not fresh:
        problems.append(f"header x-transaction-id: {named.get('x-transaction-id')!r}, expected a uuid4")
    return problems


def _expect_webhook_error(document: Any) -> list[str]:
    if "webhook_url" not in json.dumps(document):
        return ["$: expected an error naming webhook_url"]
    return []


PROBES: tuple[Probe, ...] = (
    Probe(
        "match",
        "a match: Apollo's documented example person",
        "/api/v1/people/match",
        EXAMPLE_PERSON,
        (200,),
        "people_match.response",
        1,
        check=_expect_person,
    ),
    Probe(
        "no_match",
        "a miss: a name without a domain",
        "/api/v1/people/match",
        NOBODY,
        (200,),
        "people_match.response",
        1,
        check=_expect_no_person,
    ),
    Probe(
        "bad_key",
        "an invalid API key",
        "/api/v1/people/match",
        EXAMPLE_PERSON,
        (401,),
        "error.response",
        0,
        valid_key=False,
    ),
    Probe(
        "bulk",
        "bulk_match: one match, one miss",
        "/api/v1/people/bulk_match",
        {"details": [EXAMPLE_PERSON, NOBODY]},
        (200,),
        "people_bulk_match.response",
        2,
        check=_expect_bulk,
    ),
    Probe(
        "phone_reveal",
        "reveal_phone_number without webhook_url",
        "/api/v1/people/match",
        {**EXAMPLE_PERSON, "reveal_phone_number": True},
        (400, 422),
        "error.response",
        0,
        check=_expect_webhook_error,
    ),
    Probe(
        "unknown_email",
        "an email Apollo has no one for: the thin person",
        "/api/v1/people/match",
        UNKNOWN_EMAIL,
        (200,),
        "people_match.response",
        1,
        check=_expect_thin_person,
    ),
    Probe(
        "organization",
        "organizations/enrich for apollo.io",
        "/api/v1/organizations/enrich",
        {"domain": "apollo.io"},
        (200,),
        "organization_enrich.response",
        1,
        check=_expect_organization,
        method="GET",
    ),
)


@dataclass
class ProbeResult:
    """What one probe found."""

    probe: Probe
    status: int | None
    drift: list[str] = field(default_factory=list)
    undocumented: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # Set when nothing came back (refused, timed out, DNS): not drift, the provider was not reached.
    unreachable: str | None = None

    @property
    def ok(self) -> bool:
        """True when the provider answered, as its schemas and the expected status say."""
        return not self.drift and self.unreachable is None


def send(
    base_url: str, api_key: str, probe: Probe, timeout: float
) -> tuple[int | None, str, str, dict[str, str]]:
    """Send one probe; (status, content type, body text, headers), status None when nothing came back."""
    import urllib.error
    import urllib.parse
    import urllib.request

    url = base_url.rstrip("/") + probe.path
    data: bytes | None = json.dumps(probe.body).encode()
    if probe.method == "GET":
        url, data = f"{url}?{urllib.parse.urlencode(probe.body)}", None
    request = urllib.request.Request(
        url,
        data=data,
        method=probe.method,
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "x-api-key": api_key if probe.valid_key else INVALID_KEY,
            "User-Agent": "fakeapollo-verify",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - user-given URL
            return (
                response.status,
                response.headers.get("Content-Type", ""),
                response.read().decode("utf-8", "replace"),
                dict(response.headers.items()),
            )
    except urllib.error.HTTPError as error:
        text = error.read().decode("utf-8", "replace")
        return error.code, error.headers.get("Content-Type", ""), text, dict(error.headers.items())
    except (urllib.error.URLError, OSError) as error:
        return None, "", str(error), {}


def check_answer(
    probe: Probe, status: int | None, content_type: str, text: str, headers: Mapping[str, str] | None = None
) -> ProbeResult:
    """Compare one answer with what the probe expects, field by field (and its headers, when given)."""
    result = ProbeResult(probe, status)
    if status is None:
        result.unreachable = text or "no answer"
        return result
    if status not in probe.expect_status:
        expected = " or ".join(str(s) for s in probe.expect_status)
        result.drift.append(f"HTTP {status}, expected {expected}: {text[:200]}")
    document: Any
    if "json" in content_type:
        try:
            document = json.loads(text)
        except ValueError:
            result.drift.append(f"the body is not valid JSON: {text[:120]!r}")
            return result
    else:
        document = text
    loose = violations(probe.schema, document)
    result.drift += [f"{path}: {message}" for path, message in loose]
    strict = set(violations(probe.schema, document, strict=True)) - set(loose)
    result.undocumented += [f"{path}: {message}" for path, message in sorted(strict)]
    if status in probe.expect_status and not loose:
        result.drift += probe.check(document)
    if headers is not None:
        result.drift += header_drift(status, headers)
    return result


def verify_provider(
    base_url: str,
    api_key: str,
    *,
    max_credits: int,
    probes: list[str] | None = None,
    timeout: float = 30.0,
) -> list[ProbeResult]:
    """Run the probes; ValueError when they could spend more than `max_credits` credits."""
    selected = [p for p in PROBES if probes is None or p.name in probes]
    unknown = set(probes or []) - {p.name for p in PROBES}
    if unknown:
        raise ValueError(f"unknown probe(s) {sorted(unknown)}; known: {', '.join(p.name for p in PROBES)}")
    budget = sum(p.credits for p in selected)
    if budget > max_credits:
        raise ValueError(
            f"the probes could spend up to {budget} credits, more than --max-credits {max_credits}; "
            "raise --max-credits or choose fewer probes with --probe"
        )
    results = []
    for probe in selected:
        started = time.monotonic()
        status, content_type, text, headers = send(base_url, api_key, probe, timeout)
        result = check_answer(probe, status, content_type, text, headers)
        result.seconds = time.monotonic() - started
        results.append(result)
    return results


def render(base_url: str, results: list[ProbeResult]) -> str:
    """The report: a table of probes, then the drift and the undocumented fields of each."""
    credits = sum(r.probe.credits for r in results)
    lines = [f"fakeapollo verify: {base_url} ({len(results)} probes, at most {credits} credits)", ""]
    lines.append(f"  {'probe'.ljust(13)} status  result")
    for r in results:
        verdict = "ok" if r.ok else f"DRIFT ({len(r.drift)})"
        if r.unreachable is not None:
            verdict = "UNREACHABLE"
        if r.undocumented:
            verdict += f", {len(r.undocumented)} undocumented field(s)"
        lines.append(f"  {r.probe.name.ljust(13)} {str(r.status or '-').ljust(6)}  {verdict}")
    for r in results:
        if r.unreachable is not None:
            lines += ["", f"{r.probe.name}: could not reach the provider: {r.unreachable}"]
        if r.drift or r.undocumented:
            lines += ["", f"{r.probe.name}: {r.probe.description}"]
            lines += [f"  drift: {item}" for item in r.drift]
            lines += [f"  undocumented: {item}" for item in r.undocumented]
    drifted = sum(1 for r in results if r.drift)
    unreached = sum(1 for r in results if r.unreachable is not None)
    summary = f"{len(results) - drifted - unreached} probe(s) as documented, {drifted} drifted"
    if unreached:
        summary += f", {unreached} could not reach the provider"
    lines += ["", summary]
    return "\n".join(lines)


def exit_status(results: list[ProbeResult]) -> int:
    """0 as documented, 1 drift, 3 could not reach the provider (and no drift seen)."""
    if any(r.drift for r in results):
        return DRIFT
    if any(r.unreachable is not None for r in results):
        return UNREACHABLE
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `verify`."""
    parser.add_argument("--base-url", required=True, help="the provider's root, e.g. https://api.apollo.io")
    parser.add_argument("--api-key", help="the API key (default: $APOLLO_API_KEY)")
    parser.add_argument(
        "--max-credits",
        type=int,
        required=True,
        help="refuse to start when the probes could spend more credits than this",
    )
    parser.add_argument(
        "--probe",
        dest="probes",
        action="append",
        metavar="NAME",
        help="run only this probe (repeatable): " + ", ".join(p.name for p in PROBES),
    )
    parser.add_argument(
        "--timeout",
        type=number_flag(False, *TIMEOUT_RANGE),
        default=30.0,
        help=f"seconds per request, {TIMEOUT_RANGE[0]:g} to {TIMEOUT_RANGE[1]:g} (default 30)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the probes and print the report; exit status as `exit_status`, 2 when refused."""
    api_key = args.api_key or os.environ.get("APOLLO_API_KEY")
    if not api_key:
        print("no API key: pass --api-key or set APOLLO_API_KEY", file=sys.stderr)
        return 2
    try:
        results = verify_provider(
            args.base_url, api_key, max_credits=args.max_credits, probes=args.probes, timeout=args.timeout
        )
    except ValueError as exc:
        print(f"refusing to start: {exc}", file=sys.stderr)
        return 2
    print(render(args.base_url, results))
    status = exit_status(results)
    if status == UNREACHABLE:
        print(f"could not reach {args.base_url}: no drift can be reported", file=sys.stderr)
    return status


__all__ = [
    "PROBES",
    "Probe",
    "ProbeResult",
    "check_answer",
    "exit_status",
    "header_drift",
    "is_miss",
    "render",
    "verify_provider",
]
