"""Render a results JSON of ``benchmarks.run`` as Markdown (for ``benchmarks/RESULTS.md``).

``python -m benchmarks.report RESULTS.json [MORE.json ...]`` prints, per file, the machine line,
the table of medians (wall and CPU time) with the pandas and raw-scan ratios, memory, the targets
and the baseline agreement.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .common import STEPS


def _t(block: dict[str, Any], key: str, field: str = "median_s") -> float | None:
    v = block.get("timings", {}).get(key, {}).get(field)
    return None if v is None else float(v)


def _fmt(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def _x(a: float | None, b: float | None) -> str:
    return "–" if a is None or b is None or b == 0 else f"{a / b:.1f}×"


def render(r: dict[str, Any]) -> str:
    g, p, raw = r["gaplens"], r["baselines"]["pandas"], r["baselines"]["raw"]
    m = r["machine"]
    d = r["data"]
    scan = _t(raw, "raw_scan")
    out = [f"**Scale {r['scale']}** — {r['date']} — {m['cores_logical']} cores ({m['cpu_model']}), "
           f"{m['memory_gb']} GB, Python {m['python']}, "
           + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if k in ("duckdb", "pandas", "plotly", "streamlit"))
           + f"; load average at start {m['load_average_at_start']}."]
    if "official_rows" in d:
        out.append(f"Data: {d['official_rows']:,} official observations, {d['citizen_rows']:,} citizen rows "
                   f"({d['citizen_points']:,} points), areas per level {d['areas']}, level-2 vertices per area "
                   f"median {d['level2_vertices']['median']:.0f} (max {d['level2_vertices']['max']}).")
    else:
        out.append("Data: the bundled Philippine sample.")
    out += ["", "| step | GapLens (wall) | GapLens (CPU) | pandas | pandas ÷ GapLens | GapLens ÷ raw scan |",
            "|---|---:|---:|---:|---:|---:|"]
    for gk, pk, _short, label, vs_raw in STEPS:
        gv = _t(g, gk)
        pv = _t(p, pk) if pk else None
        ratio_raw = _x(gv, scan) if vs_raw else ""
        out.append(f"| {label} | {_fmt(gv)} | {_fmt(_t(g, gk, 'cpu_median_s'))} | {_fmt(pv) if pk else ''} | "
                   f"{_x(pv, gv) if pk else ''} | {ratio_raw} |")
    facts, cov = _t(g, "facts_build"), _t(g, "coverage_table")
    both = facts + cov if facts is not None and cov is not None else None
    out.append(f"| end to end: facts + coverage table | {_fmt(both)} | | {_fmt(_t(p, 'total'))} | "
               f"{_x(_t(p, 'total'), both)} | |")
    out.append(f"| raw DuckDB scan of the 6 rule columns (floor) | | | | | {_fmt(scan)} |")
    out.append(f"| raw scan of all 14 columns the rule reads | | | | | {_fmt(_t(raw, 'raw_scan_rule_columns'))} |")
    out.append(f"| raw one-pass latest-year aggregation | | | | | {_fmt(_t(raw, 'raw_latest_year_aggregation'))} |")
    page = r.get("page") or {}
    if page.get("available"):
        out.append(f"| gap-map page rerun after a filter change (AppTest) | {_fmt(_t(page, 'page_rerun_new_filter'))} "
                   f"| | | | |")
        out.append(f"| … same, filter value seen before (cached) | {_fmt(_t(page, 'page_rerun_cached_filter'))} | | | | |")
    gm = g.get("info", {}).get("gap_map", {})
    pip = g.get("info", {}).get("point_in_polygon", {})
    out.append("")
    if gm.get("payload_bytes") is not None:
        out.append(f"Gap map payload: {gm['payload_bytes']:,} bytes for {gm['areas']:,} areas "
                   f"(display simplification tolerance {gm.get('simplify_tolerance')}°).")
    if pip:
        out.append(f"Point-in-polygon: {pip['points']:,} points into {pip['areas']:,} areas with `{pip['function']}`.")
    mem = [("GapLens worker", g), ("pandas baseline", p), ("raw scan", raw), ("page (AppTest)", page)]
    out.append("Peak RSS (each in its own process): " + ", ".join(
        f"{k} {v['memory']['peak_rss_mb']:.0f} MB" for k, v in mem if v.get("memory")) + ".")
    a = r.get("agreement", {})
    cells = a.get("cells", {})
    out.append(f"Baseline agreement: status counts {'match' if a.get('status_counts_match') else 'DIFFER'} "
               f"({a.get('status_counts_gaplens')}); every cell {'equal' if cells.get('all_equal') else 'NOT equal'} "
               f"({cells.get('cells_gaplens', 0):,} cells compared).")
    out += ["", "| target (issue 3) | measured | met |", "|---|---:|:---:|"]
    for t in r.get("targets", []):
        v = t["measured"]
        shown = "–" if v is None else (f"{v:.1f}×" if t["unit"] == "x" else f"{v:.0f} {t['unit']}" if v >= 100
                                       else f"{v:.3g} {t['unit']}")
        mark = {True: "yes", False: f"**no** ({t['miss']})", None: "not measured"}[t["met"]]
        out.append(f"| {t['target']} | {shown} | {mark} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    files = argv if argv is not None else sys.argv[1:]
    for f in files:
        print(render(json.loads(Path(f).read_text(encoding="utf-8"))))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
