"""Builds the emulator's state and service from a Config, without any web framework.

`create_app` wraps the service in the Flask app of the control API; `fakeapollo serve` on the
in-memory store answers Apollo's operations with the service alone and builds that Flask app only
when a request needs it (Flask's import was about two thirds of start-up, bench/README.md).
"""

from __future__ import annotations

from mock_server.config import Config
from mock_server.domain import data
from mock_server.domain.clock import Clock
from mock_server.domain.directory import PersonDirectory
from mock_server.domain.keys import KeyRegistry, load_registry
from mock_server.domain.service import Enrichment
from mock_server.domain.store import MemoryStore, Store


def build_service(config: Config) -> Enrichment:
    """The store, key registry, directory, clock and service for `config`, webhooks dispatching."""
    store = build_store(config)
    # The shipped registry is checked by the tests, a --keys file here (see keys.load_registry).
    registry = load_registry(config.keys)
    keys = KeyRegistry.from_document(registry, store, checked=config.keys is not None)
    directory = PersonDirectory(
        config.seed,
        data.load_served_persons(config.fixtures, bundled=config.bundled_fixtures),
        cache_size=config.person_cache_size,
        aliases=store.alias_map(),
        replay_key=data.load_replay_key(config.fixtures, config.scrub_key_file),
        thin_share=config.thin_share,
    )
    clock = Clock(state=store.clock_state)
    service = Enrichment(config, clock, store, keys, directory)
    # Deliveries fall due by the clock: an advance sends them before it returns. `service.close()`
    # stops the dispatcher; deliveries a crash left in flight are requeued here.
    clock.subscribe(service.webhooks.on_clock)
    service.webhooks.start()
    return service


def build_store(config: Config) -> Store:
    """The in-memory store; the Redis one for `--store redis://...`; the SQLite one for a state file."""
    if config.store is not None:
        from mock_server.stores.redis_store import RedisStore

        return RedisStore(
            config.store,
            prefix=config.store_prefix,
            journal_size=config.journal_size,
            journal_bytes=config.journal_bytes,
            lease_seconds=config.store_lease,
        )
    if config.state_file is not None:
        from mock_server.stores.sqlite_store import SqliteStore

        return SqliteStore(
            config.state_file, journal_size=config.journal_size, journal_bytes=config.journal_bytes
        )
    return MemoryStore(journal_size=config.journal_size, journal_bytes=config.journal_bytes)
