"""A new release of a dataset is imported in time proportional to its size.

``python -m benchmarks.release [--sizes 50000,200000,400000] [--json FILE]`` imports a generated
canonical official file of each size into a fresh store, then imports a changed release of it
under the same dataset id (a tenth of the figures revised), and reports both times, the time per
1,000 rows and the ratio of re-import to first import, with the machine's load beside every figure.
Targets (issue 13, item 9): the re-import costs at most 2x the first import, and the time per row
of the largest size is at most 1.5x that of the smallest (proportional, not quadratic).

The data are generated here, in a temporary folder; nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.common import machine

DEFAULT_SIZES = (50_000, 200_000, 400_000)
REIMPORT_MAX_RATIO = 2.0   # a release also compares itself with the previous one (one join): at most twice a first import
PER_ROW_MAX_GROWTH = 1.5   # time per row of the largest size over the smallest: proportional
SEED = 13


def _file(path: Path, rows: int, *, revision: int) -> Path:
    """A canonical file of ``rows`` figures over the sample's provinces; ``revision`` changes a tenth."""
    rng = np.random.default_rng(SEED)
    areas = pd.read_parquet(Path(__file__).resolve().parents[1] / "sample_data" / "areas" / "level_2.parquet",
                            columns=["code"])["code"].to_numpy()
    i = np.arange(rows)
    df = pd.DataFrame({
        "indicator": "6.1.1",
        "series": np.where(i % 3 == 0, "A", np.where(i % 3 == 1, "B", "C")),
        "area_code": areas[i % len(areas)],
        "period": 1990 + (i // len(areas)) % 35,
        "sex": np.where((i // (len(areas) * 35)) % 2 == 0, "", "F"),
        "other_dims": "cut=" + (i // (len(areas) * 70)).astype(str),
        "value": np.round(rng.uniform(0, 100, rows), 1),
    })
    if revision:
        revised = rng.random(rows) < 0.1
        df.loc[revised, "value"] = np.round(df.loc[revised, "value"] + revision, 1)
    df.to_csv(path, index=False)
    return path


def measure(sizes: tuple[int, ...]) -> dict[str, Any]:
    from data_layers.catalogue import init_store
    from data_layers.importers import import_file

    rows_out = []
    work = Path(tempfile.mkdtemp(prefix="gaplens-release-"))
    try:
        for n in sizes:
            store = work / f"store-{n}"
            init_store(store)
            shutil.copytree(Path(__file__).resolve().parents[1] / "sample_data" / "areas", store / "areas",
                            dirs_exist_ok=True)
            first_file = _file(work / f"first-{n}.csv", n, revision=0)
            again_file = _file(work / f"again-{n}.csv", n, revision=1)
            load0 = os.getloadavg()[0]
            t0 = time.perf_counter()
            r1 = import_file(first_file, "official", store, dataset_id="release")
            t1 = time.perf_counter()
            r2 = import_file(again_file, "official", store, dataset_id="release")
            t2 = time.perf_counter()
            if r1.status != "accepted" or r2.status != "accepted":
                raise SystemExit(f"import failed at {n} rows: {r1.summary()} / {r2.summary()}")
            rows_out.append({"rows": n, "first_s": round(t1 - t0, 3), "release_s": round(t2 - t1, 3),
                             "release_per_1000_rows_s": round((t2 - t1) / n * 1000, 4),
                             "release_over_first": round((t2 - t1) / (t1 - t0), 2),
                             "changes": r2.changes, "load_before": round(load0, 2),
                             "load_after": round(os.getloadavg()[0], 2)})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    per_row = [r["release_per_1000_rows_s"] for r in rows_out]
    growth = round(per_row[-1] / per_row[0], 2) if len(per_row) > 1 and per_row[0] else None
    targets = {"release_over_first_max": max(r["release_over_first"] for r in rows_out),
               "release_over_first_target": REIMPORT_MAX_RATIO,
               "per_row_growth": growth, "per_row_growth_target": PER_ROW_MAX_GROWTH}
    targets["met"] = bool(targets["release_over_first_max"] <= REIMPORT_MAX_RATIO
                          and (growth is None or growth <= PER_ROW_MAX_GROWTH))
    return {"machine": machine(), "rows": rows_out, "targets": targets}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.release", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="row counts, comma-separated")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = p.parse_args(argv)
    sizes = tuple(int(x) for x in args.sizes.split(",") if x.strip())
    res = measure(sizes)
    print(f"{'rows':>9} {'first import':>13} {'new release':>12} {'per 1,000 rows':>15} {'release/first':>14} load")
    for r in res["rows"]:
        print(f"{r['rows']:>9,} {r['first_s']:>12.2f}s {r['release_s']:>11.2f}s {r['release_per_1000_rows_s']:>14.4f}s "
              f"{r['release_over_first']:>14.2f} {r['load_before']:.1f}->{r['load_after']:.1f}")
    t = res["targets"]
    print(f"targets: release/first <= {t['release_over_first_target']} (worst {t['release_over_first_max']}); "
          f"time per row, largest/smallest <= {t['per_row_growth_target']} ({t['per_row_growth']}): "
          f"{'met' if t['met'] else 'MISSED'}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
