"""The README's and docs/'s examples run as written, and their claims hold."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mock_server.pytest_plugin import FakeApollo
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
#: The user's guide and its reference pages, each with its text.
PAGES = {ROOT / "README.md": README} | {
    page: page.read_text(encoding="utf-8") for page in sorted((ROOT / "docs").glob("*.md"))
}
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
BLOCKS = [block for text in PAGES.values() for block in FENCE.findall(text)]
README_URL = "http://127.0.0.1:8765"


def _blocks(language: str, *needles: str) -> list[str]:
    return [code for lang, code in BLOCKS if lang == language and all(n in code for n in needles)]


@pytest.mark.parametrize("page", sorted(PAGES), ids=lambda page: page.name)
def test_pages_link_nowhere_users_do_not_have(page: Path) -> None:
    text = PAGES[page]
    assert "../shared" not in text
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if not target.startswith(("http://", "https://")):
            assert (page.parent / target).exists(), target


def test_readme_is_a_short_guide_linking_every_reference_page() -> None:
    assert len(README.splitlines()) <= 600
    for page in PAGES:
        if page.parent.name == "docs" and page.name != "apollo-facts.md":
            assert f"(docs/{page.name}" in README, page.name


def _run_curl(block: str, url: str) -> Any:
    result = subprocess.run(
        ["bash", "-e", "-c", block.replace(README_URL, url)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _curl_blocks(path: str) -> list[str]:
    """The README's shell examples that are curl calls alone (not those that first start a stack)."""
    return [code for code in _blocks("sh", README_URL + path) if code.startswith("curl ")]


@pytest.mark.slow
@pytest.mark.parametrize("block", _curl_blocks("/__admin/scenarios"))
def test_readme_scenario_examples_are_queued_as_written(fakeapollo: FakeApollo, block: str) -> None:
    document = json.loads(re.search(r"-d '(.*)'", block, re.S).group(1))  # type: ignore[union-attr]
    answer = _run_curl(block, fakeapollo.url)
    assert answer["outcome"] == document["outcome"]
    assert (answer["times"], answer["after"]) == (document.get("times"), document.get("after", 0))
    assert [s.id for s in fakeapollo.service.store.scenarios.list()] == [answer["id"]]


@pytest.mark.slow
@pytest.mark.parametrize("block", _curl_blocks("/api/v1/people/match"))
def test_readme_curl_match_examples_find_the_person_they_name(fakeapollo: FakeApollo, block: str) -> None:
    email = re.search(r'"email": "([^"]+)"', block).group(1)  # type: ignore[union-attr]
    person = _run_curl(block, fakeapollo.url)["person"]
    assert person["email"] == email
    if email == "tim@apollo.io":
        assert person["name"] == "Tim Zheng"


def test_readme_requests_example_finds_the_person(fakeapollo: FakeApollo) -> None:
    (block,) = _blocks("python", "requests.post", README_URL)
    namespace: dict[str, Any] = {}
    exec(compile(block.replace(README_URL, fakeapollo.url), "README.md", "exec"), namespace)
    assert namespace["person"]["email"] == "ada@example.com"
    assert isinstance(namespace["person"]["personal_emails"], list)


@pytest.mark.slow
def test_readme_pytest_examples_pass_in_a_fresh_project(pytester: pytest.Pytester) -> None:
    (first_test,) = _blocks("python", "def test_my_client_reads_a_match(fakeapollo)")
    (conftest,) = _blocks("python", "# conftest.py", "def fakeapollo_options")
    pytester.makeconftest(conftest)
    pytester.makepyfile(
        test_readme_example=first_test,
        test_options="""
        def test_the_options_reached_the_emulator(fakeapollo):
            assert fakeapollo.service.config.seed == 7
            assert fakeapollo.admin_token == "local-secret"
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_reveal_personal_emails_is_as_the_readme_says(fakeapollo: FakeApollo) -> None:
    client = fakeapollo.client()

    def person(email: str, reveal: bool) -> dict[str, Any]:
        body = {"email": email, "reveal_personal_emails": reveal}
        found: dict[str, Any] = client.post("/api/v1/people/match", json=body).json()["person"]
        return found

    # The thin person of an unknown email (10% of never-seen emails) keeps its recorded keys only.
    revealed = [p for p in (person(f"reader{i}@example.com", True) for i in range(300)) if p["name"]]
    assert len(revealed) >= 240 and all(isinstance(p["personal_emails"], list) for p in revealed)
    share = sum(1 for p in revealed if p["personal_emails"]) / len(revealed)
    assert 0.25 <= share <= 0.42, share  # "about a third of generated persons"
    assert "personal_emails" not in person(revealed[0]["email"], False)
    assert all(person(f"reader{i}@eu.test", True)["personal_emails"] == [] for i in range(20))


def test_no_file_cites_a_path_outside_the_repository_or_an_issue_number() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "mock_server", "contract_tests", "bench", "examples", "docs", "tests", "*.md"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout.split()
    outside = re.compile(r"shared/apollo|\.\./shared|\bissue [0-9]")
    cited = [
        name
        for name in tracked
        if name.endswith((".py", ".md", ".sh", ".json"))
        and not name.startswith(("tests/data/", ".wip/"))  # recorded data; a session's hand-off note
        and name != "tests/test_readme.py"  # this test spells the patterns out
        and outside.search((ROOT / name).read_text(encoding="utf-8", errors="replace"))
    ]
    assert cited == [], cited
