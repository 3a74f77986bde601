"""The emulator's OpenAPI 3.1 document, generated from the JSON Schema files in schemas/."""

from __future__ import annotations

import functools
from typing import Any

from mock_server import __version__, data

_DEFINITIONS_REF = "definitions.json#/definitions/"
_COMPONENTS = "#/components/schemas/"
#: Keywords whose values are data, not subschemas.
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples", "required"})
_ERROR = {"$ref": _COMPONENTS + "error.response"}
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


def _query(request_schema: str, *, leave_out: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Query parameters: every property of a request schema (but those in the body)."""
    properties = _schemas()[request_schema]["properties"]
    return [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in properties.items()
        if name not in leave_out
    ]


def _paths() -> dict[str, Any]:
    """The emulated operations."""
    match_parameters = _query("people_match.request")
    match_responses = {
        "200": {"description": "A match, or `{\"person\": null}`.", **_content("people_match.response")},
        **_errors("400", "401", "403", "422", "429"),
    }
    match = {
        "tags": ["People Enrichment"],
        "parameters": match_parameters,
        "responses": match_responses,
    }
    organization = {
        "tags": ["Organization Enrichment"],
        "summary": "Enrich one organization",
        "description": "At least one of the four identifiers, in the query string or a JSON body.",
        "parameters": _query("organization_enrich.request"),
        "responses": {
            "200": {
                "description": "The organization, or `{}` when unknown.",
                **_content("organization_enrich.response"),
            },
            **_errors("401", "403", "422", "429"),
        },
    }
    return {
        "/api/v1/people/match": {
            "post": {
                **match,
                "operationId": "people-enrichment",
                "summary": "Enrich one person",
                "description": "Parameters may come in the query string, a JSON body, or both.",
                "requestBody": {"required": False, "content": _json("people_match.request")},
            },
            "get": {**match, "operationId": "people-enrichment-get", "summary": "Enrich one person"},
        },
        "/api/v1/people/bulk_match": {
            "post": {
                "tags": ["People Enrichment"],
                "operationId": "bulk-people-enrichment",
                "summary": "Enrich up to 10 people",
                "parameters": _query("people_bulk_match.request", leave_out=("details",)),
                "requestBody": {"required": True, "content": _json("people_bulk_match.request")},
                "responses": {
                    "200": {
                        "description": "Positional matches, null for misses.",
                        **_content("people_bulk_match.response"),
                    },
                    **_errors("400", "401", "403", "422", "429"),
                },
            }
        },
        "/api/v1/organizations/enrich": {
            "get": {**organization, "operationId": "organization-enrichment"},
            "post": {
                **organization,
                "operationId": "organization-enrichment-post",
                "requestBody": {"required": False, "content": _json("organization_enrich.request")},
            },
        },
        "/api/v1/organizations/bulk_enrich": {
            "post": {
                "tags": ["Organization Enrichment"],
                "operationId": "bulk-organization-enrichment",
                "summary": "Enrich up to 10 organizations",
                "description": "`details` in the JSON body, or `domains[]` in the query string.",
                "parameters": [
                    {
                        "name": "domains[]",
                        "in": "query",
                        "required": False,
                        "schema": _schemas()["organizations_bulk_enrich.request"]["properties"]["domains"],
                    }
                ],
                "requestBody": {"required": False, "content": _json("organizations_bulk_enrich.request")},
                "responses": {
                    "200": {
                        "description": "The organizations found, with counters.",
                        **_content("organizations_bulk_enrich.response"),
                    },
                    **_errors("400", "401", "403", "422", "429"),
                },
            }
        },
        "/api/v1/people/{id}": {
            "get": {
                "tags": ["People Enrichment"],
                "operationId": "get-person",
                "summary": "One person by Apollo id",
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "description": "An Apollo person id (24 hexadecimal digits).",
                        "schema": {"$ref": _COMPONENTS + "apollo_id"},
                    }
                ],
                "responses": {
                    "200": {"description": "The person.", **_content("people_show.response")},
                    **_errors("401", "403", "422", "429"),
                },
            }
        },
        "/api/v1/webhook_result/{request_id}": {
            "get": {
                "tags": ["Webhooks"],
                "operationId": "poll-webhook-result",
                "summary": "Poll the webhook payload of an enrichment request",
                "parameters": [
                    {
                        "name": "request_id",
                        "in": "path",
                        "required": True,
                        "description": "A signed 64-bit request id from an enrichment response.",
                        "schema": {"type": "integer", "format": "int64"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The stored payload and its delivery state.",
                        **_content("webhook_result.response"),
                    },
                    **_errors("400", "401", "403", "404", "410", "429"),
                },
            }
        },
        "/api/v1/usage_stats/api_usage_stats": {
            "post": {
                "tags": ["Miscellaneous"],
                "operationId": "api-usage-stats",
                "summary": "Usage and rate limits per endpoint",
                "responses": {
                    "200": {
                        "description": "Usage keyed by endpoint.",
                        **_content("api_usage_stats.response"),
                    },
                    **_errors("401", "403", "429"),
                },
            }
        },
    }


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
        "tags": [
            {"name": "People Enrichment"},
            {"name": "Organization Enrichment"},
            {"name": "Webhooks"},
            {"name": "Miscellaneous"},
        ],
        "paths": _paths(),
        "webhooks": _webhooks(),
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            },
            "schemas": _schemas(),
        },
    }
