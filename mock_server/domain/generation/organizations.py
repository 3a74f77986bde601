"""An organization as a pure function of (seed, domain), and the shapes it is sent in."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, Final, Literal, cast, get_args

from mock_server.domain.documents import (
    FundingEventDocument,
    OrganizationDocument,
    PrimaryPhoneDocument,
)
from mock_server.domain.generation.common import (
    ABSENT_SHARE,
    digest_of,
    fresh_id,
    money_printed,
    month_date,
    object_id,
    parse_money,
    seeded,
)
from mock_server.domain.generation.phones import (
    national_number,
    raw_number,
)
from mock_server.domain.matching import (
    EU_DOMAIN,
    ascii_fold,
    is_test_domain,
)
from mock_server.domain.persons import json_copy
from mock_server.domain.vocabularies import (
    COUNTRIES,
    COUNTRY_BY_TLD,
    COUNTRY_WEIGHTS,
    DEPARTMENTS,
    EU_COUNTRIES,
    FUNDING_STAGES,
    INDUSTRIES,
    INDUSTRY_WEIGHTS,
    INVESTORS,
    TECHNOLOGIES,
    City,
    Country,
    Industry,
    pools,
)

#: Share of generated organizations with a main phone line (the rest: primary_phone {}).
ORGANIZATION_PHONE_SHARE: Final = 0.85

#: An organization key generation may leave out (likewise).
OptionalOrganizationKey = Literal[
    "primary_phone", "founded_year", "industries", "secondary_industries", "industry_tag_hash",
    "owned_by_organization_id", "seo_description", "short_description", "suborganizations",
    "num_suborganizations", "total_funding_printed", "latest_funding_round_date",
    "latest_funding_stage", "technology_names", "org_chart_root_people_ids", "org_chart_sector",
    "org_chart_removed", "org_chart_show_department_filter", "departmental_head_count",
    "annual_revenue", "annual_revenue_printed", "total_funding", "funding_events",
    "current_technologies",
]  # fmt: skip
#: Organization keys generation may leave out.
OPTIONAL_ORGANIZATION_KEYS: Final[tuple[OptionalOrganizationKey, ...]] = get_args(OptionalOrganizationKey)

#: A person's nested organization's keys, in the order Apollo's 2026 answers give them (the recorded
#: organizations/enrich answer, tests/data/recorded, and a live person's, docs/apollo-facts.md 2.1);
#: generated organizations follow this order too, their count keys after. Generated ones have no
#: `blog_url` (none since 2026); a fixture's organization keeps its own.
_NESTED_ORGANIZATION_KEYS: Final = (
    "id", "name", "website_url", "blog_url", "angellist_url", "linkedin_url", "twitter_url",
    "facebook_url", "primary_phone", "languages", "alexa_ranking", "phone", "linkedin_uid",
    "founded_year", "publicly_traded_symbol", "publicly_traded_exchange", "logo_url",
    "crunchbase_url", "primary_domain", "sic_codes", "naics_codes", "sanitized_phone", "industry",
    "estimated_num_employees", "keywords", "organization_revenue_printed", "organization_revenue",
    "industries", "secondary_industries", "snippets_loaded", "industry_tag_id",
    "industry_tag_hash", "retail_location_count", "raw_address", "street_address", "city",
    "state", "postal_code", "country", "owned_by_organization_id", "seo_description",
    "short_description", "suborganizations", "num_suborganizations", "annual_revenue_printed",
    "annual_revenue", "total_funding", "total_funding_printed", "latest_funding_round_date",
    "latest_funding_stage", "funding_events", "technology_names", "current_technologies",
    "org_chart_root_people_ids", "org_chart_sector", "org_chart_removed",
    "org_chart_show_department_filter",
)  # fmt: skip


#: Keys Apollo's 2026 answers added, absent from its older ones.
RecentKey = Literal["sic_codes", "naics_codes", "sanitized_phone", "organization_revenue"]
_RECENT_KEYS: Final[tuple[RecentKey, ...]] = get_args(RecentKey)


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


def enrich_shape(nested: Mapping[str, Any], seed: int, domain: str) -> OrganizationDocument:
    """organizations/enrich's organization from a person's nested one (adds the count keys).

    `nested` is a fixture person's organization, open JSON read from a fixture file (the tests
    validate the shipped fixtures against the schema).
    """
    rng = seeded(seed, "org-extra", domain)
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
    return cast(OrganizationDocument, out)  # a fixture's keys, copied in their order


def _head_counts(rng: random.Random, employees: int) -> dict[str, int]:
    """Every department key, as Apollo sends them (zeros included), splitting about `employees`."""
    weights = [rng.random() ** 3 for _ in DEPARTMENTS]
    total = sum(weights) or 1.0
    staff = max(employees, 0)
    return {key: int(staff * weight / total) for key, weight in zip(DEPARTMENTS, weights, strict=True)}


def generate_organization(seed: int, domain: str, taken_ids: set[str]) -> OrganizationDocument:
    """A complete organization for `domain`, a pure function of (seed, domain)."""
    digest = digest_of(seed, "org", domain)
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
    org_id = fresh_id(digest, taken_ids)
    funding_events: list[FundingEventDocument] = []
    if employees < 5000 and rng.random() < 0.45:
        year = max(founded, 2008) + rng.randint(0, 3)
        month = rng.randint(1, 12)
        max_stages = 1 + min(len(str(employees)), len(FUNDING_STAGES) - 1)
        stage_count = rng.randint(1, max_stages)
        amount_m = rng.choice((0.5, 1.0, 1.5, 2.0, 3.0))
        for stage in FUNDING_STAGES[:stage_count]:
            if year > 2024:
                break
            event_digest = digest_of(seed, "funding", domain, stage)
            funding_events.append(
                {
                    "id": object_id(event_digest),
                    "date": f"{month_date(year, month)}T00:00:00.000+00:00",
                    "news_url": None,
                    "type": stage,
                    "investors": ", ".join(rng.sample(INVESTORS, k=rng.randint(1, 4))),
                    "amount": money_printed(amount_m * 1e6),
                    "currency": "$",
                }
            )
            year, month = year + rng.randint(1, 3), rng.randint(1, 12)
            amount_m = round(amount_m * rng.uniform(2.0, 4.5), 1)
        funding_events.reverse()  # newest first, like Apollo's example
    total_funding: int | None = None
    if funding_events:
        total_funding = int(sum(parse_money(str(event["amount"])) for event in funding_events))
    tag_id = industry.tag_id
    postal = city.postal_code
    raw_address = f"{street}, {city.name}, {city.state} {postal}, {country.code}"
    twitter = f"https://twitter.com/{slug}" if rng.random() < 0.6 else None
    facebook = f"https://www.facebook.com/{slug}" if rng.random() < 0.5 else None
    root_people = [object_id(digest_of(seed, "org-root", domain))] if employees > 50 else []
    description = (
        f"{name} is {'an' if industry.name[0] in 'aeiou' else 'a'} {industry.name} company "
        f"based in {city.name}, {country.name}, "
        f"working on {', '.join(keywords[:3])}."
    )
    organization: OrganizationDocument = {
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
            f"{object_id(digest_of(seed, 'logo', domain))}/picture"
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
        "annual_revenue_printed": money_printed(revenue),
        "annual_revenue": revenue,
        "total_funding": total_funding,
        "total_funding_printed": None if total_funding is None else money_printed(total_funding),
        "latest_funding_round_date": funding_events[0]["date"] if funding_events else None,
        "latest_funding_stage": funding_events[0]["type"] if funding_events else None,
        "funding_events": funding_events,
        "technology_names": [t["name"] for t in techs],
        "current_technologies": [t.copy() for t in techs],
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
    primary_phone = _primary_phone(rng, country, city)
    organization["primary_phone"] = primary_phone
    organization["phone"] = primary_phone.get("number")
    for key in OPTIONAL_ORGANIZATION_KEYS:
        if rng.random() < ABSENT_SHARE:
            del organization[key]
    return _as_recorded(organization, industry, rng)


def _as_recorded(
    organization: OrganizationDocument, industry: Industry, rng: random.Random
) -> OrganizationDocument:
    """The organization as Apollo's 2026 answers carry it (docs/apollo-facts.md 2.1).

    SIC and NAICS codes, `sanitized_phone` beside a main line, `organization_revenue(_printed)`
    beside the annual revenue, no `blog_url`, keys in the recorded order.
    """
    del organization["blog_url"]
    if industry.sic_codes:
        organization["sic_codes"] = rng.sample(industry.sic_codes, k=rng.randint(1, len(industry.sic_codes)))
    if industry.naics_codes:
        count = rng.randint(1, len(industry.naics_codes))
        organization["naics_codes"] = rng.sample(industry.naics_codes, k=count)
    primary = organization.get("primary_phone")
    if isinstance(primary, dict) and primary.get("sanitized_number"):
        organization["sanitized_phone"] = primary["sanitized_number"]
    if "annual_revenue" in organization:
        organization["organization_revenue_printed"] = organization.get("annual_revenue_printed")
        organization["organization_revenue"] = organization["annual_revenue"]
    for key in _RECENT_KEYS:
        if key in organization and rng.random() < ABSENT_SHARE:
            del organization[key]  # absent from Apollo's older answers, as other optional keys are
    return _in_recorded_order(organization, everything=True)


def _primary_phone(rng: random.Random, country: Country, city: City) -> PrimaryPhoneDocument:
    """The organization's main line ({} for some, as in Apollo's examples)."""
    if rng.random() >= ORGANIZATION_PHONE_SHARE:
        return {}
    nsn = national_number(country, city, rng, False)
    prefix_length = 3 if country.calling_code == "1" else len(city.area_code)
    return {
        "number": raw_number(country, nsn, prefix_length),
        "source": "Owler",
        "sanitized_number": f"+{country.calling_code}{nsn}",
    }


def nested_organization(organization: OrganizationDocument) -> OrganizationDocument:
    """The person's nested organization: the enrich organization without the count keys."""
    return _in_recorded_order(organization, everything=False)


def _in_recorded_order(organization: OrganizationDocument, *, everything: bool) -> OrganizationDocument:
    """`organization`'s keys of `_NESTED_ORGANIZATION_KEYS` in that order; then, if `everything`, the rest.

    The one step that picks keys by name at run time: the same document, fewer keys or reordered.
    """
    source: Mapping[str, object] = organization
    ordered = {key: source[key] for key in _NESTED_ORGANIZATION_KEYS if key in source}
    if everything:
        ordered.update((key, value) for key, value in source.items() if key not in ordered)
    return cast(OrganizationDocument, ordered)
