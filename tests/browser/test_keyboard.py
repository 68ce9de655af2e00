"""The dashboard's task with the keyboard alone, in a real browser.

Using only Tab, Shift+Tab, Enter, Space, the arrow keys and typing into selectboxes (no mouse
click anywhere): change the indicator, the group and the admin level, open an area profile from
the overview, open a chart's data table and download it as CSV.
"""

from __future__ import annotations

import csv
import io
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from data_layers.i18n import t

pytestmark = pytest.mark.browser

PAGE_TIMEOUT_MS = 90_000
DOWNLOAD_TIMEOUT_MS = 60_000
MAX_TABS = 150  # the sidebar and a page hold fewer focusable elements than this
LANG = "en"

#: what the focused element is, as a screen reader would announce it
FOCUSED_JS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const label = e.getAttribute('aria-label') || (e.labels && e.labels[0] ? e.labels[0].innerText : '');
  const box = e.closest('[data-testid]');
  return {tag: e.tagName, role: e.getAttribute('role') || '', label: (label || '').trim(),
          text: (e.innerText || e.value || '').trim(), testid: box ? box.getAttribute('data-testid') : '',
          href: e.getAttribute('href') || '',
          download: !!e.closest('[data-testid="stDownloadButton"]')};
}"""


@pytest.fixture(scope="module")
def app_base(app_url: str) -> str:
    """The live dashboard of ``tests/browser/conftest.py``."""
    return app_url.rstrip("/")


@pytest.fixture(scope="module")
def page(chromium: Any) -> Iterator[Any]:
    """One page (its own context, downloads accepted) on the conftest's Chromium."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    yield context.new_page()
    context.close()


def wait_ready(page: Any) -> None:
    page.wait_for_timeout(300)  # let a rerun triggered by the last key start
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=PAGE_TIMEOUT_MS)
    page.wait_for_timeout(700)


def focused(page: Any) -> dict[str, Any] | None:
    return page.evaluate(FOCUSED_JS)


def tab_to(page: Any, want: Callable[[dict[str, Any]], bool], what: str, *, backwards: bool = False) -> dict[str, Any]:
    """Press Tab (or Shift+Tab) until the focused element satisfies ``want``."""
    key = "Shift+Tab" if backwards else "Tab"
    seen: list[str] = []
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        f = focused(page)
        if f and want(f):
            return f
        seen.append(f"{f['tag']}:{f['label'] or f['text'][:30]}" if f else "-")
    pytest.fail(f"{key} never reached {what}; focus went through: {seen[:60]}")


def combobox(label: str) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f["tag"] == "INPUT" and f["role"] == "combobox" and f["label"] == label


def query(page: Any) -> dict[str, str]:
    parsed = urllib.parse.urlparse(page.url)
    return {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()}


def test_the_task_with_the_keyboard_alone(page: Any, app_base: str) -> None:
    page.goto(f"{app_base}/?lang={LANG}", wait_until="domcontentloaded", timeout=PAGE_TIMEOUT_MS)
    wait_ready(page)

    # 1. the indicator: Tab to its selectbox, type to filter, Enter to choose
    tab_to(page, combobox(t("ui.filter.indicator", LANG)), "the indicator selectbox")
    page.keyboard.type("6.2.1")
    page.keyboard.press("Enter")
    wait_ready(page)
    assert query(page).get("indicator") == "6.2.1", page.url

    # 2. the group: the same with a word of its label
    tab_to(page, combobox(t("ui.filter.group", LANG)), "the group selectbox")
    page.keyboard.type("Women")
    page.keyboard.press("Enter")
    wait_ready(page)
    assert query(page).get("group") == "women", page.url

    # 3. the admin level with the arrow keys (opens the list, moves to the next option)
    level_label = t("ui.filter.level", LANG)
    tab_to(page, combobox(level_label), "the level selectbox")
    before = query(page).get("level", "1")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    wait_ready(page)
    after = query(page).get("level")
    assert after is not None and after != before, f"level stayed {before}: {page.url}"

    # Shift+Tab walks back to the group, which kept its value
    f = tab_to(page, combobox(t("ui.filter.group", LANG)), "the group selectbox (backwards)", backwards=True)
    assert "Women" in f["text"] or query(page).get("group") == "women"

    # 4. an area profile, from the overview's link to the area with the most blind spots
    link = tab_to(page, lambda f: f["tag"] == "A" and "area_profile" in f["href"] and "area=" in f["href"],
                  "a link to an area profile")
    page.keyboard.press("Enter")
    wait_ready(page)
    assert urllib.parse.urlparse(page.url).path.rstrip("/").endswith("area_profile"), page.url
    area = query(page).get("area")
    assert area and area in link["href"], (page.url, link["href"])
    assert query(page).get("indicator") == "6.2.1" and query(page).get("group") == "women", page.url

    # 5. a chart's data table: Tab to its expander, open it with Space, Tab to CSV, Enter
    table_heading = t("ui.chart.table", LANG, title="").strip().rstrip(":")
    tab_to(page, lambda f: f["tag"] == "SUMMARY" and table_heading in f["text"], "a data-table expander")
    page.keyboard.press("Space")
    page.wait_for_timeout(500)
    csv_label = t("ui.download.csv", LANG)
    tab_to(page, lambda f: f["download"] and f["text"].endswith(csv_label), "the CSV download button")
    with page.expect_download(timeout=DOWNLOAD_TIMEOUT_MS) as info:
        page.keyboard.press("Enter")
    download = info.value
    assert download.suggested_filename.endswith(".csv"), download.suggested_filename
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) >= 2 and len(rows[0]) >= 2, text[:300]
