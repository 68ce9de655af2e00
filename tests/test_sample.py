"""The committed Philippine sample: it regenerates identically, has the promised shape, holds every
deliberate edge case, carries official indicator titles, and matches docs/data-model.md."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest
import shapely
import yaml
from support import SHARED_DIR, cell

from data_layers import docs, sample, schema
from data_layers.store import GapStore

AS_OF, WINDOW = 2024, 5
SKIP_IN_COMPARISON = {"README.md"}  # kept by the generator, not generated
FRAMEWORK_TITLES = SHARED_DIR / "data" / "sdg_framework" / "en" / "global_indicators.yml"


def data_files(root: Path) -> list[Path]:
    """Files the generator writes (relative), boundaries and README excluded."""
    return sorted(p.relative_to(root) for p in root.rglob("*")
                  if p.is_file() and p.name not in SKIP_IN_COMPARISON and "boundaries" not in p.parts
                  and not p.name.startswith(".") and "parts" not in p.parts)  # parts: a cache, not committed


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sample generated twice into temporary folders."""
    outs = []
    for i in (1, 2):
        out = tmp_path_factory.mktemp(f"regen{i}") / "sample_data"
        sample.generate(out).close()
        outs.append(out)
    return outs[0], outs[1]


def assert_same_content(a: Path, b: Path, rel: Path) -> None:
    """Same table content (parquet), same geometries (areas), same bytes (JSON, CSV)."""
    fa, fb = a / rel, b / rel
    if rel.suffix == ".parquet" and rel.parts[0] == "areas":
        ga, gb = gpd.read_parquet(fa), gpd.read_parquet(fb)
        pd.testing.assert_frame_equal(pd.DataFrame(ga.drop(columns="geometry")), pd.DataFrame(gb.drop(columns="geometry")))
        assert ga.crs == gb.crs
        assert shapely.equals_exact(ga.geometry.values, gb.geometry.values, tolerance=0).all(), rel
    elif rel.suffix == ".parquet":
        ta, tb = pq.read_table(fa), pq.read_table(fb)
        assert ta.schema.equals(tb.schema, check_metadata=False), rel
        assert ta.equals(tb), rel
    else:
        assert fa.read_bytes() == fb.read_bytes(), rel


def test_regeneration_gives_the_committed_content(sample_dir, regenerated):
    first, _ = regenerated
    committed = data_files(sample_dir)
    assert committed == data_files(first)
    assert len(committed) >= 3 + 2 * 7 + 3 + 3  # areas, datasets, catalogues, facts
    for rel in committed:
        assert_same_content(sample_dir, first, rel)


def test_regeneration_is_deterministic(regenerated):
    first, second = regenerated
    assert data_files(first) == data_files(second)
    for rel in data_files(first):
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_shape_of_the_sample(sample_store):
    assert len(sample_store.areas(level=0)) == 238
    assert len(sample_store.areas(level=1)) == 17
    assert len(sample_store.areas(level=2)) == 80
    provinces = sample_store.areas(level=2)
    assert set(provinces["parent_code"]) == set(sample_store.areas(level=1)["code"])
    assert "PH-00-MM" in set(provinces["code"])
    assert 15 <= len(sample_store.indicators()) <= 20
    citizen = sample_store.datasets(source_kind="citizen")
    assert len(citizen) >= 5
    for meta in citizen.to_dict("records"):
        for key in ("method", "licence", "producer", "collection_start", "collection_end", "sampling"):
            assert meta[key], (meta["dataset_id"], key)
        assert all(not pd.isna(meta[s]) for s in schema.QUALITY_SCORES), meta["dataset_id"]
    assert set(citizen["point_kind"]) >= {"place", "people", "none"}
    years = sample_store.query("SELECT min(period) AS lo, max(period) AS hi FROM observations "
                               "WHERE source_kind = 'official'").iloc[0]
    assert (years["lo"], years["hi"]) == (2010, 2024)
    missing_n = sample_store.query("SELECT count(*) AS k FROM observations WHERE source_kind = 'citizen' AND n IS NULL")
    assert missing_n["k"].iloc[0] == 0


def test_official_disaggregation_is_realistic(sample_store):
    """Sex and urban/rural often; disability rarely and old; indigenous status almost never."""
    by_dim = sample_store.query(
        "SELECT disagg_dim, count(*) AS rows, count(DISTINCT period) AS years, max(period) AS latest "
        "FROM observations WHERE source_kind = 'official' GROUP BY disagg_dim").set_index("disagg_dim")
    assert by_dim.loc["SEX", "rows"] > by_dim.loc["DISABILITY_STATUS", "rows"] > by_dim.loc["INDIGENOUS_STATUS", "rows"]
    assert by_dim.loc["URBANISATION", "years"] >= 10
    assert by_dim.loc["DISABILITY_STATUS", "latest"] == 2016 and by_dim.loc["DISABILITY_STATUS", "years"] == 1
    assert by_dim.loc["INDIGENOUS_STATUS", "years"] == 1


def test_survey_series_carry_bounds(sample_store):
    rows = sample_store.query(
        "SELECT o.value, o.lower, o.upper, i.survey_based FROM observations AS o "
        "JOIN indicator_catalogue AS i ON i.code = o.indicator "
        "WHERE o.source_kind = 'official' AND o.value IS NOT NULL")
    survey = rows[rows["survey_based"]]
    assert survey["lower"].notna().all() and survey["upper"].notna().all()
    assert ((survey["lower"] <= survey["value"]) & (survey["value"] <= survey["upper"])).all()
    assert rows[~rows["survey_based"]]["lower"].isna().all()


def test_citizen_points_lie_in_their_area(sample_store):
    points = sample_store.query("SELECT area_code, lat, lon FROM observations WHERE is_point")
    assert len(points) > 100
    areas = sample_store.geometries(level=2).set_index("code")
    geoms = areas.loc[points["area_code"], "geometry"].values
    assert shapely.contains_xy(geoms, points["lon"].to_numpy(), points["lat"].to_numpy()).all()


# --- the deliberate edge cases, each checked in the data ---------------------------------------------

def _nan(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _no_official_data(store: GapStore) -> None:
    l1 = store.coverage(level=1, as_of=AS_OF, window=WINDOW, indicators=["6.1.1"], areas=["PH-14"])
    assert set(l1["status"]) == {"missing"}
    l2 = store.coverage(level=2, as_of=AS_OF, window=WINDOW, indicators=["6.1.1"], areas=["PH-SLU"])
    assert set(l2["status"]) == {"missing"}
    raw = store.query("SELECT count(*) AS k FROM observations WHERE source_kind = 'official' AND indicator = '6.1.1' "
                      "AND area_code IN ('PH-14', 'PH-SLU')")
    assert raw["k"].iloc[0] == 0
    assert cell(l1, "6.1.1", "PH-14", "rural")["headline"] == "filled"  # and citizen data fills it


def _stale_only(store: GapStore) -> None:
    years = store.query("SELECT DISTINCT period FROM observations WHERE source_kind = 'official' "
                        "AND disability_status <> '_T'")
    assert set(years["period"]) == {2016}
    for as_of, status in ((2021, "current"), (2022, "stale"), (2024, "stale")):
        c = cell(store.coverage(level=1, as_of=as_of, window=WINDOW, indicators=["8.5.2"]), "8.5.2", "PH-03", "disability")
        assert (c["status"], c["official_latest_year"]) == (status, 2016), as_of


def _aggregate_only(store: GapStore) -> None:
    l2 = store.coverage(level=2, as_of=AS_OF, window=WINDOW)
    groups = l2[l2["group"] != "all"]
    assert (groups["status"] == "aggregate_only").sum() > 1000
    current = groups[groups["status"] == "current"]
    assert set(current["indicator"]) == {"16.9.1"} and set(current["group"]) <= {"women", "men"}
    assert cell(l2, "6.1.1", "PH-ALB", "women")["status"] == "aggregate_only"


def _cgd_fills_missing(store: GapStore) -> None:
    for level, area in ((2, "PH-SLU"), (1, "PH-14")):
        c = cell(store.coverage(level=level, as_of=AS_OF, window=WINDOW, indicators=["6.1.1"]), "6.1.1", area, "rural")
        assert (c["status"], c["cgd_status"], c["headline"]) == ("missing", "present", "filled"), area
        assert "water-points-2024" in c["cgd_datasets"] and c["cgd_n"] >= 50


def _cgd_contradicts(store: GapStore) -> None:
    c = cell(store.coverage(level=1, as_of=AS_OF, window=WINDOW, indicators=["6.1.1"]), "6.1.1", "PH-05", "rural")
    assert (c["official_value"], c["official_latest_year"], c["status"]) == (80.0, 2023, "current")
    assert c["cgd_status"] == "present" and c["cgd_value"] < 50
    assert c["official_value"] - c["cgd_value"] > 30


def _suppressed_official(store: GapStore) -> None:
    c = cell(store.coverage(level=1, as_of=2016, window=WINDOW, indicators=["8.5.2"]), "8.5.2", "PH-15", "disability")
    assert c["status"] == "current" and bool(c["official_suppressed"]) and _nan(c["official_value"])
    raw = store.query("SELECT n, obs_status, suppressed, value FROM observations WHERE indicator = '8.5.2' "
                      "AND area_code = 'PH-15' AND disability_status = 'PD'")
    assert len(raw) == 1 and raw["n"].iloc[0] == 3 and raw["obs_status"].iloc[0] == "C"
    assert raw["suppressed"].iloc[0] and pd.isna(raw["value"].iloc[0])


def _suppressed_citizen(store: GapStore) -> None:
    c = cell(store.coverage(level=2, as_of=AS_OF, window=WINDOW, indicators=["8.5.2"]), "8.5.2", "PH-BTN", "disability")
    assert c["cgd_status"] == "present" and bool(c["cgd_suppressed"]) and _nan(c["cgd_value"]) and c["cgd_n"] == 3


def _true_zero(store: GapStore) -> None:
    c = cell(store.coverage(level=2, as_of=AS_OF, window=WINDOW, indicators=["11.1.1"]), "11.1.1", "PH-BTN", "all")
    assert (c["status"], c["official_value"], c["official_latest_year"]) == ("current", 0.0, 2021)
    assert not c["official_suppressed"]
    zeros = store.query("SELECT count(*) AS k FROM observations WHERE dataset_id = 'beach-litter-2024' AND value = 0")
    assert zeros["k"].iloc[0] >= 1


def _not_applicable(store: GapStore) -> None:
    l1 = store.coverage(level=1, as_of=AS_OF, window=WINDOW)
    for ind in ("3.1.2", "5.2.1"):
        for group in ("women", "men"):
            assert cell(l1, ind, "PH-05", group)["status"] == "not_applicable", (ind, group)
    beach = l1[l1["indicator"] == "14.1.1"]
    assert set(beach.loc[beach["group"] != "all", "status"]) == {"not_applicable"}
    assert "not_applicable" not in set(beach.loc[beach["group"] == "all", "status"])


EDGE_CHECKS = {
    "no_official_data": _no_official_data, "stale_only": _stale_only, "aggregate_only": _aggregate_only,
    "cgd_fills_missing": _cgd_fills_missing, "cgd_contradicts": _cgd_contradicts,
    "suppressed_official": _suppressed_official, "suppressed_citizen": _suppressed_citizen,
    "true_zero": _true_zero, "not_applicable": _not_applicable,
}


def test_every_edge_case_has_a_check():
    assert set(EDGE_CHECKS) == set(sample.EDGE_CASES)


@pytest.mark.parametrize("name", sorted(sample.EDGE_CASES))
def test_edge_case_holds_in_the_data(sample_store, name):
    EDGE_CHECKS[name](sample_store)


# --- titles, docs ------------------------------------------------------------------------------

@pytest.mark.skipif(not FRAMEWORK_TITLES.is_file(),
                    reason=f"SDG framework titles not found at {FRAMEWORK_TITLES} (the maintainers' shared folder)")
def test_indicator_titles_are_the_official_ones(sample_store):
    official = yaml.safe_load(FRAMEWORK_TITLES.read_text(encoding="utf-8"))
    for row in sample_store.indicators().itertuples():
        key = row.code.replace(".", "-") + "-title"
        assert row.title == official[key], row.code


def documented_tables() -> dict[str, list[tuple[str, str]]]:
    """``{table: [(column, type), ...]}`` parsed from docs/data-model.md."""
    text = docs.DATA_MODEL.read_text(encoding="utf-8")
    tables: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = None
        elif line.startswith("### "):
            current = line[4:].strip()
            tables[current] = []
        elif current and (m := re.match(r"^\| `([^`]+)` \| `([^`]+)` \|", line)):
            tables[current].append((m.group(1), m.group(2)))
    return tables


def stored_types(path: Path) -> list[tuple[str, str]]:
    names = {"large_string": "string", "string": "string", "int64": "int64", "int32": "int32",
             "double": "double", "bool": "bool", "binary": "binary"}
    s = pq.read_schema(path)
    return [(f.name, names.get(str(f.type), str(f.type))) for f in s]


def test_data_model_doc_is_generated_from_the_schema():
    assert docs.DATA_MODEL.read_text(encoding="utf-8") == docs.render_data_model(), \
        "docs/data-model.md is stale: run `make docs`"
    documented = documented_tables()
    assert set(schema.TABLES) <= set(documented)
    for name, (columns, _, _) in schema.TABLES.items():
        assert documented[name] == [(c.name, docs.type_name(c.type)) for c in columns], name


def test_sample_matches_the_data_model(sample_dir):
    doc = documented_tables()
    for path in sorted((sample_dir / "areas").glob("level_*.parquet")):
        assert stored_types(path) == doc["areas"], path.name
    dataset_dirs = sorted(p for p in (sample_dir / "datasets").iterdir() if p.is_dir())
    assert len(dataset_dirs) == 7
    doc_ds = dict(doc["datasets"])
    json_types = {"string": (str,), "int64": (int,), "int32": (int,), "bool": (bool,), "double": (float, int)}
    required = {c.name for c in schema.DATASETS if not c.nullable}
    for d in dataset_dirs:
        assert stored_types(d / "observations.parquet") == doc["observations"], d.name
        meta = json.loads((d / "dataset.json").read_text(encoding="utf-8"))
        assert set(meta) == set(doc_ds), d.name
        for key, value in meta.items():
            if value is None:
                assert key not in required, (d.name, key)
            else:
                assert isinstance(value, json_types[doc_ds[key]]), (d.name, key, value)
    for name, kind in (("official_facts", "official"), ("citizen_facts", "citizen")):
        files = sorted((sample_dir / "facts" / kind).glob("*.parquet"))
        assert len(files) >= 5, kind  # one file per indicator with facts
        for path in files:
            assert stored_types(path) == doc[name], path.name
    for name in ("indicators", "groups", "dimension_labels"):
        header = (sample_dir / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
        assert header == [c for c, _ in doc[name]], name


def test_sample_readme_lists_edge_cases_and_says_synthetic(sample_dir):
    text = (sample_dir / "README.md").read_text(encoding="utf-8")
    head = " ".join(text[:800].lower().replace(">", " ").replace("*", " ").split())
    assert "synthetic" in head and "illustrative" in head
    assert "not statistics of the philippine statistics authority" in head
    for key, description in sample.EDGE_CASES.items():
        assert f"`{key}`" in text and description in text, key
    for d in (sample_dir / "datasets").iterdir():
        assert f"`{d.name}`" in text or json.loads((d / "dataset.json").read_text())["source_kind"] == "official"
    assert "Made with Natural Earth" in text and "PH-00-MM" in text
