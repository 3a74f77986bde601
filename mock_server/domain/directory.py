"""The person directory: which person an identity means (fixtures, aliases, generation), and its caches."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Protocol

from mock_server.domain.documents import AccountKeys, OrganizationDocument, PersonDocument, TeamKeys
from mock_server.domain.encoding import dumps, loads
from mock_server.domain.errors import InvalidParameter
from mock_server.domain.generation import (
    LOW_CONFIDENCE_SHARE,
    THIN_SHARE,
    email_hashes,
    enrich_shape,
    fixture_phones,
    generate_organization,
    generate_person,
    organization_team_keys,
    phone_record,
    share,
    stub_person,
    team_keys,
)
from mock_server.domain.matching import (
    NOMATCH_DOMAIN,
    Identity,
    MatchQuery,
    OrganizationQuery,
    derived_email,
    domain_for_organization_name,
    is_test_domain,
    normalize_domain,
    normalize_linkedin_url,
    resolve_organization,
)
from mock_server.domain.persons import PLAIN, Packer, Person, json_copy, json_members
from mock_server.domain.replay import REPLAY_FIELD, key_id, replay_tag
from mock_server.domain.staff import STAFF_KIND, parse_staff, staff_identity_value, staff_roles
from mock_server.domain.vocabularies import FREE_MAIL_DOMAINS, GDPR_COUNTRY_NAMES

#: Entries (ids, LinkedIn URLs, email hashes, emails) the alias index keeps, written when a person is
#: generated, oldest dropped first.
ALIAS_INDEX_SIZE: Final = 100_000
#: Generated organizations kept in memory, least recently used dropped first.
ORGANIZATION_CACHE_SIZE: Final = 5_000
# Employers kept decoded for generation (`_employer`): about 15 KB each as dicts.
EMPLOYERS_DECODED: Final = 32
#: Made-up persons whose records make the compression dictionary of a directory's generated persons.
_DICTIONARY_SAMPLES: Final = 6


_AliasKey = tuple[str, str]
#: Teams whose keys a person keeps encoded (`team_members`) before it forgets them all.
_TEAMS_PER_PERSON: Final = 16
_UNSPLICEABLE: Final = b"\x00"
#: The alias index kind of an organization id; its value is Identity("organization", domain).
ORGANIZATION_KIND: Final = "organization"


class TeamView(Protocol):
    """A team's own records (contacts and accounts it created), consulted before generated ones."""

    def person_keys(self, team: str, person_id: str) -> TeamKeys | None:
        """contact/contact_id when `team` made a contact of this person, else None."""
        ...

    def organization_keys(self, team: str, organization_id: str) -> AccountKeys | None:
        """account/account_id when `team` made an account of this organization, else None."""
        ...


def _alias_key(kind: str, value: str) -> int:
    """An alias index key: 64 bits of a hash of (kind, value).

    A full-size index holds 100,000 of them; as ints they take about half the memory of
    (kind, value) tuples of strings (bench/, a soak of never-seen emails). Two aliases sharing a
    key is less than a 1 in 10^9 chance over a full index.
    """
    digest = hashlib.blake2b(f"{kind}\t{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class AliasMap(Protocol):
    """Where the directory remembers which identity an id, LinkedIn URL or hash stands for."""

    def get(self, key: Any) -> Any:
        """The identity stored under `key`, or None."""
        ...

    def put(self, key: Any, value: Any, *, overwrite: bool = True) -> None:
        """Store `value` under `key`."""
        ...

    def put_new(self, pairs: list[tuple[Any, Any]]) -> None:
        """Store each (key, value) whose key is not there yet (a shared index: in one write)."""
        ...

    def resolve(self, key: Any, fresh: Callable[[], list[tuple[Any, Any]]]) -> Any:
        """The value under `key`, or None; a shared index may record `fresh()`'s pairs in the same step.

        A shared index that must ask its server, and finds nothing under `key`, stores the pairs
        `fresh()` makes in that same round trip (one instead of two).
        """
        ...

    def clear(self) -> None:
        """Forget every alias."""
        ...


class LRUMap:
    """A small thread-safe LRU map."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        """The value under `key` (now the most recently used), or None.

        Without the lock: each OrderedDict call is atomic under the GIL, and a key another thread
        dropped in between is simply not moved (this runs several times a request).
        """
        value = self._data.get(key)
        if value is not None:
            try:
                self._data.move_to_end(key)
            except KeyError:
                pass
        return value

    def put(self, key: Any, value: Any, *, overwrite: bool = True) -> None:
        """Store `value` under `key`, dropping the least recently used past the capacity."""
        if self._capacity <= 0:
            return
        with self._lock:
            if key in self._data:
                if overwrite:
                    self._data[key] = value
                self._data.move_to_end(key)
                return
            self._data[key] = value
            while len(self._data) > self._capacity:
                self._data.popitem(last=False)

    def put_new(self, pairs: list[tuple[Any, Any]]) -> None:
        """Store each (key, value) whose key is not there yet."""
        for key, value in pairs:
            self.put(key, value, overwrite=False)

    def resolve(self, key: Any, fresh: Callable[[], list[tuple[Any, Any]]]) -> Any:
        """The value under `key`, or None (nothing to ask of a server: `fresh` is not called)."""
        return self.get(key)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


def fixture_identities(record: Mapping[str, Any]) -> list[_AliasKey]:
    """The identities a person record answers to as a fixture.

    Its id, e-mail and the e-mail's hashes, LinkedIn URL, and the addresses its name makes at its
    employer's domains (primary domain, organization name, current employment).
    """
    keys: list[_AliasKey] = []
    person_id = str(record.get("id") or "")
    if person_id:
        keys.append(("id", person_id.lower()))
    email = record.get("email")
    if isinstance(email, str) and email:
        keys.append(("email", email.strip().lower()))
        keys.extend(("hash", h) for h in email_hashes(email))
    linkedin = record.get("linkedin_url")
    if isinstance(linkedin, str) and linkedin:
        try:
            keys.append(("linkedin", normalize_linkedin_url(linkedin)))
        except InvalidParameter:
            pass
    first, last, organization = record.get("first_name"), record.get("last_name"), record.get("organization")
    if isinstance(organization, Mapping) and isinstance(first, str) and isinstance(last, str):
        domains = {organization.get("primary_domain")}
        for name in (organization.get("name"),):
            if isinstance(name, str):
                domains.add(domain_for_organization_name(name))
        for history in record.get("employment_history") or ():
            if isinstance(history, Mapping) and history.get("current"):
                name = history.get("organization_name")
                if isinstance(name, str):
                    domains.add(domain_for_organization_name(name))
        for domain in sorted(d for d in domains if isinstance(d, str) and d):
            derived = derived_email(first, last, domain.lower())
            if derived is not None:
                keys.append(("email", derived))
    return keys


class PersonDirectory:
    """Finds the person an identity means: fixtures first, then aliases, then generation."""

    def __init__(
        self,
        seed: int,
        fixtures: Sequence[Mapping[str, Any]],
        cache_size: int = 10_000,
        *,
        alias_size: int = ALIAS_INDEX_SIZE,
        aliases: AliasMap | None = None,
        replay_key: bytes | None = None,
        thin_share: float = THIN_SHARE,
    ) -> None:
        self.seed = seed
        self.thin_share = thin_share
        # A scrubbed recording's persons by the keyed tags of their original identities (replay.py).
        self._replay_key = replay_key
        self._replay: dict[str, Person] = {}
        self._persons = LRUMap(cache_size)
        self._organizations = LRUMap(min(cache_size, ORGANIZATION_CACHE_SIZE))
        # The domain of each organization served, by its LinkedIn company slug.
        self._organization_links = LRUMap(ORGANIZATION_CACHE_SIZE)
        self._employers = LRUMap(EMPLOYERS_DECODED)
        self._aliases: AliasMap = aliases if aliases is not None else LRUMap(alias_size)
        # Whether this directory's own alias index may hold an email (one whose person has another
        # canonical identity: staff, names): until then an email is its own person, unlooked-up.
        # A shared index is always asked (another process may have written one).
        self._email_aliases = aliases is not None
        self._fixtures: dict[_AliasKey, Person] = {}
        self._fixture_orgs: dict[str, Mapping[str, Any]] = {}
        self._fixture_ids: set[str] = set()
        self._fixture_org_ids: dict[str, str] = {}
        self._generated_packer: Packer | None = None
        # The records teams created through the API (contacts, accounts); the service attaches them.
        self.team_view: TeamView | None = None
        for record in fixtures:
            self._add_fixture(record)

    # -- public API ----------------------------------------------------------------------

    def find(self, identity: Identity) -> Person | None:
        """The person `identity` means, or None when Apollo would have no match."""
        if identity.is_nomatch:
            return None
        key: _AliasKey = identity  # an Identity is its (kind, value) tuple
        fixture = None
        if self._replay:  # a scrubbed recording's persons answer their recorded inputs first
            assert self._replay_key is not None
            fixture = self._replay.get(replay_tag(self._replay_key, identity.kind, identity.value))
        if fixture is None:
            fixture = self._fixtures.get(key)
        if fixture is not None:
            return fixture
        canonical: Identity | None
        if identity.kind in ("id", "hash"):
            canonical = self._aliases.get(_alias_key(*key))
            if canonical is None:
                return None  # never issued by this directory: Apollo has no such person
        elif identity.kind == "email" and not self._email_aliases:
            return self._person(identity)  # its own canonical identity, no fixture's (looked up above)
        else:
            # Unless the identity is another person's alias, the person is its own: a shared index
            # records that person's aliases in the same step as it looks the identity up.
            canonical = self._aliases.resolve(
                _alias_key(*key), lambda: self._alias_pairs(self._person(identity, remember=False), identity)
            )
            if canonical is None:
                canonical = identity
        fixture = self._fixtures.get((canonical.kind, canonical.value))
        if fixture is not None:
            return fixture
        return self._person(canonical)

    def _person(self, canonical: Identity, *, remember: bool = True) -> Person:
        """The person whose identity is `canonical`: cached, else generated (and its aliases recorded)."""
        person: Person | None = self._persons.get(canonical)
        if person is None:
            person, record = self._generate(canonical)
            self._persons.put(canonical, person)
            if remember:
                self._remember(person, canonical, record)
        return person

    def staff_member(self, domain: str, slot: int) -> Person | None:
        """The staff member in `slot` at `domain` (what searches list); None past its staff."""
        if slot >= len(self.staff_roles(domain)):
            return None
        return self._person(Identity(STAFF_KIND, staff_identity_value(domain, slot)))

    def staff_roles(self, domain: str) -> tuple[Any, ...]:
        """The roles of the searchable staff at `domain`, slot by slot."""
        employees = self._organization(domain).get("estimated_num_employees")
        return staff_roles(self.seed, domain, employees if isinstance(employees, int) else 1)

    def organization(self, domain: str) -> OrganizationDocument:
        """A fresh copy of the organization at `domain` (organizations/enrich shape)."""
        return self._organization(domain)

    def organization_by_id(self, organization_id: str) -> OrganizationDocument | None:
        """The organization an id this directory served stands for; None for an unknown id."""
        known = self._fixture_org_ids.get(organization_id)
        if known is not None:
            return self._organization(known)
        identity = self._aliases.get(_alias_key(ORGANIZATION_KIND, organization_id))
        if identity is None or identity.kind != ORGANIZATION_KIND:
            return None
        return self._organization(identity.value)

    def remember_organizations(self, organizations: Sequence[OrganizationDocument]) -> None:
        """Record the ids of organizations an answer carries, so organizations/{id} finds them."""
        pairs = [
            (
                _alias_key(ORGANIZATION_KIND, str(o["id"])),
                Identity(ORGANIZATION_KIND, str(o["primary_domain"])),
            )
            for o in organizations
            if o.get("id") and o.get("primary_domain")
        ]
        if pairs:
            self._aliases.put_new(pairs)

    def organization_for_domain(self, domain: str) -> OrganizationDocument | None:
        """The organization at `domain` (organizations/enrich shape), None for nomatch.test."""
        host = normalize_domain(domain)
        if is_test_domain(host, NOMATCH_DOMAIN):
            return None
        organization = self._organization(host)
        self.remember_organizations([organization])
        return organization

    def find_organization(self, query: OrganizationQuery) -> OrganizationDocument | None:
        """The organization a query means (domain, website, LinkedIn URL or name); None for a miss.

        A LinkedIn company URL finds the organization served before under it, else the one at
        `<slug>.com`. Raises InvalidParameter for a malformed parameter.
        """
        reference = resolve_organization(query)
        if reference is None:
            return None
        kind, value = reference
        if kind == "linkedin":
            value = self._organization_links.get(value) or f"{value}.com"
        return self.organization_for_domain(value)

    def stub_person(self, query: MatchQuery, *, waterfall: bool = False) -> PersonDocument:
        """A stub no-match person for `query`: no name, its employer's organization filled in.

        `waterfall`: a waterfall bulk's miss, whose `match_confidence` is "low" for a seeded share
        (LOW_CONFIDENCE_SHARE) of queries and "none" for the others; a forced stub is always "none".
        """
        key = repr(tuple(query))
        domain = _stub_domain(query) or f"company-{hashlib.sha256(key.encode()).hexdigest()[:8]}.com"
        low = waterfall and share(self.seed, "low-confidence", key) < LOW_CONFIDENCE_SHARE
        return stub_person(self.seed, key, self._organization(domain), "low" if low else "none")

    def team_keys(self, person: Person, team: str) -> TeamKeys:
        """What `team` sees on `person` besides its record: its contact and its account.

        A contact the team created of this person wins over the generated one.
        """
        keys = team_keys(self.seed, team, person)
        if self.team_view is not None:
            created = self.team_view.person_keys(team, person.id)
            if created is not None:
                keys.update(created)
        return keys

    def team_members(self, person: Person, team: str) -> bytes | None:
        """`team_keys` as JSON members to splice into the person's record (`persons.encoded`).

        The generated keys are worked out once per person and team and kept on the person (bench/:
        about 30 µs a request before). None when a contact the team created of this person must be
        shown instead (one read of the team's records, as `team_keys` does), or when the keys cannot
        be spliced (the record has one of them itself): then `team_keys` gives them.
        """
        if self.team_view is not None and self.team_view.person_keys(team, person.id) is not None:
            return None
        kept = person.team_members  # (team, members) for one team, a dict for several (memory)
        if isinstance(kept, tuple):
            members = kept[1] if kept[0] == team else None
        else:
            members = kept.get(team) if kept is not None else None
        if members is None:
            keys = team_keys(self.seed, team, person)
            spliceable = not keys or keys.keys().isdisjoint(person.record)
            members = json_members(keys) if spliceable else _UNSPLICEABLE
            if kept is None:
                person.team_members = (team, members)
            else:
                several = dict([kept]) if isinstance(kept, tuple) else kept
                if len(several) >= _TEAMS_PER_PERSON:
                    several.clear()
                several[team] = members
                person.team_members = several
        return None if members == _UNSPLICEABLE else members

    def organization_team_keys(self, organization: OrganizationDocument, team: str) -> AccountKeys:
        """account/account_id when `organization` is one of `team`'s accounts."""
        keys = organization_team_keys(self.seed, team, organization)
        org_id = organization.get("id")
        if self.team_view is not None and isinstance(org_id, str):
            created = self.team_view.organization_keys(team, org_id)
            if created is not None:
                keys.update(created)
        return keys

    def reset(self) -> None:
        """Forget every alias and cached person, as a freshly started directory."""
        self._persons.clear()
        self._organizations.clear()
        self._organization_links.clear()
        self._employers.clear()
        self._aliases.clear()
        self._email_aliases = self._email_aliases and not isinstance(self._aliases, LRUMap)

    # -- fixtures and aliases -------------------------------------------------------------

    def _add_fixture(self, source: Mapping[str, Any]) -> None:
        record = {
            k: json_copy(v)
            for k, v in source.items()
            if k not in ("personal_emails", "phone_numbers", REPLAY_FIELD)
        }
        # The organization's main line is part of the synchronous answer (Apollo's older examples);
        # a fixture's other numbers are what phone reveals deliver later.
        listed = [
            json_copy(p)
            for p in source.get("phone_numbers") or ()
            if isinstance(p, Mapping) and p.get("type") == "work_hq" and "type_cd" not in p
        ]
        if listed:
            record["phone_numbers"] = listed
        person_id = str(record.get("id") or "")
        country = record.get("country")
        gdpr = isinstance(country, str) and country in GDPR_COUNTRY_NAMES
        converted = (
            phone_record(p, str(country or ""))
            for p in source.get("phone_numbers") or ()
            if isinstance(p, Mapping)
        )
        phones = tuple(p for p in converted if p is not None)
        if not phones and person_id:
            phones = fixture_phones(self.seed, person_id, country)
        organization = record.get("organization")
        email = record.get("email")
        person = Person(
            record=record,
            personal_emails=tuple(str(e) for e in source.get("personal_emails") or ()),
            phone_numbers=phones,
            gdpr=gdpr,
            partial=not email or not organization,
            has_mobile=any(p.get("type_cd") == "mobile" for p in phones),
        )
        if person_id:
            self._fixture_ids.add(person_id.lower())
        named = isinstance(record.get("first_name"), str) and isinstance(record.get("last_name"), str)
        if isinstance(organization, Mapping) and named:
            primary = organization.get("primary_domain")
            if isinstance(primary, str) and primary:
                self._fixture_orgs.setdefault(primary.lower(), organization)
                if organization.get("id"):
                    self._fixture_org_ids.setdefault(str(organization["id"]), primary.lower())
        for key in fixture_identities(record):
            self._fixtures.setdefault(key, person)
        replay = source.get(REPLAY_FIELD)
        if self._replay_key is not None and isinstance(replay, Mapping):
            tags = replay.get("tags") if replay.get("key_id") == key_id(self._replay_key) else None
            for tag in tags if isinstance(tags, list) else ():
                if isinstance(tag, str):
                    self._replay.setdefault(tag, person)

    def _remember(self, person: Person, canonical: Identity, record: Mapping[str, Any]) -> None:
        if person.email is not None and canonical != Identity("email", person.email):
            self._email_aliases = True  # `_alias_pairs` writes the email as an alias
        self._aliases.put_new(self._alias_pairs(person, canonical, record))  # one write to a shared index

    @staticmethod
    def _alias_pairs(
        person: Person, canonical: Identity, record: Mapping[str, Any] | None = None
    ) -> list[tuple[int, Identity]]:
        """The alias index entries of `person`, each standing for `canonical`.

        Its id, LinkedIn URL and email hashes, and its email when another identity is canonical.
        `record` is the person's record when it is at hand (else it is read back from the person).
        """
        keys = [_alias_key("id", person.id)]
        linkedin = person.linkedin_url
        if linkedin is not None:
            keys.append(_alias_key("linkedin", linkedin))
        email = person.email
        if email is not None:
            keys += [_alias_key("hash", digest) for digest in email_hashes(email)]
            if canonical != Identity("email", email):
                keys.append(_alias_key("email", email))
        pairs = [(key, canonical) for key in keys]
        organization = (record if record is not None else person.record).get("organization")
        if (
            isinstance(organization, Mapping)
            and organization.get("id")
            and organization.get("primary_domain")
        ):
            # The employer's id, so organizations/{id} finds it (in the same write).
            domain = Identity(ORGANIZATION_KIND, str(organization["primary_domain"]))
            pairs.append((_alias_key(ORGANIZATION_KIND, str(organization["id"])), domain))
        return pairs

    # -- generation -----------------------------------------------------------------------

    def _organization(self, domain: str, *, copy: bool = True) -> OrganizationDocument:
        """A fresh copy of the full (organizations/enrich shaped) organization at `domain`; cached packed.

        `copy=False` is for a caller that only reads it (generation): a newly generated one is then
        given as it is, without the round trip through its bytes that makes it a copy.
        """
        packed: bytes | None = self._organizations.get(domain)
        if packed is not None:
            cached: OrganizationDocument = loads(PLAIN.unpack(packed))  # packed below
            return cached
        fixture = self._fixture_orgs.get(domain)
        if fixture is not None:  # a fixture person's employer is that domain's organization
            organization: OrganizationDocument = enrich_shape(fixture, self.seed, domain)
        else:
            organization = generate_organization(self.seed, domain, self._fixture_ids)
        linkedin = organization.get("linkedin_url")
        if isinstance(linkedin, str) and "/company/" in linkedin:
            slug = linkedin.rstrip("/").rpartition("/")[2]
            self._organization_links.put(slug, domain, overwrite=False)
        raw = dumps(organization)
        # Packed, a cached organization costs about 1 KB instead of about 7.6 KB of dicts.
        self._organizations.put(domain, PLAIN.pack(raw))
        if not copy:
            return organization
        fresh: OrganizationDocument = loads(raw)  # the round trip a cached one takes
        return fresh

    def _employer(self, domain: str) -> OrganizationDocument:
        """The organization at `domain` for generation to read (`_organization` without a copy).

        The employers met last are kept decoded: persons come in runs at one company (bench/'s
        `partial.test` persons, a CRM's contacts), and decoding one took about half of generating
        a person at a known company (a `partial.test` person: 160 -> 86 µs).
        """
        organization: OrganizationDocument | None = self._employers.get(domain)
        if organization is None:
            organization = self._organization(domain, copy=False)
            self._employers.put(domain, organization)
        return organization

    def _generate(self, identity: Identity, packer: Packer | None = None) -> tuple[Person, PersonDocument]:
        """The person `identity` means, newly generated, and the record it was made from."""
        staff = None
        if identity.kind == STAFF_KIND:
            place = parse_staff(identity.value)
            roles = () if place is None else self.staff_roles(place[0])
            if place is not None and place[1] < len(roles):
                staff = (place[0], roles[place[1]])
        generated = generate_person(
            self.seed, identity, self._employer, self._fixture_ids, staff, self.thin_share
        )
        person = Person(
            record=generated.record,
            personal_emails=generated.personal_emails,
            phone_numbers=generated.phone_numbers,
            gdpr=generated.gdpr,
            partial=generated.partial,
            has_mobile=generated.has_mobile,
            packer=packer if packer is not None else self._packer(),
        )
        return person, generated.record

    def _packer(self) -> Packer:
        """The packer of generated persons: a dictionary of a few made-up persons' records."""
        if self._generated_packer is None:
            samples = (
                self._generate(Identity("email", f"sample.person{i}@sample-company{i}.example"), PLAIN)
                for i in range(_DICTIONARY_SAMPLES)
            )
            self._generated_packer = Packer(b"".join(sample.json() for sample, _ in samples))
        return self._generated_packer


def _stub_domain(query: MatchQuery) -> str | None:
    """The employer a query names (domain, work email or organization name), if any."""
    try:
        if query.domain:
            return normalize_domain(query.domain)
        if query.email and "@" in query.email:
            host = normalize_domain(query.email.rpartition("@")[2])
            if host not in FREE_MAIL_DOMAINS and not is_test_domain(host, NOMATCH_DOMAIN):
                return host
        if query.organization_name:
            return domain_for_organization_name(query.organization_name)
    except InvalidParameter:
        return None
    return None
