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


def test_ids_organizations_and_employment_are_kept() -> None:
    person = _person()
    fake = Scrubber(KEY).document(person)
    for key in ("id", "organization", "employment_history"):
        assert fake[key] == person[key]


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
    assert scrubber.report() == {"emails": 2, "names": 3, "phone_numbers": 2, "urls": 2}


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
