"""Apollo's operations as plain Python: authenticate, match, build the bodies Apollo sends."""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mock_server.config import Config
from mock_server.domain.clock import Clock
from mock_server.domain.credits import MATCH_CREDITS, Ledger
from mock_server.domain.crm import TeamRecords
from mock_server.domain.directory import PersonDirectory
from mock_server.domain.documents import AnswerDocument, OrganizationDocument, PersonDocument, add_team_keys
from mock_server.domain.encoding import Encoded
from mock_server.domain.errors import (
    BulkFailed,
    GatewayError,
    InvalidParameter,
    OutOfCredits,
    Unauthorized,
    Unprocessable,
    WebhookUrlRequired,
)
from mock_server.domain.keys import ApiKey, KeyRegistry, inaccessible
from mock_server.domain.matching import (
    MATCH_SCENARIO_DOMAIN,
    UNRESOLVED,
    Identity,
    MatchQuery,
    normalize_id,
    resolve,
)
from mock_server.domain.params import (
    DELIVERY_FLAGS,
    BulkRequest,
    MatchRequest,
    Options,
    parse_organization,
    parse_organizations,
)
from mock_server.domain.persons import Person, Spliced, encoded, render
from mock_server.domain.ratelimit import RateLimiter, RateState
from mock_server.domain.scenarios import Outcome, OutcomeName, parse_header
from mock_server.domain.search import SearchIndex
from mock_server.domain.store import Store
from mock_server.domain.webhooks.outbox import Webhooks

PEOPLE_MATCH = "api/v1/people/match"
PEOPLE_BULK_MATCH = "api/v1/people/bulk_match"
ORGANIZATIONS_ENRICH = "api/v1/organizations/enrich"
ORGANIZATIONS_BULK_ENRICH = "api/v1/organizations/bulk_enrich"
# OAS people/{id}: "API key access: api/v1/people/show"; rate-limited as one of the other APIs.
PEOPLE_SHOW = "api/v1/people/show"
# OAS organizations/enrich, bulk_enrich and people/{id}: "1 credit per organization" / "per person".
RECORD_CREDITS = 1
# OAS people/{id}: the email of a person who is not the team's contact.
EMAIL_NOT_UNLOCKED = "email_not_unlocked@domain.com"
# OAS people/{id} 422 "Person Does Not Exist".
PERSON_DOES_NOT_EXIST = "Person does not exist."
# No source shows phone_enrichment's message: fakeapollo's wording (docs/emulation.md, "uncertain").
PHONES_PENDING = "Phone numbers will be sent to the provided webhook URL."
USAGE_STATS = "api/v1/usage_stats/api_usage_stats"
# The endpoint name Apollo meters and scopes polling under (docs/apollo-facts.md 4.1).
WEBHOOK_RESULT = "api/v1/webhook_result/show"
# docs/apollo-facts.md 4.4: the synchronous answer to a waterfall request.
WATERFALL_ACCEPTED = {
    "status": "accepted",
    "message": "Waterfall enrichment request accepted. Results will be sent to the provided webhook URL.",
}
# docs/apollo-facts.md 1.3: observed live since Oct 2025.
API_KEY_NOT_IN_HEADER = "API key must be passed in the X-Api-Key header for security reasons"


@dataclass
class Receipt:
    """What one request cost: credits charged (and to which team), for the journal and refunds."""

    credits: float = 0.0
    team: str | None = None


class Enrichment:
    """The emulated People Enrichment API, independent of HTTP."""

    def __init__(
        self,
        config: Config,
        clock: Clock,
        store: Store,
        keys: KeyRegistry,
        directory: PersonDirectory,
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.keys = keys
        self.directory = directory
        seeded = config.request_id_seed
        request_id_key = secrets.token_bytes(32) if seeded is None else b"seed:%d" % seeded
        # Keyed BLAKE2b (a MAC) under that key, its state prepared once: a copy of it costs a
        # quarter of an HMAC-SHA256's (bench/README.md, the hot path).
        self._request_ids = hashlib.blake2b(key=request_id_key, digest_size=8)
        self.limiter = RateLimiter(store, clock, config.bulk_share)
        self.ledger = Ledger(store, keys)
        # The journal's mask and fingerprint of each registered key it met (web/journaling.py).
        self.key_marks: dict[str, tuple[str | None, str | None]] = {}
        # The outbox and dispatcher of webhook deliveries; app.py starts it and subscribes it.
        self.webhooks = Webhooks(config, clock, store, self.ledger)
        # Searches over the directory, and the contacts and accounts teams create (which
        # enrichment shows to their team).
        self.search = SearchIndex(directory)
        self.records = TeamRecords(store, clock.now)
        directory.team_view = self.records

    def choose_outcome(
        self, path: str, header_key: str | None, params: Mapping[str, Any], header: str | None
    ) -> Outcome | None:
        """The forced outcome for this request: the X-Mock-Scenario header, else a queued scenario."""
        if header is not None and header.strip():
            return parse_header(header)
        return self.store.scenarios.take(path, header_key, params)

    def admit(self, endpoint: str, api_key: ApiKey, outcome: Outcome | None) -> RateState:
        """Authorize and count an authenticated key's call; raise what Apollo (or forced outcome) answers."""
        forced = outcome.name if outcome is not None else None
        if forced is OutcomeName.UNAUTHORIZED:
            raise Unauthorized(self.config.unauthorized_message)
        if forced is OutcomeName.FORBIDDEN:
            # Apollo's wording for a key that may not call the endpoint (docs/apollo-facts.md 2.5).
            raise inaccessible(api_key, endpoint)
        self.keys.authorize(api_key, endpoint, free_plan_blocked=self.config.free_plan_blocked)
        if forced is OutcomeName.RATE_LIMITED:
            raise self.limiter.exhausted(api_key, endpoint)
        state = self.limiter.hit(api_key, endpoint)
        if forced is not None:
            _raise_forced(forced, endpoint)
        return state

    def authenticate(
        self, header_key: str | None, params: Mapping[str, Any], bearer: str | None = None
    ) -> ApiKey:
        """The caller's key from `x-api-key`, or an OAuth token sent as Bearer; Apollo's 401 or 422."""
        param_key = params.get("api_key")
        if param_key is not None and not self.config.legacy_api_key:
            raise Unprocessable(API_KEY_NOT_IN_HEADER)
        if not header_key and bearer:
            return self.keys.authenticate(bearer, self.config.unauthorized_message, bearer=True)
        key = header_key
        if not key and isinstance(param_key, str):
            key = param_key
        return self.keys.authenticate(key, self.config.unauthorized_message)

    def authorize(self, api_key: ApiKey, endpoint: str) -> None:
        """Apollo's 403 when the key's plan or scope does not cover `endpoint`."""
        self.keys.authorize(api_key, endpoint, free_plan_blocked=self.config.free_plan_blocked)

    def people_match(
        self,
        api_key: ApiKey,
        request: MatchRequest,
        outcome: Outcome | None = None,
        receipt: Receipt | None = None,
    ) -> AnswerDocument:
        """One person, or `{"person": null}` (docs/apollo-facts.md 2.2)."""
        options = request.options
        waterfall = options.waterfall
        if waterfall or options.reveal_phone_number:
            self._require_webhook(options)
        if not self._has_credits(api_key):
            return {"person": None}
        if outcome is not None and outcome.name is OutcomeName.STUB_NO_MATCH:
            # A miss answered as a stub person, uncharged (docs/apollo-facts.md 2.2).
            stub = self.directory.stub_person(request.query)
            return {"person": stub, "request_id": self._next_request_id()}
        person = self._find(request.query, outcome, request.identity)
        if person is not None and person.unmatched:
            # An email Apollo has no one for: a thin, newly created person, uncharged and with no
            # delivery to come (docs/apollo-facts.md 2.2).
            thin: dict[str, Any] = {"person": encoded(person, reveal_personal_emails=False)}
            if waterfall:
                thin["waterfall"] = dict(WATERFALL_ACCEPTED)
            thin["request_id"] = self._next_request_id()
            return thin
        if person is None or not self._spend(api_key, _cost(api_key, 1, MATCH_CREDITS), receipt):
            return {"person": None}
        body: dict[str, Any] = {"person": self._encoded(person, api_key.team, options.reveal_personal_emails)}
        request_id = self._next_request_id()
        if waterfall:
            body["waterfall"] = dict(WATERFALL_ACCEPTED)
        body["request_id"] = request_id
        self.webhooks.record(
            team=api_key.team,
            options=options,
            request_id=request_id,
            people=[person],
            requested=1,
            outcome=outcome,
        )
        return body

    def bulk_match(
        self,
        api_key: ApiKey,
        request: BulkRequest,
        outcome: Outcome | None = None,
        receipt: Receipt | None = None,
    ) -> AnswerDocument:
        """Positional matches with nulls for misses and Apollo's counters (docs/apollo-facts.md 5)."""
        self._require_webhook(request.options)
        funded = self._has_credits(api_key)
        found = [self._find(query, outcome) if funded else None for query in request.details]
        # A standard bulk answers a person Apollo has no one for as null (docs/apollo-facts.md 2.2).
        found = [None if person is not None and person.unmatched else person for person in found]
        # All or nothing (docs/emulation.md, "uncertain"): a bulk the credits left cannot pay for in full is
        # refused like a single call, and nothing of it is charged.
        cost = _cost(api_key, sum(p is not None for p in found), MATCH_CREDITS)
        if not self._spend(api_key, cost, receipt):
            found = [None] * len(found)
        reveal = request.options.reveal_personal_emails
        # A waterfall miss is a stub person with match_confidence "none" or "low" (docs/apollo-facts.md 2.2).
        forced_stub = _forced(outcome) is OutcomeName.STUB_NO_MATCH
        waterfall_stub = request.options.waterfall and not forced_stub
        matches: list[Encoded | PersonDocument | None] = []
        for query, person in zip(request.details, found, strict=True):
            if person is None:
                stub = forced_stub or waterfall_stub
                matches.append(self.directory.stub_person(query, waterfall=waterfall_stub) if stub else None)
            elif request.options.run_waterfall_email:
                # docs/apollo-facts.md 4.4: with run_waterfall_email each match omits email and email_status.
                extra = self.directory.team_keys(person, api_key.team)
                record = render(person, reveal_personal_emails=reveal, extra=extra)
                record.pop("email", None)
                record.pop("email_status", None)
                matches.append(record)
            else:
                matches.append(self._encoded(person, api_key.team, reveal))
        hits = [p for p in found if p is not None]
        body: dict[str, Any] = {
            "status": "success",
            "error_code": None,
            "error_message": None,
            "total_requested_enrichments": len(request.details),
        }
        if request.options.waterfall:
            # docs/apollo-facts.md 4.4: the waterfall variant has no enrichment counters at all.
            body["matches"] = matches
            body["waterfall"] = dict(WATERFALL_ACCEPTED)
        else:
            # The recorded order (tests/data/recorded): matches before the counters.
            body["matches"] = matches
            body["unique_enriched_records"] = len(hits)
            body["missing_records"] = len(request.details) - len(hits)
            body["credits_consumed"] = _cost(api_key, len(hits), MATCH_CREDITS)
        request_id = self._next_request_id()
        if request.options.reveal_phone_number or request.options.waterfall:
            # docs/apollo-facts.md 5: a standard bulk answer has no request_id (a recording, 2026-05);
            # one that announces a delivery does, and that is the id to poll.
            body["request_id"] = request_id
        if request.options.reveal_phone_number and hits:
            # OAS bulk_match: phones asked for in bulk are announced, then sent to the webhook. Its
            # own request_id is a 24-hex id Poll Webhook Result refuses; none when nobody matched
            # (docs/apollo-facts.md 5).
            body["phone_enrichment"] = {
                "request_id": _enrichment_id(request_id),
                "status": "pending",
                "message": PHONES_PENDING,
            }
        self.webhooks.record(
            team=api_key.team,
            options=request.options,
            request_id=request_id,
            people=hits,
            requested=len(request.details),
            outcome=outcome,
        )
        return body

    def organization_enrich(
        self,
        api_key: ApiKey,
        params: Mapping[str, Any],
        outcome: Outcome | None = None,
        receipt: Receipt | None = None,
    ) -> AnswerDocument:
        """The organization a domain, website, LinkedIn URL or name means (docs/apollo-facts.md 2.2)."""
        query = parse_organization(params)
        if query is None:
            # docs/apollo-facts.md 2.6, OAS 422 "Add a company to enrich".
            raise Unprocessable("Required parameter 'domain' missing")
        if not self._has_credits(api_key) or _forced(outcome) is OutcomeName.NO_MATCH:
            return {}
        organization = self.directory.find_organization(query)
        if organization is None or not self._spend(api_key, _cost(api_key, 1, RECORD_CREDITS), receipt):
            return {}
        add_team_keys(organization, self.directory.organization_team_keys(organization, api_key.team))
        return {"organization": organization}

    def organizations_bulk_enrich(
        self,
        api_key: ApiKey,
        params: Mapping[str, Any],
        outcome: Outcome | None = None,
        receipt: Receipt | None = None,
    ) -> AnswerDocument:
        """Up to ten organizations; the ones found, with Apollo's counters (OAS bulk_enrich)."""
        queries = parse_organizations(params)
        found: dict[str, OrganizationDocument] = {}
        keys: set[str] = set()
        funded = self._has_credits(api_key) and _forced(outcome) is not OutcomeName.NO_MATCH
        for query in queries:
            keys.add(repr(query))
            organization = self.directory.find_organization(query) if funded else None
            if organization is not None:
                found.setdefault(organization["id"], organization)
        if not self._spend(api_key, _cost(api_key, len(found), RECORD_CREDITS), receipt):
            found = {}
        organizations = []
        for organization in found.values():
            add_team_keys(organization, self.directory.organization_team_keys(organization, api_key.team))
            organizations.append(organization)
        return {
            "status": "success",
            "error_code": None,
            "error_message": None,
            "total_requested_records": None,
            "total_requested_domains": len(queries),
            "unique_domains": len(keys),
            "unique_records": None,
            "unique_enriched_records": len(organizations),
            "missing_records": len(keys) - len(organizations),
            "organizations": organizations,
        }

    def people_show(
        self,
        api_key: ApiKey,
        params: Mapping[str, Any],
        outcome: Outcome | None = None,
        receipt: Receipt | None = None,
    ) -> AnswerDocument:
        """GET people/{id}: the person served under that id, as Get Complete Person Info shows them."""
        raw = params.get("person_id")
        try:
            identity = Identity("id", normalize_id(raw)) if isinstance(raw, str) else None
        except InvalidParameter:
            identity = None
        person = None if identity is None else self._find_identity(identity, outcome)
        if person is None:
            raise Unprocessable(PERSON_DOES_NOT_EXIST)
        if not self._spend(api_key, _cost(api_key, 1, RECORD_CREDITS), receipt):
            raise Unprocessable(PERSON_DOES_NOT_EXIST)
        extra = self.directory.team_keys(person, api_key.team)
        record = render(person, reveal_personal_emails=False, extra=extra)
        if "contact" not in record:
            # OAS people/{id}: for someone who is not the team's contact, a verified address is
            # replaced by a fixed placeholder, and revealed_for_current_team is left out.
            record.pop("revealed_for_current_team", None)
            if record.get("email") and record.get("email_status") == "verified":
                record["email"] = EMAIL_NOT_UNLOCKED
        return {"person": record}

    def usage_stats(self, api_key: ApiKey, endpoints: Iterable[str]) -> AnswerDocument:
        """Apollo's api_usage_stats: per endpoint, each window's limit, consumption and what is left."""
        stats: dict[str, Any] = {}
        for endpoint in endpoints:
            base, _, action = endpoint.rpartition("/")
            state = {s.window.name: s for s in self.limiter.peek(api_key, endpoint).windows}
            limits = self.limiter.limits_for(api_key, endpoint)
            stats[json.dumps([base, action])] = {
                window: {
                    "limit": limits.get(window),
                    "consumed": state[window].usage if window in state else 0,
                    "left_over": state[window].left if window in state else None,
                }
                for window in ("day", "hour", "minute")
            }
        return stats

    def _has_credits(self, api_key: ApiKey) -> bool:
        """Whether the team may still spend credits; Apollo's answer when it may not (a setting)."""
        if self.keys.team_credits(api_key.team) is None:
            return True  # unlimited: no need to read what the team spent
        left = self.ledger.balance(api_key.team).left
        return left is None or left > 0 or self._out_of_credits()

    def _out_of_credits(self) -> bool:
        """Apollo's answer to a team without the credits a call needs: 422, or (a setting) no match."""
        if self.config.out_of_credits == "no_match":
            return False
        raise OutOfCredits()

    def _spend(self, api_key: ApiKey, amount: float, receipt: Receipt | None) -> bool:
        """Check and charge the team's credits in one step, noting it on the receipt; False when short."""
        if not self.ledger.spend(api_key.team, amount):
            return self._out_of_credits()
        if receipt is not None and amount > 0:
            receipt.credits += amount
            receipt.team = api_key.team
        return True

    def charge(self, api_key: ApiKey, amount: float, receipt: Receipt | None) -> bool:
        """Charge `amount` credits (at the key's price) for records delivered; False (or 422) when short."""
        return self._has_credits(api_key) and self._spend(api_key, _cost(api_key, 1, amount), receipt)

    def refund(self, receipt: Receipt) -> None:
        """Give back what a request was charged: its answer ended in a 5xx, so nothing was delivered."""
        if receipt.team is not None and receipt.credits > 0:
            self.ledger.refund(receipt.team, receipt.credits)
            receipt.credits = 0.0

    def reset(self) -> None:
        """Back to a freshly started emulator."""
        self.store.reset()
        self.directory.reset()
        self.search.reset()
        self.clock.reset()

    def _encoded(self, person: Person, team: str, reveal_personal_emails: bool) -> Encoded:
        """The person as `team` sees it (its contact and account spliced in), encoded."""
        members = self.directory.team_members(person, team)
        if members is not None and not reveal_personal_emails:
            return Spliced(person, members)  # `encoded`'s answer, without its keywords
        if members is None:
            extra = self.directory.team_keys(person, team)
            return encoded(person, reveal_personal_emails=reveal_personal_emails, extra=extra)
        return encoded(person, reveal_personal_emails=reveal_personal_emails, members=members)

    def _find_identity(self, identity: Identity, outcome: Outcome | None) -> Person | None:
        """The person an identity means; none under a forced no_match."""
        if _forced(outcome) in (OutcomeName.NO_MATCH, OutcomeName.STUB_NO_MATCH):
            return None
        return self.directory.find(identity)

    def _find(
        self, query: MatchQuery, outcome: Outcome | None = None, resolved: Identity | None = UNRESOLVED
    ) -> Person | None:
        """The person a query means (`resolved` when parsing worked it out), bent by a forced outcome."""
        forced = outcome.name if outcome is not None else None
        if forced in (OutcomeName.NO_MATCH, OutcomeName.STUB_NO_MATCH):
            return None
        identity = _resolve(query) if resolved is UNRESOLVED else resolved
        if forced is OutcomeName.PARTIAL:
            local = identity.value.partition("@")[0] if identity is not None else _stand_in(query)
            return self.directory.find(Identity("email", f"{local}@partial.test"))
        person = None if identity is None else self.directory.find(identity)
        if person is None and forced is OutcomeName.MATCH:
            return self.directory.find(Identity("email", f"{_stand_in(query)}@{MATCH_SCENARIO_DOMAIN}"))
        return person

    def _require_webhook(self, options: Options) -> None:
        if not (options.reveal_phone_number or options.waterfall):
            return  # nothing is delivered later: no URL needed, none checked
        if options.webhook_url is not None:
            # Apollo checks only the URL's form (docs/apollo-facts.md 2.3): any host is accepted here. A host
            # off the allowlist is never contacted; its delivery is recorded as failed, with why.
            return
        status = self.config.webhook_url_error_status
        for flag in DELIVERY_FLAGS:
            if getattr(options, flag):
                raise WebhookUrlRequired(flag, status)

    def _next_request_id(self) -> int:
        """A signed 64-bit id, often negative like Apollo's (docs/apollo-facts.md 2.1).

        Keyed by a secret drawn at start, so another caller cannot work out ids it never saw;
        reproducible only when a request-id seed was asked for (`--seed`).
        """
        sequence = int(self.store.incr("request_id_sequence"))
        mac = self._request_ids.copy()
        mac.update(b"request:%d" % sequence)
        return int.from_bytes(mac.digest(), "big", signed=True)

    def close(self) -> None:
        """Stop the webhook dispatcher and close the store; pending deliveries stay in it."""
        self.webhooks.stop()
        self.store.close()


# `resolve` of the queries met last (a pure function; a refusal is raised again each time).
_resolve = functools.lru_cache(maxsize=4_096)(resolve)


def _cost(api_key: ApiKey, records: int, credits: float) -> float:
    """What `records` found cost this key's team: whole credits, or fractional at a plan's price."""
    cost = records * credits * api_key.credit_price
    return int(cost) if cost == int(cost) else round(cost, 4)


def _enrichment_id(request_id: int) -> str:
    """The 24-hex id of a bulk phone enrichment, fixed by its request's id (never all digits)."""
    text = hashlib.sha256(b"phone-enrichment:%d" % request_id).hexdigest()[:24]
    return text if not text.isdigit() else "a" + text[1:]


def _forced(outcome: Outcome | None) -> OutcomeName | None:
    """The forced outcome's name, if any."""
    return outcome.name if outcome is not None else None


def _stand_in(query: MatchQuery) -> str:
    """A stable local part for a person a forced outcome has to invent for this query."""
    text = "|".join(str(v) for v in query)
    return "person." + hashlib.sha256(text.encode()).hexdigest()[:10]


# What forced error outcomes answer: Apollo's documented bodies, or a gateway's for the 5xx.
def _raise_forced(outcome: OutcomeName, endpoint: str) -> None:
    """Raise the error a forced outcome stands for."""
    if outcome is OutcomeName.INVALID_REQUEST:
        if endpoint.endswith("bulk_match"):
            # docs/apollo-facts.md 2.6: OAS 422 for bulk_match, a Ruby error leaking through.
            raise BulkFailed(422, "UNKNOWN_ERROR", "no implicit conversion of Symbol into Integer")
        # docs/apollo-facts.md 2.6: docs errors table, "Parameters misconfigured - Not a valid ID".
        raise Unprocessable("Parameters misconfigured - Not a valid ID")
    if outcome is OutcomeName.SERVER_ERROR:
        raise GatewayError(500, {"error": "Internal Server Error"})
    if outcome is OutcomeName.BAD_GATEWAY:
        raise GatewayError(502, _gateway_page(502, "Bad Gateway"), "text/html; charset=utf-8")
    if outcome is OutcomeName.SERVICE_UNAVAILABLE:
        raise GatewayError(
            503,
            _gateway_page(503, "Service Temporarily Unavailable"),
            "text/html; charset=utf-8",
            {"Retry-After": "30"},
        )


def _gateway_page(status: int, reason: str) -> str:
    """The small HTML page a load balancer answers with when the app behind it fails."""
    return (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
    )
