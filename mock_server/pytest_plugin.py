"""pytest fixtures that run fakeapollo for a test suite: a live server and a per-test handle."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pytest

from mock_server.web.live import LiveServer, start_live_server

if TYPE_CHECKING:
    import httpx

    from mock_server.config import Config
    from mock_server.domain.service import Enrichment

DEFAULT_API_KEY = "test-key"
# Marks a test whose emulator may answer a 5xx that no scenario forced (the teardown check skips it).
ALLOW_5XX_MARKER = "fakeapollo_allow_5xx"
# Options naming a file or folder: given as str or Path, kept as Path.
_PATH_OPTIONS = frozenset({"fixtures", "keys", "state_file"})


def pytest_configure(config: pytest.Config) -> None:
    """Register the plugin's marker, so `--strict-markers` suites may use it."""
    config.addinivalue_line(
        "markers",
        f"{ALLOW_5XX_MARKER}: the fakeapollo fixture does not fail the test for 5xx answers "
        "that no scenario forced",
    )


def config_from_options(options: Mapping[str, Any]) -> Config:
    """The emulator's settings from `fakeapollo_options`: `Config` field names, as `serve` takes them.

    pytest.UsageError naming a setting that does not exist (with the closest one) or a bad value.
    """
    from mock_server.config import SETTINGS, Config, SettingError, closest_setting, with_request_id_seed

    for name in sorted(set(options) - SETTINGS.keys()):
        close = closest_setting(name)
        hint = f"did you mean {close!r}? " if close else ""
        raise pytest.UsageError(
            f"fakeapollo_options: {name!r} is not a setting; {hint}valid: {', '.join(SETTINGS)}"
        )
    values = dict(options)
    for name in _PATH_OPTIONS & values.keys():
        if values[name] is not None:
            values[name] = Path(values[name])
    if isinstance(values.get("webhook_allow"), list | tuple):
        values["webhook_allow"] = tuple(values["webhook_allow"])
    config = Config().with_overrides(**with_request_id_seed(values))
    try:
        config.check()
    except SettingError as exc:
        raise pytest.UsageError(f"fakeapollo_options: {exc}") from None
    return config


class FakeApollo:
    """A handle on the running emulator for one test: where it is, which key to use, its state."""

    def __init__(self, server: LiveServer, api_key: str = DEFAULT_API_KEY) -> None:
        self.url = server.url
        self.api_url = server.url + "/api/v1"
        self.api_key = api_key
        self.app = server.app
        self.server = server

    @property
    def service(self) -> Enrichment:
        """The in-process Enrichment service, for assertions without HTTP."""
        service: Enrichment = self.app.extensions["fakeapollo"]
        return service

    def reset(self) -> None:
        """Back to a freshly started emulator: journal, counters, deliveries, scenarios, clock."""
        self.service.reset()

    def client(self) -> httpx.Client:
        """A synchronous httpx client on the same emulator, in-process: no sockets, the same path.

        Requests go through the application the live server runs (routing, answer, faults,
        journal), so they answer, count and journal exactly as over HTTP; `x-api-key` is sent.
        """
        return self.server.client(self.api_key)

    def requests(
        self,
        *,
        path: str | None = None,
        status: int | None = None,
        api_key: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Journal entries, oldest first, as `GET /__admin/requests` shows them."""
        from mock_server.domain.clock import Clock
        from mock_server.web.journaling import flush

        flush(self.app.extensions)
        entries = self.service.store.journal.entries(
            path=path, status=status, api_key=api_key, since=since, limit=limit
        )
        return [entry.describe(Clock.iso) for entry in entries]

    def unforced_server_errors(self) -> list[dict[str, Any]]:
        """Journal entries answered with a 5xx that no scenario (queued or by header) asked for."""
        return [e for e in self.requests() if e["response"]["status"] >= 500 and e["scenario"] is None]

    @property
    def admin_token(self) -> str | None:
        """The token the control API wants (`Authorization: Bearer ...`), None when it wants none."""
        return self.service.config.admin_token

    def deliveries(self, *, request_id: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """Webhook deliveries with every attempt, oldest first, as `GET /__admin/webhooks` shows them."""
        return self.service.webhooks.deliveries(request_id=request_id, status=status)

    def flush(self) -> list[dict[str, Any]]:
        """Send every pending webhook now, whatever its due time; answers with all deliveries."""
        self.service.webhooks.flush()
        return self.deliveries()

    def clear_requests(self) -> None:
        """Empty the journal."""
        self.service.store.journal.clear()

    def scenario(
        self,
        outcome: str,
        *,
        path: str | None = None,
        api_key: str | None = None,
        match_params: Mapping[str, Any] | None = None,
        outcome_params: Mapping[str, Any] | None = None,
        times: int | None = None,
        after: int = 0,
    ) -> Scenario:
        """Queue a forced outcome; use the result as a context manager to remove it afterwards.

        `path`, `api_key` and `match_params` choose the requests it applies to; `outcome_params`
        tune the outcome itself (`outcome_params={"delay_ms": 300}` for `slow`).
        """
        document: dict[str, Any] = {
            "outcome": outcome,
            "match": {"path": path, "api_key": api_key, "params": dict(match_params or {})},
            "params": dict(outcome_params or {}),
            "after": after,
        }
        if times is not None:
            document["times"] = times
        scenario = self.service.store.scenarios.add(document)
        return Scenario(self, scenario.id)

    def now(self) -> datetime:
        """The emulator's clock."""
        return self.service.clock.now()

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward; everything that falls due runs before this returns."""
        self.service.clock.advance(seconds)
        return self.now()

    def freeze(self) -> datetime:
        """Stop the clock where it stands."""
        self.service.clock.freeze()
        return self.now()

    def unfreeze(self) -> datetime:
        """Let the clock run again."""
        self.service.clock.unfreeze()
        return self.now()


class Scenario:
    """A queued scenario; leaving its `with` block deletes it."""

    def __init__(self, owner: FakeApollo, scenario_id: str) -> None:
        self.owner = owner
        self.id = scenario_id

    def remove(self) -> None:
        """Delete the scenario (a no-op when it was used up)."""
        self.owner.service.store.scenarios.remove(self.id)

    def __enter__(self) -> Scenario:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.remove()


@pytest.fixture(scope="session")
def fakeapollo_options() -> dict[str, Any]:
    """Serve options for the session's emulator (seed, fixtures, keys, webhook_delay, admin_token, ...).

    Override this fixture in your conftest.py; the names are `fakeapollo serve`'s options in
    snake_case, e.g. `{"seed": 7, "fixtures": "tests/persons", "webhook_delay": "0"}`.
    """
    return {}


@pytest.fixture(scope="session")
def fakeapollo_server(fakeapollo_options: dict[str, Any]) -> Iterator[LiveServer]:
    """A live fakeapollo on a free loopback port, shared by the whole test session."""
    from mock_server.web.app import create_app

    try:
        config = config_from_options(fakeapollo_options)
    except pytest.UsageError as exc:
        # Stop the whole run once, as pytest does for a bad command line, instead of failing every test.
        pytest.exit(str(exc), returncode=pytest.ExitCode.USAGE_ERROR)
    server = start_live_server(create_app(config))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fakeapollo(fakeapollo_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[FakeApollo]:
    """The emulator for one test: `.url`, `.api_url`, `.api_key`; state is reset around the test.

    A 5xx answer that no scenario forced fails the test at teardown (an emulator bug, or input the
    emulator mishandled); mark the test `@pytest.mark.fakeapollo_allow_5xx` to allow it.
    """
    handle = FakeApollo(fakeapollo_server)
    handle.reset()
    yield handle
    unforced = handle.unforced_server_errors()
    handle.reset()
    if unforced and request.node.get_closest_marker(ALLOW_5XX_MARKER) is None:
        shown = "; ".join(
            f"{e['method']} {e['path']} -> {e['response']['status']} {e['response']['body']!r:.200}"
            for e in unforced
        )
        pytest.fail(f"fakeapollo answered {len(unforced)} unforced 5xx: {shown}", pytrace=False)
