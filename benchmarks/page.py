"""The gap-map page in Streamlit's AppTest: time of a rerun after a filter change.

The page (``pages/gap_map.py``, registered by ``dashboard.py``) is opened once, then a filter
(the group selector if there is one, else the indicator selector, else the first select box) is
changed and the rerun timed: first to values never shown before (query results not yet in
``st.cache_data``), then back to values already shown (served from the cache).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from data_layers.settings import PROJECT_DIR

from .common import RssMonitor, summary

log = logging.getLogger(__name__)

DASHBOARD = PROJECT_DIR / "dashboard.py"
PAGE = "pages/gap_map.py"
APPTEST_TIMEOUT_S = 120  # a first run imports plotly/geopandas and opens the store
PREFERRED_LABELS = ("group", "indicator")


def _pick_widget(at: Any) -> tuple[Any, str] | None:
    boxes = [(w, "selectbox") for w in at.selectbox] + [(w, "radio") for w in at.radio]
    boxes = [(w, kind) for w, kind in boxes if len(w.options) > 1]
    for word in PREFERRED_LABELS:
        for w, kind in boxes:
            if word in str(w.label).lower():
                return w, kind
    return boxes[0] if boxes else None


def measure(data_dir: Path, repeats: int) -> dict[str, Any]:
    if not DASHBOARD.is_file() or not (PROJECT_DIR / PAGE).is_file():
        return {"available": False, "note": f"{PAGE} or dashboard.py does not exist yet: not measured"}
    os.environ["GAPLENS_DATA_DIR"] = str(data_dir)
    mon = RssMonitor()
    from streamlit.testing.v1 import AppTest

    t0 = time.perf_counter()
    at = AppTest.from_file(str(DASHBOARD), default_timeout=APPTEST_TIMEOUT_S)
    at.run()
    at.switch_page(PAGE).run()
    first = time.perf_counter() - t0
    if at.exception:
        return {"available": False, "note": f"the page raised: {at.exception[0].message}"}
    found = _pick_widget(at)
    if found is None:
        return {"available": False, "note": "no select box with several options on the page"}
    widget, kind = found
    key, label, options = widget.key, str(widget.label), list(widget.options)
    start = int(widget.index or 0)
    fresh = [i for i in range(len(options)) if i != start][: max(1, repeats)]
    cold, warm = [], []
    for i in [*fresh, start, *fresh]:
        w = _find(at, kind, key, label)
        if kind == "selectbox":
            w.select_index(i)
        else:
            w.set_value(options[i])
        s = time.perf_counter()
        at.run()
        (cold if len(cold) < len(fresh) else warm).append(time.perf_counter() - s)
        if at.exception:
            return {"available": False, "note": f"the page raised after a filter change: {at.exception[0].message}"}
    return {"available": True, "page": PAGE, "widget": {"kind": kind, "label": label, "options": len(options)},
            "first_load_s": round(first, 3), "memory": mon.stop(),
            "timings": {"page_rerun_new_filter": summary(cold), "page_rerun_cached_filter": summary(warm)}}


def _find(at: Any, kind: str, key: str | None, label: str) -> Any:
    for w in getattr(at, kind):
        if (key and w.key == key) or (not key and str(w.label) == label):
            return w
    raise LookupError(f"widget {label!r} disappeared after a rerun")
