"""Incremental facts: after a write, only the changed datasets' parts are recomputed and only the
indicators they hold are merged again, and the result equals a build from scratch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from support import dataset_meta

from data_layers import storage, tidy
from data_layers.store import GapStore

NEW_INDICATOR = "6.1.1"  # held by the sample's water points and official series
SEQ = 90


def facts_table(store: GapStore, name: str) -> pd.DataFrame:
    return store.query(f"SELECT * FROM {name} ORDER BY indicator, area_code, group_id, year")


def from_scratch(data_dir: Path, tmp: Path) -> GapStore:
    """The same store content with no facts at all, built in memory from every observation."""
    copy = tmp / "scratch"
    shutil.copytree(data_dir, copy)
    shutil.rmtree(copy / "facts")
    return GapStore(copy, rebuild_facts=False)


def official_rows(dataset_id: str, indicator: str, seq: int, areas: list[str]) -> pd.DataFrame:
    raw = pd.DataFrame({"indicator": indicator, "area_code": areas, "period": 2024, "unit": "percent",
                        "value": [10.0 + i for i in range(len(areas))]})
    return tidy.finish(raw, dataset_id=dataset_id, source_kind="official", seq=seq)


def file_stamps(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*.parquet")}


def manifest(data_dir: Path) -> dict:
    return json.loads((data_dir / "facts" / "manifest.json").read_text())


@pytest.fixture
def store_with_parts(fresh_sample: Path) -> GapStore:
    """The sample after one import, so every dataset's part exists on disk."""
    store = GapStore(fresh_sample)
    provinces = list(store.areas(level=2)["code"][:5])
    storage.write_dataset(fresh_sample, dataset_meta("first-import", "official", SEQ), official_rows(
        "first-import", NEW_INDICATOR, SEQ, provinces))
    store.refresh()
    yield store
    store.close()


def test_an_import_recomputes_one_part_and_merges_only_its_indicators(store_with_parts, tmp_path):
    store = store_with_parts
    data_dir = store.data_dir
    parts_before = file_stamps(data_dir / "facts" / "parts")
    official_before = file_stamps(data_dir / "facts" / "official")
    citizen_before = file_stamps(data_dir / "facts" / "citizen")
    provinces = list(store.areas(level=2)["code"][5:9])
    storage.write_dataset(data_dir, dataset_meta("second-import", "official", SEQ + 1),
                          official_rows("second-import", "1.1.1", SEQ + 1, provinces))
    store.refresh()

    parts_after = file_stamps(data_dir / "facts" / "parts")
    new_parts = set(parts_after) - set(parts_before)
    assert len(new_parts) == 1 and "second-import" in new_parts.pop()
    assert all(parts_after[name] == stamp for name, stamp in parts_before.items())
    official_after = file_stamps(data_dir / "facts" / "official")
    rewritten = {name for name, stamp in official_after.items() if official_before.get(name) != stamp}
    assert rewritten == {manifest(data_dir)["shards"]["official_facts"]["1.1.1"]["file"]}
    assert file_stamps(data_dir / "facts" / "citizen") == citizen_before  # no citizen dataset changed
    assert set(store.facts(indicator="1.1.1", area_code=provinces[0])["dataset_id"]) >= {"second-import"}

    scratch = from_scratch(data_dir, tmp_path)
    for name in ("official_facts", "citizen_facts"):
        pd.testing.assert_frame_equal(facts_table(store, name), facts_table(scratch, name), check_dtype=False)


def test_removing_a_dataset_drops_its_part_and_an_indicator_left_without_data(store_with_parts, tmp_path):
    store = store_with_parts
    data_dir = store.data_dir
    only = "9.9.9"  # an indicator no other dataset holds
    storage.write_dataset(data_dir, dataset_meta("lonely", "official", SEQ + 2),
                          official_rows("lonely", only, SEQ + 2, list(store.areas(level=2)["code"][:2])))
    store.refresh()
    assert only in manifest(data_dir)["shards"]["official_facts"]
    assert len(store.query("SELECT * FROM official_facts WHERE indicator = $i", {"i": only})) > 0

    storage.remove_dataset(data_dir, "lonely")
    store.refresh()
    assert only not in manifest(data_dir)["shards"]["official_facts"]
    assert not any("lonely" in p.name for p in (data_dir / "facts" / "parts").iterdir())
    assert len(list((data_dir / "facts" / "official").glob("9.9.9-*"))) == 0
    assert len(store.query("SELECT * FROM official_facts WHERE indicator = $i", {"i": only})) == 0
    scratch = from_scratch(data_dir, tmp_path)
    pd.testing.assert_frame_equal(facts_table(store, "official_facts"), facts_table(scratch, "official_facts"),
                                  check_dtype=False)


def test_a_new_group_definition_recomputes_every_part(store_with_parts, tmp_path):
    store = store_with_parts
    data_dir = store.data_dir
    before = set(file_stamps(data_dir / "facts" / "parts"))
    groups = storage.read_catalogue(data_dir, "groups")
    women = groups["group_id"] == "women"
    groups.loc[women, "codes"] = groups.loc[women, "codes"] + "|X"  # a harmless extra code
    storage.write_catalogue(data_dir, "groups", groups)
    store.refresh()
    after = set(file_stamps(data_dir / "facts" / "parts"))
    assert after and not (after & before)  # every part renamed by its new digest, the old ones removed
    scratch = from_scratch(data_dir, tmp_path)
    for name in ("official_facts", "citizen_facts"):
        pd.testing.assert_frame_equal(facts_table(store, name), facts_table(scratch, name), check_dtype=False)


def test_facts_written_by_other_code_are_rebuilt(fresh_sample):
    facts = fresh_sample / "facts"
    m = manifest(fresh_sample)
    m["sql"] = "written-by-an-older-version"
    (facts / "manifest.json").write_text(json.dumps(m))
    (facts / "official_facts.parquet").write_bytes(b"a file of the old one-file layout")
    store = GapStore(fresh_sample)
    assert manifest(fresh_sample)["sql"] != "written-by-an-older-version"
    assert not (facts / "official_facts.parquet").exists()
    assert len(store.coverage(level=1, as_of=2024, window=5)) > 0
    store.close()


def test_a_read_only_store_builds_the_same_facts_in_memory(fresh_sample, tmp_path, sample_store):
    scratch = from_scratch(fresh_sample, tmp_path)
    assert not (scratch.data_dir / "facts").exists()  # nothing written
    for name in ("official_facts", "citizen_facts"):
        pd.testing.assert_frame_equal(facts_table(sample_store, name), facts_table(scratch, name), check_dtype=False)
