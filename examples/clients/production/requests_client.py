"""A production-style Apollo client on `requests`: the habits of real integrations, contract-tested.

Timeouts per request (5 s to connect, 8 s to read); up to 3 retries of timeouts, connection errors,
5xx and 429 with exponential back-off and jitter; `Retry-After` honoured (seconds or an HTTP date,
read as UTC whatever the machine's zone) up to a cap, past which the rate limit is reported. Three
harmless habits: `reveal_personal_emails: false` always sent unless asked for, `webhook_url`
percent-encoded, and an identical bulk detail asked only once. Request ids are kept as written.

Run as a check-client command (`python requests_client.py`) or in-process through `Adapter`.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import requests

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 8.0
MAX_RETRIES = 3
BACKOFF = 0.25
#: A Retry-After longer than this is reported as rate limited instead of waited out.
RETRY_AFTER_CAP = 10.0


class ApolloError(Exception):
    """Apollo answered something this client reports as a failure."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # "unauthorized" | "forbidden" | "rate_limited" | "error"


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _backoff(attempt: int) -> float:
    return BACKOFF * 2**attempt + random.uniform(0, 0.05)


class Client:
    """people/match, bulk_match and Poll Webhook Result with production retry habits."""

    def __init__(self, api_url: str, api_key: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"x-api-key": api_key, "Accept": "application/json"})

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> requests.Response:
        """One call with retries; the last response (2xx or a failure no retry fixes)."""
        for attempt in range(MAX_RETRIES + 1):
            last = attempt == MAX_RETRIES
            try:
                response = self.session.request(
                    method, self.api_url + path, json=body, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                if last:
                    raise ApolloError("error", f"network error: {exc}") from exc
                time.sleep(_backoff(attempt))
                continue
            if response.status_code == 429:
                wait = _retry_after(response)
                if last or (wait is not None and wait > RETRY_AFTER_CAP):
                    raise ApolloError("rate_limited", response.text[:200])
                time.sleep(_backoff(attempt) if wait is None else wait)
                continue
            if response.status_code >= 500:
                if last:
                    raise ApolloError("error", f"HTTP {response.status_code}")
                time.sleep(_backoff(attempt))
                continue
            return response
        raise AssertionError("unreachable")

    def json(self, response: requests.Response) -> Any:
        """The body of a 2xx answer, or the failure it stands for."""
        if response.status_code == 401:
            raise ApolloError("unauthorized", response.text[:200])
        if response.status_code == 403:
            raise ApolloError("forbidden", response.text[:200])
        if response.status_code >= 400:
            raise ApolloError("error", f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            data = response.json()
        except ValueError as exc:
            raise ApolloError("error", "malformed JSON") from exc
        if not isinstance(data, dict):
            raise ApolloError("error", "not a JSON object")
        return data

    def match(self, params: dict[str, Any]) -> dict[str, Any]:
        """people/match with the habits: reveal_personal_emails false unless asked, webhook_url encoded."""
        body = {"reveal_personal_emails": False, **params}
        if "webhook_url" in body:
            body["webhook_url"] = quote(str(body["webhook_url"]), safe="")
        data: dict[str, Any] = self.json(self.call("POST", "/people/match", body))
        return data

    def bulk(self, details: list[dict[str, Any]]) -> list[Any]:
        """bulk_match asking each distinct detail once; matches placed back by position."""
        unique: list[dict[str, Any]] = []
        for detail in details:
            if detail not in unique:
                unique.append(detail)
        data = self.json(self.call("POST", "/people/bulk_match", {"details": unique}))
        matches = data.get("matches")
        if not isinstance(matches, list) or len(matches) != len(unique):
            raise ApolloError("error", "bulk answer does not line up with the details")
        return [matches[unique.index(detail)] for detail in details]

    def search(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """People API Search, page after page, until a page is empty or short or total_entries are read."""
        found: list[dict[str, Any]] = []
        per_page = int(params.get("per_page") or 10)
        for page in range(1, 501):  # Apollo shows at most 500 pages
            data = self.json(self.call("POST", "/mixed_people/api_search", {**params, "page": page}))
            people = data.get("people")
            if not isinstance(people, list):
                raise ApolloError("error", "api_search answer without people")
            found += [person for person in people if isinstance(person, dict)]
            total = data.get("total_entries")
            if len(people) < per_page or (isinstance(total, int) and len(found) >= total):
                break
        return found

    def poll(self, request_id: str) -> dict[str, Any]:
        """Poll Webhook Result for `request_id` (as Apollo wrote it), waiting out a pending result."""
        for _ in range(MAX_RETRIES + 1):
            response = self.call("GET", f"/webhook_result/{request_id}")
            if response.status_code == 404 and "result_pending" in response.text:
                wait = float(response.json().get("retry_after_seconds") or 1)
                time.sleep(min(wait, RETRY_AFTER_CAP))
                continue
            data: dict[str, Any] = self.json(response)
            return data
        raise ApolloError("error", "the webhook result stayed pending")


def _miss(person: Any) -> bool:
    return not isinstance(person, dict) or person.get("match_confidence") == "none"


def _person(record: dict[str, Any]) -> dict[str, Any]:
    organization = record.get("organization") if isinstance(record.get("organization"), dict) else {}
    return {
        "id": record["id"],
        "name": record.get("name"),
        "email": record.get("email"),
        "title": record.get("title"),
        "organization_name": organization.get("name"),
        "email_verified": record.get("email_status") == "verified",
    }


def receive_webhook(payload: dict[str, Any], state: dict[str, Any] | None) -> dict[str, Any]:
    """Keep each person's phone numbers and emails; idempotent, whatever the request_id."""
    stored = {key: {k: list(v) for k, v in value.items()} for key, value in (state or {}).items()}
    for person in payload.get("people") or []:
        if not isinstance(person, dict) or not isinstance(person.get("id"), str):
            continue
        entry = stored.setdefault(person["id"], {"phones": [], "emails": []})
        phones = {p.get("sanitized_number") for p in person.get("phone_numbers") or [] if isinstance(p, dict)}
        emails = {e.get("email") for e in person.get("emails") or [] if isinstance(e, dict)}
        entry["phones"] = sorted({*entry["phones"], *(p for p in phones if p)})
        entry["emails"] = sorted({*entry["emails"], *(e for e in emails if e)})
    return stored


def run(request: dict[str, Any], api_url: str, api_key: str) -> dict[str, Any]:
    """One check-client request, as an outcome."""
    client = Client(api_url, api_key)
    operation = request.get("operation")
    try:
        if operation == "people_match":
            data = client.match(request.get("params", {}))
            person = data.get("person")
            return (
                {"outcome": "no_match"} if _miss(person) else {"outcome": "match", "person": _person(person)}
            )
        if operation == "people_bulk_match":
            matches = client.bulk(request["details"])
            return {"outcome": "bulk", "matches": [None if _miss(m) else _person(m) for m in matches]}
        if operation == "people_match_phones":
            response = client.call(
                "POST", "/people/match", {"reveal_personal_emails": False, **request["params"]}
            )
            client.json(response)
            request_id = _raw_request_id(response.text)
            result = client.poll(request_id)
            payload = result.get("webhook_result") or {}
            numbers = [
                phone.get("sanitized_number")
                for person in payload.get("people") or []
                for phone in person.get("phone_numbers") or []
            ]
            return {"outcome": "phones", "request_id": request_id, "phone_numbers": numbers}
        if operation == "search_then_enrich":
            people = [
                client.match({"id": record["id"]}).get("person")
                for record in client.search(request["params"])
            ]
            return {"outcome": "people", "people": [None if _miss(p) else _person(p) for p in people]}
        if operation == "receive_webhooks":
            state: dict[str, Any] | None = None
            for payload in request["payloads"]:
                state = receive_webhook(payload, state)
            return {"outcome": "webhook", "state": state}
        return {"outcome": "unsupported"}
    except ApolloError as exc:
        return {"outcome": exc.kind, "message": str(exc)}


def _raw_request_id(text: str) -> str:
    """The top-level request_id exactly as written (Python's ints are exact; kept as text anyway)."""
    value = json.loads(text).get("request_id")
    if value is None:
        raise ApolloError("error", "no request_id to poll")
    return str(value)


try:
    from contract_tests import ClientAdapter
except ImportError:  # pragma: no cover - the client itself does not need fakeapollo
    ClientAdapter = object  # type: ignore[assignment,misc]


class Adapter(ClientAdapter):  # type: ignore[misc]
    """The client in-process, for `contract_tests.pytest_contract`."""

    def people_match(self, base_url: str, api_key: str, params: dict[str, Any]) -> dict[str, Any]:
        """One person."""
        return run({"operation": "people_match", "params": params}, base_url + "/api/v1", api_key)

    def people_bulk_match(self, base_url: str, api_key: str, details: list[dict[str, Any]]) -> dict[str, Any]:
        """Up to 10 people."""
        return run({"operation": "people_bulk_match", "details": details}, base_url + "/api/v1", api_key)

    def people_match_phones(self, base_url: str, api_key: str, params: dict[str, Any]) -> dict[str, Any]:
        """Phones through Poll Webhook Result."""
        return run({"operation": "people_match_phones", "params": params}, base_url + "/api/v1", api_key)

    def search_then_enrich(self, base_url: str, api_key: str, params: dict[str, Any]) -> dict[str, Any]:
        """Search every page, then enrich each person found by id."""
        return run({"operation": "search_then_enrich", "params": params}, base_url + "/api/v1", api_key)

    def receive_webhook(self, payload: dict[str, Any], state: Any) -> Any:
        """One webhook delivery."""
        return receive_webhook(payload, state)


if __name__ == "__main__":
    outcome = run(json.load(sys.stdin), os.environ["APOLLO_API_URL"], os.environ["APOLLO_API_KEY"])
    print(json.dumps(outcome))
