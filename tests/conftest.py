"""Shared fixtures: the sample store (on a copy, so tests never write the repository) and
``tiny_store``, which builds a real store from CSV text written inline in the test.

``tiny_store`` follows sdg-build's habit of expected tables inline as text: a test shows its input
rows, the rule and the expected result on one screen, and DuckDB still runs over real parquet files
written through the real write path (:func:`storage.write_dataset`, :func:`storage.write_areas`,
:func:`storage.write_catalogue`, :func:`tidy.finish`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from support import (
    DEFAULT_AREAS,
    DEFAULT_INDICATORS,
    SAMPLE_DIR,
    USABLE_ASSESSMENT,
    TinyStore,
    _indicator_catalogue,
    _typed_observations,
    dataset_meta,
    nested_squares,
    read_inline_csv,
)

from data_layers import storage, tidy
from data_layers.store import GapStore


@pytest.fixture
def tiny_store(tmp_path: Path) -> TinyStore:
    """Factory: ``tiny_store(observations=CSV, areas=CSV, indicators=CSV) -> GapStore``.

    ``observations`` has a ``kind`` column (official or citizen), an optional ``dataset`` column
    (default ``off`` / ``cgd``) and any columns of the tidy schema (``indicator, area_code, period,
    sex, urbanisation, disability_status, value, n, suppressed, lat, lon, is_point, ...``); blank
    dimension cells mean total. ``indicators`` needs ``code`` and may give ``higher_is_better`` and
    ``not_applicable`` (``|``-separated group ids). Each call builds a new store folder.
    Citizen datasets carry a usable quality assessment (``support.USABLE_ASSESSMENT``) unless
    ``citizen_meta`` (dataset id -> catalogue fields) says otherwise. ``groups`` is CSV text of
    extra rows for the group catalogue (``group_id,label,dimension,codes,description``).
    """
    made: list[GapStore] = []

    def make(observations: str = "", *, areas: str = DEFAULT_AREAS, indicators: str = DEFAULT_INDICATORS,
             point_kind: str = "place", citizen_meta: dict[str, dict] | None = None, groups: str = "") -> GapStore:
        data_dir = tmp_path / f"store{len(made)}"
        data_dir.mkdir()
        a = read_inline_csv(areas)
        a["parent_code"] = a["parent_code"].replace("", None)
        a["level"] = a["level"].astype(int)
        gdf = gpd.GeoDataFrame(a, geometry=nested_squares(a), crs=4326)
        for level in sorted(gdf["level"].unique()):
            storage.write_areas(data_dir, int(level), gdf[gdf["level"] == level])
        storage.copy_default_catalogues(data_dir, ["groups", "dimension_labels"])
        if groups.strip():  # extra groups (e.g. intersections) after the default ones
            base = storage.read_catalogue(data_dir, "groups")
            storage.write_catalogue(data_dir, "groups", pd.concat([base, read_inline_csv(groups)], ignore_index=True))
        storage.write_catalogue(data_dir, "indicators", _indicator_catalogue(indicators))
        if observations.strip():
            obs = read_inline_csv(observations)
            if "dataset" not in obs:
                obs["dataset"] = np.where(obs["kind"] == "official", "off", "cgd")
            for seq, ((ds, kind), part) in enumerate(obs.groupby(["dataset", "kind"], sort=True), start=1):
                rows = _typed_observations(part.drop(columns=["dataset", "kind"]))
                tidy_rows = tidy.finish(rows, dataset_id=ds, source_kind=kind, seq=seq)
                extra = ({"point_kind": point_kind, **USABLE_ASSESSMENT, **(citizen_meta or {}).get(ds, {})}
                         if kind == "citizen" else {})
                storage.write_dataset(data_dir, dataset_meta(ds, kind, seq, rows_stored=len(rows), **extra), tidy_rows)
        store = GapStore(data_dir)
        made.append(store)
        return store

    yield make
    for s in made:
        s.close()


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The committed sample store (read it; never write it)."""
    return SAMPLE_DIR


@pytest.fixture(scope="session")
def sample_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session-wide copy of the sample store that tests may read (and the store may refresh)."""
    dst = tmp_path_factory.mktemp("sample") / "sample_data"
    shutil.copytree(SAMPLE_DIR, dst)
    return dst


@pytest.fixture(scope="session")
def sample_store(sample_copy: Path) -> GapStore:
    """A GapStore over the session copy of the sample data."""
    store = GapStore(sample_copy)
    yield store
    store.close()


@pytest.fixture
def fresh_sample(tmp_path: Path) -> Path:
    """A private copy of the sample store for a test that changes it."""
    dst = tmp_path / "sample_data"
    shutil.copytree(SAMPLE_DIR, dst, ignore=shutil.ignore_patterns("boundaries"))
    return dst


@pytest.fixture(autouse=True)
def _streamlit_after_its_first_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every AppTest app where a served GapLens is after its first request.

    The brief fixes the layout (``dashboard.py`` beside ``pages/``), so Streamlit starts a process in
    its legacy multipage mode; the app ends it through Streamlit's own ``st.navigation`` on the first
    request (and a page that legacy mode runs alone declares the pages itself, then reruns:
    ``pages.components._ensure_entrypoint``; the load and browser tests exercise that path on a
    fresh server). AppTest resets that process-wide mode before every app it builds, so each test
    would replay a fresh server's first request; this puts the tests where the app is afterwards.
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self: PagesManager, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
