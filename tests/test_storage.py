"""The on-disk store: atomic writes, recovery after an interrupted replacement, a content
fingerprint that ignores mtimes, removal, and refusal of unsafe dataset ids."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from support import dataset_meta

from data_layers import storage, tidy
from data_layers.store import GapStore


def observations(values: list[float], dataset_id: str = "ds", seq: int = 1) -> pd.DataFrame:
    raw = pd.DataFrame({"indicator": "6.1.1", "area_code": "R1", "period": 2020, "value": values})
    return tidy.finish(raw, dataset_id=dataset_id, source_kind="official", seq=seq)


def stored_values(data_dir: Path, dataset_id: str = "ds") -> list[float]:
    return pq.read_table(storage.datasets_dir(data_dir) / dataset_id / "observations.parquet")["value"].to_pylist()


def hidden_entries(data_dir: Path) -> list[str]:
    return sorted(p.name for p in storage.datasets_dir(data_dir).iterdir() if p.name.startswith("."))


def test_write_then_replace(tmp_path):
    storage.write_dataset(tmp_path, dataset_meta("ds", "official", 1), observations([1.0, 2.0]))
    storage.write_dataset(tmp_path, dataset_meta("ds", "official", 1), observations([3.0]))
    assert stored_values(tmp_path) == [3.0]
    assert [p.name for p in storage.dataset_dirs(tmp_path)] == ["ds"]
    assert hidden_entries(tmp_path) == []


def test_a_failing_write_leaves_the_old_dataset_intact(tmp_path):
    storage.write_dataset(tmp_path, dataset_meta("ds", "official", 1), observations([1.0, 2.0]))
    bad = observations([9.0]).drop(columns=["value"])  # not in the schema: refused while staging
    with pytest.raises(storage.StoreError, match="value"):
        storage.write_dataset(tmp_path, dataset_meta("ds", "official", 1), bad)
    assert stored_values(tmp_path) == [1.0, 2.0]
    assert hidden_entries(tmp_path) == []  # the staging folder was cleaned up


def test_a_failure_between_the_two_renames_is_rolled_back(tmp_path, monkeypatch):
    storage.write_dataset(tmp_path, dataset_meta("ds", "official", 1), observations([1.0, 2.0]))
    real_replace = os.replace

    def failing_replace(src, dst):
        if Path(src).name.startswith(".staging-"):
            raise OSError("disk on fire")
        return real_replace(src, dst)

    monkeypatch.setattr(storage.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk on fire"):
        storage.write_dataset(tmp_path, dataset_meta("ds", "official", 1), observations([3.0]))
    monkeypatch.undo()
    assert stored_values(tmp_path) == [1.0, 2.0]  # the old dataset is back in place at once
    assert [p.name for p in storage.dataset_dirs(tmp_path)] == ["ds"]


def test_recover_restores_an_interrupted_replacement(tmp_path):
    """A crash (kill -9) after the old folder moved aside but before the new one moved in."""
    storage.write_dataset(tmp_path, dataset_meta("ds", "official", 1), observations([1.0, 2.0]))
    root = storage.datasets_dir(tmp_path)
    os.replace(root / "ds", root / ".old-ds")
    (root / ".staging-ds-dead").mkdir()  # the half-written new version
    assert storage.dataset_dirs(tmp_path) == []  # readers never see a half state...
    storage.recover(tmp_path)
    assert stored_values(tmp_path) == [1.0, 2.0]  # ...and the old version comes back
    assert not (root / ".old-ds").exists()
    # when the replacement did complete, the leftover old copy is simply dropped
    shutil.copytree(root / "ds", root / ".old-ds")
    storage.recover(tmp_path)
    assert not (root / ".old-ds").exists() and stored_values(tmp_path) == [1.0, 2.0]


def test_the_store_recovers_on_open(tmp_path):
    shutil.copytree(Path(__file__).resolve().parents[1] / "sample_data", tmp_path / "s",
                    ignore=shutil.ignore_patterns("boundaries"))
    root = storage.datasets_dir(tmp_path / "s")
    os.replace(root / "pwd-survey-2023", root / ".old-pwd-survey-2023")
    store = GapStore(tmp_path / "s")
    try:
        assert "pwd-survey-2023" in set(store.datasets()["dataset_id"])
    finally:
        store.close()


def test_fingerprint_ignores_mtimes_and_follows_content(tmp_path, sample_dir):
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(sample_dir, a, ignore=shutil.ignore_patterns("boundaries"))
    shutil.copytree(sample_dir, b, ignore=shutil.ignore_patterns("boundaries"))
    for p in b.rglob("*"):
        os.utime(p, (1_000_000_000, 1_000_000_000))
    assert storage.fingerprint(a) == storage.fingerprint(b) == storage.fingerprint(sample_dir)
    storage.remove_dataset(b, "youth-online-poll-2024")
    assert storage.fingerprint(a) != storage.fingerprint(b)
    groups = storage.read_catalogue(a, "groups")
    storage.write_catalogue(a, "groups", groups.iloc[:-1])
    assert storage.fingerprint(a) != storage.fingerprint(sample_dir)


def test_remove_dataset(tmp_path):
    storage.write_dataset(tmp_path, dataset_meta("keep", "official", 1), observations([1.0], "keep", 1))
    storage.write_dataset(tmp_path, dataset_meta("drop", "citizen", 2), observations([2.0], "drop", 2))
    storage.remove_dataset(tmp_path, "drop")
    assert [p.name for p in storage.dataset_dirs(tmp_path)] == ["keep"]
    assert hidden_entries(tmp_path) == []
    assert storage.next_seq(tmp_path) == 2
    with pytest.raises(storage.StoreError, match="no dataset"):
        storage.remove_dataset(tmp_path, "drop")


@pytest.mark.parametrize("bad_id", ["", ".", "..", ".hidden", "a/b", "a\\b", "../outside", "keep/../keep"])
def test_invalid_dataset_ids_are_refused(tmp_path, bad_id):
    storage.write_dataset(tmp_path, dataset_meta("keep", "official", 1), observations([1.0], "keep", 1))
    with pytest.raises(storage.StoreError):
        storage.write_dataset(tmp_path, dataset_meta(bad_id, "official", 2), observations([1.0], bad_id or "x", 2))
    with pytest.raises(storage.StoreError):
        storage.remove_dataset(tmp_path, bad_id)
    assert [p.name for p in storage.dataset_dirs(tmp_path)] == ["keep"]
    beside = sorted(p.name for p in tmp_path.iterdir() if p.name != storage.LOCK_FILE)
    assert beside == ["datasets"]  # nothing written beside it (the hidden lock file aside)


def test_areas_and_catalogues_are_written_atomically(tmp_path):
    import geopandas as gpd
    import shapely

    gdf = gpd.GeoDataFrame({"code": ["XX"], "name": ["Testland"], "level": [0], "parent_code": [None]},
                           geometry=[shapely.box(0, 0, 1, 1)], crs=4326)
    path = storage.write_areas(tmp_path, 0, gdf)
    back = gpd.read_parquet(path)
    assert back.crs.to_epsg() == 4326 and back["code"].tolist() == ["XX"]
    assert str(pq.read_schema(path).field("parent_code").type) in ("string", "large_string")
    storage.write_catalogue(tmp_path, "groups", pd.DataFrame({"group_id": ["all"]}))
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".") and p.name != storage.LOCK_FILE]
    assert leftovers == []  # no temporary file left (the lock file is meant to stay)
    assert [p.name for p in (tmp_path / "areas").iterdir() if p.name.startswith(".")] == []


def test_two_writers_run_one_after_the_other(tmp_path):
    """A second writer waits for the first (threads here; the same lock file serves processes)."""
    import threading
    import time

    storage.write_dataset(tmp_path, dataset_meta("ds", "official", 1), observations([1.0]))
    order: list[str] = []
    entered = threading.Event()

    def slow_writer() -> None:
        with storage.store_lock(tmp_path):
            entered.set()
            order.append("first starts")
            time.sleep(0.3)
            order.append("first ends")

    t = threading.Thread(target=slow_writer)
    t.start()
    assert entered.wait(5)
    storage.write_dataset(tmp_path, dataset_meta("ds", "official", 1), observations([2.0]))
    order.append("second done")
    t.join()
    assert order == ["first starts", "first ends", "second done"]
    assert stored_values(tmp_path) == [2.0]


def test_a_store_locked_by_another_process_is_reported_busy(tmp_path, monkeypatch):
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(f"""
        import sys, time
        from filelock import FileLock
        with FileLock({str(tmp_path / storage.LOCK_FILE)!r}):
            print("locked", flush=True)
            sys.stdin.readline()
    """)
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(storage.StoreError, match="busy"), storage.store_lock(tmp_path, timeout=0.2):
            pass
        monkeypatch.setattr(storage, "LOCK_TIMEOUT_S", 0.2)
        with pytest.raises(storage.StoreError, match="busy"):
            storage.write_dataset(tmp_path, dataset_meta("ds", "official", 1), observations([1.0]))
        assert not storage.datasets_dir(tmp_path).exists()  # nothing written while locked
    finally:
        holder.communicate("done\n", timeout=10)
    with storage.store_lock(tmp_path, timeout=2):  # free again once the other process let go
        pass
