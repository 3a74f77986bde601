"""`fakeapollo record`'s settings: refused before anything listens or is sent."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from mock_server.recording.proxy import RecordSettings, is_loopback, settings_problem

BASE = RecordSettings(upstream="http://127.0.0.1:9", out=Path("rec"), api_key="a-long-enough-key")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8765", "http://localhost", "http://[::1]:80", "http://127.3.2.1"]
)
def test_loopback_upstreams_are_recognised(url: str) -> None:
    assert is_loopback(url)


@pytest.mark.parametrize("url", ["https://api.apollo.io", "http://10.0.0.1", "http://127.0.0.1.nip.io"])
def test_other_upstreams_are_not_loopback(url: str) -> None:
    assert not is_loopback(url)


def test_a_local_upstream_needs_no_cap() -> None:
    assert settings_problem(BASE) is None


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"upstream": "https://api.apollo.io"},
            "--max-credits is required when the upstream is not on this machine (it spends real credits)",
        ),
        (
            {"api_key": ""},
            "APOLLO_API_KEY is not set: the recorder forwards with the key from that variable only",
        ),
        ({"api_key": "short"}, "APOLLO_API_KEY is shorter than 8 characters: not an API key"),
        ({"upstream": "ftp://x"}, "--upstream 'ftp://x' must be an http(s) URL, e.g. https://api.apollo.io"),
        ({"max_credits": float("nan")}, "--max-credits must be a finite number, at least 0"),
        ({"max_credits": -1.0}, "--max-credits must be a finite number, at least 0"),
        ({"port": 70000}, "--port must be between 0 and 65535"),
        ({"upstream_timeout": 0.0}, "--upstream-timeout must be above 0 and at most 3600 seconds"),
        (
            {"webhook_allow": ("not a host!",)},
            "--webhook-allow: 'not a host!' is neither a CIDR, a hostname, '*' nor 'none'",
        ),
    ],
)
def test_bad_settings_are_refused_with_the_reason(changes: dict[str, object], problem: str) -> None:
    assert settings_problem(replace(BASE, **changes)) == problem  # type: ignore[arg-type]


def test_a_remote_upstream_with_a_cap_is_accepted() -> None:
    assert settings_problem(replace(BASE, upstream="https://api.apollo.io", max_credits=10)) is None
