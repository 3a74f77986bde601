"""Property tests: arbitrary JSON and bytes on every route never get a 5xx or a non-JSON body."""

from __future__ import annotations

import json
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from route_helpers import ROUTES as OPERATION_ROUTES

ROUTES = [*OPERATION_ROUTES, ("POST", "/v1/people/bulk_match"), ("POST", "/api/v1/nowhere")]
PARAMETERS = [
    "email",
    "first_name",
    "last_name",
    "name",
    "domain",
    "organization_name",
    "id",
    "hashed_email",
    "linkedin_url",
    "reveal_personal_emails",
    "reveal_phone_number",
    "webhook_url",
    "run_waterfall_email",
    "run_waterfall_phone",
    "details",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
apollo_like = st.dictionaries(st.sampled_from(PARAMETERS), json_values, max_size=5)
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _assert_apollo_style(response: requests.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code == 401:
        assert response.headers["Content-Type"].startswith("text/plain")
        return
    assert response.headers["Content-Type"].startswith("application/json")
    json.loads(response.text)


@FUZZ
@given(route=st.sampled_from(ROUTES), body=json_values | apollo_like, authenticated=st.booleans())
def test_arbitrary_json_bodies_get_a_clean_answer(
    base_url: str, route: tuple[str, str], body: Any, authenticated: bool
) -> None:
    method, path = route
    headers = {"x-api-key": "test-key"} if authenticated else {}
    _assert_apollo_style(requests.request(method, base_url + path, json=body, headers=headers, timeout=10))


@FUZZ
@given(
    route=st.sampled_from(ROUTES),
    raw=st.binary(max_size=200),
    content_type=st.sampled_from(
        ["application/json", "application/x-www-form-urlencoded", "text/plain", "", "multipart/form-data"]
    ),
)
def test_arbitrary_bytes_get_a_clean_answer(
    base_url: str, route: tuple[str, str], raw: bytes, content_type: str
) -> None:
    method, path = route
    headers = {"x-api-key": "test-key", "Content-Type": content_type}
    _assert_apollo_style(requests.request(method, base_url + path, data=raw, headers=headers, timeout=10))


@FUZZ
@given(params=st.dictionaries(st.sampled_from(PARAMETERS), st.text(max_size=40), max_size=5))
def test_arbitrary_query_strings_get_a_clean_answer(base_url: str, params: dict[str, str]) -> None:
    response = requests.post(
        f"{base_url}/api/v1/people/match", params=params, headers={"x-api-key": "test-key"}, timeout=10
    )
    _assert_apollo_style(response)
