"""Synthetic GapLens stores at benchmark scale, written through the real write path.

Areas: the Philippines (level 0), its 80 real provinces (level 1) and ``level2_areas`` cells
(level 2) made by cutting each province with Voronoi cells whose edges are densified and warped by
a smooth displacement field, so that the cells tile each province exactly and have wiggly
borders with realistic vertex counts (on the order of a hundred per cell, like municipal
boundaries at web resolution). The warp is a small smooth perturbation of the identity (its
gradient stays below 1), so the warped cells still partition the plane.

Observations: official rows shaped like statistical programmes (survey rounds, indicator x area
pairs that stopped being published, disaggregations that started late or stopped, several series
per indicator, suppressed small cells, revisions), and citizen rows: place points (water points,
beach litter), people points (a household panel) and area aggregates. Everything goes through
:func:`data_layers.tidy.finish`, :func:`data_layers.storage.write_dataset` and
:func:`data_layers.storage.write_areas`; citizen points are assigned to cells by point-in-polygon
(:func:`benchmarks.pip.assign`) before they are written, as the importer does.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from data_layers import storage, tidy
from data_layers.settings import PROJECT_DIR

from . import pip

log = logging.getLogger(__name__)

GENERATOR_VERSION = 4  # bump when the generated content changes, so cached stores are rebuilt
SEED = 20240
SAMPLE_DIR = PROJECT_DIR / "sample_data"
BOUNDARIES = SAMPLE_DIR / "boundaries"
YEARS = np.arange(2000, 2025)
IMPORTED_AT = "2025-06-01T00:00:00+00:00"
MANIFEST = "bench_manifest.json"

# Vertex density and warp of the cells, relative to the typical cell size (sqrt of mean cell area):
SEGMENTS_PER_CELL_SIZE = 30  # a hexagon-like cell gets about 6 x 0.6 x 30 ~ 110 border vertices
# (amplitude, wavelength) pairs in cell sizes; sum of 2*pi*a/lambda = 0.81 < 1 keeps the warp one-to-one
WARP_COMPONENTS = ((0.09, 2.3), (0.018, 0.6), (0.005, 0.19), (0.0025, 0.07))


@dataclass(frozen=True)
class Scale:
    """Sizes of one benchmark scale."""

    name: str
    official: int            # official observations
    citizen_points: int      # citizen point observations
    citizen_aggregates: int  # citizen area aggregates
    level2_areas: int        # cells at the finest level
    provinces: int | None    # provinces kept (None = all 80)
    repeats: int             # repetitions of each timed step (the median is reported)


SCALES: dict[str, Scale] = {
    "tiny": Scale("tiny", 3_000, 600, 200, 24, 6, 2),
    "M": Scale("M", 1_000_000, 90_000, 10_000, 1_700, None, 5),
    "L": Scale("L", 10_000_000, 1_000_000, 50_000, 5_000, None, 5),
}

# Breakdown codes an official programme may publish: (family, {dimension column: code}).
CODES: tuple[tuple[str, dict[str, str]], ...] = (
    ("total", {}),
    ("sex", {"sex": "F"}), ("sex", {"sex": "M"}),
    ("urb", {"urbanisation": "U"}), ("urb", {"urbanisation": "R"}),
    ("age", {"age": "Y15T24"}), ("age", {"age": "Y_GE60"}), ("age", {"age": "Y0T14"}),
    ("dis", {"disability_status": "PD"}), ("dis", {"disability_status": "PWD_NO"}),
    ("inc", {"income_wealth_quantile": "Q1"}), ("inc", {"income_wealth_quantile": "Q2"}),
    ("inc", {"income_wealth_quantile": "B40"}), ("inc", {"income_wealth_quantile": "Q5"}),
    ("mig", {"migratory_status": "MS_MIG"}), ("mig", {"migratory_status": "MS_IDP"}),
    ("ind", {"indigenous_status": "IND"}),
    ("inf", {"settlement_type": "INF"}),
    ("edu", {"education_lev": "ISCED11_1"}),
    ("multi", {"sex": "F", "urbanisation": "R"}),
)
FAMILIES = ("total", "sex", "urb", "age", "dis", "inc", "mig", "ind", "inf", "edu", "multi")
# chance that an indicator x area pair publishes a breakdown family at all (level 2; more above)
FAMILY_P = {"total": 1.0, "sex": 0.55, "urb": 0.5, "age": 0.3, "dis": 0.2, "inc": 0.25, "mig": 0.1,
            "ind": 0.1, "inf": 0.08, "edu": 0.15, "multi": 0.15}
CODE_OFFSET = {"F": -2.0, "M": 2.0, "U": 6.0, "R": -8.0, "Y15T24": -4.0, "Y_GE60": -6.0, "Y0T14": -3.0,
               "PD": -12.0, "PWD_NO": 1.0, "Q1": -15.0, "Q2": -8.0, "B40": -11.0, "Q5": 10.0, "MS_MIG": -5.0,
               "MS_IDP": -14.0, "IND": -13.0, "INF": -10.0, "ISCED11_1": -7.0}


# --- areas -------------------------------------------------------------------------------------

def base_areas(provinces: int | None, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """The Philippines (level 0) and its real provinces (level 1), from the bundled boundaries."""
    world = gpd.read_file(BOUNDARIES / "world_admin0.geojson")
    phl = world[world["iso3"] == "PHL"].rename(columns={"iso3": "code"}).assign(level=0, parent_code=None)
    prov = gpd.read_file(BOUNDARIES / "phl_admin2.geojson").assign(level=1, parent_code="PHL")
    prov.loc[prov["code"] == "PH-00", "code"] = "PH-00-MM"
    prov = prov.sort_values("code").reset_index(drop=True)
    if provinces is not None:
        prov = prov.iloc[np.sort(rng.choice(len(prov), provinces, replace=False))].reset_index(drop=True)
    cols = ["code", "name", "level", "parent_code", "geometry"]
    out = pd.concat([phl[cols], prov[cols]], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=4326)


def _allocate(weights: np.ndarray, total: int) -> np.ndarray:
    """Integers >= 1 proportional to ``weights`` summing to ``total`` (largest remainder)."""
    if total < len(weights):
        raise ValueError("fewer cells than provinces")
    share = weights / weights.sum() * (total - len(weights))
    base = np.floor(share).astype(int)
    rest = total - len(weights) - base.sum()
    base[np.argsort(-(share - base), kind="stable")[:rest]] += 1
    return base + 1


def points_in(poly: Any, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` points uniformly inside ``poly`` (rejection sampling)."""
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    got: list[np.ndarray] = []
    n = 0
    while n < k:
        m = max(64, 3 * (k - n))
        xs, ys = rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)
        ok = shapely.contains_xy(poly, xs, ys)
        pts = np.column_stack([xs[ok], ys[ok]])[: k - n]
        got.append(pts)
        n += len(pts)
    return np.vstack(got)


def _warp(coords: np.ndarray, size: float, phases: np.ndarray) -> np.ndarray:
    """Smooth displacement field (sum of plane waves); one-to-one because its gradient is < 1."""
    x, y = coords[:, 0], coords[:, 1]
    dx = np.zeros_like(x)
    dy = np.zeros_like(y)
    for (amp, wave), (p1, p2, a1, a2) in zip(WARP_COMPONENTS, phases, strict=True):
        k = 2 * math.pi / (wave * size)
        dx += amp * size * np.sin(k * (x * math.cos(a1) + y * math.sin(a1)) + p1)
        dy += amp * size * np.sin(k * (x * math.cos(a2) + y * math.sin(a2)) + p2)
    return np.column_stack([x + dx, y + dy])


def subdivide(provinces: gpd.GeoDataFrame, n_cells: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Cut the provinces into ``n_cells`` level-2 cells with wiggly borders (see module doc)."""
    areas = shapely.area(provinces.geometry.values)
    counts = _allocate(areas, n_cells)
    size = math.sqrt(areas.sum() / n_cells)
    seg = size / SEGMENTS_PER_CELL_SIZE
    phases = rng.uniform(0, 2 * math.pi, (len(WARP_COMPONENTS), 4))
    rows: list[dict[str, Any]] = []
    for prov, k in zip(provinces.itertuples(), counts, strict=True):
        geom = prov.geometry
        cells: list[Any] = []
        for _attempt in range(20):
            if k == 1:
                cells = [geom]
                break
            seeds = points_in(geom, int(k), rng)
            minx, miny, maxx, maxy = geom.bounds
            pad = 4 * size
            env = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
            vor = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=env)
            parts = shapely.get_parts(vor)
            parts = shapely.segmentize(parts, seg)
            parts = shapely.transform(parts, lambda c: _warp(c, size, phases))
            parts = shapely.make_valid(parts)
            cut = shapely.intersection(parts, geom, grid_size=1e-6)
            cut = [_polygonal(c) for c in cut]
            cells = [c for c in cut if c is not None and c.area > 1e-9]
            if len(cells) == k:
                break
        else:
            raise RuntimeError(f"could not cut {prov.code} into {k} cells")
        for j, cell in enumerate(sorted(cells, key=lambda c: (round(-c.centroid.y, 6), round(c.centroid.x, 6))), start=1):
            rows.append({"code": f"{prov.code}-{j:03d}", "name": f"{prov.name} cell {j}", "level": 2,
                         "parent_code": prov.code, "geometry": cell})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def _polygonal(geom: Any) -> Any:
    """Only the polygon parts of an intersection result (drop stray lines and points)."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    polys = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not polys:
        return None
    return shapely.union_all(polys)


# --- official observations ------------------------------------------------------------------

def _official_index(n_target: int, areas: pd.DataFrame, indicators: list[str],
                    rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Row design (indicator, area, year, code, series index) of the official observations.

    A national office reaches millions of rows through many series per indicator (by unit,
    source, age band...), so the number of series grows until the design has enough candidate
    rows; exactly ``n_target`` are then drawn. Revisions only fill a remainder, if any.
    """
    base_series = rng.integers(1, 5, len(indicators))
    state = rng.bit_generator.state
    factor = 1.0
    for _ in range(6):
        rng.bit_generator.state = state
        n_series = np.maximum(1, np.round(base_series * factor)).astype(int)
        design = _design(areas, n_series, rng)
        total = len(design["ind"])
        if total >= n_target:
            break
        factor *= 1.1 * n_target / total
    if total >= n_target:
        pick = np.sort(rng.choice(total, n_target, replace=False))
        design = {k: v[pick] for k, v in design.items()}
        design["revision"] = np.zeros(n_target, bool)
    else:  # a programme republishes some figures: revisions fill the rest
        extra = rng.choice(total, n_target - total, replace=True)
        design = {k: np.concatenate([v, v[extra]]) for k, v in design.items()}
        design["revision"] = np.r_[np.zeros(total, bool), np.ones(n_target - total, bool)]
    log.info("official design: %d candidate rows for %d wanted (%.0f %% revisions, up to %d series per indicator)",
             total, n_target, 100 * design["revision"].mean(), int(n_series.max()))
    return design


def _design(areas: pd.DataFrame, n_series: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n_ind, n_area, n_year = len(n_series), len(areas), len(YEARS)
    level = areas["level"].to_numpy()
    fam_of_code = np.array([FAMILIES.index(f) for f, _ in CODES])
    level_boost = np.array([1.7, 1.3, 1.0])[level]
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("ind", "area", "year", "code", "series")}
    for i in range(n_ind):
        survey = rng.random(n_year) < rng.uniform(0.3, 0.9)                      # rounds of this programme
        local = rng.random((3, n_year)) < np.array([[1.0], [0.8], [0.55]])        # rounds reaching each level
        published = rng.random(n_area) < np.array([1.0, 0.95, 0.85])[level]      # pair ever published
        stopped = rng.random(n_area) < 0.3
        last = np.where(stopped, rng.integers(2003, 2018, n_area), YEARS[-1])   # pair stopped (stale)
        fam_p = np.array([FAMILY_P[f] for f in FAMILIES])
        fam_pub = rng.random((n_area, len(FAMILIES))) < np.minimum(0.95, fam_p[None, :] * level_boost[:, None])
        fam_pub[:, 0] = True
        fam_start = rng.integers(2000, 2023, (n_area, len(FAMILIES)))
        fam_start[:, 0] = 2000
        fam_end = np.where(rng.random((n_area, len(FAMILIES))) < 0.25,
                           rng.integers(2004, 2019, (n_area, len(FAMILIES))), YEARS[-1])
        fam_end[:, 0] = YEARS[-1]
        a_idx, y_idx = np.nonzero(published[:, None] & survey[None, :] & local[level][:, :]
                                  & (YEARS[None, :] <= last[:, None]))
        for c, fam in enumerate(fam_of_code):
            yr = YEARS[y_idx]
            keep = fam_pub[a_idx, fam] & (yr >= fam_start[a_idx, fam]) & (yr <= fam_end[a_idx, fam])
            keep &= rng.random(len(a_idx)) < 0.9
            aa, yy = a_idx[keep], y_idx[keep]
            for s in range(int(n_series[i])):
                take = np.ones(len(aa), bool) if s == 0 else rng.random(len(aa)) < 0.6
                cols["ind"].append(np.full(take.sum(), i, np.int16))
                cols["area"].append(aa[take].astype(np.int32))
                cols["year"].append(yy[take].astype(np.int16))
                cols["code"].append(np.full(take.sum(), c, np.int8))
                cols["series"].append(np.full(take.sum(), s, np.int16))
    return {k: np.concatenate(v) for k, v in cols.items()}


def _official_frame(design: dict[str, np.ndarray], sel: np.ndarray, areas: pd.DataFrame,
                    indicators: list[str], series: list[str], rng: np.random.Generator) -> pd.DataFrame:
    """Partial observation frame (the columns an importer would fill) for rows ``sel``."""
    ind, area = design["ind"][sel], design["area"][sel]
    year, code = design["year"][sel].astype(np.int32) + int(YEARS[0]), design["code"][sel]
    s_idx = design["series"][sel]
    level = areas["level"].to_numpy()[area]
    n_rows = len(sel)
    area_dev = (np.sin(area * 12.9898 + ind * 78.233) * 43758.5453) % 1.0 * 30 - 15
    base = 20 + ind * 3.1 + area_dev + (year - 2000) * 0.6
    offsets = np.array([sum(CODE_OFFSET.get(v, 0.0) for v in dims.values()) for _, dims in CODES])
    value = np.clip(np.round(base + offsets[code] + rng.normal(0, 2.0, n_rows) + design["revision"][sel] * 0.5, 1), 0, 100)
    n = np.round(np.array([20_000, 900, 120])[level] * rng.uniform(0.5, 1.5, n_rows)).astype(np.int64)
    n = np.where(code == 0, n * 4, n)
    margin = 1.96 * np.sqrt(np.maximum(value * (100 - value), 25) / n)
    suppressed = (level == 2) & (code != 0) & (rng.random(n_rows) < 0.01)
    not_available = ~suppressed & (rng.random(n_rows) < 0.003)
    value = np.where(suppressed | not_available, np.nan, value)
    df = pd.DataFrame({
        "indicator": np.asarray(indicators, dtype=object)[ind],
        "series": _series_codes(series, ind, s_idx),
        "area_code": areas["code"].to_numpy(dtype=object)[area],
        "period": year,
        "value": value,
        "lower": np.clip(np.round(value - margin, 1), 0, 100),
        "upper": np.clip(np.round(value + margin, 1), 0, 100),
        "n": n,
        "unit": "percent",
        "obs_status": np.where(suppressed, "C", np.where(not_available, "M", "A")),
        "suppressed": suppressed,
        "source": "Synthetic benchmark programme",
    })
    for dim in sorted({k for _, dims in CODES for k in dims}):
        lookup = np.array([dims.get(dim, "_T") for _, dims in CODES], dtype=object)
        df[dim] = lookup[code]
    return df


def _series_codes(series: list[str], ind: np.ndarray, s_idx: np.ndarray) -> np.ndarray:
    """Series code per row: the indicator's main UN series, then ``<series>_<k>`` for the others."""
    suffix = np.where(s_idx == 0, "", np.char.add("_", s_idx.astype(str)))
    return np.char.add(np.asarray(series, dtype=str)[ind], suffix).astype(object)


# --- citizen observations -------------------------------------------------------------------

PEOPLE_DIMS: tuple[tuple[dict[str, str], float], ...] = (
    ({}, 0.30), ({"sex": "F"}, 0.20), ({"sex": "M"}, 0.15), ({"disability_status": "PD"}, 0.10),
    ({"age": "Y15T24"}, 0.10), ({"age": "Y_GE60"}, 0.05), ({"urbanisation": "R"}, 0.05),
    ({"indigenous_status": "IND"}, 0.03), ({"settlement_type": "INF"}, 0.02),
)
PEOPLE_INDICATORS = ("1.2.1", "1.3.1", "4.1.2", "5.2.1", "8.5.2", "16.1.4", "16.9.1", "17.8.1")
CITIZEN_YEARS = np.arange(2016, 2025)


def _dims_frame(idx: np.ndarray) -> dict[str, np.ndarray]:
    cols = sorted({k for d, _ in PEOPLE_DIMS for k in d})
    return {c: np.array([d.get(c, "_T") for d, _ in PEOPLE_DIMS], dtype=object)[idx] for c in cols}


def _citizen_points(n: int, provinces: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, out: Path,
                    rng: np.random.Generator) -> tuple[list[pd.DataFrame], dict[str, Any]]:
    """Place points (water points, beaches) and people points (household panel), assigned to cells."""
    weights = shapely.area(provinces.geometry.values) * rng.lognormal(0, 0.8, len(provinces))
    want = int(n * 1.03) + 10  # a few points fall in no cell (slivers): draw a little extra
    per = rng.multinomial(want, weights / weights.sum())
    xy = np.vstack([points_in(g, int(k), rng) for g, k in zip(provinces.geometry, per, strict=True) if k > 0])
    xy = xy[rng.permutation(len(xy))]
    t0 = time.perf_counter()
    codes, how = pip.assign(xy[:, 0], xy[:, 1], cells, out)
    took = time.perf_counter() - t0
    ok = pd.notna(codes)
    xy, codes = xy[ok][:n], codes[ok][:n]
    if len(codes) < n:
        raise RuntimeError("not enough points fell inside the cells")
    kind = rng.choice(3, n, p=[0.35, 0.10, 0.55])
    years = rng.choice(CITIZEN_YEARS, n, p=np.linspace(1, 3, len(CITIZEN_YEARS)) / np.linspace(1, 3, len(CITIZEN_YEARS)).sum())
    frames = []
    for k in range(3):
        m = kind == k
        cnt = int(m.sum())
        base = {"area_code": codes[m], "period": years[m].astype(np.int32), "lat": np.round(xy[m, 1], 5),
                "lon": np.round(xy[m, 0], 5), "n": 1, "is_point": True}
        if k == 0:  # water points: rural, functioning and safe or not
            share = 0.3 + 0.5 * (np.abs(np.sin(xy[m, 0] * 3.1 + xy[m, 1] * 1.7)))
            frames.append(pd.DataFrame({**base, "indicator": "6.1.1", "urbanisation": "R",
                                        "value": np.where(rng.random(cnt) < share, 100.0, 0.0), "unit": "percent"}))
        elif k == 1:  # beach litter
            frames.append(pd.DataFrame({**base, "indicator": "14.1.1", "value": np.round(rng.gamma(2.0, 120.0, cnt), 0),
                                        "unit": "items per 100 m"}))
        else:  # household panel: people points with one breakdown each
            didx = rng.choice(len(PEOPLE_DIMS), cnt, p=[p for _, p in PEOPLE_DIMS])
            frames.append(pd.DataFrame({**base, "indicator": rng.choice(PEOPLE_INDICATORS, cnt),
                                        "value": np.where(rng.random(cnt) < 0.4, 100.0, 0.0), "unit": "percent",
                                        **_dims_frame(didx)}))
    return frames, {"assignment": how, "assignment_seconds_at_generation": round(took, 3), "points": n}


def _citizen_aggregates(n: int, areas: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Area aggregates of a community survey network (people, no points); some tiny samples."""
    pool = areas[areas["level"] >= 1]
    lv = pool["level"].to_numpy()
    p = np.where(lv == 2, 0.8 / max(1, (lv == 2).sum()), 0.2 / max(1, (lv == 1).sum()))
    area = rng.choice(len(pool), n, p=p / p.sum())
    didx = rng.choice(len(PEOPLE_DIMS), n, p=[q for _, q in PEOPLE_DIMS])
    size = np.maximum(1, np.round(rng.lognormal(3.5, 1.2, n))).astype(np.int64)
    sup = rng.random(n) < 0.02
    return pd.DataFrame({
        "indicator": rng.choice(PEOPLE_INDICATORS, n), "area_code": pool["code"].to_numpy(dtype=object)[area],
        "period": rng.choice(CITIZEN_YEARS, n).astype(np.int32),
        "value": np.where(sup, np.nan, np.round(rng.uniform(5, 95, n), 1)), "n": size, "unit": "percent",
        "suppressed": sup, "obs_status": np.where(sup, "C", "A"), **_dims_frame(didx),
    })


# --- writing ----------------------------------------------------------------------------------

def _meta(dataset_id: str, kind: str, title: str, point_kind: str, rows: int, seq: int, digest: str) -> dict[str, Any]:
    scores = {s: 2 for s in ("score_relevance", "score_methods", "score_coverage", "score_timeliness",
                             "score_data_journey", "score_qa")} if kind == "citizen" else {}
    return {
        "dataset_id": dataset_id, "seq": seq, "source_kind": kind, "title": title,
        "producer": "GapLens benchmark generator (synthetic)", "licence": "CC0 1.0",
        "method": "Synthetic", "sampling": "Synthetic", "collection_start": "2000-01-01",
        "collection_end": "2024-12-31", "imported_at": IMPORTED_AT, "source_file": f"benchmarks.synth seed {SEED}",
        "sha256": digest, "format": "generated", "rows_read": rows, "rows_stored": rows, "rows_rejected": 0,
        "point_kind": point_kind, "k_min": 5, "consent": "", "url": "", "notes": "Synthetic benchmark data.",
        "gateway_ethics": kind == "citizen" or None, "gateway_transparency": kind == "citizen" or None,
        "gateway_need": kind == "citizen" or None, **scores,
    }


def _write(out: Path, df: pd.DataFrame, dataset_id: str, kind: str, title: str, point_kind: str, seq: int) -> int:
    obs = tidy.finish(df, dataset_id=dataset_id, source_kind=kind, seq=seq)
    digest = hashlib.sha256(f"{dataset_id}:{SEED}:{GENERATOR_VERSION}:{len(obs)}".encode()).hexdigest()
    storage.write_dataset(out, _meta(dataset_id, kind, title, point_kind, len(obs), seq, digest), obs)
    return len(obs)


def generate(out: Path, scale: Scale) -> dict[str, Any]:
    """Write a synthetic store of ``scale`` into ``out`` (emptied first); returns what was made."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(SEED)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    top = base_areas(scale.provinces, rng)
    provinces = top[top["level"] == 1].reset_index(drop=True)
    cells = subdivide(provinces, scale.level2_areas, rng)
    storage.write_areas(out, 0, top[top["level"] == 0])
    storage.write_areas(out, 1, provinces)
    storage.write_areas(out, 2, cells)
    storage.copy_default_catalogues(out)
    t_areas = time.perf_counter() - t0
    areas = pd.concat([top.drop(columns="geometry"), cells.drop(columns="geometry")], ignore_index=True)

    catalogue = storage.read_catalogue(out, "indicators")
    indicators = catalogue["code"].tolist()
    series = [s or "SER" for s in catalogue["series"]]
    design = _official_index(scale.official, areas, indicators, rng)
    seq = 0
    written: dict[str, int] = {}
    programmes = np.array_split(np.arange(len(indicators)), 6)
    for p, members in enumerate(programmes, start=1):
        sel = np.nonzero(np.isin(design["ind"], members) & ~design["revision"])[0]
        seq += 1
        written[f"official-programme-{p}"] = _write(
            out, _official_frame(design, sel, areas, indicators, series, rng), f"official-programme-{p}", "official",
            f"Synthetic statistical programme {p}", "none", seq)
    sel = np.nonzero(design["revision"])[0]
    if len(sel):
        seq += 1
        written["official-revisions"] = _write(out, _official_frame(design, sel, areas, indicators, series, rng),
                                               "official-revisions", "official", "Synthetic revised figures", "none", seq)
    del design
    t_official = time.perf_counter() - t0 - t_areas

    frames, pip_info = _citizen_points(scale.citizen_points, provinces, cells, out, rng)
    for df, (ds, title, kind) in zip(frames, (("cgd-water-points", "Community water-point monitoring", "place"),
                                               ("cgd-beach-litter", "Beach litter audits", "place"),
                                               ("cgd-household-panel", "Household panel (people points)", "people")),
                                      strict=True):
        seq += 1
        written[ds] = _write(out, df, ds, "citizen", title, kind, seq)
    seq += 1
    written["cgd-community-surveys"] = _write(out, _citizen_aggregates(scale.citizen_aggregates, areas, rng),
                                              "cgd-community-surveys", "citizen", "Community survey network", "none", seq)
    vertices = shapely.get_num_coordinates(cells.geometry.values)
    info = {
        "scale": asdict(scale), "generator_version": GENERATOR_VERSION, "seed": SEED,
        "areas": {int(k): int(v) for k, v in areas["level"].value_counts().sort_index().items()},
        "level2_vertices": {"mean": round(float(vertices.mean()), 1), "median": float(np.median(vertices)),
                            "max": int(vertices.max()), "total": int(vertices.sum())},
        "datasets": written,
        "official_rows": sum(v for k, v in written.items() if k.startswith("official")),
        "citizen_rows": sum(v for k, v in written.items() if k.startswith("cgd")),
        "citizen_points": scale.citizen_points, "point_assignment": pip_info,
        "seconds": {"areas": round(t_areas, 1), "official": round(t_official, 1),
                    "total": round(time.perf_counter() - t0, 1)},
    }
    (out / MANIFEST).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return info


def copy_sample(out: Path) -> dict[str, Any]:
    """Scale S: the bundled sample store, copied (facts included) to ``out``."""
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(SAMPLE_DIR, out, ignore=shutil.ignore_patterns("boundaries"))
    info = {"scale": {"name": "S"}, "source": str(SAMPLE_DIR), "generator_version": GENERATOR_VERSION}
    (out / MANIFEST).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")
    return info


def ensure(out: Path, scale_name: str, *, regenerate: bool = False) -> dict[str, Any]:
    """A store of the scale in ``out``: reused when its manifest matches, else (re)generated."""
    manifest = out / MANIFEST
    if scale_name == "S":  # a fresh copy every time: cheap, and follows any regeneration of the sample
        return {**copy_sample(out), "reused": False}
    if not regenerate and manifest.is_file():
        info = json.loads(manifest.read_text(encoding="utf-8"))
        same = info.get("generator_version") == GENERATOR_VERSION and info.get("scale", {}).get("name") == scale_name
        if same and info.get("scale") == asdict(SCALES[scale_name]):
            info["reused"] = True
            return info
    info = generate(out, SCALES[scale_name])
    info["reused"] = False
    return info
