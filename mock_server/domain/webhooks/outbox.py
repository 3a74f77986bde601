"""Webhook deliveries: the allowlist, the outbox in the store, the dispatcher, and poll lookups."""

from __future__ import annotations

import concurrent.futures
import json
import logging
import math
import random
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mock_server.config import Config
from mock_server.domain.clock import Clock
from mock_server.domain.credits import MOBILE_PHONE_CREDITS, Ledger
from mock_server.domain.errors import InvalidControlRequest, PollError, StoreUnavailable
from mock_server.domain.params import Options
from mock_server.domain.persons import Person
from mock_server.domain.scenarios import WEBHOOK_OUTCOMES, Outcome, OutcomeName
from mock_server.domain.store import Store
from mock_server.domain.webhooks.delivery import Attempt, Delivery, DeliveryChanges
from mock_server.domain.webhooks.payloads import (
    mobile_count,
    phone_payload,
    waterfall_mobiles,
    waterfall_payload,
)
from mock_server.domain.webhooks.transport import Allowlist, Answer, Refused, Target, post_json

log = logging.getLogger("fakeapollo.webhooks")

# How often the background dispatcher looks for due deliveries (real seconds).
POLL_INTERVAL = 0.1
# Deliveries claimed from the store at once.
BATCH = 100
# Signed 64-bit integers, as Apollo's request ids are (docs/apollo-facts.md 2.1).
_REQUEST_ID = re.compile(r"^-?[0-9]{1,19}$")
_INT64 = (-(2**63), 2**63 - 1)
# The kinds of delivery a request id can have, in the order a poll looks for them.
KINDS = ("waterfall", "phone")
USER_AGENT = "fakeapollo-webhooks/1"
# Why a delivery whose phone credits the team's grant no longer covers is not sent (our wording:
# Apollo documents no answer for it; docs/webhooks.md).
NO_CREDITS = "not delivered: the team's credits do not cover the phone numbers"


# The longest delay, a year: a `webhook_late` scenario may hold deliveries ten times the longest
# (docs/control-api.md: `delay_s` up to 315,360,000 seconds).
MAX_DELAY = 31_536_000


def parse_delay(text: str) -> tuple[float, float]:
    """A delay setting, `5` or `2-10` (seconds, at most MAX_DELAY), as (low, high); else ValueError."""
    problem = (
        f"--webhook-delay must be seconds from 0 to {MAX_DELAY} (a year) like 5, or a range like 2-10,"
        f" got {str(text)[:60]!r}"
    )
    low_text, sep, high_text = str(text).strip().partition("-")
    try:
        low = float(low_text)
        high = float(high_text) if sep else low
    except ValueError:
        raise ValueError(problem) from None
    if not (math.isfinite(low) and math.isfinite(high)) or low < 0 or high < low or high > MAX_DELAY:
        raise ValueError(problem)
    return low, high


@dataclass(frozen=True)
class Settings:
    """The webhook settings of one emulator, parsed from its Config."""

    delay: tuple[float, float]
    attempts: int
    timeout: float
    backoff: float
    duplicate_rate: float
    out_of_order: bool
    phone_request_id: bool
    concurrency: int
    retention_seconds: float

    @classmethod
    def from_config(cls, config: Config) -> Settings:
        """Settings from `config`; ValueError naming a bad one."""
        if config.webhook_attempts < 1:
            raise ValueError("webhook attempts must be at least 1")
        if config.webhook_timeout <= 0:
            raise ValueError("webhook timeout must be more than 0 seconds")
        if not 0 <= config.webhook_duplicate_rate <= 1:
            raise ValueError("webhook duplicate rate must be between 0 and 1")
        return cls(
            delay=parse_delay(config.webhook_delay),
            attempts=config.webhook_attempts,
            timeout=config.webhook_timeout,
            backoff=max(config.webhook_backoff, 0.0),
            duplicate_rate=config.webhook_duplicate_rate,
            out_of_order=config.webhook_out_of_order,
            phone_request_id=config.webhook_phone_request_id,
            concurrency=max(config.webhook_concurrency, 1),
            retention_seconds=config.webhook_retention_days * 86_400,
        )


def _attempt_record(number: int, at: datetime, url: str, answer: Answer, duration: float) -> Attempt:
    """One attempt as /__admin/webhooks shows it."""
    return {
        "attempt": number,
        "at": Clock.iso(at),
        "url": url,
        "status": answer.status,
        "error": answer.error,
        "duration_ms": round(duration * 1000, 3),
    }


def parse_request_id(text: str) -> int:
    """A poll's request id: a signed 64-bit integer, else Apollo's 400 `invalid_request_id`."""
    if not _REQUEST_ID.match(text):
        raise PollError(400, "invalid_request_id")
    value = int(text)
    if not _INT64[0] <= value <= _INT64[1]:
        raise PollError(400, "invalid_request_id")
    return value


class Webhooks:
    """The outbox (deliveries kept in the store) and the dispatcher that sends what falls due."""

    def __init__(self, config: Config, clock: Clock, store: Store, ledger: Ledger) -> None:
        self.config = config
        self.settings = Settings.from_config(config)
        self.allowlist = Allowlist(config.webhook_allow)
        self.clock = clock
        self.store = store
        self.ledger = ledger
        self._run_lock = threading.Lock()
        self._thread_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    # ----------------------------------------------------------------------------- request time

    def listening_on(self, host: str, port: int) -> None:
        """Where the emulator itself listens: deliveries there are refused (and recorded as failed)."""
        self.allowlist.refuse_own(host, port)

    def record(
        self,
        *,
        team: str,
        options: Options,
        request_id: int,
        people: Sequence[Person],
        requested: int,
        outcome: Outcome | None = None,
    ) -> Delivery | None:
        """Put the delivery a request asked for in the outbox; it is sent when it falls due."""
        if options.webhook_url is None or not people:
            return None
        if options.waterfall:
            kind = "waterfall"
            payload = waterfall_payload(
                people,
                requested,
                request_id,
                run_waterfall_email=options.run_waterfall_email,
                run_waterfall_phone=options.run_waterfall_phone,
                initiated=self.clock.now(),
            )
            mobiles = waterfall_mobiles(payload)
        elif options.reveal_phone_number:
            kind = "phone"
            payload = phone_payload(people, requested, request_id if self.settings.phone_request_id else None)
            mobiles = mobile_count(people)
        else:
            return None
        rng = random.Random(f"{self.config.seed}:webhook:{request_id}:{kind}")
        low, high = self.settings.delay
        delay = rng.uniform(low, high)
        if self.settings.out_of_order:
            delay += rng.uniform(0, max(high, 1.0))
        forced = outcome.name if outcome is not None else None
        if forced is OutcomeName.WEBHOOK_LATE and outcome is not None:
            # Far later than any configured delay, or `delay_s` seconds.
            delay = outcome.number("delay_s", max(10 * high, 30.0))
        if not math.isfinite(delay):
            # A due time that is not a number would make the delivery unpollable for good.
            raise InvalidControlRequest("Scenario parameter 'delay_s' must be a finite number of seconds")
        duplicate = forced is OutcomeName.WEBHOOK_DUPLICATE or rng.random() < self.settings.duplicate_rate
        now = self.clock.timestamp()
        delivery = Delivery(
            id=f"{request_id}:{kind}",
            request_id=request_id,
            request_type=kind,
            webhook_url=options.webhook_url,
            team=team,
            person_ids=[p.id for p in people],
            payload=payload,
            phone_credits=MOBILE_PHONE_CREDITS * mobiles,
            sequence=int(self.store.incr("webhook_sequence")),
            created_at=Clock.iso(self.clock.now()),
            due_at=now + delay,
            status="pending",
            max_attempts=self.settings.attempts,
            attempts=[],
            copies=2 if duplicate else 1,
            drop=forced is OutcomeName.WEBHOOK_NEVER,
            scenario=forced.value if forced is not None and forced in WEBHOOK_OUTCOMES else None,
            charged=False,
            last_dispatched_at=None,
            completed_at=None,
            completed_ts=None,
            failure_reason=None,
        )
        self.store.add_delivery(delivery)
        self._ensure_thread()
        return delivery

    # ------------------------------------------------------------------------------ dispatching

    def start(self) -> None:
        """Recover deliveries a crash left in flight and start sending what is pending."""
        requeued = self.store.requeue_in_flight()
        if requeued:
            log.warning("requeued %d webhook deliveries left in flight", requeued)
        if any(d.status == "pending" for d in self.store.deliveries()):
            self._ensure_thread()

    def on_clock(self, now: datetime) -> None:
        """Clock listener: send everything the advance made due before the advance returns."""
        try:
            self.run_due()
        except Exception:  # a listener must never break the clock's caller
            log.exception("webhook dispatch after a clock change failed")

    def run_due(self, now: float | None = None) -> int:
        """Send every delivery due by `now` (default: the clock), again until none is due; how many."""
        sent = 0
        while not self._stopping.is_set():
            with self._run_lock:
                stamp = self.clock.timestamp() if now is None else now
                batch = self.store.claim_due_deliveries(stamp, BATCH)
                if not batch:
                    return sent
                self._dispatch(batch)
            sent += len(batch)
        return sent

    def flush(self) -> int:
        """Send everything pending now, whatever its due time; how many attempts were made."""
        now = self.clock.timestamp()
        for delivery in self.store.deliveries():
            if delivery.status == "pending" and delivery.due_at > now:
                self.store.update_delivery(delivery.id, {"due_at": now})
        return self.run_due(now)

    def _dispatch(self, batch: list[Delivery]) -> None:
        """Send one claimed batch: in due order (newest first when out of order), one queue per URL."""
        batch.sort(key=lambda d: (d.due_at, d.sequence))
        if self.settings.out_of_order:
            batch.sort(key=lambda d: d.sequence, reverse=True)
        queues: dict[str, list[Delivery]] = {}
        for delivery in batch:
            queues.setdefault(delivery.webhook_url, []).append(delivery)
        if len(queues) == 1:
            self._send_queue(batch)
            return
        pool = self._executor()
        futures = [pool.submit(self._send_queue, queue) for queue in queues.values()]
        concurrent.futures.wait(futures)

    def _send_queue(self, queue: list[Delivery]) -> None:
        for delivery in queue:
            try:
                self._attempt(delivery)
            except Exception:
                # Never leave it in flight (or pending and due, which would loop): fail it.
                log.exception("webhook delivery %s failed unexpectedly", delivery.id)
                changes: DeliveryChanges = {
                    "status": "failed",
                    "failure_reason": "Webhook error: internal error",
                }
                self._complete(changes)
                self.store.update_delivery(delivery.id, changes)

    def _attempt(self, delivery: Delivery) -> None:
        """One attempt at one delivery, and what follows from its answer.

        Its phone credits are checked against the team's grant and charged before it is sent (one
        atomic step); given back when the attempt fails. A team short of them gets nothing sent.
        """
        reserved = 0.0 if delivery.charged else delivery.phone_credits
        if not self.ledger.spend(delivery.team, reserved, "phone"):
            changes: DeliveryChanges = {"status": "failed", "failure_reason": NO_CREDITS}
            self._complete(changes)
            self.store.update_delivery(delivery.id, changes)
            return
        try:
            delivered = self._send(delivery)
        except BaseException:
            self.ledger.refund(delivery.team, reserved, "phone")
            raise
        if not delivered:
            self.ledger.refund(delivery.team, reserved, "phone")

    def _send(self, delivery: Delivery) -> bool:
        """POST a delivery (its duplicate too) and record what happened; whether it was delivered."""
        url = delivery.webhook_url
        payload = delivery.payload
        if delivery.request_type == "waterfall" and payload.get("request_completed") is None:
            payload = {**payload, "request_completed": Clock.iso(self.clock.now())}
        attempts = list(delivery.attempts)
        number = len(attempts) + 1
        at = self.clock.now()
        dropped = delivery.drop  # webhook_never: "sent" but lost on the way
        refused = False
        target: Target | None = None
        if dropped:
            answer, duration = Answer(None, None), 0.0
        else:
            try:
                # Resolved and checked now, and the POST connects to the very addresses checked.
                target = self.allowlist.target(url)
            except Refused as exc:
                refused = True
                answer, duration = Answer(None, f"not delivered: {exc}"), 0.0
            else:
                answer, duration = self._post(delivery, payload, number, target)
        attempt = _attempt_record(number, at, url, answer, duration)
        if dropped:
            attempt["dropped"] = True
        attempts.append(attempt)
        changes: DeliveryChanges = {
            "attempts": attempts,
            "payload": payload,
            "last_dispatched_at": Clock.iso(at),
        }
        if answer.ok or dropped:
            if delivery.copies > 1 and target is not None:
                sent_at = self.clock.now()
                again, again_duration = self._post(delivery, payload, number, target)
                attempts.append(
                    {**_attempt_record(number, sent_at, url, again, again_duration), "duplicate": True}
                )
            changes.update({"status": "delivered", "failure_reason": None, "charged": True})
            self._complete(changes)
        elif refused or number >= delivery.max_attempts:
            changes.update({"status": "failed", "failure_reason": answer.reason})
            self._complete(changes)
        else:
            changes.update(
                {
                    "status": "pending",
                    "failure_reason": answer.reason,
                    "due_at": delivery.due_at + self.settings.backoff * 2 ** (number - 1),
                }
            )
        self.store.update_delivery(delivery.id, changes)
        return changes.get("status") == "delivered"

    def _complete(self, changes: DeliveryChanges) -> None:
        changes["completed_at"] = Clock.iso(self.clock.now())
        changes["completed_ts"] = self.clock.timestamp()

    def _post(self, delivery: Delivery, payload: Any, number: int, target: Target) -> tuple[Answer, float]:
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Fakeapollo-Request-Id": str(delivery.request_id),
            "X-Fakeapollo-Attempt": str(number),
        }
        started = time.perf_counter()
        answer = post_json(delivery.webhook_url, body, headers, self.settings.timeout, target)
        return answer, time.perf_counter() - started

    def _executor(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._thread_lock:
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    self.settings.concurrency, "fakeapollo-webhook"
                )
            return self._pool

    def _ensure_thread(self) -> None:
        """Start the background dispatcher once, the first time there is something to send."""
        with self._thread_lock:
            if self._thread is not None or self._stopping.is_set():
                return
            self._thread = threading.Thread(target=self._loop, name="fakeapollo-dispatcher", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.wait(POLL_INTERVAL):
            try:
                self.run_due()
            except StoreUnavailable:
                pass  # logged by the store once per outage; the next pass tries again
            except Exception:
                log.exception("webhook dispatcher pass failed")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the dispatcher thread and the send pool; pending deliveries stay in the store."""
        self._stopping.set()
        with self._thread_lock:
            thread, pool = self._thread, self._pool
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        self.allowlist.close()

    # ------------------------------------------------------------------------------ poll lookup

    def find(self, request_id: int) -> Delivery | None:
        """The delivery of a request id (waterfall first), or None."""
        for kind in KINDS:
            found = self.store.get_delivery(f"{request_id}:{kind}")
            if found is not None:
                return found
        return None

    def poll(self, raw_request_id: str, team: str) -> dict[str, Any]:
        """Poll Webhook Result (docs/apollo-facts.md 2.8, 4.5) for `team`: the wrapper, or 400/404/410.

        Another team's request id answers exactly as an unknown one: nothing tells it exists.
        """
        request_id = parse_request_id(raw_request_id)
        delivery = self.find(request_id)
        if delivery is None or delivery.team != team:
            raise PollError(404, "request_id_unknown")
        now = self.clock.timestamp()
        status = delivery.status
        if not delivery.finished:
            wait = delivery.due_at - now if status == "pending" else 1.0
            raise PollError(404, "result_pending", retry_after_seconds=max(1, math.ceil(wait)))
        completed = delivery.completed_ts or now
        if now >= completed + self.settings.retention_seconds:
            raise PollError(410, "request_id_expired")
        return {
            "request_id": str(request_id),
            "webhook_status": "success" if status == "delivered" else "failed",
            "request_type": delivery.request_type,
            "last_dispatched_at": delivery.last_dispatched_at,
            "failure_reason": delivery.failure_reason if status == "failed" else None,
            "webhook_result": delivery.payload,
        }

    def deliveries(self, request_id: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """Recorded deliveries as JSON documents, oldest first, optionally for one request id or status."""
        found = self.store.deliveries()
        if request_id is not None:
            found = [d for d in found if str(d.request_id) == request_id]
        if status is not None:
            found = [d for d in found if d.status == status]
        return [d.document() for d in sorted(found, key=lambda d: d.sequence)]
