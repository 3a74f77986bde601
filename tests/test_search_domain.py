"""People and company search over the directory, and a team's own contacts and accounts in every store."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_server.config import Config
from mock_server.domain import prospecting
from mock_server.domain.clock import Clock
from mock_server.domain.directory import PersonDirectory
from mock_server.domain.errors import Unprocessable
from mock_server.domain.keys import ApiKey, KeyRegistry
from mock_server.domain.params import parse_match
from mock_server.domain.service import Enrichment, Receipt
from mock_server.domain.store import MemoryStore, Store
from mock_server.stores.redis_store import RedisStore
from mock_server.stores.sqlite_store import SqliteStore

RECORDED = Path(__file__).parent / "data" / "recorded"
TEAM_A = ApiKey(key="key-a", team="team-a", plan="professional", credits=None, scopes=None)
TEAM_B = ApiKey(key="key-b", team="team-b", plan="professional", credits=None, scopes=None)


def service(store: Store | None = None, seed: int = 7) -> Enrichment:
    """An Enrichment service on `store` with two teams' keys."""
    store = store if store is not None else MemoryStore()
    clock = Clock(state=store.clock_state)
    return Enrichment(
        Config(seed=seed), clock, store, KeyRegistry([TEAM_A, TEAM_B]), PersonDirectory(seed, [])
    )


def call(svc: Enrichment, operation: Any, params: dict[str, Any], key: ApiKey = TEAM_A) -> dict[str, Any]:
    """Run one operation as its route would."""
    result: dict[str, Any] = operation(svc, key, params, None, Receipt())
    return result


def enriched(svc: Enrichment, key: ApiKey = TEAM_A, **query: str) -> dict[str, Any]:
    """people/match's person as the client receives it."""
    person = svc.people_match(key, parse_match(query))["person"]
    decoded: dict[str, Any] = json.loads(person.raw) if not isinstance(person, dict) else person
    return decoded


@pytest.fixture(scope="module")
def svc() -> Enrichment:
    """One service for the read-only search tests (its directory's caches warm across them)."""
    return service()


def test_a_searched_person_is_the_same_person_when_enriched_by_id_or_email(svc: Enrichment) -> None:
    people = call(svc, prospecting.people_api_search, {"per_page": 5, "person_titles": ["engineer"]})[
        "people"
    ]
    assert len(people) == 5
    for thin in people:
        by_id = enriched(svc, id=thin["id"])
        by_email = enriched(svc, email=by_id["email"])
        for person in (by_id, by_email):
            assert person["id"] == thin["id"]
            assert person["first_name"] == thin["first_name"]
            assert person["title"] == thin["title"]
            assert person["organization"]["name"] == thin["organization"]["name"]
        assert thin["last_name_obfuscated"] == by_id["last_name"][:2] + "***" + by_id["last_name"][-1]


def test_the_same_search_with_the_same_seed_gives_the_same_pages() -> None:
    params = {"person_seniorities": ["director", "vp"], "page": 3, "per_page": 7}
    first = call(service(seed=11), prospecting.people_api_search, params)
    assert first == call(service(seed=11), prospecting.people_api_search, params)
    assert first != call(service(seed=12), prospecting.people_api_search, params)


def test_people_search_records_have_exactly_the_recorded_keys(svc: Enrichment) -> None:
    recorded = json.loads((RECORDED / "mixed_people_api_search_5-people_nango_2026-05-18.json").read_text())
    body = call(svc, prospecting.people_api_search, {"per_page": 3})
    assert list(body) == list(recorded["body"])
    want = recorded["body"]["people"][0]
    for person in body["people"]:
        assert list(person) == list(want)
        assert list(person["organization"]) == list(want["organization"])
        assert person["has_direct_phone"] in (
            "Yes",
            "Maybe: please request direct dial via people/bulk_match",
        )


def test_filters_narrow_the_people_found(svc: Enrichment) -> None:
    everyone = call(svc, prospecting.people_api_search, {"per_page": 100})["total_entries"]
    ceos = call(svc, prospecting.people_api_search, {"person_titles[]": ["CEO"], "per_page": 100})
    assert 0 < ceos["total_entries"] < everyone
    assert all("CEO" in p["title"] or "Chief Executive" in p["title"] for p in ceos["people"])
    germany = call(svc, prospecting.people_api_search, {"person_locations": ["Germany"], "per_page": 20})
    assert 0 < germany["total_entries"] < everyone
    for thin in germany["people"][:3]:
        assert enriched(svc, id=thin["id"])["country"] == "Germany"
    nobody = call(svc, prospecting.people_api_search, {"person_titles": ["Astronaut"]})
    assert nobody == {"total_entries": 0, "people": []}


def test_people_at_a_named_company_work_there(svc: Enrichment) -> None:
    body = call(
        svc,
        prospecting.people_api_search,
        {"q_organization_domains_list": ["acme-widgets.io"], "per_page": 100},
    )
    assert 0 < body["total_entries"] == len(body["people"]) <= 100
    for thin in body["people"][:3]:
        assert enriched(svc, id=thin["id"])["organization"]["primary_domain"] == "acme-widgets.io"


def test_pages_follow_on_and_stop_at_the_total(svc: Enrichment) -> None:
    params: dict[str, Any] = {"q_organization_domains_list": ["pages-example.com"], "per_page": 4}
    total = call(svc, prospecting.people_api_search, params)["total_entries"]
    seen = []
    for page in range(1, total // 4 + 3):
        seen += [
            p["id"] for p in call(svc, prospecting.people_api_search, {**params, "page": page})["people"]
        ]
    assert len(seen) == len(set(seen)) == total


def test_per_page_is_cut_to_a_hundred_and_pages_past_five_hundred_are_empty(svc: Enrichment) -> None:
    assert len(call(svc, prospecting.people_api_search, {"per_page": 500})["people"]) == 100
    assert call(svc, prospecting.people_api_search, {"page": 501})["people"] == []


def test_malformed_filters_get_apollos_422(svc: Enrichment) -> None:
    for params in ({"person_titles": [1]}, {"page": "first"}, {"organization_num_employees_ranges": ["a,b"]}):
        with pytest.raises(Unprocessable) as raised:
            call(svc, prospecting.people_api_search, params)
        assert raised.value.body == {"error": "Invalid parameters"}


def test_organization_search_finds_the_named_company_first_with_apollos_pagination(svc: Enrichment) -> None:
    body = call(
        svc, prospecting.organization_search, {"q_organization_name": "Brightpath Analytics", "per_page": 2}
    )
    recorded = json.loads(
        (RECORDED / "mixed_companies_search_q-name-apollo_nango_2026-05-18.json").read_text()
    )
    assert [k for k in body if k != "has_join"] == [k for k in recorded["body"] if k != "has_join"]
    first = body["organizations"][0]
    assert first["name"] == "Brightpath Analytics"
    assert body["model_ids"] == [o["id"] for o in body["organizations"]]
    pagination = body["pagination"]
    assert pagination["total_pages"] == -(-pagination["total_entries"] // 2)
    assert body["breadcrumbs"][0]["signal_field_name"] == "q_organization_name"
    # The organization found is the one its domain and its id enrich to.
    assert (
        svc.organization_enrich(TEAM_A, {"domain": first["primary_domain"]})["organization"]["id"]
        == first["id"]
    )
    shown = call(svc, prospecting.organization_show, {"organization_id": first["id"]})["organization"]
    assert shown["primary_domain"] == first["primary_domain"]


def test_an_organization_id_from_company_search_finds_its_staff(svc: Enrichment) -> None:
    org = call(svc, prospecting.organization_search, {"q_organization_name": "Nimbus Freight", "per_page": 1})
    org_id = org["organizations"][0]["id"]
    people = call(svc, prospecting.people_api_search, {"organization_ids": [org_id], "per_page": 50})[
        "people"
    ]
    assert people and all(p["organization"]["name"] == "Nimbus Freight" for p in people)


def test_job_postings_and_unknown_organization_ids(svc: Enrichment) -> None:
    org = call(svc, prospecting.organization_search, {"q_organization_domains_list": ["hiring-example.com"]})
    jobs = call(svc, prospecting.job_postings, {"organization_id": org["model_ids"][0]})
    assert set(jobs) == {"organization_job_postings"}
    for job in jobs["organization_job_postings"]:
        assert list(job) == ["id", "title", "url", "city", "state", "country", "last_seen_at", "posted_at"]
    with pytest.raises(Unprocessable) as raised:
        call(svc, prospecting.organization_show, {"organization_id": "0" * 24})
    assert raised.value.body == {"error": f"Parameters misconfigured. {'0' * 24} is not a valid ID"}


# -- a team's contacts and accounts, in every store -----------------------------------------------


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each backend in turn; Redis on a real server under a prefix of its own."""
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        yield SqliteStore(tmp_path / "state.sqlite3")
    else:
        redis_store = RedisStore(request.getfixturevalue("redis_url"), prefix=f"test-{uuid.uuid4().hex}")
        yield redis_store
        redis_store.close()


def _a_person(svc: Enrichment) -> dict[str, Any]:
    thin = call(svc, prospecting.people_api_search, {"q_organization_domains_list": ["crm-example.com"]})[
        "people"
    ][0]
    return enriched(svc, id=thin["id"])


def test_a_contact_made_of_a_person_shows_on_that_teams_enrichments_only(store: Store) -> None:
    svc = service(store)
    person = _a_person(svc)
    created = call(
        svc,
        prospecting.contacts_create,
        {"first_name": person["first_name"], "last_name": person["last_name"], "email": person["email"]},
    )
    contact = created["contact"]
    assert contact["person_id"] == person["id"]
    assert enriched(svc, id=person["id"])["contact_id"] == contact["id"]
    assert enriched(svc, TEAM_A, email=person["email"])["contact"]["id"] == contact["id"]
    assert enriched(svc, TEAM_B, id=person["id"]).get("contact_id") != contact["id"]
    found = call(svc, prospecting.contacts_search, {"q_keywords": person["last_name"]})
    assert [c["id"] for c in found["contacts"]] == [contact["id"]]
    assert call(svc, prospecting.contacts_search, {}, TEAM_B)["contacts"] == []
    svc.reset()
    assert call(svc, prospecting.contacts_search, {})["contacts"] == []


def test_bulk_create_returns_matches_unchanged_only_with_run_dedupe(store: Store) -> None:
    svc = service(store)
    first = {"first_name": "Ada", "last_name": "Byron", "email": "ada@bulk-example.com", "title": "Countess"}
    call(svc, prospecting.contacts_create, first)
    again = {
        "contacts": [{**first, "title": "Engineer"}, {"first_name": "Alan", "email": "alan@bulk-example.com"}]
    }
    deduped = call(svc, prospecting.contacts_bulk_create, {**again, "run_dedupe": True})
    assert [c["first_name"] for c in deduped["created_contacts"]] == ["Alan"]
    assert [c["title"] for c in deduped["existing_contacts"]] == ["Countess"]
    plain = call(svc, prospecting.contacts_bulk_create, again)
    assert (len(plain["created_contacts"]), len(plain["existing_contacts"])) == (2, 0)
    with pytest.raises(Unprocessable) as raised:
        call(svc, prospecting.contacts_bulk_create, {"contacts": [first] * 101})
    assert raised.value.body == {"error": "Please limit your array to 100 contacts or fewer."}


def test_create_with_run_dedupe_updates_the_match_in_place(store: Store) -> None:
    svc = service(store)
    made = call(
        svc, prospecting.contacts_create, {"first_name": "Grace", "email": "grace@dedupe-example.com"}
    )
    again = call(
        svc,
        prospecting.contacts_create,
        {"email": "grace@dedupe-example.com", "title": "Admiral", "run_dedupe": "true"},
    )
    assert again["contact"]["id"] == made["contact"]["id"]
    assert (
        call(svc, prospecting.contact_show, {"contact_id": made["contact"]["id"]})["contact"]["title"]
        == "Admiral"
    )


def test_accounts_link_to_organizations_and_update(store: Store) -> None:
    svc = service(store)
    account = call(svc, prospecting.accounts_create, {"name": "Linked Co", "domain": "linked-example.com"})[
        "account"
    ]
    organization = svc.organization_enrich(TEAM_A, {"domain": "linked-example.com"})["organization"]
    assert organization["account_id"] == account["id"] == organization["account"]["id"]
    assert (
        svc.organization_enrich(TEAM_B, {"domain": "linked-example.com"})["organization"].get("account_id")
        != account["id"]
    )
    updated = call(svc, prospecting.account_update, {"account_id": account["id"], "name": "Renamed Co"})[
        "account"
    ]
    assert updated["name"] == "Renamed Co"
    found = call(svc, prospecting.accounts_search, {"q_organization_name": "renamed"})
    assert [a["id"] for a in found["accounts"]] == [account["id"]]
    with pytest.raises(Unprocessable):
        call(svc, prospecting.account_show, {"account_id": account["id"]}, TEAM_B)


def test_every_answer_validates_strictly_against_its_schema() -> None:
    from mock_server.domain import data

    svc = service()
    org = call(svc, prospecting.organization_search, {"q_organization_name": "Schema Check", "per_page": 3})
    org_id = org["model_ids"][0]
    people = call(svc, prospecting.people_api_search, {"organization_ids": [org_id], "per_page": 3})
    person = enriched(svc, id=people["people"][0]["id"])
    contact = call(svc, prospecting.contacts_create, {"email": person["email"], "label_names": ["hot"]})
    account = call(svc, prospecting.accounts_create, {"domain": "schema-check.com", "phone": "555-555-0100"})
    contact_id, account_id = contact["contact"]["id"], account["account"]["id"]
    answers = {
        "mixed_people_api_search.response": people,
        "mixed_companies_search.response": call(
            svc, prospecting.organization_search, {"q_organization_name": "Schema Check"}
        ),
        "organization_show.response": call(svc, prospecting.organization_show, {"organization_id": org_id}),
        "organization_job_postings.response": call(
            svc, prospecting.job_postings, {"organization_id": org_id}
        ),
        "auth_health.response": call(svc, prospecting.auth_health, {}),
        "contacts_create.response": contact,
        "contacts_show.response": call(svc, prospecting.contact_show, {"contact_id": contact_id}),
        "contacts_search.response": call(svc, prospecting.contacts_search, {}),
        "contacts_bulk_create.response": call(
            svc, prospecting.contacts_bulk_create, {"contacts": [{"first_name": "A"}]}
        ),
        "accounts_create.response": call(
            svc, prospecting.account_update, {"account_id": account_id, "name": "S"}
        ),
        "accounts_show.response": call(svc, prospecting.account_show, {"account_id": account_id}),
        "accounts_search.response": call(svc, prospecting.accounts_search, {}),
        "accounts_bulk_create.response": call(
            svc, prospecting.accounts_bulk_create, {"accounts": [{"name": "B"}]}
        ),
    }
    assert enriched(svc, id=person["id"])["contact"]["id"] == contact_id
    for schema, answer in answers.items():
        assert data.violations(schema, answer, strict=True) == [], schema
    assert (
        data.violations("people_match.response", {"person": enriched(svc, id=person["id"])}, strict=True)
        == []
    )


def test_people_search_is_free_and_organization_search_costs_a_credit_a_page() -> None:
    capped = ApiKey(key="key-c", team="team-c", plan="professional", credits=5, scopes=None)
    store = MemoryStore()
    svc = Enrichment(
        Config(seed=7), Clock(state=store.clock_state), store, KeyRegistry([capped]), PersonDirectory(7, [])
    )
    call(svc, prospecting.people_api_search, {"per_page": 5}, capped)
    assert svc.ledger.balance("team-c").left == 5
    receipt = Receipt()
    prospecting.organization_search(svc, capped, {"q_organization_name": "Credit Co"}, None, receipt)
    assert receipt.credits == 1 and svc.ledger.balance("team-c").left == 4


def test_a_scoped_key_needs_the_endpoint_in_its_scope() -> None:
    from mock_server.domain.errors import Forbidden

    scoped = ApiKey(
        key="k", team="t", plan="professional", credits=None, scopes=frozenset({"api/v1/people/match"})
    )
    svc = service()
    with pytest.raises(Forbidden) as raised:
        svc.authorize(scoped, prospecting.PEOPLE_API_SEARCH)
    assert raised.value.body == {
        "error": "This API key is not authorized to access api/v1/mixed_people/api_search. Request an API "
        "key from your administrator that includes this endpoint in its configured scope.",
        "error_code": "API_INACCESSIBLE",
    }
