"""Generated phone numbers: Apollo's phone objects for reveals and webhooks, in each country's format."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, cast

from mock_server.domain.documents import PhoneDocument
from mock_server.domain.generation.common import (
    digest_of,
    next_ids,
    object_id,
    seeded,
)
from mock_server.domain.vocabularies import (
    COUNTRIES,
    City,
    Country,
    country_by_name,
)


def national_number(country: Country, city: City, rng: random.Random, mobile: bool) -> str:
    """The national significant number (digits, no trunk prefix)."""
    if country.calling_code == "1":
        return f"{city.area_code}55501{rng.randint(0, 99):02d}"
    if country.code == "BR":
        prefix = city.area_code + ("9" if mobile else rng.choice("2345"))
        length = country.mobile_length if mobile else country.landline_length
    elif mobile:
        prefix, length = rng.choice(country.mobile_prefixes), country.mobile_length
    else:
        prefix, length = city.area_code, country.landline_length
    rest = "".join(str(rng.randint(0, 9)) for _ in range(max(length - len(prefix), 4)))
    return prefix + rest


def raw_number(country: Country, nsn: str, prefix_length: int) -> str:
    """A number as people write it: +1 415-555-0100, +49 30 1234567."""
    if country.calling_code == "1":
        return f"+1 {nsn[:3]}-{nsn[3:6]}-{nsn[6:]}"
    return f"+{country.calling_code} {nsn[:prefix_length]} {nsn[prefix_length:]}"


def person_phones(
    rng: random.Random, country: Country, city: City, person_id: str, *, mobile: bool
) -> tuple[PhoneDocument, ...]:
    """Apollo phone-number objects (webhook shape, docs/apollo-facts.md 4.2): a mobile and/or a work line."""
    kinds = ["mobile"] if mobile else []
    if rng.random() < 0.5 or not kinds:
        kinds.append(rng.choice(("work_direct", "work_hq", "other")))
    ids = next_ids(object_id(digest_of(person_id, "phones")), len(kinds))
    phones: list[PhoneDocument] = []
    for position, (kind, phone_id) in enumerate(zip(kinds, ids, strict=True)):
        is_mobile = kind == "mobile"
        nsn = national_number(country, city, rng, is_mobile)
        if country.calling_code == "1":
            prefix_length = 3
        elif is_mobile:
            prefix_length = next((len(p) for p in country.mobile_prefixes if nsn.startswith(p)), 2)
        else:
            prefix_length = len(city.area_code)
        year, month, day = rng.randint(2022, 2024), rng.randint(1, 12), rng.randint(1, 28)
        phones.append(
            {
                "_id": phone_id,
                "confidence_cd": rng.choice(("high", "high", "medium")),
                "created_at": None,
                "direct_dial_source_cd": rng.choice(("contact_trusted", "data_provider")),
                "dnc_other_info": {"country": country.name},
                "dnc_status_cd": "not_found",
                "dnc_status_updated_at": (
                    f"{year:04d}-{month:02d}-{day:02d}T{rng.randint(0, 23):02d}:"
                    f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}."
                    f"{rng.randint(0, 999):03d}+00:00"
                ),
                "position": position,
                "raw_number": raw_number(country, nsn, prefix_length),
                "sanitized_number": f"+{country.calling_code}{nsn}",
                "status_cd": "valid_number",
                "type_cd": kind,
                "updated_at": None,
                "id": phone_id,
                "key": phone_id,
            }
        )
    return tuple(phones)


def phone_record(phone: Mapping[str, Any], country: str) -> PhoneDocument | None:
    """A fixture's phone in Apollo's webhook shape (legacy `type`/`status` keys mapped)."""
    if "type_cd" in phone:
        # Already in the webhook shape: a fixture file's own object (the tests validate the fixtures).
        return cast(PhoneDocument, phone)
    sanitized = phone.get("sanitized_number")
    if not isinstance(sanitized, str) or not sanitized:
        return None
    phone_id = str(phone.get("id") or phone.get("_id") or "") or object_id(digest_of("phone", sanitized))
    return {
        "_id": phone_id,
        "confidence_cd": "high",
        "created_at": None,
        "direct_dial_source_cd": "contact_trusted",
        "dnc_other_info": {"country": country} if country else None,
        "dnc_status_cd": phone.get("dnc_status") or "not_found",
        "dnc_status_updated_at": None,
        "position": phone.get("position", 0),
        "raw_number": phone.get("raw_number"),
        "sanitized_number": sanitized,
        "status_cd": phone.get("status") or "valid_number",
        "type_cd": phone.get("type") or "other",
        "updated_at": None,
        "id": phone_id,
        "key": phone_id,
    }


def fixture_phones(seed: int, person_id: str, country: object) -> tuple[PhoneDocument, ...]:
    """Phone numbers for a fixture person that has none (what phone reveals deliver)."""
    spec = country_by_name(country) or COUNTRIES[0]
    rng = seeded(seed, "fixture-phones", person_id)
    return person_phones(rng, spec, rng.choice(spec.cities), person_id, mobile=True)
