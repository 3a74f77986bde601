"""fakeapollo's contract-testing toolkit: strategies and client properties built on the schemas.

The public names below are imported lazily, so `fakeapollo serve` never pays for (or needs)
Hypothesis; `contract_tests.strategies`, `.contract`, `.runner` and `.verify` hold the details.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contract_tests.adapter import ClientAdapter, Unsupported
    from contract_tests.cases import Case, Observation, Property
    from contract_tests.checks import MAX_RETRIES
    from contract_tests.contract import PROPERTIES, property_named
    from contract_tests.drivers import AdapterDriver, CommandDriver
    from contract_tests.pytest_support import contract_report, pytest_contract
    from contract_tests.report import Report
    from contract_tests.runner import (
        ContractRunner,
        ContractServer,
        check_adapter,
        check_command,
        run_contract,
    )
    from contract_tests.verify import PROBES, verify_provider

_WHERE = {
    "ClientAdapter": "adapter",
    "Unsupported": "adapter",
    "MAX_RETRIES": "checks",
    "PROPERTIES": "contract",
    "Case": "cases",
    "Observation": "cases",
    "Property": "cases",
    "property_named": "contract",
    "contract_report": "pytest_support",
    "pytest_contract": "pytest_support",
    "AdapterDriver": "drivers",
    "CommandDriver": "drivers",
    "ContractRunner": "runner",
    "ContractServer": "runner",
    "Report": "report",
    "check_adapter": "runner",
    "check_command": "runner",
    "run_contract": "runner",
    "PROBES": "verify",
    "verify_provider": "verify",
}

__all__ = [
    "AdapterDriver",
    "Case",
    "ClientAdapter",
    "CommandDriver",
    "ContractRunner",
    "ContractServer",
    "MAX_RETRIES",
    "Observation",
    "PROBES",
    "PROPERTIES",
    "Property",
    "Report",
    "Unsupported",
    "check_adapter",
    "check_command",
    "contract_report",
    "property_named",
    "pytest_contract",
    "run_contract",
    "verify_provider",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'contract_tests' has no attribute {name!r}")
    return getattr(importlib.import_module(f"contract_tests.{module}"), name)
