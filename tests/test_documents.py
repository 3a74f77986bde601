"""The document kinds that cross modules each name a schema definition, and the domain's documents fit it."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.domain import data, documents
from mock_server.domain.directory import PersonDirectory
from mock_server.domain.generation.organizations import generate_organization, nested_organization
from mock_server.domain.generation.team import organization_team_keys, team_keys
from mock_server.domain.matching import Identity
from mock_server.domain.persons import render

EMAILS = [f"person{index}@company{index % 7}.example" for index in range(40)]


def _people() -> list[Any]:
    """Generated persons of one directory (fixtures left out), found by email."""
    directory = PersonDirectory(5, [])
    found = [directory.find(Identity("email", email)) for email in EMAILS]
    return [person for person in found if person is not None]


def test_every_document_kind_names_a_schema_definition() -> None:
    kinds = {name for name in vars(documents) if name.endswith("Document") and name != "AnswerDocument"}
    assert kinds == set(documents.SCHEMAS)
    assert set(documents.SCHEMAS.values()) <= set(data.definition_names())


def test_rendered_persons_and_their_phones_are_person_and_phone_documents() -> None:
    people = _people()
    assert len(people) > 30
    for person in people:
        for revealed in (False, True):
            rendered = render(person, reveal_personal_emails=revealed)
            data.validate(documents.SCHEMAS["PersonDocument"], rendered)
        for phone in person.phone_numbers:
            data.validate(documents.SCHEMAS["PhoneDocument"], phone)


@pytest.mark.parametrize("domain", ["apollo.io", "acme-widgets.example", "zoë.example"])
def test_generated_and_nested_organizations_are_organization_documents(domain: str) -> None:
    organization = generate_organization(5, domain, set())
    data.validate(documents.SCHEMAS["OrganizationDocument"], organization)
    nested = nested_organization(organization)
    assert nested["id"] == organization["id"]


def test_a_teams_contact_and_account_are_contact_and_account_documents() -> None:
    checked = 0
    for person in _people():
        for key, value in team_keys(5, "team-a", person).items():
            if key == "contact":
                data.validate(documents.SCHEMAS["ContactDocument"], value)
                checked += 1
            elif key == "account":
                data.validate(documents.SCHEMAS["AccountDocument"], value)
                checked += 1
    organization = generate_organization(5, "apollo.io", set())
    for key, value in organization_team_keys(5, "team-a", organization).items():
        if key == "account":
            data.validate(documents.SCHEMAS["AccountDocument"], value)
    assert checked > 0
