"""Hypothesis strategies for everything Apollo sends, built by walking fakeapollo's schemas.

The shared definitions (person, organization, phone numbers, webhook payloads, ...) are walked
key by key: required keys are always present, optional keys sometimes, nullable values are
sometimes `None`, arrays may be empty, and strings get realistic values when the field has a
meaning (emails, 24-hex ids, E.164 numbers, ISO dates, URLs). A change to `schemas/` flows into
every strategy here. `hypothesis-jsonschema` would also work, but is slow on the large person
schema and shrinks to unreadable documents; this walker stays fast and shrinks to small ones.

Four styles exist:

- `complete`: realistic non-null values (what a match looks like), names and places in every script
  (accents, right-to-left, emoji); a few optional keys are left out, as thinner real answers do;
- `partial`: Apollo's holes: nulls wherever the schema allows them, at least one optional key
  missing, empty arrays, unknown extra keys, unicode and very long strings;
- `bare` (an extreme): only the required keys, every nullable value null, every array empty;
- `longest` (an extreme): every key present, every array full, free text at its longest.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import formatdate
from typing import Any, Literal

from hypothesis import strategies as st

from mock_server.domain.data import bundled_schema

Style = Literal["complete", "partial", "bare", "longest"]
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

FIRST_NAMES = ["Ada", "Tim", "Priya", "Casey", "Zoë", "Søren", "محمد", "יעל", "Thị Hồng", "Łukasz"]
LAST_NAMES = ["Lovelace", "Zheng", "García", "O'Brien", "Nguyễn", "العلي", "כהן", "Müller-Lüdenscheidt"]
DOMAINS = ["apollo.io", "example.com", "northwind-analytics.example", "acme.test", "müller.example"]
TITLES = ["Founder & CEO", "VP Engineering", "Head of Growth 🚀", "مديرة المبيعات", "Data Scientist"]
HEADLINES = [
    "Building B2B data tools | ex-Stripe",
    "Helping teams grow 📈",
    "מהנדסת תוכנה",
    "Speaker & author",
]
CITIES = ["San Francisco", "Zürich", "תל אביב", "القاهرة", "São Paulo", "Kraków"]
STATES = ["California", "Berlin", "England", "Karnataka", "São Paulo", "Ontario"]
COUNTRIES = ["United States", "Germany", "United Kingdom", "India", "Brazil", "Canada"]
EMAIL_STATUSES = ["verified", "unverified", "extrapolated", "unavailable"]
SENIORITIES = ["founder", "c_suite", "vp", "director", "manager", "senior", "entry"]
WORDS = ["sales", "engineering", "Apollo", "data", "growth", "B2B", "SaaS", "Ünïcødé", "日本語", "✨ beta"]
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
#: The free text of the `longest` extreme: every script and emoji, about 1,800 characters.
LONGEST_TEXT = ("Søren O'Brien-Nguyễn محمد العلي יעל כהן 李小龍 👩‍💻🚀 & #+ ")[:60] * 34


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
    #: A transport fault: "slow" (answer after `delay` seconds) or "hang" (never answer).
    fault: str | None = None
    delay: float = 0.0
    #: Send `Retry-After` as an HTTP date this many seconds after the case starts (see `at`).
    retry_after_date: float | None = None

    def at(self, now: float) -> CannedResponse:
        """The answer as served in a case starting at wall-clock `now` (HTTP dates filled in)."""
        if self.retry_after_date is None:
            return self
        moment = math.ceil(now) + self.retry_after_date
        headers = {**self.headers, "Retry-After": formatdate(moment, usegmt=True)}
        return dataclasses.replace(self, headers=headers, retry_after_date=None)

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
        if self.retry_after_date is not None:
            extra += f" Retry-After: <HTTP date {self.retry_after_date:g} s after the case starts>;"
        if self.fault == "hang":
            return "no answer: the connection hangs"
        slow = f"after {self.delay:g} s: " if self.fault == "slow" else ""
        return f"{slow}HTTP {self.status} ({self.content_type};{extra}) {body}"


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
        "headline": st.sampled_from(HEADLINES),
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


#: Named fields that hold free text (the `longest` extreme fills them to the brim).
_FREE_TEXT = frozenset(
    {"first_name", "last_name", "name", "title", "headline", "city", "state", "country", "organization_name"}
)

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
    for name in (
        "webhook_phone.payload",
        "webhook_waterfall.payload",
        "people_bulk_match.response",
        "people_bulk_match.request",
    ):
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
    if style == "longest" and depth > 1:  # long text at the top only: nested values stay realistic
        style = "complete"
    ref = _ref_name(schema)
    if ref is not None:
        if ref in _DEFINITION_STRATEGIES:
            return _DEFINITION_STRATEGIES[ref]()
        base = ref.removeprefix("nullable_")
        if base != ref and base in _DEFINITION_STRATEGIES:
            return _nullable(_DEFINITION_STRATEGIES[base](), style)
        return from_schema(definition(ref), style, name=name or ref, depth=depth)
    core, nullable = _nullable_parts(schema)
    if nullable:
        return _nullable(from_schema(core, style, name=name, depth=depth), style)
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
        if style == "bare":
            return st.just([])
        element = from_schema(items, style, name=name, depth=depth + 1)
        shortest = {"partial": 0, "complete": 1}.get(style, MAX_ARRAY)
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
    if style == "longest" and (named is None or name.lower() in _FREE_TEXT):
        longest = f"{name}: {LONGEST_TEXT}"  # each field its own text, so swapped fields show
        return st.just(longest[: int(schema.get("maxLength", len(longest)))])
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
    if style == "bare":
        return st.fixed_dictionaries(required_part)
    optional_part = {key: child(key) for key in optional}
    if style == "longest":
        return st.fixed_dictionaries({**required_part, **optional_part})
    if style == "complete":
        for key in CRM_RECORDS & set(optional_part):
            optional_part[key] = st.one_of(st.none(), optional_part[key])
        full = st.fixed_dictionaries({**required_part, **optional_part})
        if not optional or depth > 1:
            return full
        # Thinner real answers leave a few keys out entirely: up to three per person or
        # organization here (deeper objects stay whole: drawing fewer choices keeps cases fast).
        left_out = st.lists(st.sampled_from(optional), max_size=3)
        return st.builds(lambda d, out: {k: v for k, v in d.items() if k not in out}, full, left_out)
    base = st.fixed_dictionaries(required_part, optional=optional_part)
    if optional:
        # A partial answer always misses at least one key, not only nulls.
        base = st.builds(
            lambda d, out: {k: v for k, v in d.items() if k != out}, base, st.sampled_from(optional)
        )
    merged: st.SearchStrategy[Any] = _merge(base, _extra_keys(set(properties)))
    return merged


def _nullable(value: st.SearchStrategy[Any], style: Style) -> st.SearchStrategy[Any]:
    """A nullable value: sometimes null when partial, always null when bare."""
    if style == "bare":
        return st.none()
    return st.one_of(st.none(), value) if style == "partial" else value


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


def stub_persons() -> st.SearchStrategy[dict[str, Any]]:
    """A miss answered as a stub person: `name: ""`, `match_confidence: "none"`, an organization.

    Apollo's bulk docs mark a waterfall miss with `match_confidence: "none"` (docs/apollo-facts.md 2.1);
    a public pull request (SkillfulAgents/SuperAgent #1114)
    reports a live single-person miss answered this way.
    """

    def stub(person: dict[str, Any], organization: Any) -> dict[str, Any]:
        names: dict[str, Any] = {key: "" for key in ("first_name", "last_name", "name") if key in person}
        extra = {"organization": organization} if isinstance(organization, dict) else {}
        if extra and "organization_id" in person:
            extra["organization_id"] = organization.get("id", person["organization_id"])
        return {**person, **names, "name": "", **extra, "match_confidence": "none"}

    return st.builds(stub, persons("bare"), _person_field("organization", "complete"))


def _person_field(key: str, style: Style) -> st.SearchStrategy[Any]:
    return from_schema(definition("person")["properties"][key], style, name=key)


def no_match_responses() -> st.SearchStrategy[dict[str, Any]]:
    """people/match 200 bodies for a miss: `{"person": null}`, or sometimes a stub person.

    The null form sometimes carries extra top-level keys; the stub is marked `match_confidence: "none"`.
    """
    return st.one_of(
        st.just({"person": None}),
        request_ids().map(lambda r: {"person": None, "request_id": r}),
        _optional_waterfall().map(lambda w: {"person": None, **w}),
        st.builds(lambda p, r: {"person": p, "request_id": r}, stub_persons(), request_ids()),
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


#: Apollo's 401 texts: the live and the documented wording (docs/apollo-facts.md 2.4).
UNAUTHORIZED_TEXTS = [
    "Invalid access credentials.",
    "Invalid API key. See https://docs.apollo.io/reference/authentication for how to authenticate.",
]
#: Apollo's 403 API_INACCESSIBLE messages (docs/apollo-facts.md 2.5).
FORBIDDEN_MESSAGES = [
    "api/v1/people/match is not accessible with this api_key",
    "The api/v1/people/match API is not included in your Free plan and is not accessible, "
    "even with a master key.",
    "This API key is not authorized to access api/v1/people/match. Request an API key from your "
    "administrator that includes this endpoint in its configured scope.",
]


def unauthorized_response(text: str) -> CannedResponse:
    """One of Apollo's 401s (text/plain)."""
    return CannedResponse(401, text=text, content_type="text/plain; charset=utf-8", schema="error.response")


def forbidden_response(message: str) -> CannedResponse:
    """One of Apollo's 403 API_INACCESSIBLE bodies."""
    return json_response({"error": message, "error_code": "API_INACCESSIBLE"}, "error.response", 403)


def unauthorized_responses() -> st.SearchStrategy[CannedResponse]:
    """Apollo's 401s: text/plain, in the live and the documented wording (docs/apollo-facts.md 2.4)."""
    return st.sampled_from(UNAUTHORIZED_TEXTS).map(unauthorized_response)


def forbidden_responses() -> st.SearchStrategy[CannedResponse]:
    """Apollo's 403 API_INACCESSIBLE bodies (docs/apollo-facts.md 2.5)."""
    return st.sampled_from(FORBIDDEN_MESSAGES).map(forbidden_response)


#: Apollo's 422 bodies (docs/apollo-facts.md 2.6); the out-of-credits one is fakeapollo's own (no source).
UNPROCESSABLE_BODIES: list[dict[str, Any]] = [
    {"error": "Parameters misconfigured - Not a valid ID"},
    {"error": "API key must be passed in the X-Api-Key header for security reasons"},
    {
        "status": "failed",
        "error_code": "UNKNOWN_ERROR",
        "error_message": "no implicit conversion of Symbol into Integer",
    },
    {
        "error": "Your team has run out of credits. Please upgrade your plan from"
        " https://app.apollo.io/#/settings/plans/upgrade.",
        "error_code": "INSUFFICIENT_CREDITS",
    },
]
#: Apollo's 400 bodies (docs/apollo-facts.md 2.3).
BAD_REQUEST_BODIES: list[dict[str, Any]] = [
    {"error": "Please add a valid 'webhook_url' parameter when using 'reveal_phone_number'"},
    {
        "status": "failed",
        "error_code": "INVALID_REQUEST",
        "error_message": "invalid request, missing details",
    },
    {
        "status": "failed",
        "error_code": "RECORD_LIMIT_EXCEEDED",
        "error_message": "cannot enrich more than 10 in a single request",
    },
]


def unprocessable_responses() -> st.SearchStrategy[CannedResponse]:
    """Apollo's 422s (docs/apollo-facts.md 2.6), out of credits included."""
    return st.sampled_from(UNPROCESSABLE_BODIES).map(lambda b: json_response(b, "error.response", 422))


def client_error_list() -> list[CannedResponse]:
    """Every 4xx answer no retry fixes: 400s, the 403 for the key's scope, 422s (out of credits too)."""
    return [
        json_response(UNPROCESSABLE_BODIES[3], "error.response", 422),
        *(json_response(b, "error.response", 400) for b in BAD_REQUEST_BODIES),
        forbidden_response(FORBIDDEN_MESSAGES[2]),
        *(json_response(b, "error.response", 422) for b in UNPROCESSABLE_BODIES[:3]),
    ]


def client_error_responses() -> st.SearchStrategy[CannedResponse]:
    """4xx answers that no retry fixes: 400, 403 for the key's scope, 422 (out of credits included)."""
    return st.sampled_from(client_error_list())


#: How `Retry-After` may come: absent, 0, 1 s, large (a client should report, not sleep an hour), or
#: an HTTP date (RFC 9110 10.2.3; filled in when the case starts, `RETRY_AFTER_DATE_SECONDS` ahead).
RETRY_AFTER_FORMS = ("absent", "0", str(RETRY_AFTER_SECONDS), "3600", "date")
RETRY_AFTER_DATE_SECONDS = 2.0


def rate_limited_responses(
    operation: str = "match", retry_after: str | None = None
) -> st.SearchStrategy[CannedResponse]:
    """Apollo's 429 with the rate-limit headers (docs/apollo-facts.md 2.7, 3.1) and `Retry-After` in any form.

    `retry_after` picks one of `RETRY_AFTER_FORMS`; by default it is `RETRY_AFTER_SECONDS`.
    """
    form = retry_after or str(RETRY_AFTER_SECONDS)
    if form not in RETRY_AFTER_FORMS:
        raise ValueError(f"retry_after must be one of {RETRY_AFTER_FORMS}")

    def build(n: int, window: str, details: bool) -> CannedResponse:
        body: dict[str, Any] = {"message": RATE_LIMIT_MESSAGE.format(op=operation, n=n, window=window)}
        if details:
            body["error_details"] = {"code": "USAGE.RATE_LIMIT.API_RATE_LIMIT_EXCEEDED"}
        headers = {"x-rate-limit-minute": str(n), "x-minute-usage": str(n), "x-minute-requests-left": "0"}
        if form not in ("absent", "date"):
            headers = {"Retry-After": form, **headers}
        response = json_response(body, "error.response", 429, **headers)
        if form == "date":
            return dataclasses.replace(response, retry_after_date=RETRY_AFTER_DATE_SECONDS)
        return response

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


def truncated_responses(
    documents: st.SearchStrategy[dict[str, Any]] | None = None,
) -> st.SearchStrategy[CannedResponse]:
    """A 200 whose JSON body (a match answer by default) was cut short, as a dropped proxy leaves it."""

    def cut(document: dict[str, Any], fraction: float) -> CannedResponse:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        end = max(1, min(len(text) - 1, int(len(text) * fraction)))
        return CannedResponse(200, text=text[:end], content_type="application/json")

    return st.builds(cut, documents if documents is not None else match_responses(), st.floats(0.05, 0.95))


#: bulk_match's failure envelopes (docs/apollo-facts.md 2.3, 2.6): `{"status": "failed", ...}`, 400 or 422.
FAILED_BULK = [(400, BAD_REQUEST_BODIES[1]), (400, BAD_REQUEST_BODIES[2]), (422, UNPROCESSABLE_BODIES[2])]


def bulk_error_responses() -> st.SearchStrategy[CannedResponse]:
    """bulk_match failures: 401, 403, 429 (Retry-After 0), 5xx, a truncated body, `status: failed`."""
    return st.one_of(
        unauthorized_responses(),
        forbidden_responses(),
        rate_limited_responses("bulk_match", "0"),
        server_error_responses(),
        truncated_responses(bulk_responses(2)),
        st.sampled_from(FAILED_BULK).map(lambda f: json_response(f[1], "error.response", f[0])),
    )


#: The time budget: an answer this slow must still succeed (a client's read timeout must be longer).
SLOW_ANSWER_SECONDS = 1.5


def slow_responses(answers: st.SearchStrategy[CannedResponse]) -> st.SearchStrategy[CannedResponse]:
    """`answers` sent after `SLOW_ANSWER_SECONDS`: within the budget a client must wait out."""
    return answers.map(lambda r: dataclasses.replace(r, fault="slow", delay=SLOW_ANSWER_SECONDS))


def hung_responses() -> st.SearchStrategy[CannedResponse]:
    """A connection that never answers: the client must give up on its own and report an error."""
    return st.just(CannedResponse(504, text="", content_type="text/plain", fault="hang"))


def error_responses() -> st.SearchStrategy[CannedResponse]:
    """Every kind of failure answer: 401, 403, 422, 429, 5xx and a truncated body."""
    return st.one_of(
        unauthorized_responses(),
        forbidden_responses(),
        client_error_responses(),
        rate_limited_responses(),
        server_error_responses(),
        truncated_responses(),
    )


# --------------------------------------------------------------------------- webhooks


def phone_webhook_payloads() -> st.SearchStrategy[dict[str, Any]]:
    """What Apollo POSTs to `webhook_url` after `reveal_phone_number` (docs/apollo-facts.md 4.2)."""
    strategy: st.SearchStrategy[dict[str, Any]] = from_schema(
        definition("webhook_phone_payload"), "complete", name="webhook"
    )
    return strategy


def waterfall_webhook_payloads() -> st.SearchStrategy[dict[str, Any]]:
    """What Apollo POSTs to `webhook_url` after a waterfall request (docs/apollo-facts.md 4.3)."""
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
    """Payloads each delivered once or twice in a row: Apollo may retry (docs/apollo-facts.md 4.1)."""
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


def redelivered_deliveries() -> st.SearchStrategy[Deliveries]:
    """Older payloads delivered again after newer ones (Apollo's retries overtake nothing in order).

    Often every payload is about the same person, so a receiver that lets the latest payload
    overwrite what it stored ends with the older data.
    """

    def build(payloads: list[dict[str, Any]], same: bool, again: list[int]) -> Deliveries:
        if same:
            payloads = [with_person_id(p, _first_person_id(payloads)) for p in payloads]
        redelivered = [payloads[i % len(payloads)] for i in again]
        return Deliveries(unique=payloads, delivered=[*payloads, *redelivered])

    return st.builds(
        build,
        st.lists(webhook_payloads(), min_size=2, max_size=3),
        st.booleans(),
        st.lists(st.integers(0, 1), min_size=1, max_size=2),
    )


def _first_person_id(payloads: list[dict[str, Any]]) -> str:
    for payload in payloads:
        for person in payload.get("people") or []:
            if isinstance(person, dict) and isinstance(person.get("id"), str):
                return str(person["id"])
    return "5f2a0c0a0c0a0c0a0c0a0c0a"


def with_person_id(payload: dict[str, Any], person_id: str) -> dict[str, Any]:
    """`payload` with every person in it given `person_id`."""
    people = [{**p, "id": person_id} if isinstance(p, dict) else p for p in payload.get("people") or []]
    return {**payload, "people": people} if "people" in payload else payload


def webhook_deliveries() -> st.SearchStrategy[Deliveries]:
    """Duplicates back to back, or older payloads redelivered after newer ones."""
    return st.one_of(duplicated_deliveries(), redelivered_deliveries())


# --------------------------------------------------------------------------- requests


#: Values a hand-built query string breaks: reserved characters (+ & # = ? / % space ') and non-ASCII.
AWKWARD_NAMES = ["O'Brien", "Anne Marie", "Zoë+Søren", "Smith & Sons", "#1 Fan", "50% Off", "José/María=?"]
AWKWARD_ORGANIZATIONS = ["AT&T", "Ben & Jerry's", "Procter + Gamble", "Müller GmbH", "#1 Labs", "100% Pure"]
AWKWARD_EMAILS = ["ada+apollo@example.com", "o'brien@acme.test", "zoë@müller.example", "a&b=c@example.com"]


def webhook_urls() -> st.SearchStrategy[str]:
    """`webhook_url`s as real integrations write them: their own query string, escapes, non-ASCII."""
    return st.builds(
        lambda path, token, name: f"https://hooks.example.com/apollo/{path}?token={token}&name={name}&v=1",
        st.sampled_from(["phones", "done/ok", "Zoë"]),
        st.sampled_from(["a+b%2Fc==", "x&y", "abc123"]),
        st.sampled_from(["Zoë_Søren", "AT%26T", "#1"]),
    )


def match_params() -> st.SearchStrategy[dict[str, Any]]:
    """people/match parameters a client is asked to send: an email, a name at a domain, a LinkedIn URL...

    Values include reserved and non-ASCII characters; some requests ask for phones with a `webhook_url`.
    """
    names = st.sampled_from(FIRST_NAMES + AWKWARD_NAMES)
    identifier = st.one_of(
        st.one_of(emails(), st.sampled_from(AWKWARD_EMAILS)).map(lambda e: {"email": e}),
        st.builds(
            lambda first, last, host: {"first_name": first, "last_name": last, "domain": host},
            names,
            st.sampled_from(LAST_NAMES),
            st.sampled_from(DOMAINS),
        ),
        st.builds(
            lambda name, organization: {"name": name, "organization_name": organization},
            names,
            st.sampled_from(AWKWARD_ORGANIZATIONS),
        ),
        urls("linkedin").map(lambda u: {"linkedin_url": u}),
        apollo_ids().map(lambda i: {"id": i}),
    )
    phones = webhook_urls().map(lambda u: {"reveal_phone_number": True, "webhook_url": u})
    flags = st.fixed_dictionaries({}, optional={"reveal_personal_emails": st.booleans(), "phones": phones})
    return st.builds(lambda a, b: {**a, **b.pop("phones", {}), **b}, identifier, flags)


#: The deliberate extremes of `match_params`: every reserved character, non-ASCII, a webhook_url.
AWKWARD_PARAMS: list[dict[str, Any]] = [
    {
        "first_name": "O'Brien & Co",
        "last_name": "Zoë+Søren #1",
        "organization_name": "AT&T 100% = ?/",
        "domain": "müller.example",
        "reveal_phone_number": True,
        "webhook_url": "https://hooks.example.com/apollo/Zoë?token=a+b%2Fc==&name=AT%26T&v=1",
    },
    {"email": "ada+apollo@müller.example", "reveal_personal_emails": True},
]


def bulk_details(size: int | None = None) -> st.SearchStrategy[list[dict[str, Any]]]:
    """bulk_match `details`: 1 to 10 people."""
    low, high = (size, size) if size is not None else (1, 10)
    asked = set(definition("person_details")["properties"])
    return st.lists(
        match_params().map(lambda p: {k: v for k, v in p.items() if k in asked}),
        min_size=low,
        max_size=high,
    )


__all__ = [
    "AWKWARD_PARAMS",
    "CannedResponse",
    "Deliveries",
    "RETRY_AFTER_FORMS",
    "SLOW_ANSWER_SECONDS",
    "apollo_ids",
    "bulk_details",
    "bulk_error_responses",
    "bulk_responses",
    "client_error_list",
    "client_error_responses",
    "definition",
    "duplicated_deliveries",
    "e164_numbers",
    "emails",
    "error_responses",
    "forbidden_response",
    "forbidden_responses",
    "from_schema",
    "hung_responses",
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
    "redelivered_deliveries",
    "request_ids",
    "server_error_responses",
    "slow_responses",
    "stub_persons",
    "truncated_responses",
    "unauthorized_response",
    "unauthorized_responses",
    "unprocessable_responses",
    "waterfall_webhook_payloads",
    "webhook_deliveries",
    "webhook_payloads",
    "webhook_urls",
    "with_person_id",
]
