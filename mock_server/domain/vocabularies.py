"""Reference vocabularies of generated persons: data files in vocabularies/, each naming its source."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from mock_server.domain.documents import TechnologyDocument
from mock_server.domain.matching import ascii_fold

_FOLDER: Final = Path(__file__).with_name("vocabularies")
# Faker's pools, drawn once (bake_pools) and shipped: importing Faker at run time cost ~19 MB.
POOLS_FILE: Final = Path(__file__).with_name("name_pools.json")
#: Seed of the Faker instances that build the per-locale value pools (never the person seed).
_POOL_SEED: Final = 20_240_601


def _load(name: str) -> dict[str, Any]:
    """One vocabulary file, parsed."""
    document: dict[str, Any] = json.loads((_FOLDER / f"{name}.json").read_text(encoding="utf-8"))
    return document


@dataclass(frozen=True)
class City:
    """A city persons and organizations are placed in."""

    name: str
    state: str
    postal_code: str
    area_code: str


@dataclass(frozen=True)
class Country:
    """A country with its numbering plan, domains, free-mail providers and cities."""

    name: str
    code: str
    locale: str
    weight: int
    gdpr: bool
    eu: bool
    calling_code: str
    mobile_prefixes: tuple[str, ...]
    mobile_length: int
    landline_length: int
    tlds: tuple[str, ...]
    free_mail: tuple[str, ...]
    cities: tuple[City, ...]
    time_zone: str


@dataclass(frozen=True)
class Role:
    """A title with Apollo's seniority, departments, subdepartments and functions."""

    title: str
    seniority: str
    departments: tuple[str, ...]
    subdepartments: tuple[str, ...]
    functions: tuple[str, ...]
    level: int
    weight: int


@dataclass(frozen=True)
class Industry:
    """An industry with its fixed industry_tag_id, org-chart sector and keywords."""

    name: str
    sector: str
    keywords: tuple[str, ...]
    weight: int
    tag_id: str
    sic_codes: tuple[str, ...] = ()
    naics_codes: tuple[str, ...] = ()


def _fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """A data file's row as dataclass fields: lists become tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in row.items()}


def _country(row: Mapping[str, Any]) -> Country:
    fields = _fields(row)
    fields["cities"] = tuple(City(**city) for city in row["cities"])
    return Country(**fields)


def _role(row: Mapping[str, Any]) -> Role:
    return Role(**_fields(row))


_countries = _load("countries")
COUNTRIES: Final = tuple(_country(row) for row in _countries["countries"])
COUNTRY_WEIGHTS: Final = tuple(c.weight for c in COUNTRIES)
EU_COUNTRIES: Final = tuple(c for c in COUNTRIES if c.eu)
COUNTRY_BY_TLD: Final = {tld: c for c in COUNTRIES for tld in c.tlds if tld != "com"}
GDPR_COUNTRY_NAMES: Final = frozenset(
    {c.name for c in COUNTRIES if c.gdpr} | set(_countries["other_gdpr_countries"])
)
FREE_MAIL_DOMAINS: Final = frozenset(
    {d for c in COUNTRIES for d in c.free_mail} | set(_countries["other_free_mail_domains"])
)

TRACKS: Final = tuple(
    (int(track["weight"]), tuple(_role(row) for row in track["roles"]))
    for track in _load("roles")["tracks"]
)
TRACK_WEIGHTS: Final = tuple(weight for weight, _ in TRACKS)

INDUSTRIES: Final = tuple(
    Industry(**_fields(row))
    for row in _load("industries")["industries"]
)
INDUSTRY_WEIGHTS: Final = tuple(i.weight for i in INDUSTRIES)

TECHNOLOGIES: Final = tuple(
    TechnologyDocument(uid=uid, name=name, category=category)
    for uid, name, category in _load("technologies")["technologies"]
)

_companies = _load("companies")
FUNDING_STAGES: Final = tuple(_companies["funding_stages"])
INVESTORS: Final = tuple(_companies["investors"])
WELL_KNOWN_EMPLOYERS: Final = tuple(_companies["well_known_employers"])

_field_values = _load("fields")
DEPARTMENTS: Final = tuple(_field_values["departments"]["values"])
EMAIL_STATUSES: Final = tuple(_field_values["email_statuses"]["values"])
EMAIL_STATUS_WEIGHTS: Final = tuple(_field_values["email_statuses"]["values"].values())


def country_by_name(name: object) -> Country | None:
    """The country called `name`, if generated persons can come from it."""
    for country in COUNTRIES:
        if country.name == name:
            return country
    return None


# --------------------------------------------------------------------------------------------
# Name, company and street pools per locale (Faker's draws, shipped in name_pools.json).
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pools:
    """One locale's first names, last names, companies and streets."""

    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    companies: tuple[str, ...]
    streets: tuple[str, ...]
    first_by_fold: Mapping[str, str]
    last_by_fold: Mapping[str, str]


_POOLS: dict[str, Pools] = {}
_POOLS_LOCK = threading.Lock()
_BAKED: dict[str, dict[str, list[str]]] | None = None


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def faker_pools(locale: str) -> dict[str, list[str]]:
    """The value pools of `locale` drawn from Faker: what name_pools.json holds (see bake_pools)."""
    from faker import Faker  # only to bake or check the pools: Faker costs ~19 MB and 0.4 s to load

    fake = Faker(locale)
    fake.seed_instance(_POOL_SEED)
    male = [fake.first_name_male() for _ in range(250)]
    female = [fake.first_name_female() for _ in range(250)]
    firsts = _unique(n for n in sorted(set(male) | set(female)) if " " not in n and ascii_fold(n))
    lasts = _unique(
        n for n in sorted({fake.last_name() for _ in range(400)}) if " " not in n and ascii_fold(n)
    )
    companies = _unique(sorted({fake.company().replace("\n", " ") for _ in range(120)} - {""}))
    streets = _unique(sorted({fake.street_address().replace("\n", ", ").strip() for _ in range(80)}))
    return {
        "first_names": list(firsts),
        "last_names": list(lasts),
        "companies": list(companies),
        "streets": list(streets),
    }


def pool_locales() -> list[str]:
    """Every locale a generated person can come from."""
    return sorted({country.locale for country in COUNTRIES})


def bake_pools() -> None:
    """Rewrite name_pools.json from Faker (after changing the Faker pin or the pool sizes)."""
    document = {locale: faker_pools(locale) for locale in pool_locales()}
    text = json.dumps(document, ensure_ascii=False, indent=0, sort_keys=True)
    POOLS_FILE.write_text(text + "\n", encoding="utf-8")


def _build_pools(locale: str) -> Pools:
    global _BAKED
    if _BAKED is None:
        _BAKED = json.loads(POOLS_FILE.read_text(encoding="utf-8"))
    baked = _BAKED[locale]
    firsts, lasts = tuple(baked["first_names"]), tuple(baked["last_names"])
    return Pools(
        first_names=firsts,
        last_names=lasts,
        companies=tuple(baked["companies"]),
        streets=tuple(baked["streets"]),
        first_by_fold={ascii_fold(n): n for n in reversed(firsts)},
        last_by_fold={ascii_fold(n): n for n in reversed(lasts)},
    )


def pools(locale: str) -> Pools:
    """The pools of `locale`, built once."""
    found = _POOLS.get(locale)
    if found is None:
        with _POOLS_LOCK:
            found = _POOLS.get(locale)
            if found is None:
                found = _build_pools(locale)
                _POOLS[locale] = found
    return found
