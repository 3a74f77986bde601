"""Whether a value a client reports is Apollo's: the normalisations a client is allowed."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any

from contract_tests.strategies import definition


def _at(*path: str) -> Callable[[dict[str, Any]], Any]:
    def value(person: dict[str, Any]) -> Any:
        node: Any = person
        for step in path:
            node = node.get(step) if isinstance(node, dict) else None
        return node

    return value


def _email_verified(person: dict[str, Any]) -> bool:
    return person.get("email_status") == "verified"


#: Keys a client may report that it derives from the person: what Apollo's answer implies for each
#: (a label for reports, and the value). `email_verified` and its spellings: Apollo's
#: `email_status` is exactly "verified" (any other status, null included, is not verified).
DERIVED: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    "organization_name": ("organization.name", _at("organization", "name")),
    "company_name": ("organization.name", _at("organization", "name")),
    "organization_domain": ("organization.primary_domain", _at("organization", "primary_domain")),
    "company_domain": ("organization.primary_domain", _at("organization", "primary_domain")),
    **{
        name: ('email_status == "verified"', _email_verified)
        for name in ("email_verified", "is_email_verified", "verified_email", "has_verified_email")
    },
}


def _blank(value: Any) -> bool:
    return value is None or value == [] or value == {} or (isinstance(value, str) and not value.strip())


def _text(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def _url_key(value: str) -> str:
    text = _text(value).lower().removeprefix("https://").removeprefix("http://").removeprefix("www.")
    return text.rstrip("/")


def _instant(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def as_number(value: Any) -> float | None:
    """`value` as a number when it is one or a numeric string (never a boolean); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def values_agree(key: str, expected: Any, reported: Any) -> bool:
    """Whether a value a client reports for `key` is Apollo's `expected`, up to allowed normalisation.

    Allowed: null for a blank or missing value; Unicode NFC and surrounding whitespace; letter case of
    emails and domains; http/https, `www.` and a trailing slash in URLs; an equal number written
    differently; the same instant written as another ISO-8601 timestamp. Objects agree when every key
    the client reports agrees; lists agree item by item.
    """
    if reported is None:
        return _blank(expected)
    if expected is None:
        return reported in ([], {})
    if _blank(expected):
        return _blank(reported)
    if isinstance(expected, dict):
        return isinstance(reported, dict) and all(
            values_agree(k, expected.get(k), v) for k, v in reported.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(reported, list)
            and len(reported) == len(expected)
            and all(values_agree(key, e, r) for e, r in zip(expected, reported, strict=True))
        )
    if isinstance(expected, bool) or isinstance(reported, bool):
        return expected == reported or str(expected).lower() == str(reported).lower()
    if isinstance(expected, int | float):
        return as_number(reported) == float(expected)
    if not isinstance(expected, str) or not isinstance(reported, str):
        return bool(expected == reported)
    if _text(expected) == _text(reported):
        return True
    lowered = key.lower()
    if "email" in lowered or "domain" in lowered:
        return _text(expected).lower() == _text(reported).lower()
    if lowered.endswith("_url") or lowered == "url":
        return _url_key(expected) == _url_key(reported)
    moment = _instant(expected)
    return moment is not None and moment == _instant(reported)


def _display_name(expected: dict[str, Any]) -> str | None:
    parts = [expected.get(k) for k in ("first_name", "last_name")]
    words = [_text(p) for p in parts if isinstance(p, str) and p.strip()]
    return " ".join(words) if words else None


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


def person_value_problems(
    expected: dict[str, Any], reported: dict[str, Any], where: str = "person"
) -> list[str]:
    """Every documented field the client reported that is not Apollo's value (see `values_agree`).

    Keys Apollo does not document on a person are the client's own and are not compared, except
    `DERIVED` ones (`organization_name` is `organization.name`, `email_verified` is
    `email_status == "verified"`). A display name built from first and
    last name may stand for `name`.
    """
    documented = set(definition("person")["properties"])
    problems = []
    for key, value in reported.items():
        if key == "id":
            continue
        if key in DERIVED:
            label, derive = DERIVED[key]
            want = derive(expected)
            if want is False and value is None:
                continue  # "not verified" may be reported as unknown
        elif key in documented:
            want, label = expected.get(key), key
        else:
            continue
        if values_agree(key, want, value):
            continue
        if key == "name" and isinstance(value, str) and _display_name(expected) == _text(value):
            continue
        if key in expected or key in DERIVED:
            shown = "missing" if want is None and label not in expected else _shown(want)
            problems.append(
                f"{where}.{key}: Apollo answered {label} = {shown}, the client reported {_shown(value)}"
            )
        else:
            problems.append(
                f"{where}.{key} is missing from Apollo's answer but the client reported {_shown(value)}"
            )
    return problems


__all__ = ["DERIVED", "as_number", "person_value_problems", "values_agree"]
