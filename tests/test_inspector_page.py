"""The inspector page is served by the emulator from the package, offline, and only with the control API."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from mock_server.config import Config
from mock_server.web.app import create_app
from mock_server.web.inspector import ASSETS

ASSET_NAMES = ("index.html", "inspector.js", "inspector.css")


def _client(config: Config) -> FlaskClient:
    return create_app(config).test_client()


def test_the_page_and_its_assets_are_served_without_the_admin_token() -> None:
    client = _client(Config(admin_token="secret"))
    page = client.get("/__admin/ui/")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert 'src="assets/inspector.js"' in page.get_data(as_text=True)
    assert client.get("/__admin/ui/assets/inspector.js").status_code == 200
    assert client.get("/__admin/ui/assets/inspector.css").status_code == 200
    outcomes = client.get("/__admin/ui/outcomes.json").get_json()["outcomes"]
    assert "rate_limited" in outcomes and "match" in outcomes
    # The data behind the page still needs the token.
    assert client.get("/__admin/requests").status_code == 401


def test_the_page_loads_nothing_from_other_hosts() -> None:
    for name in ASSET_NAMES:
        text = (ASSETS / name).read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", text), name
        assert "@import" not in text and "url(http" not in text, name
        assert not re.search(r"fetch\([\"'`]https?:", text), name


def test_no_admin_removes_the_page() -> None:
    client = _client(Config(admin=False))
    assert client.get("/__admin/ui/").status_code == 404
    assert client.get("/__admin/ui/assets/inspector.js").status_code == 404


def test_the_page_does_not_journal_itself() -> None:
    client = _client(Config())
    client.get("/__admin/ui/")
    client.get("/__admin/ui/assets/inspector.js")
    client.get("/__admin/requests")
    assert client.get("/__admin/requests").get_json()["requests"] == []
