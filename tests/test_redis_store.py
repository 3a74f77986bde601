"""What only the Redis store does: leases on claimed deliveries, key prefixes, start-up checks."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
from conftest import StoreFactory, start_serve

from mock_server.cli import main
from mock_server.stores.redis_store import BLOCK, RedisStore
from tests.webhook_helpers import ids, stored_delivery


def wait_until(condition: Callable[[], object], timeout: float) -> object:
    """Poll `condition` (real time: leases run on the server's clock) until it is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    return condition()


def server_time(store: RedisStore) -> float:
    """The Redis server's clock (TIME), in seconds: the one claims' leases run on."""
    seconds, micros = store.client.time()  # type: ignore[misc]
    return float(seconds) + float(micros) / 1e6


def test_a_live_process_keeps_its_claims_past_the_lease(stores: StoreFactory) -> None:
    holder, other = stores(lease_seconds=2.0), stores(lease_seconds=2.0)
    holder.add_delivery(stored_delivery("d"))
    assert ids(holder.claim_due_deliveries(1.0, 10)) == ["d"]
    time.sleep(3.0)  # one lease and a half: the holder's renewer keeps extending it
    assert other.requeue_in_flight() == 0
    assert other.claim_due_deliveries(1.0, 10) == []
    assert other.get_delivery("d") == stored_delivery("d", "in_flight")


def test_a_dead_process_claims_go_to_another_after_the_lease(stores: StoreFactory) -> None:
    holder, other = stores(lease_seconds=5.0), stores(lease_seconds=5.0)
    holder.add_delivery(stored_delivery("d"))
    holder.claim_due_deliveries(1.0, 10)
    holder.close()  # stops renewing, as a killed process would
    expiry = float(other.client.zscore(other.keys.deliveries()[4], "d") or 0)  # a late renewal only delays it
    early = other.claim_due_deliveries(1.0, 10)
    # Not before the lease runs out, by the server's clock that leases run on: a try that ended
    # before the expiry found nothing (only a stall longer than the whole lease lets it find it).
    assert early == [] or server_time(other) >= expiry
    taken = early or wait_until(lambda: other.claim_due_deliveries(1.0, 10), timeout=20)
    assert taken == [stored_delivery("d", "in_flight")]
    other.update_delivery("d", {"status": "delivered"})
    assert other.claim_due_deliveries(1.0, 10) == []


def test_deployments_with_different_prefixes_share_nothing(stores: StoreFactory) -> None:
    staging = stores(prefix=f"staging-{uuid.uuid4().hex}")
    load_test = stores(prefix=f"load-{uuid.uuid4().hex}")
    staging.incr("credits:team", 5)
    staging.clock_state.save(60.0, None)
    staging.scenarios.add({"outcome": "no_match"})
    assert load_test.get("credits:team") == 0
    assert not load_test.clock_state.has_value()
    assert load_test.scenarios.list() == []
    load_test.incr("credits:team", 1)
    load_test.reset()
    assert staging.get("credits:team") == 5
    assert len(staging.scenarios.list()) == 1


def test_two_stores_on_one_prefix_share_the_clock_and_aliases(stores: StoreFactory) -> None:
    from mock_server.domain.matching import Identity

    first, second = stores(), stores()
    first.clock_state.save(120.5, 1_700_000_000.25)
    assert second.clock_state.load() == (120.5, 1_700_000_000.25)
    first.alias_map().put(42, Identity("email", "ada@example.com"), overwrite=False)
    assert second.alias_map().get(42) == Identity("email", "ada@example.com")
    aliases = second.alias_map()
    assert aliases.get(7) is None  # remembered as absent here
    aliases.put(7, Identity("linkedin", "http://www.linkedin.com/in/ada"), overwrite=False)
    assert aliases.get(7) == Identity("linkedin", "http://www.linkedin.com/in/ada")
    assert first.alias_map().get(7) == Identity("linkedin", "http://www.linkedin.com/in/ada")


def test_a_person_issued_by_one_process_is_the_same_person_in_another(stores: StoreFactory) -> None:
    from mock_server.domain.directory import PersonDirectory
    from mock_server.domain.matching import Identity

    first = PersonDirectory(3, [], aliases=stores().alias_map())
    url = "http://www.linkedin.com/in/grace-hopper-1906"
    by_link = first.find(Identity("linkedin", url))
    by_email = first.find(Identity("email", "ada.lovelace@analytical.example"))
    assert by_link is not None and by_email is not None and by_link.email is not None
    second = PersonDirectory(3, [], aliases=stores().alias_map())
    # The email of a person first found by LinkedIn URL is that person's alias: the other process
    # answers that person, not one generated from the email.
    found = second.find(Identity("email", by_link.email))
    assert found is not None and found.record == by_link.record
    for identity, person in (
        (Identity("id", by_link.id), by_link),
        (Identity("id", by_email.id), by_email),
        (Identity("linkedin", url), by_link),
        (Identity("email", "ada.lovelace@analytical.example"), by_email),
    ):
        found = second.find(identity)
        assert found is not None and found.record == person.record, identity
    assert second.find(Identity("id", "0123456789abcdef01234567")) is None


def test_serve_refuses_a_store_that_is_not_a_redis_url(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--store", "mysql://db/0"]) == 2
    assert "--store must be a redis://HOST:PORT/DB URL, got 'mysql://db/0'" in capsys.readouterr().err


def test_serve_refuses_two_stores_at_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--store", "redis://127.0.0.1:6379/0", "--state-file", "state.sqlite3"]) == 2
    assert "--store and --state-file name two different stores: choose one" in capsys.readouterr().err


def test_serve_says_why_when_redis_cannot_be_reached() -> None:
    refusal = r"cannot start: cannot reach Redis at redis://127\.0\.0\.1:1/0"
    with pytest.raises(AssertionError, match=refusal) as failed:
        start_serve("--store", "redis://:secret@127.0.0.1:1/0", timeout=30)
    assert "secret" not in str(failed.value)  # the password never reaches the output


def test_serve_reads_the_store_from_the_environment(redis_url: str) -> None:
    prefix = f"env-{uuid.uuid4().hex}"
    server = start_serve(env={"FAKEAPOLLO_STORE": redis_url, "FAKEAPOLLO_STORE_PREFIX": prefix})
    try:
        observer = RedisStore(redis_url, prefix=prefix)
        assert observer.clock_state.has_value()  # the server stored its clock there
        observer.close()
    finally:
        server.stop()


def test_request_numbers_are_unique_across_processes_and_restart_after_a_reset(stores: StoreFactory) -> None:
    first, second = stores(), stores()
    calls = BLOCK + 36  # past each process's first block
    numbers = [store.incr("request_id_sequence") for _ in range(calls) for store in (first, second)]
    assert len(set(numbers)) == 2 * calls
    first.reset()
    assert first.incr("request_id_sequence") == 1
    assert second.incr("request_id_sequence") == 1 + BLOCK  # its old block was dropped by the reset


def test_a_change_made_by_one_process_is_seen_by_the_other_when_it_returns(stores: StoreFactory) -> None:
    first, second = stores(), stores()
    assert second.get_document("keys") is None  # now kept in second's memory
    assert second.scenarios.take("/v1/people/match", None, {}) is None
    first.set_document("keys", [{"key": "k"}])
    first.scenarios.add({"outcome": "no_match", "times": 1})
    assert second.get_document("keys") == [{"key": "k"}]
    assert second.scenarios.take("/v1/people/match", None, {}) is not None
    assert first.scenarios.list() == []
