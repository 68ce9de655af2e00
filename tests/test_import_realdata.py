"""Every real third-party file in ../shared/realdata/ imports (or reports "no data") with the counts
worked out by reading the files (the expected numbers are written here, with how they were found).

The files are read in place and never copied into the repository.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from data_layers.importers import import_file, validate
from data_layers.importers.report import ACCEPTED, NO_DATA, PARTIAL, REFUSED, UNCHANGED
from data_layers.store import GapStore

ROOT = Path(__file__).resolve().parents[1]
# ../shared beside the checkout (CI, /work/main), or beside the folder of worktrees (/work/wt/NAME)
REAL = next((p / "shared" / "realdata" for p in (ROOT.parent, ROOT.parent.parent) if (p / "shared" / "realdata").is_dir()),
            ROOT.parent / "shared" / "realdata")
ASSETS = ROOT / "tests" / "assets" / "import"

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realdata is absent (maintainers' read-only files)")

ARMENIA_111 = REAL / "official" / "armenia_indicator_1-1-1.csv"
ARMENIA_1662 = REAL / "official" / "armenia_indicator_16-6-2.csv"
SWEDEN_WIDE = REAL / "official" / "SI_POV_DAY1_wide_sweden.csv"
PLACEHOLDER = REAL / "official" / "ons_uk_indicator_5-c-1_placeholder_no_data.csv"
WPDX = REAL / "cgd" / "wpdx_sample_water_points_TZ_AF_NI_SO.csv"


def _obs(store_dir: Path, dataset_id: str) -> pd.DataFrame:
    return pd.read_parquet(store_dir / "datasets" / dataset_id / "observations.parquet")


def test_every_realdata_file_is_covered_here() -> None:
    """A new file in realdata/ must get its own expectations in this module."""
    from test_realfiles_official import CANADA, CANADA_PROVINCES, UNICEF

    hxl = REAL / "cgd" / "hxl_sbtf_guinea_health_facilities.csv"  # tests/test_citizen_realdata.py
    covered = {ARMENIA_111, ARMENIA_1662, SWEDEN_WIDE, PLACEHOLDER, WPDX, CANADA, CANADA_PROVINCES, UNICEF, hxl,
               REAL / "README.md"}
    found = {p for p in REAL.rglob("*") if p.is_file()}
    assert found == covered


def test_armenia_1_1_1_open_sdg(fresh_sample: Path) -> None:
    # 170 data rows (UTF-8 with BOM, CRLF, every cell quoted), no empty value, no duplicate:
    # 10 totals, 10 female, 10 male, 10 urban, 10 rural, 10 per age band (2), 10 disabled (Type),
    # and 90 rows broken down by "Employment status" (8 labels x 10 + 2 labels x 5), which has no
    # SDMX dimension and is kept as a breakdown in other_dims.
    r = import_file(ARMENIA_111, "official", fresh_sample, area="ARM")
    assert r.status == ACCEPTED, r.to_text()
    assert (r.format, r.encoding, r.line_endings) == ("open_sdg", "UTF-8 with BOM", "CRLF")
    assert (r.rows_read, r.rows_stored, r.rows_rejected, r.rows_skipped) == (170, 170, 0, 0)
    obs = _obs(fresh_sample, r.dataset_id)
    assert set(obs["indicator"]) == {"1.1.1"} and set(obs["area_code"]) == {"ARM"}
    assert sorted(obs["period"].unique()) == list(range(2015, 2025))  # 2015-2019 carry 18 rows, 2020-2024 16
    counts = obs.groupby(["disagg_dim", "disagg_code"]).size().to_dict()
    assert counts == {
        ("_T", "_T"): 10, ("SEX", "F"): 10, ("SEX", "M"): 10, ("URBANISATION", "U"): 10, ("URBANISATION", "R"): 10,
        ("AGE", "Y0T17"): 10, ("AGE", "Y18T66"): 10, ("DISABILITY_STATUS", "PD"): 10, ("_MULTI", "_MULTI"): 90,
    }
    assert (obs.loc[obs["other_dims"] != "", "other_dims"].str.startswith("Employment status=")).all()
    assert set(obs["unit"]) == {"percent"}  # "%" in the file
    # the facts see it: ARM has current official figures for these groups
    store = GapStore(fresh_sample)
    cells = store.coverage(level=0, as_of=2024, window=5, indicators=["1.1.1"], areas=["ARM"],
                           groups=["women", "disability", "rural"])
    assert set(cells["status"]) == {"current"}
    store.close()


def test_armenia_1_1_1_area_from_the_file_name(sample_copy: Path) -> None:
    """Open SDG files do not name their country: a country name in the file name is used, and said."""
    r = validate(ARMENIA_111, "official", sample_copy)
    assert r.status == ACCEPTED and r.rows_stored == 170
    assert any(p.code == "area_from_name" and "ARM" in p.message for p in r.warnings())


def test_armenia_16_6_2_refused_then_partial(fresh_sample: Path) -> None:
    # 748 data rows. Three rows have an empty Value (irrigation 2019-2021): no figure, not stored.
    # Three pairs of rows share year and breakdown with different figures (2022 "IV quintile" for
    # healthcare and for education, 2024 garbage-disposal total twice): both rows of each pair are
    # refused. "femaLE" and "IVquintile" are read as F and Q4; "Category: disabled" as PD.
    # 748 - 3 - 6 = 739 stored with --accept-partial.
    refused = import_file(ARMENIA_1662, "official", fresh_sample, area="ARM")
    assert refused.status == REFUSED
    assert not (fresh_sample / "datasets" / refused.dataset_id).exists()
    dup_rows = sorted(p.row for p in refused.errors())
    assert dup_rows == [373, 374, 390, 391, 613, 614]
    assert all(p.code == "duplicate" and p.column == "Value" for p in refused.errors())
    assert {p.value for p in refused.errors() if p.row == 390} == {"93.0"}

    r = import_file(ARMENIA_1662, "official", fresh_sample, area="ARM", accept_partial=True)
    assert r.status == PARTIAL, r.to_text()
    assert (r.rows_read, r.rows_stored, r.rows_rejected, r.rows_skipped) == (748, 739, 6, 3)
    folder = fresh_sample / "datasets" / r.dataset_id
    rejected = pd.read_csv(folder / "rejected.csv")
    assert sorted(rejected["row"]) == [373, 374, 390, 391, 613, 614]
    meta = json.loads((folder / "dataset.json").read_text())
    assert meta["rows_rejected"] == 6 and meta["rows_stored"] == 739 and "rejected.csv" in meta["notes"]
    obs = _obs(fresh_sample, r.dataset_id)
    assert len(obs) == 739
    assert set(obs["indicator"]) == {"16.6.2"}
    q = obs[obs["disagg_dim"] == "INCOME_WEALTH_QUANTILE"]["disagg_code"].value_counts().to_dict()
    # 5 quintiles; Q4 gains "IVquintile" (1 row) and loses the 4 refused 2022 rows
    assert set(q) == {"Q1", "Q2", "Q3", "Q4", "Q5"}
    assert (obs["disagg_dim"] == "DISABILITY_STATUS").sum() == 40
    assert (obs["sex"] == "F").sum() == 40  # 39 "female" + 1 "femaLE"


def test_sweden_un_wide_export(fresh_sample: Path) -> None:
    # 8 series rows x 22 year columns (2000-2021); the ALLAGE/ALLAREA/BOTHSEX total has all 22
    # years, the 7 other rows start in 2003 (19 years each): 22 + 7 x 19 = 155 observations.
    r = import_file(SWEDEN_WIDE, "official", fresh_sample)
    assert r.status == ACCEPTED, r.to_text()
    assert (r.format, r.rows_read, r.rows_stored) == ("un_wide", 8, 155)
    obs = _obs(fresh_sample, r.dataset_id)
    assert set(obs["area_code"]) == {"SWE"}  # M49 752
    assert set(obs["series"]) == {"SI_POV_DAY1"} and set(obs["indicator"]) == {"1.1.1"}
    counts = obs.groupby(["disagg_dim", "disagg_code"]).size().to_dict()
    assert counts == {("_T", "_T"): 22, ("AGE", "Y0T14"): 19, ("AGE", "Y15T64"): 19, ("AGE", "Y_GE65"): 19,
                      ("SEX", "F"): 19, ("SEX", "M"): 19, ("URBANISATION", "R"): 19, ("URBANISATION", "U"): 19}
    total_2000 = obs[(obs["disagg_dim"] == "_T") & (obs["period"] == 2000)]["value"]
    assert total_2000.tolist() == [0.0]  # a true zero stays a value


def test_placeholder_is_no_data_not_an_error(fresh_sample: Path) -> None:
    r = import_file(PLACEHOLDER, "official", fresh_sample)
    assert r.status == NO_DATA and r.exit_code == 0
    assert r.n_errors == 0 and r.rows_read == 1
    assert not any(p.name != "facts" and p.name.startswith("ons") for p in (fresh_sample / "datasets").iterdir())


def test_wpdx_water_points_by_point_in_polygon(fresh_sample: Path) -> None:
    # 390 rows (Windows-1252: "Wiwilí", "León"). status_id: yes 349, no 28, unknown 13 (all in
    # Tanzania); "unknown" is mapped to no figure, so 377 points are stored. Points by country
    # (country_id in the file): AF 2, NI 146, SO 205, TZ 37 - 13 unknown = 24. Two points lie just
    # off Natural Earth's generalised coast and go to the nearest country within 0.1 degree.
    r = import_file(WPDX, "citizen", fresh_sample, mapping=ASSETS / "wpdx_mapping.toml",
                    metadata=ASSETS / "wpdx_metadata.yaml")
    assert r.status == ACCEPTED, r.to_text()
    assert r.encoding == "Windows-1252"
    assert (r.rows_read, r.rows_stored, r.rows_skipped, r.points_assigned) == (390, 377, 13, 377)
    assert [p.message.split(" ")[0] for p in r.warnings() if p.code == "point_nearest"] == ["2"]
    # identifiers dropped before storing, and said so
    assert r.dropped_columns["photo_lnk"].startswith("personal identifier")
    for c in ("row_id", "wpdx_id", "activity_id"):
        assert r.dropped_columns[c].startswith("record identifier")
    obs = _obs(fresh_sample, r.dataset_id)
    assert obs.groupby("area_code").size().to_dict() == {"AFG": 2, "NIC": 146, "SOM": 205, "TZA": 24}
    functional = obs.groupby("area_code")["value"].apply(lambda v: int((v == 100).sum())).to_dict()
    assert functional == {"AFG": 2, "NIC": 146, "SOM": 186, "TZA": 15}
    assert obs["is_point"].all() and obs["lat"].notna().all()  # place-type: coordinates kept
    assert set(obs["period"]) <= set(range(1994, 2016))
    stored_text = (fresh_sample / "datasets" / r.dataset_id / "observations.parquet").read_bytes()
    assert b"dropbox" not in stored_text and b"wpdx-0000" not in stored_text
    meta = json.loads((fresh_sample / "datasets" / r.dataset_id / "dataset.json").read_text())
    assert meta["point_kind"] == "place" and "photo_lnk" in meta["notes"]
    store = GapStore(fresh_sample)
    assert store.datasets().set_index("dataset_id").loc[r.dataset_id, "verdict"] == "usable"
    assert len(store.citizen_points(indicator="6.1.1").query("dataset_id == @r.dataset_id")) == 377
    store.close()


def test_reimport_is_a_noop_and_a_new_release_says_what_changed(fresh_sample: Path, tmp_path: Path) -> None:
    first = import_file(SWEDEN_WIDE, "official", fresh_sample, dataset_id="un-sweden")
    assert first.status == ACCEPTED
    before = (fresh_sample / "datasets" / "un-sweden" / "dataset.json").read_bytes()
    again = import_file(SWEDEN_WIDE, "official", fresh_sample)
    assert again.status == UNCHANGED and again.exit_code == 0 and again.dataset_id == "un-sweden"
    assert (fresh_sample / "datasets" / "un-sweden" / "dataset.json").read_bytes() == before
    # a new release: one figure revised, one year (2021, 8 figures) dropped
    text = SWEDEN_WIDE.read_text(encoding="utf-8").splitlines()
    rows = [line.rsplit(",", 1)[0] for line in text]           # drop the 2021 column
    rows[4] = rows[4].replace(",0,0.2,0,", ",0,0.25,0,", 1)     # ALLAGE total, 2001: 0.2 -> 0.25
    release = tmp_path / "SI_POV_DAY1_wide_sweden_rev.csv"
    release.write_text("\n".join(rows) + "\n", encoding="utf-8")
    second = import_file(release, "official", fresh_sample, dataset_id="un-sweden")
    assert second.status == ACCEPTED, second.to_text()
    assert second.changes == {"added": 0, "removed": 8, "changed": 1, "unchanged": 146}
    assert len(_obs(fresh_sample, "un-sweden")) == 147
