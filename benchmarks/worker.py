"""One measured part of a benchmark run, in its own process (so memory is measured apart).

``python -m benchmarks.worker TASK --data DIR --out FILE.json [...]`` with TASK one of:

- ``gaplens``: GapLens's own code (facts build, coverage, clicks, scores, point-in-polygon, gap map);
- ``pandas``: baseline 1, the rule in plain pandas;
- ``raw``: baseline 2, raw DuckDB scans of the columns the rule needs (the floor);
- ``apptest``: the gap-map page in Streamlit's AppTest, rerun after a filter change.

Each writes a JSON summary (timings as medians of several runs, peak RSS) and, for ``gaplens`` and
``pandas``, the judged cells of one level as parquet so the parent can compare them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("benchmarks.worker")

AS_OF = 2024
WINDOW = 5
# Columns of the judged cells compared between GapLens and the pandas baseline.
COMPARED = ["indicator", "area_code", "group", "status", "cgd_status", "headline", "official_latest_year",
            "official_value", "official_suppressed", "total_latest_year", "total_value", "cgd_latest_year",
            "cgd_value", "cgd_n", "cgd_suppressed", "cgd_datasets", "outcome_gap", "outcome_gap_year"]
RAW_COLUMNS = ["indicator", "area_code", "period", "disagg_dim", "disagg_code", "value"]
RULE_COLUMNS = ["obs_key", "source_kind", "indicator", "area_code", "period", "disagg_dim", "disagg_code", "value",
                "lower", "upper", "n", "suppressed", "dataset_id", "is_point"]


def _counts(df: Any, col: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in df[col].value_counts().sort_index().items()}


def _click(store: Any, level: int) -> tuple[str, str]:
    """A representative click: the indicator x group with the most official rows at ``level``."""
    row = store.query("SELECT indicator, group_id FROM official_facts WHERE level = $level AND group_id <> 'all' "
                      "GROUP BY indicator, group_id ORDER BY count(*) DESC NULLS LAST, indicator ASC NULLS LAST, "
                      "group_id ASC NULLS LAST LIMIT 1", {"level": level})
    if row.empty:
        return "6.1.1", "rural"
    return str(row["indicator"].iloc[0]), str(row["group_id"].iloc[0])


def _largest_dataset(store: Any, kind: str) -> str | None:
    row = store.query("SELECT dataset_id FROM observations WHERE source_kind = $kind GROUP BY dataset_id "
                      "ORDER BY count(*) DESC NULLS LAST, dataset_id ASC NULLS LAST LIMIT 1", {"kind": kind})
    return None if row.empty else str(row["dataset_id"].iloc[0])


def _indicators_of(store: Any, dataset_id: str) -> int:
    row = store.query("SELECT count(DISTINCT indicator) AS n FROM observations WHERE dataset_id = $ds", {"ds": dataset_id})
    return int(row["n"].iloc[0])


def run_gaplens(data_dir: Path, level: int, repeats: int, cells_out: Path | None) -> dict[str, Any]:
    from .common import RssMonitor, cpu_seconds, summary, timed

    mon = RssMonitor()
    res: dict[str, Any] = {"timings": {}, "info": {}}
    t = res["timings"]
    t0 = time.perf_counter()
    mon.start_phase()
    from data_layers import store as store_mod
    res["info"]["import_s"] = round(time.perf_counter() - t0, 3)

    # facts build from scratch = a refresh with no facts at all (every dataset's part, every indicator)
    store = store_mod.GapStore(data_dir)
    facts_runs: list[float] = []
    facts_cpu: list[float] = []
    sql_runs: list[float] = []
    sql_cpu: list[float] = []
    build = store._build_facts

    def timed_build(fp: str) -> None:
        c, s = cpu_seconds(), time.perf_counter()
        build(fp)
        sql_runs.append(time.perf_counter() - s)
        sql_cpu.append(cpu_seconds() - c)

    store._build_facts = timed_build  # type: ignore[method-assign]
    for _ in range(repeats):
        shutil.rmtree(data_dir / "facts", ignore_errors=True)
        c, s = cpu_seconds(), time.perf_counter()
        store.refresh()
        facts_runs.append(time.perf_counter() - s)
        facts_cpu.append(cpu_seconds() - c)
    t["facts_build"] = summary(facts_runs, facts_cpu)
    t["facts_build_sql_only"] = summary(sql_runs, sql_cpu)
    store._build_facts = build  # type: ignore[method-assign]
    # refresh after an import (what every import triggers): the largest dataset of each kind is
    # imported again (new import time in its dataset.json, so its part and its indicators' facts
    # are stale, as after a real re-import)
    for kind in ("official", "citizen"):
        ds = _largest_dataset(store, kind)
        if ds is None:
            continue
        runs, cpus = [], []
        meta_path = data_dir / "datasets" / ds / "dataset.json"
        original = meta_path.read_bytes()
        try:
            for i in range(repeats):
                meta = json.loads(original)
                meta["imported_at"] = f"2030-01-01T00:00:{i:02d}+00:00"
                meta_path.write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
                c, s = cpu_seconds(), time.perf_counter()
                store.refresh()
                runs.append(time.perf_counter() - s)
                cpus.append(cpu_seconds() - c)
        finally:
            meta_path.write_bytes(original)
            store.refresh()
        t[f"facts_refresh_{kind}_import"] = summary(runs, cpus)
        res["info"][f"facts_refresh_{kind}_import"] = {"dataset": ds, "indicators": _indicators_of(store, ds)}
    store.close()
    mon.end_phase("facts_build")

    # cold click: open the store (facts fresh), then the first query
    mon.start_phase()
    opens, colds, opens_cpu, colds_cpu = [], [], [], []
    click = ("", "")
    for _ in range(repeats):
        c, s = cpu_seconds(), time.perf_counter()
        store = store_mod.GapStore(data_dir)
        opens.append(time.perf_counter() - s)
        opens_cpu.append(cpu_seconds() - c)
        if not click[0]:
            click = _click(store, level)
            store.close()
            store = store_mod.GapStore(data_dir)
        c, s = cpu_seconds(), time.perf_counter()
        store.coverage(level=level, as_of=AS_OF, window=WINDOW, indicators=[click[0]], groups=[click[1]])
        colds.append(time.perf_counter() - s)
        colds_cpu.append(cpu_seconds() - c)
        store.close()
    t["store_open"] = summary(opens, opens_cpu)
    t["click_cold"] = summary(colds, colds_cpu)
    res["info"]["click"] = {"indicator": click[0], "group": click[1], "level": level}

    store = store_mod.GapStore(data_dir)
    t["click_warm"], one = timed(lambda: store.coverage(level=level, as_of=AS_OF, window=WINDOW,
                                                        indicators=[click[0]], groups=[click[1]]), repeats * 4)
    res["info"]["click_rows"] = len(one)
    t["click_scores_warm"], _ = timed(lambda: store.area_scores(level=level, as_of=AS_OF, window=WINDOW,
                                                                indicators=[click[0]], groups=[click[1]]), repeats * 2)
    mon.end_phase("clicks")

    mon.start_phase()
    t["coverage_table"], cov = timed(lambda: store.coverage(level=level, as_of=AS_OF, window=WINDOW), repeats)
    res["info"]["coverage_rows"] = len(cov)
    res["status_counts"] = _counts(cov, "status")
    res["headline_counts"] = _counts(cov, "headline")
    res["cgd_status_counts"] = _counts(cov, "cgd_status")
    del cov
    t["area_scores"], scores = timed(lambda: store.area_scores(level=level, as_of=AS_OF, window=WINDOW), repeats)
    res["info"]["area_scores_rows"] = len(scores)
    mon.end_phase("coverage_and_scores")

    # point-in-polygon of the citizen points into the finest areas, as the importer does it
    mon.start_phase()
    from . import pip
    pts = store.query("SELECT lon, lat FROM observations WHERE source_kind = 'citizen' AND is_point "
                      "AND lat IS NOT NULL ORDER BY obs_key ASC NULLS LAST")
    finest = max(store.levels())
    geoms = store.geometries(level=finest)
    lon, lat = pts["lon"].to_numpy(), pts["lat"].to_numpy()
    pip_runs = max(1, min(repeats, 3))
    t["point_in_polygon"], (codes, how) = timed(lambda: pip.assign(lon, lat, geoms, data_dir), pip_runs)
    import pandas as pd
    res["info"]["point_in_polygon"] = {"points": len(pts), "areas": len(geoms), "level": finest, "function": how,
                                       "assigned": int(pd.notna(codes).sum())}
    if pip.FALLBACK not in how:  # the importer's function ran: time the plain sjoin too, for reference
        t["point_in_polygon_sjoin_reference"], _ = timed(lambda: pip.sjoin_assign(lon, lat, geoms), 1)
    del pts, codes
    mon.end_phase("point_in_polygon")

    # the gap map figure (data_layers.figures.gap_map) and its JSON payload
    mon.start_phase()
    from . import figure
    fig_info = figure.measure(store, level=level, indicator=click[0], group=click[1], as_of=AS_OF, window=WINDOW,
                              repeats=repeats)
    t.update(fig_info.pop("timings", {}))
    res["info"]["gap_map"] = fig_info
    mon.end_phase("gap_map")
    res["memory"] = mon.stop()  # before the comparison file below, which is the harness's, not GapLens's
    if cells_out is not None:
        store.coverage(level=level, as_of=AS_OF, window=WINDOW)[COMPARED].to_parquet(cells_out, index=False)
    store.close()
    return res


def run_pandas(data_dir: Path, level: int, repeats: int, cells_out: Path | None) -> dict[str, Any]:
    from data_layers import settings

    from . import baseline_pandas as bp
    from .common import RssMonitor, cpu_seconds, summary

    mon = RssMonitor()
    k_min = settings.get("k_min")
    steps: dict[str, list[float]] = {"load": [], "official_facts": [], "citizen_facts": [], "cells": [], "total": []}
    cpu_total: list[float] = []
    cells = None
    for _ in range(repeats):
        c0 = cpu_seconds()
        t0 = time.perf_counter()
        d = bp.load(data_dir)
        t1 = time.perf_counter()
        off = bp.official_facts(d)
        t2 = time.perf_counter()
        cgd = bp.citizen_facts(d, k_min)
        t3 = time.perf_counter()
        cells = bp.cells(d, off, cgd, level=level, as_of=AS_OF, window=WINDOW)
        t4 = time.perf_counter()
        cpu_total.append(cpu_seconds() - c0)
        for k, v in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0), strict=True):
            steps[k].append(v)
        del d, off, cgd
    timings = {k: summary(v) for k, v in steps.items()}
    timings["total"] = summary(steps["total"], cpu_total)
    # facts = what GapLens's facts build does (read + both fact tables), for the ratio
    facts = [a + b + c for a, b, c in zip(steps["load"], steps["official_facts"], steps["citizen_facts"], strict=True)]
    timings["facts"] = summary(facts)
    assert cells is not None
    res: dict[str, Any] = {"timings": timings, "status_counts": _counts(cells, "status"),
                           "headline_counts": _counts(cells, "headline"), "cgd_status_counts": _counts(cells, "cgd_status"),
                           "info": {"coverage_rows": len(cells)}}
    res["memory"] = mon.stop()
    if cells_out is not None:
        cells[COMPARED].to_parquet(cells_out, index=False)
    return res


def run_raw(data_dir: Path, repeats: int) -> dict[str, Any]:
    import duckdb

    from data_layers import storage

    from .common import RssMonitor, timed

    mon = RssMonitor()
    files = [str(d / "observations.parquet") for d in storage.dataset_dirs(data_dir)]
    con = duckdb.connect(":memory:")
    listing = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"  # views take no parameters
    con.execute(f"CREATE VIEW observations AS SELECT * FROM read_parquet({listing}, union_by_name = true)")
    scan6 = f"SELECT sum(hash({', '.join(RAW_COLUMNS)})) FROM observations"
    scan_all = f"SELECT sum(hash({', '.join(RULE_COLUMNS)})) FROM observations"
    agg = ("SELECT count(*) FROM (SELECT indicator, area_code, disagg_dim, disagg_code, max(period) AS y "
           "FROM observations WHERE value IS NOT NULL GROUP BY ALL)")
    con.execute(scan6).fetchall()  # first read warms the OS page cache, as for GapLens
    res: dict[str, Any] = {"timings": {}, "info": {"files": len(files), "columns": RAW_COLUMNS,
                                                   "rule_columns": RULE_COLUMNS}}
    res["timings"]["raw_scan"], _ = timed(lambda: con.execute(scan6).fetchall(), repeats * 2)
    res["timings"]["raw_scan_rule_columns"], _ = timed(lambda: con.execute(scan_all).fetchall(), repeats * 2)
    res["timings"]["raw_latest_year_aggregation"], _ = timed(lambda: con.execute(agg).fetchall(), repeats)
    res["info"]["rows"] = int(con.execute("SELECT count(*) FROM observations").fetchone()[0])
    con.close()
    res["memory"] = mon.stop()
    return res


def run_apptest(data_dir: Path, repeats: int) -> dict[str, Any]:
    from . import page

    return page.measure(data_dir, repeats)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.worker")
    p.add_argument("task", choices=["gaplens", "pandas", "raw", "apptest"])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--level", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--cells-out", type=Path, default=None)
    a = p.parse_args(argv)
    logging.basicConfig(level=os.environ.get("GAPLENS_BENCH_LOG", "WARNING"), stream=sys.stderr)
    if a.task == "gaplens":
        res = run_gaplens(a.data, a.level, a.repeats, a.cells_out)
    elif a.task == "pandas":
        res = run_pandas(a.data, a.level, a.repeats, a.cells_out)
    elif a.task == "raw":
        res = run_raw(a.data, a.repeats)
    else:
        res = run_apptest(a.data, a.repeats)
    a.out.write_text(json.dumps(res, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
