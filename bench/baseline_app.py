"""Bare-Flask baseline: POST /api/v1/people/match answers one static 12.8 KB person, nothing else."""

from __future__ import annotations

import json
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


app = create_app()
