"""Intersections and the evidence register on the pages (AppTest over a copy of the sample): hovers
say which parts are measured and when a cell was raised, the matrix groups intersections, the
register form adds an entry (text shown as text) and is hidden in read-only mode."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from data_layers import register

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 60
ORIGINAL_PAGES_MANAGER_INIT = PagesManager.__init__
MARKUP = "**not bold** <b>not html</b> [link](http://example.org)"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    dst = tmp_path / "sample_data"
    shutil.copytree(ROOT / "sample_data", dst, ignore=shutil.ignore_patterns("boundaries"))
    return dst


@pytest.fixture(autouse=True)
def app_env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As tests/test_pages.py: the app on the copy, empty caches, st.navigation mode kept."""
    monkeypatch.setenv("GAPLENS_DATA_DIR", str(data_dir))
    monkeypatch.delenv("GAPLENS_READ_ONLY", raising=False)

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def open_page(page: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT_S).run()
    for k, v in params.items():
        at.query_params[k] = v
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def spec_text(at: AppTest) -> str:
    return "\n".join(el.proto.spec for el in at.get("plotly_chart"))


def test_map_hover_names_the_parts_and_the_register(data_dir: Path):
    at = open_page("pages/gap_map.py", indicator="1.4.2", group="rural_women", level="1")
    text = spec_text(at)
    assert "Women and girls: current; Rural people: current; Rural women: not measured (hidden in a total)" in text
    assert "Raised with PSA on November 20, 2024" in text  # Bicol, entry E0002
    at = open_page("pages/gap_map.py", indicator="1.1.1", group="rural_women", level="1")
    text = spec_text(at)
    assert "Raised with PSA Regional Statistical Services Office VIII on March 12, 2022" in text
    assert "gap closed since raised: official figure for 2023" in text
    # the register panel lists the entries about the indicator and group shown
    frames = [df.value for df in at.dataframe]
    assert any("E0001" in set(f.iloc[:, 0].astype(str)) for f in frames)


def test_the_matrix_groups_intersections(data_dir: Path):
    at = open_page("pages/coverage_matrix.py", indicator="1.4.2")
    radio = next(r for r in at.radio if r.label == "Groups")
    radio.set_value("intersections").run()
    assert not at.exception
    first = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert first["layout"]["xaxis"]["ticktext"] == ["Rural women", "Women with disabilities", "Indigenous youth"]
    radio = next(r for r in at.radio if r.label == "Groups")
    radio.set_value("all").run()
    ticks = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["xaxis"]["ticktext"]
    assert ticks[-3:] == ["Rural women", "Women with disabilities", "Indigenous youth"] and len(ticks) > 3


def test_the_register_form_adds_an_entry_shown_as_text(data_dir: Path):
    before = len(register.read(data_dir))
    at = open_page("pages/gap_map.py", indicator="1.4.2", group="rural_women", level="1")
    by_label = {w.label: w for w in at.text_input}
    by_label["To whom"].input("PSA")
    by_label["Where"].input("Legazpi City")
    next(w for w in at.text_area if w.label == "Official response").input(MARKUP)
    next(w for w in at.date_input if w.label == "Presented on").set_value("2026-03-12")
    next(b for b in at.button if b.label == "Add to the register").click().run()
    assert not at.exception, [e.value for e in at.exception]
    reg = register.read(data_dir)
    assert len(reg) == before + 1
    new = reg.iloc[-1]
    assert (new["presented_on"], new["indicator"], new["group_id"], new["area_code"]) == (
        "2026-03-12", "1.4.2", "rural_women", "")
    assert new["official_response"] == MARKUP
    # shown in a table, character for character, and in no Markdown element
    cells = {str(x) for df in at.dataframe for x in df.value.to_numpy().ravel()}
    assert MARKUP in cells
    md = [m.value for m in at.markdown] + [c.value for c in at.caption] + [s.value for s in at.success]
    assert not any("not bold" in x for x in md)
    assert any(new["entry_id"] in x for x in (s.value for s in at.success))


def test_read_only_shows_the_register_without_the_form(data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GAPLENS_READ_ONLY", "1")
    at = open_page("pages/area_profile.py", area="PH-08", indicator="1.1.1", group="rural_women")
    assert not any(b.label == "Add to the register" for b in at.button)
    assert not any(w.label == "To whom" for w in at.text_input)
    assert any("E0001" in set(df.value.iloc[:, 0].astype(str)) for df in at.dataframe)
    assert any("read-only" in c.value for c in at.caption)
