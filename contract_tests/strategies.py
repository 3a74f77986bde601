"""Hypothesis strategies for everything Apollo sends, built by walking fakeapollo's schemas.

The shared definitions (person, organization, phone numbers, webhook payloads, ...) are walked
key by key: required keys are always present, optional keys sometimes, nullable values are
sometimes `None`, arrays may be empty, and strings get realistic values when the field has a
meaning (emails, 24-hex ids, E.164 numbers, ISO dates, URLs). A change to `schemas/` flows into
every strategy here. `hypothesis-jsonschema` would also work, but is slow on the large person
schema and shrinks to unreadable documents; this walker stays fast and shrinks to small ones.

Two styles exist:

- `complete`: every documented key present, realistic non-null values (what a match looks like);
- `partial`: Apollo's holes: nulls wherever the schema allows them, optional keys missing, empty
  arrays, unknown extra keys, unicode and very long strings.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from hypothesis import strategies as st

from mock_server.data import bundled_schema

Style = Literal["complete", "partial"]
Json = Any

#: Every strategy draws its person-like objects from this bundle of shared definitions.
_BUNDLE_ROOT = "people_match.response"
MAX_ARRAY = 2
RETRY_AFTER_SECONDS = 1
WATERFALL_ACCEPTED = (
    "Waterfall enrichment request accepted. Results will be sent to the provided webhook URL."
)
#: The caller's own CRM records on a person: present only for people already in the caller's CRM,
#: so even `complete` persons carry them as null about half of the time.
CRM_RECORDS = frozenset({"contact", "account"})

FIRST_NAMES = ["Ada", "Tim", "Priya", "Casey", "Katrin", "Jose", "Mei", "Olu", "Zoë", "Søren"]
LAST_NAMES = ["Lovelace", "Zheng", "Raman", "Brennan", "Vogel", "García", "Chen", "Okafor", "Ng"]
DOMAINS = ["apollo.io", "example.com", "northwind-analytics.example", "acme.test", "müller.example"]
TITLES = ["Founder & CEO", "VP Engineering", "Account Executive", "Data Scientist", "Head of Growth"]
CITIES = ["San Francisco", "Berlin", "London", "Bengaluru", "São Paulo", "Toronto"]
STATES = ["California", "Berlin", "England", "Karnataka", "São Paulo", "Ontario"]
COUNTRIES = ["United States", "Germany", "United Kingdom", "India", "Brazil", "Canada"]
EMAIL_STATUSES = ["verified", "unverified", "extrapolated", "unavailable"]
SENIORITIES = ["founder", "c_suite", "vp", "director", "manager", "senior", "entry"]
WORDS = ["sales", "engineering", "marketing", "Apollo", "data", "growth", "cloud", "B2B", "SaaS"]
TIME_ZONES = ["America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "Europe/London"]
#: Strings a careless client mangles: unicode of every width, control characters, emoji.
ODD_STRINGS = [
    "",
    " ",
    "Zoë Ğüneş",
    "李小龍",
    "👩‍💻 🚀",
    'O\'Brien "Jr"',
    "tab\there",
    "line\nbreak",
    "\u200b",
]


@dataclass(frozen=True)
class CannedResponse:
    """One exact HTTP answer to serve: status, headers and body (a JSON document or raw text)."""

    status: int = 200
    document: Json = None
    text: str | None = None
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    #: The schema `document` conforms to, when it is one of Apollo's messages.
    schema: str | None = None

    def body(self) -> bytes:
        """The bytes sent on the wire."""
        if self.text is not None:
            return self.text.encode("utf-8")
        return json.dumps(self.document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def describe(self) -> str:
        """One readable line (or a few) for reports."""
        body = self.text if self.text is not None else json.dumps(self.document, ensure_ascii=False)
        if len(body) > 600:
            body = body[:597] + "..."
        extra = "".join(f" {k}: {v};" for k, v in self.headers.items())
        return f"HTTP {self.status} ({self.content_type};{extra}) {body}"


def json_response(document: Json, schema: str | None, status: int = 200, **headers: str) -> CannedResponse:
    """A JSON answer."""
    return CannedResponse(status=status, document=document, schema=schema, headers=dict(headers))


# --------------------------------------------------------------------------- realistic scalars


def apollo_ids() -> st.SearchStrategy[str]:
    """24 lowercase hex characters, Apollo's object ids."""
    return st.text("0123456789abcdef", min_size=24, max_size=24)


def emails() -> st.SearchStrategy[str]:
    """Plausible work emails: `first.last@domain`."""
    return st.builds(
        lambda first, last, host: f"{first}.{last}@{host}".lower(),
        st.sampled_from(["ada", "tim", "priya", "casey", "jose", "mei"]),
        st.sampled_from(["lovelace", "zheng", "raman", "brennan", "garcia"]),
        st.sampled_from(["apollo.io", "example.com", "acme.test", "northwind-analytics.example"]),
    )


def e164_numbers() -> st.SearchStrategy[str]:
    """E.164 phone numbers: `+` and up to 15 digits."""
    return st.builds(
        lambda cc, rest: f"+{cc}{rest}",
        st.sampled_from(["1", "44", "49", "91", "55"]),
        st.text("0123456789", min_size=8, max_size=10),
    )


def iso_dates() -> st.SearchStrategy[str]:
    """Calendar dates YYYY-MM-DD."""
    return st.dates(date(1990, 1, 1), date(2030, 12, 31)).map(date.isoformat)


def iso_timestamps() -> st.SearchStrategy[str]:
    """ISO 8601 timestamps the way Apollo writes them (`Z` or `+00:00`, with or without millis)."""
    moments = st.datetimes(datetime(2000, 1, 1), datetime(2030, 12, 31))
    formats = st.sampled_from(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.000+00:00"])
    return st.builds(lambda m, f: m.replace(tzinfo=UTC).strftime(f), moments, formats)


def request_ids() -> st.SearchStrategy[int]:
    """Signed 64-bit integers, often negative like Apollo's."""
    return st.integers(-(2**63), 2**63 - 1)


def urls(kind: str = "") -> st.SearchStrategy[str]:
    """URLs shaped after the field: LinkedIn, Twitter, company sites, photos."""
    slug = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=3, max_size=12)
    hosts = {
        "linkedin": "http://www.linkedin.com/in/",
        "twitter": "https://twitter.com/",
        "github": "https://github.com/",
        "facebook": "https://www.facebook.com/",
        "photo": "https://media.licdn.com/dms/image/",
        "logo": "https://zenprospect-production.s3.amazonaws.com/uploads/pictures/",
        "crunchbase": "https://www.crunchbase.com/organization/",
        "angellist": "https://angel.co/company/",
    }
    prefix = next((url for key, url in hosts.items() if key in kind), "https://www.")
    suffix = ".com" if prefix == "https://www." else ""
    return slug.map(lambda s: f"{prefix}{s}{suffix}")


def weird_strings() -> st.SearchStrategy[str]:
    """Unicode, control characters and very long strings: what a robust client must survive."""
    return st.one_of(
        st.sampled_from(ODD_STRINGS),
        st.text(max_size=12),
        st.integers(1_000, 20_000).map(lambda n: ("Ünïcødé 👩‍💻 " * (n // 12 + 1))[:n]),
    )


def _named_string(name: str) -> st.SearchStrategy[str] | None:
    """A realistic string for a field called `name`, when the name says what it holds."""
    lowered = name.lower()
    table: dict[str, st.SearchStrategy[str]] = {
        "first_name": st.sampled_from(FIRST_NAMES),
        "last_name": st.sampled_from(LAST_NAMES),
        "title": st.sampled_from(TITLES),
        "headline": st.sampled_from(TITLES),
        "city": st.sampled_from(CITIES),
        "state": st.sampled_from(STATES),
        "country": st.sampled_from(COUNTRIES),
        "email_status": st.sampled_from(EMAIL_STATUSES),
        "seniority": st.sampled_from(SENIORITIES),
        "time_zone": st.sampled_from(TIME_ZONES),
        "primary_domain": st.sampled_from(DOMAINS),
        "domain": st.sampled_from(DOMAINS),
        "postal_code": st.text("0123456789", min_size=5, max_size=5),
    }
    if lowered in table:
        return table[lowered]
    if lowered in ("email", "emails", "personal_emails") or lowered.endswith("_email"):
        return emails()
    if lowered.endswith("_url"):
        return urls(lowered)
    if lowered in ("name", "organization_name"):
        full = st.builds(
            lambda first, last: f"{first} {last}", st.sampled_from(FIRST_NAMES), st.sampled_from(LAST_NAMES)
        )
        return full
    if "number" in lowered or lowered in ("phone", "sanitized_phone"):
        return e164_numbers().map(lambda n: f"{n[:2]} {n[2:5]}-{n[5:]}")
    return None


#: Definitions whose values have a meaning beyond their pattern.
_DEFINITION_STRATEGIES: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
    "apollo_id": apollo_ids,
    "date": iso_dates,
    "timestamp": iso_timestamps,
    "e164": e164_numbers,
    "request_id": request_ids,
    "request_id_string": lambda: request_ids().map(str),
    "hashed_email": lambda: emails().map(lambda e: hashlib.md5(e.encode()).hexdigest()),
    "webhook_url": lambda: st.just("https://hooks.example.com/apollo/phones"),
}


# --------------------------------------------------------------------------- the schema walker


@functools.cache
def _definitions() -> dict[str, Any]:
    """The shared definitions, as one bundle with local references."""
    bundle = bundled_schema(_BUNDLE_ROOT)
    definitions: dict[str, Any] = dict(bundle.get("definitions", {}))
    for name in ("webhook_phone.payload", "webhook_waterfall.payload", "people_bulk_match.response"):
        definitions.update(bundled_schema(name).get("definitions", {}))
    return definitions


def definition(name: str) -> dict[str, Any]:
    """One shared definition (person, organization, ...), references left local."""
    schema: dict[str, Any] = _definitions()[name]
    return schema


def _ref_name(schema: Mapping[str, Any]) -> str | None:
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _nullable_parts(schema: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
    """The non-null part of `schema` and whether null is allowed."""
    any_of = schema.get("anyOf")
    if isinstance(any_of, list):
        rest = [s for s in any_of if s != {"type": "null"}]
        if len(rest) == 1 and len(rest) != len(any_of):
            return rest[0], True
    types = schema.get("type")
    if isinstance(types, list) and "null" in types:
        remaining = [t for t in types if t != "null"]
        stripped = dict(schema)
        stripped["type"] = remaining[0] if len(remaining) == 1 else remaining
        return stripped, True
    return schema, False


def _extra_keys(known: set[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Unknown keys Apollo may add any day."""
    keys = st.sampled_from(["x_new_field", "beta_flag", "intent_signal", "ünicode_key", "meta"]).filter(
        lambda k: k not in known
    )
    values: st.SearchStrategy[Any] = st.one_of(
        st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(ODD_STRINGS), st.just({})
    )
    return st.dictionaries(keys, values, max_size=2)


def _merge(base: st.SearchStrategy[dict[str, Any]], extra: st.SearchStrategy[dict[str, Any]]) -> Any:
    return st.builds(lambda a, b: {**b, **a}, base, extra)


def from_schema(
    schema: Mapping[str, Any], style: Style = "complete", *, name: str = "", depth: int = 0
) -> st.SearchStrategy[Any]:
    """A strategy for documents valid against `schema` (a node of the definitions bundle)."""
    ref = _ref_name(schema)
    if ref is not None:
        if ref in _DEFINITION_STRATEGIES:
            return _DEFINITION_STRATEGIES[ref]()
        base = ref.removeprefix("nullable_")
        if base != ref and base in _DEFINITION_STRATEGIES:
            value = _DEFINITION_STRATEGIES[base]()
            return st.one_of(st.none(), value) if style == "partial" else value
        return from_schema(definition(ref), style, name=name or ref, depth=depth)
    core, nullable = _nullable_parts(schema)
    if nullable:
        value = from_schema(core, style, name=name, depth=depth)
        if style == "partial":
            return st.one_of(st.none(), value)
        return value
    if "allOf" in core:
        parts = core["allOf"]
        if len(parts) != 1:
            raise ValueError(f"cannot walk allOf with {len(parts)} parts at {name!r}")
        return from_schema(parts[0], style, name=name, depth=depth)
    if "anyOf" in core:
        return st.one_of([from_schema(s, style, name=name, depth=depth) for s in core["anyOf"]])
    if "const" in core:
        return st.just(core["const"])
    if "enum" in core:
        return st.sampled_from(core["enum"])
    kind = core.get("type")
    if isinstance(kind, list):
        return st.one_of([from_schema({**core, "type": k}, style, name=name, depth=depth) for k in kind])
    if kind == "object":
        return _object(core, style, name, depth)
    if kind == "array":
        items = core.get("items")
        if items is None or depth > 6:
            return st.just([])
        element = from_schema(items, style, name=name, depth=depth + 1)
        shortest = 0 if style == "partial" else min(1, MAX_ARRAY)
        unique = bool(core.get("uniqueItems"))
        return st.lists(
            element, min_size=shortest, max_size=MAX_ARRAY, unique_by=_json_key if unique else None
        )
    if kind == "string":
        return _string(core, style, name)
    if kind == "integer":
        low = int(core.get("minimum", 0 if style == "complete" else -(10**6)))
        high = int(core.get("maximum", low + 10**6))
        return st.integers(low, high)
    if kind == "number":
        floor = float(core.get("minimum", 0.0))
        return st.one_of(
            st.integers(int(floor), int(floor) + 1000),
            st.floats(floor, floor + 1000.0, allow_nan=False, allow_infinity=False).map(
                lambda x: round(x, 2)
            ),
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    # An unconstrained node ({} or only a description): any small JSON scalar.
    return st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.sampled_from(WORDS))


def _json_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _string(schema: Mapping[str, Any], style: Style, name: str) -> st.SearchStrategy[str]:
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        if re.fullmatch(r"\^\[0-9a-f\]\{(\d+)\}\$", pattern):
            size = int(pattern.split("{")[1].split("}")[0])
            return st.text("0123456789abcdef", min_size=size, max_size=size)
        return st.from_regex(pattern, fullmatch=True)
    named = _named_string(name)
    realistic = named if named is not None else st.sampled_from(WORDS)
    min_size = int(schema.get("minLength", 0))
    if style == "partial":
        mixed = st.one_of(realistic, weird_strings())
        return mixed.filter(lambda s: len(s) >= min_size) if min_size else mixed
    return realistic


def _object(schema: Mapping[str, Any], style: Style, name: str, depth: int) -> st.SearchStrategy[Any]:
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    if not properties:
        if isinstance(extra, dict) and depth < 6:
            keys = st.sampled_from(WORDS + ["Computer Software", "Information Technology & Services"])
            return st.dictionaries(keys, from_schema(extra, style, name=name, depth=depth + 1), max_size=2)
        return st.just({})
    required = [key for key in schema.get("required", []) if key in properties]
    optional = [key for key in properties if key not in required and properties[key] is not False]
    if depth > 6:
        optional = []

    def child(key: str) -> st.SearchStrategy[Any]:
        return from_schema(properties[key], style, name=key, depth=depth + 1)

    required_part = {key: child(key) for key in required}
    optional_part = {key: child(key) for key in optional}
    if style == "complete":
        for key in CRM_RECORDS & set(optional_part):
            optional_part[key] = st.one_of(st.none(), optional_part[key])
        strategy: st.SearchStrategy[dict[str, Any]] = st.fixed_dictionaries(
            {**required_part, **optional_part}
        )
        return strategy
    base = st.fixed_dictionaries(required_part, optional=optional_part)
    merged: st.SearchStrategy[Any] = _merge(base, _extra_keys(set(properties)))
    return merged


# --------------------------------------------------------------------------- Apollo's messages


def persons(style: Style = "complete") -> st.SearchStrategy[dict[str, Any]]:
    """Persons as people/match returns them under `person`."""
    strategy: st.SearchStrategy[dict[str, Any]] = from_schema(definition("person"), style, name="person")
    return strategy


def partial_persons() -> st.SearchStrategy[dict[str, Any]]:
    """Persons full of Apollo's holes (nulls, missing keys, empty arrays, odd strings)."""
    return persons("partial")


def _optional_waterfall() -> st.SearchStrategy[dict[str, Any]]:
    accepted = from_schema(definition("waterfall_status"), "complete", name="waterfall")
    return st.one_of(st.just({}), accepted.map(lambda w: {"waterfall": w}))


def match_responses(style: Style = "complete") -> st.SearchStrategy[dict[str, Any]]:
    """people/match 200 bodies with a person: `{"person": {...}, "request_id": ...}`."""
    return st.builds(
        lambda person, request_id, waterfall: {"person": person, **waterfall, "request_id": request_id},
        persons(style),
        request_ids(),
        _optional_waterfall(),
    )


def partial_responses() -> st.SearchStrategy[dict[str, Any]]:
    """people/match 200 bodies whose person is partial."""
    return match_responses("partial")


def no_match_responses() -> st.SearchStrategy[dict[str, Any]]:
    """people/match 200 bodies for a miss: `{"person": null}`, sometimes with extra top-level keys."""
    return st.one_of(
        st.just({"person": None}),
        request_ids().map(lambda r: {"person": None, "request_id": r}),
        _optional_waterfall().map(lambda w: {"person": None, **w}),
    )


def bulk_responses(size: int | None = None, style: Style = "complete") -> st.SearchStrategy[dict[str, Any]]:
    """bulk_match 200 bodies: positional matches, any mix of persons and nulls, either variant.

    Persons are drawn as a small pool and placed with fresh, distinct ids: generating ten large
    persons per body would be slow, and alignment is about ids and nulls.
    """
    sizes = st.just(size) if size is not None else st.integers(1, 10)
    return sizes.flatmap(
        lambda n: st.builds(
            _bulk_body,
            st.lists(persons(style), min_size=1, max_size=2),
            st.lists(st.one_of(st.none(), st.integers(0, 1)), min_size=n, max_size=n),
            st.lists(apollo_ids(), min_size=n, max_size=n, unique=True),
            request_ids(),
            st.sampled_from(["standard", "standard", "waterfall"]),
            st.booleans(),
        )
    )


def _bulk_body(
    pool: list[dict[str, Any]],
    picks: list[int | None],
    ids: list[str],
    request_id: int,
    variant: str,
    fractional: bool,
) -> dict[str, Any]:
    matches: list[dict[str, Any] | None] = [
        None if pick is None else {**pool[pick % len(pool)], "id": ids[index]}
        for index, pick in enumerate(picks)
    ]
    hits = sum(1 for m in matches if m is not None)
    body: dict[str, Any] = {
        "status": "success",
        "error_code": None,
        "error_message": None,
        "total_requested_enrichments": len(matches),
    }
    if variant == "waterfall":
        body["matches"] = matches
        body["waterfall"] = {
            "status": "accepted",
            "message": WATERFALL_ACCEPTED,
        }
    else:
        body["unique_enriched_records"] = hits
        body["missing_records"] = len(matches) - hits
        body["credits_consumed"] = round(hits * 1.01, 2) if fractional else hits
        body["matches"] = matches
    body["request_id"] = request_id
    return body


# --------------------------------------------------------------------------- errors

GATEWAY_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
)
RATE_LIMIT_MESSAGE = (
    "The maximum number of api calls allowed for api/v1/people/{op} is {n} times per {window}. "
    "Please upgrade your plan from https://app.apollo.io/#/settings/plans/upgrade."
)


def unauthorized_responses() -> st.SearchStrategy[CannedResponse]:
    """Apollo's 401s: text/plain, in the live and the documented wording (FACTS.md 2.4)."""
    texts = st.sampled_from(
        [
            "Invalid access credentials.",
            "Invalid API key. See https://docs.apollo.io/reference/authentication for how to authenticate.",
        ]
    )
    return texts.map(
        lambda t: CannedResponse(
            401, text=t, content_type="text/plain; charset=utf-8", schema="error.response"
        )
    )


def forbidden_responses() -> st.SearchStrategy[CannedResponse]:
    """Apollo's 403 API_INACCESSIBLE bodies (FACTS.md 2.5)."""
    messages = st.sampled_from(
        [
            "api/v1/people/match is not accessible with this api_key",
            "The api/v1/people/match API is not included in your Free plan and is not accessible, "
            "even with a master key.",
            "This API key is not authorized to access api/v1/people/match. Request an API key from your "
            "administrator that includes this endpoint in its configured scope.",
        ]
    )
    return messages.map(
        lambda m: json_response({"error": m, "error_code": "API_INACCESSIBLE"}, "error.response", 403)
    )


def unprocessable_responses() -> st.SearchStrategy[CannedResponse]:
    """Apollo's 422s (FACTS.md 2.6)."""
    bodies = st.sampled_from(
        [
            {"error": "Parameters misconfigured - Not a valid ID"},
            {"error": "API key must be passed in the X-Api-Key header for security reasons"},
            {
                "status": "failed",
                "error_code": "UNKNOWN_ERROR",
                "error_message": "no implicit conversion of Symbol into Integer",
            },
        ]
    )
    return bodies.map(lambda b: json_response(b, "error.response", 422))


def rate_limited_responses(operation: str = "match") -> st.SearchStrategy[CannedResponse]:
    """Apollo's 429 with `Retry-After` (kept at 1 s) and the rate-limit headers (FACTS.md 2.7, 3.1)."""

    def build(n: int, window: str, details: bool) -> CannedResponse:
        body: dict[str, Any] = {"message": RATE_LIMIT_MESSAGE.format(op=operation, n=n, window=window)}
        if details:
            body["error_details"] = {"code": "USAGE.RATE_LIMIT.API_RATE_LIMIT_EXCEEDED"}
        headers = {
            "Retry-After": str(RETRY_AFTER_SECONDS),
            "x-rate-limit-minute": str(n),
            "x-minute-usage": str(n),
            "x-minute-requests-left": "0",
        }
        return json_response(body, "error.response", 429, **headers)

    return st.builds(
        build, st.sampled_from([50, 200, 600, 1000]), st.sampled_from(["minute", "hour"]), st.booleans()
    )


def server_error_responses() -> st.SearchStrategy[CannedResponse]:
    """5xx answers: Apollo's JSON 500 and a load balancer's HTML 502/503/504 pages."""
    pages = st.sampled_from(
        [(502, "Bad Gateway"), (503, "Service Temporarily Unavailable"), (504, "Gateway Time-out")]
    )
    return st.one_of(
        st.just(json_response({"error": "Internal Server Error"}, None, 500)),
        pages.map(
            lambda p: CannedResponse(
                p[0],
                text=GATEWAY_PAGE.format(status=p[0], reason=p[1]),
                content_type="text/html; charset=utf-8",
            )
        ),
    )


def truncated_responses() -> st.SearchStrategy[CannedResponse]:
    """A 200 whose JSON body was cut short, as a dropped proxy connection leaves it."""

    def cut(document: dict[str, Any], fraction: float) -> CannedResponse:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        end = max(1, min(len(text) - 1, int(len(text) * fraction)))
        return CannedResponse(200, text=text[:end], content_type="application/json")

    return st.builds(cut, match_responses(), st.floats(0.05, 0.95))


def error_responses() -> st.SearchStrategy[CannedResponse]:
    """Every kind of failure answer: 401, 403, 422, 429, 5xx and a truncated body."""
    return st.one_of(
        unauthorized_responses(),
        forbidden_responses(),
        unprocessable_responses(),
        rate_limited_responses(),
        server_error_responses(),
        truncated_responses(),
    )


# --------------------------------------------------------------------------- webhooks


def phone_webhook_payloads() -> st.SearchStrategy[dict[str, Any]]:
    """What Apollo POSTs to `webhook_url` after `reveal_phone_number` (FACTS.md 4.2)."""
    strategy: st.SearchStrategy[dict[str, Any]] = from_schema(
        definition("webhook_phone_payload"), "complete", name="webhook"
    )
    return strategy


def waterfall_webhook_payloads() -> st.SearchStrategy[dict[str, Any]]:
    """What Apollo POSTs to `webhook_url` after a waterfall request (FACTS.md 4.3)."""
    strategy: st.SearchStrategy[dict[str, Any]] = from_schema(
        definition("webhook_waterfall_payload"), "complete", name="webhook"
    )
    return strategy


def webhook_payloads() -> st.SearchStrategy[dict[str, Any]]:
    """Either kind of webhook payload."""
    return st.one_of(phone_webhook_payloads(), waterfall_webhook_payloads())


@dataclass(frozen=True)
class Deliveries:
    """Webhook payloads as sent once each (`unique`) and as Apollo's retries deliver them."""

    unique: list[dict[str, Any]]
    delivered: list[dict[str, Any]]


def duplicated_deliveries() -> st.SearchStrategy[Deliveries]:
    """Payloads each delivered once or twice in a row: Apollo may retry a webhook (FACTS.md 4.1)."""
    return st.lists(webhook_payloads(), min_size=1, max_size=3).flatmap(
        lambda payloads: st.lists(st.integers(1, 2), min_size=len(payloads), max_size=len(payloads)).map(
            lambda counts: Deliveries(
                unique=payloads,
                delivered=[p for p, n in zip(payloads, counts, strict=True) for _ in range(max(n, 1))]
                if any(n == 2 for n in counts)
                else [payloads[0], *payloads],
            )
        )
    )


# --------------------------------------------------------------------------- requests


def match_params() -> st.SearchStrategy[dict[str, Any]]:
    """people/match parameters a client is asked to send: an email, a name at a domain, a LinkedIn URL..."""
    identifier = st.one_of(
        emails().map(lambda e: {"email": e}),
        st.builds(
            lambda first, last, host: {"first_name": first, "last_name": last, "domain": host},
            st.sampled_from(FIRST_NAMES),
            st.sampled_from(LAST_NAMES),
            st.sampled_from(DOMAINS[:4]),
        ),
        urls("linkedin").map(lambda u: {"linkedin_url": u}),
        apollo_ids().map(lambda i: {"id": i}),
    )
    flags = st.fixed_dictionaries({}, optional={"reveal_personal_emails": st.booleans()})
    return st.builds(lambda a, b: {**a, **b}, identifier, flags)


def bulk_details(size: int | None = None) -> st.SearchStrategy[list[dict[str, Any]]]:
    """bulk_match `details`: 1 to 10 people."""
    low, high = (size, size) if size is not None else (1, 10)
    return st.lists(
        match_params().map(lambda p: {k: v for k, v in p.items() if not k.startswith("reveal")}),
        min_size=low,
        max_size=high,
    )


__all__ = [
    "CannedResponse",
    "Deliveries",
    "apollo_ids",
    "bulk_details",
    "bulk_responses",
    "definition",
    "duplicated_deliveries",
    "e164_numbers",
    "emails",
    "error_responses",
    "forbidden_responses",
    "from_schema",
    "iso_dates",
    "iso_timestamps",
    "match_params",
    "match_responses",
    "no_match_responses",
    "partial_persons",
    "partial_responses",
    "persons",
    "phone_webhook_payloads",
    "rate_limited_responses",
    "request_ids",
    "server_error_responses",
    "truncated_responses",
    "unauthorized_responses",
    "unprocessable_responses",
    "waterfall_webhook_payloads",
    "webhook_payloads",
]
