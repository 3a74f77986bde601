"""The inspector page in a real headless Chromium: live requests, scenarios, layout, hostile values.

Requests appear live, the form queues scenarios, the layout holds at 1280×800 (with a screenshot in
the test's output) and every hostile value stays text.

Needs Debian's chromium and chromium-driver (`make test` and .ci/run install them as root); where
they are missing the test is skipped with a loud reason, and in CI it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
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
MAX_BODY = 4096
VIEWPORT = (1280, 800)

pytestmark = pytest.mark.slow


@pytest.fixture
def server() -> Iterator[LiveServer]:
    """A live emulator guarded by an admin token, webhooks due at once, bodies up to 4 KiB."""
    live = start_live_server(
        create_app(Config(admin_token=TOKEN, webhook_delay="0", max_body_bytes=MAX_BODY))
    )
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


def _rows(driver: Any) -> list[dict[str, str]]:
    """The journal table's cells by column name, read in one go (the page redraws it as the journal changes).

    The key cell is read in parts too: `mask`, `fingerprint`, and `unknown` ("unknown" or "").
    """
    rows: list[dict[str, str]] = driver.execute_script(
        """
        const names = [...document.querySelectorAll('#journal thead th')].map(th => th.textContent);
        const text = (node) => node ? node.textContent : '';
        return [...document.querySelectorAll('#journal tbody tr')].map(tr => {
          const row = Object.fromEntries([...tr.cells].map((td, i) => [names[i], td.textContent]));
          const key = tr.querySelector('td.key');
          row.mask = text(key.querySelector('.mask'));
          row.fingerprint = text(key.querySelector('.fingerprint'));
          row.unknown = text(key.querySelector('.unknown'));
          return row;
        });
        """
    )
    return rows


def _match(server: LiveServer, email: str, key: str = "test-key") -> requests.Response:
    return requests.post(
        server.url + "/api/v1/people/match",
        json={"email": email},
        headers={"x-api-key": key},
        timeout=10,
    )


def _admin(server: LiveServer, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method,
        server.url + "/__admin" + path,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
        **kwargs,
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
    columns = ("method", "path", "input", "mask", "status", "outcome", "credits")
    assert [tuple(row[c] for c in columns) for row in rows] == [
        ("POST", "/api/v1/people/match", "email=someone@nomatch.test", MASKED, "200", "no_match", "0"),
        ("POST", "/api/v1/people/match", "email=tim@apollo.io", MASKED, "200", "match", "1"),
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
    assert [(row["status"], row["outcome"]) for row in rows] == [
        ("200", "match"),
        ("429", "rate_limited"),
        ("200", "match"),
    ]
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


def test_the_page_asks_for_the_token_and_refuses_a_wrong_one(server: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server.url + "/__admin/ui/")
    login = browser.find_element(By.ID, "login")
    _wait(browser, login.is_displayed, "the admin-token field")
    browser.find_element(By.ID, "token").send_keys("wrong")
    login.find_element(By.TAG_NAME, "button").click()
    _wait(browser, lambda: "admin token" in browser.find_element(By.ID, "status").text, "the refusal")
    assert _rows(browser) == []


@contextmanager
def _viewport(driver: Any, width: int, height: int) -> Iterator[None]:
    """The page's viewport set to exactly `width`×`height` CSS pixels, for the block's duration."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


# The boxes the layout assertions read: the detail pane, the table, each row's path cell (with how
# many lines its text takes) and the key and input cells, and which element is on top at a point.
_LAYOUT = """
const box = (node) => { const r = node.getBoundingClientRect();
  return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height}; };
const lines = (node) => { const range = document.createRange(); range.selectNodeContents(node);
  return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size; };
const onTop = (node) => { const r = node.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + Math.min(r.width / 2, 20), r.top + r.height / 2);
  return hit !== null && (hit === node || node.contains(hit)); };
const rows = [...document.querySelectorAll('#journal tbody tr')];
return {
  viewport: [window.innerWidth, window.innerHeight],
  detail: document.getElementById('detail').hidden ? null : box(document.getElementById('detail')),
  table: box(document.getElementById('journal')),
  rows: rows.map((tr) => ({
    height: box(tr).height,
    path: {lines: lines(tr.querySelector('td.path')), on_top: onTop(tr.querySelector('td.path'))},
    input: {on_top: onTop(tr.querySelector('td.input')), width: box(tr.querySelector('td.input')).width},
    fingerprint: tr.querySelector('td.key .fingerprint') && onTop(tr.querySelector('td.key .fingerprint')),
    selected: tr.classList.contains('selected'),
    // Cells whose text is cut short (only the input may be, with its whole text in the title).
    cut: [...tr.cells].filter((td) => td.scrollWidth > td.clientWidth)
      .map((td) => td.className || td.cellIndex),
  })),
};
"""


def test_at_1280_by_800_each_row_shows_its_input_and_key_and_the_detail_opens_beside_it(
    server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    with _viewport(browser, *VIEWPORT):
        _log_in(browser, server)
        slow = {"outcome": "slow", "params": {"delay_ms": 300}, "match": {"params": {"email": "slow@x.com"}}}
        assert _admin(server, "POST", "/scenarios", json=slow).status_code == 201
        assert _match(server, "tim@apollo.io").status_code == 200
        mistyped = _match(server, "tim@apollo.io", key="tset-key")  # masked t…y, like test-key
        assert mistyped.status_code == 401
        named = requests.post(
            server.url + "/api/v1/people/match",
            json={"first_name": "Ada", "last_name": "Lovelace", "domain": "example.com"},
            headers={"x-api-key": "test-key"},
            timeout=10,
        )
        assert named.status_code == 200
        bulk = requests.post(
            server.url + "/api/v1/people/bulk_match",
            json={"details": [{"email": "a@x.io"}, {"email": "b@x.io"}]},
            headers={"x-api-key": "test-key"},
            timeout=10,
        )
        assert bulk.status_code == 200
        organization = requests.get(
            server.url + "/api/v1/organizations/enrich",
            params={"domain": "apollo.io"},
            headers={"x-api-key": "test-key"},
            timeout=10,
        )
        assert organization.status_code == 200
        too_large = requests.post(
            server.url + "/api/v1/people/match",
            data=b'{"email": "' + b"x" * MAX_BODY + b'"}',
            headers={"x-api-key": "test-key", "Content-Type": "application/json"},
            timeout=10,
        )
        assert too_large.status_code == 413

        rows = _wait(browser, lambda: (found := _rows(browser)) and len(found) == 6 and found, "six requests")
        assert [(row["status"], row["outcome"], row["path"], row["input"]) for row in rows] == [
            ("413", "too_large", "/api/v1/people/match", ""),
            ("200", "match", "/api/v1/organizations/enrich", "domain=apollo.io"),
            ("200", "2/2 matched", "/api/v1/people/bulk_match", "details=[{email=a@x.io}, {email=b@x.io}]"),
            ("200", "match", "/api/v1/people/match", "first_name=Ada last_name=Lovelace domain=example.com"),
            ("401", "unauthorized", "/api/v1/people/match", "email=tim@apollo.io"),
            ("200", "match", "/api/v1/people/match", "email=tim@apollo.io"),
        ]
        good, bad = rows[5], rows[4]
        assert good["mask"] == bad["mask"] == MASKED
        assert len(good["fingerprint"]) == len(bad["fingerprint"]) == 8
        assert good["fingerprint"] != bad["fingerprint"]
        assert (good["unknown"], bad["unknown"]) == ("", "unknown")
        assert all(row["fingerprint"] == good["fingerprint"] for row in rows if row["status"] == "200")
        assert "tset-key" not in browser.find_element(By.ID, "journal").text
        # The keys table shows the same fingerprint beside test-key's mask.
        keys = browser.find_element(By.ID, "keys").text
        assert f"{MASKED} {good['fingerprint']}" in keys and bad["fingerprint"] not in keys
        scenarios = browser.find_element(By.ID, "scenarios").text
        assert "slow" in scenarios and "delay_ms=300" in scenarios and "email=slow@x.com" in scenarios

        layout = browser.execute_script(_LAYOUT)
        assert layout["viewport"] == list(VIEWPORT)
        assert layout["table"]["right"] <= VIEWPORT[0]
        for row in layout["rows"]:
            assert row["path"] == {"lines": 1, "on_top": True}
            assert row["input"]["on_top"] and row["fingerprint"] is not False
            assert set(row["cut"]) <= {"input"}
        assert len({round(row["height"]) for row in layout["rows"]}) == 1  # no row wraps
        closed = tmp_path / "inspector-1280x800.png"
        browser.save_screenshot(str(closed))
        print(f"screenshot: {closed}")
        shot = os.environ.get("FAKEAPOLLO_SCREENSHOT")  # `make screenshot`: the README's picture
        if shot:
            browser.save_screenshot(str(ROOT / shot))

        browser.find_elements(By.CSS_SELECTOR, "#journal tbody tr")[4].click()  # the mistyped key
        detail = browser.find_element(By.ID, "detail")
        _wait(browser, detail.is_displayed, "the request's details")
        assert '"key_known": false' in browser.find_element(By.ID, "detail-request").text
        layout = browser.execute_script(_LAYOUT)
        pane, table = layout["detail"], layout["table"]
        # Beside or over the table, inside the window: never below the whole table.
        assert 0 <= pane["top"] < table["bottom"] and pane["bottom"] <= VIEWPORT[1]
        assert table["left"] < pane["left"] and pane["right"] <= VIEWPORT[0]
        assert pane["width"] >= 500 and pane["height"] >= VIEWPORT[1] - 1
        selected = next(row for row in layout["rows"] if row["selected"])
        assert selected["path"]["on_top"]  # the chosen row stays in sight beside the pane
        opened = tmp_path / "inspector-1280x800-detail.png"
        browser.save_screenshot(str(opened))
        print(f"screenshot: {opened}")

        browser.find_element(By.ID, "detail-close").click()
        _wait(browser, lambda: not detail.is_displayed(), "the pane closed")


HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def test_hostile_values_in_every_field_stay_text(server: LiveServer, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    _log_in(browser, server)
    key = {"key": "<b>evil</b>-key", "team": HOSTILE, "plan": "professional", "credits": 5, "scopes": None}
    assert _admin(server, "POST", "/keys", json=key).status_code == 201
    scenario = {"outcome": "no_match", "match": {"path": "/" + HOSTILE, "params": {"email": HOSTILE}}}
    assert _admin(server, "POST", "/scenarios", json=scenario).status_code == 201
    requests.post(
        server.url + "/api/v1/people/match",
        json={"email": HOSTILE, "first_name": HOSTILE, "x<svg onload=alert(1)>": HOSTILE},
        headers={"x-api-key": "<b>evil</b>-key", "X-Mock-Scenario": HOSTILE, "User-Agent": HOSTILE},
        timeout=10,
    )
    requests.get(server.url + "/api/v1/" + HOSTILE, params={HOSTILE: HOSTILE}, timeout=10)
    _match(server, HOSTILE, key=HOSTILE)
    _wait(browser, lambda: len(_rows(browser)) == 3, "three hostile requests")
    _wait(browser, lambda: "<b>evil</b>" not in browser.find_element(By.ID, "keys").text, "the keys")
    for index in range(3):
        browser.find_elements(By.CSS_SELECTOR, "#journal tbody tr")[index].click()
        _wait(browser, browser.find_element(By.ID, "detail").is_displayed, "the detail")
        assert "<script>" in browser.find_element(By.ID, "detail-request").text

    page_text = browser.find_element(By.TAG_NAME, "body").text
    assert 'onerror="window.__xss=1"' in page_text  # shown, as text
    injected = browser.execute_script(
        """
        return {
          xss: window.__xss === undefined ? null : window.__xss,
          elements: document.querySelectorAll('img, svg, b, iframe, object, embed').length,
          scripts: [...document.scripts].map((s) => s.getAttribute('src')),
          handlers: [...document.querySelectorAll('*')].flatMap(
            (node) => [...node.attributes].map((a) => a.name).filter((n) => n.startsWith('on'))),
        };
        """
    )
    assert injected == {"xss": None, "elements": 0, "scripts": ["assets/inspector.js"], "handlers": []}
