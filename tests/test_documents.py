"""Document classes list exactly their schema definition's properties, and the domain's documents fit it."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin, get_type_hints, is_typeddict

import pytest

from mock_server.domain import data, documents
from mock_server.domain.crm import account_record, contact_record
from mock_server.domain.directory import PersonDirectory
from mock_server.domain.generation.organizations import generate_organization, nested_organization
from mock_server.domain.generation.team import organization_team_keys, team_keys
from mock_server.domain.matching import Identity
from mock_server.domain.persons import render

EMAILS = [f"person{index}@company{index % 7}.example" for index in range(40)]
DEFINITIONS: dict[str, Any] = data.load_schema("definitions")["definitions"]
#: The definition each document class stands for, by class.
DEFINITION_OF = {getattr(documents, name): definition for name, definition in documents.SCHEMAS.items()}
_PYTHON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}


def _hint_shape(hint: Any) -> frozenset[Any]:
    """What a type hint admits, in JSON Schema's words: `str | None` is {"string", "null"}."""
    if get_origin(hint) in (Union, types.UnionType):
        return frozenset().union(*(_hint_shape(arg) for arg in get_args(hint)))
    if is_typeddict(hint):
        return frozenset({f"document:{DEFINITION_OF[hint]}"})
    if get_origin(hint) is list:
        (item,) = get_args(hint)
        return frozenset({("array", _hint_shape(item))})
    if hint is dict or get_origin(hint) is dict:
        return frozenset({"object"})
    if hint is object:
        return frozenset({"any"})
    return frozenset({_PYTHON_TYPES[hint]})


def _schema_shape(schema: dict[str, Any]) -> frozenset[Any]:
    """What a schema admits, in the same words (a `$ref` to a definition with a class: that document)."""
    if "$ref" in schema:
        name = schema["$ref"].rpartition("/")[2]
        if name in DEFINITION_OF.values():
            return frozenset({f"document:{name}"})
        return _schema_shape(DEFINITIONS[name])
    if "anyOf" in schema:
        return frozenset().union(*(_schema_shape(option) for option in schema["anyOf"]))
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    shape: set[Any] = set()
    for kind in kinds:
        if kind == "array":
            items = schema.get("items")
            shape.add(("array", _schema_shape(items) if items is not None else frozenset({"any"})))
        else:
            shape.add(kind)
    return frozenset(shape)


def _people() -> list[Any]:
    """Generated persons of one directory (fixtures left out), found by email."""
    directory = PersonDirectory(5, [])
    found = [directory.find(Identity("email", email)) for email in EMAILS]
    return [person for person in found if person is not None]


def test_every_document_class_names_a_schema_definition() -> None:
    classes = {name for name, value in vars(documents).items() if is_typeddict(value)}
    assert classes == set(documents.SCHEMAS) | {"TeamKeys", "AccountKeys"}
    assert set(documents.SCHEMAS.values()) <= set(data.definition_names())


@pytest.mark.parametrize(("name", "definition"), sorted(documents.SCHEMAS.items()))
def test_a_document_class_lists_exactly_its_definitions_properties(name: str, definition: str) -> None:
    document = getattr(documents, name)
    schema = DEFINITIONS[definition]
    required = set(schema.get("required", ()))
    assert set(document.__required_keys__) == required, "required keys"
    assert set(document.__optional_keys__) == set(schema["properties"]) - required, "optional keys"
    hints = get_type_hints(document)
    for key, property_schema in schema["properties"].items():
        assert _hint_shape(hints[key]) == _schema_shape(property_schema), key


@pytest.mark.parametrize(
    ("keys", "document"),
    [(documents.TeamKeys, documents.PersonDocument), (documents.AccountKeys, documents.OrganizationDocument)],
)
def test_a_teams_keys_are_keys_of_the_document_they_are_set_on(keys: Any, document: Any) -> None:
    assert not keys.__required_keys__
    hints, document_hints = get_type_hints(keys), get_type_hints(document)
    assert {key: document_hints[key] for key in hints} == hints
    assert set(hints) <= document.__optional_keys__


def test_the_drift_check_sees_a_key_type_or_nullability_apart() -> None:
    schema = DEFINITIONS["primary_phone"]["properties"]
    assert _hint_shape(str | None) == _schema_shape(schema["number"])
    assert _hint_shape(str) != _schema_shape(schema["number"])
    assert _hint_shape(int | None) != _schema_shape(schema["number"])
    person = DEFINITIONS["person"]["properties"]
    assert _hint_shape(list[documents.EmploymentDocument]) == _schema_shape(person["employment_history"])
    assert _hint_shape(list[dict[str, Any]]) != _schema_shape(person["employment_history"])
    assert _hint_shape(documents.OrganizationDocument | None) == _schema_shape(person["organization"])
    assert _hint_shape(documents.AccountDocument | None) != _schema_shape(person["organization"])


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


def test_created_contacts_and_accounts_are_contact_and_account_documents() -> None:
    person = render(_people()[0], reveal_personal_emails=False)
    stamp = "2026-05-18T11:19:11.032Z"
    fields = {
        "first_name": "Ada",
        "email": "ada@example.com",
        "label_names": ["vip"],
        "phone": "415 555 0100",
    }
    for found in (person, None):
        data.validate(
            documents.SCHEMAS["ContactDocument"], contact_record("0" * 24, "team-a", fields, found, stamp)
        )
    organization = generate_organization(5, "apollo.io", set())
    for known in (organization, None):
        account = account_record(
            "1" * 24, "team-a", {"name": "Apollo", "phone": "415 555 0100"}, known, stamp
        )
        data.validate(documents.SCHEMAS["AccountDocument"], account)
