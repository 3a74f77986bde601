"""The error hierarchy: one base; Apollo's answers apart from the server's, control and recorder refusals."""

from __future__ import annotations

import inspect

import pytest
import requests

from mock_server.domain import errors
from mock_server.domain.errors import (
    ApolloError,
    ControlError,
    FakeApolloError,
    RecorderError,
    ServerRefusal,
)
from mock_server.domain.keys import KeyRegistry
from mock_server.domain.scenarios import scenario_from_document
from mock_server.domain.store import MemoryStore
from mock_server.recording.proxy import CreditCapReached, UpstreamUnreachable

BRANCHES = (ApolloError, ServerRefusal, ControlError, RecorderError)


def test_every_error_class_sits_on_exactly_one_branch() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, FakeApolloError)]
    leaves = [c for c in classes if c is not FakeApolloError and c not in BRANCHES]
    assert len(leaves) > 15
    for cls in [*leaves, CreditCapReached, UpstreamUnreachable]:
        assert sum(issubclass(cls, branch) for branch in BRANCHES) == 1, cls


def test_the_recorders_refusals_are_not_apollos_answers() -> None:
    refusal = UpstreamUnreachable("ConnectError")
    assert isinstance(refusal, RecorderError) and not isinstance(refusal, ApolloError)
    assert issubclass(CreditCapReached, RecorderError)


def test_a_bad_scenario_document_is_a_control_refusal() -> None:
    with pytest.raises(ControlError) as refused:
        scenario_from_document({"outcome": "no_such_outcome"}, "scn_1")
    assert not isinstance(refused.value, ApolloError)
    assert refused.value.status == 400


def test_a_duplicate_key_is_a_control_conflict() -> None:
    entry = {"key": "dup-key-1", "team": "t", "plan": "basic", "credits": 5, "scopes": None}
    registry = KeyRegistry.from_document({"keys": [entry]}, MemoryStore())
    with pytest.raises(ControlError) as refused:
        registry.add(entry)
    assert refused.value.status == 409
    assert refused.value.body == {
        "error": "This key exists already; change it with PATCH /__admin/keys/{key}"
    }


def test_control_api_refusal_renders_status_and_exact_body(admin: str) -> None:
    response = requests.delete(f"{admin}/scenarios/scn_nope", timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"error": "No scenario with id 'scn_nope'"}


def test_apollo_answer_and_server_refusal_render_through_the_same_handler(base_url: str) -> None:
    unknown = requests.post(f"{base_url}/api/v1/people/match", json={"email": "a@b.com"}, timeout=10)
    assert unknown.status_code == 401
    assert unknown.text == "Invalid access credentials."
    malformed = requests.post(
        f"{base_url}/api/v1/people/match",
        data=b"[1]",
        headers={"x-api-key": "test-key", "Content-Type": "application/json"},
        timeout=10,
    )
    assert malformed.status_code == 400
    assert malformed.json() == {"error": "The request body must be a JSON object, got an array"}
