"""The emulator's OpenAPI 3.1 document, generated from the JSON Schema files in schemas/."""

from __future__ import annotations

import copy
import functools
from typing import Any

from mock_server import __version__
from mock_server.domain import data
from mock_server.domain.params import (
    DELIVERY_FLAGS,
    FIELD_RULES,
    FLAG_RULE,
    FLAGS,
    ORGANIZATION_GIVEN,
    ORGANIZATION_RULES,
    WEBHOOK_URL_NEEDED_RULE,
    WEBHOOK_URL_RULE,
)
from mock_server.web.operations import OPERATIONS, PREFIXES, Operation

_DEFINITIONS_REF = "definitions.json#/definitions/"
_COMPONENTS = "#/components/schemas/"
#: Keywords whose values are data, not subschemas.
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples", "required"})
_ERROR = {"$ref": _COMPONENTS + "error.response"}
# An enrichment answer's request_id is what Poll Webhook Result takes (for Schemathesis' stateful phase).
_POLL_LINK = {
    "PollWebhookResult": {
        "operationId": "poll-webhook-result",
        "parameters": {"request_id": "$response.body#/request_id"},
    }
}
_DESCRIPTION = (
    "fakeapollo emulates Apollo.io's People Enrichment endpoints offline. Every path is also "
    "served without the `/api` prefix (`/v1/people/match` and so on), as Apollo does. Schemas "
    "under components are generated from fakeapollo's `schemas/` folder; the same documents "
    "validate requests, responses and webhook payloads in its tests."
)


def _component_refs(node: Any, base: str) -> Any:
    """A copy of a schema with references rewritten to `#/components/schemas/...`."""
    if isinstance(node, list):
        return [_component_refs(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$schema", "$id", "definitions"):
            continue
        if key == "$ref" and isinstance(value, str):
            out[key] = _rewrite_ref(value.removeprefix(base))
        elif key in _DATA_KEYWORDS:
            out[key] = value
        else:
            out[key] = _component_refs(value, base)
    return out


def _rewrite_ref(ref: str) -> str:
    """One schema-file reference as a components reference."""
    if ref.startswith(_DEFINITIONS_REF):
        return _COMPONENTS + ref[len(_DEFINITIONS_REF) :]
    if ref.startswith("#/definitions/"):
        return _COMPONENTS + ref[len("#/definitions/") :]
    if ref.endswith(".json"):
        return _COMPONENTS + ref[: -len(".json")]
    raise ValueError(f"cannot place reference {ref!r} under components")


@functools.cache
def _schemas() -> dict[str, Any]:
    """components/schemas: every shared definition and every message schema, by name."""
    definitions = data.load_schema("definitions")
    base = definitions["$id"].rsplit("/", 1)[0] + "/"
    components = {
        name: _component_refs(schema, base)
        for name, schema in sorted(definitions["definitions"].items())
    }
    for name in data.schema_names():
        components[name] = _component_refs(data.load_schema(name), base)
    return components


def _json(ref: str) -> dict[str, Any]:
    """An application/json content map for one component."""
    return {"application/json": {"schema": {"$ref": _COMPONENTS + ref}}}


def _errors(*codes: str) -> dict[str, Any]:
    """Error responses, all described by error.response; 401 is text/plain as on Apollo."""
    responses: dict[str, Any] = {}
    reasons = {
        "400": "Invalid parameters (e.g. reveal_phone_number without webhook_url).",
        "401": "Missing or unknown x-api-key; the body is plain text.",
        "403": "The key's plan or scope does not cover this endpoint.",
        "404": "Unknown request id, or a result that is still pending.",
        "410": "A result past its retention window.",
        "422": "Unprocessable parameters.",
        "429": "A rate-limit window is exhausted; see Retry-After.",
    }
    for code in codes:
        media = "text/plain" if code == "401" else "application/json"
        responses[code] = {"description": reasons[code], "content": {media: {"schema": _ERROR}}}
    return responses


def _accepted(request_schema: str) -> dict[str, Any]:
    """A request schema tightened to what the server accepts (mock_server/domain/params.py's rules).

    For people: every identifying field gets its pattern and length, every flag its values, and a
    flag that asks for a delivery needs a webhook_url. For all: `api_key` is refused (it belongs
    in the header).
    """
    accepted: dict[str, Any] = copy.deepcopy(_schemas()[request_schema])
    properties: dict[str, Any] = accepted.setdefault("properties", {})
    properties["api_key"] = {"not": {}, "description": "Refused: the key goes in the x-api-key header."}
    if request_schema.startswith("organization"):
        return _organization_accepted(accepted)
    if not request_schema.startswith("people_"):
        return accepted
    for name in properties:
        if name in FIELD_RULES:
            properties[name] = copy.deepcopy(FIELD_RULES[name])
        elif name in FLAGS:
            properties[name] = copy.deepcopy(FLAG_RULE)
        elif name == "webhook_url":
            properties[name] = copy.deepcopy(WEBHOOK_URL_RULE)
    details = properties.get("details")
    if details is not None:
        details["items"] = {"type": "object", "properties": copy.deepcopy(FIELD_RULES)}
    if "webhook_url" in properties:
        accepted["anyOf"] = [
            {"properties": {flag: {"enum": [False, "false", None]} for flag in DELIVERY_FLAGS}},
            {"required": ["webhook_url"], "properties": {"webhook_url": WEBHOOK_URL_NEEDED_RULE}},
        ]
    return accepted


def _one_organization(schema: dict[str, Any]) -> dict[str, Any]:
    """An object of organization identifiers: each may be blank, one must name a company."""
    properties = schema.setdefault("properties", {})
    for name in ORGANIZATION_RULES:
        properties[name] = copy.deepcopy(ORGANIZATION_RULES[name])
    schema["anyOf"] = [
        {"required": [name], "properties": {name: copy.deepcopy(rule)}}
        for name, rule in ORGANIZATION_GIVEN.items()
    ]
    return schema


def _organization_accepted(accepted: dict[str, Any]) -> dict[str, Any]:
    """organizations/enrich or bulk_enrich, tightened to what mock_server/domain/params.py accepts."""
    properties = accepted["properties"]
    if "details" not in properties:
        return _one_organization(accepted)
    # bulk_enrich: non-empty `details`, or else `domains` (ignored when details has any item).
    properties["details"] = {
        "type": ["array", "null"],
        "maxItems": 10,
        "items": _one_organization({"type": "object"}),
    }
    properties["domains"] = {"description": "Read only when `details` is missing or empty."}
    accepted["anyOf"] = [
        {"required": ["details"], "properties": {"details": {"type": "array", "minItems": 1}}},
        {
            "required": ["domains"],
            "properties": {
                "domains": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 10,
                    "items": copy.deepcopy(ORGANIZATION_GIVEN["domain"]),
                }
            },
        },
    ]
    return accepted


def _in_query(schema: Any) -> Any:
    """A request schema as a query string carries it: every value a string, no nulls."""
    if isinstance(schema, list):
        return [_in_query(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _in_query(value) for key, value in schema.items()}
    if out.get("type") == ["string", "null"]:
        out["type"] = "string"
    if "enum" in out:
        out["enum"] = [value for value in out["enum"] if isinstance(value, str)]
        out["type"] = "string"
    return out


def _query_object(request_schema: str, *, required: bool = False) -> list[dict[str, Any]]:
    """The request's parameters as one exploded query object, so dependencies between them hold."""
    return [
        {
            "name": "parameters",
            "in": "query",
            "required": required,
            "style": "form",
            "explode": True,
            "description": "Each property is its own query parameter (`?email=...&domain=...`).",
            "schema": _in_query(_accepted(request_schema)),
        }
    ]


def _body(request_schema: str, *, required: bool) -> dict[str, Any]:
    """A JSON request body holding what the server accepts."""
    return {
        "required": required,
        "content": {"application/json": {"schema": _accepted(request_schema)}},
    }


def _paths() -> dict[str, Any]:
    """The emulated operations, from the one table (mock_server/web/operations.py)."""
    paths: dict[str, Any] = {}
    for op in OPERATIONS:  # operations sharing a path (one per method) share its path item
        paths.setdefault(PREFIXES[0] + op.path, {}).update(_path_item(op))
    return paths


def _path_item(op: Operation) -> dict[str, Any]:
    """One operation's path item: each method with its parameters, body and answers."""
    ok: dict[str, Any] = {"description": op.ok, **_content(op.response)}
    if op.polls:
        ok["links"] = _POLL_LINK
    responses = {"200": ok, **_errors(*op.errors)}
    path_parameters = [
        {
            "name": p.name,
            "in": "path",
            "required": True,
            "description": p.description,
            "schema": dict(p.schema),
        }
        for p in op.parameters
    ]
    item: dict[str, Any] = {}
    for method, operation_id in op.operation_ids().items():
        entry: dict[str, Any] = {"tags": [op.tag], "operationId": operation_id, "summary": op.summary}
        description = op.descriptions.get(method, op.description)
        if description:
            entry["description"] = description
        parameters = list(path_parameters)
        if op.request is not None and method == "GET":
            parameters += _query_object(op.request, required=op.request_required)
        elif op.request is not None:
            entry["requestBody"] = _body(op.request, required=op.request_required)
        if parameters:
            entry["parameters"] = parameters
        entry["responses"] = responses
        item[method.lower()] = entry
    return item


def _content(ref: str) -> dict[str, Any]:
    """A response `content` entry for one component."""
    return {"content": _json(ref)}


def _webhooks() -> dict[str, Any]:
    """What the emulator POSTs to a caller's webhook_url."""

    def hook(summary: str, ref: str) -> dict[str, Any]:
        return {
            "post": {
                "summary": summary,
                "requestBody": {"required": True, "content": _json(ref)},
                "responses": {"200": {"description": "Any 2xx acknowledges the delivery."}},
            }
        }

    return {
        "phoneNumbers": hook("Phone numbers revealed by reveal_phone_number", "webhook_phone.payload"),
        "waterfallResult": hook("Results of run_waterfall_email/phone", "webhook_waterfall.payload"),
    }


@functools.cache
def build_openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the emulated endpoints (built once; do not mutate)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "fakeapollo", "version": __version__, "description": _DESCRIPTION},
        "servers": [{"url": "/", "description": "the emulator itself"}],
        "security": [{"apiKey": []}],
        "tags": [{"name": tag} for tag in dict.fromkeys(op.tag for op in OPERATIONS)],
        "paths": _paths(),
        "webhooks": _webhooks(),
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            },
            "schemas": _schemas(),
        },
    }
