"""Bare-Flask baseline: POST /api/v1/people/match answers one static 12.8 KB person, nothing else.

`python bench/baseline_app.py PORT` serves it on fakeapollo's own server (mock_server/httpserver.py),
through the WSGI path every non-Apollo route of `fakeapollo serve` takes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from flask import Flask, Response

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "persons" / "tim-zheng.json"


def static_body() -> bytes:
    """Apollo's example person wrapped as `{"person": ...}`, compact JSON (about 12.8 KB)."""
    person = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return json.dumps({"person": person}, separators=(",", ":")).encode()


def create_app() -> Flask:
    """The baseline app: one route, one precomputed body."""
    app = Flask("baseline")
    body = static_body()

    @app.post("/api/v1/people/match")
    def match() -> Response:
        return Response(body, status=200, content_type="application/json")

    return app


def main(port: int) -> None:
    """Serve the baseline on 127.0.0.1:`port` until SIGINT or SIGTERM."""
    from mock_server.config import Config
    from mock_server.httpserver import Server, bind_socket

    server = Server(create_app(), bind_socket("127.0.0.1", port), threads=Config().threads)
    server.serve_forever(lambda host, bound: print(f"baseline listening on {host}:{bound}", flush=True))


if __name__ == "__main__":
    main(int(sys.argv[1]))
