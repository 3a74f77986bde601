"""The Redis store's clock state and queued scenarios: changed through the Mirror, read from its copies."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import redis

from mock_server.domain.clock import Shifted, shifted
from mock_server.domain.scenarios import (
    Outcome,
    Scenario,
    scenario_from_document,
    scenario_from_json,
    scenario_to_json,
)
from mock_server.stores.redis_client import Health, Keys, guarded, text
from mock_server.stores.redis_mirror import Mirror


# Reads are guarded where they reach the server (`_read`): a copy the Mirror holds is served
# while the server is away, so a stall never refuses what needs no round trip.
@guarded("_read", "save", "shift")
class RedisClockState:
    """The clock's offset and frozen instant in one key, shared by every process (mirrored locally)."""

    def __init__(self, client: redis.Redis, keys: Keys, mirror: Mirror, health: Health) -> None:
        self.client = client
        self.mirror = mirror
        self.health = health
        self.key = keys("clock")

    def _read(self, client: Any = None) -> tuple[float, float | None] | None:
        raw = (client or self.client).get(self.key)
        if raw is None:
            return None
        offset, _, frozen_at = text(raw).partition(" ")
        return float(offset), None if frozen_at == "-" else float(frozen_at)

    @staticmethod
    def _format(offset: float, frozen_at: float | None) -> str:
        return f"{offset!r} {'-' if frozen_at is None else repr(frozen_at)}"

    def has_value(self) -> bool:
        """Whether a clock was stored before (another process's)."""
        return self.mirror.get("clock", self._read) is not None

    def load(self) -> tuple[float, float | None]:
        """The stored (offset, frozen_at)."""
        stored: tuple[float, float | None] | None = self.mirror.get("clock", self._read)
        return (0.0, None) if stored is None else stored

    def save(self, offset: float, frozen_at: float | None) -> None:
        """Store (offset, frozen_at); every process reads the new value once this returns."""
        text = self._format(offset, frozen_at)
        self.mirror.change(lambda pipe: pipe.set(self.key, text))

    def shift(self, seconds: float, check: Shifted) -> None:
        """Add `seconds` to the offset and the frozen instant: one WATCH/MULTI, retried on a conflict.

        Every process reads the new value once this returns.
        """
        nonce = uuid.uuid4().hex

        def attempt(pipe: Any) -> None:
            moved = shifted(self._read(pipe) or (0.0, None), seconds, check)
            pipe.multi()
            pipe.set(self.key, self._format(*moved))
            pipe.publish(self.mirror.channel, nonce)

        results: list[Any] = self.client.transaction(attempt, self.key)  # type: ignore[assignment]
        self.mirror.wait_for_acks(nonce, int(results[-1]))


@guarded("add", "list", "remove", "clear", "take")
class RedisScenarioBook:
    """Queued scenarios; taking one is an optimistic transaction (WATCH), retried on a conflict.

    Whether any scenario is queued is mirrored locally: the common case (none) costs no round trip.
    """

    def __init__(self, client: redis.Redis, keys: Keys, mirror: Mirror, health: Health) -> None:
        self.client = client
        self.mirror = mirror
        self.health = health
        self.key = keys("scenarios")
        self.order = keys("scenarios:order")
        self.counters = keys("counters")

    def _any(self) -> bool:
        return bool(self.mirror.get("scenarios", lambda: bool(self.client.exists(self.key))))

    def add(self, document: Any) -> Scenario:
        """Queue a scenario described by the control API's JSON."""
        scenario = scenario_from_document(document, "scn_0")  # a 400 before any number is used
        number = int(self.client.hincrby(self.counters, "scenario_sequence", 1))
        scenario.id = f"scn_{number}"

        def write(pipe: Any) -> None:
            pipe.hset(self.key, scenario.id, scenario_to_json(scenario))
            pipe.zadd(self.order, {scenario.id: number})

        self.mirror.change(write)
        return scenario

    def _read(self, pipe: Any) -> list[Scenario]:
        ids = [text(i) for i in pipe.zrange(self.order, 0, -1)]
        documents = pipe.hgetall(self.key)
        found = {text(k): v for k, v in documents.items()}
        return [scenario_from_json(found[i]) for i in ids if i in found]

    def list(self) -> list[Scenario]:
        """Every queued scenario, oldest first."""
        return self._read(self.client) if self._any() else []

    def remove(self, scenario_id: str) -> bool:
        """Delete one scenario; False when there is none with that id."""

        def write(pipe: Any) -> None:
            pipe.hdel(self.key, scenario_id)
            pipe.zrem(self.order, scenario_id)

        return bool(self.mirror.change(write)[0])

    def clear(self) -> None:
        """Delete every scenario."""

        def write(pipe: Any) -> None:
            pipe.delete(self.key, self.order)
            pipe.hdel(self.counters, "scenario_sequence")

        self.mirror.change(write)

    def take(self, path: str, api_key: str | None, params: Mapping[str, Any]) -> Outcome | None:
        """The outcome of the first scenario matching this request, using up one of its times."""
        if not self._any():
            return None  # the common case: nothing queued, no round trip
        chosen: list[Outcome] = []
        nonce = uuid.uuid4().hex

        def attempt(pipe: Any) -> None:
            chosen.clear()
            changed: list[Scenario] = []
            for scenario in self._read(pipe):
                if not scenario.matches(path, api_key, params):
                    continue
                applies = scenario.use()
                changed.append(scenario)
                if applies:
                    chosen.append(scenario.applied())
                    break
            pipe.multi()
            for scenario in changed:
                if scenario.used_up:
                    pipe.hdel(self.key, scenario.id)
                    pipe.zrem(self.order, scenario.id)
                else:
                    pipe.hset(self.key, scenario.id, scenario_to_json(scenario))
            pipe.publish(self.mirror.channel, nonce)

        results: list[Any] = self.client.transaction(attempt, self.key, self.order)  # type: ignore[assignment]
        self.mirror.wait_for_acks(nonce, int(results[-1]))
        return chosen[0] if chosen else None
