"""The command line through a subprocess, as a user runs it: output, exit codes, no tracebacks.

Every run works on a copy of the sample store (``--data-dir``), so the repository is never written.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from data_layers import cli
from data_layers.schema import STATUSES

ROOT = Path(__file__).resolve().parents[1]
NEED = ["indicator", "area_code", "area_name", "level", "group", "status", "official_latest_year",
        "official_value", "cgd_status", "cgd_value", "cgd_n", "cgd_datasets", "outcome_gap"]
EXIT_BAD = 2
TIMEOUT_S = 120  # generous: a cold start imports pandas, DuckDB and friends on a busy 2-core machine


def run(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    cmd = [sys.executable, "-m", "data_layers", *args]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=TIMEOUT_S, check=False)


@pytest.fixture(scope="module")
def store_meta(sample_store):
    return {
        "indicators": list(sample_store.indicators()["code"]),
        "groups": list(sample_store.groups()["group_id"]),
        "areas": {lvl: set(sample_store.areas(level=lvl)["code"]) for lvl in (1, 2)},
    }


@pytest.mark.parametrize(("level", "n_areas"), [(1, 17), (2, 80)])
def test_gaps_csv_lists_every_cell_once(sample_copy, store_meta, level, n_areas):
    r = run("gaps", "--level", str(level), "--format", "csv", "--out", "-", data_dir=sample_copy)
    assert r.returncode == 0, r.stderr.decode()
    g = pd.read_csv(io.BytesIO(r.stdout), dtype={"area_code": str, "group": str, "indicator": str})
    assert set(NEED) <= set(g.columns)
    assert not g.duplicated(["indicator", "area_code", "group"]).any()
    assert set(g["area_code"]) == store_meta["areas"][level] and len(store_meta["areas"][level]) == n_areas
    assert len(g) == len(store_meta["indicators"]) * n_areas * len(store_meta["groups"])
    assert set(g["status"]) == set(STATUSES)
    assert (g["cgd_status"] == "present").any()
    assert (g["level"] == level).all()


def test_gaps_json_and_parquet_agree_with_csv(sample_copy, tmp_path):
    args = ("gaps", "--level", "1", "--indicator", "6.1.1", "--group", "rural", "--group", "all")
    csv = run(*args, "--format", "csv", "--out", "-", data_dir=sample_copy)
    js = run(*args, "--format", "json", "--out", "-", data_dir=sample_copy)
    out = tmp_path / "g.parquet"
    pq = run(*args, "--format", "parquet", "--out", str(out), data_dir=sample_copy)
    assert csv.returncode == js.returncode == pq.returncode == 0, (csv.stderr, js.stderr, pq.stderr)
    a = pd.read_csv(io.BytesIO(csv.stdout))
    b = pd.DataFrame(json.loads(js.stdout))
    c = pd.read_parquet(out)
    assert len(a) == len(b) == len(c) == 17 * 2
    assert set(a["group"]) == {"rural", "all"} and set(a["indicator"].astype(str)) == {"6.1.1"}
    key = ["area_code", "group"]
    for other in (b, c):
        merged = a.merge(other, on=key, suffixes=("", "_o"))
        assert len(merged) == len(a)
        assert (merged["status"] == merged["status_o"]).all()
        assert ((merged["official_value"] - merged["official_value_o"]).abs().fillna(0) < 1e-9).all()
    barmm = c[(c["area_code"] == "PH-14") & (c["group"] == "rural")].iloc[0]
    assert barmm["status"] == "missing" and barmm["cgd_status"] == "present"
    assert pq.stdout == b"" and b"34 cells" in pq.stderr  # the count goes to stderr, the data to the file


def test_gaps_parquet_to_stdout(sample_copy):
    r = run("gaps", "--level", "1", "--group", "disability", "--format", "parquet", "--out", "-", data_dir=sample_copy)
    assert r.returncode == 0, r.stderr.decode()
    df = pd.read_parquet(io.BytesIO(r.stdout))
    assert set(df["group"]) == {"disability"} and df["area_code"].nunique() == 17


@pytest.mark.parametrize(("args", "mentions"), [
    (("--level", "9"), "--level 9"),
    (("--as-of", "abc"), "--as-of"),
    (("--as-of", "1200"), "--as-of"),
    (("--window", "-1"), "--window"),
    (("--indicator", "no.such.thing"), "no.such.thing"),
    (("--group", "nobody"), "nobody"),
    (("--format", "xlsx"), "--format"),
])
def test_gaps_bad_arguments_exit_2_without_traceback(sample_copy, args, mentions):
    r = run("gaps", *args, "--format", "csv", "--out", "-", data_dir=sample_copy) if "--format" not in args \
        else run("gaps", *args, "--out", "-", data_dir=sample_copy)
    err = r.stderr.decode()
    assert r.returncode == EXIT_BAD, err
    assert "Traceback" not in err and "Traceback" not in r.stdout.decode()
    assert mentions in err
    assert r.stdout == b""


def test_missing_data_dir_exits_2(tmp_path):
    missing = tmp_path / "nowhere"
    for command in (("gaps",), ("datasets",), ("indicators",)):
        r = run(*command, data_dir=missing)
        err = r.stderr.decode()
        assert r.returncode == EXIT_BAD, (command, err)
        assert "Traceback" not in err and str(missing) in err


def test_datasets_lists_the_catalogue(sample_copy):
    r = run("datasets", "--format", "csv", data_dir=sample_copy)
    assert r.returncode == 0, r.stderr.decode()
    df = pd.read_csv(io.BytesIO(r.stdout))
    assert len(df) == 7
    assert set(df["source_kind"]) == {"official", "citizen"}
    assert {"producer", "licence", "method", "sha256", "imported_at", "verdict"} <= set(df.columns)
    assert df.set_index("dataset_id").loc["youth-online-poll-2024", "verdict"] == "not usable"
    table = run("datasets", data_dir=sample_copy)
    assert table.returncode == 0 and b"water-points-2024" in table.stdout


def test_datasets_remove(fresh_sample):
    before = run("gaps", "--level", "1", "--indicator", "6.1.1", "--group", "rural", "--format", "csv", data_dir=fresh_sample)
    g = pd.read_csv(io.BytesIO(before.stdout)).set_index("area_code")
    assert g.loc["PH-14", "cgd_status"] == "present"
    r = run("datasets", "remove", "water-points-2024", data_dir=fresh_sample)
    assert r.returncode == 0, r.stderr.decode()
    assert not (fresh_sample / "datasets" / "water-points-2024").exists()
    listed = pd.read_csv(io.BytesIO(run("datasets", "--format", "csv", data_dir=fresh_sample).stdout))
    assert len(listed) == 6 and "water-points-2024" not in set(listed["dataset_id"])
    after = run("gaps", "--level", "1", "--indicator", "6.1.1", "--group", "rural", "--format", "csv", data_dir=fresh_sample)
    g = pd.read_csv(io.BytesIO(after.stdout)).set_index("area_code")
    assert g.loc["PH-14", "cgd_status"] == "none"  # the facts were rebuilt without it
    again = run("datasets", "remove", "water-points-2024", data_dir=fresh_sample)
    assert again.returncode == EXIT_BAD and b"Traceback" not in again.stderr
    nothing = run("datasets", "remove", data_dir=fresh_sample)
    assert nothing.returncode == EXIT_BAD


def test_indicators_lists_the_catalogue(sample_copy):
    r = run("indicators", data_dir=sample_copy)
    assert r.returncode == 0, r.stderr.decode()
    out = r.stdout.decode()
    assert "6.1.1" in out and "Proportion of population using safely managed drinking water services" in out


def _commands() -> list[str]:
    parser = cli.build_parser(cli._registrars())
    sub = next(a for a in parser._actions if a.dest == "command")
    return sorted(sub.choices)


def test_the_core_commands_exist():
    assert {"sample", "gaps", "datasets", "indicators"} <= set(_commands())


@pytest.mark.parametrize("command", [None, *_commands()])
def test_help_works_on_every_command(command):
    r = run(*(["--help"] if command is None else [command, "--help"]))
    assert r.returncode == 0, r.stderr.decode()
    assert b"usage:" in r.stdout and b"Traceback" not in r.stderr


def test_unknown_command_exits_2():
    r = run("frobnicate")
    assert r.returncode == EXIT_BAD and b"Traceback" not in r.stderr
