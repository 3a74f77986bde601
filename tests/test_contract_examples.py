"""The example Python client passes the whole contract in-process, through the pytest plugin."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from contract_tests import PROPERTIES, pytest_contract

CLIENTS = Path(__file__).resolve().parents[1] / "examples" / "clients"
sys.path.insert(0, str(CLIENTS))

from python_client import PythonClientAdapter  # noqa: E402

# This is the README's recipe: one line gives one test per property.
test_python_client_contract = pytest_contract(PythonClientAdapter(), examples=3)


def test_one_test_per_property() -> None:
    marks = test_python_client_contract.pytestmark  # type: ignore[attr-defined]
    assert list(marks[0].args[1]) == [p.name for p in PROPERTIES]


def test_every_property_is_documented() -> None:
    names = [p.name for p in PROPERTIES]
    assert len(names) == len(set(names))
    for prop in PROPERTIES:
        assert prop.description.strip()


def test_adapter_without_optional_operations_skips_them(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import sys
        sys.path.insert(0, {str(CLIENTS)!r})
        from contract_tests import ClientAdapter, pytest_contract
        from python_client import run_operation

        class MatchOnly(ClientAdapter):
            def people_match(self, base_url, api_key, params):
                request = {{"operation": "people_match", "params": params}}
                return run_operation(request, base_url + "/api/v1", api_key)

        test_contract = pytest_contract(
            MatchOnly(), examples=2, properties=["match", "no_match", "bulk", "idempotent_webhooks"]
        )
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, skipped=2)
