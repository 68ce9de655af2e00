"""Point-in-polygon assignment of citizen points to areas, as the importer does it.

The citizen importer (``data_layers.importers.citizen``) owns the real assignment. When it exposes a
function for it (``assign_points``), the benchmark times that function, called as the importer
calls it; otherwise it times the equivalent ``geopandas.sjoin(points, areas, predicate="within")``
below, and the results say which one ran.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

IMPORTER_MODULE = "data_layers.importers.citizen"
CANDIDATE_NAMES = ("assign_points", "assign_points_to_areas", "assign_areas")
FALLBACK = "geopandas.sjoin(points, areas, predicate='within')"


def sjoin_assign(lon: np.ndarray, lat: np.ndarray, areas: Any) -> np.ndarray:
    """Area code of each point (``None`` outside every area), with ``gpd.sjoin(..., "within")``.

    When a point lies on a shared border and matches two areas, the first match wins.
    """
    import geopandas as gpd

    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    joined = gpd.sjoin(pts, areas[["code", "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined["code"].reindex(pts.index).to_numpy(dtype=object)


def importer_function() -> tuple[str, Callable[..., Any] | None]:
    """The importer's assignment function if it exposes one, else ``(label, None)``."""
    try:
        mod = importlib.import_module(IMPORTER_MODULE)
    except ImportError:
        return f"{FALLBACK} (importer module not present)", None
    for name in CANDIDATE_NAMES:
        fn = getattr(mod, name, None)
        if callable(fn):
            return f"{IMPORTER_MODULE}.{name}", fn
    return f"{FALLBACK} (importer exposes no assignment function)", None


def assign(lon: np.ndarray, lat: np.ndarray, areas: Any, data_dir: Path) -> tuple[np.ndarray, str]:
    """Assign points to the finest areas; returns the codes (``None`` = outside) and what ran.

    ``areas`` (GeoDataFrame of the finest level) serves the fallback; the importer's function
    reads the store's area files in ``data_dir`` itself, as it does during an import.
    """
    label, fn = importer_function()
    if fn is not None:
        try:
            return _call_importer(fn, lon, lat, data_dir), label
        except TypeError as e:  # the importer's signature changed: say so and fall back
            log.warning("cannot call %s (%s); timing %s instead", label, e, FALLBACK)
            label = f"{FALLBACK} ({label} has an unknown signature)"
    return sjoin_assign(lon, lat, areas), label


def _call_importer(fn: Callable[..., Any], lon: np.ndarray, lat: np.ndarray, data_dir: Path) -> np.ndarray:
    """Call ``assign_points(lat, lon, data_dir, report, rows)`` (matched by parameter name)."""
    from data_layers.importers.report import Report

    values = {"lat": np.asarray(lat, dtype="float64"), "lon": np.asarray(lon, dtype="float64"),
              "data_dir": Path(data_dir), "report": Report(file="benchmark", kind="citizen"),
              "rows": np.arange(len(lat))}
    params = inspect.signature(fn).parameters
    unknown = [n for n, p in params.items() if n not in values and p.default is inspect.Parameter.empty]
    if unknown:
        raise TypeError(f"unknown parameters {unknown}")
    out = fn(**{n: values[n] for n in params if n in values})
    codes = out[0] if isinstance(out, tuple) else out
    codes = pd.Series(np.asarray(codes, dtype=object))
    return codes.where(codes.notna() & (codes != ""), None).to_numpy(dtype=object)
