"""The coverage rule of DESIGN.md, cell by cell, on tiny stores written inline as CSV text.

Each test shows its observations, the call and the expected cells on one screen. Areas (see
``conftest.DEFAULT_AREAS``): country XX; regions R1, R2; provinces P1, P2 (in R1) and P3 (in R2).
Indicators: 1.2.1 (poverty, lower is better) and 6.1.1 (safe water, higher is better). As-of 2024
with a 5-year window unless a test says otherwise, so [2019, 2024] is current.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from support import cell

from data_layers.schema import CELL_COLUMNS, STATUSES

AS_OF, WINDOW = 2024, 5


def cov(store, level: int = 1, as_of: int = AS_OF, window: int = WINDOW, **kw) -> pd.DataFrame:
    return store.coverage(level=level, as_of=as_of, window=window, **kw)


def isnull(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA


def test_every_status_and_columns(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, sex, urbanisation, value
        official, 6.1.1,     R1,        2022,   F,   ,             40
        official, 6.1.1,     R1,        2022,   ,    ,             50
        official, 6.1.1,     R1,        2015,   ,    R,            30
        official, 6.1.1,     R2,        2010,   ,    ,             45
    """, indicators="""
        code,  higher_is_better, not_applicable
        1.2.1, false,
        6.1.1, true,             men
    """)
    cells = cov(store)
    assert list(cells.columns) == [c for c, _ in CELL_COLUMNS]
    assert cell(cells, "6.1.1", "R1", "women")["status"] == "current"
    assert cell(cells, "6.1.1", "R1", "all")["status"] == "current"
    assert cell(cells, "6.1.1", "R1", "rural")["status"] == "stale"
    assert cell(cells, "6.1.1", "R1", "disability")["status"] == "aggregate_only"
    assert cell(cells, "6.1.1", "R1", "men")["status"] == "not_applicable"  # precedence over the total
    assert cell(cells, "6.1.1", "R2", "all")["status"] == "stale"
    assert cell(cells, "6.1.1", "R2", "women")["status"] == "aggregate_only"
    assert cell(cells, "1.2.1", "R1", "women")["status"] == "missing"
    assert set(cells["status"]) == set(STATUSES)
    # one row per indicator x region x group, nothing else
    n_groups = len(store.groups())
    assert len(cells) == 2 * 2 * n_groups
    assert not cells.duplicated(["indicator", "area_code", "group"]).any()


def test_both_edges_of_the_window(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, sex, urbanisation, disability_status, value
        official, 6.1.1,     R1,        2019,   F,   ,             ,                  41
        official, 6.1.1,     R1,        2018,   M,   ,             ,                  42
        official, 6.1.1,     R1,        2024,   ,    R,            ,                  43
        official, 6.1.1,     R1,        2025,   ,    ,             PD,                44
    """)
    cells = cov(store)
    women = cell(cells, "6.1.1", "R1", "women")
    assert (women["status"], women["official_latest_year"]) == ("current", 2019)  # as_of - window: current
    men = cell(cells, "6.1.1", "R1", "men")
    assert (men["status"], men["official_latest_year"]) == ("stale", 2018)  # one year older: stale
    assert cell(cells, "6.1.1", "R1", "rural")["status"] == "current"  # the as-of year itself
    pwd = cell(cells, "6.1.1", "R1", "disability")  # dated after the as-of year: invisible
    assert pwd["status"] == "missing" and isnull(pwd["official_latest_year"]) and isnull(pwd["official_value"])
    # a window of 0 years keeps only the as-of year
    cells0 = cov(store, window=0)
    assert cell(cells0, "6.1.1", "R1", "rural")["status"] == "current"
    assert cell(cells0, "6.1.1", "R1", "women")["status"] == "stale"
    # the same figure seen from 2025 is current
    assert cell(cov(store, as_of=2025), "6.1.1", "R1", "disability")["status"] == "current"


def test_as_of_in_the_past_hides_later_observations(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, sex, value
        official, 6.1.1,     R1,        2012,   F,   40
        official, 6.1.1,     R1,        2022,   F,   60
        official, 6.1.1,     R1,        2020,   ,    55
    """)
    past = cov(store, as_of=2016)
    women = cell(past, "6.1.1", "R1", "women")
    assert (women["status"], women["official_latest_year"], women["official_value"]) == ("current", 2012, 40.0)
    assert cell(past, "6.1.1", "R1", "all")["status"] == "missing"  # the 2020 total is in the future
    assert cell(past, "6.1.1", "R1", "men")["status"] == "missing"  # so no total hides the men yet
    now = cov(store)
    women = cell(now, "6.1.1", "R1", "women")
    assert (women["status"], women["official_latest_year"], women["official_value"]) == ("current", 2022, 60.0)
    assert cell(now, "6.1.1", "R1", "men")["status"] == "aggregate_only"
    assert cell(cov(store, as_of=2011), "6.1.1", "R1", "women")["status"] == "missing"


def test_aggregate_only_needs_a_total_dated_at_or_before_as_of(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, value
        official, 6.1.1,     R1,        2023,   50
        official, 6.1.1,     R2,        1990,   10
    """)
    assert cell(cov(store, as_of=2020), "6.1.1", "R1", "women")["status"] == "missing"
    assert cell(cov(store, as_of=2023), "6.1.1", "R1", "women")["status"] == "aggregate_only"
    old = cell(cov(store), "6.1.1", "R2", "women")  # a total of any age will do
    assert (old["status"], old["total_latest_year"], old["total_value"]) == ("aggregate_only", 1990, 10.0)
    assert cell(cov(store), "6.1.1", "R2", "all")["status"] == "stale"


def test_nothing_is_inferred_up_or_down_the_hierarchy(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, sex, value
        official, 6.1.1,     P1,        2022,   F,   40
        official, 6.1.1,     P1,        2022,   ,    50
        official, 6.1.1,     R2,        2022,   F,   45
    """)
    regions = cov(store, level=1)
    assert cell(regions, "6.1.1", "R1", "women")["status"] == "missing"  # P1's figure does not cover R1
    assert cell(regions, "6.1.1", "R2", "women")["status"] == "current"
    provinces = cov(store, level=2)
    assert cell(provinces, "6.1.1", "P1", "women")["status"] == "current"
    assert cell(provinces, "6.1.1", "P2", "women")["status"] == "missing"
    assert cell(provinces, "6.1.1", "P3", "women")["status"] == "missing"  # R2's figure does not cover P3
    assert set(provinces["area_code"]) == {"P1", "P2", "P3"}
    assert set(cov(store, level=0)["status"]) == {"missing"}


def test_suppressed_official_counts_as_covered_but_shows_no_value(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, disability_status, sex, value, n,   suppressed
        official, 6.1.1,     R1,        2021,   PD,                ,    12.5,  3,   true
        official, 6.1.1,     R1,        2021,   ,                  ,    50,    900, false
        official, 6.1.1,     R2,        2021,   ,                  ,    ,      2,   true
        official, 6.1.1,     R2,        2021,   ,                  F,   30,    400,
    """)
    cells = cov(store)
    pwd = cell(cells, "6.1.1", "R1", "disability")
    assert pwd["status"] == "current" and pwd["headline"] == "covered"
    assert pwd["official_suppressed"] is True or pwd["official_suppressed"] == True  # noqa: E712 (numpy bool)
    assert isnull(pwd["official_value"])  # the 12.5 never leaks
    assert pwd["official_latest_year"] == 2021
    assert isnull(pwd["outcome_gap"])
    assert not cell(cells, "6.1.1", "R1", "all")["official_suppressed"]
    # a suppressed total still reveals that the group is hidden in a total, but gives no gap
    assert cell(cells, "6.1.1", "R2", "disability")["status"] == "aggregate_only"
    women = cell(cells, "6.1.1", "R2", "women")
    assert women["status"] == "current" and isnull(women["total_value"]) and isnull(women["outcome_gap"])


def test_citizen_figure_of_fewer_than_k_min_respondents_is_suppressed(tiny_store):
    store = tiny_store("""
        kind,    indicator, area_code, period, urbanisation, sex, value, n,  suppressed
        citizen, 6.1.1,     R1,        2023,   R,            ,    40,    4,
        citizen, 6.1.1,     R1,        2023,   ,             F,   40,    5,
        citizen, 6.1.1,     R2,        2023,   ,             F,   40,    20, true
    """)
    cells = cov(store)
    rural = cell(cells, "6.1.1", "R1", "rural")
    assert rural["cgd_status"] == "present" and bool(rural["cgd_suppressed"])
    assert isnull(rural["cgd_value"]) and rural["cgd_n"] == 4
    women = cell(cells, "6.1.1", "R1", "women")  # exactly k_min: shown
    assert not women["cgd_suppressed"] and women["cgd_value"] == pytest.approx(40.0)
    at_source = cell(cells, "6.1.1", "R2", "women")  # suppressed by its producer
    assert bool(at_source["cgd_suppressed"]) and isnull(at_source["cgd_value"])


def test_k_min_setting_rebuilds_the_facts(tiny_store, monkeypatch):
    store = tiny_store("""
        kind,    indicator, area_code, period, sex, value, n
        citizen, 6.1.1,     R1,        2023,   F,   40,    7
    """)
    assert not cell(cov(store), "6.1.1", "R1", "women")["cgd_suppressed"]
    monkeypatch.setenv("GAPLENS_K_MIN", "10")
    from data_layers.store import GapStore

    stricter = GapStore(store.data_dir)
    try:
        women = cell(cov(stricter), "6.1.1", "R1", "women")
        assert bool(women["cgd_suppressed"]) and isnull(women["cgd_value"])
    finally:
        stricter.close()


def test_cgd_none_present_stale(tiny_store):
    store = tiny_store("""
        kind,    indicator, area_code, period, sex, urbanisation, value, n
        citizen, 6.1.1,     R1,        2019,   F,   ,             50,    10
        citizen, 6.1.1,     R1,        2018,   ,    R,            50,    10
        citizen, 6.1.1,     R1,        2025,   M,   ,             50,    10
    """)
    cells = cov(store)
    assert cell(cells, "6.1.1", "R1", "women")["cgd_status"] == "present"
    rural = cell(cells, "6.1.1", "R1", "rural")
    assert (rural["cgd_status"], rural["cgd_latest_year"]) == ("stale", 2018)
    men = cell(cells, "6.1.1", "R1", "men")  # dated after the as-of year: invisible
    assert men["cgd_status"] == "none" and isnull(men["cgd_value"]) and isnull(men["cgd_datasets"])
    assert cell(cells, "6.1.1", "R2", "women")["cgd_status"] == "none"


def test_headline_covered_filled_blind_spot(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, sex, urbanisation, value, n
        official, 6.1.1,     R1,        2022,   ,    ,             50,    900
        official, 6.1.1,     R2,        2010,   F,   ,             45,    900
        citizen,  6.1.1,     R1,        2023,   ,    ,             60,    30
        citizen,  6.1.1,     R1,        2023,   F,   ,             60,    30
        citizen,  6.1.1,     R1,        2016,   ,    R,            60,    30
        citizen,  6.1.1,     R2,        2023,   F,   ,             60,    30
    """)
    cells = cov(store)
    expect = {
        ("R1", "all"): ("current", "present", "covered"),          # official current: covered, CGD or not
        ("R1", "women"): ("aggregate_only", "present", "filled"),  # hidden in a total, CGD present
        ("R1", "rural"): ("aggregate_only", "stale", "blind_spot"),  # old CGD does not fill
        ("R1", "men"): ("aggregate_only", "none", "blind_spot"),
        ("R2", "women"): ("stale", "present", "filled"),           # stale official, CGD present
        ("R2", "men"): ("missing", "none", "blind_spot"),
    }
    for (area, group), want in expect.items():
        c = cell(cells, "6.1.1", area, group)
        assert (c["status"], c["cgd_status"], c["headline"]) == want, (area, group)
    na = tiny_store(indicators="code,higher_is_better,not_applicable\n6.1.1,true,women")
    assert cell(cov(na), "6.1.1", "R1", "women")["headline"] == "not_applicable"


def test_outcome_gap_sign_follows_polarity(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, sex, value
        official, 6.1.1,     R1,        2021,   ,    60
        official, 6.1.1,     R1,        2021,   F,   50
        official, 6.1.1,     R1,        2021,   M,   70
        official, 1.2.1,     R1,        2021,   ,    20
        official, 1.2.1,     R1,        2021,   F,   25
        official, 1.2.1,     R1,        2021,   M,   15
        official, 9.9.9,     R1,        2021,   ,    20
        official, 9.9.9,     R1,        2021,   F,   25
    """, indicators="""
        code,  higher_is_better
        1.2.1, false
        6.1.1, true
        9.9.9,
    """)
    cells = cov(store)
    # higher is better (safe water): women at 50 against 60 are worse off -> positive
    assert cell(cells, "6.1.1", "R1", "women")["outcome_gap"] == pytest.approx(10.0)
    assert cell(cells, "6.1.1", "R1", "men")["outcome_gap"] == pytest.approx(-10.0)
    # lower is better (poverty): women at 25 against 20 are worse off -> positive
    assert cell(cells, "1.2.1", "R1", "women")["outcome_gap"] == pytest.approx(5.0)
    assert cell(cells, "1.2.1", "R1", "men")["outcome_gap"] == pytest.approx(-5.0)
    assert cell(cells, "6.1.1", "R1", "women")["outcome_gap_year"] == 2021
    # unknown polarity: no sign can be given
    assert isnull(cell(cells, "9.9.9", "R1", "women")["outcome_gap"])
    # the total itself has no gap
    assert isnull(cell(cells, "6.1.1", "R1", "all")["outcome_gap"])


def test_outcome_gap_uses_latest_year_in_window_with_both(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, sex, urbanisation, value
        official, 6.1.1,     R2,        2017,   ,    ,             50
        official, 6.1.1,     R2,        2017,   F,   ,             40
        official, 6.1.1,     R2,        2021,   ,    ,             50
        official, 6.1.1,     R2,        2021,   F,   ,             46
        official, 6.1.1,     R2,        2023,   F,   ,             30
        official, 6.1.1,     R2,        2017,   ,    R,            30
    """)
    cells = cov(store)
    women = cell(cells, "6.1.1", "R2", "women")
    assert women["official_latest_year"] == 2023 and women["official_value"] == 30.0
    assert (women["outcome_gap"], women["outcome_gap_year"]) == (pytest.approx(4.0), 2021)  # not 2023 (no total)
    rural = cell(cells, "6.1.1", "R2", "rural")  # the only pair is older than the window
    assert rural["status"] == "stale" and isnull(rural["outcome_gap"])
    # seen from 2018 the 2017 pair is the latest in the window
    past = cell(cov(store, as_of=2018), "6.1.1", "R2", "women")
    assert (past["outcome_gap"], past["outcome_gap_year"]) == (pytest.approx(10.0), 2017)


def test_cell_with_only_citizen_data(tiny_store):
    store = tiny_store("""
        kind,    dataset, indicator, area_code, period, disability_status, value, n
        citizen, cgd-b,   1.2.1,     R2,        2023,   PD,                40,    30
        citizen, cgd-a,   1.2.1,     R2,        2023,   PD,                30,    10
    """)
    c = cell(cov(store), "1.2.1", "R2", "disability")
    assert (c["status"], c["cgd_status"], c["headline"]) == ("missing", "present", "filled")
    assert isnull(c["official_latest_year"]) and isnull(c["official_value"])
    assert c["cgd_value"] == pytest.approx(37.5)  # n-weighted: (30*10 + 40*30) / 40
    assert c["cgd_n"] == 40 and c["cgd_latest_year"] == 2023
    assert c["cgd_datasets"] == "cgd-a,cgd-b"


def test_zero_is_a_value_not_missing(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, sex, value, n
        official, 6.1.1,     R1,        2022,   ,    0,     900
        official, 6.1.1,     R1,        2022,   F,   0,     400
        citizen,  6.1.1,     R1,        2023,   M,   0,     12
    """)
    cells = cov(store)
    women = cell(cells, "6.1.1", "R1", "women")
    assert women["status"] == "current" and women["official_value"] == 0.0 and not women["official_suppressed"]
    assert women["outcome_gap"] == 0.0
    men = cell(cells, "6.1.1", "R1", "men")
    assert men["cgd_value"] == 0.0 and not men["cgd_suppressed"] and men["headline"] == "filled"


def test_group_definitions_pick_codes_and_ignore_cross_breakdowns(tiny_store):
    store = tiny_store("""
        kind,     dataset, indicator, area_code, period, age,    sex, urbanisation, value
        official, off-a,   6.1.1,     R1,        2022,   Y15T19, ,    ,             10
        official, off-a,   6.1.1,     R1,        2022,   Y15T24, ,    ,             20
        official, off-a,   6.1.1,     R1,        2022,   ,       F,   R,            30
        official, off-a,   6.1.1,     R2,        2022,   ,       F,   ,             40
        official, off-b,   6.1.1,     R2,        2022,   ,       F,   ,             45
    """)
    cells = cov(store)
    assert cell(cells, "6.1.1", "R1", "youth")["official_value"] == 20.0  # the group's preferred code
    # women x rural is a cross-breakdown: it speaks for neither group alone
    assert cell(cells, "6.1.1", "R1", "women")["status"] == "missing"
    assert cell(cells, "6.1.1", "R1", "rural")["status"] == "missing"
    assert cell(cells, "6.1.1", "R2", "women")["official_value"] == 45.0  # the newer dataset wins


def test_area_gap_and_blind_spot_scores(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, sex, value, n
        official, 6.1.1,     R1,        2022,   ,    50,    900
        official, 1.2.1,     R1,        2010,   ,    30,    900
        citizen,  6.1.1,     R1,        2023,   F,   40,    50
        citizen,  1.2.1,     R1,        2022,   M,   20,    50
    """, indicators="""
        code,  higher_is_better, not_applicable
        1.2.1, false,
        6.1.1, true,             men
    """)
    groups = ["all", "women", "men"]
    scores = store.area_scores(level=1, as_of=AS_OF, window=WINDOW, groups=groups).set_index("area_code")
    # R1: 6.1.1 all covered, women filled, men n/a; 1.2.1 all stale, women hidden, men filled
    r1 = scores.loc["R1"]
    assert r1["applicable"] == 5
    assert (r1["n_current"], r1["n_stale"], r1["n_aggregate_only"], r1["n_missing"]) == (1, 1, 3, 0)
    assert (r1["n_filled"], r1["n_blind_spot"]) == (2, 2)
    assert r1["gap_score"] == pytest.approx(4 / 5)
    assert r1["blind_spot_score"] == pytest.approx(2 / 5)
    r2 = scores.loc["R2"]  # nothing at all
    assert (r2["applicable"], r2["n_missing"], r2["gap_score"], r2["blind_spot_score"]) == (5, 5, 1.0, 1.0)
    # the scores agree with the cells they summarise
    cells = cov(store, groups=groups)
    for area, part in cells.groupby("area_code"):
        applicable = part[part["status"] != "not_applicable"]
        assert scores.loc[area, "gap_score"] == pytest.approx((applicable["status"] != "current").mean())
        assert scores.loc[area, "blind_spot_score"] == pytest.approx((applicable["headline"] == "blind_spot").mean())
    # nothing applicable: no score rather than a division by zero
    empty = store.area_scores(level=1, as_of=AS_OF, window=WINDOW, indicators=["6.1.1"], groups=["men"])
    assert (empty["applicable"] == 0).all() and empty["gap_score"].isna().all() and empty["blind_spot_score"].isna().all()


def test_points_count_in_every_enclosing_area_aggregates_only_in_their_own(tiny_store):
    store = tiny_store("""
        kind,    dataset, indicator, area_code, period, urbanisation, value, n,  lat, lon, is_point
        citizen, wp,      6.1.1,     P1,        2023,   R,            100,   1,  1.0, 1.0, true
        citizen, wp,      6.1.1,     P1,        2023,   R,            100,   1,  2.0, 1.0, true
        citizen, wp,      6.1.1,     P1,        2023,   R,            0,     1,  3.0, 1.0, true
        citizen, wp,      6.1.1,     P1,        2023,   R,            0,     1,  4.0, 1.0, true
        citizen, wp,      6.1.1,     P1,        2023,   R,            100,   1,  5.0, 1.0, true
        citizen, agg,     6.1.1,     P2,        2023,   R,            50,    20, ,    ,    false
    """)
    for level, area in ((2, "P1"), (1, "R1"), (0, "XX")):
        c = cell(cov(store, level=level), "6.1.1", area, "rural")
        assert (c["cgd_n"], c["cgd_value"], c["cgd_datasets"]) == (5, pytest.approx(60.0), "wp"), (level, area)
    p2 = cell(cov(store, level=2), "6.1.1", "P2", "rural")
    assert (p2["cgd_n"], p2["cgd_value"], p2["cgd_datasets"]) == (20, pytest.approx(50.0), "agg")
    assert cell(cov(store, level=1), "6.1.1", "R2", "rural")["cgd_status"] == "none"
    assert cell(cov(store, level=2), "6.1.1", "P3", "rural")["cgd_status"] == "none"


def test_filters_are_bound_values(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, value
        official, 6.1.1,     R1,        2022,   50
    """)
    cells = cov(store, indicators=["6.1.1"], groups=["all", "women"], areas=["R1"])
    assert sorted(zip(cells["indicator"], cells["area_code"], cells["group"], strict=True)) == [
        ("6.1.1", "R1", "all"), ("6.1.1", "R1", "women")]
    assert cov(store, groups=["x' OR '1'='1"]).empty  # a hostile value is data, not SQL


def test_coverage_of_one_headline_class_is_the_filtered_table(sample_store):
    full = sample_store.coverage(level=2, as_of=2024, window=5)
    filled = sample_store.coverage(level=2, as_of=2024, window=5, headline="filled")
    expected = full[full["headline"] == "filled"].reset_index(drop=True)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(filled.reset_index(drop=True), expected, check_dtype=False)
