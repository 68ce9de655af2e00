"""The facts build on each engine: DuckDB and Apache Spark (local), same store, same output files.

``python -m benchmarks.engines --scale M|L [--repeats N] [--spark-master local[2]]`` generates (or
reuses) the benchmark store of that scale, then runs ``facts_engine.build_facts`` into a scratch
folder on each engine, each engine in its own process: Spark's fixed start-up (JVM and session) is
timed apart from the builds, and the first build (which also warms the JVM's compiler) apart from
the median of the later ones. Both engines' files are then compared row by row (types normalised
to text), as the parity test does. Prints a Markdown table for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from data_layers.settings import PROJECT_DIR

from . import synth
from .run import DEFAULT_WORK_DIR

log = logging.getLogger("benchmarks.engines")

ENGINES = ("duckdb", "spark")


def _worker(engine: str, data: Path, out: Path, repeats: int, master: str) -> dict[str, Any]:
    """Time the facts builds of one engine in this process."""
    from data_layers import facts_engine

    res: dict[str, Any] = {"engine": engine, "master": master if engine == "spark" else None}
    spark = None
    if engine == "spark":
        t0 = time.perf_counter()
        spark = facts_engine.spark_session(master)
        res["startup_s"] = round(time.perf_counter() - t0, 2)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = facts_engine.build_facts(data, str(out), engine=engine, spark=spark)
        times.append(time.perf_counter() - t0)
        res["rows"], res["files"] = r.rows, r.files
    res["builds_s"] = [round(t, 2) for t in times]
    res["first_build_s"] = round(times[0], 2)
    res["warm_build_median_s"] = round(statistics.median(times[1:]), 2) if len(times) > 1 else None
    if spark is not None:
        spark.stop()
    return res


def same_files(a: Path, b: Path) -> tuple[bool, str]:
    """Whether two facts folders hold the same files with the same rows in the same order (types as text)."""
    import pandas as pd

    def norm(d: pd.DataFrame) -> pd.DataFrame:
        return d.astype(str).replace({"<NA>": "", "nan": "", "None": "", "NaT": ""}).reset_index(drop=True)

    fa = sorted(p.relative_to(a) for p in a.rglob("*.parquet"))
    fb = sorted(p.relative_to(b) for p in b.rglob("*.parquet"))
    if fa != fb:
        return False, f"different files: {sorted(set(map(str, fa)) ^ set(map(str, fb)))[:5]}"
    for f in fa:
        x, y = pd.read_parquet(a / f), pd.read_parquet(b / f)
        if list(x.columns) != list(y.columns) or not norm(x).equals(norm(y)):
            return False, f"{f} differs"
    return True, f"{len(fa)} files identical"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.engines", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", choices=["tiny", "M", "L"], default="M")
    ap.add_argument("--repeats", type=int, default=3, help="builds per engine (the first is reported apart)")
    ap.add_argument("--spark-master", default="local[2]")
    ap.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if a.worker:
        print(json.dumps(_worker(a.worker, a.data, a.out, a.repeats, a.spark_master)))
        return 0
    store = a.work_dir / a.scale
    info = synth.ensure(store, a.scale)
    results: dict[str, Any] = {"scale": a.scale, "official_rows": info.get("official_rows"),
                               "citizen_rows": info.get("citizen_rows"), "cores": os.cpu_count(), "engines": {}}
    for engine in ENGINES:
        out = a.work_dir / f"{a.scale}-facts-{engine}"
        log.info("facts on %s ...", engine)
        load = os.getloadavg()[0]
        proc = subprocess.run([sys.executable, "-m", "benchmarks.engines", "--worker", engine, "--data", str(store),
                               "--out", str(out), "--repeats", str(a.repeats), "--spark-master", a.spark_master],
                              cwd=PROJECT_DIR, env=dict(os.environ, PYTHONPATH=str(PROJECT_DIR)),
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(f"{engine} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
            return 1
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        res["load_average_before_after"] = [round(load, 2), round(os.getloadavg()[0], 2)]
        results["engines"][engine] = res
    same, detail = same_files(*(a.work_dir / f"{a.scale}-facts-{e}" for e in ENGINES))
    results["identical"], results["comparison"] = same, detail
    (a.json or a.work_dir / f"{a.scale}-engines.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"| scale | engine | start-up | first build | warm build (median of {a.repeats - 1}) | facts rows | load before/after |")
    print("|---|---|---|---|---|---|---|")
    for e, r in results["engines"].items():
        name = f"Spark {r['master']}" if e == "spark" else "DuckDB"
        start = f"{r['startup_s']:.1f} s" if "startup_s" in r else "–"
        warm = f"{r['warm_build_median_s']:.2f} s" if r["warm_build_median_s"] is not None else "–"
        load = " / ".join(f"{x:.1f}" for x in r["load_average_before_after"])
        print(f"| {a.scale} | {name} | {start} | {r['first_build_s']:.2f} s | {warm} | {sum(r['rows'].values()):,} | {load} |")
    print(f"facts identical on both engines: {'yes' if same else 'NO'} ({detail})")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
