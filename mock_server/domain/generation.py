"""Generation: a person or an organization as a pure function of (seed, identity) or (seed, domain)."""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from mock_server.domain.matching import (
    EU_DOMAIN,
    Identity,
    ascii_fold,
    derived_email,
    is_test_domain,
)
from mock_server.domain.persons import Person, json_copy
from mock_server.domain.vocabularies import (
    COUNTRIES,
    COUNTRY_BY_TLD,
    COUNTRY_WEIGHTS,
    DEPARTMENTS,
    EMAIL_STATUS_WEIGHTS,
    EMAIL_STATUSES,
    EU_COUNTRIES,
    FREE_MAIL_DOMAINS,
    FUNDING_STAGES,
    INDUSTRIES,
    INDUSTRY_WEIGHTS,
    INVESTORS,
    TECHNOLOGIES,
    TRACK_WEIGHTS,
    TRACKS,
    WELL_KNOWN_EMPLOYERS,
    City,
    Country,
    Pools,
    Role,
    country_by_name,
    pools,
)

#: Share of generated persons that come back partial (no organization, sparse profile).
PARTIAL_SHARE: Final = 0.15
#: Share of complete generated persons with a mobile phone number.
MOBILE_SHARE: Final = 0.6
#: Share of complete generated persons with at least one personal email.
PERSONAL_EMAIL_SHARE: Final = 0.45
#: Share of generated persons and organizations from which each optional key is left out, as in
#: Apollo's thinner and older answers (tests/data/apollo_examples); partial persons always leave some out.
ABSENT_SHARE: Final = 0.04
#: How many optional keys a partial person leaves out, at least and at most.
PARTIAL_ABSENT_KEYS: Final = (2, 8)
#: Share of generated persons whose answer carries the address keys of Get Complete Person Info.
ADDRESS_SHARE: Final = 0.4
#: Share of generated organizations with a main phone line (the rest: primary_phone {}).
ORGANIZATION_PHONE_SHARE: Final = 0.85
#: Person keys generation may leave out: none of them is required by Apollo's examples.
OPTIONAL_PERSON_KEYS: Final = (
    "email_status", "photo_url", "twitter_url", "github_url", "facebook_url",
    "extrapolated_email_confidence", "headline", "employment_history", "revealed_for_current_team",
    "is_likely_to_engage", "intent_strength", "show_intent", "departments", "subdepartments",
    "functions", "seniority", "phone_numbers", "hashed_email", "postal_code", "formatted_address",
    "time_zone",
)  # fmt: skip
#: Organization keys generation may leave out (likewise).
OPTIONAL_ORGANIZATION_KEYS: Final = (
    "primary_phone", "founded_year", "industries", "secondary_industries", "industry_tag_hash",
    "owned_by_organization_id", "seo_description", "short_description", "suborganizations",
    "num_suborganizations", "total_funding_printed", "latest_funding_round_date",
    "latest_funding_stage", "technology_names", "org_chart_root_people_ids", "org_chart_sector",
    "org_chart_removed", "org_chart_show_department_filter", "departmental_head_count",
    "annual_revenue", "annual_revenue_printed", "total_funding", "funding_events",
    "current_technologies",
)  # fmt: skip
#: Mongo-style ids start with a creation timestamp; generated ones fall in 2015-2024.
_ID_EPOCH_START: Final = 1_420_070_400
_ID_EPOCH_SPAN: Final = 315_360_000
_PERSON_KEYS: Final = (
    "id", "first_name", "last_name", "name", "linkedin_url", "title", "email_status",
    "photo_url", "twitter_url", "github_url", "facebook_url", "extrapolated_email_confidence",
    "headline", "email", "organization_id", "employment_history", "state", "city", "country",
    "revealed_for_current_team", "organization", "is_likely_to_engage",
    "intent_strength", "show_intent", "departments", "subdepartments", "functions", "seniority",
)
_NESTED_ORGANIZATION_KEYS: Final = (
    "id", "name", "website_url", "blog_url", "angellist_url", "linkedin_url", "twitter_url",
    "facebook_url", "primary_phone", "languages", "alexa_ranking", "phone", "linkedin_uid",
    "founded_year", "publicly_traded_symbol", "publicly_traded_exchange", "logo_url",
    "crunchbase_url", "primary_domain", "industry", "keywords", "estimated_num_employees",
    "industries", "secondary_industries", "snippets_loaded", "industry_tag_id",
    "industry_tag_hash", "retail_location_count", "raw_address", "street_address", "city",
    "state", "postal_code", "country", "owned_by_organization_id", "seo_description",
    "short_description", "suborganizations", "num_suborganizations", "annual_revenue_printed",
    "annual_revenue", "total_funding", "total_funding_printed", "latest_funding_round_date",
    "latest_funding_stage", "funding_events", "technology_names", "current_technologies",
    "org_chart_root_people_ids", "org_chart_sector", "org_chart_removed",
    "org_chart_show_department_filter",
)
# fmt: on
_PHOTO_CHARS: Final = "abcdefghijklmnopqrstuvwxyz0123456789"
_NAME_SEPARATORS: Final = re.compile(r"[._\-+]+")


# --------------------------------------------------------------------------------------------
# Small deterministic helpers.
# --------------------------------------------------------------------------------------------


def _digest(*parts: object) -> bytes:
    return hashlib.sha256(":".join(str(p) for p in parts).encode("utf-8")).digest()


def _rng(*parts: object) -> random.Random:
    return random.Random(int.from_bytes(_digest(*parts)[:8], "big"))


def _object_id(digest: bytes) -> str:
    """A Mongo-style 24-hex id: a 2015-2024 timestamp then 8 bytes of the digest."""
    stamp = _ID_EPOCH_START + int.from_bytes(digest[8:12], "big") % _ID_EPOCH_SPAN
    return f"{stamp:08x}{digest[12:20].hex()}"


def _next_ids(base: str, count: int) -> list[str]:
    """`count` consecutive ids after `base`, like the ids of one Apollo write."""
    value = int(base, 16)
    return [f"{(value + i + 1) % (1 << 96):024x}" for i in range(count)]


def email_hashes(email: str) -> tuple[str, str]:
    """The MD5 and SHA-256 hex digests of an email, as Apollo's hashed_email accepts them."""
    data = email.strip().lower().encode("utf-8")
    return hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()  # noqa: S324


def _printed(amount: float) -> str:
    """Apollo's short money form: 850K, 12.5M, 1.2B."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if amount >= limit:
            text = f"{amount / limit:.1f}".removesuffix(".0")
            return f"{text}{suffix}"
    return str(int(amount))


def _month(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}-01"


def _months_before(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) - months
    return index // 12, index % 12 + 1


def _country_for_domain(domain: str, rng: random.Random) -> Country:
    if is_test_domain(domain, EU_DOMAIN):
        return rng.choice(EU_COUNTRIES)
    labels = domain.split(".")
    for size in (2, 1):
        if len(labels) > size:
            country = COUNTRY_BY_TLD.get(".".join(labels[-size:]))
            if country is not None:
                return country
    return rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]


def _organization_name(domain: str) -> str:
    label = domain.split(".")[0]
    words = [w for w in label.split("-") if w]
    if not words:
        return domain
    if len(words) == 1 and len(words[0]) <= 3:
        return words[0].upper()
    return " ".join(w.capitalize() for w in words)


def _company_domain(company: str, country: Country, rng: random.Random) -> str:
    words = [ascii_fold(w) for w in re.split(r"[\s,&\-]+", company)]
    words = [w for w in words if w and w not in {"and", "und", "et", "e", "y", "i", "en"}]
    label = "-".join(words[:2]) or "company"
    tld = country.tlds[0] if rng.random() < 0.5 else "com"
    return f"{label[:63]}.{tld}"


def _fresh_id(digest: bytes, taken: set[str]) -> str:
    candidate = _object_id(digest)
    while candidate in taken:
        digest = hashlib.sha256(digest).digest()
        candidate = _object_id(digest)
    return candidate


def enrich_shape(nested: Mapping[str, Any], seed: int, domain: str) -> dict[str, Any]:
    """organizations/enrich's organization from a person's nested one (adds the count keys)."""
    rng = _rng(seed, "org-extra", domain)
    out: dict[str, Any] = {}
    for key, value in nested.items():
        out[key] = json_copy(value)
        if key == "languages" and "num_languages" not in nested:
            out["num_languages"] = len(value) if isinstance(value, list) else 0
        if key == "retail_location_count" and "num_retail_locations" not in nested:
            out["num_retail_locations"] = value
    if "departmental_head_count" not in out:
        employees = nested.get("estimated_num_employees")
        out["departmental_head_count"] = _head_counts(rng, employees if isinstance(employees, int) else 0)
    for key in (
        "organization_headcount_six_month_growth",
        "organization_headcount_twelve_month_growth",
        "organization_headcount_twenty_four_month_growth",
    ):
        out.setdefault(key, None)
    return out


def _head_counts(rng: random.Random, employees: int) -> dict[str, int]:
    """Every department key, as Apollo sends them (zeros included), splitting about `employees`."""
    weights = [rng.random() ** 3 for _ in DEPARTMENTS]
    total = sum(weights) or 1.0
    staff = max(employees, 0)
    return {key: int(staff * weight / total) for key, weight in zip(DEPARTMENTS, weights, strict=True)}


def generate_organization(seed: int, domain: str, taken_ids: set[str]) -> dict[str, Any]:
    """A complete organization for `domain`, a pure function of (seed, domain)."""
    digest = _digest(seed, "org", domain)
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    country = _country_for_domain(domain, rng)
    city = rng.choice(country.cities)
    locale_pools = pools(country.locale)
    industry = rng.choices(INDUSTRIES, INDUSTRY_WEIGHTS)[0]
    name = _organization_name(domain)
    slug = ascii_fold(domain.split(".")[0]) or "company"
    employees = int(round(10 ** rng.uniform(0.8, 4.6)))
    founded = rng.randint(1965, 2022) if employees > 500 else rng.randint(1995, 2023)
    revenue = employees * rng.randint(60, 320) * 1000
    revenue = int(round(revenue, -len(str(revenue)) + 3))
    street = rng.choice(locale_pools.streets)
    keywords = rng.sample(industry.keywords, k=rng.randint(3, min(8, len(industry.keywords))))
    techs = sorted(rng.sample(TECHNOLOGIES, k=rng.randint(4, 18)), key=lambda t: t["name"])
    org_id = _fresh_id(digest, taken_ids)
    funding_events: list[dict[str, Any]] = []
    if employees < 5000 and rng.random() < 0.45:
        year = max(founded, 2008) + rng.randint(0, 3)
        month = rng.randint(1, 12)
        max_stages = 1 + min(len(str(employees)), len(FUNDING_STAGES) - 1)
        stage_count = rng.randint(1, max_stages)
        amount_m = rng.choice((0.5, 1.0, 1.5, 2.0, 3.0))
        for stage in FUNDING_STAGES[:stage_count]:
            if year > 2024:
                break
            event_digest = _digest(seed, "funding", domain, stage)
            funding_events.append(
                {
                    "id": _object_id(event_digest),
                    "date": f"{_month(year, month)}T00:00:00.000+00:00",
                    "news_url": None,
                    "type": stage,
                    "investors": ", ".join(rng.sample(INVESTORS, k=rng.randint(1, 4))),
                    "amount": _printed(amount_m * 1e6),
                    "currency": "$",
                }
            )
            year, month = year + rng.randint(1, 3), rng.randint(1, 12)
            amount_m = round(amount_m * rng.uniform(2.0, 4.5), 1)
        funding_events.reverse()  # newest first, like Apollo's example
    total_funding: int | None = None
    if funding_events:
        total_funding = int(sum(_parse_printed(str(event["amount"])) for event in funding_events))
    tag_id = industry.tag_id
    postal = city.postal_code
    raw_address = f"{street}, {city.name}, {city.state} {postal}, {country.code}"
    twitter = f"https://twitter.com/{slug}" if rng.random() < 0.6 else None
    facebook = f"https://www.facebook.com/{slug}" if rng.random() < 0.5 else None
    root_people = [_object_id(_digest(seed, "org-root", domain))] if employees > 50 else []
    description = (
        f"{name} is {'an' if industry.name[0] in 'aeiou' else 'a'} {industry.name} company "
        f"based in {city.name}, {country.name}, "
        f"working on {', '.join(keywords[:3])}."
    )
    organization: dict[str, Any] = {
        "id": org_id,
        "name": name,
        "website_url": f"http://www.{domain}",
        "blog_url": None,
        "angellist_url": None,
        "linkedin_url": f"http://www.linkedin.com/company/{slug}",
        "twitter_url": twitter,
        "facebook_url": facebook,
        "primary_phone": {},  # drawn last, below
        "languages": [],
        "num_languages": 0,
        "alexa_ranking": rng.randint(5_000, 2_000_000) if rng.random() < 0.4 else None,
        "phone": None,  # filled below from primary_phone
        "linkedin_uid": str(rng.randint(10_000, 99_999_999)),
        "founded_year": founded,
        "publicly_traded_symbol": None,
        "publicly_traded_exchange": None,
        "logo_url": (
            "https://zenprospect-production.s3.amazonaws.com/uploads/pictures/"
            f"{_object_id(_digest(seed, 'logo', domain))}/picture"
        ),
        "crunchbase_url": None,
        "primary_domain": domain,
        "industry": industry.name,
        "keywords": keywords,
        "estimated_num_employees": employees,
        "industries": [industry.name],
        "secondary_industries": [],
        "snippets_loaded": True,
        "industry_tag_id": tag_id,
        "industry_tag_hash": {industry.name: tag_id},
        "retail_location_count": 0,
        "num_retail_locations": 0,
        "raw_address": raw_address,
        "street_address": street,
        "city": city.name,
        "state": city.state,
        "postal_code": postal,
        "country": country.name,
        "owned_by_organization_id": None,
        "seo_description": description,
        "short_description": description,
        "suborganizations": [],
        "num_suborganizations": 0,
        "annual_revenue_printed": _printed(revenue),
        "annual_revenue": revenue,
        "total_funding": total_funding,
        "total_funding_printed": None if total_funding is None else _printed(total_funding),
        "latest_funding_round_date": funding_events[0]["date"] if funding_events else None,
        "latest_funding_stage": funding_events[0]["type"] if funding_events else None,
        "funding_events": funding_events,
        "technology_names": [t["name"] for t in techs],
        "current_technologies": [dict(t) for t in techs],
        "org_chart_root_people_ids": root_people,
        "org_chart_sector": f"OrgChart::SectorHierarchy::Rules::{industry.sector}",
        "org_chart_removed": False,
        "org_chart_show_department_filter": True,
        "departmental_head_count": _head_counts(rng, employees),
        "organization_headcount_six_month_growth": round(rng.uniform(-5, 15), 1),
        "organization_headcount_twelve_month_growth": round(rng.uniform(-10, 30), 1),
        "organization_headcount_twenty_four_month_growth": round(rng.uniform(-15, 60), 1),
    }
    # Draws added since come after every earlier one, so the earlier values of a seed stay put.
    organization["primary_phone"] = _primary_phone(rng, country, city)
    organization["phone"] = organization["primary_phone"].get("number")
    for key in OPTIONAL_ORGANIZATION_KEYS:
        if rng.random() < ABSENT_SHARE:
            del organization[key]
    return organization


def _primary_phone(rng: random.Random, country: Country, city: City) -> dict[str, Any]:
    """The organization's main line ({} for some, as in Apollo's examples)."""
    if rng.random() >= ORGANIZATION_PHONE_SHARE:
        return {}
    nsn = _phone_number(country, city, rng, False)
    prefix_length = 3 if country.calling_code == "1" else len(city.area_code)
    return {
        "number": _raw_number(country, nsn, prefix_length),
        "source": "Owler",
        "sanitized_number": f"+{country.calling_code}{nsn}",
    }


def _parse_printed(text: str) -> float:
    multiplier = {"K": 1e3, "M": 1e6, "B": 1e9}.get(text[-1:], 1.0)
    number = text[:-1] if multiplier != 1.0 else text
    return float(number) * multiplier


def _nested_organization(organization: Mapping[str, Any]) -> dict[str, Any]:
    """The person's nested organization: the enrich organization without the count keys."""
    return {key: organization[key] for key in _NESTED_ORGANIZATION_KEYS if key in organization}


def _phone_number(country: Country, city: City, rng: random.Random, mobile: bool) -> str:
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


def _raw_number(country: Country, nsn: str, prefix_length: int) -> str:
    if country.calling_code == "1":
        return f"+1 {nsn[:3]}-{nsn[3:6]}-{nsn[6:]}"
    return f"+{country.calling_code} {nsn[:prefix_length]} {nsn[prefix_length:]}"


def _phones(
    rng: random.Random, country: Country, city: City, person_id: str, *, mobile: bool
) -> tuple[Mapping[str, Any], ...]:
    """Apollo phone-number objects (webhook shape, docs/apollo-facts.md 4.2): a mobile and/or a work line."""
    kinds = ["mobile"] if mobile else []
    if rng.random() < 0.5 or not kinds:
        kinds.append(rng.choice(("work_direct", "work_hq", "other")))
    ids = _next_ids(_object_id(_digest(person_id, "phones")), len(kinds))
    phones = []
    for position, (kind, phone_id) in enumerate(zip(kinds, ids, strict=True)):
        is_mobile = kind == "mobile"
        nsn = _phone_number(country, city, rng, is_mobile)
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
                "raw_number": _raw_number(country, nsn, prefix_length),
                "sanitized_number": f"+{country.calling_code}{nsn}",
                "status_cd": "valid_number",
                "type_cd": kind,
                "updated_at": None,
                "id": phone_id,
                "key": phone_id,
            }
        )
    return tuple(phones)


def phone_record(phone: Mapping[str, Any], country: str) -> Mapping[str, Any] | None:
    """A fixture's phone in Apollo's webhook shape (legacy `type`/`status` keys mapped)."""
    if "type_cd" in phone:
        return phone
    sanitized = phone.get("sanitized_number")
    if not isinstance(sanitized, str) or not sanitized:
        return None
    phone_id = str(phone.get("id") or phone.get("_id") or "") or _object_id(_digest("phone", sanitized))
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


def _names_from_parts(parts: Sequence[str], pools: Pools) -> tuple[str, str] | None:
    words = [p for p in parts if p]
    if len(words) >= 2 and all(w.isalpha() and w.isascii() for w in (words[0], words[1])):
        first, last = words[0].lower(), words[1].lower()
        if 2 <= len(first) <= 20 and 2 <= len(last) <= 20:
            return (
                pools.first_by_fold.get(first, first.capitalize()),
                pools.last_by_fold.get(last, last.capitalize()),
            )
    return None


def _choose_names(identity: Identity, country: Country, rng: random.Random) -> tuple[str, str]:
    locale_pools = pools(country.locale)
    fallback_first = rng.choice(locale_pools.first_names)
    fallback_last = rng.choice(locale_pools.last_names)
    if identity.kind == "email":
        local = identity.value.partition("@")[0]
        parts = _NAME_SEPARATORS.split(local)
        names = _names_from_parts(parts, locale_pools)
        if names is not None:
            return names
        if len(parts) == 1 and parts[0] in locale_pools.first_by_fold:
            return locale_pools.first_by_fold[parts[0]], fallback_last
    elif identity.kind == "linkedin":
        slug = identity.value.rsplit("/", 1)[-1]
        names = _names_from_parts(slug.split("-"), locale_pools)
        if names is not None:
            return names
    elif identity.kind == "name":
        first, _, last = identity.value.rpartition("@")[0].partition(" ")
        return first, last
    return fallback_first, fallback_last


@dataclass(frozen=True)
class Generated:
    """A generated person: its record and what only reveals and webhooks show."""

    record: dict[str, Any]
    personal_emails: tuple[str, ...]
    phone_numbers: tuple[Mapping[str, Any], ...]
    gdpr: bool
    partial: bool
    has_mobile: bool


def generate_person(
    seed: int,
    identity: Identity,
    organization_at: Callable[[str], Mapping[str, Any]],
    taken_ids: set[str],
) -> Generated:
    """The person `identity` means, a pure function of (seed, identity).

    `organization_at(domain)` gives the employer (itself a pure function of (seed, domain));
    `taken_ids` are ids generation must not hand out (the fixtures').
    """
    digest = _digest(seed, identity.kind, identity.value)
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    partial = rng.random() < PARTIAL_SHARE or identity.is_partial

    # The employer: the email's domain, else a company picked in the person's locale.
    work_domain: str | None = None
    if identity.kind == "email":
        email_domain = identity.value.rpartition("@")[2]
        if email_domain not in FREE_MAIL_DOMAINS:
            work_domain = email_domain
    elif identity.kind == "name":
        work_domain = identity.value.rpartition("@")[2]
    if work_domain is None:
        home = rng.choice(EU_COUNTRIES) if identity.is_eu else rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
        company = rng.choice(pools(home.locale).companies)
        work_domain = _company_domain(company, home, rng)
    organization = organization_at(work_domain)
    org_country = country_by_name(organization["country"]) or COUNTRIES[0]

    if identity.is_eu:
        country = org_country if org_country.eu else rng.choice(EU_COUNTRIES)
    elif rng.random() < 0.85:
        country = org_country
    else:
        country = rng.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
    city = (
        next((c for c in country.cities if c.name == organization["city"]), None)
        if country is org_country and rng.random() < 0.7
        else None
    ) or rng.choice(country.cities)

    first_name, last_name = _choose_names(identity, country, rng)
    person_id = _fresh_id(digest, taken_ids)
    folded_first, folded_last = ascii_fold(first_name), ascii_fold(last_name)

    if identity.kind == "email":
        email: str | None = identity.value
    elif partial or identity.kind == "name":
        email = None
    else:
        email = derived_email(first_name, last_name, work_domain)
    if email is not None:
        rng.random()  # the draw of the former two-value email_status: later values stay as they were
    if identity.kind == "linkedin":
        linkedin: str | None = identity.value
    elif partial and rng.random() < 0.5:
        linkedin = None
    else:
        handle = "-".join(p for p in (folded_first, folded_last) if p) or "member"
        linkedin = f"http://www.linkedin.com/in/{handle}-{digest[20:24].hex()}"

    _, track = rng.choices(TRACKS, TRACK_WEIGHTS)[0]
    role = rng.choices(track, [r.weight for r in track])[0]
    handle = f"{folded_first}{folded_last}"[:15] or "user"
    engineer = "engineering" in role.functions or "data_science" in role.functions

    history: list[dict[str, Any]] = []
    if not partial:
        history = _employment_history(seed, rng, person_id, organization, role, track, country)

    personal: tuple[str, ...] = ()
    phones: tuple[Mapping[str, Any], ...] = ()
    has_mobile = False
    if identity.kind == "email" and work_domain != identity.value.rpartition("@")[2]:
        personal = (identity.value,)
    if not partial:
        if rng.random() < PERSONAL_EMAIL_SHARE and folded_first and folded_last:
            suffix = str(rng.randint(1, 99)) if rng.random() < 0.5 else ""
            address = f"{folded_first}.{folded_last}{suffix}@{rng.choice(country.free_mail)}"
            if address not in personal:
                personal = (*personal, address)
        has_mobile = rng.random() < MOBILE_SHARE
        phones = _phones(rng, country, city, person_id, mobile=has_mobile)

    photo = (
        "https://static.licdn.com/aero-v1/sc/h/" + "".join(rng.choice(_PHOTO_CHARS) for _ in range(25))
        if not partial and rng.random() < 0.7
        else None
    )
    twitter = f"https://twitter.com/{handle}" if not partial and rng.random() < 0.15 else None
    github = f"https://github.com/{handle}" if not partial and engineer and rng.random() < 0.35 else None
    facebook = f"https://www.facebook.com/{handle}" if not partial and rng.random() < 0.05 else None

    record: dict[str, Any] = dict.fromkeys(_PERSON_KEYS)
    record.update(
        id=person_id,
        first_name=first_name,
        last_name=last_name,
        name=f"{first_name} {last_name}".strip(),
        linkedin_url=linkedin,
        title=None if partial else role.title,
        email_status=None,  # drawn below
        photo_url=photo,
        twitter_url=twitter,
        github_url=github,
        facebook_url=facebook,
        extrapolated_email_confidence=None,  # drawn below
        headline=None if partial else f"{role.title} at {organization['name']}",
        email=email,
        organization_id=None if partial else organization["id"],
        employment_history=history,
        state=None if partial else city.state,
        city=None if partial else city.name,
        country=country.name,
        revealed_for_current_team=True,
        organization=None if partial else _nested_organization(organization),
        is_likely_to_engage=rng.random() < 0.3,
        intent_strength=None,
        show_intent=False,
        departments=[] if partial else list(role.departments),
        subdepartments=[] if partial else list(role.subdepartments),
        functions=[] if partial else list(role.functions),
        seniority=None if partial else role.seniority,
    )
    # Draws added since come after every earlier one, so the earlier values of a seed stay put.
    extra = rng
    record["email_status"] = _email_status(extra, email)
    record["extrapolated_email_confidence"] = _email_confidence(extra, record["email_status"])
    if email is not None:
        record["hashed_email"] = email_hashes(email)[0]
    if not partial:
        work_hq = _work_hq_number(organization)
        if work_hq is not None:
            record["phone_numbers"] = [work_hq]
        if extra.random() < ADDRESS_SHARE:
            # The address keys of Get Complete Person Info (docs.apollo.io OpenAPI, people/{id}).
            record["postal_code"] = city.postal_code
            record["formatted_address"] = f"{city.name}, {city.state}, {country.name}"
            record["time_zone"] = country.time_zone
    _leave_out(record, extra, partial=partial)
    return Generated(
        record=record,
        personal_emails=personal,
        phone_numbers=phones,
        gdpr=country.gdpr,
        partial=partial,
        has_mobile=has_mobile,
    )


def _email_status(rng: random.Random, email: str | None) -> str | None:
    """Apollo's email_status vocabulary (vocabularies/fields.json); null or unavailable without an email."""
    if email is None:
        return None if rng.random() < 0.3 else "unavailable"
    status: str = rng.choices(EMAIL_STATUSES, EMAIL_STATUS_WEIGHTS)[0]
    return status


def _email_confidence(rng: random.Random, status: str | None) -> float | int | None:
    """extrapolated_email_confidence: a number for guessed addresses, often null or 0 otherwise.

    Apollo's examples show null and 0; its later docs call it a confidence score.
    """
    if status in ("extrapolated", "guessed"):
        return round(rng.uniform(0.5, 0.99), 2)
    roll = rng.random()
    if roll < 0.5:
        return None
    return 0 if roll < 0.75 else round(rng.uniform(0.1, 0.99), 2)


def _work_hq_number(organization: Mapping[str, Any]) -> dict[str, Any] | None:
    """The organization's main line as a person's phone_numbers entry (Apollo's older docs' shape)."""
    primary = organization.get("primary_phone")
    if not isinstance(primary, Mapping) or not primary.get("sanitized_number"):
        return None
    return {
        "raw_number": primary.get("number"),
        "sanitized_number": primary["sanitized_number"],
        "type": "work_hq",
        "position": 0,
        "status": "no_status",
        "dnc_status": None,
        "dnc_other_info": None,
    }


def _leave_out(record: dict[str, Any], rng: random.Random, *, partial: bool) -> None:
    """Drop optional keys as Apollo's thinner answers do: a few per person, more when partial."""
    droppable: list[str] = [key for key in OPTIONAL_PERSON_KEYS if key in record]
    if partial:
        # A partial person may also miss its (already null) organization and email keys.
        droppable += [key for key in ("organization", "email") if record.get(key) is None]
        least, most = PARTIAL_ABSENT_KEYS
        for key in rng.sample(droppable, k=min(len(droppable), rng.randint(least, most))):
            del record[key]
        return
    for key in droppable:
        if rng.random() < ABSENT_SHARE:
            del record[key]


def _employment_history(
    seed: int,
    rng: random.Random,
    person_id: str,
    organization: Mapping[str, Any],
    role: Role,
    track: Sequence[Role],
    country: Country,
) -> list[dict[str, Any]]:
    """Current job at `organization`, then earlier jobs, each ending before the next starts."""
    locale_pools = pools(country.locale)
    earlier = rng.randint(0, 4)
    ids = _next_ids(_object_id(_digest(person_id, "employment")), earlier + 1)
    founded = organization.get("founded_year")
    start_year = rng.randint(max(2012, founded if isinstance(founded, int) else 2012), 2024)
    start_month = rng.randint(1, 12)
    jobs = [
        _job(
            ids[0],
            True,
            None,
            _month(start_year, start_month),
            organization["id"],
            organization["name"],
            role.title,
        )
    ]
    end_year, end_month = start_year, start_month
    juniors = [r for r in track if r.level <= role.level] or list(track)
    for index in range(earlier):
        gap = rng.randint(0, 4)
        end_year, end_month = _months_before(end_year, end_month, gap)
        if end_year < 1990:
            break
        length = rng.randint(8, 48)
        begin_year, begin_month = _months_before(end_year, end_month, length)
        employer = rng.choice(WELL_KNOWN_EMPLOYERS if rng.random() < 0.3 else locale_pools.companies)
        employer_id = _object_id(_digest(seed, "employer", employer)) if rng.random() < 0.8 else None
        previous_role = rng.choice(juniors)
        jobs.append(
            _job(
                ids[index + 1],
                False,
                _month(end_year, end_month),
                _month(begin_year, begin_month),
                employer_id,
                employer,
                previous_role.title,
            )
        )
        juniors = [r for r in juniors if r.level <= previous_role.level] or juniors
        end_year, end_month = begin_year, begin_month
    return jobs


def _job(
    job_id: str,
    current: bool,
    end_date: str | None,
    start_date: str,
    organization_id: str | None,
    organization_name: str,
    title: str,
) -> dict[str, Any]:
    return {
        "_id": job_id,
        "created_at": None,
        "current": current,
        "degree": None,
        "description": None,
        "emails": None,
        "end_date": end_date,
        "grade_level": None,
        "kind": None,
        "major": None,
        "organization_id": organization_id,
        "organization_name": organization_name,
        "raw_address": None,
        "start_date": start_date,
        "title": title,
        "updated_at": None,
        "id": job_id,
        "key": job_id,
    }



# --------------------------------------------------------------------------------------------
# What one team sees on a person: its contacts and its accounts.
# --------------------------------------------------------------------------------------------

#: Share of persons that are already one team's contacts, and of organizations that are its accounts.
CONTACT_SHARE: Final = 0.1
ACCOUNT_SHARE: Final = 0.1
_SOURCES: Final = ("crm", "csv_import", "chrome_extension", "search", "api")


def _share(*parts: object) -> float:
    """A number in [0, 1) fixed by `parts`."""
    return int.from_bytes(_digest(*parts)[:8], "big") / 2**64


def _timestamp(rng: random.Random) -> str:
    """A 2022-2024 timestamp in Apollo's form (2024-05-23T20:00:28.527Z)."""
    return (
        f"{rng.randint(2022, 2024):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}."
        f"{rng.randint(0, 999):03d}Z"
    )


def team_keys(seed: int, team: str, person: Person) -> dict[str, Any]:
    """The keys `team` sees on `person`: contact/contact_id for its contacts, account/account_id.

    The account keys come when the employer is one of the team's accounts; for anyone else Apollo
    leaves the keys out rather than sending null.
    """
    is_contact = _share(seed, "contact", team, person.id) < CONTACT_SHARE
    is_account = _is_account(seed, team, person.organization_id)
    if not (is_contact or is_account):
        return {}
    record = person.record
    if "contact_id" in record or "account_id" in record:
        return {}  # a fixture that carries its own
    keys: dict[str, Any] = {}
    account: dict[str, Any] | None = None
    if is_account and isinstance(record.get("organization"), Mapping):
        account = _account(seed, team, record["organization"])
        keys["account_id"] = account["id"]
        keys["account"] = account
    if is_contact:
        contact = _contact(seed, team, record, account)
        keys["contact_id"] = contact["id"]
        keys["contact"] = contact
    return keys


def organization_team_keys(seed: int, team: str, organization: Mapping[str, Any]) -> dict[str, Any]:
    """account/account_id on an organization that is one of `team`'s accounts; else nothing."""
    org_id = organization.get("id")
    if not _is_account(seed, team, org_id if isinstance(org_id, str) else None):
        return {}
    account = _account(seed, team, organization)
    return {"account_id": account["id"], "account": account}


def _is_account(seed: int, team: str, organization_id: str | None) -> bool:
    return organization_id is not None and _share(seed, "account", team, organization_id) < ACCOUNT_SHARE


def _team_user(seed: int, team: str) -> str:
    """The id of the team's user who owns and created its records."""
    return _object_id(_digest(seed, "team-user", team))


def _account(seed: int, team: str, organization: Mapping[str, Any]) -> dict[str, Any]:
    """The team's account for `organization` (the keys Apollo's account examples carry)."""
    rng = _rng(seed, "account", team, organization.get("id"))
    source = rng.choice(_SOURCES)
    phone = organization.get("phone")
    primary = organization.get("primary_phone")
    sanitized = primary.get("sanitized_number") if isinstance(primary, Mapping) else None
    return {
        "id": _object_id(_digest(seed, "account-id", team, organization.get("id"))),
        "name": organization.get("name"),
        "website_url": organization.get("website_url"),
        "linkedin_url": organization.get("linkedin_url"),
        "phone": phone,
        "domain": organization.get("primary_domain"),
        "team_id": _object_id(_digest(seed, "team", team)),
        "organization_id": organization.get("id"),
        "account_stage_id": _object_id(_digest(seed, "account-stage", team)),
        "source": source,
        "original_source": source,
        "creator_id": _team_user(seed, team),
        "owner_id": _team_user(seed, team),
        "created_at": _timestamp(rng),
        "phone_status": "no_status",
        "hubspot_id": None,
        "salesforce_id": None,
        "crm_owner_id": None,
        "parent_account_id": None,
        "sanitized_phone": sanitized,
        "account_playbook_statuses": [],
        "account_rule_config_statuses": [],
        "existence_level": "full",
        "label_ids": [],
        "typed_custom_fields": {},
        "custom_field_errors": {},
        "modality": "account",
        "source_display_name": "Requested from Apollo" if source == "api" else "Imported",
        "crm_record_url": None,
    }


def _contact(
    seed: int, team: str, record: Mapping[str, Any], account: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The team's contact for the person `record` (the keys of Apollo's contact examples)."""
    rng = _rng(seed, "contact", team, record.get("id"))
    source = rng.choice(_SOURCES)
    organization = record.get("organization")
    created = _timestamp(rng)
    place = ", ".join(str(record[k]) for k in ("city", "state", "country") if record.get(k))
    return {
        "contact_roles": [],
        "id": _object_id(_digest(seed, "contact-id", team, record.get("id"))),
        "first_name": record.get("first_name"),
        "last_name": record.get("last_name"),
        "name": record.get("name"),
        "linkedin_url": record.get("linkedin_url"),
        "title": record.get("title"),
        "contact_stage_id": _object_id(_digest(seed, "contact-stage", team)),
        "owner_id": _team_user(seed, team),
        "creator_id": _team_user(seed, team),
        "person_id": record.get("id"),
        "email_needs_tickling": None,
        "organization_name": organization.get("name") if isinstance(organization, Mapping) else None,
        "source": source,
        "original_source": source,
        "organization_id": record.get("organization_id"),
        "headline": record.get("headline"),
        "photo_url": record.get("photo_url"),
        "present_raw_address": place or None,
        "linkedin_uid": None,
        "extrapolated_email_confidence": record.get("extrapolated_email_confidence"),
        "salesforce_id": None,
        "salesforce_lead_id": None,
        "salesforce_contact_id": None,
        "salesforce_account_id": None,
        "crm_owner_id": None,
        "created_at": created,
        "emailer_campaign_ids": [],
        "direct_dial_status": None,
        "direct_dial_enrichment_failed_at": None,
        "email_status": record.get("email_status"),
        "email_source": None,
        "account_id": account["id"] if account is not None else None,
        "last_activity_date": None,
        "hubspot_vid": None,
        "hubspot_company_id": None,
        "crm_id": None,
        "sanitized_phone": None,
        "merged_crm_ids": None,
        "updated_at": created,
        "queued_for_crm_push": None,
        "suggested_from_rule_engine_config_id": None,
        "email_unsubscribed": None,
        "label_ids": [],
        "has_pending_email_arcgate_request": False,
        "has_email_arcgate_request": False,
        "existence_level": "full",
        "email": record.get("email"),
        "email_from_customer": None,
        "typed_custom_fields": {},
        "custom_field_errors": None,
        "crm_record_url": None,
        "email_status_unavailable_reason": None,
        "email_true_status": None,
        "updated_email_true_status": False,
        "source_display_name": "Requested from Apollo" if source == "api" else "Imported",
        "phone_numbers": [],
        "account_phone_note": None,
        "free_domain": False,
        "is_likely_to_engage": bool(record.get("is_likely_to_engage")),
    }


def stub_person(seed: int, key: str, organization: Mapping[str, Any]) -> dict[str, Any]:
    """A miss answered as a person: empty name, match_confidence "none", an organization filled in.

    The shape a live single-person miss was seen to take (SkillfulAgents/SuperAgent #1114, 2026-09)
    and that Apollo's bulk docs give a waterfall miss (`match_confidence: none`).
    """
    nested = _nested_organization(organization)
    return {
        "id": _object_id(_digest(seed, "stub", key)),
        "first_name": "",
        "last_name": "",
        "name": "",
        "linkedin_url": None,
        "title": None,
        "organization_id": nested.get("id"),
        "state": None,
        "city": None,
        "country": None,
        "organization": nested,
        "match_confidence": "none",
    }


def fixture_phones(seed: int, person_id: str, country: object) -> tuple[Mapping[str, Any], ...]:
    """Phone numbers for a fixture person that has none (what phone reveals deliver)."""
    spec = country_by_name(country) or COUNTRIES[0]
    rng = _rng(seed, "fixture-phones", person_id)
    return _phones(rng, spec, rng.choice(spec.cities), person_id, mobile=True)
