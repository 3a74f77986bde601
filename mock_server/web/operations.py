"""The one table of Apollo's operations: the router, the OpenAPI paths, usage-stats names and tests read it.

Adding an endpoint is one `Operation` in `OPERATIONS` plus its handler (a function of the service,
the caller's key, the merged parameters, the forced outcome and the receipt, returning the answer's
JSON document). Everything else follows: the route under /api/v1 and /v1 (HEAD wherever GET is
served), the 405s and OPTIONS, the OpenAPI path item, the endpoint's line in api_usage_stats.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mock_server.domain import prospecting as p
from mock_server.domain.keys import ApiKey
from mock_server.domain.params import parse_bulk, parse_match
from mock_server.domain.scenarios import Outcome
from mock_server.domain.service import (
    ORGANIZATIONS_BULK_ENRICH,
    ORGANIZATIONS_ENRICH,
    PEOPLE_BULK_MATCH,
    PEOPLE_MATCH,
    PEOPLE_SHOW,
    USAGE_STATS,
    WEBHOOK_RESULT,
    Enrichment,
    Receipt,
)

Params = dict[str, Any]
# A handler gets the parameters, or what the operation's `parse` made of them.
Handler = Callable[[Enrichment, ApiKey, Any, Outcome | None, Receipt], dict[str, Any]]
# Every path is served under both prefixes, as Apollo does (docs/apollo-facts.md 1.1).
PREFIXES = ("/api/v1", "/v1")


@dataclass(frozen=True, slots=True)
class PathParameter:
    """A `{name}` segment of an operation's path."""

    name: str  # as the path writes it
    key: str  # the request parameter it becomes (the journal shows it under this name)
    pattern: str  # what the router accepts there: another segment is no route (404)
    schema: Mapping[str, Any]  # its OpenAPI schema
    description: str


@dataclass(frozen=True, slots=True)
class Operation:
    """One of Apollo's operations: where it is served, how it is metered and described, who answers it."""

    operation_id: str  # the first method's OpenAPI operationId; the others get "-<method>" appended
    path: str  # under the prefixes, parameters as `{name}`
    methods: tuple[str, ...]  # HEAD is added wherever GET is served
    endpoint: str  # the endpoint name Apollo meters, scopes and reports in api_usage_stats
    handler: Handler
    tag: str
    summary: str
    response: str  # the 200 answer's schema (schemas/<name>.json)
    ok: str  # what the 200 answer is, in the OpenAPI document
    errors: tuple[str, ...]  # the statuses of its documented error answers
    request: str | None = None  # the request's schema: a query object for GET, a JSON body otherwise
    request_required: bool = False
    description: str = ""
    descriptions: Mapping[str, str] = field(default_factory=dict)  # per method, where they differ
    parameters: tuple[PathParameter, ...] = ()
    polls: bool = False  # its answer's request_id is what Poll Webhook Result takes (an OpenAPI link)
    forced_outcomes: bool = True  # X-Mock-Scenario and queued scenarios apply to it
    limits_on_errors: bool = False  # its errors after admission carry the rate-limit headers
    # What the handler gets instead of the parameters: a pure function of them, so asgi.py keeps it
    # for a repeat of the same request (its refusals are raised at the handler's turn).
    parse: Callable[[Params], Any] | None = None

    # The methods served: the listed ones, and HEAD where GET is.
    allowed: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        """Work out `allowed` once."""
        allowed = (*self.methods, "HEAD") if "GET" in self.methods else self.methods
        object.__setattr__(self, "allowed", allowed)

    def operation_ids(self) -> dict[str, str]:
        """The OpenAPI operationId of each method."""
        first, *others = self.methods
        return {first: self.operation_id, **{m: f"{self.operation_id}-{m.lower()}" for m in others}}


def webhook_result(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """webhook_result/{request_id}: the stored payload and its delivery state; free."""
    return service.webhooks.poll(params["request_id"], api_key.team)


def usage(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """usage_stats/api_usage_stats: free, and rate-limited like Apollo's other APIs."""
    return service.usage_stats(api_key, METERED_ENDPOINTS)


# What the OpenAPI document says of every enrichment operation beyond its schemas.
REFUSALS = (
    "Refused with a 400 when a flag asks for a delivery and `webhook_url` is missing or not an "
    "http(s) URL with a host (percent-encoded is fine). Any host is accepted; deliveries go only "
    "to loopback and private networks and `--webhook-allow` hosts, others are recorded as failed. "
    "Identifying parameters that break their pattern or length get a 422 naming the field. A "
    "header `X-Mock-Scenario` forces an outcome (README: Forcing outcomes)."
)
_ENRICHMENT_ERRORS = ("400", "401", "403", "422", "429")
_ORGANIZATION = "At least one of the four identifiers, in the query string or a JSON body."

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "people-enrichment",
        "/people/match",
        ("POST", "GET"),
        PEOPLE_MATCH,
        Enrichment.people_match,
        tag="People Enrichment",
        summary="Enrich one person",
        request="people_match.request",
        response="people_match.response",
        ok='A match, or `{"person": null}`.',
        errors=_ENRICHMENT_ERRORS,
        description=REFUSALS,
        descriptions={
            "POST": "Parameters may come in the query string (as for GET), a JSON body, or both; the "
            "body wins where both name one. " + REFUSALS
        },
        polls=True,
        parse=parse_match,
    ),
    Operation(
        "bulk-people-enrichment",
        "/people/bulk_match",
        ("POST",),
        PEOPLE_BULK_MATCH,
        Enrichment.bulk_match,
        tag="People Enrichment",
        summary="Enrich up to 10 people",
        request="people_bulk_match.request",
        request_required=True,
        response="people_bulk_match.response",
        ok="Positional matches, null for misses.",
        errors=_ENRICHMENT_ERRORS,
        description="The flags may also come in the query string; the body wins where both name one. "
        + REFUSALS,
        polls=True,
        parse=parse_bulk,
    ),
    Operation(
        "organization-enrichment",
        "/organizations/enrich",
        ("GET", "POST"),
        ORGANIZATIONS_ENRICH,
        Enrichment.organization_enrich,
        tag="Organization Enrichment",
        summary="Enrich one organization",
        request="organization_enrich.request",
        request_required=True,
        response="organization_enrich.response",
        ok="The organization, or `{}` when unknown.",
        errors=_ENRICHMENT_ERRORS,
        description=_ORGANIZATION,
    ),
    Operation(
        "bulk-organization-enrichment",
        "/organizations/bulk_enrich",
        ("POST",),
        ORGANIZATIONS_BULK_ENRICH,
        Enrichment.organizations_bulk_enrich,
        tag="Organization Enrichment",
        summary="Enrich up to 10 organizations",
        request="organizations_bulk_enrich.request",
        request_required=True,
        response="organizations_bulk_enrich.response",
        ok="The organizations found, with counters.",
        errors=_ENRICHMENT_ERRORS,
        description="`details` (or `domains`) in the JSON body; `domains[]` in the query string also "
        "works when the body has neither.",
    ),
    Operation(
        "get-person",
        "/people/{id}",
        ("GET",),
        PEOPLE_SHOW,
        Enrichment.people_show,
        tag="People Enrichment",
        summary="One person by Apollo id",
        response="people_show.response",
        ok="The person.",
        errors=("401", "403", "404", "422", "429"),
        description="An id no answer of this emulator has carried gets Apollo's 422 `Person does not "
        "exist.` (which ids exist cannot be said in a schema); a path that is not 24 hexadecimal "
        "digits is no route (404).",
        parameters=(
            PathParameter(
                "id",
                "person_id",
                "[0-9a-fA-F]{24}",
                {"$ref": "#/components/schemas/apollo_id"},
                "An Apollo person id (24 hexadecimal digits).",
            ),
        ),
    ),
    Operation(
        "poll-webhook-result",
        "/webhook_result/{request_id}",
        ("GET",),
        WEBHOOK_RESULT,
        webhook_result,
        tag="Webhooks",
        summary="Poll the webhook payload of an enrichment request",
        response="webhook_result.response",
        ok="The stored payload and its delivery state.",
        errors=("400", "401", "403", "404", "410", "429"),
        parameters=(
            PathParameter(
                "request_id",
                "request_id",
                "[^/]+",
                {"type": "integer", "format": "int64"},
                "A signed 64-bit request id from an enrichment response.",
            ),
        ),
        forced_outcomes=False,
        limits_on_errors=True,
    ),
    Operation(
        "api-usage-stats",
        "/usage_stats/api_usage_stats",
        ("POST", "GET"),
        USAGE_STATS,
        usage,
        tag="Miscellaneous",
        summary="Usage and rate limits per endpoint",
        response="api_usage_stats.response",
        ok="Usage keyed by endpoint.",
        errors=("401", "403", "429"),
        description="Apollo documents POST; the emulator answers GET the same way.",
    ),
)
# Search, contacts, accounts and the calls around enrichment (docs/apollo-facts.md 7): the handlers
# are mock_server/domain/prospecting.py's.
# 400: a body that is not JSON; 404: a path segment no route takes.
_SEARCH_ERRORS = ("400", "401", "403", "422", "429")
_RECORD_ERRORS = ("400", "401", "403", "404", "422", "429")
_ANY_ID = "[^/]+"  # Apollo answers a malformed id with its 422, not a 404


def _id(name: str, key: str, what: str) -> PathParameter:
    """A record id in the path: any segment routes; one the team does not have is Apollo's 422."""
    return PathParameter(name, key, _ANY_ID, {"type": "string"}, f"The Apollo id of the {what}.")


_ORGANIZATION_ID = _id("organization_id", "organization_id", "organization")
_CONTACT_ID = _id("contact_id", "contact_id", "contact (one of the caller's team)")
_ACCOUNT_ID = _id("account_id", "account_id", "account (one of the caller's team)")
_TEAM = "Only the caller's team sees its records; a reset forgets them."

_PROSPECTING: tuple[Operation, ...] = (
    Operation(
        "people-api-search", "/mixed_people/api_search", ("POST",), p.PEOPLE_API_SEARCH, p.people_api_search,
        tag="Search", summary="Find people (thin records, no credits)",
        response="mixed_people_api_search.response",
        ok="total_entries and a page of thin records.", errors=_SEARCH_ERRORS,
        description="Filters in a JSON body, or as `name[]` in the query string. Each person found is "
        "the person people/match returns for its id or email.",
    ),
    Operation(
        "organization-search", "/mixed_companies/search", ("POST",), p.ORGANIZATION_SEARCH,
        p.organization_search, tag="Search", summary="Find companies (1 credit a page)",
        response="mixed_companies_search.response",
        ok="A page of organizations, the team's accounts among them apart.", errors=_SEARCH_ERRORS,
    ),
    Operation(
        "get-organization", "/organizations/{organization_id}", ("GET",), p.ORGANIZATION_SHOW,
        p.organization_show,
        tag="Organization Enrichment", summary="One organization by Apollo id (1 credit)",
        response="organization_show.response", ok="The organization.", errors=_RECORD_ERRORS,
        parameters=(_ORGANIZATION_ID,),
    ),
    Operation(
        "organization-job-postings", "/organizations/{organization_id}/job_postings", ("GET",),
        p.JOB_POSTINGS, p.job_postings, tag="Organization Enrichment",
        summary="A company's open job postings (1 credit a page)",
        response="organization_job_postings.response", ok="The job postings.", errors=_RECORD_ERRORS,
        parameters=(_ORGANIZATION_ID,),
    ),
    Operation(
        "create-a-contact", "/contacts", ("POST",), p.CONTACTS_CREATE, p.contacts_create, tag="Contacts",
        summary="Create a contact", request_required=True,
        response="contacts_create.response", ok="The contact.", errors=_RECORD_ERRORS,
        description="With `run_dedupe` the matching contact is updated in place instead. " + _TEAM,
    ),
    Operation(
        "bulk-create-contacts", "/contacts/bulk_create", ("POST",), p.CONTACTS_BULK_CREATE,
        p.contacts_bulk_create, tag="Contacts", summary="Create up to 100 contacts",
        response="contacts_bulk_create.response", ok="Created and existing contacts.",
        errors=_RECORD_ERRORS, description=_TEAM,
    ),
    Operation(
        "search-for-contacts", "/contacts/search", ("POST",), p.CONTACTS_SEARCH, p.contacts_search,
        tag="Contacts", summary="Search the team's contacts",
        response="contacts_search.response", ok="A page of contacts.", errors=_RECORD_ERRORS,
    ),
    Operation(
        "view-a-contact", "/contacts/{contact_id}", ("GET",), p.CONTACTS_SHOW, p.contact_show,
        tag="Contacts", summary="One of the team's contacts", response="contacts_show.response",
        ok="The contact.", errors=_RECORD_ERRORS, parameters=(_CONTACT_ID,),
    ),
    Operation(
        "update-a-contact", "/contacts/{contact_id}", ("PATCH",), p.CONTACTS_UPDATE, p.contact_update,
        tag="Contacts", summary="Update a contact",
        response="contacts_create.response", ok="The contact.", errors=_RECORD_ERRORS,
        parameters=(_CONTACT_ID,),
    ),
    Operation(
        "create-an-account", "/accounts", ("POST",), p.ACCOUNTS_CREATE, p.accounts_create, tag="Accounts",
        summary="Create an account", request_required=True,
        response="accounts_create.response", ok="The account.", errors=_RECORD_ERRORS, description=_TEAM,
    ),
    Operation(
        "bulk-create-accounts", "/accounts/bulk_create", ("POST",), p.ACCOUNTS_BULK_CREATE,
        p.accounts_bulk_create, tag="Accounts", summary="Create up to 100 accounts",
        response="accounts_bulk_create.response", ok="Created and existing accounts.",
        errors=_RECORD_ERRORS,
    ),
    Operation(
        "search-for-accounts", "/accounts/search", ("POST",), p.ACCOUNTS_SEARCH, p.accounts_search,
        tag="Accounts", summary="Search the team's accounts",
        response="accounts_search.response", ok="A page of accounts.", errors=_RECORD_ERRORS,
    ),
    Operation(
        "view-an-account", "/accounts/{account_id}", ("GET",), p.ACCOUNTS_SHOW, p.account_show,
        tag="Accounts", summary="One of the team's accounts", response="accounts_show.response",
        ok="The account.", errors=_RECORD_ERRORS, parameters=(_ACCOUNT_ID,),
    ),
    Operation(
        "update-an-account", "/accounts/{account_id}", ("PATCH",), p.ACCOUNTS_UPDATE, p.account_update,
        tag="Accounts", summary="Update an account",
        response="accounts_create.response", ok="The account.", errors=_RECORD_ERRORS,
        parameters=(_ACCOUNT_ID,),
    ),
    Operation(
        "auth-health", "/auth/health", ("GET",), p.AUTH_HEALTH, p.auth_health, tag="Miscellaneous",
        summary="Whether the key works", response="auth_health.response",
        ok="`healthy` and `is_logged_in`.", errors=("400", "401", "429"),
    ),
)  # fmt: skip
OPERATIONS = (*OPERATIONS, *_PROSPECTING)
# The endpoints api_usage_stats reports on, in the table's order.
METERED_ENDPOINTS: tuple[str, ...] = tuple(dict.fromkeys(op.endpoint for op in OPERATIONS))


# The path parameters of a path without any (read-only, shared).
_NO_PARAMETERS: Mapping[str, str] = MappingProxyType({})


class Router:
    """Which operation a request path names, with its path parameters; built from `OPERATIONS`."""

    def __init__(self, operations: tuple[Operation, ...] = OPERATIONS, prefixes: tuple[str, ...] = PREFIXES):
        self.fixed: dict[str, Operation] = {}
        self.patterns: list[tuple[re.Pattern[str], Operation]] = []
        # Operations sharing a path with another, one per method (contacts/{id}: GET and PATCH).
        self.siblings: dict[str, list[Operation]] = {}
        for operation in operations:
            self.siblings.setdefault(operation.path, []).append(operation)
            for prefix in prefixes:
                if operation.parameters:
                    self.patterns.append((_pattern(prefix, operation), operation))
                else:
                    self.fixed[prefix + operation.path] = operation

    def find(self, path: str, method: str = "GET") -> tuple[Operation, Mapping[str, str]] | None:
        """The operation served at `path` (the one for `method` where several share it), or None."""
        operation = self.fixed.get(path)
        if operation is not None:
            return operation, _NO_PARAMETERS
        for pattern, candidate in self.patterns:
            found = pattern.fullmatch(path)
            if found is not None:
                keys = {p.name: p.key for p in candidate.parameters}
                chosen = next((op for op in self.siblings[candidate.path] if method in op.allowed), candidate)
                return chosen, {keys[name]: value for name, value in found.groupdict().items()}
        return None

    def allowed(self, operation: Operation) -> tuple[str, ...]:
        """Every method served at the operation's path, by it and by operations sharing the path."""
        return tuple(dict.fromkeys(m for op in self.siblings[operation.path] for m in op.allowed))


def _pattern(prefix: str, operation: Operation) -> re.Pattern[str]:
    """The regular expression of a path with `{name}` segments."""
    patterns = {p.name: p.pattern for p in operation.parameters}
    parts = re.split(r"\{(\w+)\}", prefix + operation.path)
    regex = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>{patterns[part]})" for i, part in enumerate(parts)
    )
    return re.compile(regex)
