"""The inspector page in a real headless Chromium: requests appear live, the form queues scenarios.

Needs Debian's chromium and chromium-driver (`make test` and .ci/run install them as root); where
they are missing the test is skipped with a loud reason, and in CI it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from mock_server.config import Config
from mock_server.domain.journal import mask_secret
from mock_server.pytest_plugin import LiveServer, start_live_server
from mock_server.web.app import create_app
from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
BROWSER_MISSING = not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK))
MISSING_REASON = (
    "BROWSER TEST SKIPPED: Debian's chromium and chromium-driver are not installed "
    "(apt-get install chromium chromium-driver, or run `make test` as root)"
)
TOKEN = "inspector-token"
MASKED = mask_secret("test-key")
WAIT_SECONDS = 15

pytestmark = pytest.mark.slow


@pytest.fixture
def server() -> Iterator[LiveServer]:
    """A live emulator guarded by an admin token, webhooks due at once."""
    live = start_live_server(create_app(Config(admin_token=TOKEN, webhook_delay="0")))
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium through chromium-driver, with a fresh profile and no background traffic.

    One browser serves the module; each test's server has its own port, so its own origin and storage.
    """
    if BROWSER_MISSING:
        if os.environ.get("CI"):
            pytest.fail(MISSING_REASON + "; .ci/run should have installed them")
        pytest.skip(MISSING_REASON)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1500,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: Any, condition: Callable[[], Any], what: str) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(
        driver, WAIT_SECONDS, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException]
    )
    return wait.until(lambda _driver: condition(), message=f"the page never showed {what}")


def _rows(driver: Any) -> list[list[str]]:
    """The journal table's cells, read in one go (the page redraws it when the journal changes)."""
    rows: list[list[str]] = driver.execute_script(
        "return [...document.querySelectorAll('#journal tbody tr')]"
        ".map(tr => [...tr.cells].map(td => td.textContent))"
    )
    return rows


def _match(server: LiveServer, email: str) -> requests.Response:
    return requests.post(
        server.url + "/api/v1/people/match",
        json={"email": email},
        headers={"x-api-key": "test-key"},
        timeout=10,
    )


def _log_in(driver: Any, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By

    driver.get(server.url + "/__admin/ui/")
    login = driver.find_element(By.ID, "login")
    _wait(driver, login.is_displayed, "the admin-token field")
    driver.find_element(By.ID, "token").send_keys(TOKEN)
    login.find_element(By.TAG_NAME, "button").click()
    _wait(driver, lambda: driver.find_element(By.ID, "status").text == "live", "the live status")
    assert driver.execute_script("return sessionStorage.getItem('fakeapollo-admin-token')") == TOKEN


def test_requests_appear_live_newest_first_with_masked_keys(server: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    _log_in(browser, server)
    assert _match(server, "tim@apollo.io").json()["person"]["name"] == "Tim Zheng"
    assert _match(server, "someone@nomatch.test").json() == {"person": None}

    rows = _wait(browser, lambda: (found := _rows(browser)) and len(found) == 2 and found, "two requests")
    # time, method, path, key, status, outcome, credits, ms
    assert [row[1:7] for row in rows] == [
        ["POST", "/api/v1/people/match", MASKED, "200", "no_match", "0"],
        ["POST", "/api/v1/people/match", MASKED, "200", "match", "1"],
    ]
    assert "test-key" not in browser.find_element(By.ID, "journal").text

    browser.find_elements(By.CSS_SELECTOR, "#journal tbody tr")[1].click()
    detail = browser.find_element(By.ID, "detail-request")
    _wait(browser, detail.is_displayed, "the request's details")
    assert '"email": "tim@apollo.io"' in detail.text
    assert '"name": "Tim Zheng"' in browser.find_element(By.ID, "detail-response").text


def test_a_scenario_queued_from_the_form_shapes_the_next_request(server: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _log_in(browser, server)
    _wait(
        browser, lambda: len(Select(browser.find_element(By.ID, "scenario-outcome")).options) > 10, "outcomes"
    )
    Select(browser.find_element(By.ID, "scenario-outcome")).select_by_value("rate_limited")
    browser.find_element(By.ID, "scenario-email").send_keys("ada@example.com")
    browser.find_element(By.ID, "scenario-times").send_keys("1")
    browser.find_element(By.CSS_SELECTOR, "#scenario-form button[type=submit]").click()
    _wait(browser, lambda: "rate_limited" in browser.find_element(By.ID, "scenarios").text, "the scenario")

    assert _match(server, "grace@example.com").status_code == 200  # not the scenario's email
    limited = _match(server, "ada@example.com")
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers
    assert _match(server, "ada@example.com").status_code == 200  # times: 1

    rows = _wait(browser, lambda: (found := _rows(browser)) and len(found) == 3 and found, "three requests")
    assert [(row[4], row[5]) for row in rows] == [("200", "match"), ("429", "rate_limited"), ("200", "match")]
    _wait(
        browser,
        lambda: "none queued" in browser.find_element(By.ID, "scenarios").text,
        "the used-up scenario gone",
    )

    # A second scenario, deleted from the page before it is used.
    Select(browser.find_element(By.ID, "scenario-outcome")).select_by_value("server_error")
    browser.find_element(By.CSS_SELECTOR, "#scenario-form button[type=submit]").click()
    _wait(
        browser,
        lambda: "server_error" in browser.find_element(By.ID, "scenarios").text,
        "the second scenario",
    )
    browser.find_element(By.CSS_SELECTOR, "#scenarios li.scenario button").click()
    _wait(browser, lambda: "none queued" in browser.find_element(By.ID, "scenarios").text, "the deletion")
    assert _match(server, "ada@example.com").status_code == 200


def test_clock_webhooks_usage_and_keys(server: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    _log_in(browser, server)
    browser.find_element(By.ID, "freeze").click()
    _wait(browser, lambda: browser.find_element(By.ID, "clock-frozen").text == "frozen", "a frozen clock")
    before = browser.find_element(By.ID, "clock-now").text
    seconds = browser.find_element(By.ID, "advance-seconds")
    seconds.clear()
    seconds.send_keys("3600")
    browser.find_element(By.CSS_SELECTOR, "#advance button").click()
    _wait(browser, lambda: browser.find_element(By.ID, "clock-now").text != before, "the advanced clock")
    clock = requests.get(
        server.url + "/__admin/clock", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )
    assert clock.json()["now"] == browser.find_element(By.ID, "clock-now").text

    # A webhook to a closed loopback port: the delivery and its refused attempt show up.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    reveal = requests.post(
        server.url + "/api/v1/people/match",
        json={
            "email": "ada@example.com",
            "reveal_phone_number": True,
            "webhook_url": f"http://127.0.0.1:{closed}/h",
        },
        headers={"x-api-key": "test-key"},
        timeout=10,
    )
    assert reveal.status_code == 200
    browser.find_element(By.ID, "flush").click()
    webhooks = browser.find_element(By.ID, "webhooks")
    _wait(browser, lambda: f"127.0.0.1:{closed}/h" in webhooks.text and " in " in webhooks.text, "an attempt")
    assert f"#{reveal.json()['request_id']}" in webhooks.text

    usage = browser.find_element(By.ID, "usage").text
    assert "team-test" in usage and MASKED in usage
    keys = browser.find_element(By.ID, "keys").text
    assert "free-plan-key" not in keys and "professional" in keys

    shot = os.environ.get("FAKEAPOLLO_SCREENSHOT")
    if shot:
        for email in ("tim@apollo.io", "someone@nomatch.test", "grace@example.com"):
            _match(server, email)
        _wait(browser, lambda: len(_rows(browser)) == 4, "the requests for the screenshot")
        browser.find_elements(By.CSS_SELECTOR, "#journal tbody tr")[0].click()
        browser.save_screenshot(str(ROOT / shot))


def test_the_page_asks_for_the_token_and_refuses_a_wrong_one(server: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server.url + "/__admin/ui/")
    login = browser.find_element(By.ID, "login")
    _wait(browser, login.is_displayed, "the admin-token field")
    browser.find_element(By.ID, "token").send_keys("wrong")
    login.find_element(By.TAG_NAME, "button").click()
    _wait(browser, lambda: "admin token" in browser.find_element(By.ID, "status").text, "the refusal")
    assert _rows(browser) == []
