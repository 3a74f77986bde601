"""What one team sees on a person: its contacts and its accounts, a pure function of (seed, team, record)."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Final

from mock_server.domain.documents import (
    AccountDocument,
    AccountKeys,
    ContactDocument,
    OrganizationDocument,
    PersonDocument,
    TeamKeys,
)
from mock_server.domain.generation.common import (
    digest_of,
    object_id,
    seeded,
    share,
)
from mock_server.domain.persons import Person

#: Share of persons that are already one team's contacts, and of organizations that are its accounts.
CONTACT_SHARE: Final = 0.1

ACCOUNT_SHARE: Final = 0.1

_SOURCES: Final = ("crm", "csv_import", "chrome_extension", "search", "api")


def _timestamp(rng: random.Random) -> str:
    """A 2022-2024 timestamp in Apollo's form (2024-05-23T20:00:28.527Z)."""
    return (
        f"{rng.randint(2022, 2024):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}."
        f"{rng.randint(0, 999):03d}Z"
    )


def team_keys(seed: int, team: str, person: Person) -> TeamKeys:
    """The keys `team` sees on `person`: contact/contact_id for its contacts, account/account_id.

    The account keys come when the employer is one of the team's accounts; for anyone else Apollo
    leaves the keys out rather than sending null.
    """
    is_contact = share(seed, "contact", team, person.id) < CONTACT_SHARE
    is_account = _is_account(seed, team, person.organization_id)
    if not (is_contact or is_account):
        return {}
    record = person.record
    if "contact_id" in record or "account_id" in record:
        return {}  # a fixture that carries its own
    keys: TeamKeys = {}
    account: AccountDocument | None = None
    organization = record.get("organization")
    if is_account and isinstance(organization, Mapping):
        account = _account(seed, team, organization)
        keys["account_id"] = account["id"]
        keys["account"] = account
    if is_contact:
        contact = _contact(seed, team, record, account)
        keys["contact_id"] = contact["id"]
        keys["contact"] = contact
    return keys


def organization_team_keys(seed: int, team: str, organization: OrganizationDocument) -> AccountKeys:
    """account/account_id on an organization that is one of `team`'s accounts; else nothing."""
    org_id = organization.get("id")
    if not _is_account(seed, team, org_id if isinstance(org_id, str) else None):
        return {}
    account = _account(seed, team, organization)
    return {"account_id": account["id"], "account": account}


def _is_account(seed: int, team: str, organization_id: str | None) -> bool:
    return organization_id is not None and share(seed, "account", team, organization_id) < ACCOUNT_SHARE


def _team_user(seed: int, team: str) -> str:
    """The id of the team's user who owns and created its records."""
    return object_id(digest_of(seed, "team-user", team))


def _account(seed: int, team: str, organization: OrganizationDocument) -> AccountDocument:
    """The team's account for `organization` (the keys Apollo's account examples carry)."""
    rng = seeded(seed, "account", team, organization.get("id"))
    source = rng.choice(_SOURCES)
    phone = organization.get("phone")
    primary = organization.get("primary_phone")
    sanitized = primary.get("sanitized_number") if isinstance(primary, Mapping) else None
    return {
        "id": object_id(digest_of(seed, "account-id", team, organization.get("id"))),
        "name": organization.get("name"),
        "website_url": organization.get("website_url"),
        "linkedin_url": organization.get("linkedin_url"),
        "phone": phone,
        "domain": organization.get("primary_domain"),
        "team_id": object_id(digest_of(seed, "team", team)),
        "organization_id": organization.get("id"),
        "account_stage_id": object_id(digest_of(seed, "account-stage", team)),
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
    seed: int, team: str, record: PersonDocument, account: AccountDocument | None
) -> ContactDocument:
    """The team's contact for the person `record` (the keys of Apollo's contact examples)."""
    rng = seeded(seed, "contact", team, record.get("id"))
    source = rng.choice(_SOURCES)
    organization = record.get("organization")
    created = _timestamp(rng)
    place = ", ".join(str(v) for v in (record.get("city"), record.get("state"), record.get("country")) if v)
    return {
        "contact_roles": [],
        "id": object_id(digest_of(seed, "contact-id", team, record.get("id"))),
        "first_name": record.get("first_name"),
        "last_name": record.get("last_name"),
        "name": record.get("name"),
        "linkedin_url": record.get("linkedin_url"),
        "title": record.get("title"),
        "contact_stage_id": object_id(digest_of(seed, "contact-stage", team)),
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
