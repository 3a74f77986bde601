"""The built wheel carries the schemas and fixtures, and data.py finds them there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

_PROBE = """
import json, sys
import mock_server
from mock_server import data
from mock_server.openapi import build_openapi
from mock_server.matching import Identity
from mock_server.directory import PersonDirectory
from mock_server.persons import render
data.validate("people_match.response", {"person": data.load_fixture_persons()[0]})
generated = PersonDirectory(0, []).find(Identity("email", "ana@example.de"))
print(json.dumps({
    "generated": render(generated, reveal_personal_emails=False)["email"],
    "package": mock_server.__file__,
    "schemas": str(data.schemas_dir()),
    "fixtures": str(data.fixtures_dir()),
    "title": data.load_schema("people_match.response")["title"],
    "persons": len(data.load_fixture_persons()),
    "keys": [entry["key"] for entry in data.load_key_registry()["keys"]],
    "components": len(build_openapi()["components"]["schemas"]),
}))
"""


@pytest.mark.slow
def test_installed_wheel_finds_its_schemas_and_fixtures(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = tmp_path.glob("fakeapollo-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(site)
    assert "mock_server/_data/schemas/people_match.response.json" in names
    assert "mock_server/_data/fixtures/keys.json" in names
    assert "mock_server/_data/fixtures/persons/tim-zheng.json" in names
    assert "mock_server/name_pools.json" in names
    assert {"mock_server/py.typed", "contract_tests/py.typed"} <= set(names)
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)

    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    probe = json.loads(result.stdout)
    assert Path(probe["package"]).is_relative_to(site)
    assert Path(probe["schemas"]) == site / "mock_server" / "_data" / "schemas"
    assert Path(probe["fixtures"]) == site / "mock_server" / "_data" / "fixtures"
    assert probe["title"] == "people/match 200"
    assert probe["persons"] == len(list((REPO / "fixtures" / "persons").glob("*.json")))
    assert probe["keys"] == ["test-key", "free-plan-key", "load-test-key"]
    assert probe["components"] > 20
    assert probe["generated"] == "ana@example.de"  # generation reads the shipped name pools
