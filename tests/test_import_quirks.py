"""One tiny file per quirk of real files (tests/assets/import/, sdg-build style, broken ones included).

Each test names the quirk, imports or validates the fixture against the sample store, and checks
what is stored and what is reported (file, row, column, value).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from data_layers import storage
from data_layers.importers import import_file, save_mapping, store_tree_hash, validate
from data_layers.importers.mapping import MappingError, load_mapping_file
from data_layers.importers.report import ACCEPTED, NO_DATA, PARTIAL, REFUSED
from data_layers.store import GapStore

ASSETS = Path(__file__).resolve().parent / "assets" / "import"


def a(name: str) -> Path:
    return ASSETS / name


def obs_of(store_dir: Path, dataset_id: str) -> pd.DataFrame:
    return pd.read_parquet(store_dir / "datasets" / dataset_id / "observations.parquet")


def errors_at(report, code: str) -> list[tuple[int | None, str | None, str | None]]:
    return [(p.row, p.column, p.value) for p in report.errors() if p.code == code]


# --- encodings, delimiters, headers --------------------------------------------------------------

def test_utf8_bom_crlf_and_quotes_read_like_plain_utf8(sample_copy: Path) -> None:
    plain = validate(a("indicator_1-2-1.csv"), "official", sample_copy, area="PHL")
    bom = validate(a("indicator_1-2-1_bom_crlf.csv"), "official", sample_copy, area="PHL")
    assert plain.status == bom.status == ACCEPTED
    assert (plain.encoding, bom.encoding) == ("ASCII (UTF-8)", "UTF-8 with BOM")
    assert (plain.line_endings, bom.line_endings) == ("LF", "CRLF")
    assert plain.rows_stored == bom.rows_stored == 7


def test_year_not_first_and_label_case(fresh_sample: Path) -> None:
    """Units comes first; FEMALE/female/Female are all F; blank is total."""
    r = import_file(a("indicator_1-2-1.csv"), "official", fresh_sample, area="PHL", dataset_id="case")
    assert r.status == ACCEPTED
    obs = obs_of(fresh_sample, "case").sort_values(["period", "sex", "urbanisation"])
    got = obs[["period", "sex", "urbanisation", "value"]].astype(str).agg(",".join, axis=1).tolist()
    assert got == ["2015,F,_T,26.0", "2015,M,_T,28.2", "2015,_T,R,38.5", "2015,_T,_T,27.1",
                   "2018,F,U,14.0", "2018,F,_T,22.9", "2018,_T,_T,23.4"]
    assert set(obs["unit"]) == {"percent"}


def test_windows_1252_detected_and_reported(fresh_sample: Path) -> None:
    r = import_file(a("indicator_1-2-1_cp1252.csv"), "official", fresh_sample, area="PHL", dataset_id="cp")
    assert r.status == ACCEPTED and r.encoding == "Windows-1252"
    assert any("not UTF-8" in n for n in r.notes)
    assert set(obs_of(fresh_sample, "cp")["other_dims"]) == {"", "Département=Côte-Nord", "Département=Île-de-France"}


def test_latin1_detected_or_forced(sample_copy: Path, tmp_path: Path) -> None:
    f = tmp_path / "indicator_1-2-1_latin1.csv"
    f.write_bytes("Year,Région,Value\n2020,,1\n2020,Émilie-Romagne,2\n".encode("latin-1"))
    detected = validate(f, "official", sample_copy, area="PHL")
    assert detected.status == ACCEPTED and detected.encoding in ("Windows-1252", "Latin-1 (ISO-8859-1)")
    forced = validate(f, "official", sample_copy, area="PHL", encoding="latin-1")
    assert forced.status == ACCEPTED and forced.encoding == "Latin-1 (ISO-8859-1)"
    wrong = validate(f, "official", sample_copy, area="PHL", encoding="utf-8")
    assert wrong.status == REFUSED and wrong.errors()[0].code == "encoding"


def test_semicolons_with_decimal_commas(fresh_sample: Path) -> None:
    r = import_file(a("indicator_8-5-2_semicolon.csv"), "official", fresh_sample, area="PHL", dataset_id="semi")
    assert r.status == ACCEPTED and r.delimiter == ";"
    assert sorted(obs_of(fresh_sample, "semi")["value"]) == [11.0, 12.5, 1234.5]


def test_quoted_comma_in_a_label_is_one_field(sample_copy: Path, tmp_path: Path) -> None:
    r = validate(a("indicator_1-2-1_quoted_comma.csv"), "official", sample_copy, area="PHL")
    assert errors_at(r, "unmapped_label") == [(2, "Location", "Urban, formal")]
    m = tmp_path / "m.toml"
    m.write_text('[labels.URBANISATION]\n"Urban, formal" = "U"\n', encoding="utf-8")
    ok = validate(a("indicator_1-2-1_quoted_comma.csv"), "official", sample_copy, area="PHL", mapping=m)
    assert ok.status == ACCEPTED and ok.rows_stored == 2


def test_duplicate_header_refused_empty_header_ignored(sample_copy: Path, tmp_path: Path) -> None:
    dup = validate(a("indicator_1-2-1_dup_header.csv"), "official", sample_copy, area="PHL")
    assert dup.status == REFUSED and errors_at(dup, "duplicate_header") == [(1, "Value", None)]
    empty = validate(a("indicator_1-2-1_empty_header.csv"), "official", sample_copy, area="PHL")
    assert empty.status == ACCEPTED and empty.rows_stored == 2
    data_no_header = tmp_path / "indicator_1-2-1_x.csv"
    data_no_header.write_text("Year,Value,\n2020,1,surprise\n", encoding="utf-8")
    r = validate(data_no_header, "official", sample_copy, area="PHL")
    assert r.status == REFUSED and errors_at(r, "empty_header") == [(1, "#3", "surprise")]


def test_ragged_row_reported_with_its_row(sample_copy: Path) -> None:
    r = validate(a("indicator_1-2-1_ragged.csv"), "official", sample_copy, area="PHL")
    assert r.status == REFUSED and errors_at(r, "ragged") == [(3, None, "extra")]
    partial = validate(a("indicator_1-2-1_ragged.csv"), "official", sample_copy, area="PHL", accept_partial=True)
    assert partial.status == PARTIAL and partial.rows_stored == 2  # row 4 had only an empty extra field


# --- periods and values ----------------------------------------------------------------------------

def test_periods_as_written_in_open_sdg(fresh_sample: Path) -> None:
    r = import_file(a("indicator_5-2-1_periods.csv"), "official", fresh_sample, area="PHL", dataset_id="per")
    assert r.status == ACCEPTED
    obs = obs_of(fresh_sample, "per").sort_values("value")
    assert list(zip(obs["period_label"], obs["period"], strict=True)) == [
        ("2004/05", 2005), ("2013/16", 2016), ("2000 Q1", 2000), ("2000 Q2", 2000), ("2021", 2021)]


def test_censored_missing_scientific_negative_and_status(fresh_sample: Path) -> None:
    r = import_file(a("indicator_8-5-2_values.csv"), "official", fresh_sample, area="PHL", dataset_id="val",
                    accept_partial=True)
    assert r.status == PARTIAL
    assert errors_at(r, "status_contradiction") == [(11, "Value", "7.5")]      # a figure, status "missing"
    assert r.rows_skipped == 4                                                 # "..", NaN, n/a, empty
    obs = obs_of(fresh_sample, "val").sort_values(["period", "sex"])
    got = [(int(p), s, None if pd.isna(v) else v, bool(sup), st)
           for p, s, v, sup, st in obs[["period", "sex", "value", "suppressed", "obs_status"]].itertuples(index=False)]
    assert got == [
        (2016, "F", None, True, "A"),       # <5: censored -> suppressed, never 5
        (2016, "_T", 12.0, False, "A"),
        (2018, "F", -3.2, False, "A"),      # negative
        (2018, "M", 0.0, False, "E"),       # zero is a value; "Estimated value" -> E
        (2018, "_T", 15.0, False, "A"),     # 1.5e1
        (2019, "F", None, True, "C"),       # confidential, empty: measured, suppressed
        (2019, "M", None, True, "C"),       # confidential with a figure: withheld (and warned)
    ]
    assert any(p.code == "status_contradiction" and p.row == 13 for p in r.warnings())
    assert "censored" in obs.loc[obs["sex"] == "F", "footnote"].iloc[0]


def test_formulas_refused(sample_copy: Path) -> None:
    r = validate(a("indicator_1-2-1_formula.csv"), "official", sample_copy, area="PHL")
    assert r.status == REFUSED
    assert [(row, col) for row, col, _ in errors_at(r, "value_formula")] == [(2, "Value"), (3, "Value")]


def test_exact_duplicates_stored_once(sample_copy: Path) -> None:
    r = validate(a("indicator_1-2-1_exact_dup.csv"), "official", sample_copy, area="PHL")
    assert r.status == ACCEPTED and r.rows_stored == 3 and r.n_errors == 0


# --- labels, areas, formats -------------------------------------------------------------------------

def test_unmapped_labels_reported_with_rows_then_mapped(sample_copy: Path, tmp_path: Path) -> None:
    r = validate(a("indicator_1-2-1_unmapped.csv"), "official", sample_copy, area="PHL")
    assert r.status == REFUSED
    assert sorted(errors_at(r, "unmapped_label")) == [(3, "Sex", "femme"), (4, "Sex", "homme"), (5, "Sex", "femme")]
    ok = validate(a("indicator_1-2-1_unmapped.csv"), "official", sample_copy, area="PHL",
                  mapping=a("mapping_french_sex.toml"))
    assert ok.status == ACCEPTED and ok.rows_stored == 4


def test_type_disabled_means_persons_with_disabilities(fresh_sample: Path) -> None:
    r = import_file(a("indicator_1-3-1_type_disabled.csv"), "official", fresh_sample, area="PHL", dataset_id="pd")
    assert r.status == ACCEPTED
    obs = obs_of(fresh_sample, "pd")
    assert sorted(zip(obs["disagg_dim"], obs["disagg_code"], strict=True)) == [
        ("DISABILITY_STATUS", "PD"), ("SEX", "F"), ("_T", "_T")]


def test_open_sdg_placeholder_is_no_data(sample_copy: Path) -> None:
    r = validate(a("indicator_5-c-1_placeholder.csv"), "official", sample_copy)
    assert r.status == NO_DATA and r.exit_code == 0 and r.n_errors == 0


def test_unknown_areas_reported(sample_copy: Path) -> None:
    r = validate(a("indicator_1-2-1_areas.csv"), "official", sample_copy)
    assert errors_at(r, "unknown_area") == [(4, "GeoCode", "XX-99"), (5, "GeoCode", "Atlantis")]
    assert r.rows_valid == 2


def test_un_long_m49_aggregates_kept_apart(fresh_sample: Path) -> None:
    r = import_file(a("un_long_sample.csv"), "official", fresh_sample, dataset_id="unl")
    assert r.status == ACCEPTED and r.format == "un_long"
    # 8 rows: World (1) and Sub-Saharan Africa (202) kept apart, the N (national) duplicate of a G
    # figure set aside, 5 stored (4 Philippines, 1 Sweden)
    assert (r.rows_stored, r.rows_kept_apart) == (5, 3)
    obs = obs_of(fresh_sample, "unl")
    assert sorted(obs["area_code"]) == ["PHL", "PHL", "PHL", "PHL", "SWE"]
    total = obs[(obs["area_code"] == "PHL") & (obs["period"] == 2021) & (obs["disagg_dim"] == "_T")]
    assert total[["value", "lower", "upper"]].values.tolist() == [[3.0, 2.6, 3.4]]
    assert set(obs.loc[obs["period"] == 2018, "obs_status"]) == {"E"}  # Nature E
    apart = pd.read_csv(fresh_sample / "datasets" / "unl" / "kept_apart.csv", dtype=str)
    assert sorted(apart["source_area"]) == ["1", "202", "608"]
    assert {"GeoInfoUrl", "TimeCoverage"} <= set(r.dropped_columns)  # unknown columns tolerated
    store = GapStore(fresh_sample)
    assert not store.areas().query("code.str.startswith('M49')", engine="python").shape[0]
    store.close()


def test_un_wide_with_bom_and_trailing_empty_columns(sample_copy: Path) -> None:
    r = validate(a("un_wide_bom.csv"), "official", sample_copy)
    assert r.status == ACCEPTED and r.format == "un_wide" and r.encoding == "UTF-8 with BOM"
    assert (r.rows_stored, r.rows_skipped, r.rows_kept_apart) == (4, 1, 3)


def test_sdmx_csv(fresh_sample: Path) -> None:
    r = import_file(a("sdmx_sample.csv"), "official", fresh_sample, dataset_id="sdmx")
    assert r.status == ACCEPTED and r.format == "sdmx"
    obs = obs_of(fresh_sample, "sdmx")
    assert set(obs["indicator"]) == {"8.5.2"}  # SERIES SL_TLF_UEM via the indicator catalogue
    assert sorted(zip(obs["disagg_dim"], obs["disagg_code"], strict=True)) == [
        ("AGE", "Y15T24"), ("DISABILITY_STATUS", "PD"), ("SEX", "F"), ("_MULTI", "_MULTI"), ("_T", "_T")]
    assert set(obs["age"]) == {"_T", "Y15T24"}  # no AGE=_T in the file: the base age Y_GE15 is the total
    assert any("AGE=Y_GE15 is the population" in n for n in r.notes)


def test_canonical_csv_and_parquet_round_trip(fresh_sample: Path, tmp_path: Path) -> None:
    r = import_file(a("canonical_sample.csv"), "official", fresh_sample, dataset_id="canon")
    assert r.status == ACCEPTED and r.format == "canonical"
    stored = obs_of(fresh_sample, "canon")
    assert stored["suppressed"].tolist() == [False, False, True]
    pq_file = tmp_path / "canon.parquet"
    stored.to_parquet(pq_file)
    again = validate(pq_file, "official", fresh_sample, dataset_id="canon2")
    assert again.status == ACCEPTED and again.format == "canonical" and again.rows_stored == 3


def test_format_forced(sample_copy: Path) -> None:
    r = validate(a("indicator_1-2-1.csv"), "official", sample_copy, area="PHL", fmt="sdmx")
    assert r.status == REFUSED and r.format == "sdmx"
    unknown = validate(a("indicator_1-2-1.csv"), "official", sample_copy, fmt="excel97")
    assert unknown.status == REFUSED and unknown.errors()[0].code == "format"


# --- citizen data ----------------------------------------------------------------------------------

def test_kobo_export_drops_identifiers_and_people_coordinates(fresh_sample: Path) -> None:
    r = import_file(a("kobo_household_water.csv"), "citizen", fresh_sample, mapping=a("kobo_mapping.toml"),
                    dataset_id="kobo", accept_partial=True)
    assert r.status == PARTIAL and r.format == "kobo" and r.delimiter == ";"
    pii = {c for c, why in r.dropped_columns.items() if why.startswith("personal identifier")}
    assert {"respondent_name", "phone_number", "comments", "deviceid", "_submitted_by", "_notes"} <= pii
    assert errors_at(r, "coordinates") == [(6, "_gps_latitude/_gps_longitude", "0, 0")]
    assert r.rows_skipped == 1  # dont_know
    obs = obs_of(fresh_sample, "kobo")
    assert sorted(obs["area_code"]) == ["PH-ALB", "PH-ALB", "PH-SOR"]
    assert obs["lat"].isna().all() and obs["lon"].isna().all() and obs["is_point"].all()  # people: area only
    assert sorted(zip(obs["sex"], obs["value"], strict=True)) == [("F", 100.0), ("F", 100.0), ("M", 0.0)]
    assert set(obs["period"]) == {2024}
    raw = b"".join(p.read_bytes() for p in (fresh_sample / "datasets" / "kobo").iterdir())
    for secret in (b"Maria", b"917 555", b"enumerator1", b"collect:", b"Well is far"):
        assert secret not in raw


def test_odk_points_place_kind_keep_coordinates(sample_copy: Path) -> None:
    r = validate(a("odk_water_points.csv"), "citizen", sample_copy, mapping=a("odk_mapping.yaml"),
                 metadata=a("water_points_meta.yaml"))
    assert r.status == REFUSED and r.format == "odk"
    assert errors_at(r, "point_outside") == [(5, "latitude/longitude", "45.0, -30.0")]
    assert {"SubmitterName", "SubmitterID", "DeviceID", "volunteer_name"} <= {
        c for c, why in r.dropped_columns.items() if why.startswith("personal identifier")}


def test_odk_points_assigned_to_finest_area(fresh_sample: Path) -> None:
    r = import_file(a("odk_water_points.csv"), "citizen", fresh_sample, mapping=a("odk_mapping.yaml"),
                    metadata=a("water_points_meta.yaml"), accept_partial=True, dataset_id="odk")
    assert r.status == PARTIAL
    obs = obs_of(fresh_sample, "odk")
    assert sorted(obs["area_code"]) == ["PH-BEN", "PH-SLU", "PH-SLU"]   # provinces, level 2
    assert obs["lat"].notna().all()                                       # place: coordinates kept
    store = GapStore(fresh_sample)
    facts = store.facts(indicator="6.1.1", area_code="PH-15", kind="citizen")   # Benguet's region (CAR)
    assert (facts.query("year == 2024 and group_id == 'all'")["n"] >= 1).all()
    store.close()


def test_geojson_points_with_legacy_crs(sample_copy: Path) -> None:
    r = validate(a("beach_points.geojson"), "citizen", sample_copy, mapping=a("beach_mapping.toml"),
                 accept_partial=True)
    assert r.status == PARTIAL and r.format == "geojson"
    assert errors_at(r, "not_point") == [(3, "geometry", "Polygon")]
    assert any("reprojected from urn:ogc:def:crs:EPSG::3857" in n for n in r.notes)
    assert r.dropped_columns["volunteer_email"].startswith("personal identifier")
    assert r.points_assigned == 2


def test_xlsx_area_aggregates_small_cells(fresh_sample: Path, tmp_path: Path) -> None:
    df = pd.read_csv(a("aggregates.csv"), dtype=str)
    book = tmp_path / "aggregates.xlsx"
    df.to_excel(book, index=False)
    r = import_file(book, "citizen", fresh_sample, mapping=a("aggregates_mapping.toml"), dataset_id="agg",
                    metadata={"title": "ID survey", "point_kind": "none"}, accept_partial=True)
    assert r.status == PARTIAL and r.encoding.startswith("XLSX")
    assert errors_at(r, "unknown_area") == [(6, "province", "Narnia")]
    assert r.dropped_columns["interviewer"].startswith("personal identifier")
    obs = obs_of(fresh_sample, "agg").sort_values(["area_code", "sex"])
    assert list(zip(obs["area_code"], obs["sex"], obs["suppressed"], strict=True)) == [
        ("PH-ALB", "F", False), ("PH-ALB", "M", False), ("PH-SOR", "F", True), ("PH-SOR", "M", False)]
    assert obs.loc[obs["suppressed"], "value"].isna().all()  # n=3 < k_min: never a number


def test_personal_column_cannot_be_mapped(sample_copy: Path, tmp_path: Path) -> None:
    m = tmp_path / "m.toml"
    m.write_text('[citizen]\nindicator = "6.1.1"\nvalue = "has_safe_water"\ndims = {SEX = "respondent_name"}\n',
                 encoding="utf-8")
    r = validate(a("kobo_household_water.csv"), "citizen", sample_copy, mapping=m)
    assert r.status == REFUSED
    assert [p.column for p in r.errors() if p.code == "personal_data"] == ["respondent_name"]


def test_citizen_without_a_value_mapping_says_what_to_map(sample_copy: Path) -> None:
    r = validate(a("odk_water_points.csv"), "citizen", sample_copy)
    assert r.status == REFUSED
    assert {p.code for p in r.errors()} >= {"mapping", "indicator"}


# --- boundaries ----------------------------------------------------------------------------------

def test_boundaries_legacy_crs_repaired_and_merged(fresh_sample: Path) -> None:
    r = import_file(a("sweden_regions_legacy_crs.geojson"), "boundaries", fresh_sample, level=1,
                    code_field="ref", name_field="label")
    assert r.status == ACCEPTED and r.rows_stored == 2
    assert [(p.row, p.code) for p in r.warnings() if p.code == "geometry_repaired"] == [(2, "geometry_repaired")]
    areas = gpd.read_parquet(fresh_sample / "areas" / "level_1.parquet")
    assert len(areas) == 19 and areas.crs.to_epsg() == 4326  # 17 Philippine regions kept
    se = areas[areas["code"].str.startswith("SE-")]
    assert set(se["parent_code"]) == {"SWE"} and se.geometry.is_valid.all()
    x0, _, _, y1 = se[se["code"] == "SE-AB"].total_bounds
    assert (round(x0, 3), round(y1, 3)) == (17.5, 59.5)  # metres back to degrees
    again = import_file(a("sweden_regions_legacy_crs.geojson"), "boundaries", fresh_sample, level=1,
                        code_field="ref", name_field="label")
    assert again.status == "unchanged"


@pytest.mark.parametrize("fmt", ["gpkg", "shapefile", "geoparquet"])
def test_boundaries_other_formats(fmt: str, fresh_sample: Path, tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"pcode": ["SE-AB"], "nm": ["Stockholm"], "up": ["SWE"]},
                           geometry=[shapely.box(17.5, 59.2, 18.0, 59.5)], crs=4326).to_crs(3006)
    if fmt == "gpkg":
        f = tmp_path / "se.gpkg"
        gdf.to_file(f, driver="GPKG")
    elif fmt == "geoparquet":
        f = tmp_path / "se.parquet"
        gdf.to_parquet(f)
    else:
        shp = tmp_path / "shp"
        shp.mkdir()
        gdf.to_file(shp / "se.shp")
        f = tmp_path / "se.zip"
        with zipfile.ZipFile(f, "w") as z:
            for p in shp.iterdir():
                z.write(p, p.name)
    r = import_file(f, "boundaries", fresh_sample, level=1, code_field="pcode", name_field="nm", parent_field="up")
    assert r.status == ACCEPTED, r.to_text()
    se = gpd.read_parquet(fresh_sample / "areas" / "level_1.parquet").query("code == 'SE-AB'")
    assert se["parent_code"].tolist() == ["SWE"]
    assert abs(se.total_bounds[0] - 17.5) < 1e-6  # reprojected from SWEREF 99 TM


def test_boundaries_need_level_and_fields(sample_copy: Path) -> None:
    no_level = validate(a("sweden_regions_legacy_crs.geojson"), "boundaries", sample_copy)
    assert no_level.status == REFUSED and no_level.errors()[0].code == "level"
    no_field = validate(a("sweden_regions_legacy_crs.geojson"), "boundaries", sample_copy, level=1)
    assert no_field.status == REFUSED and {p.code for p in no_field.errors()} == {"field"}
    clash = validate(a("sweden_regions_legacy_crs.geojson"), "boundaries", sample_copy, level=0,
                     code_field="ref", name_field="label")
    assert clash.status == ACCEPTED  # new codes at level 0: fine
    bad = validate(a("kobo_household_water.csv"), "boundaries", sample_copy, level=1)
    assert bad.status == REFUSED


# --- store safety, releases, mapping files -----------------------------------------------------------

def test_validate_and_dry_run_write_nothing(fresh_sample: Path) -> None:
    before = store_tree_hash(fresh_sample)
    assert validate(a("un_long_sample.csv"), "official", fresh_sample).status == ACCEPTED
    assert import_file(a("un_long_sample.csv"), "official", fresh_sample, dry_run=True).status == ACCEPTED
    assert store_tree_hash(fresh_sample) == before


def test_derived_id_collision_needs_an_explicit_id(fresh_sample: Path, tmp_path: Path) -> None:
    first = import_file(a("indicator_1-2-1.csv"), "official", fresh_sample, area="PHL")
    assert first.status == ACCEPTED and first.dataset_id == "indicator-1-2-1"
    other = tmp_path / "indicator_1-2-1.csv"
    shutil.copy(a("indicator_1-2-1_exact_dup.csv"), other)
    r = import_file(other, "official", fresh_sample, area="PHL")
    assert r.status == REFUSED and r.errors()[0].code == "dataset_exists"
    replaced = import_file(other, "official", fresh_sample, area="PHL", dataset_id="indicator-1-2-1")
    assert replaced.status == ACCEPTED and replaced.changes["removed"] > 0


def test_read_only_store_refuses_imports(fresh_sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAPLENS_READ_ONLY", "1")
    r = import_file(a("indicator_1-2-1.csv"), "official", fresh_sample, area="PHL")
    assert r.status == REFUSED and r.errors()[0].code == "read_only"
    assert validate(a("indicator_1-2-1.csv"), "official", fresh_sample, area="PHL").status == ACCEPTED


def test_error_cap_counts_beyond_the_cap(sample_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAPLENS_ERROR_CAP", "10")
    f = tmp_path / "indicator_1-2-1_many.csv"
    f.write_text("Year,Value\n" + "".join(f"{2000 + i % 20},bad{i}\n" for i in range(500)), encoding="utf-8")
    r = validate(f, "official", sample_copy, area="PHL")
    assert r.status == REFUSED and r.n_errors == 500 and len(r.errors()) == 10
    assert "and 490 more" in r.to_text(max_problems=10)
    assert json.loads(r.to_json())["counts"]["error"] == 500


def test_mapping_files_round_trip_and_bad_ones_are_refused(tmp_path: Path, sample_copy: Path) -> None:
    mapping = {"columns": {"Quintiles": "INCOME_WEALTH_QUANTILE"}, "labels": {"SEX": {"femme": "F"}},
               "areas": {"Bicol": "PH-05"}, "citizen": {"indicator": "6.1.1", "values": {"yes": 100, "no": 0}}}
    for name in ("m.toml", "m.yaml", "m.json"):
        assert load_mapping_file(save_mapping(tmp_path / name, mapping)) == mapping
    broken = tmp_path / "broken.toml"
    broken.write_text("[labels.SEX\nfemme = F\n", encoding="utf-8")
    with pytest.raises(MappingError):
        load_mapping_file(broken)
    r = validate(a("indicator_1-2-1.csv"), "official", sample_copy, area="PHL", mapping=broken)
    assert r.status == REFUSED and r.errors()[0].code == "mapping"
    wrong_dim = tmp_path / "wrong.toml"
    wrong_dim.write_text('[labels.GENDER]\nfemme = "F"\n', encoding="utf-8")
    with pytest.raises(MappingError, match="unknown dimension"):
        load_mapping_file(wrong_dim)


def test_dataset_metadata_checked(sample_copy: Path) -> None:
    r = validate(a("aggregates.csv"), "citizen", sample_copy, mapping=a("aggregates_mapping.toml"),
                 metadata={"title": "x", "point_kind": "households", "quality": {"relevance": 7}, "colour": "red"},
                 accept_partial=True)
    assert r.status == REFUSED
    assert sorted(p.column for p in r.errors() if p.code == "metadata") == ["point_kind", "score_relevance"]
    assert [p.column for p in r.warnings() if p.code == "metadata"] == ["colour"]


def test_store_files_written_by_an_import_are_the_committed_layout(fresh_sample: Path) -> None:
    r = import_file(a("un_long_sample.csv"), "official", fresh_sample, dataset_id="layout")
    assert r.status == ACCEPTED
    folder = fresh_sample / "datasets" / "layout"
    assert sorted(p.name for p in folder.iterdir()) == ["dataset.json", "kept_apart.csv", "observations.parquet"]
    assert not [p for p in (fresh_sample / "datasets").iterdir() if p.name.startswith(".")]
    meta = json.loads((folder / "dataset.json").read_text())
    assert meta["sha256"] == storage.sha256_file(a("un_long_sample.csv")) and meta["format"] == "un_long"
