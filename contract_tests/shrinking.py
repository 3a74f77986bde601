"""Shrinking a failing case: simpler variants that stay schema-valid, coarse moves first.

Bulk entries and request parameters dropped, broken bodies shortened, person keys dropped, values
nulled, arrays emptied and strings shortened; the runner keeps a variant while the client still fails.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from typing import Any

from contract_tests.cases import Case, bulk_case, recounted
from contract_tests.misses import deciding_keys
from contract_tests.strategies import definition
from mock_server.domain.data import violations


def _valid(case: Case) -> bool:
    return all(
        r.schema is None or r.text is not None or not violations(r.schema, r.document) for r in case.responses
    )


def simpler(case: Case) -> Iterator[Case]:
    """Valid, simpler variants of `case`, coarse moves first.

    Fewer bulk entries, fewer parameters, shorter broken bodies, a person with only required keys;
    then one person value at a time. The keys that decide a person is a miss (`misses.MISS_RULES`)
    are never touched, so the minimal case still justifies its verdict; the status and headers of
    an answer are never changed either.
    """
    for candidate in _candidates(case):
        yield _variants_redone(candidate)


def _variants_redone(case: Case) -> Case:
    """A bulk case whose answer to the request asked once follows its shrunk answer."""
    if not case.variants or "details" not in case.request or len(case.responses) != 1:
        return case
    return bulk_case(case.request["details"], case.responses[0])


def _candidates(case: Case) -> Iterator[Case]:
    yield from _fewer_bulk_entries(case)
    yield from _fewer_parameters(case)
    yield from _shorter_bodies(case)
    persons = case.person_documents()
    required = set(definition("person").get("required", []))
    for index, person in enumerate(persons):
        kept = required | deciding_keys(person)
        if set(person) - kept:
            yield from _valid_variant(
                case, index, lambda p, kept=kept: {k: v for k, v in p.items() if k in kept}
            )
    for index, person in enumerate(persons):
        deciding = deciding_keys(person)
        for path in [path for path in _paths(person) if path[0] not in deciding]:
            for change in _changes(_get(person, path)):
                yield from _valid_variant(
                    case, index, lambda p, path=path, change=change: _apply(p, path, change)
                )


def _fewer_bulk_entries(case: Case) -> Iterator[Case]:
    """Drop one person from a bulk request and the answer's match in the same position."""
    details = case.request.get("details")
    if not isinstance(details, list) or len(details) < 2:
        return
    for index in reversed(range(len(details))):
        variant = _copy_case(case)
        del variant.request["details"][index]
        for number, response in enumerate(variant.responses):
            document = response.document
            if isinstance(document, dict) and isinstance(document.get("matches"), list):
                if len(document["matches"]) != len(details):
                    break
                matches = document["matches"]
                fewer = recounted(document, matches[:index] + matches[index + 1 :])
                variant.responses[number] = dataclasses.replace(response, document=fewer)
        else:
            if _valid(variant):
                yield variant


#: Parameters never dropped: a search case's pages are cut to its `per_page`.
KEPT_PARAMS = frozenset({"per_page"})


def _fewer_parameters(case: Case) -> Iterator[Case]:
    """Drop one asked-for parameter (one always stays)."""
    params = case.request.get("params")
    if not isinstance(params, dict) or len(params) < 2:
        return
    for key in [key for key in params if key not in KEPT_PARAMS]:
        variant = _copy_case(case)
        del variant.request["params"][key]
        yield variant


def _shorter_bodies(case: Case) -> Iterator[Case]:
    """Cut a broken (text) body to half its length."""
    for index, response in enumerate(case.responses):
        if response.text is not None and len(response.text) > 1 and response.schema is None:
            variant = _copy_case(case)
            text = response.text[: len(response.text) // 2]
            variant.responses[index] = dataclasses.replace(variant.responses[index], text=text)
            yield variant


def _valid_variant(case: Case, index: int, edit: Any) -> Iterator[Case]:
    variant = _copy_case(case)
    target = variant.person_documents()[index]
    replacement = edit(copy.deepcopy(target))
    if replacement == target:
        return
    target.clear()
    target.update(replacement)
    if _valid(variant):
        yield variant


def _copy_case(case: Case) -> Case:
    responses = [dataclasses.replace(r, document=copy.deepcopy(r.document)) for r in case.responses]
    return dataclasses.replace(case, request=copy.deepcopy(case.request), responses=responses)


_DELETE = object()


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths to every value inside `node`, parents before children, `id` last."""
    if isinstance(node, dict):
        for key in sorted(node, key=lambda k: k == "id"):
            yield (*prefix, key)
            yield from _paths(node[key], (*prefix, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _paths(item, (*prefix, index))


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        node = node[step]
    return node


def _changes(value: Any) -> list[Any]:
    """Simpler replacements for one value, simplest first."""
    options: list[Any] = [_DELETE]
    if value is not None:
        options.append(None)
    if isinstance(value, list) and value:
        options.append([])
    if isinstance(value, dict) and value:
        options.append({})
    if isinstance(value, str) and value:
        options += ["", value[:20]] if len(value) > 20 else [""]
    return options


def _apply(person: dict[str, Any], path: tuple[Any, ...], change: Any) -> dict[str, Any]:
    parent = _get(person, path[:-1])
    last = path[-1]
    if change is _DELETE:
        if isinstance(parent, dict):
            del parent[last]
        else:
            del parent[last]
    else:
        parent[last] = change
    return person


__all__ = ["simpler"]
