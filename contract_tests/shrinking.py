"""Shrinking a failing case: simpler variants that stay schema-valid, coarse moves first.

Bulk entries and request parameters dropped, broken bodies shortened, person keys dropped, values
nulled, arrays emptied and strings shortened; the runner keeps a variant while the client still fails.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from typing import Any

from contract_tests.cases import Case
from contract_tests.strategies import definition
from mock_server.domain.data import violations


def _valid(case: Case) -> bool:
    return all(
        r.schema is None or r.text is not None or not violations(r.schema, r.document) for r in case.responses
    )


def simpler(case: Case) -> Iterator[Case]:
    """Valid, simpler variants of `case`, coarse moves first.

    Fewer bulk entries, fewer parameters, shorter broken bodies, a person with only required keys;
    then one person value at a time.
    """
    yield from _fewer_bulk_entries(case)
    yield from _fewer_parameters(case)
    yield from _shorter_bodies(case)
    persons = case.person_documents()
    required = set(definition("person").get("required", []))
    for index, person in enumerate(persons):
        if set(person) - required:
            yield from _valid_variant(case, index, lambda p: {k: v for k, v in p.items() if k in required})
    for index, person in enumerate(persons):
        for path in list(_paths(person)):
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
        for response in variant.responses:
            document = response.document
            if isinstance(document, dict) and isinstance(document.get("matches"), list):
                if len(document["matches"]) != len(details):
                    break
                del document["matches"][index]
                _recount(document)
        else:
            if _valid(variant):
                yield variant


def _recount(body: dict[str, Any]) -> None:
    """Keep a bulk answer's counters true to its matches."""
    matches = body["matches"]
    hits = sum(1 for m in matches if m is not None)
    if "total_requested_enrichments" in body:
        body["total_requested_enrichments"] = len(matches)
    if "unique_enriched_records" in body:
        body["unique_enriched_records"] = min(body["unique_enriched_records"], hits)
    if "missing_records" in body:
        body["missing_records"] = len(matches) - hits


def _fewer_parameters(case: Case) -> Iterator[Case]:
    """Drop one asked-for parameter (one always stays)."""
    params = case.request.get("params")
    if not isinstance(params, dict) or len(params) < 2:
        return
    for key in list(params):
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
    return Case(case.operation, copy.deepcopy(case.request), responses, case.deliveries)


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
