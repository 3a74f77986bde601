"""Bare baselines: POST /api/v1/people/match answers one static 12.8 KB person, nothing else.

`python bench/baseline_app.py PORT` serves it the way `fakeapollo serve` serves its non-Apollo
routes: uvicorn, then a2wsgi's WSGI thread pool (Flask). `python bench/baseline_app.py PORT asgi`
serves it the way `fakeapollo serve` serves Apollo's routes: a bare ASGI application under the same
uvicorn, with fakeapollo's protocol (the ceiling of that stack on the machine).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

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


def asgi_app() -> Callable[..., Awaitable[None]]:
    """The bare ASGI baseline: the body read, one precomputed answer sent, whatever the request."""
    body = static_body()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    start = {"type": "http.response.start", "status": 200, "headers": headers}
    whole = {"type": "http.response.body", "body": body}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await send(start)
        await send(whole)

    return app


def main(port: int, kind: str = "flask") -> None:
    """Serve the baseline (`flask` or `asgi`) on 127.0.0.1:`port` until SIGINT or SIGTERM."""
    import uvicorn
    from a2wsgi import WSGIMiddleware

    from mock_server.config import Config
    from mock_server.web.server import HttpProtocol, ServerWithBanner, bind_socket

    sock = bind_socket("127.0.0.1", port)
    app: Any = asgi_app() if kind == "asgi" else WSGIMiddleware(create_app(), workers=Config().threads)  # type: ignore[arg-type]
    config = uvicorn.Config(
        app, http=HttpProtocol, lifespan="off", log_config=None, access_log=False, server_header=False
    )
    bound = sock.getsockname()[1]
    announce = lambda: print(f"baseline listening on 127.0.0.1:{bound}", flush=True)  # noqa: E731
    ServerWithBanner(config, announce).run([sock])


if __name__ == "__main__":
    main(int(sys.argv[1]), *sys.argv[2:3])
