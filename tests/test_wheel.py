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
from mock_server.domain import data
from mock_server.web.openapi import build_openapi
from mock_server.domain.matching import Identity
from mock_server.domain.directory import PersonDirectory
from mock_server.domain.persons import render
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


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, built once."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=120,
    )
    (built,) = out.glob("fakeapollo-*.whl")
    return built


@pytest.mark.slow
def test_installed_wheel_finds_its_schemas_and_fixtures(tmp_path: Path, wheel: Path) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(site)
    assert "mock_server/_data/schemas/people_match.response.json" in names
    assert "mock_server/_data/fixtures/keys.json" in names
    assert "mock_server/_data/fixtures/persons/tim-zheng.json" in names
    assert "mock_server/domain/name_pools.json" in names
    assert {"mock_server/py.typed", "contract_tests/py.typed"} <= set(names)
    inspector = {f"mock_server/web/static/{name}" for name in ("index.html", "inspector.js", "inspector.css")}
    assert inspector <= set(names)
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


_NEWCOMER_CONFTEST = """
import pytest


@pytest.fixture(scope="session")
def fakeapollo_options():
    return {"seed": 3, "webhook_delay": "0", "admin_token": "t0ken"}
"""

_NEWCOMER_TEST = """
import mock_server
import requests


def test_the_installed_plugin_serves_with_my_options(fakeapollo):
    assert "site-packages" in mock_server.__file__
    answer = requests.post(fakeapollo.api_url + "/people/match", json={"email": "tim@apollo.io"},
                           headers={"x-api-key": fakeapollo.api_key})
    assert answer.json()["person"]["name"] == "Tim Zheng"
    assert fakeapollo.service.config.seed == 3
    page = requests.get(fakeapollo.url + "/__admin/ui/")
    assert page.status_code == 200 and "inspector.js" in page.text
    assert requests.get(fakeapollo.url + "/__admin/ui/assets/inspector.js").status_code == 200
    auth = {"Authorization": "Bearer t0ken"}
    assert requests.get(fakeapollo.url + "/__admin/clock", headers=auth).status_code == 200
"""


@pytest.mark.slow
def test_a_new_project_installs_the_wheel_and_uses_the_fixture(tmp_path: Path, wheel: Path) -> None:
    """README's install section, into a separate project's own venv (dependencies borrowed, offline)."""
    import sysconfig
    import venv

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
    )
    # This checkout's venv lends the dependencies (pytest, flask, ...) without its editable fakeapollo.
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    project = tmp_path / "my-project"
    (project / "tests").mkdir(parents=True)
    (project / "tests" / "conftest.py").write_text(_NEWCOMER_CONFTEST, encoding="utf-8")
    (project / "tests" / "test_apollo.py").write_text(_NEWCOMER_TEST, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    result = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    command = subprocess.run(
        [str(env_dir / "bin" / "fakeapollo"), "serve", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert command.returncode == 0 and "--no-bundled-fixtures" in command.stdout
