"""The OpenAPI document is valid and generated from the schema files."""

from __future__ import annotations

import json
from typing import Any

from openapi_spec_validator import validate

from mock_server import data
from mock_server.openapi import build_openapi


def _refs(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.append(node["$ref"])
        for value in node.values():
            found += _refs(value)
    elif isinstance(node, list):
        for value in node:
            found += _refs(value)
    return found


def test_document_is_valid_openapi_3_1() -> None:
    document = build_openapi()
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_document_is_built_once() -> None:
    assert build_openapi() is build_openapi()


def test_document_is_plain_json() -> None:
    assert json.loads(json.dumps(build_openapi())) == build_openapi()


def test_every_emulated_operation_is_described() -> None:
    paths = build_openapi()["paths"]
    operations = {(path, method) for path, item in paths.items() for method in item}
    assert operations == {
        ("/api/v1/people/match", "post"),
        ("/api/v1/people/match", "get"),
        ("/api/v1/people/bulk_match", "post"),
        ("/api/v1/organizations/enrich", "get"),
        ("/api/v1/organizations/enrich", "post"),
        ("/api/v1/organizations/bulk_enrich", "post"),
        ("/api/v1/people/{id}", "get"),
        ("/api/v1/webhook_result/{request_id}", "get"),
        ("/api/v1/usage_stats/api_usage_stats", "post"),
    }
    assert "/v1/people/match" in build_openapi()["info"]["description"]


def test_api_key_header_secures_every_operation() -> None:
    document = build_openapi()
    scheme = document["components"]["securitySchemes"]["apiKey"]
    assert scheme == {"type": "apiKey", "in": "header", "name": "x-api-key"}
    assert document["security"] == [{"apiKey": []}]


def test_components_are_the_schema_files_and_shared_definitions() -> None:
    schemas = build_openapi()["components"]["schemas"]
    assert set(data.schema_names()) <= set(schemas)
    assert set(data.definition_names()) <= set(schemas)
    assert (
        schemas["person"]["required"] == data.load_schema("definitions")["definitions"]["person"]["required"]
    )


def test_every_reference_points_at_a_component() -> None:
    document = build_openapi()
    schemas = document["components"]["schemas"]
    for ref in _refs(document):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


def test_no_json_schema_file_keywords_leak_into_components() -> None:
    text = json.dumps(build_openapi())
    assert '"$id"' not in text
    assert '"$schema"' not in text
    assert "#/definitions/" not in text


def test_successful_responses_use_the_message_schemas() -> None:
    paths = build_openapi()["paths"]
    expected = {
        ("/api/v1/people/match", "post"): "people_match.response",
        ("/api/v1/people/bulk_match", "post"): "people_bulk_match.response",
        ("/api/v1/organizations/enrich", "get"): "organization_enrich.response",
        ("/api/v1/webhook_result/{request_id}", "get"): "webhook_result.response",
        ("/api/v1/usage_stats/api_usage_stats", "post"): "api_usage_stats.response",
    }
    for (path, method), name in expected.items():
        content = paths[path][method]["responses"]["200"]["content"]["application/json"]
        assert content["schema"] == {"$ref": f"#/components/schemas/{name}"}


def test_error_responses_use_the_error_schema() -> None:
    for item in build_openapi()["paths"].values():
        for operation in item.values():
            for code in ("400", "401", "403", "422", "429"):
                response = operation["responses"].get(code)
                if response is None:
                    continue
                (content,) = response["content"].values()
                assert content["schema"] == {"$ref": "#/components/schemas/error.response"}
    match = build_openapi()["paths"]["/api/v1/people/match"]["post"]["responses"]
    assert set(match) >= {"200", "400", "401", "403", "422", "429"}
    assert "text/plain" in match["401"]["content"]


def test_bulk_match_requires_a_details_body() -> None:
    operation = build_openapi()["paths"]["/api/v1/people/bulk_match"]["post"]
    assert operation["requestBody"]["required"] is True
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/people_bulk_match.request"}


def test_query_parameters_share_the_request_schema() -> None:
    operation = build_openapi()["paths"]["/api/v1/people/match"]["get"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert set(parameters) == set(data.load_schema("people_match.request")["properties"])
    assert parameters["reveal_phone_number"] == {"$ref": "#/components/schemas/boolean_parameter"}


def test_webhook_payloads_are_described() -> None:
    webhooks = build_openapi()["webhooks"]
    refs = {_refs(hook)[0] for hook in webhooks.values()}
    assert refs == {
        "#/components/schemas/webhook_phone.payload",
        "#/components/schemas/webhook_waterfall.payload",
    }
