"""In a real Chromium, a click on a chart's download buttons yields valid files (PNG, CSV).

Uses the live Streamlit server of ``tests/browser/conftest.py`` when it offers one (fixture
``live_server`` or ``app_url``); otherwise starts its own on a free port over a copy of the
sample store, with ``HOME`` in a temporary folder. Chromium is Debian's, with the offline flags
of STACK_NOTES.md.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from data_layers.i18n import t

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START_TIMEOUT_S = 120  # a cold Streamlit start on two busy cores
DOWNLOAD_TIMEOUT_MS = 120_000  # the first PNG starts the export browser (kaleido) on the server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a running dashboard: the shared live server if the browser conftest has one."""
    for name in ("live_server", "app_url", "base_url_live"):
        try:
            value: Any = request.getfixturevalue(name)
        except pytest.FixtureLookupError:
            continue
        url = value if isinstance(value, str) else getattr(value, "url", None)
        if url:
            yield str(url).rstrip("/")
            return
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian Chromium is not installed")
    work = tmp_path_factory.mktemp("e2e")
    data = work / "sample_data"
    shutil.copytree(ROOT / "sample_data", data, ignore=shutil.ignore_patterns("boundaries"))
    port = _free_port()
    env = {**os.environ, "HOME": str(work), "GAPLENS_DATA_DIR": str(data)}
    log = (work / "streamlit.log").open("w")
    proc = subprocess.Popen(
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
            pytest.fail(f"dashboard did not start: {(work / 'streamlit.log').read_text()[-2000:]}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def dash_page(base_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
        pg = context.new_page()
        outside: list[str] = []
        pg.on("request", lambda r: outside.append(r.url) if not r.url.startswith(
            (base_url, "data:", "blob:", "about:", "http://127.0.0.1", "ws://localhost")) else None)
        pg.set_default_timeout(DOWNLOAD_TIMEOUT_MS)
        pg.goto(base_url + "/")
        pg.get_by_text(t("ui.chart.table", "en", title="")[:14]).first.click()  # open the table expander
        pg.outside_requests = outside  # type: ignore[attr-defined]
        yield pg
        context.close()
        browser.close()


def _download(page: Any, label: str, tmp: Path) -> Path:
    button = page.locator("[data-testid='stDownloadButton'] button").filter(has_text=label).first
    button.wait_for(state="visible")
    with page.expect_download(timeout=DOWNLOAD_TIMEOUT_MS) as info:
        button.click()
    path = tmp / info.value.suggested_filename
    info.value.save_as(path)
    return path


def test_csv_download_is_a_valid_table(dash_page: Any, tmp_path: Path) -> None:
    path = _download(dash_page, t("ui.download.csv", "en"), tmp_path)
    assert path.suffix == ".csv"
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert len(rows) > 2 and len(rows[0]) > 1
    assert not any(cell[:1] in "=+@" for row in rows for cell in row)


def test_png_download_is_a_wide_image(dash_page: Any, tmp_path: Path) -> None:
    path = _download(dash_page, t("ui.download.png", "en"), tmp_path)
    assert path.suffix == ".png"
    img = Image.open(path)
    assert img.format == "PNG" and img.size[0] >= 1600
    assert dash_page.outside_requests == []
