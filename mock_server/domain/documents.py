"""Names for the JSON documents that cross module boundaries, each tied to the schema that describes it.

A person, an organization, a contact, an account and a phone number travel between generation, the
directory, the service, the stores and the HTTP edge as plain JSON objects (they are encoded as they
are, and Apollo's keys are open-ended: real answers carry keys no document lists). These aliases name
which document a signature takes or gives; `SCHEMAS` says which definition in schemas/ each one must
validate against, and tests/test_documents.py checks the domain's documents of each kind do.
"""

from __future__ import annotations

from typing import Any, TypeAlias

#: A person as people/match, bulk_match and people/{id} answer it (`definitions.json#/definitions/person`).
PersonDocument: TypeAlias = dict[str, Any]
#: An organization as organizations/enrich answers it (`definitions.json#/definitions/organization`).
OrganizationDocument: TypeAlias = dict[str, Any]
#: A team's contact (`definitions.json#/definitions/contact`).
ContactDocument: TypeAlias = dict[str, Any]
#: A team's account (`definitions.json#/definitions/account`).
AccountDocument: TypeAlias = dict[str, Any]
#: A phone number as phone webhooks deliver it (`definitions.json#/definitions/enriched_phone_number`).
PhoneDocument: TypeAlias = dict[str, Any]
#: A whole answer body, described by the operation's response schema (mock_server/web/operations.py).
AnswerDocument: TypeAlias = dict[str, Any]

#: The schema definition each document kind validates against.
SCHEMAS: dict[str, str] = {
    "PersonDocument": "person",
    "OrganizationDocument": "organization",
    "ContactDocument": "contact",
    "AccountDocument": "account",
    "PhoneDocument": "enriched_phone_number",
}
