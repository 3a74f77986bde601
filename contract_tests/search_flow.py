"""The search flow: People API Search followed page by page, then each person found enriched by id.

A `search_then_enrich` case asks the client to search with the given filters and `per_page`, read
every page that holds people, and enrich each person found with people/match by its id. The
emulator serves the pages in order (People API Search answers only `total_entries` and `people`,
docs/apollo-facts.md 7.2), then an empty page for any later request, and one enrichment answer per
id, one of them sometimes a miss. `total_entries` is sometimes more than the pages hold, as Apollo's
is past its display limit, so a client that counts on it alone meets an empty page and must stop
there. The client reports `{"outcome": "people", "people": [...]}`: one entry per person found, in
search order, null for a miss.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import strategies as st

from contract_tests import strategies as gen
from contract_tests.agreement import as_number, person_value_problems
from contract_tests.cases import Case, Observation, Property
from contract_tests.checks import MATCH_PATHS, SEARCH_PATHS, _expect, request_problems
from contract_tests.misses import is_miss, miss_rule
from contract_tests.priming import DEFAULT_BUDGET
from contract_tests.strategies import CannedResponse, json_response
from mock_server.domain.persons import Person
from mock_server.domain.search import thin_person

OPERATION = "search_then_enrich"
SEARCH_ROUTE = "/api/v1/mixed_people/api_search"
MATCH_ROUTE = "/api/v1/people/match"
SEARCH_SCHEMA = "mixed_people_api_search.response"
#: Filters the client is asked to search with; `&`, `+` and non-ASCII break a hand-built query.
SEARCH_TITLES = [*gen.TITLES, "R&D Director", "VP Sales + Marketing"]
#: What `total_entries` may claim beyond the people the pages hold (Apollo counts past its display
#: limit of 50,000 records, docs/apollo-facts.md 7.2).
OVERSTATED = st.integers(1, 250_000_000)


def thin_record(person: dict[str, Any]) -> dict[str, Any]:
    """The People API Search record of an enriched `person` (the emulator's own mapping)."""
    has_mobile = bool(person.get("phone_numbers"))
    return thin_person(Person(person, (), (), False, False, has_mobile))


def flow_case(
    params: dict[str, Any],
    found: list[dict[str, Any]],
    answers: list[dict[str, Any]],
    total_entries: int,
) -> Case:
    """The case for `params`: pages of `per_page` thin records of `found`, then an empty page.

    `answers[i]` is the people/match answer to `found[i]`'s id (a person, or a miss).
    """
    per_page = int(params["per_page"])
    records = [thin_record(person) for person in found]
    pages = [records[start : start + per_page] for start in range(0, len(records), per_page)] + [[]]
    served = [
        json_response({"total_entries": total_entries, "people": page}, SEARCH_SCHEMA) for page in pages
    ]
    routes: list[tuple[dict[str, Any], list[CannedResponse]]] = [({"path": SEARCH_ROUTE}, served)]
    for person, answer in zip(found, answers, strict=True):
        enrich = json_response(answer, "people_match.response")
        routes.append(({"path": MATCH_ROUTE, "params": {"id": person["id"]}}, [enrich]))
    request = {"operation": OPERATION, "params": params}
    # Every page, the empty one, each enrichment, and room for a few retries before a runaway.
    budget = len(pages) + len(found) + DEFAULT_BUDGET
    return Case(OPERATION, request, [], routes=routes, budget=budget)


def search_params(per_page: st.SearchStrategy[int]) -> st.SearchStrategy[dict[str, Any]]:
    """What a client is asked to search with: titles, company domains and a page size."""
    titles = st.lists(st.sampled_from(SEARCH_TITLES), min_size=1, max_size=2, unique=True)
    domains = st.lists(st.sampled_from(gen.DOMAINS), min_size=1, max_size=2, unique=True)
    return st.builds(
        lambda t, d, n: {"person_titles": t, "q_organization_domains_list": d, "per_page": n},
        titles,
        domains,
        per_page,
    )


@st.composite
def _flow(
    draw: st.DrawFn,
    per_page: st.SearchStrategy[int],
    full_pages: st.SearchStrategy[int],
    overstated: st.SearchStrategy[bool],
    miss: str = "any",
    short: int | None = None,
) -> Case:
    """A flow: `full_pages` full pages, then a short page of `short` people, and a miss.

    `short` is drawn when None (0: no short page); `miss` is `last`, `none`, or `any` (one or none).
    """
    params = draw(search_params(per_page))
    size = params["per_page"]
    count = draw(full_pages) * size + (draw(st.integers(0, size - 1)) if short is None else short)
    found = draw(_people(count))
    answers: list[dict[str, Any]] = [{"person": p, "request_id": draw(gen.request_ids())} for p in found]
    if found and miss != "none":
        where = len(found) - 1 if miss == "last" else draw(st.integers(0, len(found) - 1))
        if miss == "last" or draw(st.booleans()):
            answers[where] = draw(gen.no_match_responses())
    total = count + (draw(OVERSTATED) if draw(overstated) else 0)
    return flow_case(params, found, answers, total)


def _people(count: int) -> st.SearchStrategy[list[dict[str, Any]]]:
    """`count` persons with distinct ids and names around one drawn person (large persons are slow)."""

    def place(person: dict[str, Any], ids: list[str], names: list[tuple[str, str]]) -> list[dict[str, Any]]:
        return [
            {**person, "id": ids[index], "first_name": first, "last_name": last, "name": f"{first} {last}"}
            for index, (first, last) in enumerate(names)
        ]

    names = st.tuples(st.sampled_from(gen.FIRST_NAMES), st.sampled_from(gen.LAST_NAMES))
    return st.builds(
        place,
        gen.persons("complete"),
        st.lists(gen.apollo_ids(), min_size=count, max_size=count, unique=True),
        st.lists(names, min_size=count, max_size=count),
    )


def flow_cases() -> st.SearchStrategy[Case]:
    """Random flows: 1 to 3 a page, up to 2 full pages and a short one, total_entries exact or more."""
    return _flow(st.integers(1, 3), st.integers(0, 2), st.booleans())


def flow_extremes() -> list[st.SearchStrategy[Case]]:
    """The fixed flows tried first.

    Two full pages then an empty one under an overstated total, the last person a miss; nobody
    found; a short last page with an exact total.
    """
    return [
        _flow(st.just(2), st.just(2), st.just(True), miss="last", short=0),
        _flow(st.just(3), st.just(0), st.just(False), miss="none", short=0),
        _flow(st.just(3), st.just(1), st.just(False), short=1),
    ]


# --------------------------------------------------------------------------- the check


def _pages(case: Case) -> list[list[dict[str, Any]]]:
    """The pages served, in order (the last one empty)."""
    search = next(answers for where, answers in case.routes if where.get("path") == SEARCH_ROUTE)
    return [list(answer.document["people"]) for answer in search]


def _found(case: Case) -> list[dict[str, Any]]:
    return [record for page in _pages(case) for record in page]


def _enrichments(case: Case) -> dict[str, Any]:
    """The people/match answer to each id, by id."""
    return {
        str(where["params"]["id"]): answers[-1].document
        for where, answers in case.routes
        if where.get("path") == MATCH_ROUTE
    }


def _normalized(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as sent, `name[]` read as `name`."""
    return {(key[:-2] if key.endswith("[]") else key): value for key, value in params.items()}


def _same(asked: Any, sent: Any) -> bool:
    """A filter arrived as asked: a list item by item (one value may travel alone), a number as text."""
    if isinstance(asked, list):
        values = sent if isinstance(sent, list) else [sent]
        return [str(v) for v in values] == [str(a) for a in asked]
    if isinstance(asked, int):
        return as_number(sent) == float(asked)
    return bool(asked == sent)


def _search_problems(case: Case, searches: list[Any], api_key: str) -> list[str]:
    """Pages asked in turn, filters as asked; every page with people read; no more after an empty one."""
    asked = case.request["params"]
    problems = []
    for number, exchange in enumerate(searches, 1):
        problems += request_problems(exchange, api_key)
        where = f"search request {number} ({exchange.method} {exchange.path})"
        sent = _normalized(exchange.params)
        page = sent.pop("page", 1 if number == 1 else None)
        if as_number(page) != number:
            problems.append(f"{where} asked for page {page!r}: ask for page 1, then 2, 3, ... in turn")
        for key, value in asked.items():
            if not _same(value, sent.get(key)):
                problems.append(f"{where}: asked for {key}={value!r}, the server received {sent.get(key)!r}")
        extra = sorted(set(sent) - set(asked))
        if extra:
            problems.append(f"{where}: the server received parameters nobody asked for: {extra}")
    pages = _pages(case)
    holding = sum(1 for page in pages if page)
    if not searches:
        problems.append("the client never called People API Search (POST mixed_people/api_search)")
    elif len(searches) < holding:
        problems.append(
            f"the client read {len(searches)} of the {holding} pages that hold people: follow the pages "
            "(page=2, 3, ...) until one comes back empty or short, or total_entries people are read"
        )
    elif len(searches) > holding + 1:
        problems.append(
            f"page {holding + 1} came back empty and the client asked for {len(searches) - holding - 1} "
            f"more page(s) (total_entries: {case.routes[0][1][0].document['total_entries']}): stop at an "
            "empty page, total_entries counts more people than a search shows"
        )
    return problems


def _enrichment_problems(case: Case, enrichments: list[Any], api_key: str) -> list[str]:
    """Each person found enriched once, by its id; nobody else."""
    ids = [str(record["id"]) for record in _found(case)]
    problems = []
    counts: Counter[str] = Counter()
    for exchange in enrichments:
        problems += request_problems(exchange, api_key)
        enriched = exchange.params.get("id")
        counts[str(enriched)] += 1
        if str(enriched) not in ids:
            problems.append(
                f"{exchange.method} {exchange.path}: enriched id {enriched!r}, not one the search returned "
                f"({exchange.describe()[:160]}): enrich each person found by its id"
            )
    for index, person_id in enumerate(ids):
        if counts[person_id] == 0:
            problems.append(f"person {index + 1} found ({person_id}) was never enriched by its id")
        elif counts[person_id] > 1:
            problems.append(
                f"person {index + 1} found ({person_id}) was enriched {counts[person_id]} times: once is "
                "enough (each enrichment costs a credit)"
            )
    return problems


def _reported_problems(case: Case, obs: Observation) -> list[str]:
    """One entry per person found, in search order: Apollo's person with its values, null for a miss."""
    found = _found(case)
    answers = _enrichments(case)
    reported = (obs.outcome or {}).get("people")
    if not isinstance(reported, list):
        return [f'expected "people": a list, the client reported {str(obs.outcome)[:200]}']
    if len(reported) != len(found):
        holding = sum(1 for page in _pages(case) if page)
        return [
            f"the search found {len(found)} people on {holding} page(s), the client reported "
            f"{len(reported)}: one entry per person found, in search order, null for a miss"
        ]
    problems = []
    for index, (record, got) in enumerate(zip(found, reported, strict=True)):
        person = answers[str(record["id"])].get("person")
        where = f"people[{index}]"
        if is_miss(person):
            if got is not None:
                rule = miss_rule(person)
                why = '{"person": null}' if rule is None else rule.name
                problems.append(
                    f"{where}: enriching {record['id']} was a miss ({why}), the client reported {got}"
                )
        elif not isinstance(got, dict):
            problems.append(f"{where}: Apollo enriched {record['id']}, the client reported {got!r}")
        elif got.get("id") != person.get("id"):
            problems.append(
                f"{where}: Apollo enriched {person.get('id')!r}, the client reported id {got.get('id')!r}"
            )
        else:
            problems += person_value_problems(person, got, where)
    return problems


def check_search_then_enrich(case: Case, obs: Observation) -> list[str]:
    """`search_then_enrich`: pages followed to the empty one, each found enriched once, reported in order."""
    problems = _expect(obs, "people")
    if obs.runaway or obs.stopped_at_limit:
        return problems
    searches = [e for e in obs.exchanges if e.path in SEARCH_PATHS]
    enrichments = [e for e in obs.exchanges if e.path in MATCH_PATHS]
    problems += [
        f"{e.method} {e.path}: the job needs only People API Search and people/match by id"
        for e in obs.exchanges
        if e.path not in SEARCH_PATHS and e.path not in MATCH_PATHS
    ]
    problems += _search_problems(case, searches, obs.api_key)
    problems += _enrichment_problems(case, enrichments, obs.api_key)
    if not _expect(obs, "people"):
        problems += _reported_problems(case, obs)
    return problems


SEARCH_THEN_ENRICH = Property(
    OPERATION,
    "People API Search then enrichment: the client follows the pages (page=2, 3, ...) until one comes "
    "back empty or short or total_entries people are read, never past an empty page; enriches each "
    "person found once with people/match by its id; reports them in search order, null for a miss, "
    "Apollo's values for a match.",
    flow_cases,
    check_search_then_enrich,
    needs="search",
    extremes=flow_extremes,
)


__all__ = [
    "OPERATION",
    "SEARCH_THEN_ENRICH",
    "check_search_then_enrich",
    "flow_case",
    "flow_cases",
    "flow_extremes",
    "search_params",
    "thin_record",
]
