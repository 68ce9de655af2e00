"""The structure of docs/architecture.md, kept true: the store interface, one vocabulary, and each
worked example ("how to add a chart / an importer format / an export format / a language") run
as written there, on the real sample store and real files."""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from data_layers import figures, i18n, vocabulary
from data_layers.exports import formats
from data_layers.exports.cli import export_chart
from data_layers.figures import Answer, ChartResult, ChartSpec
from data_layers.importers import official
from data_layers.importers.report import Report
from data_layers.interface import STORE_METHODS, StoreAPI
from data_layers.store import GapStore
from data_layers.views import View

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


# --- the store interface and the vocabulary ---------------------------------------------------------

def test_gapstore_implements_every_query_of_the_interface(sample_store: GapStore) -> None:
    assert len(STORE_METHODS) >= 20
    for name in STORE_METHODS:
        ours, theirs = inspect.signature(getattr(StoreAPI, name)), inspect.signature(getattr(GapStore, name))
        assert list(ours.parameters) == list(theirs.parameters), name
    assert isinstance(sample_store, StoreAPI)


def test_the_moved_queries_answer_as_before(sample_store: GapStore) -> None:
    """The SQL that moved into GapStore methods returns what the inline queries returned."""
    n = sample_store.query("SELECT count(*) AS n FROM observations")["n"].iloc[0]
    assert sample_store.observation_count() == n > 0
    inds = set(sample_store.query("SELECT DISTINCT indicator FROM observations")["indicator"])
    assert set(sample_store.observed_indicators()) == inds
    areas = list(sample_store.areas(level=1)["code"])
    ids = sample_store.official_dataset_ids(areas=areas, as_of=2024)
    assert ids == sorted(ids) and ids
    assert sample_store.official_dataset_ids(areas=[], as_of=2024) == []


def test_the_headline_column_agrees_with_the_python_cell_class(sample_store: GapStore) -> None:
    """The drawn class refines the facts' ``headline``: one vocabulary, two granularities."""
    cells = sample_store.coverage(level=1, as_of=2024, window=5)
    classes = vocabulary.cell_classes(cells)
    to_headline = {vocabulary.CURRENT: vocabulary.COVERED, vocabulary.SUPPRESSED: vocabulary.COVERED,
                   vocabulary.FILLED: vocabulary.FILLED, vocabulary.NOT_APPLICABLE: vocabulary.NOT_APPLICABLE}
    derived = [to_headline.get(c, vocabulary.BLIND_SPOT) for c in classes]
    assert derived == list(cells["headline"])
    assert set(classes) <= set(vocabulary.CELL_CLASSES)
    assert set(cells["status"]) <= set(vocabulary.STATUSES)


def test_the_gap_statuses_are_those_area_scores_sql_counts() -> None:
    sql = (ROOT / "data_layers" / "sql" / "area_scores.sql").read_text(encoding="utf-8")
    for status in vocabulary.GAP_STATUSES:
        assert status in sql or "headline" in sql
    assert vocabulary.GAP_STATUSES == ("stale", "aggregate_only", "missing")


def test_the_app_patches_no_streamlit_internals() -> None:
    """The pages live in ``pages/`` beside ``dashboard.py`` (the brief's layout) and are registered with
    ``st.navigation`` only: no code of the app (data layer, pages, entry script) sets Streamlit's
    internal multipage flags; a page that Streamlit's legacy mode runs alone uses ``st.navigation``."""
    assert (ROOT / "pages" / "components.py").is_file()
    internal = "uses_pages" + "_directory"
    app_files = [*(ROOT / "data_layers").rglob("*.py"), *(ROOT / "pages").rglob("*.py"), ROOT / "dashboard.py"]
    assert not [p.name for p in app_files if internal in p.read_text(encoding="utf-8")]
    assert "st.navigation(" in (ROOT / "pages" / "components.py").read_text(encoding="utf-8")


# --- how to add a chart ------------------------------------------------------------------------------

@pytest.fixture
def restore_charts() -> Iterator[None]:
    before = dict(figures.CHARTS)
    yield
    figures.CHARTS.clear()
    figures.CHARTS.update(before)


def test_a_new_chart_is_a_question_a_drawing_and_one_registry_line(sample_store: GapStore,
                                                                   restore_charts: None) -> None:
    assert "## How to add a chart" in DOC

    def gaps_per_group(store: StoreAPI, view: View) -> Answer:
        cells = store.coverage(level=view.level, as_of=view.as_of, window=view.window)
        gaps = cells[cells["status"].isin(vocabulary.GAP_STATUSES)]
        return Answer(gaps.groupby("group").size().rename("gaps").reset_index())

    def gaps_bars(answer: Answer, store: StoreAPI, view: View) -> ChartResult:
        fig = go.Figure(go.Bar(x=answer.frame["group"], y=answer.frame["gaps"]))
        return ChartResult(fig, answer.frame, "Gaps per group", "", "", "Gaps per group, as bars.", "gaps-per-group")

    figures.register(ChartSpec.of("gaps-per-group", "chart.overview.title", gaps_per_group, gaps_bars))

    view = View(level=1, as_of=2024)
    res = figures.build("gaps-per-group", sample_store, view)
    cells = sample_store.coverage(level=1, as_of=2024, window=view.window)
    expected = cells[cells["status"].isin(["stale", "aggregate_only", "missing"])].groupby("group").size()
    assert dict(zip(res.data["group"], res.data["gaps"], strict=True)) == expected.to_dict()
    assert res.fig.to_dict()["data"][0]["type"] == "bar"
    # the export path finds it by name too
    csv = export_chart(sample_store, "gaps-per-group", view, "csv", "en").decode("utf-8-sig")
    assert csv.splitlines()[0].split(",")[:2] == ["group", "gaps"]


def test_the_overview_is_a_question_and_a_drawing(sample_store: GapStore) -> None:
    """The model chart: its question has codes only, and question + drawing is what the page shows."""
    spec = figures.CHARTS["overview"]
    assert spec.question is not None and spec.drawing is not None
    view = View(level=1, as_of=2024, lang="fr")
    answer = spec.question(sample_store, view)
    assert list(answer.frame.index[:1]) == ["__all__"]
    assert set(answer.frame.columns) >= {"covered", "filled", "blind_spot", "cells"}
    assert not any(isinstance(v, str) and " " in v for v in answer.frame.index)  # codes, not words
    drawn = spec.drawing(answer, sample_store, view)
    built = figures.overview_bars(sample_store, view)
    assert drawn.fig.to_dict() == built.fig.to_dict()
    pd.testing.assert_frame_equal(drawn.data, built.data)
    assert drawn.alt_text == built.alt_text and drawn.source == built.source


# --- how to add an importer format -------------------------------------------------------------------

@pytest.fixture
def restore_official_formats() -> Iterator[None]:
    before = (official.OFFICIAL_FORMATS, dict(official.OFFICIAL_FORMATS_BY_NAME), dict(official.FORMATS))
    yield
    official.OFFICIAL_FORMATS = before[0]
    official.OFFICIAL_FORMATS_BY_NAME.clear()
    official.OFFICIAL_FORMATS_BY_NAME.update(before[1])
    official.FORMATS.clear()
    official.FORMATS.update(before[2])


def test_a_new_importer_format_is_a_record(tmp_path: Path, restore_official_formats: None) -> None:
    assert "## How to add an importer format" in DOC
    seen: list[str] = []

    def read_my_office(table, report):
        seen.append("read")
        roles, dims, _ = official._split_columns(table, official.CANONICAL_META, report)
        return roles, official._long_from(table, roles, dims)

    my_format = official.OfficialFormat(
        "my_office", "My office's CSV", lambda h, cols: {"indicator", "area code", "period", "value", "office"} <= h,
        read_my_office)
    official.OFFICIAL_FORMATS = (my_format, *official.OFFICIAL_FORMATS)
    official.OFFICIAL_FORMATS_BY_NAME[my_format.name] = my_format
    official.FORMATS[my_format.name] = my_format.title

    f = tmp_path / "office.csv"
    f.write_text("indicator,area_code,period,value,office\n6.1.1,PH-05,2021,71.5,NSO\n6.1.1,PH-05,2022,72.0,NSO\n",
                 encoding="utf-8")
    report = Report(file=str(f), kind="official")
    parsed = official.parse_file(f, report, fmt=None, encoding=None)
    assert report.format == "my_office" and seen == ["read"]
    assert parsed is not None and len(parsed.long) == 2
    # the records keep the detection of the built-in formats
    assert official.detect_format(["Year", "Sex", "Value"], Path("x.csv")) == "open_sdg"
    assert official.detect_format(["REF_AREA", "TIME_PERIOD", "OBS_VALUE"], Path("x.csv")) == "sdmx"
    assert official.detect_format(["SeriesCode", "GeoAreaCode", "2015", "2016"], Path("x.csv")) == "un_wide"
    assert official.detect_format(["SeriesCode", "GeoAreaCode", "TimePeriod", "Value"], Path("x.csv")) == "un_long"


# --- how to add an export format ---------------------------------------------------------------------

def test_a_new_export_format_is_one_registry_line(sample_store: GapStore) -> None:
    assert "## How to add an export format" in DOC

    def write_json(result, store, view, lang) -> bytes:
        return result.data.to_json(orient="records").encode()

    try:
        formats.register(formats.ExportFormat("json", ".json", "application/json", write_json,
                                              "the chart's data as JSON"))
        view = View(level=1, as_of=2024)
        rows = json.loads(export_chart(sample_store, "overview", view, "json", "en"))
        assert rows[0]["group"] == "all_groups" and rows[0]["cells"] > 0
        with pytest.raises(KeyError, match="known formats are png, svg, pdf, csv, xlsx, json"):
            formats.export(figures.build("overview", sample_store, view), sample_store, view, "odt", "en")
    finally:
        formats.EXPORT_FORMATS.pop("json", None)


# --- how to add a language ---------------------------------------------------------------------------

def test_a_new_language_is_one_locale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "## How to add a language" in DOC
    en = (i18n.LOCALES_DIR / "en.yaml").read_text(encoding="utf-8")
    for name in ("en", "fr", "es", "ar"):
        (tmp_path / f"{name}.yaml").write_text((i18n.LOCALES_DIR / f"{name}.yaml").read_text(encoding="utf-8"),
                                               encoding="utf-8")
    # step 1: a copy of en.yaml with one value translated (the rest still English: a partial file)
    pt = re.sub(r'^fig\.overview\.all_groups: .*$', 'fig.overview.all_groups: "Todos os grupos"', en, flags=re.M)
    (tmp_path / "pt.yaml").write_text(pt, encoding="utf-8")
    # step 2: its code in LANGUAGES
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    monkeypatch.setitem(i18n.LANGUAGES, "pt", "Português")
    monkeypatch.setitem(i18n._BABEL_LOCALE, "pt", "pt")
    i18n.reload()
    try:
        assert i18n.normalise_lang("pt-BR") == "pt"
        assert i18n.t("fig.overview.all_groups", "pt") == "Todos os grupos"
        assert i18n.missing_keys("pt") == []
    finally:
        i18n.reload()
