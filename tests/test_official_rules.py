"""Official files read as their producers mean them: area code schemes, the finest area a row
describes, breakdowns that are breakdowns, age bands as intervals, observation statuses, SDMX
label columns, series kept apart, reports grouped by kind, and a store started from nothing.

Each quirk has a tiny asset in ``tests/assets/import/`` (sdg-build's habit) or inline text.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from support import cell

from data_layers import storage
from data_layers.catalogue import InitError, init_store
from data_layers.importers import import_file, validate
from data_layers.importers.report import ACCEPTED, REFUSED, Report
from data_layers.store import GapStore, QueryError

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "tests" / "assets" / "import"

WALES = """
code,name,level,parent_code
GBR,United Kingdom,0,
W92000004,Wales,1,GBR
W06000015,Cardiff,2,W92000004
W06000011,Swansea,2,W92000004
"""

TWO_TENS = """
code,name,level,parent_code
XX,Testland,0,
10,Region Ten,1,XX
R2,Region Two,1,XX
P10,Province Ten,2,R2
"""


def a(name: str) -> Path:
    return ASSETS / name


def obs_of(data_dir: Path, dataset_id: str) -> pd.DataFrame:
    return pd.read_parquet(Path(data_dir) / "datasets" / dataset_id / "observations.parquet")


def errors(r: Report, code: str) -> list[tuple[int | None, str | None, str | None]]:
    return [(p.row, p.column, p.value) for p in r.errors() if p.code == code]


# --- area code schemes --------------------------------------------------------------------------

def test_open_sdg_numeric_geocodes_are_the_platforms_codes_never_m49(fresh_sample: Path) -> None:
    """GeoCode 24 is not Angola: the sample has no area coded 24, so the row is refused, named."""
    r = validate(a("indicator_8-5-2_numeric_geocode.csv"), "official", fresh_sample, area="PHL")
    assert r.status == REFUSED
    assert errors(r, "unknown_area") == [(2, "GeoCode", "24")]
    assert "never" not in r.to_text() or "AGO" not in r.to_text()
    assert "AGO" not in r.to_text() and "Angola" not in r.to_text()


def test_store_codes_resolve_exactly(tiny_store) -> None:
    store = tiny_store(areas=TWO_TENS)
    f = store.data_dir / "indicator_6-1-1.csv"
    f.write_text("Year,GeoCode,Value\n2020,10,50\n", encoding="utf-8")
    store.close()
    r = validate(f, "official", store.data_dir, area="XX")
    assert r.status == ACCEPTED, r.to_text()  # one area coded 10: no ambiguity
    f.write_text("Year,GeoCode,Value\n2020,P10,50\n", encoding="utf-8")
    assert validate(f, "official", store.data_dir, area="XX").status == ACCEPTED


def test_a_name_held_by_two_areas_is_refused_with_both_named_until_the_level_is_given(tiny_store) -> None:
    store = tiny_store(areas=WALES + "CF1,Cardiff,1,GBR\n")
    store.close()
    f = store.data_dir / "indicator_6-1-1.csv"
    f.write_text("Year,GeoCode,Value\n2020,Cardiff,50\n", encoding="utf-8")
    r = validate(f, "official", store.data_dir, area="GBR")
    assert r.status == REFUSED
    (msg,) = [p.message for p in r.errors() if p.code == "ambiguous_area"]
    assert "CF1 Cardiff (level 1)" in msg and "W06000015 Cardiff (level 2)" in msg
    r = import_file(f, "official", store.data_dir, area="GBR", geo_level=2)
    assert r.status == ACCEPTED, r.to_text()
    assert list(obs_of(store.data_dir, r.dataset_id)["area_code"]) == ["W06000015"]


def test_un_codes_resolve_at_level_0_only(tiny_store) -> None:
    store = tiny_store(areas=TWO_TENS)
    store.close()
    f = store.data_dir / "un.csv"
    f.write_text("SeriesCode,GeoAreaCode,GeoAreaName,TimePeriod,Value\nSH_H2O_SAFE,10,Algeria?,2020,50\n", encoding="utf-8")
    r = validate(f, "official", store.data_dir, indicator="6.1.1")
    # M49 10 is Antarctica: a country this tiny store has no boundary for; never "Region Ten"
    assert r.rows_kept_apart == 1 and r.rows_stored == 0
    assert [p.code for p in r.warnings()] == ["no_boundary"]
    r = validate(f, "official", store.data_dir, indicator="6.1.1", geo_level=1)
    assert r.status == REFUSED and "level 0 only" in r.errors()[0].message


# --- the finest area a row describes --------------------------------------------------------------

def test_rows_attach_to_the_council_they_name_not_to_the_nation_code(tiny_store) -> None:
    store = tiny_store(areas=WALES)
    store.close()
    r = import_file(a("indicator_16-1-4_councils.csv"), "official", store.data_dir, area="GBR", accept_partial=True)
    assert r.status == "accepted_partial", r.to_text()
    o = obs_of(store.data_dir, r.dataset_id).sort_values("value")
    assert list(zip(o["area_code"], o["value"], strict=True)) == [("W92000004", 10.0), ("W06000015", 12.0),
                                                                  ("W06000011", 14.0)]
    (bad,) = [p for p in r.errors() if p.code == "unknown_area"]
    assert (bad.row, bad.column, bad.value) == (5, "Welsh Unitary Authority", "Cardif")
    assert "'Cardiff'" in bad.message  # suggested, never applied
    assert "Welsh Unitary Authority" in r.dropped_columns  # area names are not a breakdown


# --- breakdowns are breakdowns -------------------------------------------------------------------

def test_a_column_constant_across_the_series_is_context_not_a_breakdown(fresh_sample: Path) -> None:
    r = import_file(a("indicator_8-5-1_constant_age.csv"), "official", fresh_sample, area="PHL")
    assert r.status == ACCEPTED, r.to_text()
    assert any("same label on every row" in n for n in r.notes)
    o = obs_of(fresh_sample, r.dataset_id)
    assert sorted(zip(o["period"], o["disagg_dim"], o["disagg_code"], strict=True)) == [
        (2020, "SEX", "F"), (2020, "SEX", "M"), (2020, "_T", "_T"), (2021, "_T", "_T")]
    assert (o["footnote"].str.contains("Age: 15+")).all()
    s = GapStore(fresh_sample)
    try:
        cells = s.coverage(level=0, as_of=2024, window=5, indicators=["8.5.1"], areas=["PHL"])
    finally:
        s.close()
    assert cell(cells, "8.5.1", "PHL", "all")["status"] == "current"  # queryable: added to the catalogue
    assert cell(cells, "8.5.1", "PHL", "women")["status"] == "current"


def test_age_bands_are_intervals_and_progress_is_not_a_breakdown(tiny_store) -> None:
    store = tiny_store(areas="code,name,level,parent_code\nXX,Testland,0,\n")
    store.close()
    r = import_file(a("indicator_8-5-2_age_bands.csv"), "official", store.data_dir, area="XX")
    assert r.status == ACCEPTED, r.to_text()
    assert "Progress" in r.dropped_columns
    o = obs_of(store.data_dir, r.dataset_id)
    assert sorted(o["age"]) == ["Y15T24", "Y15T29", "Y16T24", "Y60T64", "_T"]
    assert (o["other_dims"] == "").all()
    s = GapStore(store.data_dir)
    try:
        cells = s.coverage(level=0, as_of=2024, window=5, indicators=["8.5.2"])
    finally:
        s.close()
    youth = cell(cells, "8.5.2", "XX", "youth")
    assert (youth["status"], youth["official_value"]) == ("current", 11.0)  # 15-24 preferred over 16-24; 15-29 never


def test_youth_covered_by_a_band_inside_15_24_but_not_by_15_29(tiny_store) -> None:
    store = tiny_store("""
kind,indicator,area_code,period,age,value
official,6.1.1,P1,2022,,50
official,6.1.1,P1,2022,Y18T24,40
official,6.1.1,P2,2022,,50
official,6.1.1,P2,2022,Y15T29,40
official,6.1.1,P3,2022,,50
official,6.1.1,P3,2022,Y_GE70,30
""")
    cells = store.coverage(level=2, as_of=2024, window=5, indicators=["6.1.1"])
    assert cell(cells, "6.1.1", "P1", "youth")["status"] == "current"
    assert cell(cells, "6.1.1", "P2", "youth")["status"] == "aggregate_only"
    assert cell(cells, "6.1.1", "P3", "older")["status"] == "current"  # 70+ lies inside 60+


def test_national_labels_map_to_sdmx_codes(fresh_sample: Path) -> None:
    r = import_file(a("indicator_10-3-1_national_labels.csv"), "official", fresh_sample, area="PHL")
    assert r.status == ACCEPTED, r.to_text()
    o = obs_of(fresh_sample, r.dataset_id)
    got = sorted(zip(o["disagg_dim"], o["disagg_code"], strict=True))
    assert got == [("INDIGENOUS_STATUS", "IND"), ("INDIGENOUS_STATUS", "IND_FN"), ("INDIGENOUS_STATUS", "NIND"),
                   ("MIGRATORY_STATUS", "MS_MIG"), ("_T", "_T")]


# --- observation status ----------------------------------------------------------------------------

def test_missing_value_suppressed_is_a_suppressed_figure_with_or_without_a_number(fresh_sample: Path) -> None:
    for d in (fresh_sample / "datasets").iterdir():  # only this file's figures for 5.b.1
        shutil.rmtree(d)
    r = import_file(a("indicator_5-b-1_suppressed_status.csv"), "official", fresh_sample, area="PHL")
    assert r.status == ACCEPTED, r.to_text()
    o = obs_of(fresh_sample, r.dataset_id).sort_values("sex")
    assert list(zip(o["sex"], o["suppressed"], o["obs_status"], strict=True)) == [
        ("F", True, "Q"), ("M", True, "Q"), ("_T", False, "A")]
    assert o.loc[o["sex"] == "F", "value"].isna().all()  # the 12 in the file is never shown
    s = GapStore(fresh_sample)
    try:
        cells = s.coverage(level=0, as_of=2024, window=5, indicators=["5.b.1"], areas=["PHL"])
    finally:
        s.close()
    women = cell(cells, "5.b.1", "PHL", "women")
    assert women["status"] == "current" and bool(women["official_suppressed"]) and pd.isna(women["official_value"])


# --- SDMX-CSV -------------------------------------------------------------------------------------

def test_sdmx_label_columns_are_set_aside_and_aggregates_kept_apart(fresh_sample: Path) -> None:
    r = import_file(a("sdmx_label_columns.csv"), "official", fresh_sample, indicator="3.2.1")
    assert r.status == ACCEPTED, r.to_text()
    assert (r.rows_stored, r.rows_kept_apart) == (2, 1)
    o = obs_of(fresh_sample, r.dataset_id)
    assert set(o["series"]) == {"CME_X"} and set(o["indicator"]) == {"3.2.1"}


# --- series ---------------------------------------------------------------------------------------

SERIES = """
kind,indicator,series,unit,area_code,period,sex,value
official,6.1.1,SH_A,percent,P1,2019,,70
official,6.1.1,SH_A,percent,P1,2019,F,60
official,6.1.1,SH_B,number,P1,2022,,9000
official,6.1.1,SH_B,number,P1,2022,F,4000
official,6.1.1,SH_B,number,P1,2021,,8000
"""


def test_values_come_from_one_series_and_coverage_from_any(tiny_store) -> None:
    store = tiny_store(SERIES)
    opts = store.series_options(indicator="6.1.1")
    assert list(zip(opts["series"], opts["headline"], strict=True)) == [("SH_B", True), ("SH_A", False)]
    cells = store.coverage(level=2, as_of=2024, window=5, indicators=["6.1.1"])
    women = cell(cells, "6.1.1", "P1", "women")
    assert (women["status"], women["series"], women["unit"], women["official_value"]) == ("current", "SH_B", "number", 4000)
    assert women["group_minus_total"] == 4000 - 9000  # the total of the same series and year, never SH_A's 70
    picked = store.coverage(level=2, as_of=2024, window=5, indicators=["6.1.1"], series={"6.1.1": "SH_A"})
    women = cell(picked, "6.1.1", "P1", "women")
    assert (women["status"], women["official_latest_year"], women["official_value"], women["official_value_year"]) == (
        "current", 2022, 60, 2019)
    assert women["group_minus_total"] == 60 - 70  # SH_A's own total, same year
    ts = store.facts(indicator="6.1.1", area_code="P1")
    assert set(ts["series"]) == {"SH_B"} and sorted(ts["year"].unique()) == [2021, 2022]
    with pytest.raises(QueryError, match="not a series"):
        store.coverage(level=2, as_of=2024, window=5, series={"6.1.1": "NOPE"})


def test_the_catalogue_names_the_headline_series(tiny_store) -> None:
    store = tiny_store(SERIES, indicators="code,higher_is_better,not_applicable,series\n6.1.1,true,,SH_A\n")
    assert store.series_options(indicator="6.1.1").query("headline")["series"].tolist() == ["SH_A"]
    women = cell(store.coverage(level=2, as_of=2024, window=10, indicators=["6.1.1"]), "6.1.1", "P1", "women")
    assert (women["series"], women["official_value"], women["outcome_gap"]) == ("SH_A", 60, 10)  # higher is better


# --- reports --------------------------------------------------------------------------------------

def test_a_wide_file_reports_one_line_per_row_and_every_kind_survives_the_cap(sample_copy: Path, tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAPLENS_ERROR_CAP", "3")
    f = tmp_path / "wide.csv"
    rows = ["SeriesCode,GeoAreaCode,GeoAreaName,Sex,2019,2020,2021"]
    rows += [f"SH_H2O_SAFE,608,Philippines,Unknown{i},1,2,3" for i in range(6)]  # unmapped label: one per row
    rows += ["SH_H2O_SAFE,608,Philippines,,x,y,z"]  # bad numbers: another kind
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = validate(f, "official", sample_copy)
    kinds = {(code, n) for (sev, code, _), n in r.kinds.items() if sev == "error"}
    assert ("unmapped_label", 1) in kinds  # six labels: six kinds of one row each
    assert any(code != "unmapped_label" for code, _ in kinds)  # the bad numbers are not hidden behind the labels
    lines = [p for p in r.errors() if p.row == 2]
    assert len(lines) == 1  # one line for the row, not one per year column
    text = r.to_text(max_problems=2)
    assert "kinds" in text


# --- a store from nothing -----------------------------------------------------------------------

def test_init_makes_an_empty_valid_store_with_the_whole_framework(tmp_path: Path) -> None:
    counts = init_store(tmp_path / "new", world=True)
    assert counts["indicators"] >= 231 and counts["areas"] > 200
    cat = storage.read_catalogue(tmp_path / "new", "indicators")
    row = cat.set_index("code").loc["11.3.1"]
    assert row["higher_is_better"] == "" and row["title"].startswith("Ratio of land consumption rate")
    s = GapStore(tmp_path / "new")
    try:
        cells = s.coverage(level=0, as_of=2024, window=5, indicators=["11.3.1"])
        assert len(cells) == counts["areas"] * len(s.groups()) and set(cells["status"]) == {"missing"}
    finally:
        s.close()
    with pytest.raises(InitError, match="not an empty folder"):
        init_store(tmp_path / "new")


def test_removing_the_last_dataset_leaves_a_valid_empty_store(tmp_path: Path) -> None:
    init_store(tmp_path / "s", world=True)
    f = tmp_path / "one.csv"
    f.write_text("indicator,area_code,period,value\n6.1.1,PHL,2021,50\n", encoding="utf-8")
    assert import_file(f, "official", tmp_path / "s", dataset_id="one").status == ACCEPTED
    done = subprocess.run([sys.executable, "-m", "data_layers", "datasets", "remove", "one", "--data-dir", str(tmp_path / "s")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    s = GapStore(tmp_path / "s")
    try:
        assert s.datasets().empty
        assert set(s.coverage(level=0, as_of=2024, window=5, indicators=["6.1.1"])["status"]) == {"missing"}
    finally:
        s.close()


def test_init_on_the_command_line_refuses_an_existing_store(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "sample_data" / "areas", tmp_path / "store" / "areas")
    done = subprocess.run([sys.executable, "-m", "data_layers", "init", str(tmp_path / "store")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 2 and "not an empty folder" in done.stderr


def test_the_page_names_its_own_controls_where_the_cli_names_flags() -> None:
    from data_layers.i18n import t
    from data_layers.importers.report import page_words

    msg = ("cannot tell which indicator this file is about: name the file after it or give --indicator CODE; "
           "store the valid rows with --accept-partial")
    fr = page_words(msg, lambda key: t(key, "fr"))
    assert "--" not in fr and f"“{t('ui.import.indicator', 'fr')}”" in fr
    assert f"“{t('ui.import.accept_partial', 'fr')}”" in fr


def test_the_dashboard_shows_the_chosen_series(tiny_store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A view names the series its values come from (URL `series=`); the gap map follows it, the
    sidebar offers the choice only for an indicator with several series."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from data_layers import figures
    from data_layers.i18n import t
    from data_layers.views import View

    store = tiny_store(SERIES)
    view, notices = View.from_params({"indicator": "6.1.1", "group": "women", "level": "2", "series": "SH_A"}, store=store)
    assert (view.series, notices) == ("SH_A|percent", [])
    headline = figures.gap_map(store, view.replace(series="")).data.set_index("area_code")
    chosen = figures.gap_map(store, view).data.set_index("area_code")
    assert headline.loc["P1", "official_value"] == 4000 and chosen.loc["P1", "official_value"] == 60
    _, notices = View.from_params({"indicator": "6.1.1", "series": "NOPE"}, store=store)
    assert len(notices) == 1  # refused, named, the headline shown
    store.close()
    monkeypatch.setenv("GAPLENS_DATA_DIR", str(store.data_dir))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.query_params.update({"indicator": "6.1.1", "group": "women", "level": "2"})
    at.run()
    assert not at.exception, at.exception
    picker = [s for s in at.sidebar.selectbox if s.label == t("ui.filter.series")]
    assert picker and picker[0].options[0].startswith("Headline: SH_B")


def test_a_bounded_base_age_is_the_total_but_a_group_band_never_is(tiny_store) -> None:
    """Malta's platform publishes every figure for ages 15-74 (with 15-24 and 25-74 beside it) and
    'Unit of measure': the 15-74 rows are the totals. A youth-only file (15-24 with 15-19 and 20-24)
    keeps 15-24 as youth: a band inside an age group describes that group, not everyone."""
    store = tiny_store(areas="code,name,level,parent_code\nXX,Testland,0,\n")
    store.close()
    r = import_file(a("indicator_8-5-2_bounded_base_age.csv"), "official", store.data_dir, area="XX")
    assert r.status == ACCEPTED, r.to_text()
    assert set(obs_of(store.data_dir, r.dataset_id)["unit"]) == {"percent"}
    s = GapStore(store.data_dir)
    try:
        cells = s.coverage(level=0, as_of=2020, window=5, indicators=["8.5.2"])
    finally:
        s.close()
    got = {g: (cell(cells, "8.5.2", "XX", g)["status"], cell(cells, "8.5.2", "XX", g)["official_value"])
           for g in ("all", "women", "men", "youth")}
    assert got == {"all": ("current", 3.7), "women": ("current", 3.5), "men": ("current", 3.8), "youth": ("current", 9.1)}
    r = validate(a("indicator_8-5-2_youth_only.csv"), "official", store.data_dir, area="XX")
    assert r.status == ACCEPTED and not any("is the population" in n for n in r.notes)
