"""Intersectional groups (DESIGN.md, "Intersectional groups") on tiny stores written inline, and on
the sample through the CLI.

Areas (``support.DEFAULT_AREAS``): country XX; regions R1, R2; provinces P1, P2 (in R1), P3 (in R2).
6.1.1 is safe water (higher is better). As-of 2024, window 5 years. ``rural_women`` is
SEX+URBANISATION = F+R; ``women_disability`` SEX+DISABILITY_STATUS = F+PD; ``indigenous_youth``
AGE+INDIGENOUS_STATUS = 15-24 + IND (declared in the other order, to show the order does not matter).
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from support import ROOT, cell

from data_layers import storage

AS_OF, WINDOW = 2024, 5
INTERSECTIONS = """
group_id,         label,                   dimension,                codes,                         description
rural_women,      Rural women,             SEX+URBANISATION,         F+R,                           rural women
women_disability, Women with disabilities, SEX+DISABILITY_STATUS,    F+PD,                          women with disabilities
indigenous_youth, Indigenous youth,        INDIGENOUS_STATUS+AGE,    IND+Y15T24|Y15T19|Y20T24,      indigenous youth
"""
NEW_COLUMNS = ["parts_status", "parent_gaps", "raised_on", "closed_since_raised"]


def cov(store, level: int = 1, **kw) -> pd.DataFrame:
    return store.coverage(level=level, as_of=AS_OF, window=WINDOW, **kw)


def test_a_cross_tab_covers_the_intersection_and_the_marginals_do_not(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, sex, urbanisation, value
        official, 6.1.1,     R1,        2022,   ,    ,             50
        official, 6.1.1,     R1,        2022,   F,   R,            30
        official, 6.1.1,     R2,        2022,   ,    ,             60
        official, 6.1.1,     R2,        2022,   F,   ,             55
        official, 6.1.1,     R2,        2022,   ,    R,            52
    """, groups=INTERSECTIONS)
    cells = cov(store)
    # R1: only the cross-tab: rural women covered, women and rural people hidden in the total
    rw = cell(cells, "6.1.1", "R1", "rural_women")
    assert (rw["status"], rw["official_value"], rw["headline"]) == ("current", 30.0, "covered")
    assert cell(cells, "6.1.1", "R1", "women")["status"] == "aggregate_only"
    assert cell(cells, "6.1.1", "R1", "rural")["status"] == "aggregate_only"
    assert rw["parts_status"] == "women=aggregate_only; rural=aggregate_only"
    # R2: both parts measured, the intersection not
    rw2 = cell(cells, "6.1.1", "R2", "rural_women")
    assert rw2["status"] == "aggregate_only" and rw2["headline"] == "blind_spot"
    assert rw2["parts_status"] == "women=current; rural=current"
    # one-dimension groups carry no parts
    assert cell(cells, "6.1.1", "R2", "women")["parts_status"] == ""


def test_only_exactly_those_dimensions_count(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, sex, urbanisation, disability_status, other_dims, value
        official, 6.1.1,     R1,        2022,   F,   R,            PD,                ,           20
        official, 6.1.1,     R2,        2022,   F,   R,            ,                  EMPLOYED=Y, 21
        official, 6.1.1,     R2,        2022,   F,   ,             PD,                ,           22
    """, groups=INTERSECTIONS)
    cells = cov(store)
    # three dimensions cover neither two-dimension intersection; a breakdown outside the schema
    # (other_dims) is a breakdown too
    assert cell(cells, "6.1.1", "R1", "rural_women")["status"] == "missing"
    assert cell(cells, "6.1.1", "R1", "women_disability")["status"] == "missing"
    assert cell(cells, "6.1.1", "R2", "rural_women")["status"] == "missing"
    wd = cell(cells, "6.1.1", "R2", "women_disability")
    assert (wd["status"], wd["official_value"]) == ("current", 22.0)
    assert cell(cells, "6.1.1", "R2", "women")["status"] == "missing"  # a figure for women with disabilities


def test_age_bands_are_intervals_on_the_age_part(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, age,    indigenous_status, value
        official, 6.1.1,     R1,        2022,   Y18T24, IND,               40
        official, 6.1.1,     R2,        2022,   Y15T29, IND,               41
        official, 6.1.1,     R2,        2021,   Y15T24, ,                  42
    """, groups=INTERSECTIONS)
    cells = cov(store)
    iy = cell(cells, "6.1.1", "R1", "indigenous_youth")
    assert (iy["status"], iy["official_value"]) == ("current", 40.0)  # 18-24 lies inside 15-24
    assert cell(cells, "6.1.1", "R2", "indigenous_youth")["status"] == "missing"  # 15-29 does not
    assert cell(cells, "6.1.1", "R2", "youth")["status"] == "current"
    assert cell(cells, "6.1.1", "R2", "indigenous_youth")["parts_status"] == "youth=current; indigenous=missing"


def test_citizen_records_fill_an_intersection_and_marginal_records_do_not(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, sex, urbanisation, value, n
        official, 6.1.1,     R1,        2022,   F,   ,             55,
        official, 6.1.1,     R1,        2022,   ,    R,            52,
        citizen,  6.1.1,     R1,        2023,   F,   R,            35,    40
        citizen,  6.1.1,     R2,        2023,   F,   ,             45,    40
    """, groups=INTERSECTIONS)
    cells = cov(store)
    rw = cell(cells, "6.1.1", "R1", "rural_women")
    assert (rw["status"], rw["cgd_status"], rw["cgd_value"], rw["headline"]) == ("missing", "present", 35.0, "filled")
    assert rw["parts_status"] == "women=current; rural=current"
    assert cell(cells, "6.1.1", "R2", "rural_women")["cgd_status"] == "none"
    assert cell(cells, "6.1.1", "R2", "women")["headline"] == "filled"


def test_outcome_gap_against_the_total_and_each_parent(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, sex, urbanisation, value
        official, 6.1.1,     R1,        2022,   ,    ,             50
        official, 6.1.1,     R1,        2022,   F,   ,             45
        official, 6.1.1,     R1,        2022,   ,    R,            40
        official, 6.1.1,     R1,        2022,   F,   R,            30
        official, 6.1.1,     R1,        2023,   F,   R,            31
    """, groups=INTERSECTIONS)
    rw = cell(cov(store), "6.1.1", "R1", "rural_women")
    # 2022 is the latest year with both figures; safe water: higher is better, so positive = worse off
    assert (rw["outcome_gap"], rw["outcome_gap_year"]) == (20.0, 2022)
    assert rw["parent_gaps"] == "women=-15.0; rural=-10.0"


def test_one_dimension_groups_keep_their_results(tiny_store):
    obs = """
        kind,     indicator, area_code, period, sex, urbanisation, age,    disability_status, value, n
        official, 6.1.1,     R1,        2022,   ,    ,             ,       ,                  50,
        official, 6.1.1,     R1,        2022,   F,   R,            ,       ,                  30,
        official, 6.1.1,     R1,        2016,   F,   ,             ,       PD,                31,
        official, 6.1.1,     R2,        2021,   M,   ,             ,       ,                  44,
        official, 1.2.1,     R2,        2020,   ,    ,             Y18T24, ,                  12,
        citizen,  6.1.1,     R2,        2023,   F,   R,            ,       ,                  35,    40
        citizen,  6.1.1,     P1,        2023,   ,    R,            ,       ,                  36,    40
    """
    plain_store, crossed_store = tiny_store(obs), tiny_store(obs, groups=INTERSECTIONS)
    for level in (1, 2):
        plain = cov(plain_store, level).drop(columns=NEW_COLUMNS)
        crossed = cov(crossed_store, level)
        crossed = crossed[~crossed["group"].isin(["rural_women", "women_disability", "indigenous_youth"])]
        assert len(plain) == len(crossed) > 0
        pd.testing.assert_frame_equal(_plain(plain), _plain(crossed.drop(columns=NEW_COLUMNS)))


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Values only: an all-empty text column is ``object`` in one result and ``str`` in another."""
    df = df.reset_index(drop=True).astype(object)
    return df.where(df.notna(), None)


def test_an_intersection_is_not_applicable_where_a_parent_is_not(tiny_store):
    store = tiny_store("", indicators="""
        code,  higher_is_better, not_applicable
        1.2.1, false,
        6.1.1, true,             rural
    """, groups=INTERSECTIONS)
    cells = cov(store)
    assert cell(cells, "6.1.1", "R1", "rural_women")["status"] == "not_applicable"
    assert cell(cells, "6.1.1", "R1", "women_disability")["status"] == "missing"


def test_a_badly_declared_intersection_is_refused_with_row_and_column(tiny_store):
    with pytest.raises(storage.StoreError, match=r"groups.csv row 14 .*column codes.*'F\+R\+U'"):
        tiny_store("", groups="""
            group_id, label, dimension,        codes, description
            a,        A,     SEX,              F,     one dimension
            b,        B,     SEX+URBANISATION, F+R+U, three code lists for two dimensions
        """)


def test_the_group_filter_still_reads_the_parents(tiny_store):
    store = tiny_store("""
        kind,     indicator, area_code, period, sex, urbanisation, value
        official, 6.1.1,     R1,        2022,   F,   ,             55
        official, 6.1.1,     R1,        2017,   ,    R,            52
    """, groups=INTERSECTIONS)
    only = cov(store, groups=["rural_women"])
    assert set(only["group"]) == {"rural_women"}
    assert cell(only, "6.1.1", "R1", "rural_women")["parts_status"] == "women=current; rural=stale"


# --- the sample, through the CLI -----------------------------------------------------------------

def run(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "data_layers", *args, "--data-dir", str(data_dir)],
                          check=False, capture_output=True, cwd=ROOT, timeout=300)


def test_cli_gaps_takes_an_intersection(sample_copy):
    r = run("gaps", "--level", "1", "--group", "rural_women", "--group", "women", "--format", "csv",
            data_dir=sample_copy)
    assert r.returncode == 0, r.stderr.decode()
    g = pd.read_csv(io.BytesIO(r.stdout), dtype=str, keep_default_na=False)
    assert set(g["group"]) == {"rural_women", "women"}
    covered = g[(g["group"] == "rural_women") & (g["indicator"] == "1.1.1")]
    assert set(covered["status"]) == {"current"}  # regional cross-tabulations from 2023
    tenure = g[(g["group"] == "rural_women") & (g["indicator"] == "1.4.2")]
    assert (tenure["parts_status"] == "women=current; rural=current").all()
    assert not tenure["status"].eq("current").any()


def test_sample_intersections_filled_by_citizen_data(sample_store):
    l2 = sample_store.coverage(level=2, as_of=AS_OF, window=WINDOW,
                               groups=["women_disability", "indigenous_youth"])
    filled = l2[l2["headline"] == "filled"]
    assert {"women_disability", "indigenous_youth"} <= set(filled["group"])
    iy = cell(l2, "1.4.2", "PH-BEN", "indigenous_youth")  # 18-24 records, inside youth 15-24
    assert iy["headline"] == "filled" and iy["cgd_datasets"] == "ip-tenure-mapping-2020"
