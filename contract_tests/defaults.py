"""The contract's defaults `check-client --help` shows, free of imports so its parser stays quick."""

#: Cases per property when none is asked for: `--examples`, `run_contract(examples=...)`.
DEFAULT_EXAMPLES = 10
#: Seconds of its own (beyond what its case makes it wait) one client run may take: `--timeout`.
DEFAULT_TIMEOUT = 30.0

__all__ = ["DEFAULT_EXAMPLES", "DEFAULT_TIMEOUT"]
