"""The Person value object: a generated or fixture person's record kept packed, and its rendering."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import lz4.block

from mock_server.domain.documents import PersonDocument, PhoneDocument, TeamKeys, add_team_keys
from mock_server.domain.encoding import Encoded, dumps, loads


def json_copy(value: Any) -> Any:
    """A deep copy of JSON-like data; mappings become plain dicts and tuples lists."""
    if isinstance(value, dict):  # the common case first: this runs on every match
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): json_copy(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [json_copy(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------
# The Person value object and its rendering.
# --------------------------------------------------------------------------------------------


class Packer:
    """Compresses person records with LZ4, against a dictionary of typical persons when given one.

    Measured in bench/: a generated person packs into about 1.1 KB with a dictionary (4.1 KB as
    JSON, tens of KB as dicts) in about 17 µs and unpacks in about 1.5 µs (zstd: 3.4 µs, zlib:
    15 µs). LZ4's high-compression mode packs about a quarter smaller but takes five times as long,
    which a never-seen person (about 5% of bench/'s mix) pays on its answer's path.
    """

    __slots__ = ("zdict",)

    def __init__(self, zdict: bytes = b"") -> None:
        self.zdict = zdict[-65_536:]  # LZ4 looks back at most 64 KiB

    def pack(self, raw: bytes) -> bytes:
        """`raw` compressed."""
        packed: bytes = lz4.block.compress(raw, dict=self.zdict, store_size=True)
        return packed

    def unpack(self, packed: bytes) -> bytes:
        """What `pack` was given."""
        raw: bytes = lz4.block.decompress(packed, dict=self.zdict)
        return raw


PLAIN = Packer()


class Person:
    """One Apollo person: the default JSON record plus what only reveals and webhooks show.

    The record and phones are kept as compressed JSON: a cached person costs well under 1 KB
    instead of tens of KB of dicts (the person cache decides resident memory), and a match splices
    the record's bytes into the response without copying or re-encoding a dict.
    """

    __slots__ = (
        "_packer",
        "_record",
        "_phones",
        "id",
        "email",
        "linkedin_url",
        "personal_emails",
        "gdpr",
        "partial",
        "has_mobile",
        "organization_id",
        "unmatched",
        "team_members",
    )

    def __init__(
        self,
        record: Mapping[str, Any],
        personal_emails: tuple[str, ...],
        phone_numbers: tuple[PhoneDocument, ...],
        gdpr: bool,
        partial: bool,
        has_mobile: bool,
        packer: Packer = PLAIN,
    ) -> None:
        self._packer = packer
        self._record = packer.pack(dumps(record))
        self._phones = packer.pack(dumps(phone_numbers)) if phone_numbers else b""
        self.id = str(record.get("id"))
        email, linkedin = record.get("email"), record.get("linkedin_url")
        self.email: str | None = email if isinstance(email, str) else None
        self.linkedin_url: str | None = linkedin if isinstance(linkedin, str) else None
        self.personal_emails = personal_emails
        self.gdpr = gdpr
        self.partial = partial
        self.has_mobile = has_mobile
        organization_id = record.get("organization_id")
        self.organization_id: str | None = (
            organization_id if isinstance(organization_id, str) else None
        )
        # Nameless: the thin person Apollo creates for an email it has no one for (docs/apollo-facts.md
        # 2.2), answered but not a match (not charged, no webhook, null in a bulk).
        self.unmatched = not record.get("name")
        # What each team sees on this person besides its record, as JSON members to splice after
        # the record's last one (`PersonDirectory.team_members`): worked out once per team.
        self.team_members: tuple[str, bytes] | dict[str, bytes] | None = None

    @property
    def record(self) -> PersonDocument:
        """A fresh copy of the default JSON record."""
        record: PersonDocument = loads(self.json())  # what `__init__` packed: a generated or fixture person
        return record

    @property
    def phone_numbers(self) -> tuple[PhoneDocument, ...]:
        """Fresh copies of the person's phone numbers (what phone reveals deliver)."""
        if not self._phones:
            return ()
        phones: list[PhoneDocument] = loads(self._packer.unpack(self._phones))  # what `__init__` packed
        return tuple(phones)

    def json(self) -> bytes:
        """The default JSON record, encoded."""
        return self._packer.unpack(self._record)


def render(person: Person, *, reveal_personal_emails: bool, extra: TeamKeys | None = None) -> PersonDocument:
    """A fresh JSON-ready person, with `extra` keys (a team's contact and account) added.

    `personal_emails` comes only when revealed; for a GDPR-protected person it is `[]`, as Apollo
    keeps the key (apolloio/apollo-api-docs commit 63d09e2).
    """
    record = person.record
    if reveal_personal_emails:
        emails = [] if person.gdpr else list(person.personal_emails)
        out: dict[str, object] = {}
        for key, value in record.items():
            out[key] = value
            if key == "email":
                out["personal_emails"] = emails
        out.setdefault("personal_emails", emails)
        record = cast(PersonDocument, out)  # the record's keys in their order, personal_emails after email
    if extra:
        add_team_keys(record, extra)
    return record


def encoded(
    person: Person,
    *,
    reveal_personal_emails: bool,
    extra: TeamKeys | None = None,
    members: bytes = b"",
) -> Encoded:
    """`render`'s answer already encoded: the cached bytes unless something is added.

    `members` are more keys already encoded (`json_members`), spliced after the record's last
    one: the same bytes as `extra` holding them, without decoding and re-encoding the record.
    """
    if not reveal_personal_emails and not extra:
        return Spliced(person, members)
    if members:
        spliced: TeamKeys = loads(b"{" + members[1:] + b"}")  # `json_members` of a team's keys
        extra = {**spliced, **(extra or {})}
    return Encoded(dumps(render(person, reveal_personal_emails=reveal_personal_emails, extra=extra)))


class Spliced(Encoded):
    """A person's cached record with `members` spliced in, encoded only when its bytes are asked for.

    An answer that holds these (and no other large value) is kept by the journal as its document,
    encoded again when read: the same bytes, without holding each answer's kilobytes (bench/).
    """

    __slots__ = ("members", "person")

    def __init__(self, person: Person, members: bytes = b"") -> None:
        self.person = person
        self.members = members

    @property
    def raw(self) -> bytes:  # type: ignore[override]
        """The record's bytes with the members after its last one."""
        person = self.person
        raw = person._packer.unpack(person._record)  # noqa: SLF001 - this module's own class
        return b"".join((raw[:-1], self.members, b"}")) if self.members else raw


def json_members(keys: Mapping[str, Any]) -> bytes:
    """`keys` as JSON object members to splice after another object's last one: `,"k":v,...`."""
    return b"," + dumps(keys)[1:-1] if keys else b""


__all__ = ["PLAIN", "Packer", "Person", "Spliced", "encoded", "json_copy", "json_members", "render"]
