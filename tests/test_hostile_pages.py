"""Every page over a store with hostile text and one broken dataset (issue 13), under AppTest.

Imported text (dataset metadata, area, group and indicator names) carries Markdown, HTML, KaTeX,
colour directives and remote images; no Markdown element may receive it raw (it goes through
``pages.components.inert``). The truncated dataset is skipped, named on the About page, and no
page shows an exception, an error box, a traceback or a server path.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest
from support import BROKEN_DATASET, HOSTILE_MARKERS, make_hostile_store

from pages import components as ui

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 90
PAGES = [p.path for p in ui.available_pages()]
ORIGINAL_PAGES_MANAGER_INIT = PagesManager.__init__


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("hostile")
    dst = work / "store"
    shutil.copytree(ROOT / "sample_data", dst, ignore=shutil.ignore_patterns("boundaries"))
    make_hostile_store(dst, work)
    return dst


@pytest.fixture(autouse=True)
def app_env(hostile_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GAPLENS_DATA_DIR", str(hostile_dir))

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def open_page(page: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT_S).run()
    for k, v in params.items():
        at.query_params[k] = v
    if page != "pages/overview.py" or params:
        at.switch_page(page).run()
    return at


def markdown_texts(at: AppTest) -> list[tuple[str, str]]:
    """(element, text) of everything Streamlit renders as Markdown: bodies, headings, alerts,
    and the labels and help of expanders, metrics, page links and widgets."""
    out: list[tuple[str, str]] = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning", "error", "success"):
        out += [(kind, str(e.value)) for e in getattr(at, kind)]
    out += [("expander", str(e.label)) for e in at.expander]
    out += [("metric", f"{e.label} {e.value} {e.proto.help}") for e in at.metric]
    for kind in ("page_link", "selectbox", "radio", "slider", "toggle", "checkbox", "button", "text_input"):
        for e in at.get(kind):
            out += [(kind, f"{getattr(e.proto, 'label', '')} {getattr(e.proto, 'help', '')}")]
    return out


@pytest.mark.parametrize("page", PAGES)
def test_no_imported_markdown_reaches_a_markdown_element(page: str) -> None:
    params = {"indicator": "6.1.1", "group": "women", "area": "PH-05"} if page != "pages/import_data.py" else {}
    at = open_page(page, **params)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    texts = markdown_texts(at)
    assert texts, "the page drew nothing"
    raw = [(kind, text[:160]) for kind, text in texts for marker in HOSTILE_MARKERS if marker in text]
    assert not raw, raw
    everything = " ".join(text for _, text in texts)
    assert "Traceback" not in everything and str(ROOT) not in everything


def test_hostile_text_is_still_shown_as_typed() -> None:
    """Inert does not mean hidden: the escaped title is on the About page and the citizen card."""
    at = open_page("pages/about.py")
    sources = " ".join(m.value for m in at.markdown)
    assert "&#42;&#42;bold&#42;&#42; &#33;&#91;pixel&#93;(http&#58;\u2060//evil.example/pixel.png)" in sources
    at = open_page("pages/citizen_data.py")
    assert any("&#60;script&#62;" in m.value for m in at.markdown)  # the licence, as text


def test_about_names_the_broken_dataset_and_other_pages_skip_it() -> None:
    at = open_page("pages/about.py")
    broken = [m.value for m in at.markdown if BROKEN_DATASET in m.value]
    assert broken and "observations.parquet" in broken[0], [m.value for m in at.markdown][-5:]
    at = open_page("pages/citizen_data.py")
    assert not at.exception
    assert not [h.value for h in at.subheader if "Beach litter" in h.value]


def test_inert_leaves_plain_words_alone() -> None:
    assert ui.inert("Bicol Region (PH-05), 1.2.1 – l'eau") == "Bicol Region (PH-05), 1.2.1 – l'eau"
    assert ui.inert(None) == "" and ui.inert(float("nan")) == ""
    assert ui.inert("- item").startswith("&#45;") and ui.inert("line\nbreak") == "line break"
    assert ui.inert("see www.evil.example or a@b.example") == "see w\u2060ww.evil.example or a@\u2060b.example"
