"""The contract as pytest tests: one test per property, on the fakeapollo plugin's live emulator.

```python
# tests/test_apollo_contract.py
from contract_tests import pytest_contract
from my_app.apollo import MyAdapter

test_apollo_contract = pytest_contract(MyAdapter())
```

Each property becomes one test (`test_apollo_contract[match]`, `[no_match]`, ...). A failing test
prints the minimal failing case and what the client did; a property whose optional operation the
adapter does not implement (bulk, webhooks) is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from contract_tests.adapter import ClientAdapter
from contract_tests.contract import PROPERTIES, property_named
from contract_tests.drivers import DEFAULT_TIMEOUT, AdapterDriver
from contract_tests.runner import DEFAULT_EXAMPLES, DEFAULT_SEED, ContractRunner, ContractServer

if TYPE_CHECKING:
    from mock_server.pytest_plugin import FakeApollo


def pytest_contract(
    adapter: ClientAdapter,
    *,
    examples: int = DEFAULT_EXAMPLES,
    seed: int = DEFAULT_SEED,
    properties: list[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Callable[..., None]:
    """A pytest test function, parametrized by property, that runs the contract against `adapter`."""
    import pytest

    names = [property_named(n).name for n in properties] if properties else [p.name for p in PROPERTIES]

    @pytest.mark.parametrize("contract_property", names)
    def test_apollo_contract(fakeapollo: FakeApollo, contract_property: str) -> None:
        server = ContractServer(fakeapollo.url)
        runner = ContractRunner(
            AdapterDriver(adapter, timeout),
            server,
            examples=examples,
            seed=seed,
            properties=[contract_property],
        )
        report = runner.run()
        result = report.results[0]
        if result.status == "skipped":
            pytest.skip(f"{contract_property}: {result.note}")
        if result.status == "failed":
            pytest.fail(report.render(), pytrace=False)

    return test_apollo_contract


def contract_report(fakeapollo: FakeApollo, adapter: ClientAdapter, **options: Any) -> Any:
    """Run the contract on the plugin's emulator and return the `Report` (for custom assertions)."""
    timeout = float(options.pop("timeout", DEFAULT_TIMEOUT))
    server = ContractServer(fakeapollo.url)
    return ContractRunner(AdapterDriver(adapter, timeout), server, **options).run()


__all__ = ["contract_report", "pytest_contract"]
