"""A team's contacts and accounts: created, de-duplicated, searched and updated through the API.

Every record is a JSON document in the store (`crm:<team>:<kind>:<n>`, `n` from an atomic
counter), so memory, SQLite and Redis keep them alike, several workers never lose one, and a reset
clears them. Small link documents say which contact stands for a person and which account for an
organization; enrichment reads them (`PersonDirectory.team_view`) so that a team sees its own
contact on a person it enriches, and no other team does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Literal, Protocol, cast, overload

from mock_server.domain.documents import (
    AccountDocument,
    AccountKeys,
    ContactDocument,
    ContactEmailDocument,
    OrganizationDocument,
    PersonDocument,
    TeamKeys,
)
from mock_server.domain.errors import InvalidParameter, Unprocessable
from mock_server.domain.matching import normalize_domain, normalize_email
from mock_server.domain.params import parse_string

#: Records one team keeps of each kind, at most (fakeapollo's bound, so memory stays flat).
MAX_RECORDS: Final = 10_000
#: OAS contacts/bulk_create and accounts/bulk_create: "maximum 100 ... per request".
MAX_BULK: Final = 100
MAX_LABELS: Final = 100
CONTACT: Final = "contact"
ACCOUNT: Final = "account"
#: The kinds of record a team keeps.
Kind = Literal["contact", "account"]
#: One of a team's records.
TeamRecord = ContactDocument | AccountDocument
_TEAMS: Final = "crm:teams"
# OAS contacts/bulk_create 422 examples (the parameter name is Apollo's own, docs/apollo-facts.md 7.4).
BULK_CONTACTS_MISSING: Final = (
    'Please provide an array of contact attributes in the "contact_attributes" parameter.'
)
BULK_CONTACTS_TOO_MANY: Final = "Please limit your array to 100 contacts or fewer."
BULK_ACCOUNTS_MISSING: Final = 'Please provide an array of account attributes in the "accounts" parameter.'
BULK_ACCOUNTS_TOO_MANY: Final = "Please limit your array to 100 accounts or fewer."
# OAS accounts create 422 "Add name or domain".
ACCOUNT_NAME_OR_DOMAIN: Final = "Please specify at least a name or domain."
# OAS accounts/search 422 "Choose valid sort_by_field option".
INVALID_SORT: Final = {"error": "Invalid sort criteria", "skip_alert_dialog": True}
CONTACT_SORTS: Final = frozenset(
    {
        "contact_last_activity_date",
        "contact_email_last_opened_at",
        "contact_email_last_clicked_at",
        "contact_created_at",
        "contact_updated_at",
    }
)
ACCOUNT_SORTS: Final = frozenset({"account_last_activity_date", "account_created_at", "account_updated_at"})
CONTACT_FIELDS: Final = (
    "first_name", "last_name", "organization_name", "title", "account_id", "email", "website_url",
    "contact_stage_id", "present_raw_address", "linkedin_url", "twitter_url", "facebook_url", "photo_url",
    "organization_id", "owner_id", "salesforce_id", "salesforce_lead_id", "salesforce_contact_id",
    "hubspot_vid", "person_id", "direct_phone", "corporate_phone", "mobile_phone", "home_phone",
    "other_phone", "phone", "existence_level",
)  # fmt: skip
ACCOUNT_FIELDS: Final = (
    "name", "domain", "owner_id", "account_stage_id", "phone", "raw_address", "linkedin_url",
    "twitter_url", "facebook_url", "salesforce_id", "hubspot_id", "organization_id", "existence_level",
)  # fmt: skip
_PHONE_FIELDS: Final = (
    "direct_phone",
    "corporate_phone",
    "mobile_phone",
    "home_phone",
    "other_phone",
    "phone",
)


class Documents(Protocol):
    """The store's named JSON documents and atomic counters (every store has both)."""

    def get_document(self, name: str) -> Any:
        """The document under `name`, or None."""
        ...

    def set_document(self, name: str, document: Any) -> None:
        """Store `document` under `name`."""
        ...

    def incr(self, key: str, amount: float = 1) -> float:
        """Atomically add to a counter; its new value."""
        ...

    def get(self, key: str) -> float:
        """A counter's value."""
        ...


def _tag(team: str, kind: str) -> str:
    """Ten hex digits that mark a record id as this team's, of this kind."""
    return hashlib.sha256(f"crm:{team}:{kind}".encode()).hexdigest()[:10]


def _hash(*parts: str) -> str:
    return hashlib.sha256("\t".join(parts).encode()).hexdigest()[:24]


def clean_fields(raw: Any, names: tuple[str, ...], where: str = "") -> dict[str, Any]:
    """The known string fields of a record request (unknown keys ignored), each checked."""
    if not isinstance(raw, Mapping):
        raise Unprocessable("Invalid parameters")
    fields: dict[str, Any] = {}
    for name in names:
        if name in raw:
            value = raw[name]
            fields[name] = None if value is None else parse_string(f"{where}{name}", value)
    labels = raw.get("label_names")
    if labels is not None:
        if (
            not isinstance(labels, list)
            or len(labels) > MAX_LABELS
            or not all(isinstance(x, str) for x in labels)
        ):
            raise InvalidParameter(f"{where}label_names", "must be an array of at most 100 strings")
        fields["label_names"] = [parse_string(f"{where}label_names", x) for x in labels]
    custom = raw.get("typed_custom_fields")
    if custom is not None:
        if not isinstance(custom, Mapping) or len(custom) > MAX_LABELS:
            raise InvalidParameter(f"{where}typed_custom_fields", "must be an object of at most 100 fields")
        fields["typed_custom_fields"] = {
            str(parse_string(f"{where}typed_custom_fields", str(k))): v
            for k, v in custom.items()
            if isinstance(v, str | int | float | bool) or v is None
        }
    if fields.get("email"):
        fields["email"] = normalize_email(fields["email"])
    if fields.get("domain"):
        try:
            fields["domain"] = normalize_domain(fields["domain"])
        except InvalidParameter:
            raise InvalidParameter(f"{where}domain", "is not a domain") from None
    return fields


class TeamRecords:
    """Contacts and accounts per team, in the store; the team view enrichment consults."""

    def __init__(self, store: Documents, now: Callable[[], datetime]) -> None:
        self.store = store
        self.now = now

    # -- ids and documents ----------------------------------------------------------------

    def _stamp(self) -> str:
        """Apollo's timestamp form, 2026-05-18T11:19:11.032Z."""
        return self.now().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def _new_id(self, team: str, kind: str, number: int) -> str:
        seconds = int(self.now().timestamp()) & 0xFFFFFFFF
        return f"{seconds:08x}{_tag(team, kind)}{number:06x}"

    def number(self, team: str, kind: str, record_id: Any) -> int | None:
        """The record number an id of this team's `kind` carries; None for any other id."""
        if not isinstance(record_id, str) or len(record_id) != 24:
            return None
        text = record_id.lower()
        if text[8:18] != _tag(team, kind):
            return None
        try:
            return int(text[18:], 16)
        except ValueError:
            return None

    @overload
    def get(self, team: str, kind: Literal["contact"], record_id: Any) -> ContactDocument | None: ...
    @overload
    def get(self, team: str, kind: Literal["account"], record_id: Any) -> AccountDocument | None: ...
    @overload
    def get(self, team: str, kind: Kind, record_id: Any) -> TeamRecord | None: ...
    def get(self, team: str, kind: Kind, record_id: Any) -> TeamRecord | None:
        """One of the team's records by id (deleted ones too), or None."""
        number = self.number(team, kind, record_id)
        if number is None:
            return None
        return _stored(self.store.get_document(f"crm:{team}:{kind}:{number}"))

    def _put_contact(self, team: str, contact: ContactDocument) -> None:
        self._put(team, CONTACT, contact)
        if contact.get("person_id"):
            self.store.set_document(f"crm:{team}:person:{contact['person_id']}", contact["id"])
        email = contact.get("email")
        if email:
            self.store.set_document(f"crm:{team}:email:{_hash(email)}", contact["id"])

    def _put_account(self, team: str, account: AccountDocument) -> None:
        self._put(team, ACCOUNT, account)
        if account.get("organization_id"):
            self.store.set_document(f"crm:{team}:org:{account['organization_id']}", account["id"])

    def _put(self, team: str, kind: Kind, record: TeamRecord) -> None:
        number = self.number(team, kind, record["id"])
        assert number is not None
        self.store.set_document(f"crm:{team}:{kind}:{number}", record)

    def _allocate(self, team: str, kind: Kind) -> str:
        """A fresh id for one more of the team's records; 422 past fakeapollo's bound."""
        if self.store.get(f"crm:{team}:{kind}") >= MAX_RECORDS:
            raise Unprocessable(
                f"fakeapollo keeps at most {MAX_RECORDS} {kind}s per team; reset to start over"
            )
        teams = self.store.get_document(_TEAMS) or []
        if team not in teams:
            self.store.set_document(_TEAMS, sorted({*teams, team}))
        return self._new_id(team, kind, int(self.store.incr(f"crm:{team}:{kind}")))

    @overload
    def records(self, team: str, kind: Literal["contact"]) -> Sequence[ContactDocument]: ...
    @overload
    def records(self, team: str, kind: Literal["account"]) -> Sequence[AccountDocument]: ...
    @overload
    def records(self, team: str, kind: Kind) -> Sequence[TeamRecord]: ...
    def records(self, team: str, kind: Kind) -> Sequence[TeamRecord]:
        """Every record of the team's `kind` that is not deleted, oldest first."""
        count = int(self.store.get(f"crm:{team}:{kind}"))
        found = (_stored(self.store.get_document(f"crm:{team}:{kind}:{n}")) for n in range(1, count + 1))
        return [r for r in found if r is not None and r.get("existence_level") != "none"]

    # -- the team view enrichment consults -------------------------------------------------

    @overload
    def _linked(self, team: str, kind: Literal["contact"], link: str, of: str) -> ContactDocument | None: ...
    @overload
    def _linked(self, team: str, kind: Literal["account"], link: str, of: str) -> AccountDocument | None: ...
    def _linked(self, team: str, kind: Kind, link: str, of: str) -> TeamRecord | None:
        teams = self.store.get_document(_TEAMS)
        if not teams or team not in teams:
            return None  # the common case: one read of a rarely changing document
        record_id = self.store.get_document(f"crm:{team}:{link}:{of}")
        record = self.get(team, kind, record_id)
        return None if record is None or record.get("existence_level") == "none" else record

    def person_keys(self, team: str, person_id: str) -> TeamKeys | None:
        """contact/contact_id when `team` made a contact of this person."""
        contact = self._linked(team, CONTACT, "person", person_id)
        return None if contact is None else {"contact_id": contact["id"], "contact": contact}

    def organization_keys(self, team: str, organization_id: str) -> AccountKeys | None:
        """account/account_id when `team` made an account of this organization."""
        account = self._linked(team, ACCOUNT, "org", organization_id)
        return None if account is None else {"account_id": account["id"], "account": account}

    # -- contacts ---------------------------------------------------------------------------

    def find_contact(self, team: str, fields: Mapping[str, Any]) -> ContactDocument | None:
        """The contact Apollo's de-duplication matches: by id, CRM id, person, email, then name and company.

        The order of OAS contacts create (`run_dedupe`), docs/apollo-facts.md 7.4.
        """
        if fields.get("id"):
            found = self.get(team, CONTACT, fields["id"])
            if found is not None:
                return found
        contacts = None
        for key in ("salesforce_lead_id", "salesforce_contact_id", "hubspot_vid"):
            if fields.get(key):
                contacts = contacts if contacts is not None else self.records(team, CONTACT)
                match = next((c for c in contacts if c.get(key) == fields[key]), None)
                if match is not None:
                    return match
        if fields.get("person_id"):
            linked = self._linked(team, CONTACT, "person", fields["person_id"])
            if linked is not None:
                return linked
        if fields.get("email"):
            linked = self._linked(team, CONTACT, "email", _hash(fields["email"]))
            if linked is not None:
                return linked
        first, last = (str(fields.get(k) or "").strip().lower() for k in ("first_name", "last_name"))
        company = str(fields.get("organization_name") or "").strip().lower()
        if first and last and company:
            contacts = contacts if contacts is not None else self.records(team, CONTACT)
            for contact in contacts:
                if (
                    str(contact.get("first_name") or "").lower() == first
                    and str(contact.get("last_name") or "").lower() == last
                    and str(contact.get("organization_name") or "").lower() == company
                ):
                    return contact
        return None

    def create_contact(
        self, team: str, fields: Mapping[str, Any], person: PersonDocument | None
    ) -> ContactDocument:
        """A new contact from the request's fields, filled from the person it stands for."""
        record = contact_record(self._allocate(team, CONTACT), team, fields, person, self._stamp())
        self._put_contact(team, record)
        return record

    def update_contact(
        self, team: str, contact: ContactDocument, fields: Mapping[str, Any]
    ) -> ContactDocument:
        """Overwrite the fields sent (an empty value clears one), as Apollo's update does."""
        _overwrite(contact, fields)
        contact["name"] = " ".join(
            str(n or "") for n in (contact.get("first_name"), contact.get("last_name"))
        ).strip()
        if "email" in fields:
            contact["contact_emails"] = _contact_emails(contact.get("email"))
        contact["updated_at"] = self._stamp()
        self._put_contact(team, contact)
        return contact

    def update_account(
        self, team: str, account: AccountDocument, fields: Mapping[str, Any]
    ) -> AccountDocument:
        """Overwrite the fields sent (an empty value clears one), as Apollo's update does."""
        _overwrite(account, fields)
        self._put_account(team, account)
        return account

    # -- accounts ---------------------------------------------------------------------------

    def find_account(self, team: str, fields: Mapping[str, Any]) -> AccountDocument | None:
        """The account bulk create treats as existing: same domain, else same name (fakeapollo's rule)."""
        accounts = self.records(team, ACCOUNT)
        if fields.get("domain"):
            match = next((a for a in accounts if a.get("domain") == fields["domain"]), None)
            if match is not None:
                return match
        name = str(fields.get("name") or "").strip().lower()
        return next((a for a in accounts if name and str(a.get("name") or "").lower() == name), None)

    def create_account(
        self, team: str, fields: Mapping[str, Any], organization: OrganizationDocument | None
    ) -> AccountDocument:
        """A new account; 422 without a name or a domain (OAS accounts create)."""
        if not fields.get("name") and not fields.get("domain"):
            raise Unprocessable(ACCOUNT_NAME_OR_DOMAIN)
        record = account_record(self._allocate(team, ACCOUNT), team, fields, organization, self._stamp())
        self._put_account(team, record)
        return record


# --------------------------------------------------------------------------------------------
# Apollo's record shapes (tests/data/recorded/contacts_create_*, accounts_create_*).
# --------------------------------------------------------------------------------------------


def _stored(document: Any) -> TeamRecord | None:
    """A record read back from the store: what `_put` wrote there (a JSON object), or None."""
    return cast("TeamRecord", document) if isinstance(document, dict) else None


def _overwrite(record: TeamRecord, fields: Mapping[str, Any]) -> None:
    """Write the fields a request sent over `record`, each under its own name (phones: sanitized_phone).

    The request's names (CONTACT_FIELDS, ACCOUNT_FIELDS, label_names, typed_custom_fields) are known
    only at run time, so this one step writes through a plain dict.
    """
    document = cast("dict[str, Any]", record)
    for key, value in fields.items():
        if key in ("person_id", "salesforce_lead_id", "salesforce_contact_id") and document.get(key):
            continue  # protected once set (OAS contacts create, run_dedupe)
        if key in _PHONE_FIELDS:
            document["sanitized_phone"] = _sanitized(value)
            continue
        document[key] = value


def _sanitized(phone: Any) -> str | None:
    if not isinstance(phone, str):
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    if not digits:
        return None
    return f"+1{digits}" if len(digits) == 10 else f"+{digits}"


def _contact_emails(email: Any) -> list[ContactEmailDocument]:
    if not isinstance(email, str) or not email:
        return []
    data = email.encode()
    return [
        {
            "email_md5": hashlib.md5(data).hexdigest(),  # noqa: S324 - Apollo's own field
            "email_sha256": hashlib.sha256(data).hexdigest(),
            "email_status": "verified",
            "extrapolated_email_confidence": None,
            "position": 0,
            "email": email,
            "free_domain": False,
            "source": "User Managed",
            "third_party_vendor_name": None,
            "vendor_validation_statuses": [],
            "email_needs_tickling": False,
            "email_true_status": "User Managed",
            "email_status_unavailable_reason": None,
        }
    ]


def _team_ids(team: str) -> dict[str, str]:
    """The team's own ids (team, its user, default stages), fixed by the team's name."""
    return {
        "team_id": _hash("team", team),
        "user": _hash("user", team),
        "contact_stage": _hash("contact-stage", team),
        "account_stage": _hash("account-stage", team),
    }


def contact_record(
    contact_id: str, team: str, fields: Mapping[str, Any], found: PersonDocument | None, stamp: str
) -> ContactDocument:
    """A contact as Apollo's create answers it, the fields sent winning over the person's (`found`)."""
    person: Mapping[str, Any] = found or {}
    employer = person.get("organization")
    organization: Mapping[str, Any] = employer if isinstance(employer, Mapping) else {}

    def pick(key: str, fallback: Any = None) -> Any:
        value = fields.get(key)
        return value if value is not None else fallback

    ids = _team_ids(team)
    first = pick("first_name", person.get("first_name"))
    last = pick("last_name", person.get("last_name"))
    email = pick("email", person.get("email"))
    phone = next((fields[k] for k in _PHONE_FIELDS if fields.get(k)), None)
    place = [person.get(k) for k in ("city", "state", "country")]
    return {
        "contact_roles": [],
        "id": contact_id,
        "first_name": first,
        "last_name": last,
        "name": " ".join(str(x) for x in (first, last) if x),
        "linkedin_url": pick("linkedin_url", person.get("linkedin_url")),
        "title": pick("title", person.get("title")),
        "contact_stage_id": pick("contact_stage_id", ids["contact_stage"]),
        "owner_id": pick("owner_id", ids["user"]),
        "creator_id": ids["user"],
        "person_id": person.get("id"),
        "email_needs_tickling": False,
        "organization_name": pick("organization_name", organization.get("name")),
        "source": "api",
        "original_source": "api",
        "organization_id": pick("organization_id", person.get("organization_id")),
        "headline": person.get("headline"),
        "photo_url": pick("photo_url", person.get("photo_url")),
        "present_raw_address": pick("present_raw_address", ", ".join(str(p) for p in place if p) or None),
        "linkedin_uid": None,
        "extrapolated_email_confidence": None,
        "salesforce_id": fields.get("salesforce_id"),
        "salesforce_lead_id": fields.get("salesforce_lead_id"),
        "salesforce_contact_id": fields.get("salesforce_contact_id"),
        "salesforce_account_id": None,
        "crm_owner_id": None,
        "created_at": stamp,
        "emailer_campaign_ids": [],
        "direct_dial_status": None,
        "direct_dial_enrichment_failed_at": None,
        "email_status": "verified" if email else None,
        "email_source": None,
        "account_id": fields.get("account_id"),
        "last_activity_date": None,
        "hubspot_vid": fields.get("hubspot_vid"),
        "hubspot_company_id": None,
        "crm_id": None,
        "merged_crm_ids": None,
        "updated_at": stamp,
        "queued_for_crm_push": True,
        "suggested_from_rule_engine_config_id": None,
        "email_unsubscribed": None,
        "person_deleted": None,
        "call_opted_out": None,
        "godmode_apollo_creator": None,
        "sanitized_phone": _sanitized(phone),
        "street_address": None,
        "city": person.get("city"),
        "state": person.get("state"),
        "country": person.get("country"),
        "postal_code": None,
        "formatted_address": None,
        "time_zone": None,
        "label_ids": [_hash("label", team, name) for name in fields.get("label_names") or ()],
        "has_pending_email_arcgate_request": False,
        "has_email_arcgate_request": False,
        "existence_level": "full",
        "email": email,
        "email_from_customer": bool(fields.get("email")),
        "typed_custom_fields": dict(fields.get("typed_custom_fields") or {}),
        "custom_field_errors": {},
        "crm_record_url": None,
        "email_status_unavailable_reason": None,
        "email_true_status": "User Managed" if email else None,
        "updated_email_true_status": bool(email),
        "source_display_name": "Created from API",
        "twitter_url": pick("twitter_url", person.get("twitter_url")),
        "facebook_url": pick("facebook_url", person.get("facebook_url")),
        "contact_campaign_statuses": [],
        "contact_emails": _contact_emails(email),
        "next_contact_id": None,
        "intent_strength": None,
        "show_intent": False,
        "phone_numbers": [],
        "account_phone_note": None,
        "free_domain": False,
        "email_domain_catchall": False,
    }


def account_record(
    account_id: str,
    team: str,
    fields: Mapping[str, Any],
    organization: OrganizationDocument | None,
    stamp: str,
) -> AccountDocument:
    """An account as Apollo's create answers it, linked to the organization at its domain."""
    known: Mapping[str, Any] = organization or {}
    ids = _team_ids(team)
    phone = fields.get("phone")
    record: AccountDocument = {
        "id": account_id,
        "domain": fields.get("domain"),
        "name": fields.get("name") or known.get("name"),
        "team_id": ids["team_id"],
        "organization_id": fields.get("organization_id") or known.get("id"),
        "account_stage_id": fields.get("account_stage_id") or ids["account_stage"],
        "source": "api",
        "original_source": "api",
        "creator_id": ids["user"],
        "owner_id": fields.get("owner_id") or ids["user"],
        "created_at": stamp,
        "phone": phone,
        "phone_status": "no_status",
        "hubspot_id": fields.get("hubspot_id"),
        "salesforce_id": fields.get("salesforce_id"),
        "crm_owner_id": None,
        "parent_account_id": None,
        "linkedin_url": fields.get("linkedin_url"),
        "suggested_from_rule_engine_config_id": None,
        "godmode_apollo_creator": None,
    }
    if phone:
        record["sanitized_phone"] = _sanitized(phone)
    record.update(
        {
            "account_playbook_statuses": [],
            "existence_level": "full",
            "label_ids": [_hash("label", team, name) for name in fields.get("label_names") or ()],
            "typed_custom_fields": dict(fields.get("typed_custom_fields") or {}),
            "custom_field_errors": {},
            "modality": "account",
            "source_display_name": "Created from API",
            "crm_record_url": None,
            "twitter_url": fields.get("twitter_url"),
            "facebook_url": fields.get("facebook_url"),
            "intent_strength": None,
            "show_intent": False,
            "organization_headcount_six_month_growth": None,
            "organization_headcount_twelve_month_growth": None,
            "organization_headcount_twenty_four_month_growth": None,
        }
    )
    return record
