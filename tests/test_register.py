"""The evidence register: write, read, export, cells that show it, concurrent writers, a kill during a
write, read-only mode, and free text kept as text."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from support import ROOT, cell

from data_layers import register
from data_layers.store import GapStore

ENTRY = {"presented_on": "2026-03-12", "presented_to": "PSA", "place": "Quezon City",
         "presented_by": "Rural women's assembly", "indicator": "1.4.2", "area_code": "PH-05",
         "group_id": "rural_women", "official_response": "Will **consider** it <script>alert(1)</script>",
         "commitments": "", "follow_up_on": "2026-09-30"}


def cli(*args: str, data_dir: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "data_layers", *args, "--data-dir", str(data_dir)],
                          check=False, capture_output=True, cwd=ROOT, timeout=300, env={**os.environ, **(env or {})})


def test_write_read_and_export(tmp_path: Path):
    assert register.read(tmp_path).empty
    a = register.add(tmp_path, ENTRY, now="2026-03-13T08:00:00+00:00")
    b = register.add(tmp_path, {**ENTRY, "presented_on": "2026-04-01", "indicator": ""})
    assert (a["entry_id"], b["entry_id"]) == ("E0001", "E0002")
    df = register.read(tmp_path)
    assert list(df.columns) == register.COLUMNS and len(df) == 2
    assert df.loc[0, "official_response"] == ENTRY["official_response"]  # stored exactly as given
    assert df.loc[0, "recorded_at"] == "2026-03-13T08:00:00+00:00"
    again = pd.read_csv(io.BytesIO(register.to_csv(df)), dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(again, df)
    # an entry with an empty indicator concerns every indicator of its area and group
    assert list(register.concerning(df, indicator="6.1.1", area_code="PH-05", group="rural_women")["entry_id"]) == ["E0002"]
    assert list(register.concerning(df, indicator="1.4.2", area_code="PH-05", group="rural_women")["entry_id"]) == [
        "E0002", "E0001"]  # newest first


@pytest.mark.parametrize(("change", "message"), [
    ({"presented_on": "12/03/2026"}, "presented_on: '12/03/2026' is not a date"),
    ({"presented_to": ""}, "presented_to: required"),
    ({"indicator": "", "area_code": "", "group_id": ""}, "name at least one of"),
    ({"group_id": "rural_wimmen"}, "group_id: 'rural_wimmen' is not in the store"),
    ({"follow_up_on": "2026-01-01"}, "before presented_on"),
    ({"commitments": "x\x00y"}, "control characters"),
])
def test_bad_entries_are_refused_and_nothing_is_written(tmp_path: Path, change: dict, message: str):
    known = {"indicator": {"1.4.2"}, "area_code": {"PH-05"}, "group_id": {"rural_women"}}
    register.add(tmp_path, ENTRY, known=known)
    before = register.path(tmp_path).read_bytes()
    with pytest.raises(register.RegisterError, match=message):
        register.add(tmp_path, {**ENTRY, **change}, known=known)
    assert register.path(tmp_path).read_bytes() == before


def test_cli_register_list_add_and_help(fresh_sample: Path):
    r = cli("register", "list", "--format", "csv", data_dir=fresh_sample)
    assert r.returncode == 0, r.stderr.decode()
    before = pd.read_csv(io.BytesIO(r.stdout), dtype=str, keep_default_na=False)
    assert len(before) >= 2 and list(before.columns) == register.COLUMNS
    r = cli("register", "add", "--presented-on", "2026-03-12", "--to", "PSA", "--indicator", "1.4.2",
            "--area", "PH-08", "--group", "rural_women", "--response", "noted", data_dir=fresh_sample)
    assert r.returncode == 0, r.stderr.decode()
    listed = json.loads(cli("register", "list", "--format", "json", data_dir=fresh_sample).stdout)
    assert len(listed) == len(before) + 1 and listed[-1]["area_code"] == "PH-08"
    bad = cli("register", "add", "--presented-on", "2026-03-12", "--to", "PSA", "--area", "PH-99", data_dir=fresh_sample)
    assert bad.returncode == 2 and b"area_code: 'PH-99' is not in the store" in bad.stderr
    helped = subprocess.run([sys.executable, "-m", "data_layers", "register", "--help"], check=False,
                            capture_output=True, cwd=ROOT, timeout=120)
    assert helped.returncode == 0 and b"--presented-on" in helped.stdout and b"--follow-up" in helped.stdout
    # the new entry is on its cell: raised, not closed (no official figure for 2026 or later)
    cells = GapStore(fresh_sample).coverage(level=1, as_of=2024, window=5, indicators=["1.4.2"], groups=["rural_women"])
    c = cell(cells, "1.4.2", "PH-08", "rural_women")
    assert c["raised_on"] == "2026-03-12" and str(c["closed_since_raised"]) == "False"


def test_the_sample_keeps_score_of_a_closed_gap(sample_store: GapStore):
    cells = sample_store.coverage(level=1, as_of=2024, window=5, groups=["rural_women"])
    closed = cell(cells, "1.1.1", "PH-08", "rural_women")  # raised in March 2022, regional tables from 2023
    assert closed["raised_on"] == "2022-03-12" and bool(closed["closed_since_raised"])
    assert closed["official_latest_year"] == 2023
    open_ = cell(cells, "1.4.2", "PH-05", "rural_women")
    assert open_["raised_on"] == "2024-11-20" and not bool(open_["closed_since_raised"])
    never = cell(cells, "1.4.2", "PH-07", "rural_women")
    assert pd.isna(never["raised_on"]) and pd.isna(never["closed_since_raised"])
    # seen from 2021 the gap raised in 2022 was not closed yet (the 2023 figure is invisible)
    past = sample_store.coverage(level=1, as_of=2021, window=5, indicators=["1.1.1"], groups=["rural_women"])
    assert not bool(cell(past, "1.1.1", "PH-08", "rural_women")["closed_since_raised"])
    # an entry naming no group concerns every group of its indicator and area (a whole brief)
    water = sample_store.coverage(level=1, as_of=2024, window=5, indicators=["6.1.1"], areas=["PH-14"])
    assert set(water["raised_on"]) == {"2024-08-05"}


def test_read_only_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_sample: Path):
    monkeypatch.setenv("GAPLENS_READ_ONLY", "1")
    with pytest.raises(register.RegisterError, match="read-only"):
        register.add(tmp_path, ENTRY)
    assert not register.path(tmp_path).exists()
    r = cli("register", "add", "--presented-on", "2026-03-12", "--to", "PSA", "--area", "PH-05",
            data_dir=fresh_sample, env={"GAPLENS_READ_ONLY": "1"})
    assert r.returncode == 2 and b"read-only" in r.stderr
    assert cli("register", "list", data_dir=fresh_sample, env={"GAPLENS_READ_ONLY": "1"}).returncode == 0


WRITER = """
import sys
from data_layers import register
for i in range(int(sys.argv[2])):
    register.add(sys.argv[1], {"presented_on": "2026-03-12", "presented_to": f"{sys.argv[3]}-{i}", "area_code": "R1"})
"""


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), "12", name], cwd=ROOT, env=env)
             for name in ("a", "b")]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    df = register.read(tmp_path)
    assert len(df) == 24 and df["entry_id"].is_unique
    assert set(df["presented_to"]) == {f"{n}-{i}" for n in "ab" for i in range(12)}


KILLED = """
import os, sys, time
from data_layers import register, storage
def stall(src, dst):  # the new register is written in full, the rename has not happened
    print("written", flush=True)
    time.sleep(600)
storage.os.replace = stall
register.add(sys.argv[1], {"presented_on": "2026-03-12", "presented_to": "killed", "area_code": "R1"})
"""


def test_a_kill_during_a_write_leaves_the_previous_register(tmp_path: Path):
    register.add(tmp_path, {**ENTRY, "indicator": "", "group_id": ""})
    before = register.path(tmp_path).read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None and proc.stdout.readline().strip() == "written"
    time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert register.path(tmp_path).read_bytes() == before
    assert len(register.read(tmp_path)) == 1
    # the lock died with the process: the next writer goes ahead
    assert register.add(tmp_path, {**ENTRY, "indicator": ""})["entry_id"] == "E0002"


def test_a_brief_lists_the_register_entries_as_text(fresh_sample: Path):
    from data_layers.exports import brief

    register.add(fresh_sample, {**ENTRY, "indicator": "1.1.1", "area_code": "PH-08", "group_id": "women"})
    store = GapStore(fresh_sample)
    html = brief.document(brief.collect(store, area="PH-08"), "<svg></svg>")
    assert "Where this evidence has been raised" in html
    assert "presented to PSA Regional Statistical Services Office VIII" in html  # the sample's entry E0001
    assert "Gap closed since raised: Eastern Visayas (Region VIII), Rural women, official figure for 2023" in html
    # free text is escaped: shown as text, never as markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    other = brief.document(brief.collect(store, area="PH-05", indicator="6.1.1"), "<svg></svg>")
    assert "Where this evidence has been raised" not in other  # nothing raised about Bicol's water
