"""Point-in-polygon of citizen points (``citizen.assign_points``) against a brute-force reference.

The importer matches points to areas through a grid and prepared ``intersects_xy`` tests (issue 3:
national scale). These tests check it against the plainest possible rule, one ``intersects`` test of
every point against every area, on the sample's real provinces, regions and countries: random points,
points on province vertices and edges (shared borders), points just offshore (nearest area within
the tolerance, with a warning) and far out at sea (refused, with row, column and value). A border
point belongs to several areas; the importer keeps the first that a ``shapely.STRtree`` over the level
reports, as ``geopandas.sjoin`` did before, and the reference applies that rule explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from data_layers import storage
from data_layers.importers import citizen
from data_layers.importers.citizen import NEAREST_TOLERANCE_DEG, assign_points
from data_layers.importers.report import Report

ROW_OFFSET = 2  # file rows start after the header, so a point's row is never its array index
OUTSIDE = "point outside every area of the store (wrong coordinates, swapped latitude/longitude, or boundaries missing)"


def levels_of(data_dir: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    """(codes, geometries) per level, finest first."""
    out = []
    for path in sorted(storage.area_files(data_dir), key=lambda p: -int(p.stem.split("_")[1])):
        areas = gpd.read_parquet(path)
        out.append((areas["code"].to_numpy(dtype=object), np.asarray(areas.geometry.array, dtype=object)))
    return out


@dataclass
class Expected:
    codes: np.ndarray          # the code a point must get ("" = refused)
    nearest: np.ndarray        # assigned by the nearest-area tolerance
    candidates: list[set[str]]  # every code the point intersects at the level it is placed (or nearest ties)


def brute_force(data_dir: Path, lat: np.ndarray, lon: np.ndarray) -> Expected:
    """The rule, written plainly: every point against every area of a level, finest level first."""
    pts = shapely.points(lon, lat)
    n = len(pts)
    codes = np.full(n, "", dtype=object)
    candidates: list[set[str]] = [set() for _ in range(n)]
    levels = levels_of(data_dir)
    for area_codes, geoms in levels:
        todo = np.flatnonzero(codes == "")
        hits = np.array([shapely.intersects(g, pts[todo]) for g in geoms]).reshape(len(geoms), len(todo))
        tree = shapely.STRtree(geoms)  # the tie rule: the first hit in the index's order
        for j in np.flatnonzero(hits.any(axis=0)):
            i = todo[j]
            candidates[i] = {area_codes[k] for k in np.flatnonzero(hits[:, j])}
            codes[i] = area_codes[tree.query(pts[i], predicate="intersects")[0]]
    nearest = np.zeros(n, dtype=bool)
    area_codes, geoms = levels[-1]
    for i in np.flatnonzero(codes == ""):
        dist = shapely.distance(geoms, pts[i])
        if dist.min() <= NEAREST_TOLERANCE_DEG:
            candidates[i] = {area_codes[k] for k in np.flatnonzero(dist == dist.min())}
            nearest[i] = True
    return Expected(codes=codes, nearest=nearest, candidates=candidates)


def sample_points(sample_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Random points over the Philippines and the world, vertices and edges of provinces, offshore points."""
    rng = np.random.default_rng(20240)
    provinces = gpd.read_parquet(sample_dir / "areas" / "level_2.parquet")
    country = gpd.read_parquet(sample_dir / "areas" / "level_0.parquet").set_index("code").geometry["PHL"]
    xy = [np.column_stack([rng.uniform(116.5, 127.0, 500), rng.uniform(4.3, 21.2, 500)]),  # land and sea
          np.column_stack([rng.uniform(-180, 180, 150), rng.uniform(-60, 75, 150)])]       # other countries
    for geom in rng.choice(np.asarray(provinces.geometry.array, dtype=object), 40, replace=False):
        c = shapely.get_coordinates(geom)
        xy.append(c[rng.integers(0, len(c), 5)])                              # vertices: shared by neighbours
        j = rng.integers(0, len(c) - 1, 5)
        xy.append(c[j] + (c[j + 1] - c[j]) * rng.random((5, 1)))              # on or a hair beside edges
    ring = shapely.get_coordinates(shapely.boundary(country))
    k = rng.integers(0, len(ring), 120)
    out = ring[k] - np.array(shapely.get_coordinates(shapely.centroid(country))[0])
    out /= np.linalg.norm(out, axis=1)[:, None]
    xy.append(ring[k] + out * rng.uniform(0.005, 0.095, (120, 1)))            # offshore, mostly within tolerance
    xy.append(np.array([[-30.0, 45.0], [-140.0, -40.0]]))                      # mid-ocean: refused
    xy = np.vstack(xy)
    return xy[:, 1].copy(), xy[:, 0].copy()


@pytest.fixture(scope="module")
def reference(sample_dir: Path) -> tuple[np.ndarray, np.ndarray, Expected]:
    lat, lon = sample_points(sample_dir)
    return lat, lon, brute_force(sample_dir, lat, lon)


def run(data_dir: Path, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray, Report]:
    report = Report(file="points.csv", kind="citizen")
    report.cap = 10_000
    codes, bad = assign_points(lat=lat, lon=lon, data_dir=data_dir, report=report, rows=np.arange(len(lat)) + ROW_OFFSET)
    return codes, bad, report


@pytest.mark.parametrize("tuning", ["default", "tiny_chunks_coarse_grid", "fine_grid"])
def test_matches_brute_force_on_the_sample_areas(reference, sample_dir: Path, tuning: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    lat, lon, want = reference
    if tuning == "tiny_chunks_coarse_grid":  # many passes, and a span budget that forces coarser cells
        monkeypatch.setattr(citizen, "POINT_CHUNK", 37)
        monkeypatch.setattr(citizen, "GRID_MAX_SPANS", 1)
    elif tuning == "fine_grid":
        monkeypatch.setattr(citizen, "GRID_CELL_FACTOR", 0.05)
    codes, bad, report = run(sample_dir, lat, lon)

    # the reference covers every case this test is meant to exercise
    placed = want.codes != ""
    on_border = np.array([len(c) > 1 for c in want.candidates]) & placed
    refused = ~placed & ~want.nearest
    assert placed.sum() > 500 and on_border.sum() >= 20 and want.nearest.sum() >= 20 and refused.sum() >= 2
    assert {c.count("-") for c in want.codes[placed]} >= {0, 1}  # provinces and countries both reached

    assert list(codes[placed]) == list(want.codes[placed])  # including the tie rule on shared borders
    assert all(codes[i] in want.candidates[i] for i in np.flatnonzero(want.nearest))
    assert list(bad) == list(refused)
    assert list(codes[refused]) == [""] * int(refused.sum())

    warnings = [p for p in report.warnings() if p.code == "point_nearest"]
    assert len(warnings) == 1
    assert warnings[0].message.startswith(f"{int(want.nearest.sum())} point(s) just outside every area")
    assert warnings[0].row == int(np.flatnonzero(want.nearest)[0]) + ROW_OFFSET
    errors = [(p.row, p.column, p.value, p.message) for p in report.errors() if p.code == "point_outside"]
    assert errors == [(int(i) + ROW_OFFSET, "latitude/longitude", f"{lat[i]}, {lon[i]}", OUTSIDE)
                      for i in np.flatnonzero(refused)]


def squares_store(data_dir: Path) -> Path:
    """Country C = box(-1, -1, 4, 2) > region R = box(0, 0, 3, 1) > provinces A = box(0, 0, 1, 1) and
    B = box(1, 0, 2, 1); the strip 2..3 of R has no province, and Z (level 2) has no geometry."""
    for level, rows in ((0, [("C", None, shapely.box(-1, -1, 4, 2))]),
                        (1, [("R", "C", shapely.box(0, 0, 3, 1))]),
                        (2, [("A", "R", shapely.box(0, 0, 1, 1)), ("Z", "R", None), ("B", "R", shapely.box(1, 0, 2, 1))])):
        gdf = gpd.GeoDataFrame({"code": [r[0] for r in rows], "name": [r[0] for r in rows], "level": level,
                                "parent_code": [r[1] for r in rows]}, geometry=[r[2] for r in rows], crs=4326)
        storage.write_areas(data_dir, level, gdf)
    return data_dir


def test_borders_levels_nearest_and_outside_on_hand_made_squares(tmp_path: Path) -> None:
    store = squares_store(tmp_path)
    pts = {  # name: (lon, lat, expected code or a set of acceptable codes)
        "inside A": (0.5, 0.5, "A"),
        "outer corner of A": (0.0, 0.0, "A"),
        "shared edge A|B": (1.0, 0.5, {"A", "B"}),
        "shared vertex A|B": (1.0, 1.0, {"A", "B"}),
        "region only": (2.5, 0.5, "R"),
        "edge of B and the strip": (2.0, 0.25, "B"),  # B's edge touches the strip of R: the finest level wins
        "country only": (3.5, 1.5, "C"),
        "offshore within tolerance": (4.05, 0.5, "C"),
        "far away": (10.0, 10.0, ""),
        "offshore beyond tolerance": (4.2, 0.5, ""),
    }
    lon = np.array([p[0] for p in pts.values()])
    lat = np.array([p[1] for p in pts.values()])
    codes, bad, report = run(store, lat, lon)
    got = dict(zip(pts, codes, strict=True))
    for name, (_, _, want) in pts.items():
        assert got[name] in want if isinstance(want, set) else got[name] == want, name
    assert list(bad) == [want == "" for *_, want in pts.values()]

    # the border rule is the first area a spatial index over the level reports (geopandas.sjoin's)
    provinces = levels_of(store)[0]
    tree = shapely.STRtree(provinces[1])
    for name in ("shared edge A|B", "shared vertex A|B"):
        x, y, _ = pts[name]
        assert got[name] == provinces[0][tree.query(shapely.Point(x, y), predicate="intersects")[0]]
    again, _, _ = run(store, lat, lon)
    assert list(again) == list(codes)

    names = list(pts)
    [warning] = report.warnings()
    assert warning.code == "point_nearest" and warning.message.startswith("1 point(s) just outside every area")
    assert warning.row == names.index("offshore within tolerance") + ROW_OFFSET
    assert [(p.row, p.column, p.value) for p in report.errors()] == [
        (names.index("far away") + ROW_OFFSET, "latitude/longitude", "10.0, 10.0"),
        (names.index("offshore beyond tolerance") + ROW_OFFSET, "latitude/longitude", "0.5, 4.2")]


def test_no_points_and_no_areas(tmp_path: Path) -> None:
    codes, bad, report = run(tmp_path, np.zeros(0), np.zeros(0))
    assert len(codes) == 0 and len(bad) == 0 and not report.problems
    codes, bad, report = run(tmp_path, np.array([10.0, 11.0]), np.array([120.0, 121.0]))
    assert list(codes) == ["", ""] and bad.all()
    assert [p.code for p in report.errors()] == ["no_areas"]
