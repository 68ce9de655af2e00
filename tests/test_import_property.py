"""Property: arbitrary bytes and mangled CSVs never raise out of validate/import (only a Report with
problems, never an internal error) and never change the store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_layers import storage
from data_layers.importers import KINDS, import_file, store_tree_hash, validate
from data_layers.importers.report import INTERNAL, REFUSED

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "tests" / "assets" / "import"
SEEDS = ["indicator_1-2-1.csv", "un_long_sample.csv", "un_wide_bom.csv", "sdmx_sample.csv", "canonical_sample.csv",
         "indicator_8-5-2_values.csv", "kobo_household_water.csv", "aggregates.csv", "beach_points.geojson"]
SUFFIXES = [".csv", ".xlsx", ".geojson", ".parquet", ".zip", ".gpkg", ""]
QUICK = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("prop") / "store"
    shutil.copytree(ROOT / "sample_data", dst, ignore=shutil.ignore_patterns("boundaries"))
    from data_layers.store import GapStore

    GapStore(dst).close()  # facts fresh, so that nothing rebuilds them during the test
    return dst


def _check(report) -> None:
    assert report.status, "every run ends with a status"
    assert not [p for p in report.problems if p.code == INTERNAL], report.to_text()
    assert report.exit_code in (0, 2)
    report.to_text()
    report.to_json()


@QUICK
@given(data=st.binary(max_size=4000), suffix=st.sampled_from(SUFFIXES), kind=st.sampled_from(KINDS))
def test_arbitrary_bytes_are_refused_without_a_traceback(data: bytes, suffix: str, kind: str, store: Path,
                                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    f = tmp_path_factory.mktemp("bytes") / f"upload{suffix}"
    f.write_bytes(data)
    before = store_tree_hash(store)
    _check(validate(f, kind, store, level=1, mapping={"citizen": {"value": "v", "indicator": "6.1.1"}}))
    report = import_file(f, kind, store, level=1, code_field="code", name_field="name")
    _check(report)
    assert report.status == REFUSED  # random bytes are never a dataset (no indicator, no value column...)
    assert store_tree_hash(store) == before


def _mangle(text: str, ops: list[tuple[int, int, int, str]]) -> str:
    for op, raw_i, raw_j, s in ops:
        n = max(len(text), 1)
        i, j = raw_i % n, raw_j % n
        if op == 0:      # delete a span
            text = text[:min(i, j)] + text[max(i, j):]
        elif op == 1:    # insert text
            text = text[:i] + s + text[i:]
        elif op == 2:    # duplicate a span
            text = text[:j] + text[min(i, j):max(i, j)] + text[j:]
        elif op == 3:    # swap the delimiter
            text = text.replace(",", s[:1] or ";")
        elif op == 4:    # truncate
            text = text[:i]
        else:            # break quoting
            text = text[:i] + '"' + text[i:]
    return text


FRAGMENTS = st.sampled_from(["", ",", ";", '"', "\n", "\r\n", "\x00", "=HYPERLINK(\"x\")", "<5", "..", "1e309", "-",
                             "NaN", "\ufeff", "é", "Year", "Value", ",,,,,,", "9" * 400, "[Sex]", "2004/05", "femme"])
OPS = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 10**6), st.integers(0, 10**6), FRAGMENTS), max_size=6)


@QUICK
@given(seed=st.sampled_from(SEEDS), ops=OPS, kind=st.sampled_from(["official", "citizen"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
def test_mangled_files_never_raise_and_validation_writes_nothing(seed: str, ops: list, kind: str, encoding: str,
                                                                 store: Path,
                                                                 tmp_path_factory: pytest.TempPathFactory) -> None:
    text = (ASSETS / seed).read_text(encoding="utf-8-sig" if seed.endswith(".csv") else "utf-8")
    mangled = _mangle(text, ops)
    f = tmp_path_factory.mktemp("mangled") / ("indicator_1-2-1" + Path(seed).suffix)
    f.write_bytes(mangled.encode(encoding, errors="replace"))
    before = store_tree_hash(store)
    mapping = ASSETS / ("kobo_mapping.toml" if seed.startswith("kobo") else "aggregates_mapping.toml")
    opts = {"area": "PHL", "mapping": mapping if kind == "citizen" else None, "accept_partial": True}
    _check(validate(f, kind, store, **opts))
    _check(import_file(f, kind, store, dry_run=True, **opts))
    assert store_tree_hash(store) == before


@QUICK
@given(ops=OPS)
def test_mangled_files_refused_leave_the_store_as_it_was(ops: list, store: Path,
                                                         tmp_path_factory: pytest.TempPathFactory) -> None:
    """The real write path: a refused file changes nothing; an accepted one adds only its dataset."""
    text = (ASSETS / "indicator_8-5-2_values.csv").read_text(encoding="utf-8")
    f = tmp_path_factory.mktemp("real") / "indicator_8-5-2.csv"
    f.write_text(_mangle(text, ops), encoding="utf-8")
    before = store_tree_hash(store)
    datasets_before = {p.name for p in storage.dataset_dirs(store)}
    report = import_file(f, "official", store, area="PHL", dataset_id="mangled")
    _check(report)
    if report.status in (REFUSED, "no_data", "unchanged"):
        assert store_tree_hash(store) == before
    else:
        assert {p.name for p in storage.dataset_dirs(store)} == datasets_before | {"mangled"}
        storage.remove_dataset(store, "mangled")
        from data_layers.store import GapStore

        GapStore(store).close()
        assert {p.name for p in storage.dataset_dirs(store)} == datasets_before
