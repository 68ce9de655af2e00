"""Citizen evidence that counts (DESIGN.md): the quality verdict inside the rule, honest small
cells, complementary suppression, every record of the window, and official and citizen figures
side by side.

Tiny stores (``conftest.tiny_store``: country XX; regions R1 (provinces P1, P2) and R2 (P3)) show
each rule on one screen; the sample proves that its not-usable youth poll and its suppressed
Batanes cell are never "filled" anywhere: facts, CLI, exports, briefs and every page.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from support import ROOT, cell

from data_layers import storage
from data_layers.store import GapStore

AS_OF, WINDOW = 2024, 5
FAILS_NEED = {"gateway_need": False}
FILLED_WORDS = "Filled by citizen data"


def cov(store, level: int = 1, as_of: int = AS_OF, window: int = WINDOW, **kw) -> pd.DataFrame:
    return store.coverage(level=level, as_of=as_of, window=window, **kw)


def isnull(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA


# --- the verdict inside the rule -------------------------------------------------------------------

def test_a_not_usable_dataset_shows_with_its_reason_and_never_fills(tiny_store):
    store = tiny_store("""
        kind,    dataset, indicator, area_code, period, sex, value, n
        citizen, poll,    6.1.1,     R1,        2023,   F,   90,    400
        citizen, poll,    6.1.1,     R2,        2023,   F,   90,    400
        citizen, survey,  6.1.1,     R2,        2022,   F,   40,    100
    """, citizen_meta={"poll": FAILS_NEED})
    cells = cov(store)
    only_poll = cell(cells, "6.1.1", "R1", "women")
    assert (only_poll["status"], only_poll["cgd_status"], only_poll["headline"]) == ("missing", "present", "blind_spot")
    assert (only_poll["cgd_reason"], only_poll["cgd_reason_detail"]) == ("not_usable", "gateway_need")
    assert only_poll["cgd_value"] == pytest.approx(90.0) and only_poll["cgd_datasets"] == "poll"  # shown, with why
    both = cell(cells, "6.1.1", "R2", "women")  # the usable survey fills; the poll is never pooled with it
    assert (both["headline"], both["cgd_reason"], both["cgd_datasets"]) == ("filled", "", "survey")
    assert both["cgd_value"] == pytest.approx(40.0) and both["cgd_n"] == 100
    scores = store.area_scores(level=1, as_of=AS_OF, window=WINDOW, groups=["women"])
    assert scores.set_index("area_code").loc["R1", "n_filled"] == 0


@pytest.mark.parametrize(("meta", "detail"), [
    ({"gateway_ethics": False}, "gateway_ethics"),
    ({"score_methods": 0}, "score_methods=0"),
    ({"score_relevance": 1, "score_methods": 1, "score_coverage": 1, "score_timeliness": 2}, "mean=1.50"),
    ({"score_qa": None}, "not_assessed"),
    ({"gateway_need": None}, "gateway_unknown"),
])
def test_every_verdict_but_usable_keeps_a_cell_from_being_filled(tiny_store, meta, detail):
    store = tiny_store("""
        kind,    indicator, area_code, period, sex, value, n
        citizen, 6.1.1,     R1,        2023,   F,   55,    80
    """, citizen_meta={"cgd": meta})
    c = cell(cov(store), "6.1.1", "R1", "women")
    assert (c["headline"], c["cgd_reason"], c["cgd_reason_detail"]) == ("blind_spot", "not_usable", detail)


def test_a_changed_assessment_refreshes_the_facts_like_an_import(tiny_store):
    store = tiny_store("""
        kind,    indicator, area_code, period, sex, value, n
        citizen, 6.1.1,     R1,        2023,   F,   55,    80
    """, citizen_meta={"cgd": FAILS_NEED})
    assert cell(cov(store), "6.1.1", "R1", "women")["headline"] == "blind_spot"
    path = storage.datasets_dir(store.data_dir) / "cgd" / "dataset.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta["gateway_need"] = True  # the assessment is revised: the poll does fill an official gap
    storage.atomic_write_bytes(path, json.dumps(meta).encode())
    again = GapStore(store.data_dir)
    try:
        c = cell(cov(again), "6.1.1", "R1", "women")
        assert (c["headline"], c["cgd_reason"]) == ("filled", "")
        facts = again.query("SELECT usable FROM citizen_facts")
        assert facts["usable"].all()
    finally:
        again.close()


# --- small cells -----------------------------------------------------------------------------------

def test_k_counts_only_the_respondents_behind_the_shown_figure(tiny_store):
    """An aggregate of 3 suppressed at source plus 2 household points is not a figure of 5."""
    store = tiny_store("""
        kind,    indicator, area_code, period, urbanisation, value, n, suppressed, lat, lon, is_point
        citizen, 6.1.1,     P1,        2023,   R,            ,      3, true,       ,    ,    false
        citizen, 6.1.1,     P1,        2023,   R,            100,   1, ,           1.0, 1.0, true
        citizen, 6.1.1,     P1,        2023,   R,            100,   1, ,           2.0, 1.0, true
    """, point_kind="people")
    c = cell(cov(store, level=2), "6.1.1", "P1", "rural")
    assert bool(c["cgd_suppressed"]) and isnull(c["cgd_value"]) and c["headline"] == "blind_spot"
    assert (c["cgd_reason"], c["cgd_reason_detail"], c["cgd_n"]) == ("suppressed", "small", 2)


def test_a_suppressed_figure_never_fills(tiny_store):
    store = tiny_store("""
        kind,    indicator, area_code, period, disability_status, value, n, suppressed
        citizen, 8.5.2,     R1,        2023,   PD,                20,    3, true
        citizen, 8.5.2,     R2,        2023,   PD,                20,    40, true
    """, indicators="code,higher_is_better,not_applicable\n8.5.2,false,")
    cells = cov(store)
    few = cell(cells, "8.5.2", "R1", "disability")
    assert (few["headline"], few["cgd_reason"], few["cgd_reason_detail"], few["cgd_n"]) == \
        ("blind_spot", "suppressed", "small", 3)
    at_source = cell(cells, "8.5.2", "R2", "disability")
    assert (at_source["headline"], at_source["cgd_reason_detail"]) == ("blind_spot", "source")


# --- every record of the window ------------------------------------------------------------------

def test_every_year_of_the_window_counts_not_only_the_newest(tiny_store):
    store = tiny_store("""
        kind,    dataset, indicator, area_code, period, sex, value, n
        citizen, old,     6.1.1,     R1,        2017,   F,   99,    50
        citizen, a,       6.1.1,     R1,        2020,   F,   20,    10
        citizen, b,       6.1.1,     R1,        2023,   F,   60,    30
        citizen, b,       6.1.1,     R1,        2024,   F,   ,      3
        citizen, c,       6.1.1,     R2,        2017,   F,   35,    30
    """)
    cells = cov(store)
    c = cell(cells, "6.1.1", "R1", "women")
    # n-weighted over 2020 and 2023 (2017 is outside the window; 2024 has no figure)
    assert c["cgd_value"] == pytest.approx((20 * 10 + 60 * 30) / 40)
    assert (c["cgd_n"], c["cgd_latest_year"], c["cgd_datasets"], c["headline"]) == (40, 2023, "a,b", "filled")
    stale = cell(cells, "6.1.1", "R2", "women")
    assert (stale["cgd_status"], stale["cgd_reason"], stale["headline"]) == ("stale", "stale", "blind_spot")
    assert stale["cgd_value"] == pytest.approx(35.0) and stale["cgd_latest_year"] == 2017


def test_a_year_too_small_to_show_is_left_out_of_the_window_figure(tiny_store):
    store = tiny_store("""
        kind,    indicator, area_code, period, sex, value, n
        citizen, 6.1.1,     R1,        2022,   F,   10,    3
        citizen, 6.1.1,     R1,        2023,   F,   50,    20
    """)
    c = cell(cov(store), "6.1.1", "R1", "women")
    assert (c["cgd_value"], c["cgd_n"]) == (pytest.approx(50.0), 20)  # the 3 respondents of 2022 stay hidden


# --- ties ----------------------------------------------------------------------------------------

def test_ties_a_shown_figure_beats_a_suppressed_one_then_the_first_code(tiny_store):
    store = tiny_store("""
        kind,     dataset, indicator, area_code, period, age,    value, n,   suppressed
        official, off,     6.1.1,     R1,        2022,   Y15T24, ,      ,    true
        official, off,     6.1.1,     R1,        2022,   Y15T19, 61,    900,
        official, off,     6.1.1,     R2,        2022,   Y15T24, 70,    900,
        official, off,     6.1.1,     R2,        2022,   Y15T19, 71,    900,
        citizen,  cgd,     6.1.1,     R1,        2023,   Y15T24, 10,    3,
        citizen,  cgd,     6.1.1,     R1,        2023,   Y15T19, 40,    50,
        citizen,  cgd,     6.1.1,     R2,        2023,   Y15T24, 30,    20,
        citizen,  cgd,     6.1.1,     R2,        2023,   Y15T19, 45,    50,
    """)
    cells = cov(store)
    r1, r2 = cell(cells, "6.1.1", "R1", "youth"), cell(cells, "6.1.1", "R2", "youth")
    assert (r1["official_value"], bool(r1["official_suppressed"])) == (pytest.approx(61.0), False)
    assert (r2["official_value"], bool(r2["official_suppressed"])) == (pytest.approx(70.0), False)
    # one figure per dataset, cell and year, never a sum of overlapping age bands
    assert (r1["cgd_value"], r1["cgd_n"]) == (pytest.approx(40.0), 50)
    assert (r2["cgd_value"], r2["cgd_n"]) == (pytest.approx(30.0), 20)


# --- complementary suppression -------------------------------------------------------------------

COMPLEMENTARY = """
    kind,    dataset, indicator, area_code, period, sex, value, n,  lat, lon, is_point
    citizen, pts,     6.1.1,     P1,        2023,   ,    0,     3,  1.0, 1.0, true
    citizen, pts,     6.1.1,     P2,        2023,   ,    80,    10, 2.0, 1.0, true
    citizen, pts,     6.1.1,     P2,        2023,   ,    40,    12, 3.0, 1.0, true
    citizen, agg,     6.1.1,     R2,        2023,   F,   50,    40, ,    ,    false
    citizen, agg,     6.1.1,     P3,        2023,   F,   10,    4,  ,    ,    false
    citizen, agg,     1.2.1,     R2,        2023,   ,    50,    40, ,    ,    false
    citizen, agg,     1.2.1,     R2,        2023,   F,   30,    3,  ,    ,    false
    citizen, agg,     1.2.1,     R2,        2023,   M,   52,    37, ,    ,    false
"""


def _derive(levels: dict[int, pd.DataFrame], parents: dict[str, str]) -> list[str]:
    """Every suppressed citizen figure a reader could work out from the shown ones: a parent (area
    or total) with its n and all but one of its parts shown with their n."""
    found = []
    cells = pd.concat(levels.values(), ignore_index=True)
    cells = cells[cells["cgd_status"] != "none"]
    shown = {(r.indicator, r.area_code, r.group): (float(r.cgd_value), float(r.cgd_n)) for r in cells.itertuples()
             if not isnull(r.cgd_value) and not isnull(r.cgd_n)}
    hidden = [(r.indicator, r.area_code, r.group) for r in cells.itertuples() if bool(r.cgd_suppressed)]
    for ind, area, group in hidden:
        families = []
        parent = parents.get(area)
        if parent:  # the parent area and this area's siblings
            families.append(((ind, parent, group),
                             [(ind, a, group) for a, p in parents.items() if p == parent and a != area]))
        if group in ("women", "men"):  # the total and the other sex
            families.append(((ind, area, "all"), [(ind, area, "men" if group == "women" else "women")]))
        for top, siblings in families:
            others = [o for o in siblings if o in shown or o in hidden]  # parts with data
            if top in shown and all(o in shown for o in others):
                v, n = shown[top]
                rest_n = sum(shown[o][1] for o in others)
                if n > rest_n:
                    found.append(f"{area}/{group} = {(v * n - sum(shown[o][0] * shown[o][1] for o in others)) / (n - rest_n):.1f}")
    return found


def _gaps_csv(data_dir: Path, level: int) -> pd.DataFrame:
    out = subprocess.run([sys.executable, "-m", "data_layers", "gaps", "--data-dir", str(data_dir), "--level",
                          str(level), "--as-of", str(AS_OF), "--format", "csv", "--out", "-"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return pd.read_csv(io.StringIO(out.stdout), dtype={"area_code": str, "group": str})


def test_complementary_suppression_in_the_facts(tiny_store):
    store = tiny_store(COMPLEMENTARY)
    l2, l1 = cov(store, level=2), cov(store, level=1)
    p1, p2 = cell(l2, "6.1.1", "P1", "all"), cell(l2, "6.1.1", "P2", "all")
    r1 = cell(l1, "6.1.1", "R1", "all")
    assert (p1["cgd_reason_detail"], p2["cgd_reason_detail"]) == ("small", "complementary")
    assert isnull(p2["cgd_value"]) and r1["cgd_value"] == pytest.approx((80 * 10 + 40 * 12) / 25)
    # R2's men would give its 3 women away from the total: hidden too
    assert cell(l1, "1.2.1", "R2", "women")["cgd_reason_detail"] == "small"
    assert cell(l1, "1.2.1", "R2", "men")["cgd_reason_detail"] == "complementary"
    assert cell(l1, "1.2.1", "R2", "all")["cgd_value"] == pytest.approx(50.0)
    # P3, R2's only province with a figure for women, suppressed: R2's figure is hidden instead
    assert cell(l2, "6.1.1", "P3", "women")["cgd_reason_detail"] == "small"
    assert cell(l1, "6.1.1", "R2", "women")["cgd_reason_detail"] == "complementary"
    # the pages, CLI and exports read these facts: nothing can be worked out from what they show
    parents = dict(zip(store.areas()["code"], store.areas()["parent_code"], strict=True))
    shown = {lv: cov(store, level=lv) for lv in (0, 1, 2)}
    assert _derive(shown, parents) == []


def test_a_suppressed_figure_cannot_be_worked_out_from_the_cli_and_an_export(tiny_store, tmp_path):
    from data_layers.exports.cli import export_chart
    from data_layers.views import View

    store = tiny_store(COMPLEMENTARY)
    parents = dict(zip(store.areas()["code"], store.areas()["parent_code"], strict=True))
    from_cli = {lv: _gaps_csv(store.data_dir, lv) for lv in (0, 1, 2)}
    assert _derive(from_cli, parents) == []
    exported = {}
    for lv in (1, 2):
        for grp in ("all", "women", "men"):
            text = export_chart(store, "gap-map", View(indicator="6.1.1", group=grp, level=lv, as_of=AS_OF), "csv", "en")
            df = pd.read_csv(io.StringIO(text.decode("utf-8-sig") if isinstance(text, bytes) else text))
            df["cgd_value"] = pd.to_numeric(df["cgd_value"], errors="coerce")  # "suppressed" is a word, not a figure
            exported.setdefault(lv, []).append(df.assign(group=grp, indicator="6.1.1"))
    frames = {lv: pd.concat(v, ignore_index=True) for lv, v in exported.items()}
    assert not frames[2].loc[frames[2]["area_code"] == "P2", "cgd_value"].notna().any()
    assert _derive(frames, parents) == []
    # the check is not vacuous: without complementary suppression P1 follows from R1 and P2
    p2 = from_cli[2]["area_code"].eq("P2") & from_cli[2]["indicator"].eq("6.1.1") & from_cli[2]["group"].eq("all")
    leaky = {1: from_cli[1], 2: from_cli[2].assign(
        cgd_value=from_cli[2]["cgd_value"].mask(p2, (80 * 10 + 40 * 12) / 22),
        cgd_suppressed=from_cli[2]["cgd_suppressed"] & ~p2)}
    assert any(x.startswith("P1/all = 0.0") for x in _derive(leaky, parents))


# --- official and citizen side by side -------------------------------------------------------------

def test_official_and_citizen_side_by_side_with_a_disagreement_flag(tiny_store):
    store = tiny_store("""
        kind,     dataset, indicator, area_code, period, urbanisation, sex, value, lower, upper, n,   unit
        official, off,     6.1.1,     R1,        2023,   R,            ,    80,    76,    84,    900, percent
        official, off,     6.1.1,     R2,        2023,   R,            ,    50,    ,      ,      900, percent
        official, off,     6.1.1,     R1,        2023,   ,             F,   50,    ,      ,      900, percent
        citizen,  cgd,     6.1.1,     R1,        2024,   R,            ,    40,    ,      ,      155, percent
        citizen,  cgd,     6.1.1,     R2,        2024,   R,            ,    53,    ,      ,      155, percent
        citizen,  cgd,     6.1.1,     R1,        2024,   ,             F,   9,     ,      ,      155, items
    """)
    cells = cov(store)
    far = cell(cells, "6.1.1", "R1", "rural")
    assert far["cgd_diff"] == pytest.approx(-40.0) and bool(far["cgd_disagrees"])
    p = (0.40 * 155 + 2) / (155 + 4)
    margin = math.sqrt(4.0 ** 2 + (196 * math.sqrt(p * (1 - p) / (155 + 4))) ** 2)
    assert far["cgd_margin"] == pytest.approx(margin)
    near = cell(cells, "6.1.1", "R2", "rural")  # 3 points apart, within ±7.8
    assert near["cgd_diff"] == pytest.approx(3.0) and near["cgd_disagrees"] is not None and not bool(near["cgd_disagrees"])
    other_unit = cell(cells, "6.1.1", "R1", "women")  # not comparable: no difference, no verdict
    assert isnull(other_unit["cgd_diff"]) and isnull(other_unit["cgd_disagrees"])


# --- the sample: the youth poll and Batanes are never "filled" anywhere --------------------------

POLL = "youth-online-poll-2024"
POLL_REGIONS = ["PH-00", "PH-03", "PH-07", "PH-11", "PH-40"]


def test_sample_facts_keep_the_poll_apart_and_batanes_suppressed(sample_store):
    facts = sample_store.query("SELECT * FROM citizen_facts WHERE datasets LIKE '%youth-online%'")
    assert len(facts) == len(POLL_REGIONS) and not facts["usable"].any()
    assert set(facts["reason"]) == {"gateway_need"}
    btn = sample_store.query("SELECT * FROM citizen_facts WHERE area_code = 'PH-BTN' AND group_id = 'disability'")
    assert len(btn) and btn["suppressed"].all() and btn["value"].isna().all() and set(btn["n"]) == {3}


@pytest.mark.parametrize("as_of", [2024, 2022, 2030])
def test_sample_cli_never_fills_from_the_poll_or_a_suppressed_figure(sample_copy, as_of):
    datasets = json.loads(subprocess.run([sys.executable, "-m", "data_layers", "datasets", "--data-dir",
                                          str(sample_copy), "--format", "json"], capture_output=True, text=True,
                                         check=True, cwd=ROOT).stdout)
    usable = {d["dataset_id"] for d in datasets if d["verdict"] == "usable"}
    assert POLL not in usable and {d["dataset_id"]: d["verdict"] for d in datasets}[POLL] == "not usable"
    for level in (0, 1, 2):
        out = subprocess.run([sys.executable, "-m", "data_layers", "gaps", "--data-dir", str(sample_copy), "--level",
                              str(level), "--as-of", str(as_of), "--window", "10", "--format", "csv", "--out", "-"],
                             capture_output=True, text=True, check=True, cwd=ROOT)
        d = pd.read_csv(io.StringIO(out.stdout), dtype=str)
        filled = d[d["headline"] == "filled"]
        assert not filled["cgd_suppressed"].str.lower().eq("true").any()
        assert filled["cgd_datasets"].map(lambda s: bool(set(s.split(",")) & usable)).all()
        assert not filled["cgd_datasets"].str.contains(POLL).any()
        n = pd.to_numeric(d["cgd_n"], errors="coerce")
        assert not (d["cgd_value"].notna() & (n < 5)).any()
        poll = d[d["cgd_datasets"].fillna("").str.contains(POLL)]
        assert set(poll["cgd_reason"].fillna("")) <= {"not_usable", "stale"}


def test_sample_bicol_rural_water_shows_as_a_disagreement(sample_store):
    c = cell(cov(sample_store, indicators=["6.1.1"], groups=["rural"]), "6.1.1", "PH-05", "rural")
    assert c["official_value"] == pytest.approx(80.0) and c["cgd_value"] < 50
    assert bool(c["cgd_disagrees"]) and c["cgd_diff"] < -c["cgd_margin"]


def test_sample_exports_and_briefs_never_call_the_poll_or_batanes_filled(sample_store):
    from data_layers.exports import brief
    from data_layers.exports.cli import export_chart
    from data_layers.views import View

    text = export_chart(sample_store, "gap-map", View(indicator="17.8.1", group="youth", level=1), "csv", "en")
    df = pd.read_csv(io.StringIO(text.decode("utf-8-sig") if isinstance(text, bytes) else text))
    poll = df[df["area_code"].isin(POLL_REGIONS)]
    assert len(poll) == len(POLL_REGIONS) and not poll["class"].eq(FILLED_WORDS).any()
    assert set(poll["cgd_reason"]) == {"not_usable"}
    text = export_chart(sample_store, "gap-map", View(indicator="8.5.2", group="disability", level=2), "csv", "en")
    df = pd.read_csv(io.StringIO(text.decode("utf-8-sig") if isinstance(text, bytes) else text))
    assert df.set_index("area_code").loc["PH-BTN", "class"] != FILLED_WORDS
    matrix = export_chart(sample_store, "area-matrix", View(indicator="17.8.1", level=1), "csv", "en")
    m = pd.read_csv(io.StringIO(matrix.decode("utf-8-sig") if isinstance(matrix, bytes) else matrix))
    assert not m[m["area_code"].isin(POLL_REGIONS) & m["group"].eq("youth")]["class"].eq(FILLED_WORDS).any()
    for code in ("17.8.1", "8.5.2"):
        d = brief.collect(sample_store, indicator=code, level=1 if code == "17.8.1" else 2)
        cells = d.cells
        hit = cells[cells["area_code"].isin([*POLL_REGIONS, "PH-BTN"]) & cells["group"].isin(["youth", "disability"])]
        assert len(hit) and not hit["headline"].eq("filled").any()
        assert brief.headline(cells).filled == int(cells["headline"].eq("filled").sum())
        html = brief.document(d, "<svg/>")
        if code == "17.8.1":
            assert "Does not count: not usable: fails the need gateway" in html
    region = brief.document(brief.collect(sample_store, area="PH-05", level=1), "<svg/>")
    assert "Where citizen data disagrees with the official figure" in region and "Participation" in region


# --- importers: suppressed official rows, the participation record --------------------------------

def test_a_canonical_row_marked_suppressed_without_a_value_is_a_suppressed_observation(fresh_sample, tmp_path):
    from data_layers.importers import import_file
    from data_layers.importers.report import ACCEPTED

    path = tmp_path / "canonical_suppressed.csv"
    path.write_text(
        "indicator,series,area_code,period,period_label,sex,urbanisation,other_dims,value,lower,upper,n,unit,"
        "obs_status,suppressed,source,footnote\n"
        "6.1.1,SH_H2O_SAFE,PH-05,2022,2022,_T,_T,,61.5,,,1200,percent,A,false,Survey,\n"
        "6.1.1,SH_H2O_SAFE,PH-05,2022,2022,F,_T,,,,,,percent,A,true,Survey,small cell\n"
        "6.1.1,SH_H2O_SAFE,PH-05,2022,2022,M,_T,,,,,,percent,A,false,Survey,not collected\n", encoding="utf-8")
    r = import_file(path, "official", fresh_sample, dataset_id="canon-supp")
    assert r.status == ACCEPTED and r.format == "canonical"
    stored = pd.read_parquet(fresh_sample / "datasets" / "canon-supp" / "observations.parquet")
    assert (len(stored), r.rows_skipped) == (2, 1)  # the unmarked empty row is "no figure"
    women = stored[stored["sex"] == "F"].iloc[0]
    assert bool(women["suppressed"]) and isnull(women["value"])
    store = GapStore(fresh_sample)
    try:
        c = cell(cov(store, as_of=2022, indicators=["6.1.1"], groups=["women"], areas=["PH-05"]),
                 "6.1.1", "PH-05", "women")
        assert (c["status"], bool(c["official_suppressed"])) == ("current", True) and isnull(c["official_value"])
    finally:
        store.close()


def test_the_participation_record_is_read_from_a_metadata_file(tmp_path):
    from data_layers.importers.meta import clean_metadata, load_metadata
    from data_layers.importers.report import Report

    meta = tmp_path / "meta.yaml"
    meta.write_text("title: Water points\nparticipation:\n  initiator: Barangay water committees\n"
                    "  initiator_kind: citizens\n  stages: [collection, design, use]\n"
                    "  group_membership: not applicable\n  contact: data@example.org\nconsent_basis: Not applicable\n",
                    encoding="utf-8")
    report = Report(file="meta.yaml", kind="citizen")
    out = clean_metadata(load_metadata(meta), report)
    assert not report.errors()
    assert out == {"title": "Water points", "initiator": "Barangay water committees", "initiator_kind": "citizens",
                   "citizen_stages": "design|collection|use", "group_membership": "not_applicable",
                   "contact": "data@example.org", "consent": "Not applicable"}
    bad = Report(file="meta.yaml", kind="citizen")
    clean_metadata({"participation": {"stages": "design|voting", "initiator_kind": "robots"}}, bad)
    assert sorted((p.column, p.value) for p in bad.errors()) == [("citizen_stages", "voting"),
                                                                 ("initiator_kind", "robots")]


def test_participation_basis_follows_the_copenhagen_framework():
    from data_layers.quality import participation_basis

    assert participation_basis({"initiator_kind": "civil_society"}) == "initiated"
    assert participation_basis({"initiator_kind": "official", "citizen_stages": "collection"}) == "took_part"
    assert participation_basis({"initiator_kind": "official", "citizen_stages": "use"}) == "not_citizen_data"
    assert participation_basis({}) == "not_recorded"


def test_the_time_series_and_the_cells_share_one_disagreement_margin(sample_store) -> None:
    """The margin Python computes for the area profile's chart equals cells.sql's cgd_margin."""
    from data_layers.quality import disagreement_margin

    cells = sample_store.coverage(level=1, as_of=2024, window=5, indicators=["6.1.1"], areas=["PH-05"])
    row = cells[(cells["group"] == "rural") & cells["cgd_margin"].notna()].iloc[0]
    off = sample_store.facts(indicator="6.1.1", area_code="PH-05")
    o = off[(off["group_id"] == "rural") & (off["year"] == int(row["official_value_year"]))].iloc[0]
    m = disagreement_margin(lower=o["lower"], upper=o["upper"], citizen_value=float(row["cgd_value"]),
                            n=float(row["cgd_n"]), unit="percent")
    assert m == pytest.approx(float(row["cgd_margin"]))
    assert bool(row["cgd_disagrees"]) is (abs(float(row["cgd_value"]) - float(row["official_value"])) > m)
