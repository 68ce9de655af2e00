"""The Import page through AppTest: upload, detected format, mapping form, report, confirm; the
imported data is visible to the shared store at once; read-only mode disables it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from data_layers.i18n import t

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "tests" / "assets" / "import"
PAGE = "pages/import_data.py"


@pytest.fixture
def app(fresh_sample: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("GAPLENS_DATA_DIR", str(fresh_sample))
    monkeypatch.delenv("GAPLENS_READ_ONLY", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def _button(at: AppTest, key: str):
    label = t(key)
    hits = [b for b in at.button if b.label == label]
    assert hits, f"no button {label!r} among {[b.label for b in at.button]}"
    return hits[0]


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in at.error] + [e.value for e in at.warning] + [e.value for e in at.info]
    parts += [e.value for e in at.success]
    return "\n".join(str(p) for p in parts)


def test_read_only_mode_disables_the_page(fresh_sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAPLENS_DATA_DIR", str(fresh_sample))
    monkeypatch.setenv("GAPLENS_READ_ONLY", "1")
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert [i.value for i in at.info] == [t("ui.import.read_only")]
    assert len(at.main.get("file_uploader")) == 0  # no import (the sidebar may still open a story file)


def test_official_file_checked_then_imported_and_visible(app: AppTest, fresh_sample: Path) -> None:
    uploader = app.get("file_uploader")[0]
    uploader.set_value(("indicator_1-2-1.csv", (ASSETS / "indicator_1-2-1.csv").read_bytes(), "text/csv")).run()
    assert not app.exception, app.exception
    assert t("ui.import.detected_format", format="open_sdg") in _texts(app)
    area_input = next(w for w in app.text_input if w.label == t("ui.import.area"))
    area_input.set_value("PHL")
    _button(app, "ui.import.check").click().run()
    assert not app.exception, app.exception
    assert t("ui.import.status.accepted", dataset="indicator-1-2-1") in _texts(app)
    _button(app, "ui.import.confirm").click().run()
    assert not app.exception, app.exception
    assert t("ui.import.visible_now") in _texts(app)
    assert (fresh_sample / "datasets" / "indicator-1-2-1" / "dataset.json").is_file()
    from data_layers import cache

    assert "indicator-1-2-1" in set(cache.get_store().datasets()["dataset_id"])  # no restart needed


def test_refused_file_lists_problems_by_row(app: AppTest, fresh_sample: Path) -> None:
    app.get("file_uploader")[0].set_value(
        ("indicator_1-2-1.csv", (ASSETS / "indicator_1-2-1_formula.csv").read_bytes(), "text/csv")).run()
    next(w for w in app.text_input if w.label == t("ui.import.area")).set_value("PHL")
    _button(app, "ui.import.check").click().run()
    assert not app.exception, app.exception
    assert t("ui.import.status.refused") in _texts(app)
    frames = [d.value for d in app.dataframe]
    problems = next(f for f in frames if t("ui.import.col_row") in f.columns)
    assert problems[t("ui.import.col_row")].tolist() == [2, 3]
    assert problems[t("ui.import.col_column")].tolist() == ["Value", "Value"]
    assert _button(app, "ui.import.confirm").disabled
    assert not (fresh_sample / "datasets" / "indicator-1-2-1").exists()


def test_citizen_mapping_form_and_partial_import(app: AppTest, fresh_sample: Path) -> None:
    app.radio[0].set_value("citizen").run()
    uploaders = app.get("file_uploader")
    uploaders[0].set_value(("kobo_household_water.csv", (ASSETS / "kobo_household_water.csv").read_bytes(), "text/csv"))
    uploaders[1].set_value(("kobo_mapping.toml", (ASSETS / "kobo_mapping.toml").read_bytes(), "application/toml"))
    app.run()
    assert not app.exception, app.exception
    text = _texts(app)
    assert "respondent_name" in text and "phone_number" in text  # named as personal data...
    assert "Maria" not in text and "917 555" not in text           # ...and their values never shown
    value_box = next(s for s in app.selectbox if s.label == t("ui.import.map_value"))
    assert value_box.value == "has_safe_water"  # from the uploaded mapping file
    next(c for c in app.checkbox if c.label == t("ui.import.accept_partial")).check()
    _button(app, "ui.import.check").click().run()
    assert not app.exception, app.exception
    assert t("ui.import.status.accepted_partial", dataset="kobo-household-water") in _texts(app)
    assert any(b.label == t("ui.import.save_mapping") for b in app.get("download_button"))
    _button(app, "ui.import.confirm").click().run()
    assert not app.exception, app.exception
    assert (fresh_sample / "datasets" / "kobo-household-water" / "rejected.csv").is_file()


def test_the_page_starts_an_empty_store_beside_the_current_one(app: AppTest, fresh_sample: Path) -> None:
    name_box = next(x for x in app.text_input if x.label == t("ui.import.new_store_name"))
    name_box.input("../escape").run()
    _button(app, "ui.import.new_store_button").click().run()
    assert t("ui.import.new_store_bad_name") in _texts(app)  # a path never reaches the file system
    assert not (fresh_sample.parent.parent / "escape").exists()
    name_box = next(x for x in app.text_input if x.label == t("ui.import.new_store_name"))
    name_box.input("national-2026").run()
    _button(app, "ui.import.new_store_button").click().run()
    assert not app.exception, app.exception
    new = fresh_sample.parent / "national-2026"
    assert (new / "indicators.csv").is_file() and (new / "areas" / "level_0.parquet").is_file()
    assert len(pd.read_csv(new / "indicators.csv")) >= 231
    _button(app, "ui.import.new_store_button").click().run()
    assert t("ui.import.new_store_exists", name="national-2026") in _texts(app)


def test_the_citizen_form_records_the_participation_record(app: AppTest, fresh_sample: Path) -> None:
    """The participation record entered on the form reaches the dataset's metadata."""
    import json

    app.radio[0].set_value("citizen").run()
    uploaders = app.get("file_uploader")
    uploaders[0].set_value(("kobo_household_water.csv", (ASSETS / "kobo_household_water.csv").read_bytes(), "text/csv"))
    uploaders[1].set_value(("kobo_mapping.toml", (ASSETS / "kobo_mapping.toml").read_bytes(), "application/toml"))
    app.run()
    # inside the form: the values are sent with the form's submit button
    next(x for x in app.text_input if x.label == t("ui.import.part_initiator")).input("Tubig Watch")
    next(s for s in app.selectbox if s.label == t("ui.import.part_kind")).set_value("civil_society")
    next(m for m in app.multiselect if m.label == t("ui.import.part_stages")).set_value(["design", "collection"])
    next(s for s in app.selectbox if s.label == t("ui.import.part_membership")).set_value("self_identified")
    next(c for c in app.checkbox if c.label == t("ui.import.accept_partial")).check()
    _button(app, "ui.import.check").click().run()
    _button(app, "ui.import.confirm").click().run()
    assert not app.exception, app.exception
    meta = json.loads((fresh_sample / "datasets" / "kobo-household-water" / "dataset.json").read_text())
    assert (meta["initiator"], meta["initiator_kind"], meta["group_membership"]) == (
        "Tubig Watch", "civil_society", "self_identified")
    assert meta["citizen_stages"] == "design|collection"
