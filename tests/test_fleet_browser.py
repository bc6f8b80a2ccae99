"""The fleet page in a real browser: headless Chromium driven by Selenium through the system's
chromedriver (scripts/setup installs both from apt; Selenium Manager is never asked to download
one). One browser session opens the page of two `snitch fleet --history` runs over projects whose
paths hold markup, and checks what a platform team relies on: sorting by a clicked or keyed column
header, each project's team, the date, every failed cell's link to its message, no markup from a
project running or rendering, the compliance chart, the team filter, and, with JavaScript
switched off, every row and fact still on the page."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.checker import edit
from fixtures.template import git_commit_all

pytestmark = pytest.mark.slow

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
# Folder names a browser would run if the page let them through: "<script>alert(1)</script>"
# spans two folders, since a name cannot hold "/".
SCRIPT_PATH = ("<script>document.title='pwned';alert(1)<", "script>")
IMG_NAME = "<img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def browser():
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).exists()]
    if missing:  # in CI (CI=true) conftest.py has already failed the run for a missing tool
        pytest.skip(f"{', '.join(missing)} not installed (scripts/setup installs chromium and chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium missing (pip install '.[test]')")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def fleet_page(rendered_project, tmp_path_factory) -> tuple[Path, dict]:
    """The page of the second of two runs with --history, and that run's JSON report."""
    root = tmp_path_factory.mktemp("browser-fleet")
    projects = {
        "compliant": root / "compliant",
        "no-tracing": root.joinpath(*SCRIPT_PATH),
        "anonymous": root / IMG_NAME,
        "vision": root / "vision",
    }
    for name, folder in projects.items():
        shutil.copytree(rendered_project, folder)
        if name == "no-tracing":
            edit(folder / "serve.py", "ddtrace.patch(fastapi=True)", "pass")
        if name == "anonymous":
            edit(folder / ".gitlab-ci.yml", 'model_name: "iris-classifier"', 'model: "x"')
        if name == "vision":
            edit(folder / ".gitlab-ci.yml", 'team: "ml-team"', 'team: "vision"')
            edit(folder / "requirements.txt", "scikit-learn==", "scikit-learn>=")
        git_commit_all(folder)
    page, history = root / "page.html", root / "history"
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "snitch", "fleet", *map(str, projects.values()), "--history", str(history),
             "--html", str(page), "--format", "json"],
            capture_output=True, text=True, timeout=600,
        )
        assert done.returncode == 1, done.stderr
    return page, json.loads(done.stdout)


def test_the_page_in_chromium(browser, fleet_page):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page, report = fleet_page
    browser.get(page.as_uri())
    rows = lambda: browser.find_elements(By.CSS_SELECTOR, "#matrix tbody tr")  # noqa: E731
    labels = lambda: [row.find_element(By.CSS_SELECTOR, "th").get_attribute("data-sort") for row in rows()]  # noqa: E731

    # No markup from a project ran or rendered: no alert, the page's own script only, no image,
    # the title untouched, and the paths shown as text.
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text
    assert browser.title.startswith("Model Standards compliance")
    assert browser.execute_script("return document.scripts.length") == 1
    assert browser.find_elements(By.TAG_NAME, "img") == []
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "/".join(SCRIPT_PATH) in body and IMG_NAME in body

    # The date, and each project's team.
    when = browser.find_element(By.TAG_NAME, "time")
    assert when.text.endswith(" UTC") and when.get_attribute("datetime") == report["generated"]
    shown = {row.find_element(By.CSS_SELECTOR, "th .src").text: row.find_elements(By.TAG_NAME, "td")[0].text for row in rows()}
    assert shown == {project["source"]: project["team"] or "(no team)" for project in report["projects"]}

    # Every failed cell links to its message: the target is on the page and holds it.
    failed = browser.find_elements(By.CSS_SELECTOR, "#matrix td.failed a")
    expected_failures = sum(1 for project in report["projects"] for standard in
                            {check["standard"] for check in project["checks"] if check["outcome"] == "failed"})
    assert len(failed) == expected_failures == 2
    for link in failed:
        target = browser.find_element(By.ID, link.get_attribute("href").split("#", 1)[1])
        assert "how to fix:" in target.text
    failed[0].click()
    assert browser.execute_script("return location.hash") == "#" + failed[0].get_attribute("href").split("#", 1)[1]

    # Sorting: a click on standard 10's header puts its failure first; again, last. The state
    # column sorted from the keyboard puts the failures first.
    column = browser.find_element(By.XPATH, "//table[@id='matrix']/thead/tr/th[13]")  # project, team, state, 1...
    header = column.find_element(By.TAG_NAME, "button")
    assert header.text.startswith("10")
    header.click()
    assert "script>" in labels()[0] and column.get_attribute("aria-sort") == "ascending"
    header.click()
    assert "script>" in labels()[-1]
    state = browser.find_element(By.XPATH, "//table[@id='matrix']/thead/tr/th[3]//button")
    state.send_keys(Keys.ENTER)
    states = [row.find_elements(By.TAG_NAME, "td")[1].text for row in rows()]
    assert states == sorted(states, key=["failed", "not checkable", "passed"].index) and states[0] == "failed"

    # The team filter shows one team's projects.
    from selenium.webdriver.support.ui import Select

    Select(browser.find_element(By.ID, "team-filter")).select_by_value("vision")
    assert [row.is_displayed() for row in rows()].count(True) == 1
    Select(browser.find_element(By.ID, "team-filter")).select_by_value("")
    assert all(row.is_displayed() for row in rows())

    # After two runs with --history: an SVG chart of compliance over time, two points a line.
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert len(charts) >= 2 and charts[0].is_displayed()
    points = browser.find_elements(By.CSS_SELECTOR, "svg.chart polyline")[0].get_attribute("points").split()
    assert len(points) == 2


def test_the_page_without_javascript(browser, fleet_page):
    """Sorting and the filter are a script's enhancement: with scripts off, the same rows and facts."""
    from selenium.webdriver.common.by import By

    page, report = fleet_page
    rows = lambda: browser.find_elements(By.CSS_SELECTOR, "#matrix tbody tr")  # noqa: E731
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.get(page.as_uri())
        assert len(rows()) == len(report["projects"]) == 4
        assert browser.find_elements(By.CSS_SELECTOR, "#matrix thead button") == []
        assert not browser.find_element(By.ID, "controls").is_displayed()
        body = browser.find_element(By.TAG_NAME, "body").text
        for project in report["projects"]:
            assert project["source"] in body
        assert "vision" in body and "ml-team" in body and " UTC" in body and "how to fix:" in body
        assert len(browser.find_elements(By.CSS_SELECTOR, "#matrix td.failed a")) == 2
        assert browser.find_elements(By.CSS_SELECTOR, "svg.chart polyline")
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
