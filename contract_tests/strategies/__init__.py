"""Hypothesis strategies for everything Apollo sends, built by walking fakeapollo's schemas.

The shared definitions (person, organization, phone numbers, webhook payloads, ...) are walked
key by key: required keys are always present, optional keys sometimes, nullable values are
sometimes `None`, arrays may be empty, and strings get realistic values when the field has a
meaning (emails, 24-hex ids, E.164 numbers, ISO dates, URLs). A change to `schemas/` flows into
every strategy here. `hypothesis-jsonschema` would also work, but is slow on the large person
schema and shrinks to unreadable documents; this walker stays fast and shrinks to small ones.

Four styles exist:

- `complete`: realistic non-null values (what a match looks like), names and places in every script
  (accents, right-to-left, emoji); a few optional keys are left out, as thinner real answers do;
- `partial`: Apollo's holes: nulls wherever the schema allows them, at least one optional key
  missing, empty arrays, unknown extra keys, unicode and very long strings;
- `bare` (an extreme): only the required keys, every nullable value null, every array empty;
- `longest` (an extreme): every key present, every array full, free text at its longest.

The modules: `canned` (the answer served), `values` (realistic scalars), `schema` (the walker),
`answers` (200s: persons, matches, misses, bulk), `errors` (4xx, 429, 5xx, broken bodies, faults),
`webhooks` (payloads and their deliveries), `params` (what a client is asked to send). Every public
name is also importable from this package.
"""

from __future__ import annotations

from contract_tests.strategies.answers import (
    WATERFALL_ACCEPTED,
    bulk_responses,
    match_responses,
    no_match_responses,
    partial_persons,
    partial_responses,
    persons,
    stub_persons,
)
from contract_tests.strategies.canned import (
    CannedResponse,
    Json,
    json_response,
)
from contract_tests.strategies.errors import (
    BAD_REQUEST_BODIES,
    FAILED_BULK,
    FORBIDDEN_MESSAGES,
    GATEWAY_PAGE,
    RATE_LIMIT_MESSAGE,
    RETRY_AFTER_DATE_SECONDS,
    RETRY_AFTER_FORMS,
    RETRY_AFTER_SECONDS,
    SLOW_ANSWER_SECONDS,
    UNAUTHORIZED_TEXTS,
    UNPROCESSABLE_BODIES,
    bulk_error_responses,
    client_error_list,
    client_error_responses,
    error_responses,
    forbidden_response,
    forbidden_responses,
    hung_responses,
    rate_limited_responses,
    server_error_responses,
    slow_responses,
    truncated_responses,
    unauthorized_response,
    unauthorized_responses,
    unprocessable_responses,
)
from contract_tests.strategies.params import (
    AWKWARD_EMAILS,
    AWKWARD_NAMES,
    AWKWARD_ORGANIZATIONS,
    AWKWARD_PARAMS,
    bulk_details,
    match_params,
    webhook_urls,
)
from contract_tests.strategies.schema import (
    CRM_RECORDS,
    MAX_ARRAY,
    Style,
    definition,
    from_schema,
)
from contract_tests.strategies.values import (
    CITIES,
    COUNTRIES,
    DOMAINS,
    EMAIL_STATUSES,
    FIRST_NAMES,
    HEADLINES,
    LAST_NAMES,
    LONGEST_TEXT,
    ODD_STRINGS,
    SENIORITIES,
    STATES,
    TIME_ZONES,
    TITLES,
    WORDS,
    apollo_ids,
    e164_numbers,
    emails,
    iso_dates,
    iso_timestamps,
    request_ids,
    urls,
    weird_strings,
)
from contract_tests.strategies.webhooks import (
    Deliveries,
    duplicated_deliveries,
    phone_webhook_payloads,
    redelivered_deliveries,
    waterfall_webhook_payloads,
    webhook_deliveries,
    webhook_payloads,
    with_person_id,
)

__all__ = [
    "AWKWARD_EMAILS",
    "AWKWARD_NAMES",
    "AWKWARD_ORGANIZATIONS",
    "AWKWARD_PARAMS",
    "BAD_REQUEST_BODIES",
    "CITIES",
    "COUNTRIES",
    "CRM_RECORDS",
    "CannedResponse",
    "DOMAINS",
    "Deliveries",
    "EMAIL_STATUSES",
    "FAILED_BULK",
    "FIRST_NAMES",
    "FORBIDDEN_MESSAGES",
    "GATEWAY_PAGE",
    "HEADLINES",
    "Json",
    "LAST_NAMES",
    "LONGEST_TEXT",
    "MAX_ARRAY",
    "ODD_STRINGS",
    "RATE_LIMIT_MESSAGE",
    "RETRY_AFTER_DATE_SECONDS",
    "RETRY_AFTER_FORMS",
    "RETRY_AFTER_SECONDS",
    "SENIORITIES",
    "SLOW_ANSWER_SECONDS",
    "STATES",
    "Style",
    "TIME_ZONES",
    "TITLES",
    "UNAUTHORIZED_TEXTS",
    "UNPROCESSABLE_BODIES",
    "WATERFALL_ACCEPTED",
    "WORDS",
    "apollo_ids",
    "bulk_details",
    "bulk_error_responses",
    "bulk_responses",
    "client_error_list",
    "client_error_responses",
    "definition",
    "duplicated_deliveries",
    "e164_numbers",
    "emails",
    "error_responses",
    "forbidden_response",
    "forbidden_responses",
    "from_schema",
    "hung_responses",
    "iso_dates",
    "iso_timestamps",
    "json_response",
    "match_params",
    "match_responses",
    "no_match_responses",
    "partial_persons",
    "partial_responses",
    "persons",
    "phone_webhook_payloads",
    "rate_limited_responses",
    "redelivered_deliveries",
    "request_ids",
    "server_error_responses",
    "slow_responses",
    "stub_persons",
    "truncated_responses",
    "unauthorized_response",
    "unauthorized_responses",
    "unprocessable_responses",
    "urls",
    "waterfall_webhook_payloads",
    "webhook_deliveries",
    "webhook_payloads",
    "webhook_urls",
    "weird_strings",
    "with_person_id",
]
