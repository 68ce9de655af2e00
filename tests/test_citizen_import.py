"""Real citizen exports, quirk by quirk (issue 12): each quirk has a tiny file under
tests/assets/import/cgd/ and a test here that imports it into a copy of the sample store.

Dates in the common forms, repeated headers nobody maps, HXL hashtag rows, figures built from
several columns or counted per area, decimal commas, row filters, points cross-checked against a
declared country, and personal identifiers found from headers and contents.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from data_layers.importers import identifiers as ids
from data_layers.importers import import_file, validate
from data_layers.importers.mapping import CITIZEN_KEYS, MappingError, check_mapping
from data_layers.importers.preview import preview
from data_layers.importers.report import ACCEPTED, PARTIAL, REFUSED
from data_layers.importers.values import DATE_FORMS

ROOT = Path(__file__).resolve().parents[1]
CGD = ROOT / "tests" / "assets" / "import" / "cgd"
AREA_SHARE = {"indicator": "6.1.1", "value": "share", "area": "province", "unit": "percent"}


def _obs(store: Path, dataset_id: str) -> pd.DataFrame:
    return pd.read_parquet(store / "datasets" / dataset_id / "observations.parquet")


def _labels(store: Path, r) -> dict[str, str]:
    obs = _obs(store, r.dataset_id)
    return dict(zip(obs["area_code"], obs["period_label"], strict=True))


# --- dates ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("asset", "column", "order", "expected"), [
    ("dates_yyyymmdd.csv", "EventDate", None, {"PH-ALB": "2018-04-28", "PH-SOR": "2019-01-05"}),
    # the offset is read and ignored: 23:30 UTC on 31 December stays 2015, as written
    ("dates_iso_offsets.csv", "submitted", None,
     {"PH-ALB": "2015-09-01", "PH-SOR": "2015-12-31", "PH-MAS": "2016-01-02"}),
    # 25/09 decides day-first for the whole column (01/10/2014 is 1 October); dots read alike
    ("dates_dmy_detected.csv", "date", None, {"PH-ALB": "2014-09-25", "PH-SOR": "2014-10-01", "PH-MAS": "2014-09-25"}),
    # 09/25 decides month-first (10/01/2014 is 1 October), times with AM/PM and offsets
    ("dates_mdy_offsets.csv", "report_date", None, {"PH-ALB": "2014-09-25", "PH-SOR": "2014-10-01"}),
    ("dates_ambiguous.csv", "date", "dmy", {"PH-ALB": "2015-02-01", "PH-SOR": "2015-04-03", "PH-MAS": "2015-05-05"}),
    ("dates_ambiguous.csv", "date", "mdy", {"PH-ALB": "2015-01-02", "PH-SOR": "2015-03-04", "PH-MAS": "2015-05-05"}),
    ("dates_excel_serial.csv", "date", None, {"PH-ALB": "2015-09-01", "PH-SOR": "2015-09-01"}),
])
def test_date_forms(fresh_sample: Path, asset: str, column: str, order: str | None, expected: dict[str, str]) -> None:
    cfg = {**AREA_SHARE, "period": column, **({"date_order": order} if order else {})}
    r = import_file(CGD / asset, "citizen", fresh_sample, mapping={"citizen": cfg}, dataset_id=f"d-{order or 'auto'}")
    assert r.status == ACCEPTED, r.to_text()
    labels = _labels(fresh_sample, r)
    assert labels == expected
    obs = _obs(fresh_sample, r.dataset_id)
    assert (obs["period"].astype(str) == obs["period_label"].str[:4]).all()


def test_an_undecidable_date_order_is_refused_with_what_to_declare(fresh_sample: Path) -> None:
    r = validate(CGD / "dates_ambiguous.csv", "citizen", fresh_sample,
                 mapping={"citizen": {**AREA_SHARE, "period": "date"}})
    assert r.status == REFUSED
    [p] = [p for p in r.errors() if p.code == "date_order"]
    assert p.row is None and p.column == "date" and p.value == "01/02/2015"
    assert "1 February or 2 January 2015" in p.message and 'date_order = "dmy"' in p.message


def test_a_wrong_date_order_key_is_refused() -> None:
    with pytest.raises(MappingError, match="date_order"):
        check_mapping({"citizen": {"date_order": "ymd"}})


def test_every_date_form_and_citizen_key_is_documented() -> None:
    doc = (ROOT / "docs" / "importing.md").read_text(encoding="utf-8")
    for form in DATE_FORMS:
        assert f"`{form.name}`" in doc, form.name
    for key in CITIZEN_KEYS:
        assert f"`{key}`" in doc, key
    for kind in ids.IDENTIFIER_KINDS:
        assert kind.why in doc, kind.why


# --- headers --------------------------------------------------------------------------------------

def test_case_colliding_headers_nobody_maps_are_a_warning(fresh_sample: Path) -> None:
    r = import_file(CGD / "headers_case_collision.csv", "citizen", fresh_sample,
                    mapping={"citizen": {**AREA_SHARE, "period": "year"}})
    assert r.status == ACCEPTED, r.to_text()
    [w] = [p for p in r.warnings() if p.code == "duplicate_header_unused"]
    assert w.column == "plastic" and "3 times" in w.message
    assert len(_obs(fresh_sample, r.dataset_id)) == 2


def test_a_mapped_ambiguous_header_is_refused(fresh_sample: Path) -> None:
    r = validate(CGD / "headers_case_collision.csv", "citizen", fresh_sample,
                 mapping={"citizen": {**AREA_SHARE, "period": "year", "value": "PLASTIC"}})
    assert r.status == REFUSED
    [p] = [p for p in r.errors() if p.code == "duplicate_header"]
    assert "3 columns" in p.message and "Plastic (column 6)" in p.message


# --- HXL --------------------------------------------------------------------------------------------

def test_hxl_hashtag_row_is_skipped_and_proposes_the_roles(fresh_sample: Path) -> None:
    pv = preview(CGD / "hxl_tagged.csv", "citizen")
    assert pv.rows == 2  # the hashtag row is not data
    assert pv.suggested == {"lat": "Latitude", "lon": "Longitude", "period": "Report date", "value": "Functional"}
    assert pv.personal == {"Phone": "a phone number"}
    # the import uses the hashtags for every role the mapping leaves out
    r = import_file(CGD / "hxl_tagged.csv", "citizen", fresh_sample, mapping={"citizen": {"indicator": "6.1.1"}},
                    metadata={"point_kind": "place"})
    assert r.status == ACCEPTED, r.to_text()
    assert (r.rows_read, r.rows_stored) == (2, 2)
    assert any(n.startswith("row 2 is an HXL hashtag row") for n in r.notes)
    assert r.dropped_columns["Phone"].startswith("personal identifier (a phone number)")
    obs = _obs(fresh_sample, r.dataset_id)
    assert sorted(obs["area_code"]) == ["PH-ALB", "PH-SOR"] and sorted(obs["value"]) == [0, 100]


def test_hxl_area_code_is_proposed_when_there_are_no_coordinates(tmp_path: Path) -> None:
    f = tmp_path / "areas_hxl.csv"
    f.write_text("Where,When,Share\n#adm1+code,#date,#indicator+value\nPH-05,2024,40\n", encoding="utf-8")
    assert preview(f, "citizen").suggested == {"area": "Where", "period": "When", "value": "Share"}


# --- figures built from columns, filters, decimal commas --------------------------------------------

def test_litter_density_sum_of_columns_per_beach_length(fresh_sample: Path) -> None:
    mapping = {"citizen": {"indicator": "14.1.1", "period": "EventDate", "lat": "lat_y", "lon": "lon_x",
                           "unit": "items per 100 m",
                           "value": {"sum": ["G*"], "per": "BeachLength_m", "scale": 100},
                           "where": {"BeachRegionalSea": True}}}
    r = import_file(CGD / "litter_sum.csv", "citizen", fresh_sample, mapping=mapping, metadata={"point_kind": "place"},
                    accept_partial=True)
    assert r.status == PARTIAL, r.to_text()
    # the freshwater lake (no regional sea) is set aside, not an error; the beach of length 0 is refused
    assert (r.rows_read, r.rows_filtered, r.rows_rejected, r.rows_stored) == (4, 1, 1, 2)
    [p] = r.errors()
    assert (p.row, p.column, p.code) == (5, "BeachLength_m", "value_bad")
    obs = _obs(fresh_sample, r.dataset_id).sort_values("value")
    # Sorsogon: (4 + 0 + 1 + 0) / 50 m x 100 = 10; Legazpi: (10 + 2,5 + blank + 7) / 100 m x 100 = 19.5
    assert obs["value"].tolist() == [10.0, 19.5]
    assert obs["lat"].round(4).tolist() == [12.97, 13.1391]  # "13,1391": a decimal comma
    assert set(obs["area_code"]) == {"PH-SOR", "PH-ALB"}


def test_count_of_records_per_area_at_every_level(fresh_sample: Path) -> None:
    mapping = {"citizen": {"indicator": "3.8.1", "year": 2024, "lat": "lat", "lon": "lon", "unit": "health facilities",
                           "value": {"count": True}, "where": {"status": "open"}}}
    r = import_file(CGD / "facilities_count.csv", "citizen", fresh_sample, mapping=mapping,
                    metadata={"point_kind": "place"})
    assert r.status == ACCEPTED, r.to_text()
    obs = _obs(fresh_sample, r.dataset_id)
    got = dict(zip(obs["area_code"], obs["value"], strict=True))
    assert got == {"PH-ALB": 2, "PH-SOR": 1, "PH-05": 3, "PHL": 3}
    assert (obs["n"] == obs["value"]).all() and not obs["is_point"].any() and obs["lat"].isna().all()
    # 3.8.1 was not in the sample's catalogue: the import added it
    cat = pd.read_csv(fresh_sample / "indicators.csv", dtype=str)
    assert cat.set_index("code").loc["3.8.1", "title"] == "Coverage of essential health services"


@pytest.mark.parametrize(("mapping", "words"), [
    ({"citizen": {"indicatr": "6.1.1"}}, "did you mean indicator"),
    ({"citizen": {"value": {"summ": ["a"]}}}, "did you mean sum"),
    ({"citizen": {"value": {"sum": ["a"], "count": True}}}, "one of"),
    ({"citizen": {"where": {"Status": {"nott": ["x"]}}}}, "{not = [values]}"),
    ({"citizen": {"decimal_comma": "yes"}}, "true or false"),
])
def test_unknown_or_malformed_citizen_keys_are_refused_with_suggestions(mapping: dict, words: str) -> None:
    with pytest.raises(MappingError, match=re.escape(words)):
        check_mapping(mapping)


# --- points against a declared country ---------------------------------------------------------------

def test_points_are_checked_against_the_declared_country(fresh_sample: Path) -> None:
    mapping = {"citizen": {"indicator": "3.8.1", "year": 2014, "lat": "Lat", "lon": "Long", "country": "Country",
                           "value": {"count": True}}}
    r = import_file(CGD / "country_check.csv", "citizen", fresh_sample, mapping=mapping,
                    metadata={"point_kind": "place"}, accept_partial=True)
    assert r.status == PARTIAL, r.to_text()
    [p] = r.errors()  # Kaback: the longitude lost its minus sign and lies in Cameroon
    assert (p.row, p.column, p.code) == (3, "Country", "point_elsewhere")
    assert "Cameroon (CMR)" in p.message and "Guinea (GIN)" in p.message and "missing minus sign" in p.message
    # the border post lies just across the generalised border (Sierra Leone): placed in Guinea, with a warning
    assert sorted(w.code for w in r.warnings()) == ["point_border", "unknown_country"]
    obs = _obs(fresh_sample, r.dataset_id)
    assert dict(zip(obs["area_code"], obs["value"], strict=True)) == {"GIN": 4}  # 5 rows, Kaback refused
    # "Atlantis" cannot be checked: placed by its coordinates (in Guinea), said so
    assert any("'Atlantis' is not a country" in w.message for w in r.warnings())


def test_iso2_country_column(fresh_sample: Path) -> None:
    mapping = {"citizen": {"indicator": "3.8.1", "year": 2014, "lat": "Lat", "lon": "Long", "country": "iso2",
                           "value": {"count": True}}}
    r = validate(CGD / "country_check.csv", "citizen", fresh_sample, mapping=mapping, metadata={"point_kind": "place"})
    assert [p.row for p in r.errors()] == [3]
    assert any("'XX' is not a country" in w.message for w in r.warnings())


# --- personal identifiers -------------------------------------------------------------------------------

def test_identifiers_from_names_and_contents(fresh_sample: Path) -> None:
    r = import_file(CGD / "identifiers.csv", "citizen", fresh_sample,
                    mapping={"citizen": {**AREA_SHARE, "period": "year"}})
    assert r.status == ACCEPTED, r.to_text()
    d = r.dropped_columns
    # misses of the old rules, now caught
    assert d["m_username"] == "personal identifier (who filled in the form (a username)): dropped before storing"
    assert d["m_imei"].startswith("personal identifier (a device identifier)")
    assert d["Verified"].startswith("personal identifier (its cells hold people's names)")
    assert d["contact"].startswith("personal identifier (its cells are phone numbers)")
    # false positives of the old rules, now right
    assert d["automobile"] == "not used by the mapping: not stored"
    assert d["_id"] == d["_uuid"] == "record identifier: not stored"
    meta = json.loads((fresh_sample / "datasets" / r.dataset_id / "dataset.json").read_text())
    assert "m_username" in meta["notes"] and "Verified" in meta["notes"]
    text = (fresh_sample / "datasets" / r.dataset_id / "observations.parquet").read_bytes()
    assert b"Romy" not in text and b"jdoe" not in text


def test_an_identifier_can_never_be_mapped(fresh_sample: Path) -> None:
    r = validate(CGD / "identifiers.csv", "citizen", fresh_sample,
                 mapping={"citizen": {**AREA_SHARE, "period": "year", "dims": {"SEX": "Verified"}}})
    assert r.status == REFUSED
    [p] = [p for p in r.errors() if p.code == "personal_data"]
    assert p.column == "Verified" and "people's names" in p.message


@pytest.mark.parametrize(("header", "cells", "why"), [
    ("automobile", ["Toyota", "Isuzu"], None),
    ("_id", ["153423451", "153423452"], None),
    ("_uuid", ["5b7e2c1a-1c9e-4c3e-9a1e-1f2b3c4d5e6f"], None),
    ("owns_mobile", ["yes", "no"], None),
    ("water_tech", ["India Mark II", "Hand Pump - Afridev"], None),
    ("site_name", ["Maria Clara school"], None),
    ("user_type", ["farmer", "trader"], None),
    ("m_username", ["jdoe"], "who filled in the form (a username)"),
    ("m_imei", ["x"], "a device identifier"),
    ("PhoneNumber", ["x"], "a phone number"),
    ("respondent_email", ["x"], "an e-mail address"),
    ("reachable_at", ["a@b.org", "c@d.org"], "its cells are e-mail addresses"),
    ("device", ["collect:Xy12ab34CD", "collect:Pq98zz11EE"], "its cells are IMEI numbers or device ids"),
    ("checked", ["Y", "Y-Romy", "Y-Laura", "Y-Romy", "N"], "its cells hold people's names"),
    ("volunteer_who", ["Laura M", "Maria Santos", "Romy", "Ahmed"], "its cells hold people's names"),
])
def test_identifier_table(header: str, cells: list[str], why: str | None) -> None:
    assert ids.reason(header, pd.Series(cells)) == why
