"""Normalisation of people/match's identifying parameters and identity resolution."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Final, NamedTuple

from mock_server.domain.errors import InvalidParameter

#: An email at this domain (or a sub-domain of it) never matches anybody.
NOMATCH_DOMAIN: Final = "nomatch.test"
_NOMATCH_SUFFIX: Final = "." + NOMATCH_DOMAIN
#: An email at this domain always comes back as a partial person.
PARTIAL_DOMAIN: Final = "partial.test"
#: An email at this domain always comes back as a person living in an EU country.
EU_DOMAIN: Final = "eu.test"
#: An email at this domain always comes back as the thin person Apollo answers for an email it has
#: no one for (docs/apollo-facts.md 2.2).
THIN_DOMAIN: Final = "thin.test"
#: The persons a forced `match` outcome invents live at this domain: always complete, never thin.
MATCH_SCENARIO_DOMAIN: Final = "match-scenario.example"

#: RFC 5321 caps a forward path at 254 characters; longer input is refused outright.
MAX_EMAIL_LENGTH: Final = 254
MAX_DOMAIN_LENGTH: Final = 253
MAX_NAME_LENGTH: Final = 256
MAX_URL_LENGTH: Final = 2048

#: The identity kinds `resolve` produces.
IDENTITY_KINDS: Final = ("email", "id", "linkedin", "hash", "name")

_EMAIL_RE: Final = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@"
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
_DOMAIN_RE: Final = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
_HEX_ID_RE: Final = re.compile(r"[0-9a-f]{24}")
_HASH_RE: Final = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")
_LINKEDIN_RE: Final = re.compile(
    r"(?:https?://)?(?:(?:www|[a-z]{2}|m)\.)?linkedin\.com/in/([^/?#\s]{1,100})/?(?:[?#].*)?",
    re.IGNORECASE | re.DOTALL,
)
_SLUG_RE: Final = re.compile(r"[\w%.-]+")
_SPACES_RE: Final = re.compile(r"\s+")
_NON_ALNUM_RE: Final = re.compile(r"[^a-z0-9]+")
_SCHEME_RE: Final = re.compile(r"^[a-z][a-z0-9+.-]*://")
#: Letters NFKD does not decompose into an ASCII base letter.
_FOLD_TABLE: Final = str.maketrans(
    {
        "ß": "ss",
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "þ": "th",
        "ı": "i",
    }
)
#: Corporate suffixes dropped when an organisation name becomes a domain.
_COMPANY_SUFFIXES: Final = frozenset(
    {
        "inc",
        "llc",
        "ltd",
        "limited",
        "gmbh",
        "ag",
        "sa",
        "sas",
        "srl",
        "bv",
        "plc",
        "corp",
        "corporation",
        "co",
        "company",
        "spa",
        "oy",
        "ab",
        "as",
        "pty",
        "lp",
        "llp",
        "nv",
    }
)


class MatchQuery(NamedTuple):
    """The identifying inputs of one people/match request, as the caller sent them."""

    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    email: str | None = None
    hashed_email: str | None = None
    organization_name: str | None = None
    domain: str | None = None
    id: str | None = None
    linkedin_url: str | None = None


class Identity(NamedTuple):
    """Which person a request means: a kind and its canonical value.

    A named tuple, not a dataclass: it keys the person cache, and tuples hash and compare in C.
    """

    kind: str
    value: str

    @property
    def domain(self) -> str | None:
        """The employer's domain for an email or name identity (after the last @), else None."""
        if self.kind not in ("email", "name"):
            return None
        return self.value.rpartition("@")[2]

    @property
    def is_nomatch(self) -> bool:
        """True for the `nomatch.test` test input, which never matches."""
        if self.kind != "email" and self.kind != "name":  # `domain`, in place: on every match
            return False
        domain = self.value.rpartition("@")[2]
        return domain == NOMATCH_DOMAIN or domain.endswith(_NOMATCH_SUFFIX)

    @property
    def is_partial(self) -> bool:
        """True for the `partial.test` test input, which always yields a partial person."""
        return _in_test_domain(self.domain, PARTIAL_DOMAIN)

    @property
    def is_eu(self) -> bool:
        """True for the `eu.test` test input, which always yields an EU resident."""
        return _in_test_domain(self.domain, EU_DOMAIN)

    @property
    def is_thin(self) -> bool:
        """True for the `thin.test` test input, which always yields the thin person of an unknown email."""
        return _in_test_domain(self.domain, THIN_DOMAIN)

    @property
    def thin_by_chance(self) -> bool:
        """Whether this identity may come back thin by its share: an email at no reserved domain."""
        domain = self.domain
        if self.kind != "email" or domain is None:
            return False
        return not (domain.endswith(".test") or domain == "test" or domain == MATCH_SCENARIO_DOMAIN)


def _in_test_domain(domain: str | None, test_domain: str) -> bool:
    return domain is not None and (domain == test_domain or domain.endswith("." + test_domain))


def is_test_domain(domain: str, test_domain: str) -> bool:
    """Whether `domain` is `test_domain` or one of its sub-domains."""
    return _in_test_domain(domain, test_domain)


#: A parsed request's identity not worked out yet (`MatchRequest.identity`): `resolve` runs at its turn.
UNRESOLVED: Final = Identity("", "")


def _present(raw: str | None) -> str | None:
    """None for an absent or blank parameter, else the raw string."""
    if raw is None or not raw.strip():
        return None
    return raw


def normalize_email(raw: str) -> str:
    """Strip and lowercase an email; InvalidParameter('email') unless it is local@domain.tld."""
    if len(raw) > MAX_EMAIL_LENGTH * 4:
        raise InvalidParameter("email", f"is longer than {MAX_EMAIL_LENGTH} characters")
    email = raw.strip().lower()
    if email == raw:
        email = raw  # one string for both, where a memoized request keeps each (web/asgi.py)
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidParameter("email", f"is longer than {MAX_EMAIL_LENGTH} characters")
    if not _EMAIL_RE.fullmatch(email):
        raise InvalidParameter("email", "must be an email address like name@example.com")
    local = email.partition("@")[0]
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise InvalidParameter("email", "must be an email address like name@example.com")
    return email


def normalize_domain(raw: str, field: str = "domain") -> str:
    """Reduce a domain or website to its bare lowercase host (no scheme, www., path, @)."""
    if len(raw) > MAX_URL_LENGTH:
        raise InvalidParameter(field, f"is longer than {MAX_URL_LENGTH} characters")
    host = raw.strip().lower()
    host = _SCHEME_RE.sub("", host)
    host = host.lstrip("@")
    if "@" in host:  # an email address given as a domain
        host = host.rpartition("@")[2]
    for sep in "/?#":
        host = host.partition(sep)[0]
    host = host.partition(":")[0].rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if len(host) > MAX_DOMAIN_LENGTH or not _DOMAIN_RE.fullmatch(host):
        raise InvalidParameter(field, "must be a domain name like example.com")
    return host


def normalize_linkedin_url(raw: str) -> str:
    """Canonical `http://www.linkedin.com/in/<slug>` for a LinkedIn profile URL."""
    if len(raw) > MAX_URL_LENGTH:
        raise InvalidParameter("linkedin_url", f"is longer than {MAX_URL_LENGTH} characters")
    match = _LINKEDIN_RE.fullmatch(raw.strip())
    if match is None or not _SLUG_RE.fullmatch(match.group(1)):
        raise InvalidParameter(
            "linkedin_url", "must be a LinkedIn profile URL like http://www.linkedin.com/in/name"
        )
    return f"http://www.linkedin.com/in/{match.group(1).lower()}"


def normalize_hashed_email(raw: str) -> str:
    """Lowercase an MD5 (32 hex) or SHA-256 (64 hex) email hash; else InvalidParameter."""
    value = raw.strip().lower()
    if len(value) > 64 or not _HASH_RE.fullmatch(value):
        raise InvalidParameter("hashed_email", "must be an MD5 (32 hex) or SHA-256 (64 hex) hash")
    return value


def normalize_id(raw: str) -> str:
    """Lowercase an Apollo id (24 hex characters); else InvalidParameter('id')."""
    value = raw.strip().lower()
    if len(value) != 24 or not _HEX_ID_RE.fullmatch(value):
        raise InvalidParameter("id", "is not a valid Apollo id (24 hexadecimal characters)")
    return value


def normalize_name(raw: str, field: str = "name") -> str:
    """Strip a name and collapse its inner whitespace; unicode is kept as is."""
    if len(raw) > MAX_NAME_LENGTH * 4:
        raise InvalidParameter(field, f"is longer than {MAX_NAME_LENGTH} characters")
    value = _SPACES_RE.sub(" ", raw).strip()
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidParameter(field, f"is longer than {MAX_NAME_LENGTH} characters")
    return value


def ascii_fold(text: str) -> str:
    """Lowercase ASCII letters and digits only: accents folded, everything else dropped."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD_TABLE))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return _NON_ALNUM_RE.sub("", ascii_text)


def domain_for_organization_name(organization_name: str) -> str | None:
    """The domain an organisation name stands for: itself if it is a domain, else slug + .com."""
    name = organization_name.strip().lower()
    if "." in name and " " not in name:
        try:
            return normalize_domain(name, "organization_name")
        except InvalidParameter:
            pass
    words = [ascii_fold(word) for word in _SPACES_RE.split(name.replace(",", " "))]
    words = [word for word in words if word]
    while len(words) > 1 and words[-1] in _COMPANY_SUFFIXES:
        words.pop()
    slug = "".join(words)[:63]
    return f"{slug}.com" if slug else None


def derived_email(first_name: str, last_name: str, domain: str) -> str | None:
    """The `first.last@domain` work email a named person has; None if a name folds to nothing."""
    first, last = ascii_fold(first_name), ascii_fold(last_name)
    if not first or not last:
        return None
    return f"{first}.{last}@{domain}"


def split_name(full_name: str) -> tuple[str, str] | None:
    """First and last word of a full name; None unless it has at least two words."""
    words = full_name.split(" ")
    if len(words) < 2:
        return None
    return words[0], words[-1]


def _name_parts(q: MatchQuery) -> tuple[str, str] | None:
    first = _present(q.first_name)
    last = _present(q.last_name)
    if first is not None and last is not None:
        return normalize_name(first, "first_name"), normalize_name(last, "last_name")
    full = _present(q.name)
    if full is not None:
        return split_name(normalize_name(full, "name"))
    return None


def resolve(q: MatchQuery) -> Identity | None:
    """Which person `q` means: id > email > hashed_email > linkedin_url > name with employer.

    Every parameter given is validated (InvalidParameter names the first bad one), even
    when a higher-priority one decides the identity. A name with neither `domain` nor
    `organization_name`, or no identifying input at all, resolves to None (no match).
    """
    if q.email is not None and q.count(None) == len(q) - 1:  # an email alone: the common case
        email = _present(q.email)
        return None if email is None else Identity("email", normalize_email(email))
    person_id = _present(q.id)
    email = _present(q.email)
    hashed = _present(q.hashed_email)
    linkedin = _present(q.linkedin_url)
    domain_raw = _present(q.domain)
    org_raw = _present(q.organization_name)

    ident_id = normalize_id(person_id) if person_id is not None else None
    ident_email = normalize_email(email) if email is not None else None
    ident_hash = normalize_hashed_email(hashed) if hashed is not None else None
    ident_linkedin = normalize_linkedin_url(linkedin) if linkedin is not None else None
    domain = normalize_domain(domain_raw) if domain_raw is not None else None
    org_name = normalize_name(org_raw, "organization_name") if org_raw is not None else None
    names = _name_parts(q)

    if ident_id is not None:
        return Identity("id", ident_id)
    if ident_email is not None:
        return Identity("email", ident_email)
    if ident_hash is not None:
        return Identity("hash", ident_hash)
    if ident_linkedin is not None:
        return Identity("linkedin", ident_linkedin)
    if names is None:
        return None
    if domain is None and org_name is not None:
        domain = domain_for_organization_name(org_name)
    if domain is None:
        return None
    first, last = names
    work_email = derived_email(first, last, domain)
    if work_email is not None:
        return Identity("email", work_email)
    # Names with no ASCII letters at all (e.g. only CJK or emoji) keep their own identity.
    return Identity("name", f"{first} {last}@{domain}")


_COMPANY_LINKEDIN_RE = re.compile(
    r"(?:https?://)?(?:[a-z]{2,3}\.)?linkedin\.com/company/([^/?#\s]+)/?(?:[?#].*)?", re.IGNORECASE
)


class OrganizationQuery(NamedTuple):
    """The identifying parameters of one organization (organizations/enrich and bulk_enrich)."""

    domain: str | None = None
    website: str | None = None
    linkedin_url: str | None = None
    name: str | None = None


def resolve_organization(q: OrganizationQuery) -> tuple[str, str] | None:
    """Which organization a query means, as ("domain", host) or ("linkedin", slug).

    Precedence: domain > website > linkedin_url > name; every parameter given is validated. A name
    means the domain `domain_for_organization_name` gives. None when nothing identifying was given.
    """
    domain_raw = _present(q.domain)
    domain = normalize_domain(domain_raw) if domain_raw is not None else None
    website = _present(q.website)
    site = normalize_domain(website, "website") if website is not None else None
    linkedin = _present(q.linkedin_url)
    slug: str | None = None
    if linkedin is not None:
        if len(linkedin) > MAX_URL_LENGTH:
            raise InvalidParameter("linkedin_url", f"is longer than {MAX_URL_LENGTH} characters")
        match = _COMPANY_LINKEDIN_RE.fullmatch(linkedin)
        slug = ascii_fold(match.group(1))[:63] if match is not None else ""
        if not slug:
            raise InvalidParameter(
                "linkedin_url", "must be a LinkedIn company URL like http://www.linkedin.com/company/name"
            )
    name = _present(q.name)
    name_domain = None
    if name is not None:
        name = normalize_name(name)
        # A name with no ASCII letter or digit (CJK, emoji) still names a company: one of its own.
        fallback = "org-" + hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12] + ".com"
        name_domain = domain_for_organization_name(name) or fallback
    if domain or site:
        return ("domain", domain or site or "")
    if slug is not None:
        return ("linkedin", slug)
    return ("domain", name_domain) if name_domain else None
