"""Clients written to production habits pass the whole contract at default settings, seeds 0-2.

8 s read timeouts with 3 retries and back-off, Retry-After honoured up to a cap, and three harmless
habits (reveal_personal_emails: false always, a percent-encoded webhook_url, an identical bulk
detail asked once): a failure here is a false alarm of the contract's. The seeds run at the same
time (each case has its own key on one emulator), so a client costs about one run of waiting. The
Node client runs as a service does, one process serving case after case (`check-client
--persistent`); the Python ones in-process.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from contract_tests import AdapterDriver, ContractServer, Report, run_contract
from contract_tests.contract import PROPERTIES
from contract_tests.drivers import DEFAULT_TIMEOUT, Driver, LinesDriver, client_time_zone

PRODUCTION = Path(__file__).resolve().parents[1] / "examples" / "clients" / "production"
sys.path.insert(0, str(PRODUCTION))
SEEDS = (0, 1, 2)
#: Two cases a property: the first fixed extremes of each, at the default run budget.
EXAMPLES = 2


def _driver(client: str, stack: contextlib.ExitStack) -> Driver:
    if client == "fetch_client":
        return stack.enter_context(
            LinesDriver(f"node {PRODUCTION / 'fetch_client.mjs'} --lines", DEFAULT_TIMEOUT)
        )
    module = __import__(client)
    return AdapterDriver(module.Adapter(), DEFAULT_TIMEOUT)


def run_at_every_seed(client: str) -> dict[int, Report]:
    """The whole contract against `client` at each seed, the seeds side by side on one emulator."""
    with ContractServer.start() as server, client_time_zone(), contextlib.ExitStack() as stack:
        with ThreadPoolExecutor(len(SEEDS)) as pool:
            runs = {
                seed: pool.submit(
                    run_contract, _driver(client, stack), server=server, seed=seed, examples=EXAMPLES
                )
                for seed in SEEDS
            }
            return {seed: run.result() for seed, run in runs.items()}


@pytest.mark.slow
@pytest.mark.parametrize("client", ["requests_client", "httpx_client", "fetch_client"])
def test_a_production_style_client_passes_every_property_at_seeds_0_to_2(client: str) -> None:
    if client == "fetch_client" and shutil.which("node") is None:
        pytest.skip("node is not installed")
    for seed, report in run_at_every_seed(client).items():
        assert report.ok, f"seed {seed}:\n{report.render()}"
        assert [r.prop.name for r in report.results if r.status == "passed"] == [p.name for p in PROPERTIES]
