"""The control API's protection: an admin token, or no control API at all."""

from __future__ import annotations

import requests

from tests.conftest import start_serve


def test_admin_token_is_required_when_set() -> None:
    server = start_serve("--admin-token", "s3cret-admin")
    try:
        url = f"{server.url}/__admin/requests"
        missing = requests.get(url, timeout=10)
        wrong = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=10)
        right = requests.get(url, headers={"Authorization": "Bearer s3cret-admin"}, timeout=10)
        assert missing.status_code == 401 and wrong.status_code == 401
        assert missing.json() == {"error": "The control API needs 'Authorization: Bearer <admin token>'"}
        assert right.status_code == 200
        assert right.json()["requests"] == []
        reset = requests.post(f"{server.url}/__admin/reset", timeout=10)
        assert reset.status_code == 401
        api = requests.post(
            f"{server.url}/api/v1/people/match", json={"email": "a@b.com"}, headers={"x-api-key": "test-key"}
        )
        assert api.status_code == 200  # the Apollo routes do not need the admin token
    finally:
        server.stop()


def test_no_admin_removes_the_control_api() -> None:
    server = start_serve("--no-admin")
    try:
        for method, path in [("GET", "requests"), ("POST", "reset"), ("GET", "clock"), ("POST", "scenarios")]:
            response = requests.request(method, f"{server.url}/__admin/{path}", timeout=10)
            assert response.status_code == 404
            assert "error" in response.json()
        assert (
            requests.post(
                f"{server.url}/api/v1/people/match",
                json={"email": "a@b.com"},
                headers={"x-api-key": "test-key"},
            ).status_code
            == 200
        )
    finally:
        server.stop()
