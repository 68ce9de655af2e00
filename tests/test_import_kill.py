"""A crash or SIGKILL at any moment of an import leaves the previous store intact and readable.

An import of a large generated Open SDG file runs in a subprocess that prints each stage; the test
kills it at several moments (while validating, as the write starts, while the facts are rebuilt).
Before the write has committed, the committed files (hidden staging names ignored) must equal the
previous store byte for byte; after it, the new dataset must be there whole. Either way the store
opens and answers coverage queries.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from data_layers.importers import store_tree_hash
from data_layers.store import GapStore

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import sys
from data_layers.importers import import_file
r = import_file(sys.argv[1], "official", sys.argv[2], progress=lambda stage, f: print(stage, flush=True))
print("status", r.status, flush=True)
"""
# (stage printed by the import, seconds to wait after it before SIGKILL)
# "storing" is printed just before the staging folder is written and renamed: the kills after it
# land inside that write (a hidden .staging-* folder is left behind, which readers ignore).
TIMINGS = [("reading", 0.0), ("checking", 0.2), ("checking", 1.0), ("writing", 0.0), ("storing", 0.0),
           ("storing", 0.05), ("storing", 0.15), ("refreshing", 0.0)]
STAGE_ORDER = ["reading", "checking", "writing", "storing", "refreshing", "done", "status"]
SEXES, PLACES, AGES = ["", "female", "male"], ["", "urban", "rural"], ["", "15-24", "60+"]


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """An Open SDG file with one row per country x year x sex x location x age (no duplicate)."""
    codes = pq.read_table(ROOT / "sample_data" / "areas" / "level_0.parquet", columns=["code"])["code"].to_pylist()
    f = tmp_path_factory.mktemp("big") / "indicator_1-2-1.csv"
    n = 0
    with open(f, "w", encoding="utf-8") as out:
        out.write("Year,GeoCode,Sex,Location,Age,Units,Value\n")
        for c, year in itertools.product(codes, range(2009, 2021)):
            for i, (s, loc, age) in enumerate(itertools.product(SEXES, PLACES, AGES)):
                out.write(f"{year},{c},{s},{loc},{age},%,{(year * 7 + i * 13 + len(c)) % 997 / 10}\n")
                n += 1
    return f, n


def _run_and_kill(big: Path, store: Path, stage: str, delay: float) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(big), str(store)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
    seen: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line.split()[0])
        if seen[-1] == stage:
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=120)
    seen += [line.split()[0] for line in proc.stdout.read().splitlines() if line.strip()]  # printed before the kill
    return seen


@pytest.mark.slow
@pytest.mark.parametrize(("stage", "delay"), TIMINGS)
def test_sigkill_leaves_the_store_intact(stage: str, delay: float, big_file: tuple[Path, int],
                                         tmp_path: Path) -> None:
    big, rows = big_file
    store = tmp_path / "store"
    shutil.copytree(ROOT / "sample_data", store, ignore=shutil.ignore_patterns("boundaries"))
    GapStore(store).close()  # facts fresh before, so "unchanged" means byte for byte
    before = store_tree_hash(store)
    seen = _run_and_kill(big, store, stage, delay)
    assert stage in seen, f"the import never reached {stage}: {seen}"
    committed = (store / "datasets" / "indicator-1-2-1" / "dataset.json").is_file()
    if STAGE_ORDER.index(seen[-1]) < STAGE_ORDER.index("storing"):
        assert not committed
    if not committed:
        assert store_tree_hash(store) == before  # the previous store, byte for byte (staging names ignored)
    else:
        assert len(pd.read_parquet(store / "datasets" / "indicator-1-2-1" / "observations.parquet")) == rows
    # readable: the engine opens it (finishing an interrupted replacement or rebuilding stale facts)
    s = GapStore(store)
    cells = s.coverage(level=1, as_of=2024, window=5, indicators=["6.1.1"])
    assert len(cells) and set(cells["status"]) <= {"current", "stale", "aggregate_only", "missing", "not_applicable"}
    assert ("indicator-1-2-1" in set(s.datasets()["dataset_id"])) == committed
    s.close()


@pytest.mark.slow
def test_a_killed_replacement_keeps_the_old_release(big_file: tuple[Path, int], tmp_path: Path) -> None:
    """Killed while replacing an existing dataset: the old release (or the whole new one) is there."""
    big, rows = big_file
    store = tmp_path / "store"
    shutil.copytree(ROOT / "sample_data", store, ignore=shutil.ignore_patterns("boundaries"))
    old = pd.read_parquet(store / "datasets" / "pwd-survey-2023" / "observations.parquet")
    script = SCRIPT.replace('progress=', 'dataset_id="pwd-survey-2023", progress=')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", script, str(big), str(store)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("storing"):
            time.sleep(0.05)
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=120)
    s = GapStore(store)
    now = s.observations(dataset_id="pwd-survey-2023", limit=10**6)
    assert len(now) in (len(old), rows)
    s.close()
