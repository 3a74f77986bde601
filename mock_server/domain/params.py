"""Request parameters: merge query string and JSON body, check types, build typed requests."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

from mock_server.domain.errors import BulkFailed, InvalidParameter
from mock_server.domain.matching import (
    MAX_EMAIL_LENGTH,
    MAX_NAME_LENGTH,
    UNRESOLVED,
    Identity,
    MatchQuery,
    OrganizationQuery,
    resolve,
)

IDENTIFYING_FIELDS = (
    "first_name",
    "last_name",
    "name",
    "email",
    "hashed_email",
    "organization_name",
    "domain",
    "id",
    "linkedin_url",
)
_IDENTIFYING = frozenset(IDENTIFYING_FIELDS)
ORGANIZATION_FIELDS = ("domain", "website", "linkedin_url", "name")
# OAS 422 for bulk_match (docs/apollo-facts.md 2.6): Ruby's TypeError for a details item that is not an
# object.
NOT_AN_OBJECT = "no implicit conversion of Symbol into Integer"
NAME_FIELDS = frozenset({"first_name", "last_name", "name", "organization_name"})
# Flags that ask for a later delivery, so need a webhook_url.
DELIVERY_FLAGS = ("reveal_phone_number", "run_waterfall_email", "run_waterfall_phone")
FLAGS = ("reveal_personal_emails", "reveal_phone_number", "run_waterfall_email", "run_waterfall_phone")
MAX_STRING_LENGTH = 2048
MAX_BULK_DETAILS = 10
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# What the server accepts for each parameter, as JSON Schema: mock_server/web/openapi.py publishes these,
# and tests/test_openapi_conformance.py runs Schemathesis to prove the server agrees. Each pattern
# accepts a subset of what matching.py accepts (bounded so that lengths stay within its limits);
# a blank string counts as absent, so every pattern also accepts one.
_NO_CONTROL = "^[^\\x00-\\x1f\\x7f]*$"
_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,20}[A-Za-z0-9])?"
_DOMAIN = f"({_LABEL}\\.){{1,4}}[A-Za-z]([A-Za-z0-9-]{{0,20}}[A-Za-z0-9])?"
_LOCAL = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}){0,2}"
_NAME: dict[str, Any] = {"type": ["string", "null"], "maxLength": MAX_NAME_LENGTH, "pattern": _NO_CONTROL}


def _optional(pattern: str, max_length: int = MAX_STRING_LENGTH) -> dict[str, Any]:
    """A string (or null) that is blank or matches `pattern`, spaces around it allowed."""
    return {"type": ["string", "null"], "maxLength": max_length, "pattern": f"^ *({pattern})? *$"}


#: The form each identifying parameter must have (a 422 naming the field otherwise).
FIELD_RULES: dict[str, dict[str, Any]] = {
    **{name: _NAME for name in sorted(NAME_FIELDS)},
    # normalize_email refuses more than four times its length before stripping spaces.
    "email": _optional(f"{_LOCAL}@{_DOMAIN}", MAX_EMAIL_LENGTH * 4),
    "hashed_email": _optional("[0-9a-fA-F]{32}|[0-9a-fA-F]{64}"),
    # normalize_domain keeps the host: a port, a path, a query or a fragment after it is dropped
    # (but an "@" anywhere makes what follows it the host).
    "domain": _optional(
        f"(https?://)?(www\\.)?{_DOMAIN}\\.?(:[^/?#@\\x00-\\x1f\\x7f]*)?([/?#][^@\\x00-\\x1f\\x7f]*)?"
    ),
    "id": _optional("[0-9a-fA-F]{24}"),
    "linkedin_url": _optional("(https?://)?((www|[a-z]{2}|m)\\.)?linkedin\\.com/in/[A-Za-z0-9_%.-]{1,100}/?"),
}
#: An organization's identifiers (organizations/enrich, bulk_enrich): each may be blank, but one
#: must be given in a form that names a company (`ORGANIZATION_GIVEN`).
ORGANIZATION_RULES: dict[str, dict[str, Any]] = {
    "domain": FIELD_RULES["domain"],
    "website": FIELD_RULES["domain"],
    # \x85 as well: the server's (Python's) \s counts it as a space, JSON Schema's does not.
    "linkedin_url": _optional(
        "(https?://)?([a-z]{2,3}\\.)?linkedin\\.com/company/[A-Za-z0-9][^/?#\\s\\x00-\\x1f\\x7f\\x85]{0,60}/?([?#][^\\x00-\\x1f\\x7f]*)?"
    ),
    "name": _NAME,
}
_NAMES_A_COMPANY = "^[^\\x00-\\x1f\\x7f]*[^\\s\\x00-\\x1f\\x7f][^\\x00-\\x1f\\x7f]*$"
ORGANIZATION_GIVEN: dict[str, dict[str, Any]] = {
    name: {
        "type": "string",
        "maxLength": rule["maxLength"],
        "pattern": _NAMES_A_COMPANY if name == "name" else rule["pattern"].replace(")? *$", ") *$"),
    }
    for name, rule in ORGANIZATION_RULES.items()
}
#: A boolean flag: JSON true/false, the strings "true"/"false", or null for "not given".
FLAG_RULE: dict[str, Any] = {"enum": [True, False, "true", "false", None]}
#: webhook_url alone is only checked for control characters and length; it must be an http(s) URL
#: with a host (any host: deliveries off the allowlist fail later) when a flag asks for a delivery.
WEBHOOK_URL_RULE: dict[str, Any] = {
    "type": ["string", "null"],
    "maxLength": MAX_STRING_LENGTH,
    "pattern": _NO_CONTROL,
}
# A webhook URL: http(s), plain or percent-encoded as a whole (docs/apollo-facts.md 1.1); a host name of
# letters, digits, `-` and `_` in dot-separated labels (a compose service's single label included), an
# IPv4 or a bracketed IPv6 address; a port from 1 to 65535 (0 cannot be connected to); then anything but
# control characters and whitespace other than a plain space (delivered percent-encoded).
_WEBHOOK_LABEL = "[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})"
_H16 = "[0-9A-Fa-f]{1,4}"
_IPV4 = "((25[0-5]|(2[0-4]|1?[0-9])?[0-9])\\.){3}(25[0-5]|(2[0-4]|1?[0-9])?[0-9])"
_IPV6 = "|".join(
    (
        f"({_H16}:){{7}}{_H16}",
        f"({_H16}:){{1,7}}:",
        f"({_H16}:){{1,6}}:{_H16}",
        f"({_H16}:){{1,5}}(:{_H16}){{1,2}}",
        f"({_H16}:){{1,4}}(:{_H16}){{1,3}}",
        f"({_H16}:){{1,3}}(:{_H16}){{1,4}}",
        f"({_H16}:){{1,2}}(:{_H16}){{1,5}}",
        f"{_H16}:(:{_H16}){{1,6}}",
        f":((:{_H16}){{1,7}}|:)",
        f"::([Ff]{{4}}(:0{{1,4}})?:)?{_IPV4}",
        f"({_H16}:){{1,4}}:{_IPV4}",
        f"({_H16}:){{6}}{_IPV4}",
    )
)
_PORT = (
    "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}"
    "|[1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9])"
)
_WEBHOOK_HOST = f"({_WEBHOOK_LABEL}(\\.{_WEBHOOK_LABEL})*\\.?|\\[({_IPV6})\\])"
# Whitespace spelled out: Python's `\\s` and ECMA-262's (JSON Schema validators') differ (U+0085, U+FEFF).
_WEBHOOK_TAIL = (
    "[^\\x00-\\x1f\\x7f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]*"
)
WEBHOOK_URL_NEEDED_RULE: dict[str, Any] = {
    "type": "string",
    "maxLength": MAX_STRING_LENGTH,
    "pattern": f"^ *(https?://{_WEBHOOK_HOST}(:{_PORT})?([/?#]{_WEBHOOK_TAIL})?"
    f"|https?%3[Aa]%2[Ff]%2[Ff]{_WEBHOOK_HOST}((:|%3[Aa]){_PORT})?(([/?#]|%2[Ff]|%3[Ff]|%23){_WEBHOOK_TAIL})?"
    ") *$",
}
# What parse_webhook_url accepts is what the published rule says (mock_server/web/openapi.py).
_WEBHOOK_URL = re.compile(WEBHOOK_URL_NEEDED_RULE["pattern"])


class Options(NamedTuple):
    """What the caller asked to reveal, and where to deliver asynchronous results."""

    reveal_personal_emails: bool = False
    reveal_phone_number: bool = False
    run_waterfall_email: bool = False
    run_waterfall_phone: bool = False
    webhook_url: str | None = None

    @property
    def waterfall(self) -> bool:
        """Whether any waterfall flag is set."""
        return self.run_waterfall_email or self.run_waterfall_phone


_NO_OPTIONS = Options()


class MatchRequest(NamedTuple):
    """A parsed people/match request."""

    query: MatchQuery
    options: Options
    # Which person `query` means (`resolve`), kept with the parse so a repeated request skips it;
    # UNRESOLVED when resolving refused the query, which is refused again at its turn (service._find).
    identity: Identity | None = UNRESOLVED


class BulkRequest(NamedTuple):
    """A parsed people/bulk_match request: up to ten queries sharing one set of options."""

    details: tuple[MatchQuery, ...]
    options: Options


def merge(query: Mapping[str, Any], body: dict[str, Any], *, body_wins: bool) -> dict[str, Any]:
    """One parameter mapping from the query string and the JSON body; one side wins conflicts.

    Without a query the body's own dict is the answer (the caller's to keep: apollo.parse's memo).
    """
    if not query:
        return body
    first, second = (query, body) if body_wins else (body, query)
    merged = dict(first)
    merged.update(second)
    return merged


def parse_string(field: str, value: Any) -> str | None:
    """A string parameter: None when absent or blank; 422 naming the field when malformed."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidParameter(field, f"must be a string, got {_json_type(value)}")
    longest = MAX_NAME_LENGTH if field.rpartition(".")[2] in NAME_FIELDS else MAX_STRING_LENGTH
    if len(value) > longest:
        raise InvalidParameter(field, f"is longer than {longest} characters")
    if _CONTROL.search(value):
        raise InvalidParameter(field, "must not contain control characters")
    stripped = value.strip()
    return stripped or None


def parse_bool(field: str, value: Any) -> bool:
    """A boolean parameter: JSON true/false or the strings "true"/"false" (query strings)."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise InvalidParameter(field, f"must be true or false, got {_short(value)}")


def parse_webhook_url(value: Any) -> str | None:
    """The webhook URL, decoded when it arrives percent-encoded; None when it is not a valid URL."""
    text = parse_string("webhook_url", value)
    if text is None or _WEBHOOK_URL.match(value) is None:
        return None
    # Apollo's docs advise encoding the URL when deliveries go missing (docs/apollo-facts.md 1.1): accept
    # both.
    if text.lower().startswith(("http%3a", "https%3a")):
        text = unquote(text)
    # The pattern already holds the scheme, a host and a port in range; urlsplit, which delivery uses,
    # must read the URL too.
    try:
        urlsplit(text).port  # noqa: B018 - raises ValueError for a port or an address it cannot read
    except ValueError:
        return None
    return text


def parse_query(raw: Mapping[str, Any], prefix: str = "") -> MatchQuery:
    """The identifying parameters of one person."""
    given = raw.keys() & _IDENTIFYING  # most are absent: only those given are checked
    values: dict[str, str | None] = {}
    for name in IDENTIFYING_FIELDS:  # in this order, so the first bad one is named
        if name in given:
            value = raw[name]
            if value is not None:
                values[name] = parse_string(prefix + name, value)
    return MatchQuery(**values)


def parse_options(raw: Mapping[str, Any]) -> Options:
    """The reveal and waterfall flags and the webhook URL."""
    if "webhook_url" not in raw and raw.keys().isdisjoint(FLAGS):
        return _NO_OPTIONS  # the common case: nothing asked beyond the match
    flags = {name: parse_bool(name, raw[name]) for name in FLAGS if raw.get(name) is not None}
    # A webhook_url that is not an http(s) URL counts as missing, as Apollo checks only its form
    # (docs/apollo-facts.md 2.3).
    return Options(webhook_url=parse_webhook_url(raw.get("webhook_url")), **flags)


def parse_match(raw: Mapping[str, Any]) -> MatchRequest:
    """A people/match request from merged parameters."""
    query = parse_query(raw)
    try:
        identity = resolve(query)
    except InvalidParameter:
        identity = UNRESOLVED
    return MatchRequest(query, parse_options(raw), identity)


def parse_bulk(raw: Mapping[str, Any]) -> BulkRequest:
    """A bulk_match request; Apollo's exact 400 bodies for missing or too many details."""
    details = raw.get("details")
    if details is None or details == []:
        # docs/apollo-facts.md 2.3, OAS 400 "Add people to enrich".
        raise BulkFailed(400, "INVALID_REQUEST", "invalid request, missing details")
    if not isinstance(details, list):
        raise InvalidParameter("details", f"must be an array of objects, got {_json_type(details)}")
    if len(details) > MAX_BULK_DETAILS:
        # docs/apollo-facts.md 2.3, OAS 400 "More than 10 people".
        raise BulkFailed(400, "RECORD_LIMIT_EXCEEDED", "cannot enrich more than 10 in a single request")
    queries = []
    for index, item in enumerate(details):
        if not isinstance(item, dict):
            raise BulkFailed(422, "UNKNOWN_ERROR", NOT_AN_OBJECT)
        queries.append(parse_query(item, prefix=f"details[{index}]."))
    return BulkRequest(details=tuple(queries), options=parse_options(raw))


def _organization_query(raw: Mapping[str, Any], prefix: str = "") -> OrganizationQuery | None:
    """One company's identifiers; None when none is given."""
    values = {name: parse_string(prefix + name, raw.get(name)) for name in ORGANIZATION_FIELDS}
    if all(value is None for value in values.values()):
        return None
    return OrganizationQuery(**values)


def parse_organization(raw: Mapping[str, Any]) -> OrganizationQuery | None:
    """organizations/enrich: domain, website, linkedin_url or name; None when none is given."""
    return _organization_query(raw)


def parse_organizations(raw: Mapping[str, Any]) -> list[OrganizationQuery]:
    """organizations/bulk_enrich: `details` (body) or else `domains[]` (query), with Apollo's errors."""
    details = raw.get("details")
    if details is None or details == []:
        domains = raw.get("domains[]", raw.get("domains"))
        if isinstance(domains, str):
            domains = [domains]
        if not domains:
            # OAS bulk_enrich 400 "Add domains".
            raise BulkFailed(400, "INVALID_REQUEST", "invalid request, missing domains")
        if not isinstance(domains, list):
            raise BulkFailed(422, "UNKNOWN_ERROR", NOT_AN_OBJECT)
        details = [{"domain": domain} for domain in domains]
    if not isinstance(details, list):
        raise BulkFailed(422, "UNKNOWN_ERROR", NOT_AN_OBJECT)
    if len(details) > MAX_BULK_DETAILS:
        # OAS bulk_enrich 400 "More than 10 companies".
        raise BulkFailed(400, "RECORD_LIMIT_EXCEEDED", "domain count cannot be more than 10")
    queries = []
    for index, item in enumerate(details):
        if not isinstance(item, dict):
            raise BulkFailed(422, "UNKNOWN_ERROR", NOT_AN_OBJECT)
        query = _organization_query(item, prefix=f"details[{index}].")
        if query is None:
            raise BulkFailed(400, "INVALID_REQUEST", "invalid request, missing domains")
        queries.append(query)
    return queries


def _json_type(value: Any) -> str:
    """The JSON name of a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _short(value: Any) -> str:
    """A short printable form of a value for error messages."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
