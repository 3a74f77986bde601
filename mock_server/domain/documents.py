"""The JSON documents that cross module boundaries, as TypedDicts whose keys are their schema's properties.

A person, an organization, a contact, an account and a phone number travel between generation, the
directory, the service, the stores and the HTTP edge as plain JSON objects (encoded as they are; a
TypedDict costs nothing at run time). Each class lists exactly the properties of one definition in
schemas/definitions.json, required ones `Required` (or left so in a total class), a nullable one as
`X | None`, so mypy checks the keys where documents are built and read. `SCHEMAS` names each class's
definition; tests/test_documents.py fails when a class and its definition drift apart (keys,
requiredness, nullability, types) and checks that the domain's documents validate.

A document read back from bytes (an LZ4-packed cache, the store) or from a fixture file is taken as
its class at that one step (a `cast`, or an annotation of `loads`' `Any`), said where it happens.
No `from __future__ import annotations` here: TypedDict reads `Required`/`NotRequired` as the class is
made, so the classes come leaves first.
"""

from typing import Any, NotRequired, Required, TypeAlias, TypedDict, cast, overload


class PhoneNumberDocument(TypedDict):
    """A phone number on a person or contact (`definitions.json#/definitions/phone_number`)."""

    raw_number: str | None
    sanitized_number: str
    type: str | None
    position: int
    status: str | None
    dnc_status: NotRequired[str | None]
    dnc_other_info: NotRequired[dict[str, str | None] | None]
    dialer_flags: NotRequired[dict[str, object] | None]


class EmploymentDocument(TypedDict):
    """One job of a person (`definitions.json#/definitions/employment_history_item`)."""

    _id: str
    created_at: str | None
    current: bool
    degree: str | None
    description: str | None
    emails: list[str] | None
    end_date: str | None
    grade_level: str | None
    kind: str | None
    major: str | None
    org_matched_by_name: NotRequired[bool | None]
    organization_id: str | None
    organization_name: str | None
    raw_address: str | None
    start_date: str | None
    title: str | None
    updated_at: str | None
    id: str
    key: str


class PrimaryPhoneDocument(TypedDict, total=False):
    """An organization's main line; often empty (`definitions.json#/definitions/primary_phone`)."""

    number: str | None
    source: str | None
    sanitized_number: str | None


class FundingEventDocument(TypedDict):
    """One funding round (`definitions.json#/definitions/funding_event`)."""

    id: str
    date: str | None
    news_url: str | None
    type: str | None
    investors: str | None
    amount: str | None
    currency: str | None


class TechnologyDocument(TypedDict):
    """A technology an organization uses (`definitions.json#/definitions/technology`)."""

    uid: str
    name: str
    category: str | None


class ContactEmailDocument(TypedDict, total=False):
    """One email address of a contact (`definitions.json#/definitions/contact_email`)."""

    email: Required[str | None]
    email_md5: Required[str | None]
    email_sha256: Required[str | None]
    email_status: Required[str | None]
    email_source: str | None
    extrapolated_email_confidence: Required[float | None]
    position: Required[int]
    email_from_customer: bool | None
    free_domain: Required[bool]
    source: str | None
    third_party_vendor_name: str | None
    email_true_status: str | None
    email_status_unavailable_reason: str | None
    vendor_validation_statuses: list[object]
    email_needs_tickling: bool | None


class PhoneDocument(TypedDict):
    """A phone number delivered by a webhook (docs/apollo-facts.md 4.2, 4.3).

    Schema: `definitions.json#/definitions/enriched_phone_number`.
    """

    _id: str
    confidence_cd: str | None
    created_at: NotRequired[str | None]
    direct_dial_source_cd: NotRequired[str | None]
    dnc_other_info: dict[str, str | None] | None
    dnc_status_cd: str | None
    dnc_status_updated_at: str | None
    position: NotRequired[int]
    raw_number: str | None
    sanitized_number: str
    status_cd: str | None
    type_cd: str | None
    updated_at: NotRequired[str | None]
    id: str
    key: str


class AccountDocument(TypedDict, total=False):
    """The caller's CRM account record for an organization (`definitions.json#/definitions/account`)."""

    id: Required[str]
    name: Required[str | None]
    website_url: str | None
    blog_url: str | None
    angellist_url: str | None
    linkedin_url: str | None
    twitter_url: str | None
    facebook_url: str | None
    primary_phone: PrimaryPhoneDocument | None
    languages: list[str]
    num_languages: int | None
    alexa_ranking: int | None
    phone: Required[str | None]
    linkedin_uid: str | None
    founded_year: int | None
    publicly_traded_symbol: str | None
    publicly_traded_exchange: str | None
    logo_url: str | None
    crunchbase_url: str | None
    primary_domain: str | None
    industry: str | None
    keywords: list[str]
    estimated_num_employees: int | None
    industries: list[str]
    secondary_industries: list[str]
    snippets_loaded: bool
    industry_tag_id: str | None
    industry_tag_hash: dict[str, str]
    retail_location_count: int | None
    num_retail_locations: int | None
    raw_address: str | None
    street_address: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None
    owned_by_organization_id: str | None
    seo_description: str | None
    short_description: str | None
    suborganizations: list[object]
    num_suborganizations: int | None
    annual_revenue_printed: str | None
    annual_revenue: float | None
    total_funding: float | None
    total_funding_printed: str | None
    latest_funding_round_date: str | None
    latest_funding_stage: str | None
    funding_events: list[FundingEventDocument]
    technology_names: list[str]
    current_technologies: list[TechnologyDocument]
    org_chart_root_people_ids: list[str]
    org_chart_sector: str | None
    org_chart_removed: bool
    org_chart_show_department_filter: bool
    departmental_head_count: dict[str, int]
    organization_headcount_six_month_growth: float | None
    organization_headcount_twelve_month_growth: float | None
    organization_headcount_twenty_four_month_growth: float | None
    domain: str | None
    team_id: str | None
    organization_id: str | None
    account_stage_id: str | None
    source: str | None
    original_source: str | None
    creator_id: str | None
    owner_id: str | None
    created_at: str | None
    phone_status: str | None
    hubspot_id: str | None
    salesforce_id: str | None
    crm_owner_id: str | None
    parent_account_id: str | None
    sanitized_phone: str | None
    account_playbook_statuses: list[object]
    account_rule_config_statuses: list[dict[str, object]]
    existence_level: str | None
    label_ids: list[str]
    typed_custom_fields: dict[str, object]
    custom_field_errors: dict[str, object] | None
    modality: str | None
    source_display_name: str | None
    salesforce_record_url: str | None
    crm_record_url: str | None
    show_intent: bool
    has_intent_signal_account: bool
    intent_signal_account: dict[str, object] | None
    godmode_apollo_creator: str | None
    intent_strength: str | None
    suggested_from_rule_engine_config_id: str | None
    contact_emailer_campaign_ids: list[str]
    contact_campaign_status_tally: dict[str, object]
    num_contacts: int


class ContactDocument(TypedDict):
    """The caller's own contact record for the person (`definitions.json#/definitions/contact`)."""

    contact_roles: NotRequired[list[object]]
    id: str
    first_name: str | None
    last_name: str | None
    name: str | None
    linkedin_url: str | None
    title: str | None
    contact_stage_id: str | None
    owner_id: str | None
    creator_id: NotRequired[str | None]
    person_id: str | None
    email_needs_tickling: bool | None
    organization_name: str | None
    source: str | None
    original_source: str | None
    organization_id: str | None
    headline: str | None
    photo_url: str | None
    present_raw_address: str | None
    linkedin_uid: str | None
    extrapolated_email_confidence: float | None
    salesforce_id: str | None
    salesforce_lead_id: str | None
    salesforce_contact_id: str | None
    salesforce_account_id: str | None
    crm_owner_id: NotRequired[str | None]
    created_at: str | None
    emailer_campaign_ids: list[str]
    direct_dial_status: str | None
    direct_dial_enrichment_failed_at: str | None
    email_status: str | None
    email_source: NotRequired[str | None]
    account_id: str | None
    last_activity_date: str | None
    hubspot_vid: str | None
    hubspot_company_id: str | None
    crm_id: NotRequired[str | None]
    sanitized_phone: str | None
    merged_crm_ids: list[str] | None
    updated_at: str | None
    queued_for_crm_push: bool | None
    suggested_from_rule_engine_config_id: str | None
    email_unsubscribed: NotRequired[bool | None]
    label_ids: list[str]
    has_pending_email_arcgate_request: bool
    has_email_arcgate_request: bool
    existence_level: str | None
    email: str | None
    email_from_customer: NotRequired[bool | None]
    typed_custom_fields: dict[str, object]
    custom_field_errors: NotRequired[dict[str, object] | None]
    crm_record_url: NotRequired[str | None]
    email_status_unavailable_reason: NotRequired[str | None]
    email_true_status: NotRequired[str | None]
    updated_email_true_status: NotRequired[bool]
    contact_rule_config_statuses: NotRequired[list[dict[str, object]]]
    source_display_name: NotRequired[str | None]
    contact_emails: NotRequired[list[ContactEmailDocument]]
    time_zone: NotRequired[str | None]
    phone_numbers: list[PhoneNumberDocument]
    account_phone_note: str | None
    free_domain: NotRequired[bool]
    is_likely_to_engage: NotRequired[bool]
    call_opted_out: NotRequired[bool | None]
    person_deleted: NotRequired[bool | None]
    email_domain_catchall: NotRequired[bool | None]
    disable_flag: NotRequired[bool | None]
    city: NotRequired[str | None]
    state: NotRequired[str | None]
    country: NotRequired[str | None]
    postal_code: NotRequired[str | None]
    street_address: NotRequired[str | None]
    formatted_address: NotRequired[str | None]
    facebook_url: NotRequired[str | None]
    twitter_url: NotRequired[str | None]
    intent_strength: NotRequired[str | None]
    godmode_apollo_creator: NotRequired[str | None]
    show_intent: NotRequired[bool]
    next_contact_id: NotRequired[str | None]
    contact_campaign_statuses: NotRequired[list[object]]
    contact_job_change_event: NotRequired[dict[str, object] | None]
    engagement_graph: NotRequired[dict[str, object] | list[object] | None]


class OrganizationDocument(TypedDict, total=False):
    """An organization: person.organization and organizations/enrich.

    Schema: `definitions.json#/definitions/organization`.
    """

    id: Required[str]
    name: Required[str | None]
    website_url: Required[str | None]
    blog_url: str | None
    angellist_url: Required[str | None]
    linkedin_url: Required[str | None]
    twitter_url: Required[str | None]
    facebook_url: Required[str | None]
    primary_phone: PrimaryPhoneDocument | None
    languages: Required[list[str]]
    num_languages: int | None
    alexa_ranking: Required[int | None]
    phone: Required[str | None]
    linkedin_uid: Required[str | None]
    founded_year: int | None
    publicly_traded_symbol: Required[str | None]
    publicly_traded_exchange: Required[str | None]
    logo_url: Required[str | None]
    crunchbase_url: Required[str | None]
    primary_domain: Required[str | None]
    sic_codes: list[str] | None
    naics_codes: list[str] | None
    sanitized_phone: str | None
    industry: Required[str | None]
    keywords: Required[list[str]]
    estimated_num_employees: Required[int | None]
    industries: list[str]
    secondary_industries: list[str]
    snippets_loaded: Required[bool]
    industry_tag_id: Required[str | None]
    industry_tag_hash: dict[str, str]
    retail_location_count: Required[int | None]
    num_retail_locations: int | None
    raw_address: Required[str | None]
    street_address: Required[str | None]
    city: Required[str | None]
    state: Required[str | None]
    postal_code: Required[str | None]
    country: Required[str | None]
    owned_by_organization_id: str | None
    seo_description: str | None
    short_description: str | None
    suborganizations: list[object]
    num_suborganizations: int | None
    annual_revenue_printed: str | None
    annual_revenue: float | None
    organization_revenue_printed: str | None
    organization_revenue: float | None
    total_funding: float | None
    total_funding_printed: str | None
    latest_funding_round_date: str | None
    latest_funding_stage: str | None
    funding_events: list[FundingEventDocument]
    technology_names: list[str]
    current_technologies: list[TechnologyDocument]
    org_chart_root_people_ids: list[str]
    org_chart_sector: str | None
    org_chart_removed: bool | None
    org_chart_show_department_filter: bool | None
    account_id: str | None
    account: AccountDocument | None
    departmental_head_count: dict[str, int]
    organization_headcount_six_month_growth: float | None
    organization_headcount_twelve_month_growth: float | None
    organization_headcount_twenty_four_month_growth: float | None


class PersonDocument(TypedDict, total=False):
    """A person as people/match returns it under person and bulk_match in matches.

    Schema: `definitions.json#/definitions/person`.
    """

    id: Required[str]
    first_name: Required[str | None]
    last_name: Required[str | None]
    name: Required[str | None]
    linkedin_url: Required[str | None]
    title: Required[str | None]
    email_status: str | None
    photo_url: str | None
    twitter_url: str | None
    github_url: str | None
    facebook_url: str | None
    extrapolated_email_confidence: float | None
    headline: str | None
    email: str | None
    hashed_email: str
    organization_id: Required[str | None]
    employment_history: list[EmploymentDocument]
    street_address: str | None
    state: str | None
    city: str | None
    country: str | None
    postal_code: str | None
    formatted_address: str | None
    time_zone: str | None
    contact_id: str | None
    contact: ContactDocument | None
    revealed_for_current_team: bool
    organization: OrganizationDocument | None
    account_id: str | None
    account: AccountDocument | None
    is_likely_to_engage: bool
    intent_strength: str | None
    show_intent: bool
    email_domain_catchall: bool | None
    departments: list[str]
    subdepartments: list[str]
    functions: list[str]
    seniority: str | None
    phone_numbers: list[PhoneNumberDocument]
    personal_emails: list[str]
    match_confidence: str | None


class AccountKeys(TypedDict, total=False):
    """What one team sees on an organization besides its record: its account."""

    account_id: str | None
    account: AccountDocument | None


class TeamKeys(AccountKeys, total=False):
    """What one team sees on a person besides its record: its account and its contact."""

    contact_id: str | None
    contact: ContactDocument | None


@overload
def add_team_keys(document: PersonDocument, keys: TeamKeys) -> None: ...
@overload
def add_team_keys(document: OrganizationDocument, keys: AccountKeys) -> None: ...
def add_team_keys(document: PersonDocument | OrganizationDocument, keys: AccountKeys) -> None:
    """Set a team's `keys` on `document`, as `dict.update` does (new keys last, in their order).

    mypy's `TypedDict.update` takes only the document's own type; the keys and their types are the
    document's own (tests/test_documents.py), so the update goes through a plain dict's.
    """
    cast("dict[str, object]", document).update(keys)


#: A whole answer body, described by the operation's response schema (mock_server/web/operations.py):
#: open, since each operation has its own and an answer may hold already encoded parts (`Encoded`).
AnswerDocument: TypeAlias = dict[str, Any]

#: The schema definition each document class lists the properties of.
SCHEMAS: dict[str, str] = {
    "PersonDocument": "person",
    "OrganizationDocument": "organization",
    "ContactDocument": "contact",
    "AccountDocument": "account",
    "PhoneDocument": "enriched_phone_number",
    "PhoneNumberDocument": "phone_number",
    "EmploymentDocument": "employment_history_item",
    "PrimaryPhoneDocument": "primary_phone",
    "FundingEventDocument": "funding_event",
    "TechnologyDocument": "technology",
    "ContactEmailDocument": "contact_email",
}
