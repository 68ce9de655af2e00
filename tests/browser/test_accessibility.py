"""WCAG 2.1 A/AA in a real browser: axe-core on every page, in English, French, Spanish and
Arabic, in presentation mode and in high-contrast mode; every chart has a text alternative.

axe-core (npm, MPL-2.0, about 650 KB) is not kept in the repository: ``tools/axe.py`` fetches a
pinned, hash-checked version with ``npm pack`` into a cache outside it (``~/.cache/gaplens/axe``)
and each page gets it through Playwright's ``add_script_tag``. It runs offline in the page.

Zero serious or critical violations are allowed; the "needs review" (incomplete) items are
printed (``pytest -s`` shows them) because axe cannot decide them alone, e.g. the contrast of text
drawn over a Plotly chart.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from data_layers import i18n

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: a proxy that answers nothing, bypassed for the app itself: any outside request fails
OFFLINE_PROXY = {"server": "http://127.0.0.1:9", "bypass": "localhost,127.0.0.1"}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
START_TIMEOUT_S = 120  # a cold Streamlit start on two busy cores
PAGE_TIMEOUT_MS = 90_000
SETTLE_MS = 1500  # Plotly draws after the script finishes; axe must see the chart's final DOM

#: the views audited: URL parameters added to every page
VARIANTS: dict[str, dict[str, str]] = {
    "en": {"lang": "en"},
    "fr": {"lang": "fr"},
    "es": {"lang": "es"},
    "ar": {"lang": "ar"},
    "present": {"lang": "en", "present": "1"},
    "contrast": {"lang": "en", "contrast": "1"},
    "contrast-ar": {"lang": "ar", "contrast": "1"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_base(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a running dashboard: the browser conftest's live server when it offers one, else
    a server of our own over a copy of the sample store, with ``HOME`` in a temporary folder."""
    for name in ("live_server", "app_url"):
        try:
            value: Any = request.getfixturevalue(name)
        except pytest.FixtureLookupError:
            continue
        url = value if isinstance(value, str) else getattr(value, "url", None)
        if url:
            yield str(url).rstrip("/")
            return
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian Chromium (/usr/bin/chromium) is not installed")
    work = tmp_path_factory.mktemp("a11y")
    data = work / "data"
    shutil.copytree(ROOT / "sample_data", data, ignore=shutil.ignore_patterns("boundaries"))
    port = _free_port()
    env = {**os.environ, "HOME": str(work), "GAPLENS_DATA_DIR": str(data)}
    log_path = work / "streamlit.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(  # noqa: S603 - fixed arguments
            [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port", str(port),
             "--server.headless", "true"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:  # noqa: S310 - localhost
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(1)
        else:
            pytest.fail(f"dashboard did not start: {log_path.read_text()[-2000:]}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def axe_js() -> Path:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import axe  # tools/axe.py
    finally:
        sys.path.pop(0)
    try:
        return axe.ensure_axe()
    except axe.AxeUnavailableError as e:
        pytest.fail(f"axe-core is needed for the accessibility audit: {e}")


@pytest.fixture(scope="module")
def browser_page(app_base: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, proxy=OFFLINE_PROXY)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        yield page
        browser.close()


def wait_ready(page: Any) -> None:
    """Until the script run is over and the charts have drawn."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=PAGE_TIMEOUT_MS)
    page.wait_for_timeout(SETTLE_MS)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=PAGE_TIMEOUT_MS)


@pytest.fixture(scope="module")
def page_paths(browser_page: Any, app_base: str) -> list[str]:
    """Every page of the navigation, as URL paths (read from the sidebar, as a user finds them)."""
    browser_page.goto(app_base + "/", wait_until="domcontentloaded", timeout=PAGE_TIMEOUT_MS)
    wait_ready(browser_page)
    hrefs = browser_page.eval_on_selector_all('[data-testid="stSidebarNavLink"]', "els => els.map(e => e.href)")
    paths = sorted({urllib.parse.urlparse(h).path or "/" for h in hrefs})
    assert len(paths) >= 6, f"expected the six pages in the navigation, found {paths}"
    return paths


def _url(base: str, path: str, params: dict[str, str]) -> str:
    return f"{base}{path}?{urllib.parse.urlencode(params)}"


def _describe(violation: dict[str, Any]) -> str:
    nodes = "; ".join(f"{' '.join(map(str, n.get('target', [])))[-80:]} {n.get('html', '')[:100]!r}"
                      for n in violation["nodes"][:3])
    return f"{violation['id']} ({violation['impact']}, {len(violation['nodes'])}): {violation['help']} — {nodes}"


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_axe_finds_no_serious_violation(variant: str, browser_page: Any, app_base: str, page_paths: list[str],
                                        axe_js: Path) -> None:
    page = browser_page
    params = VARIANTS[variant]
    failures: list[str] = []
    for path in page_paths:
        page.goto(_url(app_base, path, params), wait_until="domcontentloaded", timeout=PAGE_TIMEOUT_MS)
        wait_ready(page)
        page.add_script_tag(path=str(axe_js))
        res = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
        bad = [v for v in res["violations"] if v["impact"] in BLOCKING]
        failures += [f"{path} [{variant}] {_describe(v)}" for v in bad]
        for v in res["incomplete"]:
            print(f"needs review {path} [{variant}]: {v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']}")
        for v in res["violations"]:
            if v["impact"] not in BLOCKING:
                print(f"minor {path} [{variant}]: {_describe(v)}")
    assert not failures, "axe serious/critical violations:\n" + "\n".join(failures)


@pytest.mark.parametrize("variant", ["en", "fr", "ar"])
def test_page_declares_its_language_and_direction(variant: str, browser_page: Any, app_base: str,
                                                  page_paths: list[str]) -> None:
    """Screen readers pick their voice from <html lang>; Arabic reads right to left."""
    page = browser_page
    lang = VARIANTS[variant]["lang"]
    for path in page_paths[:2]:
        page.goto(_url(app_base, path, VARIANTS[variant]), wait_until="domcontentloaded", timeout=PAGE_TIMEOUT_MS)
        wait_ready(page)
        got = page.evaluate("() => [document.documentElement.lang, document.documentElement.dir || 'ltr', "
                            "getComputedStyle(document.querySelector('[data-testid=stMain]')).direction]")
        assert got[0] == lang, f"{path}: <html lang> is {got[0]!r}, expected {lang!r}"
        want = i18n.direction(lang)
        assert got[1] == want and got[2] == want, f"{path}: direction {got[1:]} for {lang}"


@pytest.mark.parametrize("variant", ["en", "fr"])
def test_every_chart_has_its_text_alternative_and_table(variant: str, browser_page: Any, app_base: str,
                                                        page_paths: list[str]) -> None:
    """Each Plotly chart is a named figure (its alt text), followed by that text on the page and by
    an expander holding its data as a table."""
    page = browser_page
    lang = VARIANTS[variant]["lang"]
    table_prefix = i18n.t("ui.chart.table", lang, title="").strip().rstrip(":").strip()
    seen = 0
    problems: list[str] = []
    for path in page_paths:
        page.goto(_url(app_base, path, VARIANTS[variant]), wait_until="domcontentloaded", timeout=PAGE_TIMEOUT_MS)
        wait_ready(page)
        charts = page.evaluate(
            """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].map(chart => {
                 const box = chart.closest('[data-testid="stElementContainer"]');
                 const after = []; let el = box;
                 for (let i = 0; i < 4 && el; i++) { el = el.nextElementSibling;
                   if (el) after.push({caption: (el.querySelector('[data-testid="stCaptionContainer"]') || {}).innerText || '',
                                       expander: (el.querySelector('[data-testid="stExpander"] summary') || {}).innerText || ''}); }
                 return {role: chart.getAttribute('role'), label: chart.getAttribute('aria-label') || '', after};
               })""")
        for i, c in enumerate(charts):
            seen += 1
            where = f"{path} chart {i + 1}"
            if not c["label"].strip():
                problems.append(f"{where}: no accessible name (alt text)")
                continue
            captions = [a["caption"].strip() for a in c["after"]]
            if c["label"].strip() not in captions:
                problems.append(f"{where}: its alt text is not shown after it ({captions})")
            if not any(table_prefix in a["expander"] for a in c["after"]):
                problems.append(f"{where}: no data-table expander after it")
        # the data table itself: open each chart's expander and find a grid or the empty notice
        summaries = page.locator('[data-testid="stExpander"] summary', has_text=table_prefix)
        for k in range(summaries.count()):
            summary = summaries.nth(k)
            summary.click()
            details = summary.locator("xpath=..").locator('[data-testid="stExpanderDetails"]')
            details.wait_for(state="visible", timeout=10_000)
            has_table = details.locator('[data-testid="stDataFrame"], [data-testid="stTable"]').count() > 0
            if not has_table and i18n.t("ui.empty.table", lang) not in details.inner_text():
                problems.append(f"{path}: table expander {k + 1} holds no table")
    assert seen >= 5, f"expected charts on the pages, saw {seen}"
    assert not problems, "\n".join(problems)
