"""The gap-map figure: build time and JSON payload size, with the app's own figure code.

``data_layers.figures.gap_map(store, view)`` builds the figure the Gap map page shows for one
indicator x group at one level. Its display geometry is simplified once per store version and
cached, so two times are reported: the first build (simplification included) and later builds
(the app's steady state, the target of issue 3). The payload is ``len(fig.to_json())``, what the
browser receives. When the function is absent the measurement is skipped and the results say so.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from .common import timed

log = logging.getLogger(__name__)

FIGURE_MODULE = "data_layers.figures"
SLOW_FIRST_BUILD_S = 10.0


def measure(store: Any, *, level: int, indicator: str, group: str, as_of: int, window: int,
            repeats: int) -> dict[str, Any]:
    try:
        figures = importlib.import_module(FIGURE_MODULE)
        from data_layers.views import View
    except ImportError as e:
        return {"available": False, "note": f"{FIGURE_MODULE} cannot be imported ({e}): not measured"}
    fn = getattr(figures, "gap_map", None)
    if fn is None:
        return {"available": False, "note": f"{FIGURE_MODULE}.gap_map does not exist yet: not measured"}
    view = View(indicator=indicator, group=group, level=level, as_of=as_of, window=window)
    clear = getattr(figures, "clear_geometry_cache", None)
    if clear is not None:
        clear()
    first, _ = timed(lambda: fn(store, view), 1)
    # a figure far over its target is timed once more, not `repeats` times (it would only cost minutes)
    runs = repeats if first["median_s"] < SLOW_FIRST_BUILD_S else 1
    timing, result = timed(lambda: fn(store, view), runs)
    fig = getattr(result, "fig", result)
    payload = fig.to_json()
    geom = getattr(figures, "map_geometry", None)
    tolerance = getattr(geom(store, level), "tolerance", None) if geom is not None else None
    return {"available": True, "function": f"{FIGURE_MODULE}.gap_map(store, View(indicator, group, level))",
            "areas": len(getattr(result, "data", [])), "payload_bytes": len(payload.encode("utf-8")),
            "simplify_tolerance": tolerance,
            "timings": {"gap_map_figure": timing, "gap_map_figure_first": first}}
