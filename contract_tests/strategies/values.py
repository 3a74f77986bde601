"""Realistic scalar values: names and places in every script, ids, emails, phones, dates, URLs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import strategies as st

FIRST_NAMES = ["Ada", "Tim", "Priya", "Casey", "Zoë", "Søren", "محمد", "יעל", "Thị Hồng", "Łukasz"]
LAST_NAMES = ["Lovelace", "Zheng", "García", "O'Brien", "Nguyễn", "العلي", "כהן", "Müller-Lüdenscheidt"]
DOMAINS = ["apollo.io", "example.com", "northwind-analytics.example", "acme.test", "müller.example"]
TITLES = ["Founder & CEO", "VP Engineering", "Head of Growth 🚀", "مديرة المبيعات", "Data Scientist"]
HEADLINES = [
    "Building B2B data tools | ex-Stripe",
    "Helping teams grow 📈",
    "מהנדסת תוכנה",
    "Speaker & author",
]
CITIES = ["San Francisco", "Zürich", "תל אביב", "القاهرة", "São Paulo", "Kraków"]
STATES = ["California", "Berlin", "England", "Karnataka", "São Paulo", "Ontario"]
COUNTRIES = ["United States", "Germany", "United Kingdom", "India", "Brazil", "Canada"]
EMAIL_STATUSES = ["verified", "unverified", "extrapolated", "unavailable"]
SENIORITIES = ["founder", "c_suite", "vp", "director", "manager", "senior", "entry"]
WORDS = ["sales", "engineering", "Apollo", "data", "growth", "B2B", "SaaS", "Ünïcødé", "日本語", "✨ beta"]
TIME_ZONES = ["America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "Europe/London"]
#: Strings a careless client mangles: unicode of every width, control characters, emoji.
ODD_STRINGS = [
    "",
    " ",
    "Zoë Ğüneş",
    "李小龍",
    "👩‍💻 🚀",
    'O\'Brien "Jr"',
    "tab\there",
    "line\nbreak",
    "\u200b",
]
#: The free text of the `longest` extreme: every script and emoji, about 1,800 characters.
LONGEST_TEXT = ("Søren O'Brien-Nguyễn محمد العلي יעל כהן 李小龍 👩‍💻🚀 & #+ ")[:60] * 34


def apollo_ids() -> st.SearchStrategy[str]:
    """24 lowercase hex characters, Apollo's object ids."""
    return st.text("0123456789abcdef", min_size=24, max_size=24)


def emails() -> st.SearchStrategy[str]:
    """Plausible work emails: `first.last@domain`."""
    return st.builds(
        lambda first, last, host: f"{first}.{last}@{host}".lower(),
        st.sampled_from(["ada", "tim", "priya", "casey", "jose", "mei"]),
        st.sampled_from(["lovelace", "zheng", "raman", "brennan", "garcia"]),
        st.sampled_from(["apollo.io", "example.com", "acme.test", "northwind-analytics.example"]),
    )


def e164_numbers() -> st.SearchStrategy[str]:
    """E.164 phone numbers: `+` and up to 15 digits."""
    return st.builds(
        lambda cc, rest: f"+{cc}{rest}",
        st.sampled_from(["1", "44", "49", "91", "55"]),
        st.text("0123456789", min_size=8, max_size=10),
    )


def iso_dates() -> st.SearchStrategy[str]:
    """Calendar dates YYYY-MM-DD."""
    return st.dates(date(1990, 1, 1), date(2030, 12, 31)).map(date.isoformat)


def iso_timestamps() -> st.SearchStrategy[str]:
    """ISO 8601 timestamps the way Apollo writes them (`Z` or `+00:00`, with or without millis)."""
    moments = st.datetimes(datetime(2000, 1, 1), datetime(2030, 12, 31))
    formats = st.sampled_from(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.000+00:00"])
    return st.builds(lambda m, f: m.replace(tzinfo=UTC).strftime(f), moments, formats)


def request_ids() -> st.SearchStrategy[int]:
    """Signed 64-bit integers, often negative like Apollo's."""
    return st.integers(-(2**63), 2**63 - 1)


def urls(kind: str = "") -> st.SearchStrategy[str]:
    """URLs shaped after the field: LinkedIn, Twitter, company sites, photos."""
    slug = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=3, max_size=12)
    hosts = {
        "linkedin": "http://www.linkedin.com/in/",
        "twitter": "https://twitter.com/",
        "github": "https://github.com/",
        "facebook": "https://www.facebook.com/",
        "photo": "https://media.licdn.com/dms/image/",
        "logo": "https://zenprospect-production.s3.amazonaws.com/uploads/pictures/",
        "crunchbase": "https://www.crunchbase.com/organization/",
        "angellist": "https://angel.co/company/",
    }
    prefix = next((url for key, url in hosts.items() if key in kind), "https://www.")
    suffix = ".com" if prefix == "https://www." else ""
    return slug.map(lambda s: f"{prefix}{s}{suffix}")


def weird_strings() -> st.SearchStrategy[str]:
    """Unicode, control characters and very long strings: what a robust client must survive."""
    return st.one_of(
        st.sampled_from(ODD_STRINGS),
        st.text(max_size=12),
        st.integers(1_000, 20_000).map(lambda n: ("Ünïcødé 👩‍💻 " * (n // 12 + 1))[:n]),
    )


def named_string(name: str) -> st.SearchStrategy[str] | None:
    """A realistic string for a field called `name`, when the name says what it holds."""
    lowered = name.lower()
    table: dict[str, st.SearchStrategy[str]] = {
        "first_name": st.sampled_from(FIRST_NAMES),
        "last_name": st.sampled_from(LAST_NAMES),
        "title": st.sampled_from(TITLES),
        "headline": st.sampled_from(HEADLINES),
        "city": st.sampled_from(CITIES),
        "state": st.sampled_from(STATES),
        "country": st.sampled_from(COUNTRIES),
        "email_status": st.sampled_from(EMAIL_STATUSES),
        "seniority": st.sampled_from(SENIORITIES),
        "time_zone": st.sampled_from(TIME_ZONES),
        "primary_domain": st.sampled_from(DOMAINS),
        "domain": st.sampled_from(DOMAINS),
        "postal_code": st.text("0123456789", min_size=5, max_size=5),
    }
    if lowered in table:
        return table[lowered]
    if lowered in ("email", "emails", "personal_emails") or lowered.endswith("_email"):
        return emails()
    if lowered.endswith("_url"):
        return urls(lowered)
    if lowered in ("name", "organization_name"):
        full = st.builds(
            lambda first, last: f"{first} {last}", st.sampled_from(FIRST_NAMES), st.sampled_from(LAST_NAMES)
        )
        return full
    if "number" in lowered or lowered in ("phone", "sanitized_phone"):
        return e164_numbers().map(lambda n: f"{n[:2]} {n[2:5]}-{n[5:]}")
    return None


#: Named fields that hold free text (the `longest` extreme fills them to the brim).
FREE_TEXT = frozenset(
    {"first_name", "last_name", "name", "title", "headline", "city", "state", "country", "organization_name"}
)

#: Definitions whose values have a meaning beyond their pattern.
DEFINITION_STRATEGIES: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
    "apollo_id": apollo_ids,
    "date": iso_dates,
    "timestamp": iso_timestamps,
    "e164": e164_numbers,
    "request_id": request_ids,
    "request_id_string": lambda: request_ids().map(str),
    "hashed_email": lambda: emails().map(lambda e: hashlib.md5(e.encode()).hexdigest()),
    "webhook_url": lambda: st.just("https://hooks.example.com/apollo/phones"),
}
