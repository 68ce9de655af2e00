"""Every page in Chromium over a store with hostile metadata and one truncated dataset (issue 13).

The imported text carries remote images (a tracking pixel), HTML and Markdown links; the browser
must fetch nothing from any host but the app's own, and no page may show an exception, a
traceback or the server's folders. The broken dataset is named on the About page.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import _need_chromium, serve
from support import BROKEN_DATASET, HOSTILE_IMAGE_HOST, make_hostile_store
from test_dashboard_e2e import assert_clean, goto

pytestmark = pytest.mark.browser
MIN_PAGES = 6


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _need_chromium()
    work = tmp_path_factory.mktemp("hostile-e2e")
    with serve(work, prepare=lambda data: make_hostile_store(data, work)) as url:
        yield url


def test_every_page_with_hostile_text_fetches_nothing_outside(web: Any, recorder: Any, hostile_url: str) -> None:
    goto(web, hostile_url)
    links = web.eval_on_selector_all('[data-testid="stSidebarNavLink"]', "els => els.map(e => e.href)")
    assert len(links) >= MIN_PAGES, links
    seen_about = False
    for url in links:
        deep = url + ("&" if "?" in url else "?") + "indicator=6.1.1&group=women&area=PH-05"
        for target in (url, deep):
            goto(web, target)
            web.wait_for_timeout(1500)  # charts and images load after the script run
            name = urllib.parse.urlparse(target).path.strip("/") or "overview"
            assert_clean(web, recorder, name)
            body = web.inner_text("body")
            assert str(Path(__file__).resolve().parents[2]) not in body, f"{name} shows a server path"
            assert web.locator(f'img[src*="{HOSTILE_IMAGE_HOST}"]').count() == 0, f"{name} draws a remote image"
            assert web.locator(f'a[href*="{HOSTILE_IMAGE_HOST}"]').count() == 0, f"{name} links the imported URL"
            if name == "about":
                seen_about = True
                assert BROKEN_DATASET in body
    assert seen_about
    assert not recorder.outside, f"requests left the machine: {sorted(recorder.outside)}"
