"""A person as a pure function of (seed, identity): names, employer, history, the keys it leaves out."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

from mock_server.config import Config
from mock_server.domain.documents import (
    EmploymentDocument,
    OrganizationDocument,
    PersonDocument,
    PhoneDocument,
    PhoneNumberDocument,
)
from mock_server.domain.generation.common import (
    ABSENT_SHARE,
    digest_of,
    email_hashes,
    fresh_id,
    month_date,
    months_before,
    next_ids,
    object_id,
    share,
)
from mock_server.domain.generation.organizations import (
    nested_organization,
)
from mock_server.domain.generation.phones import (
    person_phones,
)
from mock_server.domain.matching import (
    Identity,
    ascii_fold,
    derived_email,
)
from mock_server.domain.vocabularies import (
    COUNTRIES,
    COUNTRY_WEIGHTS,
    EMAIL_STATUS_WEIGHTS,
    EMAIL_STATUSES,
    EU_COUNTRIES,
    FREE_MAIL_DOMAINS,
    TRACK_WEIGHTS,
    TRACKS,
    WELL_KNOWN_EMPLOYERS,
    Country,
    Pools,
    Role,
    country_by_name,
    pools,
)

#: Share of generated persons that come back partial (no organization, sparse profile).
PARTIAL_SHARE: Final = 0.15

#: Default share of never-seen emails Apollo has no one for, answered with a thin, newly created
#: person (docs/apollo-facts.md 2.2; the recording in tests/data/recorded): the `thin_share` setting's.
#: `thin.test` is always thin, and emails at reserved `.test` domains never are by chance.
THIN_SHARE: Final[float] = Config.thin_share
#: Share of waterfall bulk misses whose stub reads `match_confidence: "low"` rather than "none": Apollo's
#: bulk docs (2026-10) name both values for a waterfall without saying how often (docs/apollo-facts.md 2.2).
LOW_CONFIDENCE_SHARE: Final = 0.2
#: Share of generated persons with an email whose email_status is null all the same (as the recorded
#: thin person's is, tests/data/recorded).
NULL_EMAIL_STATUS_SHARE: Final = 0.05
#: Share of generated persons whose email domain is a catch-all (`email_domain_catchall: true`).
CATCHALL_SHARE: Final = 0.1
#: The thin person's keys, in the recorded order (people_match_thin-person-unknown-email_nango_2026-05-18).
THIN_KEYS: Final = (
    "id", "first_name", "last_name", "name", "linkedin_url", "title", "photo_url", "twitter_url",
    "github_url", "facebook_url", "extrapolated_email_confidence", "headline", "organization_id",
    "employment_history", "email", "email_status", "intent_strength", "show_intent",
    "email_domain_catchall", "revealed_for_current_team", "departments", "subdepartments",
    "functions", "seniority",
)  # fmt: skip
#: Share of complete generated persons with a mobile phone number.
MOBILE_SHARE: Final = 0.6

#: Share of complete generated persons with at least one personal email.
PERSONAL_EMAIL_SHARE: Final = 0.45


#: How many optional keys a partial person leaves out, at least and at most.
PARTIAL_ABSENT_KEYS: Final = (2, 8)

#: Share of generated persons whose answer carries the address keys of Get Complete Person Info.
ADDRESS_SHARE: Final = 0.4

#: A person key generation may leave out: none of them is required by Apollo's examples.
OptionalPersonKey = Literal[
    "email_status", "photo_url", "twitter_url", "github_url", "facebook_url",
    "extrapolated_email_confidence", "headline", "employment_history", "revealed_for_current_team",
    "is_likely_to_engage", "intent_strength", "show_intent", "departments", "subdepartments",
    "functions", "seniority", "phone_numbers", "hashed_email", "postal_code", "formatted_address",
    "time_zone",
]  # fmt: skip
#: Person keys generation may leave out.
OPTIONAL_PERSON_KEYS: Final[tuple[OptionalPersonKey, ...]] = get_args(OptionalPersonKey)
#: Keys a partial person may also miss, when null.
_PARTIAL_NULL_KEYS: Final[tuple[Literal["organization", "email"], ...]] = ("organization", "email")

_PHOTO_CHARS: Final = "abcdefghijklmnopqrstuvwxyz0123456789"

_NAME_SEPARATORS: Final = re.compile(r"[._\-+]+")


def _company_domain(company: str, country: Country, rng: random.Random) -> str:
    words = [ascii_fold(w) for w in re.split(r"[\s,&\-]+", company)]
    words = [w for w in words if w and w not in {"and", "und", "et", "e", "y", "i", "en"}]
    label = "-".join(words[:2]) or "company"
    tld = country.tlds[0] if rng.random() < 0.5 else "com"
    return f"{label[:63]}.{tld}"


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

    record: PersonDocument
    personal_emails: tuple[str, ...]
    phone_numbers: tuple[PhoneDocument, ...]
    gdpr: bool
    partial: bool
    has_mobile: bool


def generate_person(
    seed: int,
    identity: Identity,
    organization_at: Callable[[str], OrganizationDocument],
    taken_ids: set[str],
    staff: tuple[str, Role] | None = None,
    thin_share: float = THIN_SHARE,
) -> Generated:
    """The person `identity` means, a pure function of (seed, identity, thin_share).

    `organization_at(domain)` gives the employer (itself a pure function of (seed, domain));
    `taken_ids` are ids generation must not hand out (the fixtures'). `staff` (employer domain,
    role) places a search's staff member: complete, at that employer, in its city, in that role.
    `thin_share` of never-seen emails come back as the thin person of an email Apollo has no one for.
    """
    if identity.is_thin or (identity.thin_by_chance and share(seed, "no-one", identity.value) < thin_share):
        return thin_person(seed, identity.value, taken_ids)
    digest = digest_of(seed, identity.kind, identity.value)
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    partial = (rng.random() < PARTIAL_SHARE or identity.is_partial) and staff is None

    # The employer: the email's domain, else a company picked in the person's locale.
    work_domain: str | None = None
    if identity.kind == "email":
        email_domain = identity.value.rpartition("@")[2]
        if email_domain not in FREE_MAIL_DOMAINS:
            work_domain = email_domain
    elif identity.kind == "name":
        work_domain = identity.value.rpartition("@")[2]
    elif staff is not None:
        work_domain = staff[0]
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
    if staff is not None:
        country = org_country
    city = (
        next((c for c in country.cities if c.name == organization["city"]), None)
        if country is org_country and (rng.random() < 0.7 or staff is not None)
        else None
    ) or rng.choice(country.cities)

    first_name, last_name = _choose_names(identity, country, rng)
    person_id = fresh_id(digest, taken_ids)
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
    if staff is not None:
        role = staff[1]
        track = next(roles for _, roles in TRACKS if role in roles)
    handle = f"{folded_first}{folded_last}"[:15] or "user"
    engineer = "engineering" in role.functions or "data_science" in role.functions

    history: list[EmploymentDocument] = []
    if not partial:
        history = _employment_history(seed, rng, person_id, organization, role, track, country)

    personal: tuple[str, ...] = ()
    phones: tuple[PhoneDocument, ...] = ()
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
        phones = person_phones(rng, country, city, person_id, mobile=has_mobile)

    photo = (
        "https://static.licdn.com/aero-v1/sc/h/" + "".join(rng.choice(_PHOTO_CHARS) for _ in range(25))
        if not partial and rng.random() < 0.7
        else None
    )
    twitter = f"https://twitter.com/{handle}" if not partial and rng.random() < 0.15 else None
    github = f"https://github.com/{handle}" if not partial and engineer and rng.random() < 0.35 else None
    facebook = f"https://www.facebook.com/{handle}" if not partial and rng.random() < 0.05 else None

    record: PersonDocument = {
        "id": person_id,
        "first_name": first_name,
        "last_name": last_name,
        "name": f"{first_name} {last_name}".strip(),
        "linkedin_url": linkedin,
        "title": None if partial else role.title,
        "email_status": None,  # drawn below
        "photo_url": photo,
        "twitter_url": twitter,
        "github_url": github,
        "facebook_url": facebook,
        "extrapolated_email_confidence": None,  # drawn below
        "headline": None if partial else f"{role.title} at {organization['name']}",
        "email": email,
        "organization_id": None if partial else organization["id"],
        "employment_history": history,
        "state": None if partial else city.state,
        "city": None if partial else city.name,
        "country": country.name,
        "revealed_for_current_team": True,
        "organization": None if partial else nested_organization(organization),
        "is_likely_to_engage": rng.random() < 0.3,
        "intent_strength": None,
        "show_intent": False,
        "email_domain_catchall": None,  # drawn below, or left out
        "departments": [] if partial else list(role.departments),
        "subdepartments": [] if partial else list(role.subdepartments),
        "functions": [] if partial else list(role.functions),
        "seniority": None if partial else role.seniority,
    }
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
    if extra.random() < ABSENT_SHARE:
        del record["email_domain_catchall"]  # absent from Apollo's older answers
    else:
        record["email_domain_catchall"] = extra.random() < CATCHALL_SHARE
    if email is not None and "email_status" in record and extra.random() < NULL_EMAIL_STATUS_SHARE:
        record["email_status"] = None
    return Generated(
        record=record,
        personal_emails=personal,
        phone_numbers=phones,
        gdpr=country.gdpr,
        partial=partial,
        has_mobile=has_mobile,
    )


def thin_person(seed: int, email: str, taken_ids: set[str]) -> Generated:
    """The thin person Apollo creates for an email it has no one for (docs/apollo-facts.md 2.2).

    Exactly the recorded keys in the recorded order: no name (`""`, first and last null), the email
    echoed with a null status, no organization, no location keys, no `match_confidence`.
    """
    record: PersonDocument = {
        "id": fresh_id(digest_of(seed, "thin", email), taken_ids),
        "first_name": None,
        "last_name": None,
        "name": "",
        "linkedin_url": None,
        "title": None,
        "photo_url": None,
        "twitter_url": None,
        "github_url": None,
        "facebook_url": None,
        "extrapolated_email_confidence": None,
        "headline": None,
        "organization_id": None,
        "employment_history": [],
        "email": email,
        "email_status": None,
        "intent_strength": None,
        "show_intent": False,
        "email_domain_catchall": False,
        "revealed_for_current_team": True,
        "departments": [],
        "subdepartments": [],
        "functions": [],
        "seniority": None,
    }
    return Generated(
        record=record, personal_emails=(), phone_numbers=(), gdpr=False, partial=False, has_mobile=False
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


def _work_hq_number(organization: OrganizationDocument) -> PhoneNumberDocument | None:
    """The organization's main line as a person's phone_numbers entry (Apollo's older docs' shape)."""
    primary = organization.get("primary_phone")
    sanitized = primary.get("sanitized_number") if isinstance(primary, Mapping) else None
    if primary is None or not sanitized:
        return None
    return {
        "raw_number": primary.get("number"),
        "sanitized_number": sanitized,
        "type": "work_hq",
        "position": 0,
        "status": "no_status",
        "dnc_status": None,
        "dnc_other_info": None,
    }


def _leave_out(record: PersonDocument, rng: random.Random, *, partial: bool) -> None:
    """Drop optional keys as Apollo's thinner answers do: a few per person, more when partial."""
    droppable: list[OptionalPersonKey | Literal["organization", "email"]]
    droppable = [key for key in OPTIONAL_PERSON_KEYS if key in record]
    if partial:
        # A partial person may also miss its (already null) organization and email keys.
        droppable += [key for key in _PARTIAL_NULL_KEYS if record.get(key) is None]
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
    organization: OrganizationDocument,
    role: Role,
    track: Sequence[Role],
    country: Country,
) -> list[EmploymentDocument]:
    """Current job at `organization`, then earlier jobs, each ending before the next starts."""
    locale_pools = pools(country.locale)
    earlier = rng.randint(0, 4)
    ids = next_ids(object_id(digest_of(person_id, "employment")), earlier + 1)
    founded = organization.get("founded_year")
    start_year = rng.randint(max(2012, founded if isinstance(founded, int) else 2012), 2024)
    start_month = rng.randint(1, 12)
    jobs = [
        _job(
            ids[0],
            True,
            None,
            month_date(start_year, start_month),
            organization["id"],
            organization["name"],
            role.title,
        )
    ]
    end_year, end_month = start_year, start_month
    juniors = [r for r in track if r.level <= role.level] or list(track)
    for index in range(earlier):
        gap = rng.randint(0, 4)
        end_year, end_month = months_before(end_year, end_month, gap)
        if end_year < 1990:
            break
        length = rng.randint(8, 48)
        begin_year, begin_month = months_before(end_year, end_month, length)
        employer = rng.choice(WELL_KNOWN_EMPLOYERS if rng.random() < 0.3 else locale_pools.companies)
        employer_id = object_id(digest_of(seed, "employer", employer)) if rng.random() < 0.8 else None
        previous_role = rng.choice(juniors)
        jobs.append(
            _job(
                ids[index + 1],
                False,
                month_date(end_year, end_month),
                month_date(begin_year, begin_month),
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
    organization_name: str | None,
    title: str,
) -> EmploymentDocument:
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
        "org_matched_by_name": False,
        "organization_id": organization_id,
        "organization_name": organization_name,
        "raw_address": None,
        "start_date": start_date,
        "title": title,
        "updated_at": None,
        "id": job_id,
        "key": job_id,
    }


def stub_person(
    seed: int, key: str, organization: OrganizationDocument, confidence: str = "none"
) -> PersonDocument:
    """A miss answered as a person: empty name, `match_confidence` ("none"), an organization filled in.

    The shape a live single-person miss was seen to take (SkillfulAgents/SuperAgent #1114, 2026-09)
    and that Apollo's bulk docs give a waterfall miss (`match_confidence: none`, or `low`).
    """
    nested = nested_organization(organization)
    return {
        "id": object_id(digest_of(seed, "stub", key)),
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
        "match_confidence": confidence,
    }
