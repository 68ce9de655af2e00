"""A live GapLens for browser tests: Streamlit on a free port over a copy of the sample store,
and headless Debian Chromium driven by Playwright, with recorders for what must not happen
(console errors, page errors, requests to any host but the app's own).

Chromium is the system one (``/usr/bin/chromium``, installed by ``make test``); Playwright's own
browser download is never used. The browser goes through a proxy that does not exist for every
host but localhost, so a request that would leave the machine fails fast and is recorded.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
OFFLINE_PROXY = {"server": "http://127.0.0.1:9", "bypass": "localhost,127.0.0.1"}
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", None, ""})
START_TIMEOUT_S = 90  # a cold start on 2 busy cores takes 5-15 s; CI machines vary
# Streamlit's frontend looks for its server under the page's path first (/gap_map/_stcore/health)
# and falls back to the root: the 404s of those probes are the framework's, not the app's.
STREAMLIT_PROBES = ("/_stcore/health", "/_stcore/host-config")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(work: Path, prepare: Callable[[Path], None] | None = None) -> Iterator[str]:
    """Run ``streamlit run dashboard.py`` on a free port over a copy of the sample (HOME and the
    data in ``work``) until the block ends; yields the app's URL once ``/_stcore/health`` answers.
    ``prepare(data_dir)`` may change the copy first (e.g. a hostile or broken store)."""
    data = work / "sample_data"
    shutil.copytree(ROOT / "sample_data", data, ignore=shutil.ignore_patterns("boundaries"))
    if prepare is not None:
        prepare(data)
    home = work / "home"
    home.mkdir()
    port = _free_port()
    env = {**os.environ, "HOME": str(home), "GAPLENS_DATA_DIR": str(data), "PYTHONNOUSERSITE": "1"}
    log_path = work / "streamlit.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port", str(port),
             "--server.headless", "true", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited: {log_path.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:  # noqa: S310 (localhost)
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer within {START_TIMEOUT_S} s: "
                            f"{log_path.read_text(errors='replace')[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _need_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium (make test installs it)")


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard, served once for the whole browser test session."""
    _need_chromium()
    with serve(tmp_path_factory.mktemp("e2e")) as url:
        yield url


@pytest.fixture
def fresh_app_url(tmp_path: Path) -> Iterator[str]:
    """A dashboard server of its own, that nobody has visited yet (for first-request behaviour)."""
    _need_chromium()
    with serve(tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium for the session (system binary, HOME in a temporary folder)."""
    from playwright.sync_api import sync_playwright

    _need_chromium()
    home = tmp_path_factory.mktemp("browser-home")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, proxy=OFFLINE_PROXY,
                                    env={**os.environ, "HOME": str(home)})
        yield browser
        browser.close()


@dataclass
class Recorder:
    """What a page did that it must not: console errors, uncaught errors, outside requests."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    outside: set[str] = field(default_factory=set)

    def attach(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("request", self._request)

    def _console(self, msg: Any) -> None:
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url", "") if isinstance(msg.location, dict) else ""
        if urllib.parse.urlparse(where).path.endswith(STREAMLIT_PROBES):
            return
        self.console_errors.append(f"{msg.text} ({where})")

    def _request(self, request: Any) -> None:
        host = urllib.parse.urlparse(request.url).hostname
        if host not in LOCAL_HOSTS:
            self.outside.add(request.url)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def web(chromium: Any, recorder: Recorder) -> Iterator[Any]:
    """A fresh browser page (own context: no shared session) at 1366x768, recorded."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = context.new_page()
    recorder.attach(page)
    yield page
    context.close()
