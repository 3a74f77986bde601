"""The app factory: builds clock, store, service and the Flask app of the control API; no globals.

The Flask app serves what is not Apollo's: the control API, the inspector page, OpenAPI, and the
404s. Wrap it in `web.asgi.Emulator` to serve Apollo's operations too.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.routing import RequestRedirect

from mock_server.config import Config
from mock_server.domain.errors import FakeApolloError, PayloadTooLarge
from mock_server.domain.errors import MethodNotAllowed as ApolloMethodNotAllowed
from mock_server.domain.errors import NotFound as ApolloNotFound
from mock_server.domain.service import Enrichment
from mock_server.web import admin, admin_webhooks, inspector, journaling, meta
from mock_server.web.apollo import query_dict
from mock_server.web.factory import build_service
from mock_server.web.render import error_response, json_response

log = logging.getLogger("fakeapollo")


def create_app(config: Config | None = None, *, service: Enrichment | None = None) -> Flask:
    """A fresh emulator app for `config` (or around an already built `service`); its state hangs off it."""
    if service is None:
        service = build_service(config or Config())
    config = service.config
    app = Flask("mock_server")
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.url_map.merge_slashes = False  # see _register_error_handlers
    app.extensions["fakeapollo"] = service

    # Apollo's operations are not Flask's: web/asgi.py answers them (web/operations.py lists them).
    app.register_blueprint(meta.bp)
    if config.admin:
        app.register_blueprint(admin.blueprint(config.admin_token))
        app.register_blueprint(admin_webhooks.admin_blueprint(config.admin_token))
        app.register_blueprint(inspector.blueprint())
    _register_journal(app, service)
    _register_error_handlers(app, config)
    return app


def listening(app: Flask, host: str, port: int) -> None:
    """Tell the app where its server listens: webhooks aimed there are refused."""
    service = app.extensions.get("fakeapollo")
    if isinstance(service, Enrichment):
        service.webhooks.listening_on(host, port)


def _register_journal(app: Flask, service: Enrichment) -> None:
    """Journal every Flask-served call outside the control API (OpenAPI, 404s): what was sent and answered."""
    writer = journaling.BackgroundWriter() if journaling.store_blocks(service) else None
    if writer is not None:
        app.extensions[journaling.WRITER_EXTENSION] = writer

    @app.before_request
    def note_start() -> None:
        g.fakeapollo_time = service.clock.timestamp()  # first: when the store is away, nothing is journaled
        g.fakeapollo_started = time.perf_counter()

    @app.after_request
    def record(response: Response) -> Response:
        if request.path.startswith(journaling.ADMIN_PREFIX) or "fakeapollo_started" not in g:
            return response
        journaling.record(
            service,
            at=g.fakeapollo_time,
            duration_ms=(time.perf_counter() - g.fakeapollo_started) * 1000,
            method=request.method,
            path=request.path,
            query=query_dict(request.args.items(multi=True)),
            headers=dict(request.headers),
            notes=None,
            status=response.status_code,
            body=response.get_data(),
            content_type=response.content_type or "",
            response_headers=dict(response.headers),
            writer=writer,
        )
        return response


def _register_error_handlers(app: Flask, config: Config) -> None:
    """One place renders every error: Apollo's typed errors, HTTP errors, and the unexpected.

    A path is served as written. Werkzeug answers one a slash away from a route (`/__admin/ui`)
    with an HTML 308 that a client follows with its method and body, serves `//__admin/reset` as
    `/__admin/reset` (its request keeps one leading slash), and a path parameter takes a trailing
    slash (`assets/inspector.js/`); each is the JSON 404 of any other path no route takes.
    """

    @app.before_request
    def exact_paths() -> None:
        rule = request.url_rule
        if (
            isinstance(request.routing_exception, RequestRedirect)
            or _path_as_sent().startswith("//")
            or (rule is not None and request.path.endswith("/") and not rule.rule.endswith("/"))
        ):
            raise NotFound()

    @app.errorhandler(FakeApolloError)
    def fakeapollo_error(error: FakeApolloError) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        if isinstance(error, NotFound):
            return error_response(ApolloNotFound(f"No route for {request.method} {_path_as_sent()}"))
        if isinstance(error, MethodNotAllowed):
            return error_response(ApolloMethodNotAllowed(sorted(error.valid_methods or [])))
        if isinstance(error, RequestEntityTooLarge):
            return error_response(PayloadTooLarge(config.max_body_bytes))
        return json_response({"error": error.description or error.name}, error.code or 400)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unexpected error", exc_info=error)
        return json_response({"error": "Internal Server Error"}, 500)


def _path_as_sent() -> str:
    """The request's path with as many leading slashes as the client sent (Werkzeug's keeps one)."""
    sent = request.environ.get("PATH_INFO", "")
    return "/" * max(1, len(sent) - len(sent.lstrip("/"))) + request.path.lstrip("/")
