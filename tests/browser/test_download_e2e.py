"""In a real Chromium, a click on a chart's download buttons yields valid files (PNG, CSV).

Uses the live dashboard and the Chromium of ``tests/browser/conftest.py`` (``app_url``,
``chromium``): one page, opened once for the module, with the overview chart's data table
expanded; each test clicks one button and checks the file it gets, and that the page asked
nothing of any host but the app's own.
"""

from __future__ import annotations

import csv
import io
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from data_layers.i18n import t

pytestmark = pytest.mark.browser

DOWNLOAD_TIMEOUT_MS = 120_000  # the first PNG starts the export browser (kaleido) on the server
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", None, ""})  # data:, blob: and about: have no host


@pytest.fixture(scope="module")
def overview(app_url: str, chromium: Any) -> Iterator[tuple[Any, set[str]]]:
    """The overview page with the chart's data table (and its download buttons) open, and the set
    of requests it made to hosts other than the app's."""
    context, page, outside = _open(chromium)
    page.goto(app_url + "/")
    page.get_by_text(t("ui.chart.table", "en", title="").rstrip(": ")).first.click()
    yield page, outside
    context.close()


def _open(chromium: Any) -> tuple[Any, Any, set[str]]:
    """A downloading browser context and page, with the set of requests to non-local hosts."""
    context = chromium.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    outside: set[str] = set()
    page.on("request", lambda r: outside.add(r.url) if urllib.parse.urlparse(r.url).hostname
            not in LOCAL_HOSTS else None)
    page.set_default_timeout(DOWNLOAD_TIMEOUT_MS)
    return context, page, outside


def _download(page: Any, label: str, tmp: Path) -> Path:
    button = page.locator("[data-testid='stDownloadButton'] button").filter(has_text=label).first
    button.wait_for(state="visible")
    with page.expect_download(timeout=DOWNLOAD_TIMEOUT_MS) as info:
        button.click()
    path = tmp / info.value.suggested_filename
    info.value.save_as(path)
    return path


def test_csv_download_is_a_valid_table(overview: tuple[Any, set[str]], tmp_path: Path) -> None:
    page, outside = overview
    path = _download(page, t("ui.download.csv", "en"), tmp_path)
    assert path.suffix == ".csv"
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert len(rows) > 2 and len(rows[0]) > 1
    assert len({len(r) for r in rows}) == 1  # rectangular
    assert not [c for r in rows for c in r if c[:1] in ("=", "+", "@")]  # nothing a spreadsheet would run
    assert not outside, outside


def test_png_download_is_a_wide_image(overview: tuple[Any, set[str]], tmp_path: Path) -> None:
    page, outside = overview
    path = _download(page, t("ui.download.png", "en"), tmp_path)
    assert path.suffix == ".png"
    img = Image.open(path)
    assert img.format == "PNG" and img.size[0] >= 1600
    assert not outside, outside


def test_area_profile_brief_button_yields_a_pdf_about_the_area(app_url: str, chromium: Any, tmp_path: Path) -> None:
    from pypdf import PdfReader

    context, page, outside = _open(chromium)
    try:
        page.goto(app_url + "/")
        page.goto(app_url + "/area_profile?area=PH-05")
        path = _download(page, t("ui.profile.brief", "en"), tmp_path)
    finally:
        context.close()
    assert path.suffix == ".pdf" and "PH-05" in path.name
    reader = PdfReader(path)
    text = " ".join(p.extract_text() or "" for p in reader.pages)
    assert 1 <= len(reader.pages) <= 2
    assert "Bicol" in text and "ource" in text
    assert not outside, outside
