"""The contract's defaults `check-client --help` shows, free of imports so its parser stays quick."""

#: Cases per property when none is asked for: `--examples`, `run_contract(examples=...)`.
DEFAULT_EXAMPLES = 10
#: Seconds of its own (beyond what its case makes it wait) one client run may take: `--timeout`.
DEFAULT_TIMEOUT = 30.0
#: What `--timeout` (check-client's and verify's) takes, in seconds, both ends included.
TIMEOUT_RANGE = (0.001, 3_600)
#: What `--examples` takes, both ends included.
EXAMPLES_RANGE = (1, 10_000)
#: What `--seed` takes, both ends included: any non-negative 64-bit number.
SEED_RANGE = (0, 2**64 - 1)

__all__ = ["DEFAULT_EXAMPLES", "DEFAULT_TIMEOUT", "EXAMPLES_RANGE", "SEED_RANGE", "TIMEOUT_RANGE"]
