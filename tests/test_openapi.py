"""The OpenAPI document is valid and generated from the schema files."""

from __future__ import annotations

import json
import re
from typing import Any

from openapi_spec_validator import validate
from route_helpers import concrete_path

from mock_server.domain import data
from mock_server.domain.params import DELIVERY_FLAGS, FIELD_RULES
from mock_server.web.openapi import build_openapi
from mock_server.web.operations import OPERATIONS, PREFIXES, Router


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


def test_every_described_operation_is_served_under_both_prefixes() -> None:
    router = Router()
    for path, item in build_openapi()["paths"].items():
        concrete = concrete_path(path.removeprefix("/api/v1"))
        for prefix in PREFIXES:
            found = router.find(prefix + concrete)
            assert found is not None, prefix + concrete
            served = router.allowed(found[0])  # operations sharing a path serve one method each
            assert {m.lower() for m in served if m != "HEAD"} == set(item), path
    assert "/v1/people/match" in build_openapi()["info"]["description"]


def test_every_operation_in_the_table_is_described() -> None:
    paths = build_openapi()["paths"]
    described = {(path, method) for path, item in paths.items() for method in item}
    assert described == {("/api/v1" + op.path, m.lower()) for op in OPERATIONS for m in op.methods}


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
    assert body["required"] == ["details"]
    assert body["properties"]["details"]["items"]["properties"]["email"] == FIELD_RULES["email"]


def test_query_parameters_are_one_exploded_object_of_the_request_schema() -> None:
    (parameter,) = build_openapi()["paths"]["/api/v1/people/match"]["get"]["parameters"]
    assert (parameter["in"], parameter["style"], parameter["explode"]) == ("query", "form", True)
    properties = parameter["schema"]["properties"]
    assert set(properties) == set(data.load_schema("people_match.request")["properties"]) | {"api_key"}
    assert properties["reveal_phone_number"] == {"enum": ["true", "false"], "type": "string"}


def test_a_delivery_flag_needs_an_http_webhook_url_in_the_spec() -> None:
    body = build_openapi()["paths"]["/api/v1/people/match"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    no_flags, with_url = schema["anyOf"]
    assert set(no_flags["properties"]) == set(DELIVERY_FLAGS)
    assert with_url["required"] == ["webhook_url"]
    url = re.compile(with_url["properties"]["webhook_url"]["pattern"])
    assert url.search("https://hooks.example.com/apollo") and url.search("http%3A%2F%2F10.0.0.1:8080/h")
    assert not url.search("ftp://example.com") and not url.search("http://")


def test_identifying_patterns_accept_what_the_server_accepts_and_nothing_it_refuses() -> None:
    email = re.compile(FIELD_RULES["email"]["pattern"])
    assert email.search(" Ada.Lovelace@Example.co.uk ")
    assert email.search("")
    assert not email.search("ada@")
    assert not email.search(".ada@example.com")
    assert not re.search(FIELD_RULES["name"]["pattern"], "Ada\tLovelace")
    assert re.search(FIELD_RULES["hashed_email"]["pattern"], "")


def test_usage_stats_documents_both_methods_it_answers() -> None:
    assert set(build_openapi()["paths"]["/api/v1/usage_stats/api_usage_stats"]) == {"get", "post"}


def test_webhook_payloads_are_described() -> None:
    webhooks = build_openapi()["webhooks"]
    refs = {_refs(hook)[0] for hook in webhooks.values()}
    assert refs == {
        "#/components/schemas/webhook_phone.payload",
        "#/components/schemas/webhook_waterfall.payload",
    }
