"""People API Search and Organization Search over the person directory: filters, population, pages.

A search lists the staff of organizations (mock_server/domain/staff.py): those the request names
(domains, ids), companies whose names hold the words asked for, or else a fixed seeded set of
companies. Every person listed is the directory's person, so enriching it afterwards (by id or by
email) answers with the same id, name, title and organization. The same filters and the same seed
give the same pages. (Slightly over 600 lines: both searches share their filters and paging here.)
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from mock_server.domain.documents import OrganizationDocument
from mock_server.domain.errors import InvalidParameter, Unprocessable
from mock_server.domain.matching import ascii_fold, normalize_domain
from mock_server.domain.staff import ROLES, staff_roles
from mock_server.domain.vocabularies import COUNTRIES, Role, pools

if TYPE_CHECKING:
    from mock_server.domain.directory import PersonDirectory
    from mock_server.domain.persons import Person

#: OAS mixed_people/api_search and mixed_companies/search: "a display limit of 50,000 records (100
#: records per page, up to 500 pages)" (docs/apollo-facts.md 7.2).
MAX_PER_PAGE: Final = 100
MAX_PAGE: Final = 500
#: Apollo does not document the default page size; fakeapollo's choice (docs/apollo-facts.md 7.2).
DEFAULT_PER_PAGE: Final = 10
#: OAS: q_organization_domains_list "accepts up to 1,000 domains in a single request".
MAX_LIST_ITEMS: Final = 1_000
MAX_ITEM_LENGTH: Final = 256
#: OAS 422 for api_search (docs/apollo-facts.md 7.2).
INVALID_PARAMETERS: Final = "Invalid parameters"
#: Companies in the seeded set a search with no company filter lists (and their staff).
UNIVERSE_SIZE: Final = 300
#: Organizations whose filter facts a search index keeps.
FACTS_KEPT: Final = 5_000
_FACT_KEYS: Final = (
    "name", "city", "state", "country", "estimated_num_employees", "annual_revenue", "technology_names",
    "industry", "keywords",
)  # fmt: skip
#: How many companies besides the exact one a name query finds, at most.
NAME_VARIANTS: Final = 6
_VARIANT_WORDS: Final = (
    "Group", "Labs", "Systems", "Partners", "Solutions", "Holdings", "Technologies", "Consulting",
    "Ventures", "Studio", "Digital", "Analytics",
)  # fmt: skip
#: The day search records are stamped against (the date of the recordings in tests/data/recorded/).
REFRESHED_BEFORE: Final = datetime(2026, 5, 18, tzinfo=UTC)
#: The exact has_direct_phone text Apollo sends when it has no direct dial (tests/data/recorded/).
MAYBE_PHONE: Final = "Maybe: please request direct dial via people/bulk_match"
_ABBREVIATIONS: Final = {
    "ceo": "chief executive officer", "cto": "chief technology officer", "cfo": "chief financial officer",
    "cmo": "chief marketing officer", "coo": "chief operating officer", "cio": "chief information officer",
    "cro": "chief revenue officer", "cpo": "chief product officer", "vp": "vice president",
    "svp": "senior vice president", "sdr": "sales development representative",
    "bdr": "business development representative", "ae": "account executive",
}  # fmt: skip
_WORDS: Final = re.compile(r"[a-z0-9]+")
_SUFFIXES: Final = frozenset({"inc", "llc", "ltd", "gmbh", "corp", "co", "company", "sa", "ag", "plc"})


# --------------------------------------------------------------------------------------------
# Parameters.
# --------------------------------------------------------------------------------------------


def _items(params: Mapping[str, Any], name: str) -> tuple[str, ...]:
    """An array parameter, from `name[]` (query string) or `name` (body); one string is one item."""
    value = params.get(f"{name}[]", params.get(name))
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or len(value) > MAX_LIST_ITEMS:
        raise Unprocessable(INVALID_PARAMETERS)
    out = []
    for item in value:
        if not isinstance(item, str) or len(item) > MAX_ITEM_LENGTH:
            raise Unprocessable(INVALID_PARAMETERS)
        if item.strip():
            out.append(item.strip())
    return tuple(out)


def _number(params: Mapping[str, Any], name: str, key: str) -> int | None:
    """`name[key]` from the query string or `{"name": {"key": ...}}` from a body; an integer."""
    value = params.get(f"{name}[{key}]")
    nested = params.get(name)
    if value is None and isinstance(nested, Mapping):
        value = nested.get(key)
    return _integer(value)


def _integer(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise Unprocessable(INVALID_PARAMETERS)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r" *-?[0-9]{1,15} *", value):
        return int(value)
    raise Unprocessable(INVALID_PARAMETERS)


def _flag(params: Mapping[str, Any], name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise Unprocessable(INVALID_PARAMETERS)


class Page(NamedTuple):
    """Which page a search asks for: its number and size (the size Apollo echoes back)."""

    page: int
    per_page: int


def parse_page(
    params: Mapping[str, Any], *, default_size: int = DEFAULT_PER_PAGE, largest: int = MAX_PER_PAGE
) -> Page:
    """The page asked for: at least 1; a size above the largest is cut to it (docs/apollo-facts.md 7.2)."""
    page = _integer(params.get("page"))
    size = _integer(params.get("per_page"))
    page = 1 if page is None or page < 1 else page
    size = default_size if size is None or size < 1 else min(size, largest)
    return Page(page, size)


def pagination(page: Page, total: int) -> dict[str, int]:
    """Apollo's pagination object: total_pages is total_entries / per_page rounded up."""
    return {
        "page": page.page,
        "per_page": page.per_page,
        "total_entries": total,
        "total_pages": math.ceil(total / page.per_page),
    }


def window(page: Page, total: int) -> range:
    """The positions a page shows; none past Apollo's display limit of 500 pages."""
    if page.page > MAX_PAGE:
        return range(0)
    start = (page.page - 1) * page.per_page
    return range(min(start, total), min(start + page.per_page, total))


@dataclass(frozen=True)
class Filters:
    """The filters real clients send to People API Search and Organization Search, normalised."""

    titles: tuple[str, ...] = ()
    similar_titles: bool = True
    seniorities: tuple[str, ...] = ()
    keywords: str = ""
    person_locations: tuple[str, ...] = ()
    organization_locations: tuple[str, ...] = ()
    not_locations: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    organization_ids: tuple[str, ...] = ()
    employee_ranges: tuple[tuple[int, int | None], ...] = ()
    revenue: tuple[int | None, int | None] = (None, None)
    organization_name: str = ""
    keyword_tags: tuple[str, ...] = ()
    technologies_any: tuple[str, ...] = ()
    technologies_all: tuple[str, ...] = ()
    technologies_none: tuple[str, ...] = ()

    @property
    def names_companies(self) -> bool:
        """Whether the request names its companies (by domain or id) rather than searching them."""
        return bool(self.domains or self.organization_ids)


def parse_filters(params: Mapping[str, Any]) -> Filters:
    """Filters from merged parameters; Apollo's 422 `Invalid parameters` for malformed ones."""
    domains: list[str] = []
    legacy = params.get("q_organization_domains")
    raw_domains = _items(params, "q_organization_domains_list")
    if isinstance(legacy, str):  # the older newline-separated form
        raw_domains += tuple(d for d in re.split(r"[\s,]+", legacy) if d)
    for raw in raw_domains:
        try:
            domains.append(normalize_domain(raw))
        except InvalidParameter:
            continue  # not a domain: names no company
    ranges = []
    for text in _items(params, "organization_num_employees_ranges"):
        low, _, high = text.partition(",")
        try:
            ranges.append((int(low or 0), int(high) if high.strip() else None))
        except ValueError:
            raise Unprocessable(INVALID_PARAMETERS) from None
    keywords = params.get("q_keywords") or ""
    name = params.get("q_organization_name") or ""
    if (
        not isinstance(keywords, str)
        or not isinstance(name, str)
        or len(keywords) + len(name) > MAX_ITEM_LENGTH
    ):
        raise Unprocessable(INVALID_PARAMETERS)
    return Filters(
        titles=_items(params, "person_titles"),
        similar_titles=_flag(params, "include_similar_titles", True),
        seniorities=tuple(s.lower() for s in _items(params, "person_seniorities")),
        keywords=keywords.strip(),
        person_locations=_items(params, "person_locations"),
        organization_locations=_items(params, "organization_locations"),
        not_locations=_items(params, "organization_not_locations"),
        domains=tuple(dict.fromkeys(domains)),
        organization_ids=tuple(dict.fromkeys(i.lower() for i in _items(params, "organization_ids"))),
        employee_ranges=tuple(ranges),
        revenue=(_number(params, "revenue_range", "min"), _number(params, "revenue_range", "max")),
        organization_name=name.strip(),
        keyword_tags=_items(params, "q_organization_keyword_tags"),
        technologies_any=_items(params, "currently_using_any_of_technology_uids"),
        technologies_all=_items(params, "currently_using_all_of_technology_uids"),
        technologies_none=_items(params, "currently_not_using_any_of_technology_uids"),
    )


# --------------------------------------------------------------------------------------------
# Matching.
# --------------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    """Lower-case words with Apollo's common title abbreviations spelt out."""
    out: list[str] = []
    for word in _WORDS.findall(ascii_fold_spaced(text)):
        out.extend(_ABBREVIATIONS.get(word, word).split())
    return out


def ascii_fold_spaced(text: str) -> str:
    """Lower-case ASCII, words kept apart (ascii_fold drops the spaces)."""
    return " ".join(ascii_fold(word) for word in text.split())


def title_matches(title: str, wanted: Sequence[str], *, similar: bool) -> bool:
    """Whether a title is one of `wanted`: exactly, or (similar titles) holding all of one's words."""
    if not wanted:
        return True
    if not similar:
        return any(title.strip().lower() == w.strip().lower() for w in wanted)
    have = set(_words(title))
    return any(set(_words(w)) <= have for w in wanted if _words(w))


def role_matches(role: Role, filters: Filters) -> bool:
    """Whether a staff member's role passes the title and seniority filters."""
    if filters.seniorities and role.seniority not in filters.seniorities:
        return False
    return title_matches(role.title, filters.titles, similar=filters.similar_titles)


def location_matches(organization: Mapping[str, Any], locations: Sequence[str]) -> bool:
    """Whether the organization's city, state or country is one of `locations` ("city, state" too)."""
    if not locations:
        return True
    places = {ascii_fold_spaced(str(organization.get(k) or "")) for k in ("city", "state", "country")}
    country = next((c for c in COUNTRIES if c.name == organization.get("country")), None)
    if country is not None:
        places.add(country.code.lower())
    places.discard("")
    for location in locations:
        parts = [ascii_fold_spaced(p) for p in location.split(",") if p.strip()]
        if parts and all(p in places for p in parts):
            return True
    return False


def _technology_uid(name: str) -> str:
    """A technology's uid as filters name it: lower case, spaces and dots as underscores."""
    return re.sub(r"[\s.]+", "_", name.strip().lower())


def organization_matches(organization: Mapping[str, Any], filters: Filters, *, people: bool) -> bool:
    """Whether an organization passes the company filters (for people: their employer's)."""
    locations = filters.organization_locations + (filters.person_locations if people else ())
    if not location_matches(organization, locations):
        return False
    if filters.not_locations and location_matches(organization, filters.not_locations):
        return False
    employees = organization.get("estimated_num_employees")
    if filters.employee_ranges:
        count = employees if isinstance(employees, int) else 0
        if not any(low <= count and (high is None or count <= high) for low, high in filters.employee_ranges):
            return False
    low, high = filters.revenue
    revenue = organization.get("annual_revenue")
    if low is not None or high is not None:
        if not isinstance(revenue, int | float):
            return False
        if (low is not None and revenue < low) or (high is not None and revenue > high):
            return False
    technologies = {_technology_uid(t) for t in organization.get("technology_names") or ()}
    if filters.technologies_any and not technologies & {_technology_uid(t) for t in filters.technologies_any}:
        return False
    if not {_technology_uid(t) for t in filters.technologies_all} <= technologies:
        return False
    if technologies & {_technology_uid(t) for t in filters.technologies_none}:
        return False
    if filters.keyword_tags:
        tags = " ".join(
            [str(organization.get("industry") or "")] + [str(k) for k in organization.get("keywords") or ()]
        ).lower()
        if not any(tag.lower() in tags for tag in filters.keyword_tags):
            return False
    name = " ".join(_WORDS.findall(ascii_fold_spaced(str(organization.get("name") or ""))))
    return people or not filters.organization_name or _name_words(filters.organization_name) in name


def _name_words(name: str) -> str:
    """A company name as name filters compare it: folded words, a trailing "Inc", "Co"... dropped."""
    words = _WORDS.findall(ascii_fold_spaced(name))
    while len(words) > 1 and words[-1] in _SUFFIXES:
        words.pop()
    return " ".join(words)


# --------------------------------------------------------------------------------------------
# Which companies a search looks at.
# --------------------------------------------------------------------------------------------


def _digest(*parts: object) -> bytes:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()


def _slug(words: Sequence[str]) -> str:
    folded = [ascii_fold(w) for w in words]
    folded = [w for w in folded if w]
    while len(folded) > 1 and folded[-1] in _SUFFIXES:
        folded.pop()
    return "-".join(folded)[:63].strip("-")


def universe(seed: int, size: int = UNIVERSE_SIZE) -> list[str]:
    """The seeded set of company domains a search without company filters lists."""
    domains: dict[str, None] = {}
    index = 0
    while len(domains) < size and index < size * 20:
        digest = _digest(seed, "universe", index)
        country = COUNTRIES[digest[0] % len(COUNTRIES)]
        companies = pools(country.locale).companies
        company = companies[int.from_bytes(digest[1:5], "big") % len(companies)]
        slug = _slug(re.split(r"[\s,&]+", company)[:2])
        if digest[5] % 3 == 0:
            slug = f"{slug}-{_VARIANT_WORDS[digest[6] % len(_VARIANT_WORDS)].lower()}"
        tld = country.tlds[0] if digest[7] % 2 == 0 else "com"
        if slug:
            domains.setdefault(f"{slug}.{tld}", None)
        index += 1
    return list(domains)


def name_candidates(seed: int, name: str) -> list[str]:
    """The companies a name query finds: the one of that exact name first, then a few more holding it."""
    text = name.strip()
    if "." in text and " " not in text:
        try:
            return [normalize_domain(text)]
        except InvalidParameter:
            pass
    slug = _slug(re.split(r"[\s,&]+", text))
    if not slug:
        return []
    digest = _digest(seed, "name", slug)
    count = digest[0] % (NAME_VARIANTS + 1)
    words = [_VARIANT_WORDS[(digest[1] + i * 5) % len(_VARIANT_WORDS)] for i in range(count)]
    return [f"{slug}.com"] + [f"{slug}-{w.lower()}.com" for w in dict.fromkeys(words)]


@dataclass(frozen=True)
class StaffSlot:
    """One person a search lists: a staff slot at a company."""

    domain: str
    slot: int


class SearchIndex:
    """Searches over one directory; remembers each filter set's matches (a few, newest kept)."""

    def __init__(self, directory: PersonDirectory, cache_size: int = 64) -> None:
        self.directory = directory
        self._universe: list[str] | None = None
        self._cache: dict[Any, Any] = {}
        self._cache_size = cache_size
        self._organizations: dict[str, dict[str, Any]] = {}

    def _remember(self, key: Any, make: Callable[[], Any]) -> Any:
        found = self._cache.get(key)
        if found is None:
            found = make()
            if len(self._cache) >= self._cache_size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = found
        return found

    def reset(self) -> None:
        """Forget cached matches (the directory forgot its organizations)."""
        self._cache.clear()
        self._organizations.clear()

    def _domains(self, filters: Filters, *, people: bool) -> list[str]:
        """The companies a search considers, before the company filters."""
        if filters.names_companies:
            domains = list(filters.domains)
            for org_id in filters.organization_ids:
                organization = self.directory.organization_by_id(org_id)
                if organization is not None and organization.get("primary_domain"):
                    domains.append(str(organization["primary_domain"]))
            return list(dict.fromkeys(domains))
        if self._universe is None:
            self._universe = universe(self.directory.seed)
        if filters.organization_name and not people:
            found = name_candidates(self.directory.seed, filters.organization_name)
            wanted = _name_words(filters.organization_name)
            named = [
                d
                for d in self._universe
                if wanted in " ".join(_WORDS.findall(ascii_fold_spaced(self._name(d))))
            ]
            return list(dict.fromkeys(found + named))
        return list(self._universe)

    def _name(self, domain: str) -> str:
        return str(self._facts(domain).get("name") or "")

    def _facts(self, domain: str) -> dict[str, Any]:
        """What the filters read of the organization at `domain` (kept: cheaper than the whole one)."""
        facts = self._organizations.get(domain)
        if facts is None:
            organization = self.directory.organization(domain)
            facts = {key: organization.get(key) for key in _FACT_KEYS}
            if len(self._organizations) >= FACTS_KEPT:
                self._organizations.pop(next(iter(self._organizations)))
            self._organizations[domain] = facts
        return facts

    def organizations(self, filters: Filters) -> list[str]:
        """The domains of the companies Organization Search lists for `filters`, in order."""

        def make() -> list[str]:
            return [
                d
                for d in self._domains(filters, people=False)
                if organization_matches(self._facts(d), filters, people=False)
            ]

        return list(self._remember(("organizations", filters), make))

    def staff(self, filters: Filters) -> list[StaffSlot]:
        """The staff People API Search lists for `filters`, company by company."""

        def make() -> list[StaffSlot]:
            slots: list[StaffSlot] = []
            keywords = set(_words(filters.keywords))
            allowed = {role for role in ROLES if role_matches(role, filters)}
            title_words = {role: set(_words(role.title)) for role in allowed}
            for domain in self._domains(filters, people=True):
                facts = self._facts(domain)
                if not organization_matches(facts, filters, people=True):
                    continue
                company_words = set(_words(str(facts.get("name") or "")))
                employees = facts.get("estimated_num_employees")
                roles = staff_roles(
                    self.directory.seed, domain, employees if isinstance(employees, int) else 1
                )
                for slot, role in enumerate(roles):
                    if role not in allowed or (
                        keywords and not keywords <= company_words | title_words[role]
                    ):
                        continue
                    slots.append(StaffSlot(domain, slot))
            return slots

        return list(self._remember(("staff", filters), make))


# --------------------------------------------------------------------------------------------
# Apollo's search records.
# --------------------------------------------------------------------------------------------


def obfuscate(last_name: str) -> str:
    """last_name_obfuscated: the first two letters, three stars, the last letter ("Br***m")."""
    name = last_name.strip()
    if len(name) <= 2:
        return f"{name[:1]}***"
    return f"{name[:2]}***{name[-1]}"


def refreshed_at(person_id: str) -> str:
    """last_refreshed_at: a moment in the 60 days before the reference day, fixed by the id."""
    digest = _digest("refreshed", person_id)
    moment = REFRESHED_BEFORE - timedelta(milliseconds=int.from_bytes(digest[:8], "big") % (60 * 86_400_000))
    return moment.isoformat(timespec="milliseconds")


def thin_person(person: Person) -> dict[str, Any]:
    """A People API Search record: no email, no phone, no full last name (tests/data/recorded/)."""
    record = person.record
    found = record.get("organization")
    organization: Mapping[str, object] = found if isinstance(found, Mapping) else {}
    primary = organization.get("primary_phone")
    return {
        "id": person.id,
        "first_name": record.get("first_name"),
        "last_name_obfuscated": obfuscate(str(record.get("last_name") or "")),
        "title": record.get("title"),
        "last_refreshed_at": refreshed_at(person.id),
        "has_email": bool(record.get("email")),
        "has_city": bool(record.get("city")),
        "has_state": bool(record.get("state")),
        "has_country": bool(record.get("country")),
        "has_direct_phone": "Yes" if person.has_mobile else MAYBE_PHONE,
        "organization": {
            "name": organization.get("name"),
            "has_industry": bool(organization.get("industry")),
            "has_phone": isinstance(primary, Mapping) and bool(primary.get("number")),
            "has_city": bool(organization.get("city")),
            "has_state": bool(organization.get("state")),
            "has_country": bool(organization.get("country")),
            "has_zip_code": bool(organization.get("postal_code")),
            "has_revenue": organization.get("annual_revenue") is not None,
            "has_employee_count": organization.get("estimated_num_employees") is not None,
        },
    }


_ROW_KEYS: Final = (
    "id", "name", "website_url", "angellist_url", "linkedin_url", "twitter_url", "facebook_url",
    "primary_phone", "languages", "alexa_ranking", "phone", "linkedin_uid", "founded_year",
    "publicly_traded_symbol", "publicly_traded_exchange", "logo_url", "crunchbase_url", "primary_domain",
)  # fmt: skip


def organization_row(organization: OrganizationDocument) -> dict[str, Any]:
    """An Organization Search row: the 2026 keys of tests/data/recorded/mixed_companies_search_*."""
    row = {key: organization.get(key) for key in _ROW_KEYS}
    for key in ("sic_codes", "naics_codes"):
        if organization.get(key):
            row[key] = organization[key]
    primary = organization.get("primary_phone")
    if isinstance(primary, Mapping) and primary.get("sanitized_number"):
        row["sanitized_phone"] = primary["sanitized_number"]
    revenue = organization.get("organization_revenue", organization.get("annual_revenue"))
    printed = organization.get("organization_revenue_printed", organization.get("annual_revenue_printed"))
    row.update(
        owned_by_organization_id=organization.get("owned_by_organization_id"),
        organization_revenue_printed=printed,
        organization_revenue=revenue if revenue is not None else 0,
        intent_strength=None,
        show_intent=True,
        has_intent_signal_account=False,
        intent_signal_account=None,
    )
    for key in (
        "organization_headcount_six_month_growth",
        "organization_headcount_twelve_month_growth",
        "organization_headcount_twenty_four_month_growth",
    ):
        row[key] = organization.get(key)
    return row


_BREADCRUMBS: Final = (
    ("q_organization_name", "Company Name"),
    ("organization_num_employees_ranges", "# Employees"),
    ("organization_locations", "Company Locations"),
    ("organization_not_locations", "Exclude Company Locations"),
    ("q_organization_keyword_tags", "Company Keywords Contain ANY Of"),
    ("q_organization_domains_list", "Company Domains"),
    ("organization_ids", "Companies"),
)


def breadcrumbs(filters: Filters) -> list[dict[str, Any]]:
    """One breadcrumb per filter value, as Organization Search echoes them (tests/data/recorded/)."""
    values: dict[str, Sequence[str]] = {
        "q_organization_name": (filters.organization_name,) if filters.organization_name else (),
        "organization_num_employees_ranges": [
            f"{low},{'' if high is None else high}" for low, high in filters.employee_ranges
        ],
        "organization_locations": filters.organization_locations,
        "organization_not_locations": filters.not_locations,
        "q_organization_keyword_tags": filters.keyword_tags,
        "q_organization_domains_list": filters.domains,
        "organization_ids": filters.organization_ids,
    }
    crumbs = []
    for field, label in _BREADCRUMBS:
        for value in values[field]:
            shown = value.replace(",", "-") if field == "organization_num_employees_ranges" else value
            crumbs.append({"label": label, "signal_field_name": field, "value": value, "display_name": shown})
    return crumbs
