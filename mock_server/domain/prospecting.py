"""The calls around enrichment: people and company search, contacts, accounts, organizations, auth health.

Each function is one of Apollo's operations with the signature every operation has (the service,
the caller's key, the merged parameters, the forced outcome, the receipt), returning the answer's
JSON document. Endpoint names are the ones Apollo meters, scopes and names in its 403s (the OAS
"API key access" line of each operation, docs/apollo-facts.md 7.1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

from mock_server.domain.crm import (
    ACCOUNT,
    ACCOUNT_FIELDS,
    ACCOUNT_SORTS,
    BULK_ACCOUNTS_MISSING,
    BULK_ACCOUNTS_TOO_MANY,
    BULK_CONTACTS_MISSING,
    BULK_CONTACTS_TOO_MANY,
    CONTACT,
    CONTACT_FIELDS,
    CONTACT_SORTS,
    INVALID_SORT,
    MAX_BULK,
    Kind,
    clean_fields,
)
from mock_server.domain.documents import (
    AccountDocument,
    ContactDocument,
    OrganizationDocument,
    PersonDocument,
    add_team_keys,
)
from mock_server.domain.errors import ApolloError, InvalidParameter, Unprocessable
from mock_server.domain.matching import Identity, normalize_id
from mock_server.domain.params import parse_bool
from mock_server.domain.postings import postings
from mock_server.domain.scenarios import Outcome, OutcomeName
from mock_server.domain.search import (
    Page,
    breadcrumbs,
    organization_row,
    pagination,
    parse_filters,
    parse_page,
    thin_person,
    window,
)

if TYPE_CHECKING:
    from mock_server.domain.keys import ApiKey
    from mock_server.domain.service import Enrichment, Receipt

PEOPLE_API_SEARCH: Final = "api/v1/mixed_people/api_search"
ORGANIZATION_SEARCH: Final = "api/v1/mixed_companies/search"
ORGANIZATION_SHOW: Final = "api/v1/organizations/show"
JOB_POSTINGS: Final = "api/v1/organizations/job_postings"
AUTH_HEALTH: Final = "api/v1/auth/health"
CONTACTS_CREATE: Final = "api/v1/contacts/create"
CONTACTS_BULK_CREATE: Final = "api/v1/contacts/bulk_create"
CONTACTS_SEARCH: Final = "api/v1/contacts/search"
CONTACTS_SHOW: Final = "api/v1/contacts/show"
CONTACTS_UPDATE: Final = "api/v1/contacts/update"
ACCOUNTS_CREATE: Final = "api/v1/accounts/create"
ACCOUNTS_BULK_CREATE: Final = "api/v1/accounts/bulk_create"
ACCOUNTS_SEARCH: Final = "api/v1/accounts/search"
ACCOUNTS_SHOW: Final = "api/v1/accounts/show"
ACCOUNTS_UPDATE: Final = "api/v1/accounts/update"
#: OAS: Organization Search, Get Complete Organization Info and job postings cost 1 credit a page
#: or a company; the others are free (docs/apollo-facts.md 7.1).
PAGE_CREDITS: Final = 1
#: OAS job_postings: "a display limit of 10,000 records".
MAX_JOB_POSTINGS: Final = 10_000
#: The top-level keys Apollo's search answers carry around their records (tests/data/recorded/).
_SEARCH_FRAME: Final = {
    "partial_results_only": False,
    "has_join": False,
    "disable_eu_prospecting": False,
    "partial_results_limit": 10_000,
}

Params = dict[str, Any]
_Record = TypeVar("_Record", ContactDocument, AccountDocument)


def _not_valid_id(value: Any) -> ApolloError:
    """OAS 422 "Parameters misconfigured. <id> is not a valid ID" (contacts, accounts, organizations)."""
    return Unprocessable(f"Parameters misconfigured. {str(value)[:64]} is not a valid ID")


def _forced_miss(outcome: Outcome | None) -> bool:
    return outcome is not None and outcome.name in (OutcomeName.NO_MATCH, OutcomeName.STUB_NO_MATCH)


# --------------------------------------------------------------------------------------------
# Search.
# --------------------------------------------------------------------------------------------


def people_api_search(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """mixed_people/api_search: thin, credit-free records of the directory's persons (only two keys)."""
    filters = parse_filters(params)
    page = parse_page(params)
    slots = [] if _forced_miss(outcome) else service.search.staff(filters)
    people = []
    for position in window(page, len(slots)):
        slot = slots[position]
        person = service.directory.staff_member(slot.domain, slot.slot)
        if person is not None:
            people.append(thin_person(person))
    return {"total_entries": len(slots), "people": people}


def organization_search(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """mixed_companies/search: a page of organizations; 1 credit for a page that holds any."""
    filters = parse_filters(params)
    page = parse_page(params)
    domains = [] if _forced_miss(outcome) else service.search.organizations(filters)
    shown = [service.directory.organization(domains[i]) for i in window(page, len(domains))]
    if shown and not service.charge(api_key, PAGE_CREDITS, receipt):
        shown = []
    service.directory.remember_organizations(shown)
    accounts, organizations = [], []
    for organization in shown:
        linked = service.records.organization_keys(api_key.team, str(organization["id"]))
        if linked is not None:
            accounts.append(linked["account"])
        else:
            organizations.append(organization_row(organization))
    return {
        "breadcrumbs": breadcrumbs(filters),
        **_SEARCH_FRAME,
        "pagination": pagination(page, len(domains)),
        "accounts": accounts,
        "organizations": organizations,
        "model_ids": [o["id"] for o in shown],
        "num_fetch_result": None,
        "derived_params": {},
    }


def _organization(
    service: Enrichment, params: Params, key: str, outcome: Outcome | None
) -> OrganizationDocument:
    """The organization a path id names; Apollo's 422 for an id it does not know."""
    raw = params.get(key)
    try:
        org_id = normalize_id(raw) if isinstance(raw, str) else None
    except InvalidParameter:
        org_id = None
    organization = (
        None if org_id is None or _forced_miss(outcome) else service.directory.organization_by_id(org_id)
    )
    if organization is None:
        raise _not_valid_id(raw)
    return organization


def organization_show(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """organizations/{id}: Get Complete Organization Info, 1 credit."""
    organization = _organization(service, params, "organization_id", outcome)
    if not service.charge(api_key, PAGE_CREDITS, receipt):
        raise _not_valid_id(params.get("organization_id"))
    add_team_keys(organization, service.directory.organization_team_keys(organization, api_key.team))
    return {"organization": organization}


def job_postings(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """organizations/{id}/job_postings: the company's open jobs, 1 credit a page."""
    organization = _organization(service, params, "organization_id", outcome)
    page = parse_page(params, default_size=MAX_JOB_POSTINGS, largest=MAX_JOB_POSTINGS)
    jobs = postings(service.directory.seed, organization)
    start = (page.page - 1) * page.per_page
    shown = jobs[start : start + page.per_page]
    if shown and not service.charge(api_key, PAGE_CREDITS, receipt):
        shown = []
    return {"organization_job_postings": shown}


def auth_health(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """auth/health: the key works (docs/apollo-facts.md 7.5); free."""
    return {"healthy": True, "is_logged_in": True}


# --------------------------------------------------------------------------------------------
# Contacts.
# --------------------------------------------------------------------------------------------


def _person_for(service: Enrichment, fields: Mapping[str, Any]) -> PersonDocument | None:
    """The directory's person a contact stands for: the one its person_id or else its email names."""
    identity = None
    raw = fields.get("person_id")
    if isinstance(raw, str):
        try:
            identity = Identity("id", normalize_id(raw))
        except InvalidParameter:
            identity = None
    person = None if identity is None else service.directory.find(identity)
    email = fields.get("email")
    if person is None and isinstance(email, str) and email:
        person = service.directory.find(Identity("email", email))
    return None if person is None else person.record


def _contact_fields(raw: Any, where: str = "") -> dict[str, Any]:
    fields = clean_fields(raw, CONTACT_FIELDS, where)
    if isinstance(raw, Mapping) and raw.get("id") is not None:
        fields["id"] = raw["id"]
    return fields


def contacts_create(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """POST contacts: a new contact; with run_dedupe, the matching one updated in place (OAS)."""
    fields = _contact_fields(params)
    team = api_key.team
    if parse_bool("run_dedupe", params.get("run_dedupe")):
        existing = service.records.find_contact(team, fields)
        if existing is not None:
            return {"contact": service.records.update_contact(team, existing, fields), "labels": []}
    contact = service.records.create_contact(team, fields, _person_for(service, fields))
    return {"contact": contact, "labels": []}


def _bulk(params: Params, name: str, missing: str, too_many: str) -> list[Any]:
    items = params.get(name)
    if not isinstance(items, list) or not items:
        raise Unprocessable(missing)
    if len(items) > MAX_BULK:
        raise Unprocessable(too_many)
    return items


def contacts_bulk_create(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """contacts/bulk_create: up to 100; with run_dedupe, matches come back unchanged in existing_contacts."""
    items = _bulk(params, "contacts", BULK_CONTACTS_MISSING, BULK_CONTACTS_TOO_MANY)
    dedupe = parse_bool("run_dedupe", params.get("run_dedupe"))
    labels = params.get("append_label_names")
    requests = [_contact_fields(item, f"contacts[{i}].") for i, item in enumerate(items)]
    created, existing = [], []
    for fields in requests:
        if isinstance(labels, list):
            fields["label_names"] = [*fields.get("label_names", []), *(str(x)[:256] for x in labels[:100])]
        match = service.records.find_contact(api_key.team, fields) if dedupe else None
        if match is not None:
            existing.append(match)
        else:
            created.append(service.records.create_contact(api_key.team, fields, _person_for(service, fields)))
    return {"created_contacts": created, "existing_contacts": existing}


def _sorted(records: list[_Record], params: Params, allowed: frozenset[str]) -> list[_Record]:
    """Records in the order asked for: created or updated, newest first unless sort_ascending."""
    field = params.get("sort_by_field")
    if field is None:
        return records
    if not isinstance(field, str) or field not in allowed:
        raise InvalidSort()
    key = "updated_at" if field.endswith("updated_at") else "created_at"
    ascending = parse_bool("sort_ascending", params.get("sort_ascending"))
    return sorted(records, key=lambda r: str(r.get(key) or r.get("created_at") or ""), reverse=not ascending)


class InvalidSort(Unprocessable):
    """Apollo's 422 for a sort_by_field it does not know (OAS accounts/search), with skip_alert_dialog."""

    def __init__(self) -> None:
        super().__init__(str(INVALID_SORT["error"]))
        self.body = dict(INVALID_SORT)


def _own(records: Sequence[_Record], kind: Kind, params: Params) -> tuple[Page, list[_Record]]:
    """The page asked for and the team's `records` of `kind` in the stages asked for (`<kind>_stage_ids`)."""
    shown = list(records)
    stages = params.get(f"{kind}_stage_ids", params.get(f"{kind}_stage_ids[]"))
    if isinstance(stages, list) and stages:
        shown = [r for r in shown if r.get(f"{kind}_stage_id") in stages]
    return parse_page(params), shown


def contacts_search(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """contacts/search: the team's own contacts, filtered by keywords and stages, paged."""
    found = [] if _forced_miss(outcome) else service.records.records(api_key.team, CONTACT)
    page, contacts = _own(found, CONTACT, params)
    words = str(params.get("q_keywords") or "").lower().split()
    if words:
        searchable = ("name", "title", "organization_name", "email")
        contacts = [
            c
            for c in contacts
            if all(any(w in str(c.get(k) or "").lower() for k in searchable) for w in words)
        ]
    contacts = _sorted(contacts, params, CONTACT_SORTS)
    shown = []
    for position in window(page, len(contacts)):
        record = dict(contacts[position])
        record.pop("next_contact_id", None)
        record["contact_job_change_event"] = None
        shown.append(record)
    return {
        "contacts": shown,
        "breadcrumbs": [],
        **_SEARCH_FRAME,
        "pagination": pagination(page, len(contacts)),
        "num_fetch_result": None,
    }


def _contact(service: Enrichment, api_key: ApiKey, params: Params) -> ContactDocument:
    found = service.records.get(api_key.team, CONTACT, params.get("contact_id"))
    if found is None:
        raise _not_valid_id(params.get("contact_id"))
    return found


def _account(service: Enrichment, api_key: ApiKey, params: Params) -> AccountDocument:
    found = service.records.get(api_key.team, ACCOUNT, params.get("account_id"))
    if found is None:
        raise _not_valid_id(params.get("account_id"))
    return found


def contact_show(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """GET contacts/{id}: one of the team's contacts (tests/data/recorded/contacts_show_*)."""
    return {"contact": {"disable_flag": True, **_contact(service, api_key, params)}}


def contact_update(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """PATCH contacts/{id}: the fields sent overwrite the stored ones."""
    record = _contact(service, api_key, params)
    fields = clean_fields(params, CONTACT_FIELDS)
    return {"contact": service.records.update_contact(api_key.team, record, fields), "labels": []}


# --------------------------------------------------------------------------------------------
# Accounts.
# --------------------------------------------------------------------------------------------


def _organization_for(service: Enrichment, fields: Mapping[str, Any]) -> OrganizationDocument | None:
    domain = fields.get("domain")
    return service.directory.organization_for_domain(domain) if isinstance(domain, str) and domain else None


def accounts_create(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """POST accounts: a new account (Apollo never de-duplicates this one, OAS)."""
    fields = clean_fields(params, ACCOUNT_FIELDS)
    return {
        "account": service.records.create_account(api_key.team, fields, _organization_for(service, fields))
    }


def accounts_bulk_create(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """accounts/bulk_create: up to 100; an account the team has (same domain or name) comes back unchanged."""
    items = _bulk(params, "accounts", BULK_ACCOUNTS_MISSING, BULK_ACCOUNTS_TOO_MANY)
    requests = [clean_fields(item, ACCOUNT_FIELDS, f"accounts[{i}].") for i, item in enumerate(items)]
    created, existing = [], []
    for fields in requests:
        match = service.records.find_account(api_key.team, fields)
        if match is not None:
            existing.append(match)
        else:
            organization = _organization_for(service, fields)
            created.append(service.records.create_account(api_key.team, fields, organization))
    return {"created_accounts": created, "existing_accounts": existing}


def accounts_search(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """accounts/search: the team's own accounts, by name, paged (tests/data/recorded/accounts_search_*)."""
    found = [] if _forced_miss(outcome) else service.records.records(api_key.team, ACCOUNT)
    page, accounts = _own(found, ACCOUNT, params)
    name = str(params.get("q_organization_name") or "").strip().lower()
    if name:
        accounts = [a for a in accounts if name in str(a.get("name") or "").lower()]
    accounts = _sorted(accounts, params, ACCOUNT_SORTS)
    contacts = service.records.records(api_key.team, CONTACT) if accounts else []
    shown = []
    for position in window(page, len(accounts)):
        account = accounts[position]
        record: dict[str, Any] = {}
        for key, value in account.items():
            record[key] = value
            if key == "crm_record_url":
                record["contact_emailer_campaign_ids"] = []
                record["contact_campaign_status_tally"] = {}
                record["num_contacts"] = sum(c.get("account_id") == account["id"] for c in contacts)
        shown.append(record)
    return {
        "breadcrumbs": [],
        **_SEARCH_FRAME,
        "pagination": pagination(page, len(accounts)),
        "accounts": shown,
        "num_fetch_result": None,
    }


def account_show(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """GET accounts/{id}: one of the team's accounts."""
    return {"account": _account(service, api_key, params)}


def account_update(
    service: Enrichment, api_key: ApiKey, params: Params, outcome: Outcome | None, receipt: Receipt
) -> dict[str, Any]:
    """PATCH accounts/{id}: the fields sent overwrite the stored ones."""
    record = _account(service, api_key, params)
    fields = clean_fields(params, ACCOUNT_FIELDS)
    return {"account": service.records.update_account(api_key.team, record, fields)}
