"""In-process figures: the first person for never-seen emails, through the in-process client and service."""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable

from mock_server.config import Config
from mock_server.domain.matching import MatchQuery, resolve
from mock_server.domain.params import parse_match
from mock_server.domain.service import Enrichment
from mock_server.web.app import create_app
from mock_server.web.inprocess import client as inprocess_client

KEY = "load-test-key"


def fresh_emails(tag: str, count: int) -> list[str]:
    """`count` emails nobody asked for before, each at its own never-seen domain too."""
    return [f"fresh.{tag}{i}@{tag}-co{i}.example.org" for i in range(count)]


def timed(call: Callable[[str], object], emails: list[str]) -> list[float]:
    """Microseconds `call` took for each email."""
    samples = []
    for email in emails:
        started = time.perf_counter()
        call(email)
        samples.append((time.perf_counter() - started) * 1e6)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    """Median, p90 and p99 of microsecond samples."""
    ordered = sorted(samples)
    return {
        "median_us": statistics.median(ordered),
        "p90_us": ordered[int(len(ordered) * 0.9) - 1],
        "p99_us": ordered[int(len(ordered) * 0.99) - 1],
    }


def main(count: int) -> dict[str, dict[str, float]]:
    """Measure the three paths over `count` fresh emails each (after a short warm-up)."""
    app = create_app(Config())
    service: Enrichment = app.extensions["fakeapollo"]
    client = inprocess_client(app)
    api_key = service.authenticate(KEY, {})
    headers = {"x-api-key": KEY}

    def through_client(email: str) -> object:
        response = client.post("/api/v1/people/match", json={"email": email}, headers=headers)
        assert response.status_code == 200, response.status_code
        return response.content

    def through_service(email: str) -> object:
        return service.people_match(api_key, parse_match({"email": email}))

    def through_directory(email: str) -> object:
        identity = resolve(MatchQuery(email=email))
        assert identity is not None
        return service.directory.find(identity)

    results = {}
    try:
        paths = (("client", through_client), ("service", through_service), ("find", through_directory))
        for name, call in paths:
            timed(call, fresh_emails(f"warm{name}", 50))
            results[name] = summary(timed(call, fresh_emails(name, count)))
    finally:
        client.close()
        service.close()
    return results


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)))
