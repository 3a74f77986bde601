"""The emulator's ASGI application at its default settings, for granian (bench/run.py's server comparison).

Served as `granian --interface asgi --loop uvloop --http 1 bench.granian_app:app`: the same
`Emulator` that `fakeapollo serve` runs under uvicorn, built by the same factory.
"""

from __future__ import annotations

from mock_server.config import Config
from mock_server.web.server import EmulatorFactory

app = EmulatorFactory(Config())()
