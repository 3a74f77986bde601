"""A well-behaved Apollo People Enrichment client (requests), contract-tested by fakeapollo.

Three ways to use this file:

- as a library: `ApolloClient(api_url, api_key).people_match(email="ada@example.com")`;
- as a command speaking fakeapollo's check-client protocol (one JSON request on stdin, one JSON
  outcome on stdout; the URL and key come from APOLLO_API_URL and APOLLO_API_KEY):
  `fakeapollo check-client --cmd "python examples/clients/python_client.py"`;
- in-process from pytest through `PythonClientAdapter` (see tests/test_contract_examples.py).

What makes it well-behaved: the key goes in `x-api-key` only; `{"person": null}` and a stub person
marked `match_confidence: "none"` are misses, not errors; every field may be missing or null; 4xx
answers are never retried; a 429 is retried after `Retry-After` (seconds or an HTTP date; at most 3
times, and only when the wait is short); 5xx and connection errors are retried with a short backoff;
a request that times out is reported, not retried; a body that is not JSON is an error; bulk matches
stay positional; a search is read page by page until a page comes back empty or short.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests

MAX_RETRIES = 3
#: Apollo shows at most 500 pages of a search (docs/apollo-facts.md 7.2).
MAX_PAGES = 500
#: A 429 asking to wait longer than this is reported instead of waited out.
MAX_RETRY_AFTER = 5.0
#: Seconds to wait for Apollo to connect and to answer: longer than fakeapollo's 1.5 s slow-answer
#: budget, shorter than check-client's 10 s run timeout.
TIMEOUT = 3.0


class ApolloError(Exception):
    """Apollo answered something the client cannot use."""


class AuthError(ApolloError):
    """401: the API key is missing or wrong."""


class ForbiddenError(ApolloError):
    """403: the key's plan or scope does not cover the endpoint."""


class RateLimitedError(ApolloError):
    """429: too many calls; `retry_after` says when to come back."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Person:
    """The fields this application uses; any of them may be missing."""

    id: str
    name: str | None = None
    email: str | None = None
    title: str | None = None
    organization_name: str | None = None


class ApolloClient:
    """people/match and people/bulk_match with retries done right."""

    def __init__(self, api_url: str, api_key: str, *, timeout: float = TIMEOUT, session: Any = None) -> None:
        self.api_url = api_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.session = session or requests.Session()

    # -- what applications call

    def people_match(self, **params: Any) -> Person | None:
        """The person Apollo matches for `params`, or None for `{"person": null}`."""
        data = self.post("/people/match", params)
        record = data.get("person")
        if record is None or is_stub(record):
            return None
        if not isinstance(record, dict):
            raise ApolloError(f"unexpected person: {record!r}")
        return self.parse_person(record)

    def match_phones(self, **params: Any) -> tuple[str, list[str]]:
        """people/match asking for phones, then Poll Webhook Result: (request_id as written, numbers)."""
        data = self.post("/people/match", params)
        request_id = self.request_id(data)
        result = self.get(f"/webhook_result/{request_id}")
        payload = result.get("webhook_result") or {}
        numbers = [
            str(phone.get("sanitized_number"))
            for person in payload.get("people") or []
            if isinstance(person, dict)
            for phone in person.get("phone_numbers") or []
            if isinstance(phone, dict)
        ]
        return request_id, numbers

    def search_people(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """People API Search, every page: until a page is empty or short, or `total_entries` are read."""
        found: list[dict[str, Any]] = []
        per_page = int(params.get("per_page") or 10)
        for page in range(1, MAX_PAGES + 1):
            data = self.post("/mixed_people/api_search", {**params, "page": page})
            people = data.get("people")
            if not isinstance(people, list):
                raise ApolloError("api_search answer without people")
            found += [p for p in people if isinstance(p, dict)]
            total = data.get("total_entries")
            if len(people) < per_page or (isinstance(total, int) and len(found) >= total):
                break
        return found

    def search_then_enrich(self, params: dict[str, Any]) -> list[Person | None]:
        """Everyone a search finds, each enriched by id, in search order: None where enrichment misses."""
        return [self.people_match(id=record["id"]) for record in self.search_people(params)]

    def request_id(self, data: dict[str, Any]) -> str:
        """The answer's request_id as written (Python's integers are exact)."""
        value = data.get("request_id")
        if value is None:
            raise ApolloError("no request_id to poll")
        return str(value)

    def bulk_match(self, details: list[dict[str, Any]]) -> list[Person | None]:
        """Positional matches for up to 10 people: None where Apollo matched nobody."""
        data = self.post("/people/bulk_match", {"details": details})
        matches = data.get("matches")
        if not isinstance(matches, list):
            raise ApolloError("bulk_match answer without matches")
        return [self.parse_person(m) if isinstance(m, dict) and not is_stub(m) else None for m in matches]

    # -- the parts broken variants override

    def parse_person(self, record: dict[str, Any]) -> Person:
        """A Person from Apollo's record; every field but `id` may be missing or null."""
        organization = record.get("organization")
        org_name = organization.get("name") if isinstance(organization, dict) else None
        return Person(
            id=record["id"],
            name=record.get("name"),
            email=record.get("email"),
            title=record.get("title"),
            organization_name=org_name,
        )

    def body(self, params: dict[str, Any]) -> dict[str, Any]:
        """The JSON body sent for `params`."""
        return dict(params)

    def retry_delay(self, response: requests.Response | None, attempt: int) -> float | None:
        """Seconds to wait before retrying after `response` (None: a network error); None: do not retry."""
        if attempt >= MAX_RETRIES:
            return None
        if response is None or response.status_code >= 500:
            return 0.05 * 2**attempt
        if response.status_code == 429:
            wait = _retry_after(response)
            return wait if wait <= MAX_RETRY_AFTER else None
        return None

    # -- HTTP

    def post(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """POST to Apollo, retrying what can be retried; a dict, or one of the errors above."""
        return self.send("POST", path, self.body(params))

    def get(self, path: str) -> dict[str, Any]:
        """GET from Apollo, retrying what can be retried."""
        return self.send("GET", path, None)

    def send(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        """One call with the retry rules; a dict, or one of the errors above."""
        attempt = 0
        while True:
            try:
                response = self.session.request(
                    method,
                    self.api_url + path,
                    json=body,
                    headers={"x-api-key": self.api_key, "Accept": "application/json"},
                    timeout=self.timeout,
                )
            except requests.Timeout as exc:
                raise ApolloError(f"Apollo did not answer within {self.timeout:g} s") from exc
            except requests.RequestException as exc:
                delay = self.retry_delay(None, attempt)
                if delay is None:
                    raise ApolloError(f"network error: {exc}") from exc
            else:
                if response.ok:
                    return _json_object(response)
                delay = self.retry_delay(response, attempt)
                if delay is None:
                    raise _error_for(response)
            time.sleep(delay)
            attempt += 1


def is_stub(record: Any) -> bool:
    """A person Apollo marks as no match (`match_confidence: "none"`): a miss, not a person."""
    return isinstance(record, dict) and record.get("match_confidence") == "none"


def _retry_after(response: requests.Response) -> float:
    """Seconds to wait: `Retry-After` in seconds or as an HTTP date; 1 s when absent or unreadable."""
    value = response.headers.get("Retry-After", "1").strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return 1.0


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError as exc:
        raise ApolloError(f"malformed JSON from Apollo (HTTP {response.status_code})") from exc
    if not isinstance(data, dict):
        raise ApolloError("Apollo's answer is not a JSON object")
    return data


def _error_for(response: requests.Response) -> ApolloError:
    text = response.text[:200]
    if response.status_code == 401:
        return AuthError(text)
    if response.status_code == 403:
        return ForbiddenError(text)
    if response.status_code == 429:
        return RateLimitedError(text, _retry_after(response))
    return ApolloError(f"HTTP {response.status_code}: {text}")


# --------------------------------------------------------------------------- webhooks


def receive_webhook(payload: dict[str, Any], state: dict[str, Any] | None) -> dict[str, Any]:
    """Store the phone numbers and emails of a webhook payload; delivering it twice changes nothing."""
    stored: dict[str, Any] = {k: dict(v) for k, v in (state or {}).items()}
    for person in payload.get("people") or []:
        if not isinstance(person, dict) or not isinstance(person.get("id"), str):
            continue
        entry = stored.setdefault(person["id"], {"phones": [], "emails": []})
        phones = set(entry["phones"]) | {
            p["sanitized_number"] for p in person.get("phone_numbers") or [] if isinstance(p, dict)
        }
        emails = set(entry["emails"]) | {
            e["email"] for e in person.get("emails") or [] if isinstance(e, dict) and "email" in e
        }
        entry["phones"], entry["emails"] = sorted(phones), sorted(emails)
    return stored


# --------------------------------------------------------------------------- the contract protocol


def run_operation(
    request: dict[str, Any], api_url: str, api_key: str, client_class: type[ApolloClient] = ApolloClient
) -> dict[str, Any]:
    """Do what a check-client request asks and translate the result into an outcome."""
    client = client_class(api_url, api_key)
    operation = request.get("operation")
    try:
        if operation == "people_match":
            person = client.people_match(**request.get("params", {}))
            if person is None:
                return {"outcome": "no_match"}
            return {"outcome": "match", "person": asdict(person)}
        if operation == "people_bulk_match":
            matches = client.bulk_match(request["details"])
            return {"outcome": "bulk", "matches": [asdict(m) if m else None for m in matches]}
        if operation == "people_match_phones":
            request_id, numbers = client.match_phones(**request.get("params", {}))
            return {"outcome": "phones", "request_id": request_id, "phone_numbers": numbers}
        if operation == "search_then_enrich":
            people = client.search_then_enrich(request.get("params", {}))
            return {"outcome": "people", "people": [asdict(p) if p else None for p in people]}
        if operation == "receive_webhooks":
            state: dict[str, Any] | None = None
            for payload in request["payloads"]:
                state = receive_webhook(payload, state)
            return {"outcome": "webhook", "state": state}
        return {"outcome": "unsupported"}
    except AuthError:
        return {"outcome": "unauthorized"}
    except ForbiddenError:
        return {"outcome": "forbidden"}
    except RateLimitedError:
        return {"outcome": "rate_limited"}
    except ApolloError as exc:
        return {"outcome": "error", "message": str(exc)}


def main(client_class: type[ApolloClient] = ApolloClient) -> int:
    """check-client protocol: one JSON request on stdin, one JSON outcome on stdout."""
    request = json.load(sys.stdin)
    api_url = os.environ.get("APOLLO_API_URL") or os.environ["APOLLO_BASE_URL"] + "/api/v1"
    outcome = run_operation(request, api_url, os.environ["APOLLO_API_KEY"], client_class)
    print(json.dumps(outcome))
    return 0


try:  # the adapter needs fakeapollo's contract_tests; the client itself does not
    from contract_tests import ClientAdapter
except ImportError:  # pragma: no cover
    ClientAdapter = object  # type: ignore[assignment,misc]


class PythonClientAdapter(ClientAdapter):  # type: ignore[misc]
    """Runs this client in-process for `contract_tests.pytest_contract` and `check_adapter`."""

    client_class: type[ApolloClient] = ApolloClient

    def people_match(self, base_url: str, api_key: str, params: dict[str, Any]) -> dict[str, Any]:
        """One person."""
        request = {"operation": "people_match", "params": params}
        return run_operation(request, base_url + "/api/v1", api_key, self.client_class)

    def people_bulk_match(self, base_url: str, api_key: str, details: list[dict[str, Any]]) -> dict[str, Any]:
        """Up to 10 people."""
        request = {"operation": "people_bulk_match", "details": details}
        return run_operation(request, base_url + "/api/v1", api_key, self.client_class)

    def people_match_phones(self, base_url: str, api_key: str, params: dict[str, Any]) -> dict[str, Any]:
        """Phones through Poll Webhook Result."""
        request = {"operation": "people_match_phones", "params": params}
        return run_operation(request, base_url + "/api/v1", api_key, self.client_class)

    def search_then_enrich(self, base_url: str, api_key: str, params: dict[str, Any]) -> dict[str, Any]:
        """Search every page, then enrich each person found by id."""
        request = {"operation": "search_then_enrich", "params": params}
        return run_operation(request, base_url + "/api/v1", api_key, self.client_class)

    def receive_webhook(self, payload: dict[str, Any], state: Any) -> Any:
        """One webhook delivery."""
        return receive_webhook(payload, state)


def adapter_for(client_class: type[ApolloClient]) -> PythonClientAdapter:
    """An adapter running `client_class` (the broken variants use this)."""
    adapter = PythonClientAdapter()
    adapter.client_class = client_class
    return adapter


if __name__ == "__main__":
    sys.exit(main())
