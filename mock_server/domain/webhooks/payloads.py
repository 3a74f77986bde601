"""The bodies Apollo POSTs to a `webhook_url`: phone reveals, waterfalls (docs/apollo-facts.md 4.2, 4.3)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from mock_server.domain.clock import Clock
from mock_server.domain.credits import MOBILE_PHONE_CREDITS
from mock_server.domain.documents import PhoneDocument
from mock_server.domain.persons import Person

# Third-party vendors a waterfall consults, as (provider id, display name); docs/apollo-facts.md 4.3 names
# Icypeas and Prospeo, the others are well-known vendors of the same kind.
EMAIL_VENDORS = (
    ("icypeas_single_email_search", "Icypeas"),
    ("findymail_email_finder", "Findymail"),
    ("hunter_email_finder", "Hunter"),
    ("dropcontact_email_enrichment", "Dropcontact"),
)
PHONE_VENDORS = (
    ("prospeo_mobile_finder", "Prospeo"),
    ("lusha_phone_finder", "Lusha"),
    ("contactout_phone_finder", "ContactOut"),
    ("datagma_mobile_finder", "Datagma"),
)
# The keys a waterfall phone number carries (docs/apollo-facts.md 4.3): fewer than a native phone object.
_WATERFALL_PHONE_KEYS = (
    "_id",
    "confidence_cd",
    "dnc_other_info",
    "dnc_status_cd",
    "dnc_status_updated_at",
    "raw_number",
    "sanitized_number",
    "status_cd",
    "type_cd",
    "id",
    "key",
)


def _credits(amount: float) -> int | float:
    """Credits as Apollo prints them: an integer when whole."""
    return int(amount) if float(amount).is_integer() else amount


def mobile_count(people: Sequence[Person]) -> int:
    """How many of `people` have a mobile number (each costs phone credits when delivered)."""
    return sum(1 for person in people if person.has_mobile)


def phone_payload(people: Sequence[Person], requested: int, request_id: int | None = None) -> dict[str, Any]:
    """The native phone webhook body (docs/apollo-facts.md 4.2); `request_id` is left out when None."""
    enriched = [p for p in people if p.phone_numbers]
    payload: dict[str, Any] = {
        "status": "success",
        "total_requested_enrichments": requested,
        "unique_enriched_records": len(enriched),
        "missing_records": max(requested - len(enriched), 0),
        "credits_consumed": _credits(MOBILE_PHONE_CREDITS * mobile_count(people)),
    }
    if request_id is not None:
        payload["request_id"] = request_id
    payload["people"] = [
        {
            "id": person.id,
            "status": "success",
            "phone_numbers": list(person.phone_numbers),  # fresh copies already
        }
        for person in people
    ]
    return payload


def target_fields(run_waterfall_email: bool, run_waterfall_phone: bool) -> list[str]:
    """The waterfall's `target_fields` for the request's flags."""
    fields = []
    if run_waterfall_email:
        fields.append("emails")
    if run_waterfall_phone:
        fields.append("phone_numbers")
    return fields


def _pick(person_id: str, purpose: str) -> int:
    """A stable number for one person and purpose: waterfalls are deterministic per person."""
    return int.from_bytes(hashlib.sha256(f"{person_id}:{purpose}".encode()).digest()[:4], "big")


def _vendor(vendor: tuple[str, str], kind: str, found: list[str], status: str) -> dict[str, Any]:
    """One vendor's result in a waterfall step."""
    provider, name = vendor
    return {
        "id": f"{provider}-1",
        "name": name,
        "status": status,
        kind: found,
        "usedForVerification": False,
        "statusCode": None,
        "statusMessage": None,
        "authMechanism": "native",
    }


def _steps(
    person_id: str, kind: str, vendors: tuple[tuple[str, str], ...], found: list[str], verified: bool
) -> tuple[list[dict[str, Any]], str]:
    """The waterfall steps for one field, and the provider that found the value.

    Vendors are asked in turn until one finds something: zero or one misses come first.
    """
    start = _pick(person_id, kind + ":vendor") % len(vendors)
    misses = _pick(person_id, kind + ":misses") % 2 if found else 2
    results = []
    for offset in range(misses):
        results.append(_vendor(vendors[(start + offset) % len(vendors)], kind, [], "NOT_FOUND"))
    finder = vendors[(start + misses) % len(vendors)]
    if found:
        results.append(_vendor(finder, kind, found, "VERIFIED" if verified else "UNVERIFIED"))
    return [{"vendors": results}], finder[0]


def _waterfall_phone(phone: PhoneDocument) -> dict[str, Any]:
    """A phone object as a waterfall payload carries it."""
    return {key: phone.get(key) for key in _WATERFALL_PHONE_KEYS}


def _waterfall_person(
    person: Person, emails_wanted: bool, phones_wanted: bool, initiated: datetime
) -> tuple[dict[str, Any], bool, bool]:
    """One person of a waterfall payload, and whether an email and a mobile were found."""
    email = person.record.get("email") if emails_wanted else None
    email_found = isinstance(email, str) and bool(email)
    verified = person.record.get("email_status") == "verified"
    mobiles = [p for p in person.phone_numbers if p.get("type_cd") == "mobile"] if phones_wanted else []
    email_steps: list[dict[str, Any]] = []
    emails: list[dict[str, Any]] = []
    if emails_wanted:
        found = [str(email)] if email_found else []
        email_steps, provider = _steps(person.id, "emails", EMAIL_VENDORS, found, verified)
        if email_found:
            enriched_at = initiated + timedelta(milliseconds=800 + _pick(person.id, "emails:at") % 4_000)
            emails.append(
                {
                    "email": str(email),
                    "email_source_cd": None,
                    "position": 0,
                    "email_status_cd": "Verified" if verified else "Unverified",
                    "extrapolated_email_confidence": None,
                    "third_party_data_provider_id": provider,
                    "waterfall_enriched_at": Clock.iso(enriched_at),
                    "vendor_validation_statuses": [],
                }
            )
    phone_steps: list[dict[str, Any]] = []
    if phones_wanted:
        raw = [str(p.get("raw_number") or p.get("sanitized_number")) for p in mobiles]
        phone_steps, _ = _steps(person.id, "phone_numbers", PHONE_VENDORS, raw, False)
    record = {
        "id": person.id,
        "waterfall": {"emails": email_steps, "phone_numbers": phone_steps},
        "phone_numbers": [_waterfall_phone(p) for p in mobiles],
        "emails": emails,
    }
    return record, email_found, bool(mobiles)


def waterfall_payload(
    people: Sequence[Person],
    requested: int,
    request_id: int,
    *,
    run_waterfall_email: bool,
    run_waterfall_phone: bool,
    initiated: datetime,
) -> dict[str, Any]:
    """The waterfall webhook body (docs/apollo-facts.md 4.3); `request_completed` is filled in when sent."""
    records = []
    emails_found = mobiles_found = enriched = 0
    for person in people:
        record, email_found, mobile_found = _waterfall_person(
            person, run_waterfall_email, run_waterfall_phone, initiated
        )
        records.append(record)
        emails_found += email_found
        mobiles_found += mobile_found
        enriched += email_found or mobile_found
    return {
        "status": "success",
        "total_requested_enrichments": requested,
        "target_fields": target_fields(run_waterfall_email, run_waterfall_phone),
        "records_enriched": enriched,
        "email_records_enriched": emails_found,
        "mobile_records_enriched": mobiles_found,
        "enrichment_not_found": max(requested - enriched, 0),
        "email_records_not_found": max(requested - emails_found, 0) if run_waterfall_email else 0,
        "mobile_records_not_found": max(requested - mobiles_found, 0) if run_waterfall_phone else 0,
        "credits_consumed": _credits(MOBILE_PHONE_CREDITS * mobiles_found),
        "request_id": str(request_id),  # a string in Apollo's OpenAPI example (docs/apollo-facts.md 4.3)
        "request_initiated": Clock.iso(initiated),
        "request_completed": None,
        "people": records,
    }


def waterfall_mobiles(payload: Mapping[str, Any]) -> int:
    """How many people of a waterfall payload got a mobile number."""
    return int(payload.get("mobile_records_enriched") or 0)
