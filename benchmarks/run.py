"""Benchmark harness: ``python -m benchmarks.run --scale S|M|L [--json FILE] [--tiny]``.

1. Makes (or reuses) a store of the scale under the work folder (default ``/tmp/gaplens-bench``):
   S = a copy of the sample, M and L = synthetic stores written through the real write path
   (:mod:`benchmarks.synth`); ``--tiny`` makes a synthetic store of a few thousand rows instead.
2. Runs, each in its own process so that memory is measured apart: the raw DuckDB scan (floor),
   GapLens's own code, the pandas baseline and (at S) the gap-map page in AppTest.
3. Checks that the pandas baseline judges every cell as GapLens does, prints a table of medians
   and ratios, checks the targets of issue 3, and writes everything to the JSON file.

Exit status: 0 when the run completed and the baseline agrees, 1 when a part failed or the baseline
disagrees with GapLens at S, M or tiny scale (at L a disagreement is reported, not fatal), 2 on a
usage error. Missed performance targets never fail the run: they are reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from data_layers.settings import PROJECT_DIR

from . import synth
from .common import STEPS, machine

log = logging.getLogger("benchmarks.run")

DEFAULT_WORK_DIR = Path(tempfile.gettempdir()) / "gaplens-bench"  # outside the repository
ALLOWED_IN_REPO = PROJECT_DIR / "benchmarks" / "data"  # git-ignored; anything else in the repo is refused
DEFAULT_REPEATS = {"S": 5, "M": 5, "L": 5, "tiny": 2}
PANDAS_REPEATS_MAX = 3  # the pandas baseline takes tens of seconds at L; three runs give a median
LEVEL = 2  # the finest level: provinces in the sample, cells in the synthetic stores
MB = 1_000_000

# Targets of issue 3 (they apply at L; at other scales they are shown for information).
# (key, description, metric, limit, unit)
TARGETS: tuple[tuple[str, str, str, float, str], ...] = (
    ("facts_build_s", "facts build from scratch <= 1.5 s", "facts_build", 1.5, "s"),
    ("facts_vs_raw", "facts build from scratch within 5x the raw scan", "facts_vs_raw", 5.0, "x"),
    ("refresh_official_s", "facts refresh after an import (largest official dataset) <= 1.5 s",
     "facts_refresh_official_import", 1.5, "s"),
    ("refresh_official_vs_raw", "… within 5x the raw scan", "refresh_official_vs_raw", 5.0, "x"),
    ("refresh_citizen_s", "facts refresh after an import (largest citizen dataset) <= 1.5 s",
     "facts_refresh_citizen_import", 1.5, "s"),
    ("refresh_citizen_vs_raw", "… within 5x the raw scan", "refresh_citizen_vs_raw", 5.0, "x"),
    ("pandas_vs_facts", "facts build >= 10x faster than pandas", "pandas_vs_facts", 10.0, "x>="),
    ("click_warm_s", "click (warm) <= 50 ms", "click_warm", 0.05, "s"),
    ("coverage_table_s", "coverage table of one level <= 0.3 s", "coverage_table", 0.3, "s"),
    ("pip_s", "point-in-polygon of the citizen points <= 5 s", "point_in_polygon", 5.0, "s"),
    ("gap_map_s", "gap map figure <= 0.3 s", "gap_map_figure", 0.3, "s"),
    ("payload_mb", "gap map payload <= 2 MB", "payload_mb", 2.0, "MB"),
    ("peak_rss_mb", "peak RSS of GapLens's own code <= 1 GB (1000 MB)", "peak_rss_mb", 1000.0, "MB"),
    ("page_rerun_s", "gap-map page rerun after a filter change <= 0.3 s (sample)", "page_rerun_new_filter", 0.3, "s"),
)
FLOAT_TOLERANCE = 1e-9
COMPARE_KEY = ["indicator", "area_code", "group"]


def _worker(task: str, data: Path, out: Path, *, level: int, repeats: int, cells_out: Path | None = None,
            timeout: float) -> dict[str, Any]:
    """Run one worker process and read its JSON (errors are recorded, not hidden)."""
    cmd = [sys.executable, "-m", "benchmarks.worker", task, "--data", str(data), "--out", str(out),
           "--level", str(level), "--repeats", str(repeats)]
    if cells_out is not None:
        cmd += ["--cells-out", str(cells_out)]
    env = dict(os.environ, PYTHONPATH=str(PROJECT_DIR))
    load_before = [round(x, 2) for x in os.getloadavg()]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        log.error("worker %s failed (exit %s):\n%s", task, proc.returncode, tail)
        return {"error": f"exit {proc.returncode}: {tail[-2000:]}", "wall_s": round(wall, 2)}
    res = json.loads(out.read_text(encoding="utf-8"))
    res["wall_s"] = round(wall, 2)
    res["load_average_before_after"] = [load_before, [round(x, 2) for x in os.getloadavg()]]
    return res


def compare_cells(gaplens_file: Path, pandas_file: Path) -> dict[str, Any]:
    """Cell-by-cell agreement of the judged cells (statuses exactly, numbers within 1e-9)."""
    import numpy as np
    import pandas as pd

    a = pd.read_parquet(gaplens_file)
    b = pd.read_parquet(pandas_file)
    m = a.merge(b, on=COMPARE_KEY, how="outer", suffixes=("_g", "_p"), indicator=True)
    out: dict[str, Any] = {"cells_gaplens": len(a), "cells_pandas": len(b),
                           "cells_only_in_one": int((m["_merge"] != "both").sum()), "mismatches": {}}
    m = m[m["_merge"] == "both"]
    for col in a.columns:
        if col in COMPARE_KEY:
            continue
        g, p = m[f"{col}_g"], m[f"{col}_p"]
        both_na = g.isna().to_numpy() & p.isna().to_numpy()
        if pd.api.types.is_numeric_dtype(g) and pd.api.types.is_numeric_dtype(p) and not pd.api.types.is_bool_dtype(g):
            gv = g.to_numpy(dtype="float64", na_value=np.nan)
            pv = p.to_numpy(dtype="float64", na_value=np.nan)
            with np.errstate(invalid="ignore"):
                same = np.isclose(gv, pv, rtol=FLOAT_TOLERANCE, atol=FLOAT_TOLERANCE) | both_na
        else:
            same = (g.astype("string").fillna("<NA>").to_numpy() == p.astype("string").fillna("<NA>").to_numpy()) | both_na
        bad = int((~same).sum())
        if bad:
            out["mismatches"][col] = bad
            first = m.loc[~same, [*COMPARE_KEY, f"{col}_g", f"{col}_p"]].head(3)
            out.setdefault("examples", {})[col] = first.astype(str).to_dict("records")
    out["all_equal"] = out["cells_only_in_one"] == 0 and not out["mismatches"]
    return out


def _median(res: dict[str, Any], key: str) -> float | None:
    t = res.get("timings", {}).get(key)
    return None if t is None else float(t["median_s"])


def derive(results: dict[str, Any]) -> dict[str, Any]:
    """Ratios and the values the targets are checked against."""
    g, p, r = results["gaplens"], results["baselines"]["pandas"], results["baselines"]["raw"]
    facts = _median(g, "facts_build")
    cov = _median(g, "coverage_table")
    raw = _median(r, "raw_scan")
    p_facts, p_cells, p_total = _median(p, "facts"), _median(p, "cells"), _median(p, "total")

    def ratio(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None or b == 0 else round(a / b, 2)

    ratios = {
        "pandas_vs_facts": ratio(p_facts, facts),
        "pandas_vs_coverage_table": ratio(p_cells, cov),
        "pandas_vs_end_to_end": ratio(p_total, (facts or 0) + (cov or 0) if facts and cov else None),
        "facts_vs_raw": ratio(facts, raw),
        "facts_sql_only_vs_raw": ratio(_median(g, "facts_build_sql_only"), raw),
        "coverage_table_vs_raw": ratio(cov, raw),
        "raw_aggregation_vs_raw": ratio(_median(r, "raw_latest_year_aggregation"), raw),
        "refresh_official_vs_raw": ratio(_median(g, "facts_refresh_official_import"), raw),
        "refresh_citizen_vs_raw": ratio(_median(g, "facts_refresh_citizen_import"), raw),
    }
    values: dict[str, float | None] = {k: _median(g, k) for k in
                                       ("facts_build", "facts_refresh_official_import", "facts_refresh_citizen_import",
                                        "click_warm", "coverage_table", "point_in_polygon", "gap_map_figure")}
    values.update(ratios)
    gm = g.get("info", {}).get("gap_map", {})
    values["payload_mb"] = gm["payload_bytes"] / MB if gm.get("payload_bytes") is not None else None
    values["peak_rss_mb"] = g.get("memory", {}).get("peak_rss_mb")
    page = results.get("page") or {}
    values["page_rerun_new_filter"] = _median(page, "page_rerun_new_filter") if page.get("available") else None
    targets = []
    for key, text, metric, limit, unit in TARGETS:
        v = values.get(metric)
        met = None if v is None else (v >= limit if unit == "x>=" else v <= limit)
        miss = None
        if met is False:
            if unit == "x>=":
                miss = f"only {v:.1f}x, {limit / v:.1f}x short of {limit:g}x"
            elif unit == "x":
                miss = f"{v:.1f}x the floor, {v / limit:.1f}x the allowed {limit:g}x"
            else:
                miss = f"{v / limit:.1f}x the limit, +{v - limit:.3g} {unit}"
        targets.append({"key": key, "target": text, "metric": metric, "limit": limit, "unit": unit.rstrip(">="),
                        "measured": None if v is None else round(v, 4), "met": met, "miss": miss})
    return {"ratios": ratios, "targets": targets}


def table(results: dict[str, Any]) -> str:
    """The printed table: medians (wall and CPU), baselines and ratios."""
    g, p, r = results["gaplens"], results["baselines"]["pandas"], results["baselines"]["raw"]
    raw = _median(r, "raw_scan")

    def fmt(v: float | None) -> str:
        if v is None:
            return "-"
        return f"{v * 1000:.1f} ms" if v < 1 else f"{v:.2f} s"

    def cpu(key: str) -> str:
        return fmt(g.get("timings", {}).get(key, {}).get("cpu_median_s"))

    def x(a: float | None, b: float | None) -> str:
        return "-" if a is None or b is None or b == 0 else f"{a / b:.1f}x"

    facts, cov = _median(g, "facts_build"), _median(g, "coverage_table")
    both = facts + cov if facts is not None and cov is not None else None
    rows = [("step", "GapLens", "(CPU)", "pandas", "pandas/GapLens", "GapLens/raw scan")]
    for gk, pk, label, _long, vs_raw in STEPS:
        gv = _median(g, gk)
        pv = _median(p, pk) if pk else None
        rows.append((label, fmt(gv), cpu(gk), fmt(pv), x(pv, gv) if pk else "", x(gv, raw) if vs_raw else ""))
    rows.append(("end to end (facts + table)", fmt(both), "", fmt(_median(p, "total")), x(_median(p, "total"), both), ""))
    rows.append(("raw scan, 6 columns (floor)", "", "", "", "", fmt(raw)))
    rows.append(("raw scan, all rule columns", "", "", "", "", fmt(_median(r, "raw_scan_rule_columns"))))
    rows.append(("raw latest-year aggregation", "", "", "", "", fmt(_median(r, "raw_latest_year_aggregation"))))
    page = results.get("page") or {}
    if page.get("available"):
        rows.append(("gap-map page rerun, new filter", fmt(_median(page, "page_rerun_new_filter")), "", "", "", ""))
        rows.append(("gap-map page rerun, cached filter", fmt(_median(page, "page_rerun_cached_filter")), "", "", "", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    gm = g.get("info", {}).get("gap_map", {})
    if gm.get("payload_bytes") is not None:
        lines.append(f"gap map payload: {gm['payload_bytes']:,} bytes for {gm.get('areas')} areas")
    elif gm.get("note"):
        lines.append(f"gap map: {gm['note']}")
    mem = [("peak RSS, GapLens worker", g), ("peak RSS, pandas baseline", p), ("peak RSS, raw scan", r),
           ("peak RSS, page (AppTest)", page)]
    lines += [f"{k}: {v['memory']['peak_rss_mb']} MB" for k, v in mem if v.get("memory")]
    return "\n".join(lines)


def _check_work_dir(path: Path) -> Path:
    path = path.resolve()
    inside = path == PROJECT_DIR or PROJECT_DIR in path.parents
    if inside and not (path == ALLOWED_IN_REPO or ALLOWED_IN_REPO in path.parents):
        raise SystemExit(f"usage error: the work folder {path} is inside the repository; use /tmp or benchmarks/data/")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", choices=["S", "M", "L"], default="S",
                    help="S = the sample; M = 1 M official rows, 1,700 cells; L = 10 M rows, 1 M points, 5,000 cells")
    ap.add_argument("--tiny", action="store_true",
                    help="a synthetic store of a few thousand rows instead of --scale (the smoke test)")
    ap.add_argument("--json", type=Path, default=None, help="write the results here (default: in the work folder)")
    ap.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="where generated stores live (not the repo)")
    ap.add_argument("--repeats", type=int, default=None, help="runs per timed step (median reported)")
    ap.add_argument("--regenerate", action="store_true", help="regenerate the store even if a matching one exists")
    ap.add_argument("--no-page", action="store_true", help="skip the AppTest page measurement")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds allowed per worker")
    a = ap.parse_args(argv)
    logging.basicConfig(level=os.environ.get("GAPLENS_BENCH_LOG", "INFO"), format="%(message)s", stream=sys.stderr)
    try:
        work = _check_work_dir(a.work_dir)
    except SystemExit as e:
        print(e, file=sys.stderr)
        return 2
    scale = "tiny" if a.tiny else a.scale
    repeats = a.repeats or DEFAULT_REPEATS[scale]
    store_dir = work / scale
    out_dir = work / f"{scale}-out"
    out_dir.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    log.info("preparing the %s store in %s ...", scale, store_dir)
    data_info = synth.ensure(store_dir, scale, regenerate=a.regenerate)
    log.info("store ready (%s, %.1f s)", "reused" if data_info.get("reused") else "generated", time.perf_counter() - t0)
    results: dict[str, Any] = {
        "harness": "python -m benchmarks.run", "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale": scale, "requested_scale": a.scale, "tiny": a.tiny, "level": LEVEL, "repeats": repeats,
        "as_of": 2024, "window": 5, "machine": machine(), "data": data_info,
        "method": {
            "timing": "median of `repeats` runs (time.perf_counter) after the store files were read once "
                      "(warm OS page cache for GapLens and both baselines alike)",
            "facts_build": "GapStore.refresh() with the facts folder removed: fingerprint, catalogues, views, every "
                           "dataset's part and every indicator's facts written to parquet (a full rebuild)",
            "facts_refresh": "GapStore.refresh() after the largest official (citizen) dataset was imported again "
                             "(new import time in its dataset.json): its part and its indicators' facts are rebuilt, "
                             "what happens after every import",
            "click": "GapStore.coverage(level, as_of, window, indicators=[one], groups=[one]); cold = first query on a "
                     "freshly opened GapStore (new DuckDB), warm = the same query repeated",
            "memory": "each part runs in its own process; peak RSS = getrusage(RUSAGE_SELF).ru_maxrss of that process "
                      "(exact high-water mark), per-phase peaks sampled with psutil every 5 ms",
            "baselines": {"pandas": "benchmarks/baseline_pandas.py: read parquet (needed columns), merge/groupby; the "
                                    "same rule written independently; its cells are compared one by one with GapLens's",
                          "raw": "DuckDB SELECT sum(hash(indicator, area_code, period, disagg_dim, disagg_code, value)) "
                                 "over all observation files: the floor any engine must pay to read the data"},
        },
    }
    dirs = {"store": str(store_dir), "out": str(out_dir)}
    gcells, pcells = out_dir / "cells_gaplens.parquet", out_dir / "cells_pandas.parquet"
    log.info("raw scan (floor) ...")
    raw = _worker("raw", store_dir, out_dir / "raw.json", level=LEVEL, repeats=repeats, timeout=a.timeout)
    log.info("GapLens ...")
    gap = _worker("gaplens", store_dir, out_dir / "gaplens.json", level=LEVEL, repeats=repeats, cells_out=gcells,
                  timeout=a.timeout)
    log.info("pandas baseline ...")
    pnd = _worker("pandas", store_dir, out_dir / "pandas.json", level=LEVEL,
                  repeats=min(repeats, PANDAS_REPEATS_MAX), cells_out=pcells, timeout=a.timeout)
    results.update(gaplens=gap, baselines={"pandas": pnd, "raw": raw}, dirs=dirs)
    if scale == "S" and not a.no_page:
        log.info("gap-map page in AppTest ...")
        results["page"] = _worker("apptest", store_dir, out_dir / "page.json", level=LEVEL, repeats=repeats,
                                  timeout=a.timeout)
    else:
        results["page"] = {"available": False, "note": "the page rerun is measured at scale S only"}

    failed = [k for k, v in (("gaplens", gap), ("pandas", pnd), ("raw", raw)) if "error" in v]
    agreement: dict[str, Any] = {"status_counts_gaplens": gap.get("status_counts"),
                                 "status_counts_pandas": pnd.get("status_counts")}
    if not failed:
        agreement["status_counts_match"] = gap.get("status_counts") == pnd.get("status_counts")
        agreement["headline_counts_match"] = gap.get("headline_counts") == pnd.get("headline_counts")
        agreement["cells"] = compare_cells(gcells, pcells)
    results["agreement"] = agreement
    results.update(derive(results) if not failed else {"ratios": {}, "targets": []})
    results["total_wall_s"] = round(time.perf_counter() - t0, 1)

    out_json = a.json or (out_dir / "results.json")
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps(results, indent=1, default=_jsonable) + "\n", encoding="utf-8")

    print(f"GapLens benchmark, scale {scale} ({data_info.get('official_rows', 'sample')} official rows), "
          f"{results['date']}, {results['machine']['cores_logical']} cores, {results['machine']['memory_gb']} GB")
    if failed:
        print(f"FAILED workers: {', '.join(failed)}")
        for k in failed:
            print(f"  {k}: {({'gaplens': gap, 'pandas': pnd, 'raw': raw})[k]['error'][-500:]}")
        return 1
    print(table(results))
    print("targets (issue 3; binding at L):")
    for t in results["targets"]:
        mark = {True: "met", False: "MISSED", None: "not measured"}[t["met"]]
        extra = f" ({t['miss']})" if t["miss"] else ""
        print(f"  {mark:12} {t['target']}: {t['measured']}{extra}")
    cells = agreement.get("cells", {})
    print(f"pandas baseline agrees with GapLens: status counts {'yes' if agreement['status_counts_match'] else 'NO'}, "
          f"every cell {'yes' if cells.get('all_equal') else 'NO ' + json.dumps(cells.get('mismatches'))}")
    print(f"results written to {out_json}")
    if scale in ("S", "M", "tiny") and not (agreement["status_counts_match"] and cells.get("all_equal")):
        print("ERROR: the pandas baseline and GapLens disagree", file=sys.stderr)
        return 1
    return 0


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    return str(v)


if __name__ == "__main__":
    sys.exit(main())
