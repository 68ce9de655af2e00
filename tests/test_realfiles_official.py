"""Real official files give the answers a statistician reading them would give (issue: right
answers on real official files). Each test starts from an empty store (``init --world``), imports
with the documented command, and checks stored rows and a few ``gaps`` cells against the file
itself, read independently here with pandas.

The files are read in place from ``../shared/realdata`` and never copied into the repository.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from data_layers.catalogue import init_store
from data_layers.importers import import_file
from data_layers.importers.report import ACCEPTED
from data_layers.store import GapStore

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "realdata"
CANADA = REAL / "official" / "canada_indicator_8-5-2.csv"
CANADA_PROVINCES = REAL / "boundaries" / "canada_georef-canada-province.geojson"
UNICEF = REAL / "official" / "unicef_sdmx_CME_MRY0T4_all_2020.csv"
SWEDEN_WIDE = REAL / "official" / "SI_POV_DAY1_wide_sweden.csv"
ARMENIA_111 = REAL / "official" / "armenia_indicator_1-1-1.csv"

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realdata is absent (maintainers' read-only files)")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "data_layers", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, check=False)


def _cell(cells: pd.DataFrame, area: str, group: str) -> pd.Series:
    hit = cells[(cells["area_code"] == area) & (cells["group"] == group)]
    assert len(hit) == 1, (area, group, len(hit))
    return hit.iloc[0]


@pytest.fixture(scope="module")
def canada(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty world store with Canada's provinces (numeric codes) and Canada's 8.5.2 imported."""
    store = tmp_path_factory.mktemp("ca") / "store"
    assert _cli("init", str(store), "--world").returncode == 0
    done = _cli("import", "boundaries", str(CANADA_PROVINCES), "--data-dir", str(store), "--level", "1",
                "--code-field", "prov_code", "--name-field", "prov_name_en")
    assert done.returncode == 0, done.stdout + done.stderr
    done = _cli("import", "official", str(CANADA), "--data-dir", str(store), "--area", "CAN")
    assert done.returncode == 0, done.stdout + done.stderr
    return store


def test_canada_rows_land_in_canada_and_its_provinces_never_in_m49_countries(canada: Path) -> None:
    obs = pd.concat(pd.read_parquet(p) for p in (canada / "datasets").glob("*/observations.parquet"))
    provinces = set(pd.read_parquet(canada / "areas" / "level_1.parquet")["code"])
    raw = pd.read_csv(CANADA, dtype=str, keep_default_na=False)
    # not Angola (24), Bahrain (48), Antarctica (10): Canada and the ten provinces the file names
    assert set(obs["area_code"]) == {"CAN"} | (set(raw["GeoCode"]) - {""})
    assert set(raw["GeoCode"]) - {""} <= provinces
    # every row with a figure is stored once: the blank-Geography headline rows and the 'Canada' rows
    # under CAN, the provinces under their GeoCode
    assert len(obs) == int((raw["Value"] != "").sum())
    quebec = obs[obs["area_code"] == "24"]
    assert len(quebec) == int(((raw["GeoCode"] == "24") & (raw["Value"] != "")).sum())


def test_canada_gaps_agree_with_the_file(canada: Path) -> None:
    raw = pd.read_csv(CANADA, dtype=str, keep_default_na=False)
    store = GapStore(canada)
    try:
        national = store.coverage(level=0, as_of=2024, window=5, indicators=["8.5.2"])
        provinces = store.coverage(level=1, as_of=2024, window=5, indicators=["8.5.2"])
    finally:
        store.close()
    others = national[(national["area_code"] != "CAN") & (national["status"] != "missing")]
    assert others.empty, others[["area_code", "group", "status"]].head()
    headline = raw[(raw["Year"] == "2024") & (raw["Geography"] == "") & (raw["Gender"] == "")]
    assert _cell(national, "CAN", "all")[["status", "official_value"]].tolist() == ["current", float(headline["Value"].iloc[0])]
    canada_rows = raw[(raw["Year"] == "2024") & (raw["Geography"] == "Canada")]
    women = canada_rows[(canada_rows["Gender"] == "Women+") & (canada_rows["Age group"] == "15 years and over")]
    assert _cell(national, "CAN", "women")[["status", "official_value"]].tolist() == ["current", float(women["Value"].iloc[0])]
    youth = canada_rows[(canada_rows["Gender"] == "Total - Gender") & (canada_rows["Age group"] == "15 to 24 years")]
    assert _cell(national, "CAN", "youth")[["status", "official_value"]].tolist() == ["current", float(youth["Value"].iloc[0])]
    assert _cell(national, "CAN", "men")["status"] == "current"
    # Canada publishes no disability breakdown in this file: hidden in the total, not "missing"
    assert _cell(national, "CAN", "disability")["status"] == "aggregate_only"
    qc = raw[(raw["Year"] == "2024") & (raw["GeoCode"] == "24")]
    total = qc[(qc["Gender"] == "Total - Gender") & (qc["Age group"] == "15 years and over")]
    q_youth = qc[(qc["Gender"] == "Total - Gender") & (qc["Age group"] == "15 to 24 years")]
    assert _cell(provinces, "24", "all")[["status", "official_value"]].tolist() == ["current", float(total["Value"].iloc[0])]
    assert _cell(provinces, "24", "youth")[["status", "official_value"]].tolist() == ["current", float(q_youth["Value"].iloc[0])]
    assert _cell(provinces, "24", "women")["status"] == "current"


def test_a_un_file_beside_canadian_provinces_touches_no_province(canada: Path, tmp_path: Path) -> None:
    """UN files are M49 at level 0 only: Algeria (12) and Angola (24) stay countries, whatever the
    store holds at other levels."""
    head = SWEDEN_WIDE.read_text(encoding="utf-8").splitlines()
    total = next(line for line in head if ",ALLAGE,ALLAREA,G,BOTHSEX," in line).split(",")
    rows = [head[0]]
    for code, name in (("12", "Algeria"), ("24", "Angola")):
        row = list(total)
        row[5], row[6] = code, name
        rows.append(",".join(row))
    un = tmp_path / "un_wide_dza_ago.csv"
    un.write_text("\n".join(rows) + "\n", encoding="utf-8")
    store = GapStore(canada)
    before = store.coverage(level=1, as_of=2024, window=5)
    store.close()
    r = import_file(un, "official", canada)
    assert r.status == ACCEPTED, r.to_text()
    store = GapStore(canada)
    try:
        after = store.coverage(level=1, as_of=2024, window=5)
        countries = store.coverage(level=0, as_of=2024, window=5, indicators=["1.1.1"])
    finally:
        store.close()
    assert (after[after["indicator"] == "1.1.1"]["status"] == "missing").all()
    pd.testing.assert_frame_equal(before[before["indicator"] != "1.1.1"].reset_index(drop=True),
                                  after[after["indicator"] != "1.1.1"].reset_index(drop=True))
    got = countries[(countries["group"] == "all") & (countries["status"] != "missing")]
    assert sorted(got["area_code"]) == ["AGO", "DZA"]


def test_unicef_sdmx_csv_with_label_columns(tmp_path: Path) -> None:
    store_dir = tmp_path / "un"
    init_store(store_dir, world=True)
    r = import_file(UNICEF, "official", store_dir, indicator="3.2.1")
    assert r.status == ACCEPTED, r.to_text()
    assert r.format == "sdmx"
    assert {"Sex (label of SEX)", "Geographic area"} <= set(r.dropped_columns)  # labels beside codes, not refused
    raw = pd.read_csv(UNICEF, dtype=str, keep_default_na=False)
    aggregates = raw[~raw["REF_AREA"].str.fullmatch(r"[A-Z]{3}")]
    assert len(aggregates) > 0 and r.rows_kept_apart >= len(aggregates)  # WORLD, UNICEF and World Bank regions
    apart = pd.read_csv(store_dir / "datasets" / r.dataset_id / "kept_apart.csv", dtype=str)
    assert {"WORLD"} <= set(apart["source_area"])
    obs = pd.read_parquet(store_dir / "datasets" / r.dataset_id / "observations.parquet")
    assert set(obs["series"]) == {"CME_MRY0T4"}  # the INDICATOR code is kept as the series of 3.2.1
    assert not obs["area_code"].str.startswith(("UNICEF", "WB", "WORLD")).any()
    store = GapStore(store_dir)
    try:
        cells = store.coverage(level=0, as_of=2020, window=5, indicators=["3.2.1"])
        catalogue = store.indicators()
    finally:
        store.close()
    for group in ("all", "women", "men"):
        assert ((cells["group"] == group) & (cells["status"] == "current")).sum() >= 190, group
    afg = raw[(raw["REF_AREA"] == "AFG") & (raw["SEX"] == "F")]
    women = _cell(cells, "AFG", "women")
    assert women["official_value"] == pytest.approx(float(afg["OBS_VALUE"].iloc[0]))
    assert women["series"] == "CME_MRY0T4"
    # 3.2.1's polarity is not in the catalogue yet: the difference is shown unsigned, never as better/worse off
    assert pd.isna(women["outcome_gap"]) and women["group_minus_total"] < 0
    assert "mortality rate" in catalogue.set_index("code").loc["3.2.1", "title"]  # the official title


def test_armenia_indicator_from_the_file_name(tmp_path: Path) -> None:
    store_dir = tmp_path / "am"
    init_store(store_dir, world=True)
    r = import_file(ARMENIA_111, "official", store_dir, area="ARM")
    assert r.status == ACCEPTED, r.to_text()
    assert any("taken from the file name" in n for n in r.notes)
    store = GapStore(store_dir)
    try:
        cells = store.coverage(level=0, as_of=2024, window=5, indicators=["1.1.1"])
    finally:
        store.close()
    raw = pd.read_csv(ARMENIA_111, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    blank = (raw[["Sex", "Location", "Age", "Employment status", "Type"]] == "").all(axis=1)
    total_2024 = raw[blank & (raw["Year"] == "2024")]["Value"].iloc[0]
    assert _cell(cells, "ARM", "all")[["status", "official_value"]].tolist() == ["current", float(total_2024)]
    assert _cell(cells, "ARM", "disability")["status"] == "current"  # Type=disabled
    assert (cells[cells["area_code"] != "ARM"]["status"] == "missing").all()


def test_another_countrys_areas_with_the_same_numeric_codes_are_refused(canada: Path, tmp_path: Path) -> None:
    """Merging boundaries by code must not put Brazil's region 24 in place of Quebec (24)."""
    import json

    from data_layers import storage

    ring = [[-50.0, -10.0], [-49.0, -10.0], [-49.0, -9.0], [-50.0, -9.0], [-50.0, -10.0]]
    f = tmp_path / "regions.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "24", "name": "Região 24"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}), encoding="utf-8")
    before = storage.sha256_file(canada / "areas" / "level_1.parquet")
    r = import_file(f, "boundaries", canada, level=1, code_field="code", name_field="name")
    assert r.status == "refused"
    (msg,) = [p.message for p in r.errors() if p.code == "code_clash"]
    assert "Quebec" in msg and "BRA" in msg
    assert storage.sha256_file(canada / "areas" / "level_1.parquet") == before
