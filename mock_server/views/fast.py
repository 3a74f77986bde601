"""The fast path: Apollo's routes answered on the server's loop thread, through `answer` but without Flask.

Anything it does not take on (other routes and methods, forced outcomes, which may sleep or cut
the connection) goes to the Flask app on the server's thread pool instead; so does everything once
something wraps the app's WSGI callable (contract_tests' priming layer, a user's middleware).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask

from mock_server.httpserver import FastHandler, HttpRequest, HttpResponse
from mock_server.service import Enrichment
from mock_server.views import journaling
from mock_server.views.apollo import (
    PREFIXES,
    ROUTES,
    Call,
    Notes,
    Operation,
    answer,
    bearer_token,
    query_dict,
)


def handler_for(app: Flask) -> FastHandler:
    """The fast handler for `app`'s Enrichment service."""
    service: Enrichment = app.extensions["fakeapollo"]
    routes: dict[tuple[str, str], tuple[str, Operation]] = {
        (method, prefix + route): (endpoint, operation)
        for prefix in PREFIXES
        for route, methods, endpoint, operation in ROUTES
        for method in methods
    }
    scenarios = service.store.scenarios
    clock = service.clock
    plain = Flask.wsgi_app

    def handle(request: HttpRequest) -> HttpResponse | None:
        route = routes.get((request.method, request.path))
        if route is None or getattr(app.wsgi_app, "__func__", None) is not plain:
            return None  # not an Apollo route, or the app is wrapped: Flask's threads answer
        headers = request.headers
        if "x-mock-scenario" in headers or scenarios.list():
            return None  # a forced outcome may hold or reset the connection: Flask's threads do those
        started = time.perf_counter()
        at = clock.now()
        content_type = headers.get("content-type", "")
        query = query_params(request.query_string)
        call = Call(
            path=request.path,
            query=query,
            header_key=headers.get("x-api-key"),
            bearer=bearer_token(headers.get("authorization")),
            scenario_header=None,
            body=request.body,
            mimetype=content_type.partition(";")[0].strip().lower(),
            content_type=content_type,
        )
        notes = Notes()
        endpoint, operation = route
        reply = answer(service, endpoint, operation, call, notes)
        shown = {"Content-Type": reply.content_type, **reply.headers}
        sent = list(shown.items())
        shown["Content-Length"] = str(len(reply.body))
        journaling.record(
            service,
            at=at,
            duration_ms=(time.perf_counter() - started) * 1000,
            method=request.method,
            path=request.path,
            query=query,
            headers=headers,
            notes=notes,
            status=reply.status,
            body=reply.body,
            content_type=reply.content_type,
            response_headers=shown,
        )
        return HttpResponse(reply.status, sent, reply.body)

    return handle


def query_params(query_string: str) -> dict[str, Any]:
    """Query parameters as the Flask views read them (`query_dict`)."""
    if not query_string:
        return {}
    return query_dict(parse_qsl(query_string, keep_blank_values=True))
