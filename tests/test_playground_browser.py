"""The playground page in a real browser: headless Chromium (Debian's ``chromium`` and ``chromium-driver``)
driven by Selenium, against a server started in this process on a free port.

In CI (``CI=true``) these tests never skip: a missing Chromium, chromedriver or selenium fails them.
Elsewhere they skip with the reason.  Screenshots of each state are written to the folder named by
``PLAYGROUND_SCREENSHOTS`` (the ones in docs/images/ were made so), else to the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import skillfilter
from skillfilter.cli.records import read_sources
from skillfilter.playground import Workbench, make_server
from skillfilter.semantics.schema import Schema
from test_playground import HOSTILE_ID, IMG, SAMPLE, SCRIPT, cli_count, write_hostile_records

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(path) or shutil.which(path)):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    return None


def _serve(records: list[Any]) -> Iterator[str]:
    server = make_server(Workbench(Schema.builtin("export"), "employees", records, schema_name="export"), 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_hostile_records(tmp_path_factory.mktemp("browser") / "hostile.jsonl")


@pytest.fixture(scope="module")
def hostile_url(hostile_file: Path) -> Iterator[str]:
    yield from _serve(list(read_sources([hostile_file])))


@pytest.fixture(scope="module")
def sample_url() -> Iterator[str]:
    yield from _serve(list(read_sources([SAMPLE])))


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    missing = _missing()
    if missing:
        if IN_CI:
            pytest.fail(f"the browser tests run in CI: {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = shutil.which(CHROMIUM) or CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1200,1300", "--lang=en-US"):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(shutil.which(CHROMEDRIVER) or CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("PLAYGROUND_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _wait(driver: Any, condition: Any, timeout: float = 30) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _open(driver: Any, url: str, size: tuple[int, int] = (1200, 1300)) -> Any:
    from selenium.webdriver.common.by import By

    driver.set_window_size(*size)
    driver.get(url)
    _wait(driver, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"))
    editor = driver.find_element(By.ID, "editor")
    _wait(driver, lambda d: editor.get_attribute("value"))
    editor.clear()
    driver.execute_script("arguments[0].dispatchEvent(new Event('input'))", editor)
    editor.click()
    return editor


def _type(driver: Any, editor: Any, text: str) -> None:
    """Type ``text`` key by key; Escape first where a space or quote would otherwise go into an open list."""
    editor.send_keys(text)


def _results_for(driver: Any, text: str) -> None:
    """Wait until the page shows the analysis of ``text`` (its canonical form)."""
    canonical = skillfilter.to_text(skillfilter.parse(text))
    _wait(driver, lambda d: d.execute_script(
        "const c = document.querySelector('#parts .canonical');"
        "return c && c.textContent === arguments[0] && document.querySelector('#editor').value === arguments[1];",
        canonical, text))


def _match_count(driver: Any) -> int:
    from selenium.webdriver.common.by import By

    return int(driver.find_element(By.CSS_SELECTOR, "#parts .match-count").text)


# --------------------------------------------------------------------------------------------------
def test_misspelt_field_shows_sf201_with_did_you_mean(driver: Any, hostile_url: str, shots: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    editor = _open(driver, hostile_url)
    text = "external_id='3' and skill_clusterz__domain_name='Sales'"
    _type(driver, editor, text)
    editor.send_keys(Keys.ESCAPE)
    _wait(driver, lambda d: d.execute_script(
        "return document.getElementById('diagnostics').dataset.text === arguments[0];", text))
    (item,) = driver.find_elements(By.CSS_SELECTOR, "#diagnostics li.diagnostic")
    start, end = int(item.get_attribute("data-start")), int(item.get_attribute("data-end"))
    assert text[start:end] == "skill_clusterz"
    (expected,) = skillfilter.validate(text, "employees", schema="export")
    assert (expected.code, expected.start, expected.end) == ("SF201", start, end)
    assert "did you mean `skill_clusters`" in item.text
    assert "✖ Error" in item.text and "SF201" in item.text  # not colour alone: an icon and words
    # The underline sits under the misspelt name in the editor.
    mark = driver.find_element(By.CSS_SELECTOR, "#backdrop mark[data-code='SF201']")
    assert mark.get_attribute("textContent") == "skill_clusterz"
    before = driver.execute_script(
        "const m = arguments[0]; let t = ''; for (let n = m.previousSibling; n; n = n.previousSibling)"
        " t = n.textContent + t; return t;", mark)
    assert before == text[:start]
    driver.save_screenshot(str(shots / "playground-diagnostic.png"))


def test_accepting_a_completion_inserts_the_field(driver: Any, hostile_url: str, shots: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    editor = _open(driver, hostile_url)
    editor.send_keys("skill_cl")
    listbox = driver.find_element(By.ID, "completions")
    _wait(driver, lambda d: d.execute_script(
        "const l = document.getElementById('completions');"
        "return !l.hidden && l.dataset.text === document.getElementById('editor').value;"))
    selected = driver.find_element(By.CSS_SELECTOR, "#completions li[aria-selected='true']")
    assert selected.find_element(By.CSS_SELECTOR, ".label").text == "skill_clusters"
    editor.send_keys(Keys.TAB)
    _wait(driver, lambda d: editor.get_attribute("value") == "skill_clusters__")
    # A relation accepted: the fields behind it are offered next; arrows move, Enter accepts.
    editor.send_keys("dom")
    labels = _wait(driver, lambda d: d.execute_script(
        "const l = document.getElementById('completions'), e = document.getElementById('editor');"
        "return !l.hidden && l.dataset.text === e.value && e.value === 'skill_clusters__dom'"
        " && [...l.querySelectorAll('li .label')].map((x) => x.textContent);"))
    assert "domain_name" in labels
    driver.save_screenshot(str(shots / "playground-completion.png"))
    index = labels.index("domain_name")
    for _ in range(index):
        editor.send_keys(Keys.ARROW_DOWN)
    editor.send_keys(Keys.ENTER)
    _wait(driver, lambda d: editor.get_attribute("value") == "skill_clusters__domain_name")
    assert not listbox.is_displayed() and editor.get_attribute("aria-expanded") == "false"
    # Escape closes the list without inserting anything.
    editor.send_keys("__")
    editor.send_keys(Keys.CONTROL, " ")
    _wait(driver, lambda d: listbox.is_displayed())
    editor.send_keys(Keys.ESCAPE)
    _wait(driver, lambda d: not listbox.is_displayed())
    assert editor.get_attribute("value") == "skill_clusters__domain_name__"


@pytest.mark.parametrize("which", ["hostile", "sample"])
def test_valid_filter_shows_the_cli_matches_count(driver: Any, which: str, hostile_url: str, sample_url: str,
                                                   hostile_file: Path, shots: Path) -> None:
    from selenium.webdriver.common.keys import Keys

    url, path = (hostile_url, hostile_file) if which == "hostile" else (sample_url, SAMPLE)
    editor = _open(driver, url)
    text = "skill_clusters__current_skills__name='Python' and skill_clusters__proficiency_level__gte=3"
    _type(driver, editor, text)
    editor.send_keys(Keys.ESCAPE)
    _results_for(driver, text)
    assert _match_count(driver) == cli_count(text, path)
    assert driver.execute_script("return document.body.dataset.state") == "valid"
    if which == "sample":
        driver.save_screenshot(str(shots / "playground-results.png"))


def test_hostile_record_renders_as_text(driver: Any, hostile_url: str, hostile_file: Path, shots: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    editor = _open(driver, hostile_url)
    text = "skill_clusters__current_skills__name__startswith='<img'"
    _type(driver, editor, text)
    editor.send_keys(Keys.ESCAPE)
    _results_for(driver, text)
    assert _match_count(driver) == cli_count(text, hostile_file) == 1
    (record,) = driver.find_elements(By.CSS_SELECTOR, "#parts .records pre.record")
    shown = record.get_attribute("textContent")
    assert json.loads(shown)["external_id"] == HOSTILE_ID
    cluster = json.loads(shown)["skill_clusters"][0]
    assert cluster["skill_cluster_name"] == SCRIPT and cluster["current_skills"][0]["name"] == IMG
    assert SCRIPT in shown and "Ünïcode ✓ Straße – Ελληνικά" in shown
    # Nothing of the data became markup, and nothing of it ran.
    assert record.find_elements(By.XPATH, "./*") == []
    assert driver.find_elements(By.CSS_SELECTOR, "#parts script, #parts img") == []
    assert driver.execute_script("return document.body.dataset.pwned") is None
    driver.execute_script("arguments[0].scrollIntoView()", record)
    driver.save_screenshot(str(shots / "playground-hostile.png"))


def test_narrow_window_and_over_the_cap(driver: Any, hostile_url: str, shots: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    editor = _open(driver, hostile_url, size=(420, 1100))
    text = " or ".join(f"external_id='{i}'" for i in range(7))
    _type(driver, editor, text)
    editor.send_keys(Keys.ESCAPE)
    _results_for(driver, text)
    requests = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#parts .split li")]
    pieces = skillfilter.split(text, schema="export", entity="employees")
    assert requests == [skillfilter.to_query_string({"employees": p}) for p in pieces]
    assert "over the API's cap" in driver.find_element(By.CSS_SELECTOR, "#parts .ops").text
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0
    driver.save_screenshot(str(shots / "playground-narrow.png"))


def test_bundled_sample_sql_text_renders_as_text(driver: Any, sample_url: str) -> None:
    """The bundled sample holds `'; DROP TABLE employees; --` as a skill name: matched and shown as text."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    editor = _open(driver, sample_url)
    text = "skill_clusters__current_skills__name=\"'; DROP TABLE employees; --\""
    _type(driver, editor, text)
    editor.send_keys(Keys.ESCAPE)
    _results_for(driver, text)
    count = _match_count(driver)
    assert count == cli_count(text, SAMPLE) and count > 0
    records = driver.find_elements(By.CSS_SELECTOR, "#parts .records pre.record")
    assert len(records) == min(10, count)
    for record in records:
        shown = record.get_attribute("textContent")
        names = [s["name"] for c in json.loads(shown)["skill_clusters"] for s in c["current_skills"]]
        assert "'; DROP TABLE employees; --" in names
        assert record.find_elements(By.XPATH, "./*") == []
