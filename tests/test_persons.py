"""The person directory: fixtures, aliases, deterministic generation (directory, generation, persons)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from mock_server.domain import data
from mock_server.domain.directory import PersonDirectory
from mock_server.domain.generation import PARTIAL_SHARE
from mock_server.domain.matching import Identity, MatchQuery, resolve
from mock_server.domain.persons import Person, render

ROOT = Path(__file__).resolve().parents[1]
TIM = ROOT / "fixtures" / "persons" / "tim-zheng.json"
EU_COUNTRIES = {"Germany", "France", "Spain", "Italy", "Netherlands", "Sweden", "Poland", "Ireland"}


def example_person() -> dict[str, Any]:
    """Apollo's documented people/match example person (the fixture made from the reference page)."""
    person: dict[str, Any] = json.loads(TIM.read_text(encoding="utf-8"))
    return person


def recorded_organization() -> dict[str, Any]:
    """The organization of Apollo's recorded 2026 organizations/enrich answer (the latest key order)."""
    path = ROOT / "tests" / "data" / "recorded" / "organizations_enrich_apollo-io_nango_2026-05-18.json"
    organization: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["body"]["organization"]
    return organization


def assert_in_apollo_order(record: dict[str, Any], example: dict[str, Any]) -> None:
    """`record`'s keys are the example's (some left out) in its order, plus the older docs' extras."""
    assert [key for key in record if key in example] == [key for key in example if key in record]
    # email_domain_catchall: Apollo's 2025-11 guide and 2026 answers (docs/apollo-facts.md 2.1).
    extras = {"hashed_email", "phone_numbers", "postal_code", "formatted_address", "time_zone"}
    extras |= {"email_domain_catchall", "seo_description", "organization_headcount_six_month_growth"}
    assert set(record) - set(example) <= extras


def _current_job(record: dict[str, Any], organization: dict[str, Any]) -> dict[str, Any]:
    """What the current job says when a person's employment_history was left out."""
    return {
        "current": True,
        "end_date": None,
        "organization_id": organization["id"],
        "organization_name": organization["name"],
        "title": record["title"],
        "start_date": "9999",
    }


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def dumps(person: Person | None) -> str:
    assert person is not None
    return json.dumps(render(person, reveal_personal_emails=False))


def find_email(directory: PersonDirectory, email: str) -> Person:
    person = directory.find(Identity("email", email))
    assert person is not None
    return person


@pytest.fixture(scope="module")
def directory() -> PersonDirectory:
    # Complete persons are this module's subject: no thin ones (tests/test_thin_share_properties.py).
    return PersonDirectory(seed=42, fixtures=[example_person()], thin_share=0)


# -- fixtures ---------------------------------------------------------------------------------


def test_shipped_fixtures_include_apollos_example_person() -> None:
    fixtures = data.load_fixture_persons()
    emails = {f.get("email") for f in fixtures}
    assert "tim@apollo.io" in emails
    shipped = PersonDirectory(seed=0, fixtures=fixtures)
    tim = shipped.find(Identity("email", "tim@apollo.io"))
    assert tim is not None
    assert tim.record["first_name"] == "Tim"
    assert shipped.find(Identity("id", tim.id)) is tim


def test_fixture_person_is_found_by_each_of_its_identities(directory: PersonDirectory) -> None:
    example = example_person()
    by_email = directory.find(Identity("email", "tim@apollo.io"))
    assert by_email is not None
    assert render(by_email, reveal_personal_emails=False) == example
    for identity in (
        Identity("id", example["id"]),
        Identity("linkedin", example["linkedin_url"]),
        Identity("hash", md5("tim@apollo.io")),
        Identity("hash", sha256("tim@apollo.io")),
    ):
        assert directory.find(identity) is by_email
    by_name = resolve(MatchQuery(first_name="Tim", last_name="Zheng", domain="apollo.io"))
    assert by_name is not None and directory.find(by_name) is by_email
    by_org = resolve(MatchQuery(name="tim zheng", organization_name="Apollo"))
    assert by_org is not None and directory.find(by_org) is by_email


def test_fixture_organization_serves_organizations_enrich(directory: PersonDirectory) -> None:
    organization = directory.organization_for_domain("https://www.Apollo.io/")
    assert organization is not None
    assert organization["id"] == example_person()["organization"]["id"]
    assert organization["num_languages"] == 0
    data.validate("organization_enrich.response", {"organization": organization}, strict=True)


# -- determinism ------------------------------------------------------------------------------

SUBPROCESS = """
import json, sys
from mock_server.domain.matching import Identity
from mock_server.domain.directory import PersonDirectory
from mock_server.domain.persons import render
person = PersonDirectory(int(sys.argv[1]), []).find(Identity("email", sys.argv[2]))
sys.stdout.write(json.dumps(render(person, reveal_personal_emails=True)))
"""


def test_generation_is_identical_in_another_process() -> None:
    email = "maria.garcia@acme-widgets.es"
    local = json.dumps(render(find_email(PersonDirectory(7, []), email), reveal_personal_emails=True))
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    remote = subprocess.run(
        [sys.executable, "-c", SUBPROCESS, "7", email],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=ROOT,
    ).stdout
    assert remote == local


def test_same_seed_same_person_other_seed_other_person() -> None:
    emails = [f"person{i}@example-corp.com" for i in range(20)]
    first = [dumps(find_email(PersonDirectory(1, []), e)) for e in emails]
    again = [dumps(find_email(PersonDirectory(1, []), e)) for e in emails]
    other = [dumps(find_email(PersonDirectory(2, []), e)) for e in emails]
    assert first == again
    assert all(a != b for a, b in zip(first, other, strict=True))
    ids = {json.loads(p)["id"] for p in first + other}
    assert len(ids) == 40


# -- aliases ----------------------------------------------------------------------------------


def test_identity_chain_returns_the_byte_identical_person() -> None:
    people = PersonDirectory(3, [example_person()])
    for email in ("ana.souza@loja-exemplo.com.br", "dev@startup.io", "x123@gmail.com"):
        person = find_email(people, email)
        reference = dumps(person)
        record = person.record
        chain = [Identity("id", record["id"]), Identity("hash", sha256(email)), Identity("hash", md5(email))]
        if record["linkedin_url"] is not None:
            chain.append(Identity("linkedin", record["linkedin_url"]))
        for identity in chain:
            assert dumps(people.find(identity)) == reference


def test_linkedin_person_is_found_again_by_its_generated_email() -> None:
    people = PersonDirectory(3, [])
    url = "http://www.linkedin.com/in/sarah-connor-1984"
    person = people.find(Identity("linkedin", url))
    assert person is not None
    assert person.record["linkedin_url"] == url
    assert (person.record["first_name"], person.record["last_name"]) == ("Sarah", "Connor")
    if person.record["email"] is not None:
        assert people.find(Identity("email", person.record["email"])) is person
    assert people.find(Identity("id", person.id)) is person


def test_unknown_id_and_unknown_hash_match_nobody() -> None:
    people = PersonDirectory(3, [example_person()])
    assert people.find(Identity("id", "0123456789abcdef01234567")) is None
    assert people.find(Identity("hash", md5("never.seen@acme.com"))) is None
    find_email(people, "never.seen@acme.com")
    assert people.find(Identity("hash", md5("never.seen@acme.com"))) is not None


def test_reset_forgets_issued_ids() -> None:
    people = PersonDirectory(3, [])
    person = find_email(people, "someone@acme.com")
    people.reset()
    assert people.find(Identity("id", person.id)) is None
    assert dumps(find_email(people, "someone@acme.com")) == dumps(person)
    assert people.find(Identity("id", person.id)) is not None


def test_memory_stays_bounded() -> None:
    people = PersonDirectory(3, [], cache_size=50, alias_size=200)
    for i in range(1_000):
        find_email(people, f"user{i}@bounded.com")
    assert len(people._persons) <= 50
    assert len(people._aliases) <= 200
    assert len(people._organizations) <= 50


# -- test inputs ------------------------------------------------------------------------------


def test_nomatch_test_domain_never_matches(directory: PersonDirectory) -> None:
    assert directory.find(Identity("email", "anyone@nomatch.test")) is None
    identity = resolve(MatchQuery(first_name="Ann", last_name="Lee", domain="nomatch.test"))
    assert identity is not None and directory.find(identity) is None
    assert directory.organization_for_domain("nomatch.test") is None


def test_partial_test_domain_always_partial(directory: PersonDirectory) -> None:
    for i in range(30):
        person = find_email(directory, f"p{i}@partial.test")
        assert person.partial
        assert person.record.get("organization") is None
        assert person.record["organization_id"] is None
        assert person.record.get("employment_history", []) == []
        assert person.record["email"] == f"p{i}@partial.test"
        data.validate(
            "people_match.response", {"person": render(person, reveal_personal_emails=True)}, strict=True
        )


def test_eu_test_domain_always_in_the_eu(directory: PersonDirectory) -> None:
    for i in range(30):
        person = find_email(directory, f"e{i}@eu.test")
        assert person.record["country"] in EU_COUNTRIES
        assert person.gdpr
        rendered = render(person, reveal_personal_emails=True)
        assert rendered["personal_emails"] == []  # Apollo keeps the key, empty


# -- coherence --------------------------------------------------------------------------------


def test_generated_person_is_coherent(directory: PersonDirectory) -> None:
    complete = 0
    for i in range(200):
        email = f"employee{i}@firm{i % 40}.com"
        person = find_email(directory, email)
        record = person.record
        assert record["email"] == email
        assert_in_apollo_order(record, example_person())
        if person.partial:
            continue
        complete += 1
        organization = record["organization"]
        assert organization["primary_domain"] == f"firm{i % 40}.com"
        assert record["organization_id"] == organization["id"]
        assert_in_apollo_order(organization, recorded_organization())
        # Some optional keys are left out (generation.ABSENT_SHARE): check those that came.
        if "headline" in record:
            assert record["headline"] == f"{record['title']} at {organization['name']}"
        current, *earlier = record.get("employment_history") or [_current_job(record, organization)]
        assert current["current"] is True and current["end_date"] is None
        assert current["organization_id"] == organization["id"]
        assert current["organization_name"] == organization["name"]
        assert current["title"] == record["title"]
        start = current["start_date"]
        for job in earlier:
            assert job["current"] is False
            assert job["start_date"] <= job["end_date"] <= start
            start = job["start_date"]
        assert all(record[key] for key in ("departments", "functions", "seniority") if key in record)
        for phone in person.phone_numbers:
            assert re.fullmatch(r"\+[1-9][0-9]{6,14}", phone["sanitized_number"])
            assert phone["dnc_other_info"] == {"country": record["country"]}
        assert person.has_mobile == any(p["type_cd"] == "mobile" for p in person.phone_numbers)
        assert person.gdpr == (record["country"] in EU_COUNTRIES | {"United Kingdom"})
    assert complete > 100


def test_same_domain_same_organization(directory: PersonDirectory) -> None:
    people = [find_email(directory, f"colleague{i}@shared-org.com") for i in range(20)]
    orgs = [p.record["organization"] for p in people if not p.partial]
    assert orgs and all(o == orgs[0] for o in orgs)
    enriched = directory.organization_for_domain("shared-org.com")
    assert enriched is not None
    assert {k: enriched[k] for k in orgs[0]} == orgs[0]
    data.validate("organization_enrich.response", {"organization": enriched}, strict=True)


def test_country_code_domain_gives_a_local_organization(directory: PersonDirectory) -> None:
    organization = directory.organization_for_domain("beispiel-firma.de")
    assert organization is not None and organization["country"] == "Germany"


def test_name_and_domain_find_the_email_person(directory: PersonDirectory) -> None:
    identity = resolve(MatchQuery(first_name="Jürgen", last_name="Weiß", domain="beispiel.de"))
    assert identity == Identity("email", "jurgen.weiss@beispiel.de")
    assert directory.find(identity) is find_email(directory, "jurgen.weiss@beispiel.de")
    person = find_email(directory, "jurgen.weiss@beispiel.de")
    assert person.record["last_name"].lower() in {"weiss", "weiß"}


def test_free_mail_keeps_the_email_and_finds_an_employer(directory: PersonDirectory) -> None:
    for i in range(20):
        person = find_email(directory, f"someone{i}@gmail.com")
        assert person.record["email"] == f"someone{i}@gmail.com"
        if not person.partial:
            assert person.record["organization"]["primary_domain"] != "gmail.com"


def test_name_identity_without_ascii_letters(directory: PersonDirectory) -> None:
    identity = resolve(MatchQuery(first_name="太郎", last_name="山田", domain="acme.jp"))
    assert identity is not None
    person = directory.find(identity)
    assert person is not None
    assert (person.record["first_name"], person.record["last_name"]) == ("太郎", "山田")
    data.validate(
        "people_match.response", {"person": render(person, reveal_personal_emails=True)}, strict=True
    )


def test_partial_share_is_roughly_as_documented() -> None:
    people = PersonDirectory(11, [])
    partial = sum(find_email(people, f"member{i}@share-test.com").partial for i in range(1_000))
    assert abs(partial / 1_000 - PARTIAL_SHARE) < 0.04


def test_personal_emails_only_when_revealed_and_not_gdpr() -> None:
    people = PersonDirectory(5, [])
    seen_revealed = seen_gdpr = False
    for i in range(300):
        person = find_email(people, f"dev{i}@reveal-test.com")
        assert "personal_emails" not in render(person, reveal_personal_emails=False)
        revealed = render(person, reveal_personal_emails=True)
        if person.gdpr:
            seen_gdpr = True
            assert revealed["personal_emails"] == []
        else:
            assert revealed["personal_emails"] == list(person.personal_emails)
            seen_revealed = seen_revealed or bool(person.personal_emails)
    assert seen_revealed and seen_gdpr


def test_render_returns_a_fresh_copy(directory: PersonDirectory) -> None:
    person = find_email(directory, "copy@acme.com")
    before = dumps(person)
    rendered = render(person, reveal_personal_emails=False)
    rendered["employment_history"].clear()
    if rendered["organization"]:
        rendered["organization"]["keywords"].append("mutated")
    assert dumps(person) == before


def test_phone_numbers_fit_the_webhook_schema(directory: PersonDirectory) -> None:
    for i in range(50):
        person = find_email(directory, f"caller{i}@phones.com")
        for phone in person.phone_numbers:
            data.validate("enriched_phone_number", phone, strict=True)


def test_people_validate_strictly_against_the_schema(directory: PersonDirectory) -> None:
    identities = [Identity("email", f"v{i}@valid{i % 7}.co.uk") for i in range(40)]
    identities += [Identity("linkedin", f"http://www.linkedin.com/in/someone-{i}") for i in range(20)]
    for identity in identities:
        person = directory.find(identity)
        assert person is not None
        for reveal in (False, True):
            data.validate(
                "people_match.response",
                {"person": render(person, reveal_personal_emails=reveal)},
                strict=True,
            )


def test_fixture_phones_and_personal_emails_stay_off_the_record() -> None:
    work_hq = {
        "raw_number": "+1415-640-9303",
        "sanitized_number": "+14156409303",
        "type": "work_hq",
        "position": 0,
        "status": "no_status",
        "dnc_status": None,
        "dnc_other_info": None,
    }
    mobile = {**work_hq, "raw_number": "+1 415-555-0199", "sanitized_number": "+14155550199"}
    mobile.update(type="mobile", position=1)
    fixture = {
        **example_person(),
        "personal_emails": ["tim.private@gmail.com"],
        "phone_numbers": [work_hq, mobile],
    }
    person = PersonDirectory(0, [fixture]).find(Identity("email", "tim@apollo.io"))
    assert person is not None
    assert "personal_emails" not in person.record
    # The organization's main line is in the synchronous answer, as in Apollo's older examples;
    # the mobile number only comes by webhook.
    assert person.record["phone_numbers"] == [work_hq]
    assert person.personal_emails == ("tim.private@gmail.com",)
    hq, cell = person.phone_numbers
    assert hq["sanitized_number"] == "+14156409303" and hq["type_cd"] == "work_hq"
    assert cell["type_cd"] == "mobile"
    data.validate("enriched_phone_number", hq, strict=True)
    revealed = render(person, reveal_personal_emails=True)
    assert revealed["personal_emails"] == ["tim.private@gmail.com"]
    assert not person.gdpr and person.has_mobile


def test_concurrent_lookups_agree() -> None:
    people = PersonDirectory(8, [], cache_size=20, alias_size=60)
    emails = [f"thread{i % 50}@concurrent.com" for i in range(400)]
    expected = {e: dumps(PersonDirectory(8, []).find(Identity("email", e))) for e in set(emails)}
    results: dict[str, set[str]] = {e: set() for e in expected}

    def work(chunk: list[str]) -> None:
        for email in chunk:
            person = find_email(people, email)
            results[email].add(dumps(person))
            people.find(Identity("id", person.id))

    threads = [threading.Thread(target=work, args=(emails[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(seen == {expected[email]} for email, seen in results.items())


def test_colleague_of_a_fixture_person_shares_its_organization(directory: PersonDirectory) -> None:
    colleague = find_email(directory, "new.hire@apollo.io")
    enriched = directory.organization_for_domain("apollo.io")
    assert enriched is not None and enriched["id"] == example_person()["organization_id"]
    if not colleague.partial:
        assert colleague.record["organization"] == example_person()["organization"]
        assert colleague.record["employment_history"][0]["organization_id"] == enriched["id"]


def test_shipped_name_pools_are_what_faker_draws() -> None:
    """name_pools.json is Faker's output at the pinned version: regenerate it with bake_pools()."""
    from mock_server.domain.vocabularies import POOLS_FILE, faker_pools, pool_locales

    shipped = json.loads(POOLS_FILE.read_text(encoding="utf-8"))
    assert sorted(shipped) == pool_locales()
    for locale in pool_locales():
        assert shipped[locale] == faker_pools(locale), (
            f"{locale}: run mock_server.domain.vocabularies.bake_pools()"
        )


def test_serving_persons_does_not_import_faker() -> None:
    """Faker only bakes the pools; the emulator itself never loads it (memory and start-up)."""
    code = (
        "import sys\n"
        "from mock_server.domain.matching import Identity\n"
        "from mock_server.domain.directory import PersonDirectory\n"
        "PersonDirectory(0, []).find(Identity('email', 'ana@example.de'))\n"
        "print('faker' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"
