"""Properties of a journal entry's one-line input: bounded, one line, never a secret, never raising."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.domain.journal import INPUT_CHARS, SENSITIVE_PARAMS, request_input

SECRET = "s3cret-value-never-shown"
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=120)
JSON: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=20), inner, max_size=6),
    max_leaves=20,
)
NAMES = st.sampled_from(["email", "name", "domain", "details", "id", "page"]) | st.text(max_size=20)


@settings(max_examples=60, deadline=None)
@given(params=st.dictionaries(NAMES, JSON, max_size=12) | st.text(max_size=2000) | JSON)
def test_the_input_is_one_bounded_line_whatever_the_request(params: Any) -> None:
    shown = request_input(params)
    assert len(shown) <= INPUT_CHARS
    assert "\n" not in shown and "\r" not in shown


@settings(max_examples=40, deadline=None)
@given(params=st.dictionaries(NAMES, JSON, max_size=6), secret_name=st.sampled_from(sorted(SENSITIVE_PARAMS)))
def test_a_secret_named_parameter_never_shows(params: dict[str, Any], secret_name: str) -> None:
    assert SECRET not in request_input({**params, secret_name: SECRET, "nested": {secret_name: SECRET}})


def test_a_request_nested_deeper_than_python_recurses_still_shows() -> None:
    deep: dict[str, Any] = {"email": "ada@example.com"}
    for _ in range(5000):
        deep = {"details": [deep]}
    assert request_input(deep).startswith("details=[{details=[")
