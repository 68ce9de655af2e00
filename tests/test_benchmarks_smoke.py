"""The benchmark harness at a tiny scale, so that it never rots.

No timing is asserted (timings depend on the machine): the test checks that the harness runs end to
end through the real write path and the real engine, that its JSON has the promised structure (the
pandas baseline, the raw-scan floor, ratios, targets, machine facts, memory), and that the
independent pandas implementation of the coverage rule judges every cell exactly as GapLens does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import baseline_pandas, synth
from benchmarks.run import TARGETS, compare_cells

ROOT = Path(__file__).resolve().parents[1]
HARNESS_TIMEOUT_S = 600  # a tiny run takes well under a minute on 2 cores; generous for a loaded CI


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], dict, Path]:
    work = tmp_path_factory.mktemp("bench")
    out = work / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--tiny", "--work-dir", str(work), "--json", str(out), "--repeats", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=HARNESS_TIMEOUT_S, check=False)
    results = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    return proc, results, work


def test_harness_exits_cleanly_and_prints_the_table(tiny_run):
    proc, _, _ = tiny_run
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    for words in ("facts build", "coverage table", "click, warm", "point-in-polygon", "pandas/GapLens",
                  "GapLens/raw scan", "pandas baseline agrees with GapLens: status counts yes, every cell yes"):
        assert words in proc.stdout, words


def test_json_has_the_promised_structure(tiny_run):
    _, r, _ = tiny_run
    flat = json.dumps(r).lower()
    assert "pandas" in flat and "raw" in flat
    assert r["scale"] == "tiny" and r["tiny"] is True
    m = r["machine"]
    assert m["cores_logical"] >= 1 and m["memory_gb"] > 0 and m["python"]
    for lib in ("duckdb", "pandas", "plotly", "streamlit"):
        assert m["versions"][lib], lib
    g = r["gaplens"]
    for key in ("facts_build", "facts_build_sql_only", "facts_refresh_official_import", "facts_refresh_citizen_import",
                "store_open", "click_cold", "click_warm", "coverage_table",
                "area_scores", "point_in_polygon"):
        t = g["timings"][key]
        assert t["median_s"] > 0 and len(t["runs_s"]) >= 1 and t["min_s"] <= t["median_s"] <= t["max_s"], key
    assert g["memory"]["peak_rss_mb"] > 0
    assert g["info"]["point_in_polygon"]["points"] == synth.SCALES["tiny"].citizen_points
    assert g["info"]["point_in_polygon"]["assigned"] == g["info"]["point_in_polygon"]["points"]
    pandas, raw = r["baselines"]["pandas"], r["baselines"]["raw"]
    for key in ("load", "official_facts", "citizen_facts", "cells", "facts", "total"):
        assert pandas["timings"][key]["median_s"] > 0, key
    assert raw["timings"]["raw_scan"]["median_s"] > 0
    assert raw["info"]["rows"] == r["data"]["official_rows"] + r["data"]["citizen_rows"]
    for key in ("pandas_vs_facts", "facts_vs_raw", "pandas_vs_coverage_table"):
        assert r["ratios"][key] is not None and r["ratios"][key] > 0, key
    assert [t["key"] for t in r["targets"]] == [t[0] for t in TARGETS]


def test_data_went_through_the_real_write_path_outside_the_repo(tiny_run):
    _, r, work = tiny_run
    store = Path(r["dirs"]["store"])
    assert work in store.parents and ROOT not in store.parents
    assert (store / "facts" / "manifest.json").is_file(), "the facts were built by the real engine"
    meta = [json.loads(p.read_text()) for p in sorted(store.glob("datasets/*/dataset.json"))]
    assert {m["source_kind"] for m in meta} == {"official", "citizen"}
    assert sum(m["rows_stored"] for m in meta if m["source_kind"] == "official") == synth.SCALES["tiny"].official
    assert r["data"]["areas"] == {"0": 1, "1": synth.SCALES["tiny"].provinces, "2": synth.SCALES["tiny"].level2_areas}


def test_pandas_baseline_agrees_cell_by_cell(tiny_run):
    _, r, _ = tiny_run
    a = r["agreement"]
    assert a["status_counts_match"] and a["headline_counts_match"], a
    assert a["status_counts_gaplens"] == a["status_counts_pandas"]
    assert sum(a["status_counts_gaplens"].values()) == r["gaplens"]["info"]["coverage_rows"] > 0
    assert len(a["status_counts_gaplens"]) >= 4, "the synthetic data exercises most statuses"
    assert a["cells"]["all_equal"], a["cells"]


def test_cell_comparison_catches_a_disagreement(tiny_run, tmp_path):
    """The agreement check is not vacuous: one changed status is reported."""
    import pandas as pd

    _, r, _ = tiny_run
    cells = pd.read_parquet(Path(r["dirs"]["out"]) / "cells_gaplens.parquet")
    changed = cells.copy()
    changed.loc[0, "status"] = "missing" if changed.loc[0, "status"] != "missing" else "current"
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    cells.to_parquet(a)
    changed.to_parquet(b)
    out = compare_cells(a, b)
    assert not out["all_equal"] and out["mismatches"] == {"status": 1}


def test_work_dir_inside_the_repository_is_refused():
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--tiny", "--work-dir", str(ROOT / "sample_data")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2 and "inside the repository" in proc.stderr


def test_pandas_ancestors_walk_the_hierarchy():
    import pandas as pd

    areas = pd.DataFrame({"code": ["X", "R", "P"], "parent_code": [None, "X", "R"]})
    got = set(map(tuple, baseline_pandas.ancestors(areas).to_numpy()))
    assert got == {("X", "X"), ("R", "R"), ("R", "X"), ("P", "P"), ("P", "R"), ("P", "X")}


def test_release_benchmark_measures_first_import_and_new_release() -> None:
    """benchmarks.release runs end to end on tiny sizes (no timing asserted): both imports accepted,
    the release's changes counted, per-row figures and the load recorded beside them."""
    from benchmarks import release

    res = release.measure((1_000, 3_000))
    assert [r["rows"] for r in res["rows"]] == [1_000, 3_000]
    for r in res["rows"]:
        assert r["first_s"] > 0 and r["release_s"] > 0 and r["load_before"] >= 0
        assert r["changes"].get("changed", 0) > 0  # a tenth of the figures were revised
    assert set(res["targets"]) >= {"release_over_first_max", "per_row_growth", "met"}
    assert res["machine"]["cores_logical"] >= 1
