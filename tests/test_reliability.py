"""Issue 13: nothing lost, nothing leaked, one broken file never takes the store down.

Concurrent imports never share a sequence number (two real processes); ``sample --out`` never
overwrites a store that is not the sample; a write refuses a nearly full disk and a facts refresh
that fails after a commit is reported truthfully and retried; ``check`` names a broken dataset and
file; the CLI's CSV is neutralised; settings are parsed strictly.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from support import SAMPLE_DIR

from data_layers import cli, health, sample, settings, storage
from data_layers.importers import import_file, store_tree_hash
from data_layers.store import GapStore

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 180
FORMULA = re.compile(r"^[=+@\t\r]|^-[^0-9]")  # what a spreadsheet would evaluate (the check's test)


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "data_layers", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=TIMEOUT_S, check=False, env=full_env)


def tree_hash(root: Path) -> str:
    """Every file, hidden ones too (the acceptance check hashes them all)."""
    import hashlib

    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and ".gaplens.lock" not in p.name:
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def canonical(tmp_path: Path, name: str, rows: list[tuple[str, str, int, float]]) -> Path:
    path = tmp_path / name
    path.write_text("indicator,area_code,period,value\n" + "".join(f"{i},{a},{y},{v}\n" for i, a, y, v in rows),
                    encoding="utf-8")
    return path


def duplicate_fact_keys(data_dir: Path) -> int:
    files = sorted(str(p) for p in (data_dir / "facts" / "official").glob("*.parquet"))
    return duckdb.sql(f"SELECT count(*) FROM (SELECT indicator, area_code, group_id, year FROM read_parquet({files!r}) "
                      "GROUP BY ALL HAVING count(*) > 1)").fetchall()[0][0]


# --- 1. concurrent imports ---------------------------------------------------------------------------

def test_two_concurrent_imports_never_share_a_sequence_number(fresh_sample: Path, tmp_path: Path) -> None:
    """Both processes start while this test holds the store lock, so both reach the write before
    either commits: the sequence number must be taken inside the lock, or they share it."""
    a = canonical(tmp_path, "a.csv", [("6.1.1", "PH-05", 2019, 11.0), ("6.1.1", "PH-05", 2020, 12.0)])
    b = canonical(tmp_path, "b.csv", [("6.1.1", "PH-05", 2019, 77.0), ("6.1.1", "PH-05", 2020, 78.0)])
    cmd = [sys.executable, "-m", "data_layers", "import", "official"]
    with storage.store_lock(fresh_sample):
        procs = [subprocess.Popen([*cmd, str(f), "--data-dir", str(fresh_sample), "--dataset-id", f"race-{f.stem}"],
                                  cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for f in (a, b)]
        time.sleep(12)  # both have parsed their file and wait for the lock (a cold start takes ~3 s)
    outs = [p.communicate(timeout=TIMEOUT_S)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    metas = {m["dataset_id"]: m for m in storage.read_dataset_meta(fresh_sample)}
    seqs = [m["seq"] for m in metas.values()]
    assert len(seqs) == len(set(seqs)) == 9, seqs
    GapStore(fresh_sample).close()
    assert duplicate_fact_keys(fresh_sample) == 0
    files = [str(p) for p in (fresh_sample / "facts" / "official").glob("*.parquet")]
    one = duckdb.sql("SELECT count(*) FROM read_parquet(?) WHERE indicator = '6.1.1' AND area_code = 'PH-05' "
                     "AND group_id = 'all' AND year = 2019", params=[files])
    assert one.fetchall()[0][0] == 1


def test_datasets_sharing_a_sequence_are_repaired_in_the_facts_and_named_by_check(fresh_sample: Path) -> None:
    """A store damaged before the fix (two datasets, one sequence) keeps one fact per key."""
    src = fresh_sample / "datasets" / "psa-sdg-synthetic"
    dst = fresh_sample / "datasets" / "psa-copy"
    shutil.copytree(src, dst)
    meta = json.loads((dst / "dataset.json").read_text(encoding="utf-8"))
    meta.update(dataset_id="psa-copy", checksums=None)
    (dst / "dataset.json").write_text(json.dumps(meta), encoding="utf-8")
    store = GapStore(fresh_sample)
    try:
        dup = store.query("SELECT count(*) AS n FROM (SELECT indicator, area_code, group_id, year FROM official_facts "
                          "GROUP BY ALL HAVING count(*) > 1)")["n"].iloc[0]
    finally:
        store.close()
    assert dup == 0
    assert duplicate_fact_keys(fresh_sample) == 0
    found = health.check_store(fresh_sample)
    assert any({f.owner, f.reason.split("also dataset ")[-1].split("'")[0]} == {"psa-copy", "psa-sdg-synthetic"}
               for f in found.findings), found.findings


def test_write_dataset_refuses_a_sequence_number_in_use(fresh_sample: Path) -> None:
    obs = storage.read_dataset_meta(fresh_sample)[0]
    import pandas as pd

    frame = pd.read_parquet(fresh_sample / "datasets" / obs["dataset_id"] / "observations.parquet")
    before = tree_hash(fresh_sample)
    with pytest.raises(storage.StoreError, match="sequence number"):
        storage.write_dataset(fresh_sample, {**obs, "dataset_id": "other"}, frame)
    assert tree_hash(fresh_sample) == before


# --- 2. sample --out ----------------------------------------------------------------------------------

def test_sample_refuses_a_store_that_is_not_the_sample(fresh_sample: Path, tmp_path: Path) -> None:
    r = import_file(canonical(tmp_path, "mine.csv", [("6.1.1", "PH-05", 2021, 42.0)]), "official", fresh_sample,
                    dataset_id="mine")
    assert r.status == "accepted", r.to_text()
    before = tree_hash(fresh_sample)
    p = run("sample", "--out", str(fresh_sample))
    assert p.returncode == 2, p.stdout + p.stderr
    assert "datasets/mine" in p.stderr and "--force" in p.stderr and "Traceback" not in p.stderr
    assert tree_hash(fresh_sample) == before
    p = run("sample", "--out", str(fresh_sample), "--force", env={"GAPLENS_READ_ONLY": "yes"})
    assert p.returncode == 2 and "read-only" in p.stderr
    assert tree_hash(fresh_sample) == before
    p = run("sample", "--out", str(fresh_sample), "--force")
    assert p.returncode == 0, p.stderr
    assert not (fresh_sample / "datasets" / "mine").exists()
    assert sample.not_the_sample(fresh_sample) is None


@pytest.mark.parametrize("change", ["edit_catalogue", "remove_dataset", "stray_folder"])
def test_what_makes_a_folder_not_the_sample(fresh_sample: Path, change: str) -> None:
    assert sample.not_the_sample(fresh_sample) is None  # an untouched copy (boundaries aside) is the sample
    if change == "edit_catalogue":
        (fresh_sample / "groups.csv").write_text("group_id,label,dimension,codes,description\n", encoding="utf-8")
    elif change == "remove_dataset":
        shutil.rmtree(fresh_sample / "datasets" / "pwd-survey-2023")
    else:
        (fresh_sample / "datasets" / "half-copied").mkdir()
    assert sample.not_the_sample(fresh_sample)


def test_sample_writes_into_a_new_folder_and_over_itself(tmp_path: Path) -> None:
    out = tmp_path / "new"
    sample.generate(out).close()
    assert sample.not_the_sample(out) is None
    assert sample.not_the_sample(tmp_path / "absent") is None
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("mine", encoding="utf-8")
    assert "no sample.json" in sample.not_the_sample(tmp_path / "notes")


# --- 3. disk space and a facts refresh that fails after the commit ---------------------------------

def test_a_nearly_full_disk_refuses_the_write(fresh_sample: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAPLENS_MIN_FREE_MB", str(10**9))  # a petabyte reserve: every real disk is "full"
    before = tree_hash(fresh_sample)
    r = import_file(canonical(tmp_path, "x.csv", [("6.1.1", "PH-05", 2021, 42.0)]), "official", fresh_sample,
                    dataset_id="x")
    assert r.status == "refused" and r.exit_code == 2
    assert "not enough free disk space" in r.errors()[0].message and "Nothing was written" in r.errors()[0].message
    assert tree_hash(fresh_sample) == before


def test_a_failed_facts_refresh_after_the_commit_is_reported_and_retried(fresh_sample: Path, tmp_path: Path) -> None:
    """The dataset commits; writing 6.1.1's facts fails (a folder squats its file name). The report
    says the data is stored, the store still serves, and the next open writes the facts."""
    manifest = json.loads((fresh_sample / "facts" / "manifest.json").read_text(encoding="utf-8"))
    shard = fresh_sample / "facts" / "official" / manifest["shards"]["official_facts"]["6.1.1"]["file"]
    shard.unlink()
    shard.mkdir()
    (shard / "blocker").write_text("x", encoding="utf-8")
    p = run("import", "official", str(canonical(tmp_path, "late.csv", [("6.1.1", "PH-05", 2021, 42.0)])),
            "--data-dir", str(fresh_sample), "--dataset-id", "late")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "refused" not in p.stdout + p.stderr and "nothing written" not in p.stdout
    assert "the data is stored, but updating the derived facts failed" in p.stdout
    assert (fresh_sample / "datasets" / "late" / "dataset.json").is_file()
    store = GapStore(fresh_sample)  # still blocked: serves from facts built in memory
    try:
        assert store.facts_pending
        assert store.facts(indicator="6.1.1", area_code="PH-05").query("year == 2021 and group_id == 'all'")[
            "value"].tolist() == [42.0]
    finally:
        store.close()
    shutil.rmtree(shard)
    store = GapStore(fresh_sample)
    try:
        assert not store.facts_pending
        assert json.loads((fresh_sample / "facts" / "manifest.json").read_text())["fingerprint"] == store.version
        assert shard.is_file()
    finally:
        store.close()


# --- 4. health check and broken files -----------------------------------------------------------------

def test_check_passes_on_the_sample_and_names_a_truncated_file(fresh_sample: Path) -> None:
    p = run("check", "--data-dir", str(SAMPLE_DIR))
    assert p.returncode == 0, p.stdout + p.stderr
    victim = fresh_sample / "datasets" / "beach-litter-2024" / "observations.parquet"
    with open(victim, "r+b") as f:
        f.truncate(victim.stat().st_size // 2)
    (fresh_sample / "datasets" / "pwd-survey-2023" / "dataset.json").write_text('{"dataset_id": "pwd', encoding="utf-8")
    p = run("check", "--data-dir", str(fresh_sample))
    assert p.returncode == 2
    assert "dataset beach-litter-2024: datasets/beach-litter-2024/observations.parquet: checksum mismatch" in p.stdout
    assert "dataset pwd-survey-2023: datasets/pwd-survey-2023/dataset.json: not readable JSON" in p.stdout
    # every other command still works and skips the two broken datasets
    for args in (("datasets",), ("datasets", "--format", "csv"), ("indicators",),
                 ("gaps", "--level", "1", "--indicator", "6.1.1")):
        q = run(*args, "--data-dir", str(fresh_sample))
        assert q.returncode == 0 and "Traceback" not in q.stderr, (args, q.stderr)
    listed = run("datasets", "--format", "csv", "--data-dir", str(fresh_sample)).stdout
    assert "water-points-2024" in listed and "beach-litter-2024" not in listed


def test_check_reads_whole_a_dataset_written_before_checksums(fresh_sample: Path) -> None:
    d = fresh_sample / "datasets" / "water-points-2024"
    meta = json.loads((d / "dataset.json").read_text(encoding="utf-8"))
    meta["checksums"] = None
    (d / "dataset.json").write_text(json.dumps(meta), encoding="utf-8")
    assert run("check", "--data-dir", str(fresh_sample)).returncode == 0
    data = bytearray((d / "observations.parquet").read_bytes())
    mid = len(data) // 2
    data[mid:mid + 64] = b"\x00" * 64  # damage inside a page: the footer still reads
    (d / "observations.parquet").write_bytes(bytes(data))
    p = run("check", "--data-dir", str(fresh_sample))
    assert p.returncode == 2 and "dataset water-points-2024: datasets/water-points-2024/observations.parquet: " \
        "unreadable" in p.stdout, p.stdout


def test_an_unreadable_facts_file_rebuilds_itself(fresh_sample: Path) -> None:
    manifest = json.loads((fresh_sample / "facts" / "manifest.json").read_text(encoding="utf-8"))
    shard = fresh_sample / "facts" / "official" / manifest["shards"]["official_facts"]["6.1.1"]["file"]
    good = shard.read_bytes()
    shard.write_bytes(good[: len(good) // 3])
    assert run("check", "--data-dir", str(fresh_sample)).returncode == 2
    store = GapStore(fresh_sample)
    try:
        assert len(store.facts(indicator="6.1.1", area_code="PH-05")) > 0
    finally:
        store.close()
    assert shard.read_bytes() == good
    assert run("check", "--data-dir", str(fresh_sample)).returncode == 0


# --- 7. CSV from the command line ---------------------------------------------------------------------

def test_cli_csv_is_neutralised(tiny_store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tiny_store("""
    kind,indicator,area_code,period,value
    official,6.1.1,P1,2022,-3.5
    """, areas="""
    code,name,level,parent_code
    XX,Testland,0,
    R1,=HYPERLINK("http://evil.example"),1,XX
    P1,+cmd|' /C calc'!A0,2,R1
    """)
    hostile = {"title": "=1+1", "producer": "@SUM(A1)", "licence": "-2+3", "method": "\tx"}
    r = import_file(canonical(tmp_path, "h.csv", [("6.1.1", "P1", 2021, 50.0)]), "official", store.data_dir,
                    dataset_id="hostile", metadata=hostile)
    assert r.status == "accepted", r.to_text()
    for args in (["gaps", "--level", "1"], ["gaps", "--level", "2"], ["datasets", "--format", "csv"]):
        assert cli.main([*args, "--data-dir", str(store.data_dir)]) == 0
        rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
        cells = [c for row in rows for c in row]
        assert not [c for c in cells if FORMULA.match(c)], args
        assert any(c.startswith("'=") or c.startswith("'+") for c in cells), args
    cli.main(["gaps", "--level", "2", "--data-dir", str(store.data_dir)])
    assert "-3.5" in capsys.readouterr().out  # a negative number stays a number


# --- 8. settings ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [("y", True), ("YES", True), (" On ", True), ("1", True),
                                               ("n", False), ("Off", False), ("0", False), ("", False)])
def test_switch_words(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("GAPLENS_READ_ONLY", raw)
    assert settings.get("read_only") is expected


@pytest.mark.parametrize(("env", "value"), [("GAPLENS_READ_ONLY", "maybe"), ("GAPLENS_AS_OF", "abc"),
                                            ("GAPLENS_WINDOW", "5.5")])
def test_a_bad_setting_is_named_without_a_traceback(env: str, value: str) -> None:
    p = run("datasets", "--data-dir", str(SAMPLE_DIR), env={env: value})
    assert p.returncode == 2
    assert p.stderr.startswith(f"error: {env}={value!r}") and "Traceback" not in p.stderr


def test_read_only_y_keeps_the_store_read_only(fresh_sample: Path) -> None:
    before = store_tree_hash(fresh_sample)
    p = run("datasets", "remove", "pwd-survey-2023", "--data-dir", str(fresh_sample), env={"GAPLENS_READ_ONLY": "y"})
    assert p.returncode == 2 and "read-only" in p.stderr
    assert store_tree_hash(fresh_sample) == before


# --- 6. large workbooks and binary files ---------------------------------------------------------------

def test_a_workbook_declaring_millions_of_cells_is_refused_at_once(tmp_path: Path) -> None:
    import openpyxl

    from data_layers.importers.reading import MAX_XLSX_CELLS

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"], ws["B1"], ws["Z200000"] = "indicator", "value", 1  # two cells, 5.2 million declared
    path = tmp_path / "huge.xlsx"
    wb.save(path)
    assert path.stat().st_size < 100_000
    t0 = time.perf_counter()
    r = import_file(path, "official", SAMPLE_DIR, dry_run=True)
    assert time.perf_counter() - t0 < 10
    assert r.status == "refused"
    assert f"more than {MAX_XLSX_CELLS:,}" in r.errors()[0].message, r.to_text()


def test_a_workbook_is_streamed_with_a_cell_budget(tmp_path: Path) -> None:
    import openpyxl

    from data_layers.importers.reading import stream_xlsx
    from data_layers.importers.report import Report

    wb = openpyxl.Workbook(write_only=True)  # write-only: no <dimension>, so only counting can stop it
    ws = wb.create_sheet("data")
    ws.append(["indicator", "area_code", "period", "value"])
    import pandas as pd

    codes = sorted(pd.read_parquet(SAMPLE_DIR / "areas" / "level_2.parquet", columns=["code"])["code"])[:30]
    for i in range(600):
        ws.append(["6.1.1", codes[i % 30], 2000 + i // 30, i])
    path = tmp_path / "rows.xlsx"
    wb.save(path)
    report = Report(file="rows.xlsx", kind="official")
    assert stream_xlsx(path, report, max_cells=1000) is None
    assert "more than 1,000 cells" in report.errors()[0].message
    report = Report(file="rows.xlsx", kind="official")
    rows = stream_xlsx(path, report, sheet="data", max_rows=10, max_cells=1000)
    assert rows is not None and len(rows) == 10 and rows[1] == ("6.1.1", codes[0], 2000, 0)
    r = import_file(path, "official", SAMPLE_DIR, dry_run=True, sheet="data")
    assert r.status == "accepted" and r.rows_read == 600, r.to_text()


def test_a_large_file_of_zeros_is_refused_quickly_as_binary(tmp_path: Path) -> None:
    from data_layers.importers.reading import SNIFF_BYTES, read_bytes
    from data_layers.importers.report import Report

    path = tmp_path / "zeros.csv"
    with open(path, "wb") as f:
        f.truncate(200 << 20)  # 200 MB of zeros
    t0 = time.perf_counter()
    r = import_file(path, "citizen", SAMPLE_DIR, dry_run=True)
    assert time.perf_counter() - t0 < 5
    assert r.status == "refused" and "binary" in r.errors()[0].message and "UTF-16" not in r.to_text()
    assert len(read_bytes(path, Report(file="zeros.csv", kind="official"))) == SNIFF_BYTES


def test_utf16_without_a_bom_is_still_named(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes("indicator,area_code,period,value\n6.1.1,PH-05,2020,1\n".encode("utf-16-le"))
    r = import_file(path, "official", SAMPLE_DIR, dry_run=True)
    assert r.status == "refused" and "UTF-16" in r.errors()[0].message


def test_a_zipped_shapefile_of_zeros_is_refused_clearly(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "zeros.zip"
    with zipfile.ZipFile(path, "w") as z:
        for ext in (".shp", ".shx", ".dbf"):
            z.writestr(f"areas{ext}", b"\x00" * 4096)
    r = import_file(path, "boundaries", SAMPLE_DIR, dry_run=True, level=1)
    assert r.status == "refused"
    text = r.to_text()
    assert "areas.shp in the ZIP archive is not a Shapefile" in text and "IndexError" not in text


# --- 8. leftovers of killed imports and uploads ----------------------------------------------------

def test_a_killed_import_s_staging_is_removed_on_the_next_open(fresh_sample: Path) -> None:
    staging = fresh_sample / "datasets" / ".staging-dead-0123"
    staging.mkdir()
    (staging / "observations.parquet").write_bytes(b"half")
    tmp_fact = fresh_sample / "facts" / "official" / ".6.1.1-x.parquet.tmp"
    tmp_fact.write_bytes(b"half")
    GapStore(fresh_sample).close()  # minutes old, not hours: the store lock proves nobody owns them
    assert not staging.exists() and not tmp_fact.exists()


def test_a_live_import_s_staging_is_never_touched(fresh_sample: Path) -> None:
    """Only a writer holding the store lock sweeps: a reader never removes a staging folder, which
    may belong to an import writing at this moment."""
    staging = fresh_sample / "datasets" / ".staging-live-0123"
    staging.mkdir()
    GapStore(fresh_sample, rebuild_facts=False).close()  # readers never sweep
    assert staging.exists()


def test_uploads_of_dead_processes_are_swept_and_live_ones_kept(tmp_path: Path) -> None:
    from data_layers import uploads

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    gone = tmp_path / f"gaplens-upload-{dead}-abc"
    live = tmp_path / f"gaplens-upload-{os.getpid()}-def"
    other = tmp_path / "gaplens-uploadish"
    for p in (gone, live, other):
        p.mkdir()
    assert uploads.sweep(tmp_path) == [gone]
    assert live.exists() and other.exists()
    assert uploads.sweep(tmp_path, mine=True) == [live]


def test_a_process_removes_its_uploads_at_exit(tmp_path: Path) -> None:
    code = ("import tempfile, sys; tempfile.tempdir = sys.argv[1]\n"
            "from data_layers import uploads; d = uploads.new_dir('upload'); (d / 'f.csv').write_text('x'); print(d)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out.startswith(str(tmp_path)) and not Path(out).exists()
