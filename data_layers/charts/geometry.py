"""Display geometry of maps: simplified once per store version and level, cached, shared by figures."""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..interface import StoreAPI
from .base import (
    COORD_DECIMALS,
    COORD_DECIMALS_MIN,
    MAP_BYTES_CEILING,
    MAP_BYTES_FLOOR,
    MAP_BYTES_PER_AREA,
    SIMPLIFY_TOLERANCES,
    TOPOJSON_DIR,
    TOPOJSON_URL,
    WORLD_SPAN_DEG,
)

log = logging.getLogger("data_layers.figures")

# --- geometry -----------------------------------------------------------------------------------

class _Shared(dict):
    """A dict that figures share instead of copying: the cached display geometry.

    Plotly deep-copies every trace it is given (and again in ``to_dict``); for thousands of
    polygons that copy alone took a fifth of a national map's build time. Geometry is never
    changed once built, so a copy is the object itself. Never modify one in place.
    """

    __slots__ = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> _Shared:
        return self


class _SharedList(list):
    """A list a figure shares instead of copying (see :class:`_Shared`): the per-area arrays of
    a map trace, built for that figure alone and never modified afterwards."""

    __slots__ = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> _SharedList:
        return self


@dataclass(frozen=True)
class MapGeometry:
    """Display geometry of one level: a GeoJSON FeatureCollection keyed by area code."""

    geojson: dict[str, Any]
    codes: tuple[str, ...]
    names: dict[str, str]
    rep_lon: dict[str, float]
    rep_lat: dict[str, float]
    tolerance: float
    nbytes: int
    bounds: tuple[float, float, float, float] = (-180.0, -90.0, 180.0, 90.0)
    decimals: int = COORD_DECIMALS
    """Decimals of a degree kept in the coordinates (all of them for ``full`` geometry: -1)."""
    features: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)
    """Feature of each area code (the same objects as in ``geojson``)."""

    @property
    def projection(self) -> str:
        """Mercator for a country (shapes look familiar), an equal-area-looking world projection
        when the areas span continents (Mercator would inflate the poles)."""
        return "natural earth" if self.bounds[2] - self.bounds[0] > WORLD_SPAN_DEG else "mercator"

    def subset(self, codes: Sequence[str]) -> dict[str, Any]:
        """A FeatureCollection of some areas only (one per trace, no duplicated payload), in the
        order of ``codes``; it shares the cached features (see :class:`_Shared`)."""
        feats = self.features or {f["id"]: f for f in self.geojson["features"]}
        return _Shared(type="FeatureCollection", features=[feats[c] for c in dict.fromkeys(codes) if c in feats])


_GEOM_CACHE: dict[tuple[str, str, int, bool], MapGeometry] = {}
_GEOM_LOCK = threading.Lock()
_GEOM_CACHE_MAX = 12


def map_geometry(store: StoreAPI, level: int, *, full: bool = False) -> MapGeometry:
    """Oriented display geometry of ``level``, simplified once per store version and cached.

    ``full=True`` keeps every vertex (exports to vector formats); otherwise the tolerance grows
    until the payload fits ``MAP_BYTES_PER_AREA`` per area (at least ``MAP_BYTES_FLOOR``).
    """
    key = (str(store.data_dir), str(store.version), int(level), bool(full))
    with _GEOM_LOCK:
        hit = _GEOM_CACHE.get(key)
    if hit is not None:
        return hit
    geom = _build_geometry(store.geometries(level=int(level)), full=full)
    with _GEOM_LOCK:
        if len(_GEOM_CACHE) >= _GEOM_CACHE_MAX:
            _GEOM_CACHE.pop(next(iter(_GEOM_CACHE)))
        _GEOM_CACHE[key] = geom
    return geom


def clear_geometry_cache() -> None:
    with _GEOM_LOCK:
        _GEOM_CACHE.clear()


def _build_geometry(gdf: Any, *, full: bool) -> MapGeometry:
    import shapely

    codes = [str(c) for c in gdf["code"]]
    names = dict(zip(codes, (str(n) for n in gdf["name"]), strict=True))
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    reps = shapely.point_on_surface(geoms) if len(geoms) else np.array([])
    rep_lon = {c: float(shapely.get_x(p)) for c, p in zip(codes, reps, strict=True)}
    rep_lat = {c: float(shapely.get_y(p)) for c, p in zip(codes, reps, strict=True)}
    budget = min(MAP_BYTES_CEILING, max(MAP_BYTES_FLOOR, MAP_BYTES_PER_AREA * len(codes)))
    tol = 0.0
    simple = geoms
    if not full:
        # Search the tolerance on a cheap size estimate (vertex count), then finish and serialise once.
        for tol in SIMPLIFY_TOLERANCES:
            simple = _simplified(geoms, tol)
            if _estimated_bytes(simple, len(codes), _coord_decimals(tol)) <= budget:
                break
    decimals = -1 if full else _coord_decimals(tol)
    shown = _finished(simple, decimals=decimals)
    fc, size = _feature_collection(codes, shown)
    log.info("map geometry: %d areas, tolerance %g, %d decimals, %d bytes", len(codes), tol, decimals, size)
    bounds = tuple(float(b) for b in gdf.total_bounds) if codes else (-180.0, -90.0, 180.0, 90.0)
    return MapGeometry(geojson=fc, codes=tuple(codes), names=names, rep_lon=rep_lon, rep_lat=rep_lat,
                       tolerance=tol, nbytes=size, bounds=bounds, decimals=decimals,
                       features={f["id"]: f for f in fc["features"]})


def _coord_decimals(tol: float) -> int:
    """Decimals of a degree worth keeping after simplifying with ``tol``: rounding then moves a
    vertex by at most half the tolerance (``COORD_DECIMALS`` without simplification)."""
    if tol <= 0:
        return COORD_DECIMALS
    return int(min(COORD_DECIMALS, max(COORD_DECIMALS_MIN, math.ceil(-math.log10(tol) - 1e-9))))


def _finished(geoms: np.ndarray, *, decimals: int) -> np.ndarray:
    """Coordinates rounded to ``decimals`` (all kept when negative: ``full``) and polygons
    oriented clockwise."""
    import shapely

    out = geoms
    if decimals >= 0:
        out = shapely.transform(out, lambda xy: np.round(xy, decimals))
    return shapely.orient_polygons(out, exterior_cw=True)


def _simplified(geoms: np.ndarray, tol: float) -> np.ndarray:
    import shapely

    out = geoms
    if tol > 0:
        # Douglas-Peucker is ~20x faster than the topology-preserving variant; the few shapes it
        # collapses (tiny islands) are redone with the careful one, so no area disappears.
        out = shapely.simplify(geoms, tol, preserve_topology=False)
        lost = shapely.is_empty(out) | shapely.is_missing(out)
        if lost.any():
            out[lost] = shapely.simplify(geoms[lost], tol, preserve_topology=True)
        out = np.array([_drop_specks(g, tol) for g in out], dtype=object)
    return out


def _drop_specks(geom: Any, tol: float) -> Any:
    """Remove islands smaller than a few tolerance squares (invisible at that scale); keep the
    largest part so that no area disappears."""
    import shapely

    if geom is None or geom.geom_type != "MultiPolygon":
        return geom
    parts = list(geom.geoms)
    if len(parts) < 2:
        return geom
    areas = [p.area for p in parts]
    biggest = int(np.argmax(areas))
    keep = [p for i, p in enumerate(parts) if i == biggest or areas[i] >= 4 * tol * tol]
    return shapely.MultiPolygon(keep)


BYTES_PER_VERTEX = 11     # "[120.1234,14.1234],": 11 bytes besides the 2 x decimals digits
BYTES_PER_FEATURE = 95    # type/id/properties/geometry wrapper of a feature (an area code of ~14 characters)


def _estimated_bytes(geoms: np.ndarray, n: int, decimals: int = COORD_DECIMALS) -> int:
    """GeoJSON size estimated from vertex counts (exact enough to choose a tolerance)."""
    import shapely

    per_vertex = BYTES_PER_VERTEX + 2 * decimals
    return int(shapely.get_num_coordinates(geoms).sum()) * per_vertex + n * BYTES_PER_FEATURE


def _feature_collection(codes: list[str], geoms: np.ndarray) -> tuple[dict[str, Any], int]:
    """The FeatureCollection (``id`` = area code) and its serialised size in bytes.

    Features carry no properties: names travel with the hover values, once. Each feature is a
    :class:`_Shared` dict, so figures reuse the cached geometry instead of copying it.
    """
    import shapely

    texts = shapely.to_geojson(geoms)
    parts = []
    for code, g, text in zip(codes, geoms, texts, strict=True):
        if g is None or g.is_empty:
            continue
        parts.append('{"type":"Feature","id":' + json.dumps(code) + ',"properties":{},"geometry":' + text + "}")
    payload = '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
    fc = json.loads(payload)
    return _Shared(type="FeatureCollection", features=[_Shared(f) for f in fc["features"]]), len(payload.encode())


def plotly_config(*, static_url: str = TOPOJSON_URL, filename: str = "gaplens-chart") -> dict[str, Any]:
    """``config`` for ``st.plotly_chart``: local topojson (no CDN), no logo, PNG button at 2x."""
    return {
        "topojsonURL": static_url,
        "displaylogo": False,
        "responsive": True,
        "toImageButtonOptions": {"format": "png", "scale": 2, "filename": filename},
        "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    }


def kaleido_topojson_url() -> str:
    """``plotly.io.defaults.topojson`` value for kaleido exports (a local file URL)."""
    return TOPOJSON_DIR.resolve().as_uri() + "/"
