"""The control API under /__admin/: reset, journal, clock and scenarios, JSON in and out."""

from __future__ import annotations

import hmac
import math
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, request

from mock_server.domain.clock import (
    LATEST,
    MAX_ADVANCE_SECONDS,
    Clock,
    ClockOutOfRange,
    check_timestamp,
    parse_instant,
    window,
)
from mock_server.domain.encoding import dumps
from mock_server.domain.errors import AdminUnauthorized, ControlNotFound, InvalidControlRequest
from mock_server.domain.journal import mask_secret, shown_entry, shown_fingerprint
from mock_server.domain.keys import key_from_entry
from mock_server.domain.scenarios import scenario_from_document
from mock_server.domain.webhooks.transport import DELIVERY_MARKER
from mock_server.web import journaling
from mock_server.web.render import JSON_TYPE, enrichment, json_response, read_body
from mock_server.web.sameorigin import CrossSiteRefused, SitePolicy

SITE_EXTENSION = "fakeapollo.site"
#: Scenarios one `POST /__admin/keys` may queue for the key it adds.
MAX_KEY_SCENARIOS = 20


def site_policy() -> SitePolicy:
    """The app's Host rules: its bind address, IP addresses, localhost and `--allowed-hosts`."""
    policy = current_app.extensions.get(SITE_EXTENSION)
    if policy is None:
        config = enrichment().config
        policy = current_app.extensions.setdefault(
            SITE_EXTENSION, SitePolicy.for_server(config.host, config.allowed_hosts)
        )
    assert isinstance(policy, SitePolicy)
    return policy


def protect(bp: Blueprint, admin_token: str | None) -> None:
    """Guard every route of `bp`: no webhook delivery, no other site's request, then the admin token.

    A webhook delivery (marked by DELIVERY_MARKER, from this or any fakeapollo) is refused, so a
    webhook_url aimed at a control API changes nothing; requests another site's page made the
    browser send are refused by mock_server/web/sameorigin.py; `Authorization: Bearer
    <admin_token>` is required when a token is set.
    """

    @bp.before_request
    def require_token() -> None:
        if DELIVERY_MARKER in request.headers:
            raise CrossSiteRefused("fakeapollo: a webhook delivery never reaches the control API")
        headers = {name.lower(): value for name, value in request.headers.items()}
        site_policy().check(request.method, headers, has_body=bool(request.content_length))
        if admin_token is None:
            return
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), admin_token):
            raise AdminUnauthorized()


def blueprint(admin_token: str | None) -> Blueprint:
    """The control API; every call needs `Authorization: Bearer <admin_token>` when one is set."""
    bp = Blueprint("admin", __name__, url_prefix="/__admin")
    protect(bp, admin_token)

    bp.add_url_rule("/reset", "reset", reset, methods=["POST"])
    bp.add_url_rule("/requests", "requests", list_requests, methods=["GET"])
    bp.add_url_rule("/requests", "clear_requests", clear_requests, methods=["DELETE"])
    bp.add_url_rule("/clock", "clock", show_clock, methods=["GET"])
    bp.add_url_rule("/clock", "set_clock", set_clock, methods=["POST"])
    bp.add_url_rule("/clock/advance", "advance_clock", advance_clock, methods=["POST"])
    bp.add_url_rule("/scenarios", "scenarios", list_scenarios, methods=["GET"])
    bp.add_url_rule("/scenarios", "add_scenario", add_scenario, methods=["POST"])
    bp.add_url_rule("/scenarios", "clear_scenarios", clear_scenarios, methods=["DELETE"])
    bp.add_url_rule("/scenarios/<scenario_id>", "remove_scenario", remove_scenario, methods=["DELETE"])
    bp.add_url_rule("/keys", "keys", list_keys, methods=["GET"])
    bp.add_url_rule("/keys", "add_key", put_key, methods=["POST"])
    bp.add_url_rule("/keys/<key>", "change_key", change_key, methods=["PUT", "PATCH"])
    bp.add_url_rule("/keys/<key>", "remove_key", remove_key, methods=["DELETE"])
    bp.add_url_rule("/usage", "usage", usage, methods=["GET"])
    return bp


def reset() -> Response:
    """Back to the freshly started state: journal, counters, deliveries, scenarios, clock."""
    started = time.perf_counter()
    enrichment().reset()
    return json_response({"reset": True, "duration_ms": round((time.perf_counter() - started) * 1000, 3)})


def list_requests() -> Response:
    """The journal, newest last, filtered; pages of `limit` going back from `cursor`, streamed.

    `limit` keeps the newest matching entries; `cursor` (an entry id, as `next_cursor` gives)
    keeps only those older than it. The answer is written one entry at a time, never built whole.
    """
    args = request.args
    since = args.get("since")
    journaling.flush(current_app.extensions)
    journal = enrichment().store.journal
    entries = journal.entries(
        path=args.get("path") or None,
        status=_int_arg("status"),
        api_key=args.get("api_key") or None,
        since=_instant(since, "since") if since else None,
    )
    cursor = _int_arg("cursor", low=1)
    if cursor is not None:
        entries = [e for e in entries if e.sequence < cursor]
    limit = _int_arg("limit", low=0)
    older = 0
    if limit is not None and len(entries) > limit:
        older = len(entries) - limit
        entries = entries[older:] if limit else []
    next_cursor = entries[0].sequence if older and entries else None
    usage = journal.usage().describe()
    # Read time, not request time: which keys the registry knows now, by their fingerprints.
    known = {journal.fingerprint(k.key) for k in enrichment().keys}

    def chunks() -> Iterator[bytes]:
        yield b'{"requests":['
        for index, entry in enumerate(entries):
            yield (b"," if index else b"") + shown_entry(entry, Clock.iso, known)
        yield b'],"next_cursor":' + dumps(next_cursor) + b',"journal":' + dumps(usage) + b"}"

    return Response(chunks(), content_type=JSON_TYPE)


def clear_requests() -> Response:
    """Empty the journal."""
    journaling.flush(current_app.extensions)
    enrichment().store.journal.clear()
    return json_response({"requests": []})


def _clock_state() -> dict[str, Any]:
    clock = enrichment().clock
    return {"now": Clock.iso(clock.now()), "frozen": clock.frozen}


def show_clock() -> Response:
    """`{"now": ISO-8601, "frozen": bool}`."""
    return json_response(_clock_state())


def set_clock() -> Response:
    """Freeze or unfreeze the clock (`{"freeze": bool}`) and/or jump to `{"now": ISO-8601}`."""
    body = read_body()
    clock = enrichment().clock
    if not {"freeze", "now"} & body.keys():
        raise InvalidControlRequest('Send {"freeze": true|false} and/or {"now": "<ISO-8601>"}')
    freeze = body.get("freeze")
    if "freeze" in body and not isinstance(freeze, bool):
        raise InvalidControlRequest("'freeze' must be true or false")
    target = _instant(body["now"], "now") if "now" in body else None
    if target is not None:
        try:
            check_timestamp(target.timestamp())
        except ClockOutOfRange as exc:
            raise InvalidControlRequest(
                f"'now' must be an instant from {window()}, got {body['now']!r}"
            ) from exc
    if freeze is True:
        clock.freeze()
    elif freeze is False:
        clock.unfreeze()
    if target is not None:
        clock.set(target)
    return json_response(_clock_state())


def advance_clock() -> Response:
    """Move the clock forward by `{"seconds": N}`; what falls due runs before this returns."""
    seconds = read_body().get("seconds")
    problem = f"'seconds' must be a finite number from 0 to {MAX_ADVANCE_SECONDS} (ten years)"
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise InvalidControlRequest(problem)
    try:
        value = float(seconds)
    except OverflowError as exc:  # an integer too large for a float
        raise InvalidControlRequest(problem) from exc
    if not (math.isfinite(value) and 0 <= value <= MAX_ADVANCE_SECONDS):
        raise InvalidControlRequest(problem)
    try:
        enrichment().clock.advance(value)
    except ClockOutOfRange as exc:
        raise InvalidControlRequest(
            f"'seconds' would move the clock past {Clock.iso(LATEST)}: {exc}"
        ) from exc
    return json_response(_clock_state())


def list_scenarios() -> Response:
    """Every queued scenario, oldest first."""
    scenarios = enrichment().store.scenarios.list()
    return json_response({"scenarios": [s.describe(mask_secret) for s in scenarios]})


def add_scenario() -> Response:
    """Queue a scenario; answers it with its `id`."""
    scenario = enrichment().store.scenarios.add(read_body())
    return json_response(scenario.describe(mask_secret), 201)


def remove_scenario(scenario_id: str) -> Response:
    """Delete one scenario."""
    if not enrichment().store.scenarios.remove(scenario_id):
        raise ControlNotFound(f"No scenario with id {scenario_id!r}")
    return json_response({"deleted": scenario_id})


def clear_scenarios() -> Response:
    """Delete every scenario."""
    enrichment().store.scenarios.clear()
    return json_response({"scenarios": []})


def _int_arg(name: str, low: int | None = None) -> int | None:
    """An integer query argument (at least `low`), None when absent; a 400 naming it otherwise."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw) if len(raw) <= 20 else None
    except ValueError:
        value = None
    if value is None or (low is not None and value < low):
        at_least = f" of at least {low}" if low is not None else ""
        raise InvalidControlRequest(f"'{name}' must be an integer{at_least}, got {raw[:40]!r}")
    return value


def _instant(raw: Any, name: str) -> Any:
    if not isinstance(raw, str):
        raise InvalidControlRequest(f"'{name}' must be an ISO-8601 instant")
    try:
        return parse_instant(raw)
    except ValueError as exc:
        raise InvalidControlRequest(f"'{name}' must be an ISO-8601 instant, got {raw!r}") from exc


def list_keys() -> Response:
    """Every registered key (masked, beside its fingerprint's start): team, plan, credits, scopes, limits."""
    service = enrichment()
    fingerprint = service.store.journal.fingerprint
    return json_response(
        {
            "keys": [
                {**k.describe(mask_secret), "fingerprint": shown_fingerprint(fingerprint(k.key))}
                for k in service.keys
            ]
        }
    )


def put_key() -> Response:
    """Add a key; 409 when it exists (PATCH changes one).

    With `scenarios`, also queue those scenarios for the new key only, in the same call: each is
    checked before anything changes, and the answer lists their ids (not their bodies).
    """
    body = read_body()
    service = enrichment()
    if "scenarios" not in body:
        return json_response(service.keys.add(body).describe(mask_secret), 201)
    scenarios = body.pop("scenarios")
    if not isinstance(body.get("key"), str):
        key_from_entry(body)  # the 400 naming what is wrong with the key
    documents = _scenarios_for_key(scenarios, body["key"])
    key = service.keys.add(body)
    ids = [service.store.scenarios.add(document).id for document in documents]
    return json_response({**key.describe(mask_secret), "scenarios": ids}, 201)


def _scenarios_for_key(documents: Any, key: str) -> list[dict[str, Any]]:
    """The scenarios a new key comes with, bound to it; a 400 naming the first that is not valid."""
    if not isinstance(documents, list) or len(documents) > MAX_KEY_SCENARIOS:
        raise InvalidControlRequest(f"'scenarios' must be a list of at most {MAX_KEY_SCENARIOS} scenarios")
    bound = []
    for index, document in enumerate(documents):
        where = f"'scenarios[{index}]'"
        match = (document.get("match") or {}) if isinstance(document, dict) else None
        if not isinstance(match, dict):
            raise InvalidControlRequest(f"{where} must be a scenario object, its 'match' an object")
        if match.get("api_key") not in (None, key):
            raise InvalidControlRequest(f"{where}: 'match.api_key' must be the key added, or left out")
        document = {**document, "match": {**match, "api_key": key}}
        try:
            scenario_from_document(document, "")
        except InvalidControlRequest as exc:
            problem = exc.body if isinstance(exc.body, dict) else {"error": str(exc)}
            raise InvalidControlRequest(
                f"{where}: {problem.get('error')}",
                **{k: v for k, v in problem.items() if k != "error"},
            ) from exc
        bound.append(document)
    return bound


def change_key(key: str) -> Response:
    """Change some fields of a key: team, plan, credits, scopes, limits."""
    registry = enrichment().keys
    current = registry.get(key)
    if current is None:
        raise ControlNotFound("No such key")
    changes = read_body()
    if "key" in changes and changes["key"] != key:
        raise InvalidControlRequest("A key's value cannot be changed; remove it and add another")
    entry = {**current.entry(), **changes, "key": key}
    if entry.get("limits") is None:
        entry.pop("limits", None)
    return json_response(registry.put(entry).describe(mask_secret))


def remove_key(key: str) -> Response:
    """Remove a key; with `?scenarios=true`, the scenarios queued for it alone go too."""
    flag = request.args.get("scenarios", "false")
    if flag not in ("true", "false"):
        raise InvalidControlRequest(f"'scenarios' must be true or false, got {flag[:40]!r}")
    service = enrichment()
    if not service.keys.remove(key):
        raise ControlNotFound("No such key")
    answer: dict[str, Any] = {"deleted": mask_secret(key)}
    if flag == "true":
        book = service.store.scenarios
        answer["scenarios"] = [s.id for s in book.list() if s.api_key == key and book.remove(s.id)]
    return json_response(answer)


def usage() -> Response:
    """Credits spent and left per team, and each team's keys (masked)."""
    service = enrichment()
    teams = []
    for balance, by_reason in service.ledger.statement(("match", "phone")):
        teams.append(
            {
                "team": balance.team,
                "keys": [mask_secret(k.key) for k in service.keys if k.team == balance.team],
                "credits": {
                    "granted": balance.granted,
                    "spent": balance.spent,
                    "left": balance.left,
                    "by_reason": by_reason,
                },
            }
        )
    return json_response({"teams": teams})
