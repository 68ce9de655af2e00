"""``python -m data_layers import|validate`` through a real subprocess: exit 0 accepted, 2 refused
(the message names file, row, column and value, never a traceback), 1 unexpected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from data_layers.importers import store_tree_hash

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "tests" / "assets" / "import"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "data_layers", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=300, check=False)


def test_accepted_import_exits_0_and_is_seen_by_the_store(fresh_sample: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    p = run("import", "official", str(ASSETS / "un_long_sample.csv"), "--data-dir", str(fresh_sample),
            "--dataset-id", "un", "--report-json", str(report))
    assert p.returncode == 0, p.stderr
    assert "imported as dataset un" in p.stdout and "Traceback" not in p.stderr
    assert "%|" not in p.stderr  # no progress bar when standard error is not a terminal
    data = json.loads(report.read_text())
    assert data["status"] == "accepted" and data["rows_stored"] == 5 and data["exit_code"] == 0
    listing = run("datasets", "--data-dir", str(fresh_sample), "--format", "csv")
    assert "\nun," in listing.stdout


def test_refused_import_exits_2_naming_file_row_column_value(fresh_sample: Path) -> None:
    before = store_tree_hash(fresh_sample)
    p = run("import", "official", str(ASSETS / "indicator_1-2-1_formula.csv"), "--data-dir", str(fresh_sample),
            "--area", "PHL")
    assert p.returncode == 2
    assert "Traceback" not in p.stdout + p.stderr
    assert "error: refused: indicator_1-2-1_formula.csv, row 2, column 'Value', value '=HYPERLINK(" in p.stderr
    assert store_tree_hash(fresh_sample) == before


def test_validate_writes_nothing_and_no_data_exits_0(fresh_sample: Path) -> None:
    before = store_tree_hash(fresh_sample)
    ok = run("validate", str(ASSETS / "indicator_1-2-1.csv"), "--kind", "official", "--area", "PHL",
             "--data-dir", str(fresh_sample))
    assert ok.returncode == 0 and "would be imported" in ok.stdout
    none = run("import", "official", str(ASSETS / "indicator_5-c-1_placeholder.csv"), "--data-dir", str(fresh_sample))
    assert none.returncode == 0 and "no data" in none.stdout
    dry = run("import", "citizen", str(ASSETS / "aggregates.csv"), "--data-dir", str(fresh_sample), "--mapping",
              str(ASSETS / "aggregates_mapping.toml"), "--accept-partial", "--dry-run")
    assert dry.returncode == 0 and "would be imported in part" in dry.stdout
    assert store_tree_hash(fresh_sample) == before


def test_read_only_refuses_with_2(fresh_sample: Path) -> None:
    p = run("import", "official", str(ASSETS / "indicator_1-2-1.csv"), "--data-dir", str(fresh_sample), "--area", "PHL",
            env={"GAPLENS_READ_ONLY": "1"})
    assert p.returncode == 2 and "read-only" in p.stderr and "Traceback" not in p.stderr


def test_unexpected_failure_exits_1_without_a_traceback(fresh_sample: Path) -> None:
    """A corrupt indicator catalogue is not the imported file's fault: exit 1, said plainly."""
    (fresh_sample / "indicators.csv").write_text("foo\n1\n", encoding="utf-8")
    p = run("import", "official", str(ASSETS / "indicator_1-2-1.csv"), "--data-dir", str(fresh_sample), "--area", "PHL")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "Traceback" not in p.stdout + p.stderr and "unexpected error" in p.stdout


def test_a_corrupt_dataset_entry_is_skipped_and_named(fresh_sample: Path) -> None:
    """One broken dataset.json no longer fails every import (issue 13): it is skipped and named."""
    (fresh_sample / "datasets" / "pwd-survey-2023" / "dataset.json").write_text("{not json", encoding="utf-8")
    p = run("import", "official", str(ASSETS / "indicator_1-2-1.csv"), "--data-dir", str(fresh_sample), "--area", "PHL")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Traceback" not in p.stdout + p.stderr
    assert "pwd-survey-2023: dataset.json: not readable JSON" in p.stdout


def test_boundaries_and_citizen_commands(fresh_sample: Path) -> None:
    b = run("import", "boundaries", str(ASSETS / "sweden_regions_legacy_crs.geojson"), "--data-dir", str(fresh_sample),
            "--level", "1", "--code-field", "ref", "--name-field", "label")
    assert b.returncode == 0 and "areas stored 2" in b.stdout, b.stdout + b.stderr
    c = run("import", "citizen", str(ASSETS / "kobo_household_water.csv"), "--data-dir", str(fresh_sample),
            "--mapping", str(ASSETS / "kobo_mapping.toml"))
    assert c.returncode == 2
    assert "row 6, column '_gps_latitude/_gps_longitude', value '0, 0'" in c.stderr
    assert "respondent_name: personal identifier" in c.stdout
