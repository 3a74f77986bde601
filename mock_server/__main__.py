"""`python -m mock_server` runs `fakeapollo serve` (or any sub-command named first)."""

import sys

from mock_server.cli import main

COMMANDS = {"serve", "openapi", "validate", "check-client", "verify", "record"}
argv = sys.argv[1:]
sys.exit(main(argv if argv[:1] and argv[0] in COMMANDS | {"--version"} else ["serve", *argv]))
