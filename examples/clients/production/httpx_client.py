"""A production-style Apollo client on `httpx`, written as a service team would, contract-tested.

Habits of real integrations: an `httpx.Timeout` per request (8 s to read); a timed-out request,
a dropped connection, a 5xx or a 429 retried up to 3 times with capped exponential back-off and
full jitter; `Retry-After` honoured (delta-seconds or an HTTP date, compared as aware UTC times)
up to 15 s, past which the rate limit is reported; a person is a miss when it is null or marked
`match_confidence: "none"`, and every other key is read with a default. Three harmless habits:
`reveal_personal_emails: false` on every people/match, `webhook_url` percent-encoded, and each
distinct bulk detail asked once (repeats answered from the first).

Run as a check-client command (`python httpx_client.py`), or in-process through `Adapter`.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

TIMEOUT = httpx.Timeout(8.0, connect=4.0)
ATTEMPTS = 4  # the first try and 3 retries
BACKOFF_BASE = 0.2
BACKOFF_CAP = 2.0
RETRY_AFTER_LIMIT = 15.0
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


class Failure(Exception):
    """A call that ended without a usable answer; `outcome` is what the caller reports."""

    def __init__(self, outcome: str, detail: str) -> None:
        super().__init__(detail)
        self.outcome = outcome


def seconds_to_wait(header: str | None) -> float | None:
    """What a `Retry-After` value asks for, in seconds from now; None when absent or unreadable."""
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return float(header)
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def jittered(attempt: int) -> float:
    """Full-jitter exponential back-off for retry number `attempt` (0-based)."""
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))


class Apollo:
    """The three calls the service makes: match one person, match up to ten, poll a phone reveal."""

    def __init__(self, api_url: str, api_key: str) -> None:
        self.http = httpx.Client(
            base_url=api_url.rstrip("/") + "/",
            headers={"x-api-key": api_key, "Cache-Control": "no-cache"},
            timeout=TIMEOUT,
        )

    def close(self) -> None:
        """Release the connection pool."""
        self.http.close()

    def send(self, method: str, path: str, payload: dict[str, Any] | None = None) -> httpx.Response:
        """One logical call: retried on timeouts, dropped connections, 5xx and short 429s."""
        response: httpx.Response | None = None
        for attempt in range(ATTEMPTS):
            final = attempt == ATTEMPTS - 1
            try:
                response = self.http.request(method, path, json=payload)
            except httpx.TransportError as exc:  # timeouts, resets, refused connections
                if final:
                    raise Failure("error", f"{type(exc).__name__}: {exc}") from exc
                time.sleep(jittered(attempt))
                continue
            if response.status_code not in RETRIED_STATUSES:
                return response
            if response.status_code == 429:
                wait = seconds_to_wait(response.headers.get("retry-after"))
                if final or (wait is not None and wait > RETRY_AFTER_LIMIT):
                    raise Failure("rate_limited", "Apollo rate limit")
                time.sleep(jittered(attempt) if wait is None else wait)
            elif final:
                raise Failure("error", f"Apollo answered HTTP {response.status_code}")
            else:
                time.sleep(jittered(attempt))
        assert response is not None
        return response

    @staticmethod
    def body(response: httpx.Response) -> dict[str, Any]:
        """The JSON object of a successful answer, or the Failure the status stands for."""
        status = response.status_code
        if status == 401:
            raise Failure("unauthorized", "Apollo refused the API key")
        if status == 403:
            raise Failure("forbidden", "the API key may not call this endpoint")
        if not 200 <= status < 300:
            raise Failure("error", f"Apollo answered HTTP {status}")
        try:
            decoded = response.json()
        except ValueError as exc:
            raise Failure("error", "Apollo's answer is not JSON") from exc
        if not isinstance(decoded, dict):
            raise Failure("error", "Apollo's answer is not a JSON object")
        return decoded

    def match(self, params: dict[str, Any]) -> dict[str, Any]:
        """people/match; the email reveal is explicitly off unless the caller turns it on."""
        payload = dict(params)
        payload.setdefault("reveal_personal_emails", False)
        if isinstance(payload.get("webhook_url"), str):
            payload["webhook_url"] = quote(payload["webhook_url"], safe="")
        return self.body(self.send("POST", "people/match", payload))

    def bulk(self, details: list[dict[str, Any]]) -> list[Any]:
        """people/bulk_match; each distinct detail asked once, the answer spread back over repeats."""
        keys = [json.dumps(detail, sort_keys=True) for detail in details]
        distinct = list(dict.fromkeys(keys))
        answer = self.body(
            self.send("POST", "people/bulk_match", {"details": [json.loads(key) for key in distinct]})
        )
        matches = answer.get("matches")
        if not isinstance(matches, list) or len(matches) != len(distinct):
            raise Failure("error", "the bulk answer does not line up with the details sent")
        by_key = dict(zip(distinct, matches, strict=True))
        return [by_key[key] for key in keys]

    def search(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """People API Search, page by page, until a page is empty or short or total_entries are read."""
        found: list[dict[str, Any]] = []
        per_page = int(params.get("per_page") or 10)
        for page in range(1, 501):  # Apollo shows at most 500 pages
            answer = self.body(self.send("POST", "mixed_people/api_search", {**params, "page": page}))
            people = answer.get("people")
            if not isinstance(people, list):
                raise Failure("error", "the search answer has no list of people")
            found.extend(person for person in people if isinstance(person, dict))
            total = answer.get("total_entries")
            if len(people) < per_page or (isinstance(total, int) and len(found) >= total):
                break
        return found

    def poll(self, request_id: str) -> dict[str, Any]:
        """Poll Webhook Result with `request_id` exactly as Apollo wrote it."""
        return self.body(self.send("GET", f"webhook_result/{request_id}"))


def is_miss(person: Any) -> bool:
    """Nobody matched: a null person, or one marked `match_confidence: "none"`."""
    return not isinstance(person, dict) or person.get("match_confidence") == "none"


def summary(person: dict[str, Any]) -> dict[str, Any]:
    """What the service keeps of a person; absent keys come out as None."""
    organization = person.get("organization")
    company = organization if isinstance(organization, dict) else {}
    return {
        "id": person.get("id"),
        "name": person.get("name") or None,
        "email": person.get("email"),
        "title": person.get("title"),
        "linkedin_url": person.get("linkedin_url"),
        "company_name": company.get("name"),
        "is_email_verified": person.get("email_status") == "verified",
    }


def request_id_as_written(raw: bytes) -> str:
    """The top-level `request_id` of a JSON body, its digits untouched."""
    value = json.loads(raw, parse_int=str).get("request_id")
    if value is None:
        raise Failure("error", "Apollo's answer carries no request_id to poll")
    return str(value)


def merge_webhook(payload: dict[str, Any], state: dict[str, Any] | None) -> dict[str, Any]:
    """Fold one webhook delivery into the per-person store (idempotent, any order of repeats)."""
    store: dict[str, Any] = {pid: dict(entry) for pid, entry in (state or {}).items()}
    for person in payload.get("people") or []:
        if not isinstance(person, dict) or not isinstance(person.get("id"), str):
            continue
        entry = store.setdefault(person["id"], {"phones": [], "emails": []})
        phones = [p.get("sanitized_number") for p in person.get("phone_numbers") or [] if isinstance(p, dict)]
        emails = [e.get("email") for e in person.get("emails") or [] if isinstance(e, dict)]
        entry["phones"] = sorted(set(entry["phones"]) | {p for p in phones if p})
        entry["emails"] = sorted(set(entry["emails"]) | {e for e in emails if e})
    return store


def handle(request: dict[str, Any], api_url: str, api_key: str) -> dict[str, Any]:
    """One check-client job, answered as an outcome."""
    operation = request.get("operation")
    if operation == "receive_webhooks":
        state: dict[str, Any] | None = None
        for payload in request.get("payloads") or []:
            state = merge_webhook(payload, state)
        return {"outcome": "webhook", "state": state}
    apollo = Apollo(api_url, api_key)
    try:
        if operation == "people_match":
            person = apollo.match(request.get("params") or {}).get("person")
            return (
                {"outcome": "no_match"}
                if is_miss(person)
                else {"outcome": "match", "person": summary(person)}
            )
        if operation == "people_bulk_match":
            matches = apollo.bulk(request.get("details") or [])
            return {"outcome": "bulk", "matches": [None if is_miss(m) else summary(m) for m in matches]}
        if operation == "people_match_phones":
            params = {"reveal_personal_emails": False, **(request.get("params") or {})}
            response = apollo.send("POST", "people/match", params)
            apollo.body(response)
            request_id = request_id_as_written(response.content)
            result = apollo.poll(request_id).get("webhook_result") or {}
            numbers = [
                phone.get("sanitized_number")
                for person in result.get("people") or []
                if isinstance(person, dict)
                for phone in person.get("phone_numbers") or []
                if isinstance(phone, dict)
            ]
            return {"outcome": "phones", "request_id": request_id, "phone_numbers": numbers}
        if operation == "search_then_enrich":
            found = apollo.search(request.get("params") or {})
            enriched = [apollo.match({"id": record.get("id")}).get("person") for record in found]
            return {"outcome": "people", "people": [None if is_miss(p) else summary(p) for p in enriched]}
        return {"outcome": "unsupported"}
    except Failure as failure:
        return {"outcome": failure.outcome, "message": str(failure)}
    finally:
        apollo.close()


try:
    from contract_tests import ClientAdapter
except ImportError:  # pragma: no cover - the client itself does not need fakeapollo
    ClientAdapter = object  # type: ignore[assignment,misc]


class Adapter(ClientAdapter):  # type: ignore[misc]
    """The client in-process, for `contract_tests.pytest_contract`."""

    def people_match(self, base_url: str, api_key: str, params: dict[str, Any]) -> dict[str, Any]:
        """One person."""
        return handle({"operation": "people_match", "params": params}, base_url + "/api/v1", api_key)

    def people_bulk_match(self, base_url: str, api_key: str, details: list[dict[str, Any]]) -> dict[str, Any]:
        """Up to ten people."""
        return handle({"operation": "people_bulk_match", "details": details}, base_url + "/api/v1", api_key)

    def people_match_phones(self, base_url: str, api_key: str, params: dict[str, Any]) -> dict[str, Any]:
        """A phone reveal, polled."""
        return handle({"operation": "people_match_phones", "params": params}, base_url + "/api/v1", api_key)

    def search_then_enrich(self, base_url: str, api_key: str, params: dict[str, Any]) -> dict[str, Any]:
        """A search, every page, then each person found enriched by id."""
        return handle({"operation": "search_then_enrich", "params": params}, base_url + "/api/v1", api_key)

    def receive_webhook(self, payload: dict[str, Any], state: Any) -> Any:
        """One webhook delivery."""
        return merge_webhook(payload, state)


if __name__ == "__main__":
    job = json.load(sys.stdin)
    print(json.dumps(handle(job, os.environ["APOLLO_API_URL"], os.environ["APOLLO_API_KEY"])))
