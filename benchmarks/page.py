"""The gap-map page in Streamlit's AppTest: time of a rerun after a filter change.

The app (``dashboard.py``) is opened on the Gap map page (``pages/gap_map.py``) with its default
view, then the sidebar's group filter (``w.group``) is changed and the rerun timed: first to groups
never shown before (query results not yet in ``st.cache_data``: the honest case), then back to
groups already shown (served from the cache). Every rerun runs the entry script, as the server
does (the app has no ``pages/`` folder, so Streamlit never runs a page script alone).
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
FILTER_KEY = "w.group"
APPTEST_TIMEOUT_S = 120  # a first run imports plotly/geopandas and opens the store


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
        return {"available": False, "note": f"the page raised: {at.exception[0].value}"}
    box = at.selectbox(key=FILTER_KEY)
    start, labels = int(box.index or 0), list(box.options)
    cold: list[float] = []
    warm: list[float] = []
    shown: list[int] = []
    refused: list[str] = []
    for i in [i for i in range(len(labels)) if i != start]:
        if len(shown) >= max(1, repeats):
            break
        took = _rerun_with(at, i)
        if at.exception:
            return {"available": False, "note": f"the page raised after a filter change: {at.exception[0].value}"}
        if at.selectbox(key=FILTER_KEY).index != i:  # the page's view validation refused this choice
            refused.append(labels[i])
            continue
        cold.append(took)
        shown.append(i)
    for i in [start, *shown]:
        warm.append(_rerun_with(at, i))
    maps = len(at.get("plotly_chart"))
    return {"available": True, "page": PAGE, "filter": FILTER_KEY, "groups_shown": [labels[i] for i in shown],
            "choices_refused_by_the_page": refused, "charts_on_page": maps,
            "first_load_s": round(first, 3), "memory": mon.stop(),
            "timings": {"page_rerun_new_filter": summary(cold), "page_rerun_cached_filter": summary(warm)}}


def _rerun_with(at: Any, index: int) -> float:
    """Choose option ``index`` of the group filter and time the rerun."""
    at.selectbox(key=FILTER_KEY).select_index(index)
    s = time.perf_counter()
    at.run()
    return time.perf_counter() - s
