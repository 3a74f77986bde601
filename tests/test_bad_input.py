"""Bad input always gets a clear 4xx JSON error in Apollo's style, naming the field and the problem."""

from __future__ import annotations

import pytest
import requests

MATCH = "/api/v1/people/match"
# docs/apollo-facts.md 2.3: a reveal without a valid webhook_url.
NO_WEBHOOK_URL = {"error": "Please add a valid 'webhook_url' parameter when using 'reveal_phone_number'"}


def post_raw(api: requests.Session, base_url: str, data: bytes, content_type: str) -> requests.Response:
    """POST raw bytes to people/match with a content type."""
    return api.post(f"{base_url}{MATCH}", data=data, headers={"Content-Type": content_type})


def test_malformed_json_gets_400(api: requests.Session, base_url: str) -> None:
    response = post_raw(api, base_url, b'{"email": "a@b.com"', "application/json")
    assert response.status_code == 400
    assert response.json()["error"].startswith("The request body is not valid JSON")


@pytest.mark.parametrize(("body", "kind"), [(b"[1, 2]", "an array"), (b'"text"', "a str"), (b"42", "a int")])
def test_non_object_body_gets_400(api: requests.Session, base_url: str, body: bytes, kind: str) -> None:
    response = post_raw(api, base_url, body, "application/json")
    assert response.status_code == 400
    assert response.json() == {"error": f"The request body must be a JSON object, got {kind}"}


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("email", 42, "must be a string, got a number"),
        ("first_name", ["Ada"], "must be a string, got an array"),
        ("domain", {"x": 1}, "must be a string, got an object"),
        ("reveal_personal_emails", "yes", "must be true or false"),
        ("reveal_phone_number", 1, "must be true or false"),
    ],
)
def test_wrong_types_get_422_naming_the_field(
    api: requests.Session, base_url: str, field: str, value: object, problem: str
) -> None:
    response = api.post(f"{base_url}{MATCH}", json={"email": "ada@example.com", field: value})
    assert response.status_code == 422
    body = response.json()
    assert list(body) == ["error"]  # Apollo's 422 envelope: no keys of our own
    assert body["error"].startswith(f"Invalid parameter '{field}': {problem}")


def test_wrong_content_type_gets_415(api: requests.Session, base_url: str) -> None:
    response = post_raw(api, base_url, b"email=ada@example.com", "text/plain")
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]


def test_form_encoded_body_is_read_as_fields(api: requests.Session, base_url: str) -> None:
    response = post_raw(api, base_url, b"email=ada%40example.com", "application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert response.json()["person"]["email"] == "ada@example.com"


def test_body_over_one_mebibyte_gets_413(api: requests.Session, base_url: str) -> None:
    big = b'{"email": "' + b"a" * (1 << 20) + b'"}'
    response = post_raw(api, base_url, big, "application/json")
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]


def test_control_characters_get_422(api: requests.Session, base_url: str) -> None:
    response = api.post(f"{base_url}{MATCH}", json={"first_name": "Ada\x00", "domain": "example.com"})
    assert response.status_code == 422
    assert response.json()["error"].startswith("Invalid parameter 'first_name'")
    assert "control characters" in response.json()["error"]


def test_hundred_kilobyte_string_gets_422(api: requests.Session, base_url: str) -> None:
    response = api.post(f"{base_url}{MATCH}", json={"name": "x" * 100_000, "domain": "example.com"})
    assert response.status_code == 422
    assert response.json()["error"].startswith("Invalid parameter 'name'")
    assert "longer than" in response.json()["error"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hashed_email", "not-a-hash"),
        ("hashed_email", "abc123"),
        ("linkedin_url", "https://example.com/someone"),
        ("linkedin_url", "not a url at all"),
        ("email", "not-an-email"),
        ("id", "12345"),
    ],
)
def test_unparseable_identifiers_get_422_naming_the_field(
    api: requests.Session, base_url: str, field: str, value: str
) -> None:
    response = api.post(f"{base_url}{MATCH}", json={field: value})
    assert response.status_code == 422
    assert response.json() == {"error": response.json()["error"]}
    assert response.json()["error"].startswith(f"Invalid parameter '{field}'")


def test_invalid_utf8_body_gets_400(api: requests.Session, base_url: str) -> None:
    response = post_raw(api, base_url, b'{"email": "\xff\xfe"}', "application/json")
    assert response.status_code == 400
    assert "UTF-8" in response.json()["error"]


def test_deeply_nested_json_gets_a_4xx(api: requests.Session, base_url: str) -> None:
    response = post_raw(api, base_url, b"[" * 100_000 + b"]" * 100_000, "application/json")
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


def test_organization_enrich_without_domain_gets_apollos_422(api: requests.Session, base_url: str) -> None:
    response = api.get(f"{base_url}/api/v1/organizations/enrich")
    assert response.status_code == 422
    assert response.json() == {"error": "Required parameter 'domain' missing"}


def test_bad_input_leaves_the_emulator_answering(api: requests.Session, base_url: str) -> None:
    post_raw(api, base_url, b"{", "application/json")
    post_raw(api, base_url, b"\x00" * 1000, "application/octet-stream")
    response = api.post(f"{base_url}{MATCH}", json={"email": "still@example.com"})
    assert response.status_code == 200


def test_a_first_name_alone_longer_than_a_name_may_be_gets_422(api: requests.Session, base_url: str) -> None:
    response = api.post(f"{base_url}{MATCH}", json={"first_name": "A" * 257})
    assert response.status_code == 422
    assert response.json() == {"error": "Invalid parameter 'first_name': is longer than 256 characters"}


def test_a_webhook_url_whose_host_holds_a_bracket_is_no_url_not_a_500(
    api: requests.Session, base_url: str
) -> None:
    response = api.post(
        f"{base_url}{MATCH}",
        json={"email": "ada@example.com", "reveal_phone_number": True, "webhook_url": "http://a]b/"},
    )
    assert response.status_code == 400
    assert response.json() == NO_WEBHOOK_URL


@pytest.mark.parametrize("path", [MATCH, "/api/v1/people/bulk_match", "/__admin/scenarios", "/__admin/clock"])
def test_an_integer_longer_than_4300_digits_is_a_400_not_a_500(
    api: requests.Session, base_url: str, path: str
) -> None:
    response = post_raw_to(api, base_url + path, b'{"email": ' + b"9" * 5000 + b"}")
    assert response.status_code == 400
    assert response.json() == {"error": "The request body holds an integer longer than 4,300 digits"}


def post_raw_to(api: requests.Session, url: str, data: bytes) -> requests.Response:
    """POST raw JSON bytes to any route."""
    return api.post(url, data=data, headers={"Content-Type": "application/json"})


def test_a_bracketed_string_parameter_in_the_query_is_refused_as_an_object(
    api: requests.Session, base_url: str
) -> None:
    """`email[x]=...` is an object named email (Apollo's Rails reads brackets so), not an unknown name."""
    response = api.post(f"{base_url}{MATCH}?email%5Bx%5D=ada%40example.com")
    assert response.status_code == 422
    assert response.json() == {"error": "Invalid parameter 'email': must be a string, got an object"}


def test_a_bracketed_api_key_in_the_query_is_an_api_key_in_the_query(
    api: requests.Session, base_url: str
) -> None:
    response = api.post(f"{base_url}{MATCH}?api_key%5Bx%5D=abc&email=ada%40example.com")
    assert response.status_code == 422
    assert response.json() == {"error": "API key must be passed in the X-Api-Key header for security reasons"}


@pytest.mark.parametrize(
    "url",
    [
        "http://exa mple.com/hook",  # a space in the host
        "http://example.com/hook\u0085",  # a Unicode line break the published pattern refuses
        "http://example.com:99999/",  # no such port
        "ftp://example.com/hook",
    ],
)
def test_a_webhook_url_the_published_pattern_refuses_is_no_url(
    api: requests.Session, base_url: str, url: str
) -> None:
    asked = {"email": "ada@example.com", "reveal_phone_number": True, "webhook_url": url}
    response = api.post(f"{base_url}{MATCH}", json=asked)
    assert response.status_code == 400
    assert response.json() == NO_WEBHOOK_URL


@pytest.mark.parametrize(
    "url",
    [
        "http://receiver:8080/hook",  # a compose service: one label
        "https://hooks.example.com/apollo?token=abc&team=%20x",
        "http%3A%2F%2F127.0.0.1%3A9000%2Fhook%3Fa%3Db",  # percent-encoded as a whole
        "http://[::1]:8080/hook",
        "http://webhook_receiver.internal/hook",
    ],
)
def test_webhook_urls_real_clients_send_are_accepted_and_fit_the_published_pattern(
    api: requests.Session, base_url: str, url: str
) -> None:
    import re

    from mock_server.domain.params import WEBHOOK_URL_NEEDED_RULE

    assert re.match(WEBHOOK_URL_NEEDED_RULE["pattern"], url)
    asked = {"email": "ada@example.com", "reveal_phone_number": True, "webhook_url": url}
    response = api.post(f"{base_url}{MATCH}", json=asked)
    assert response.status_code == 200
    assert response.json()["person"]["email"] == "ada@example.com"
