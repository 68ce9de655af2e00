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

import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from data_layers import i18n

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("serious", "critical")
PAGE_TIMEOUT_MS = 90_000
SETTLE_MS = 1000  # Plotly draws after the script finishes; axe must see the chart's final DOM

#: the views audited (URL parameters added to every page); high contrast is checked together with
#: right-to-left Arabic, the combination most likely to break a layout
VARIANTS: dict[str, dict[str, str]] = {
    "en": {"lang": "en"},
    "fr": {"lang": "fr"},
    "es": {"lang": "es"},
    "ar": {"lang": "ar"},
    "present": {"lang": "en", "present": "1"},
    "contrast-ar": {"lang": "ar", "contrast": "1"},
}
#: variants in which each chart's text alternative and data table are also checked
CHART_CHECKS = ("en", "fr")


@pytest.fixture(scope="module")
def app_base(app_url: str) -> str:
    """The live dashboard of ``tests/browser/conftest.py``."""
    return app_url.rstrip("/")


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
def browser_page(chromium: Any) -> Iterator[Any]:
    """One page for the module (its own context), on the conftest's Chromium."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768})
    yield context.new_page()
    context.close()


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


def axe_problems(page: Any, axe_js: Path, where: str) -> list[str]:
    """Serious and critical axe violations of the page as it is; prints what needs review."""
    page.add_script_tag(path=str(axe_js))
    res = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS)
    for v in res["incomplete"]:
        print(f"needs review {where}: {v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']}")
    for v in res["violations"]:
        if v["impact"] not in BLOCKING:
            print(f"minor {where}: {_describe(v)}")
    return [f"{where} {_describe(v)}" for v in res["violations"] if v["impact"] in BLOCKING]


def error_problems(page: Any, lang: str, where: str) -> list[str]:
    """An audit of an error message is no audit of the page: the page must have drawn."""
    unexpected = i18n.t("ui.error.unexpected", lang, ref="").split(".")[0]
    found = page.evaluate(
        """(marker) => [...document.querySelectorAll('[data-testid="stException"], [data-testid="stAlert"]')]
             .map(e => e.innerText).filter(t => t.includes(marker) || t.includes('Traceback'))""", unexpected)
    if page.locator('[data-testid="stException"]').count():
        found.append("a Streamlit exception box")
    return [f"{where}: the page shows an error: {found[0][:200]}"] if found else []


def language_problems(page: Any, lang: str, where: str) -> list[str]:
    """Screen readers pick their voice from <html lang>; Arabic reads right to left."""
    got = page.evaluate("() => [document.documentElement.lang, document.documentElement.dir || 'ltr', "
                        "getComputedStyle(document.querySelector('[data-testid=stMain]')).direction]")
    want = i18n.direction(lang)
    if got != [lang, want, want]:
        return [f"{where}: <html lang, dir> and main direction are {got}, expected {[lang, want, want]}"]
    return []


def chart_problems(page: Any, lang: str, where: str) -> tuple[int, list[str]]:
    """Each Plotly chart is a named figure (its alt text), followed by that text on the page and by
    an expander that holds its data as a table."""
    table_prefix = i18n.t("ui.chart.table", lang, title="").strip().rstrip(":").strip()
    charts = page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].map(chart => {
             const box = chart.closest('[data-testid="stElementContainer"]');
             const after = []; let el = box;
             for (let i = 0; i < 4 && el; i++) { el = el.nextElementSibling;
               if (el) after.push({caption: (el.querySelector('[data-testid="stCaptionContainer"]') || {}).innerText || '',
                                   expander: (el.querySelector('[data-testid="stExpander"] summary') || {}).innerText || ''}); }
             return {label: chart.getAttribute('aria-label') || '', after};
           })""")
    problems: list[str] = []
    for i, c in enumerate(charts):
        at = f"{where} chart {i + 1}"
        if not c["label"].strip():
            problems.append(f"{at}: no accessible name (alt text)")
            continue
        captions = [a["caption"].strip() for a in c["after"]]
        if c["label"].strip() not in captions:
            problems.append(f"{at}: its alt text is not shown after it ({captions})")
        if not any(table_prefix in a["expander"] for a in c["after"]):
            problems.append(f"{at}: no data-table expander after it")
    summaries = page.locator('[data-testid="stExpander"] summary', has_text=table_prefix)
    for k in range(summaries.count()):
        summary = summaries.nth(k)
        summary.click()
        details = summary.locator("xpath=..").locator('[data-testid="stExpanderDetails"]')
        details.wait_for(state="visible", timeout=10_000)
        has_table = details.locator('[data-testid="stDataFrame"], [data-testid="stTable"]').count() > 0
        if not has_table and i18n.t("ui.empty.table", lang) not in details.inner_text():
            problems.append(f"{where}: table expander {k + 1} holds no table")
    return len(charts), problems


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_page_is_accessible(variant: str, browser_page: Any, app_base: str, page_paths: list[str],
                                  axe_js: Path) -> None:
    """axe finds no serious or critical WCAG 2.1 A/AA violation; <html> states the language and
    direction; (en, fr) every chart has its text alternative and its data table."""
    page = browser_page
    params = VARIANTS[variant]
    lang = params["lang"]
    problems: list[str] = []
    n_charts = 0
    for path in page_paths:
        where = f"{path} [{variant}]"
        page.goto(_url(app_base, path, params), wait_until="domcontentloaded", timeout=PAGE_TIMEOUT_MS)
        wait_ready(page)
        problems += error_problems(page, lang, where)
        problems += axe_problems(page, axe_js, where)
        problems += language_problems(page, lang, where)
        if variant in CHART_CHECKS:
            n, found = chart_problems(page, lang, where)
            n_charts += n
            problems += found
    if variant in CHART_CHECKS:
        assert n_charts >= 5, f"expected charts on the pages, saw {n_charts}"
    assert not problems, "\n".join(problems)
