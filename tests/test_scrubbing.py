"""Scrubbing recorded traffic: deterministic fakes, consistent within a person and across documents."""

from __future__ import annotations

import hashlib
from pathlib import Path

from mock_server.recording.scrubbing import Scrubber, load_key

KEY = b"k" * 32


def _person() -> dict[str, object]:
    return {
        "id": "5e9bc332d025518bda66f0cb",
        "first_name": "Jane",
        "last_name": "Doe",
        "name": "Jane Doe",
        "email": "jane.doe@acme.com",
        "personal_emails": ["jdoe77@gmail.com"],
        "linkedin_url": "http://www.linkedin.com/in/jane-doe-b81e07",
        "twitter_url": "https://twitter.com/janedoe",
        "phone_numbers": [{"raw_number": "+1 415-640-9303", "sanitized_number": "+14156409303"}],
        "organization": {"name": "Acme", "primary_domain": "acme.com", "phone": "+1 800-555-0100"},
        "employment_history": [{"organization_name": "Acme", "title": "CEO"}],
    }


def test_names_emails_and_profile_urls_stay_consistent_with_each_other() -> None:
    fake = Scrubber(KEY).document(_person())
    first, last = fake["first_name"], fake["last_name"]
    assert (first, last) != ("Jane", "Doe")
    assert fake["name"] == f"{first} {last}"
    assert fake["email"] == f"{first.lower()}.{last.lower()}@acme.com"
    assert fake["linkedin_url"].startswith(f"http://www.linkedin.com/in/{first.lower()}-{last.lower()}-")
    assert fake["personal_emails"][0].endswith("@gmail.com") and "jdoe" not in fake["personal_emails"][0]


def test_organizations_and_employment_are_kept_and_the_person_id_replaced() -> None:
    person = _person()
    fake = Scrubber(KEY).document(person)
    for key in ("organization", "employment_history"):
        assert fake[key] == person[key]
    assert fake["id"] != person["id"] and len(fake["id"]) == 24 and int(fake["id"], 16) >= 0


def test_a_fake_id_is_never_one_of_the_reserved_ids() -> None:
    real = "5e9bc332d025518bda66f0cb"
    taken = Scrubber(KEY).person_id(real)
    other = Scrubber(KEY, reserved_ids=[taken.upper()]).person_id(real)
    assert other != taken and len(other) == 24


def test_a_phone_keeps_its_country_code_and_layout_and_matches_its_sanitized_form() -> None:
    [phone] = Scrubber(KEY).document(_person())["phone_numbers"]
    assert phone["raw_number"].startswith("+1 ") and phone["raw_number"] != "+1 415-640-9303"
    assert "+" + "".join(c for c in phone["raw_number"] if c.isdigit()) == phone["sanitized_number"]


def test_the_same_value_becomes_the_same_fake_in_every_document_of_a_recording() -> None:
    first, second = Scrubber(KEY), Scrubber(KEY)
    assert first.email("jane.doe@acme.com") == second.email("jane.doe@acme.com")
    assert Scrubber(b"x" * 32).email("jane.doe@acme.com") != first.email("jane.doe@acme.com")


def test_a_hashed_email_becomes_the_hash_of_the_fake_address_once_the_address_was_seen() -> None:
    scrubber = Scrubber(KEY)
    fake = scrubber.document(_person())["email"]
    for digest in (hashlib.md5, hashlib.sha256):
        real_hash = digest(b"jane.doe@acme.com").hexdigest()
        assert scrubber.document({"hashed_email": real_hash}) == {
            "hashed_email": digest(fake.encode()).hexdigest()
        }


def test_an_unseen_hash_becomes_a_hash_of_the_same_length() -> None:
    fake = Scrubber(KEY).document({"hashed_email": "a" * 64})["hashed_email"]
    assert len(fake) == 64 and fake != "a" * 64 and int(fake, 16) >= 0


def test_waterfall_vendor_names_are_kept_and_their_finds_replaced() -> None:
    payload = {
        "people": [
            {
                "waterfall": {
                    "emails": [
                        {
                            "vendors": [
                                {
                                    "name": "Icypeas",
                                    "emails": ["jane.doe@acme.com"],
                                    "phone_numbers": ["+14156409303"],
                                }
                            ]
                        }
                    ]
                }
            }
        ]
    }
    [vendor] = Scrubber(KEY).document(payload)["people"][0]["waterfall"]["emails"][0]["vendors"]
    assert vendor["name"] == "Icypeas"
    assert vendor["emails"] != ["jane.doe@acme.com"] and vendor["phone_numbers"] != ["+14156409303"]


def test_the_report_counts_what_was_replaced() -> None:
    scrubber = Scrubber(KEY)
    scrubber.document(_person())
    assert scrubber.report() == {"emails": 2, "ids": 1, "names": 3, "phone_numbers": 2, "urls": 2}


def test_the_key_is_made_once_per_folder_and_kept_private(tmp_path: Path) -> None:
    key = load_key(tmp_path)
    assert load_key(tmp_path) == key and len(key) == 32
    assert (tmp_path / "scrub.key").stat().st_mode & 0o077 == 0


def test_a_later_run_of_the_same_recording_maps_hashes_the_same_way() -> None:
    first = Scrubber(KEY)
    fake = first.email("jane.doe@acme.com")
    later = Scrubber(KEY, first.hashes())
    real_hash = hashlib.sha256(b"jane.doe@acme.com").hexdigest()
    assert later.hashed_email(real_hash) == hashlib.sha256(fake.encode()).hexdigest()
    assert real_hash not in str(first.hashes())


def test_a_persons_own_hashed_email_is_the_hash_of_its_fake_address() -> None:
    person = {**_person(), "hashed_email": hashlib.md5(b"jane.doe@acme.com").hexdigest()}
    fake = Scrubber(KEY).document(person)
    assert fake["hashed_email"] == hashlib.md5(fake["email"].encode()).hexdigest()


def test_hashes_of_a_contacts_addresses_become_hashes_of_the_fakes() -> None:
    real = "jane.doe@acme.com"
    md5, sha256 = hashlib.md5(real.encode()).hexdigest(), hashlib.sha256(real.encode()).hexdigest()
    answer = {"contact": {"contact_emails": [{"email": real, "email_md5": md5, "email_sha256": sha256}]}}
    [fake] = Scrubber(KEY).document(answer)["contact"]["contact_emails"]
    assert fake["email"] != real
    assert fake["email_md5"] == hashlib.md5(fake["email"].encode()).hexdigest()
    assert fake["email_sha256"] == hashlib.sha256(fake["email"].encode()).hexdigest()


def test_request_values_keep_no_personal_value_in_any_spelling() -> None:
    scrubber = Scrubber(KEY)
    request = {
        "email": "  jane.doe@acme.com ",
        "name": "Jane Doe <jane.doe@acme.com>",
        "first_name": "Jane",
        "nickname": "JD the third",
        "details": [{"email": "Jane Doe <jane.doe@acme.com>", "hashed_email": "zz-not-a-hash"}],
        "reveal_phone_number": "true",
        "domain": "acme.com",
        "webhook_url": "https://hooks.example.com/apollo",
    }
    fake = scrubber.request(request)
    text = str(fake).lower()
    for value in ("jane", "doe", "the third", "zz-not-a-hash"):
        assert value not in text
    assert fake["email"] == scrubber.email("jane.doe@acme.com")
    assert fake["name"].startswith("[scrubbed ") and fake["nickname"].startswith("[scrubbed ")
    assert fake["first_name"] == scrubber.name("Jane")
    assert {k: fake[k] for k in ("reveal_phone_number", "domain", "webhook_url")} == {
        k: request[k] for k in ("reveal_phone_number", "domain", "webhook_url")
    }
    assert scrubber.request({"nickname": "JD the third"}) == {"nickname": fake["nickname"]}  # stable


def test_an_identitys_tag_depends_on_the_key_and_reveals_no_input() -> None:
    tag = Scrubber(KEY).tag("email", "jane.doe@acme.com")
    assert (
        tag
        == Scrubber(KEY).tag("email", "jane.doe@acme.com")
        != Scrubber(b"x" * 32).tag("email", "jane.doe@acme.com")
    )
    assert len(tag) == 32 and "jane" not in tag
