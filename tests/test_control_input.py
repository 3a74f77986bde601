"""Hostile values in control-API bodies and paths: a JSON 400 or 404 before anything is stored, over HTTP."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from route_helpers import ROUTES

from mock_server.config import Config
from mock_server.web.app import create_app
from tests.conftest import ROOT, ServeProcess, people_match, start_serve

JSON = {"Content-Type": "application/json"}
# The refusals of render.parse_body, which reads every control call's body as it reads Apollo's.
NOT_A_NUMBER = "The request body is not valid JSON: {} is not a JSON number"
UNPAIRED = "The request body holds an unpaired surrogate (a \\ud800-\\udfff escape without its pair)"
TOO_DEEP = "The request body is nested too deeply (more than 100 arrays and objects)"
FLOAT_LIMIT = "must be an integer or null, got 1.0 (write 1)"
# F5's key: its team a lone surrogate, written as JSON writes one.
SURROGATE_TEAM = b'{"key": "sk1", "team": "\\ud800", "plan": "free", "credits": 5, "scopes": null}'

# Each control call that reads a body, with %s where a hostile value goes.
BODIES = {
    "clock": ("POST", "/clock", b'{"now": %s}'),
    "advance": ("POST", "/clock/advance", b'{"seconds": %s}'),
    "scenario": (
        "POST",
        "/scenarios",
        b'{"outcome": "match", "match": {"params": {"email": %s}}}',
    ),
    "key": (
        "POST",
        "/keys",
        b'{"key": "k2", "team": "t", "plan": "basic", "scopes": null, "credits": %s}',
    ),
    "key_scenarios": (
        "POST",
        "/keys",
        b'{"key": "k3", "team": "t", "plan": "basic", "credits": 1, "scopes": null,'
        b' "scenarios": [{"outcome": "match", "times": %s}]}',
    ),
    "key_change": ("PATCH", "/keys/test-key", b'{"team": %s}'),
}
HOSTILE = {
    "NaN": (b"NaN", NOT_A_NUMBER.format("NaN")),
    "Infinity": (b"Infinity", NOT_A_NUMBER.format("Infinity")),
    "-Infinity": (b"-Infinity", NOT_A_NUMBER.format("-Infinity")),
    "overflow": (b"1e400", "The request body holds a number too large for a float: 1e400"),
    "high_surrogate": (b'"a\\ud800"', UNPAIRED),
    "low_surrogate": (b'"\\udfff"', UNPAIRED),
}


def control_state(server_url: str) -> dict[str, Any]:
    """What the control API shows of the state a refused call must leave alone; each answer valid JSON."""
    shown = {}
    for name in ("keys", "scenarios", "usage", "requests"):
        response = requests.get(f"{server_url}/__admin/{name}", timeout=30)
        assert response.status_code == 200, (name, response.text)
        shown[name] = response.json()
    shown["clock"] = requests.get(f"{server_url}/__admin/clock", timeout=30).json()["frozen"]
    return shown


def sent_as_is(url: str, method: str, target: str, body: bytes = b"") -> tuple[int, str, bytes]:
    """One request to `target` exactly as written (no slash merged); its status, content type and body."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request(method, target, body=body, headers={**JSON, "x-api-key": "test-key"})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        connection.close()


@pytest.fixture
def state_file_server(tmp_path: Path) -> Iterator[ServeProcess]:
    """A `fakeapollo serve --state-file` of its own."""
    server = start_serve("--state-file", str(tmp_path / "state.sqlite3"))
    try:
        yield server
    finally:
        server.stop()


def nested(levels: int) -> Any:
    """A JSON value of `levels` nested arrays."""
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


# Whole bodies every call refuses alike.
SHAPES = {
    "surrogate_name": (
        b'{"match": {"\\udc00": 1}}',
        UNPAIRED,
    ),
    # The body itself is the first level.
    "101_levels": (json.dumps({"outcome": "match", "params": nested(100)}).encode(), TOO_DEEP),
}
# (method, path, body, error) by call and hostile value.
REFUSALS = {
    **{
        f"{call}-{value}": (method, path, template % raw, message)
        for call, (method, path, template) in BODIES.items()
        for value, (raw, message) in HOSTILE.items()
    },
    **{
        f"{call}-{shape}": (method, path, body, error)
        for call, (method, path, _) in BODIES.items()
        for shape, (body, error) in SHAPES.items()
    },
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_control_body_with_nan_infinity_a_lone_surrogate_or_101_levels_is_a_400_and_nothing_is_stored(
    admin: str, base_url: str, case: str
) -> None:
    method, path, body, error = REFUSALS[case]
    before = control_state(base_url)
    response = requests.request(method, f"{admin}{path}", data=body, headers=JSON, timeout=30)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"error": error}
    assert control_state(base_url) == before
    assert people_match(base_url).status_code == 200


def test_a_scripted_answer_nested_to_exactly_100_levels_is_queued_and_listed(admin: str) -> None:
    # The body, `responses`, its answer and the answer's body: four levels before the answer's own.
    answer = {"body": {"deep": nested(96)}}
    queued = requests.post(
        f"{admin}/scenarios", json={"outcome": "respond", "responses": [answer]}, timeout=30
    )
    assert queued.status_code == 201, queued.text
    listed = requests.get(f"{admin}/scenarios", timeout=30).json()["scenarios"]
    assert listed[0]["responses"] == [answer]
    answer = {"body": {"deep": nested(97)}}
    refused = requests.post(
        f"{admin}/scenarios", json={"outcome": "respond", "responses": [answer]}, timeout=30
    )
    assert refused.status_code == 400
    assert refused.json() == {"error": TOO_DEEP}
    assert len(requests.get(f"{admin}/scenarios", timeout=30).json()["scenarios"]) == 1


def test_a_key_whose_team_is_a_lone_surrogate_is_refused_and_every_key_still_works(
    admin: str, base_url: str
) -> None:
    before = control_state(base_url)
    added = requests.post(f"{admin}/keys", data=SURROGATE_TEAM, headers=JSON, timeout=30)
    assert added.status_code == 400
    assert added.json() == {"error": UNPAIRED}
    assert control_state(base_url) == before
    assert people_match(base_url, "sk1").status_code == 401
    assert people_match(base_url).status_code == 200


@pytest.mark.parametrize(
    ("team", "problem"),
    [
        ("a\r\nb", "must hold no control characters (CR, LF, NUL, tab and the like)"),
        ("a\x00b", "must hold no control characters (CR, LF, NUL, tab and the like)"),
        ("a\tb", "must hold no control characters (CR, LF, NUL, tab and the like)"),
        ("\x7f", "must hold no control characters (CR, LF, NUL, tab and the like)"),
    ],
)
def test_a_key_whose_team_holds_control_characters_is_refused_with_a_400(
    admin: str, base_url: str, team: str, problem: str
) -> None:
    before = control_state(base_url)
    entry = {"key": "sk1", "team": team, "plan": "basic", "credits": 5, "scopes": None}
    added = requests.post(f"{admin}/keys", json=entry, timeout=30)
    changed = requests.patch(f"{admin}/keys/test-key", json={"team": team}, timeout=30)
    for response in (added, changed):
        assert response.status_code == 400
        assert response.json() == {"error": f"Invalid key: team: {problem}"}
    assert control_state(base_url) == before
    printable = requests.post(f"{admin}/keys", json={**entry, "team": "équipe 7 — ünï"}, timeout=30)
    assert printable.status_code == 201
    assert people_match(base_url, "sk1").status_code == 200


@pytest.mark.parametrize(
    ("scopes", "place"),
    [([f"api/v1/e{i}" for i in range(101)], "scopes"), (["api/v1/" + "a" * 194], "scopes[0]")],
)
def test_a_key_with_more_than_100_scopes_or_a_scope_over_200_characters_is_refused_with_a_400(
    admin: str, base_url: str, scopes: list[str], place: str
) -> None:
    before = control_state(base_url)
    entry = {"key": "sk1", "team": "t", "plan": "basic", "credits": 5, "scopes": scopes}
    added = requests.post(f"{admin}/keys", json=entry, timeout=30)
    assert added.status_code == 400
    # Schema messages longer than 200 characters are cut to 197 and "..." (mock_server/domain/data.py).
    shown = repr(scopes if place == "scopes" else scopes[0])
    too_long = f"{shown} is too long"
    assert added.json() == {"error": f"Invalid key: $.keys[0].{place}: {too_long[:197]}..."}
    assert control_state(base_url) == before
    assert people_match(base_url).status_code == 200


def test_with_a_state_file_a_lone_surrogate_team_is_refused_and_usage_still_answers(
    state_file_server: ServeProcess,
) -> None:
    url = state_file_server.url
    before = control_state(url)
    added = requests.post(f"{url}/__admin/keys", data=SURROGATE_TEAM, headers=JSON, timeout=30)
    changed = requests.patch(
        f"{url}/__admin/keys/test-key", data=b'{"team": "\\ud800"}', headers=JSON, timeout=30
    )
    queued = requests.post(
        f"{url}/__admin/scenarios",
        data=b'{"outcome": "match", "match": {"api_key": "\\ud800"}}',
        headers=JSON,
        timeout=30,
    )
    for response in (added, changed, queued):
        assert response.status_code == 400
        assert response.json() == {"error": UNPAIRED}
    assert people_match(url, "sk1").status_code == 401
    assert people_match(url).status_code == 200
    after = control_state(url)
    assert after["keys"] == before["keys"] and after["scenarios"] == before["scenarios"]
    teams = [[team["team"] for team in state["usage"]["teams"]] for state in (before, after)]
    assert teams[0] == teams[1]


@pytest.mark.parametrize("spelling", ["1.0", "1e0", "10E-1"])
def test_a_rate_limit_written_as_a_float_is_refused_and_an_integer_one_gives_integer_headers(
    admin: str, base_url: str, spelling: str
) -> None:
    before = control_state(base_url)
    body = (
        b'{"key": "sk2", "team": "t", "plan": "custom", "credits": 5, "scopes": null,'
        b' "limits": {"minute": %s, "hour": null, "day": null}}' % spelling.encode()
    )
    added = requests.post(f"{admin}/keys", data=body, headers=JSON, timeout=30)
    assert added.status_code == 400
    assert added.json() == {"error": f"Invalid key: limits.minute: {FLOAT_LIMIT}"}
    changed = requests.patch(
        f"{admin}/keys/load-test-key",
        data=b'{"limits": {"minute": null, "hour": %s, "day": null}}' % spelling.encode(),
        headers=JSON,
        timeout=30,
    )
    assert changed.status_code == 400
    assert changed.json() == {"error": f"Invalid key: limits.hour: {FLOAT_LIMIT}"}
    assert control_state(base_url) == before

    whole = body.replace(spelling.encode(), b"1")
    added = requests.post(f"{admin}/keys", data=whole, headers=JSON, timeout=30)
    assert added.status_code == 201
    assert added.json()["limits"] == {"minute": 1, "hour": None, "day": None}
    answer = people_match(base_url, "sk2")
    assert answer.status_code == 200
    assert answer.headers["x-rate-limit-minute"] == "1"
    assert answer.headers["x-minute-requests-left"] == "0"


@pytest.mark.parametrize(
    ("entry", "violation"),
    [
        (
            '{"key": "sk1", "team": "\\ud800", "plan": "free", "credits": 5, "scopes": null}',
            "$.keys[0].team: must be valid Unicode (no lone surrogates)",
        ),
        (
            '{"key": "sk1", "team": "a\\nb", "plan": "free", "credits": 5, "scopes": null}',
            "$.keys[0].team: must hold no control characters (CR, LF, NUL, tab and the like)",
        ),
        (
            '{"key": "sk1", "team": "t", "plan": "custom", "credits": 5, "scopes": null,'
            ' "limits": {"minute": 1.0, "hour": null, "day": null}}',
            f"$.keys[0].limits.minute: {FLOAT_LIMIT}",
        ),
        (
            '{"key": "sk1", "team": "t", "plan": "free", "credits": NaN, "scopes": null}',
            "$.keys[0].credits: must be a finite number from 0 to 1e12, or null",
        ),
        (
            '{"key": "sk1", "team": "t", "plan": "free", "credits": 1, "scopes": null, "credit_price": NaN}',
            "$.keys[0].credit_price: must be a finite number above 0, at most 100",
        ),
    ],
)
def test_a_keys_file_holding_what_the_control_api_refuses_stops_the_start_with_a_clear_message(
    tmp_path: Path, entry: str, violation: str
) -> None:
    path = tmp_path / "keys.json"
    path.write_text(f'{{"keys": [{entry}]}}')
    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--keys", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    refusal = f"fakeapollo: cannot start: {path} does not conform to key_registry (1 violation(s)):"
    assert result.stderr == f"{refusal}\n  {violation}\n"


def test_a_doubled_slash_in_a_control_path_is_a_json_404_and_the_journal_is_kept(
    admin: str, base_url: str
) -> None:
    assert people_match(base_url).status_code == 200
    before = control_state(base_url)
    assert len(before["requests"]["requests"]) == 1
    for target in ("/__admin//requests", "//__admin/requests", "/__admin/requests/"):
        for method in ("DELETE", "GET"):
            status, content_type, body = sent_as_is(base_url, method, target)
            assert (status, content_type) == (404, "application/json")
            assert json.loads(body) == {"error": f"No route for {method} {target}"}
    assert control_state(base_url) == before


# A value for each parameter of the Flask app's routes.
SAMPLE_PARAMETERS = {"key": "test-key", "scenario_id": "scn_1", "filename": "inspector.js"}


def flask_routes() -> list[tuple[str, str]]:
    """Every (method, path) the Flask app serves, a sample value in each path parameter."""
    app = create_app(Config())
    try:
        rules = list(app.url_map.iter_rules())
    finally:
        app.extensions["fakeapollo"].close()
    routes = []
    for rule in rules:
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda m: SAMPLE_PARAMETERS[m.group(1)], rule.rule)
        routes += [(method, path) for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]
    return routes


def one_slash_away(path: str) -> list[str]:
    """Spellings of `path` that differ by one slash: doubled at the start, doubled inside, one at the end."""
    spellings = ["/" + path, path.rstrip("/") if path.endswith("/") and path != "/" else path + "/"]
    if path.count("/") > 1:
        spellings.append(path.replace("/", "//", 2).replace("//", "/", 1))
    return spellings


FLASK_ROUTES = flask_routes()


@pytest.mark.parametrize(("method", "path"), FLASK_ROUTES)
def test_no_route_of_the_control_app_redirects_a_path_one_slash_away(
    admin: str, base_url: str, method: str, path: str
) -> None:
    assert people_match(base_url).status_code == 200
    before = control_state(base_url)
    for target in one_slash_away(path):
        status, content_type, body = sent_as_is(base_url, method, target, b"{}" if method != "GET" else b"")
        assert (status, content_type) == (404, "application/json"), (target, body[:200])
        assert json.loads(body) == {"error": f"No route for {method} {target}"}
    after = control_state(base_url)
    if not path.startswith("/__admin/"):  # 404s outside the control API are journaled
        del before["requests"], after["requests"]
    assert after == before


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_apollos_routes_still_answer_and_their_doubled_slash_spellings_stay_json_404s(
    admin: str, base_url: str, method: str, path: str
) -> None:
    body = b"{}" if method not in ("GET", "HEAD") else b""
    status, content_type, body = sent_as_is(base_url, method, path, body)
    assert not 300 <= status < 400 and status != 500
    assert not body.startswith(b'{"error":"No route')
    for target in ("/" + path, path.replace("/v1/", "/v1//")):
        status, content_type, body = sent_as_is(base_url, method, target)
        assert (status, content_type) == (404, "application/json")
        if method != "HEAD":
            assert json.loads(body) == {"error": f"No route for {method} {target}"}


def test_the_inspector_page_is_served_at_its_address_and_one_slash_away_is_a_json_404(base_url: str) -> None:
    page = requests.get(f"{base_url}/__admin/ui/", timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    status, content_type, body = sent_as_is(base_url, "GET", "/__admin/ui")
    assert (status, content_type) == (404, "application/json")
    assert json.loads(body) == {"error": "No route for GET /__admin/ui"}
