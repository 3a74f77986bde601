"""A JSON body is refused where Ruby's JSON.parse refuses; the encoder writes valid JSON or refuses."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.domain.encoding import NotEncodable, dumps
from mock_server.domain.errors import MalformedRequest
from mock_server.web.render import MAX_BODY_DEPTH, parse_body
from tests.test_hostile_json_values import strict

HALVES = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff", "a\ud83d", "\ude00b"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63, max_value=2**300)
    | st.floats()
    | st.text(max_size=12)
    | HALVES
)
VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6) | HALVES, inner, max_size=4)
    ),
    max_leaves=12,
)


def wrapped(value: Any, depth: int) -> Any:
    """`value` inside `depth` arrays."""
    for _ in range(depth):
        value = [value]
    return value


def acceptable(value: Any, depth: int = 0) -> bool:
    """What Ruby's JSON.parse reads: at most 100 levels, finite numbers, no unpaired surrogate."""
    if isinstance(value, dict):
        return depth < MAX_BODY_DEPTH and all(
            acceptable(k, depth + 1) and acceptable(v, depth + 1) for k, v in value.items()
        )
    if isinstance(value, list):
        return depth < MAX_BODY_DEPTH and all(acceptable(v, depth + 1) for v in value)
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return not any("\ud800" <= c <= "\udfff" for c in value)
    return True


@settings(max_examples=300, deadline=None)
@given(value=VALUES, depth=st.integers(min_value=0, max_value=MAX_BODY_DEPTH + 3))
def test_a_body_is_read_exactly_when_ruby_would_and_what_is_read_encodes_as_valid_json(
    value: Any, depth: int
) -> None:
    text = json.dumps({"x": wrapped(value, depth)}).encode()  # escapes: unpaired halves stay unpaired
    expected = acceptable(json.loads(text))
    try:
        document = parse_body(text, "application/json", "application/json")
    except MalformedRequest:
        assert not expected
    else:
        assert expected
        # orjson reads an integer past 64 bits as a float: the same number, if not to the last digit.
        assert set(strict(dumps(document))) == {"x"}


@settings(max_examples=300, deadline=None)
@given(value=VALUES, depth=st.integers(min_value=0, max_value=300))
def test_the_encoder_writes_valid_json_or_refuses(value: Any, depth: int) -> None:
    try:
        encoded = dumps(wrapped(value, depth))
    except NotEncodable:
        return
    strict(encoded)


def test_the_encoder_refuses_nan_beside_a_65_bit_integer_at_any_depth() -> None:
    for depth in (0, 10, 254, 256, 900):
        with pytest.raises(NotEncodable):
            dumps(wrapped([float("nan"), 2**64], depth))
