"""Timing, memory and machine facts shared by the harness and its workers."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import threading
import time
from collections.abc import Callable
from importlib import metadata
from typing import Any

import psutil

RSS_SAMPLE_S = 0.005  # psutil sampling period: short enough to catch DuckDB's transient peaks
VERSIONED = ("duckdb", "pandas", "pyarrow", "numpy", "plotly", "streamlit", "geopandas", "shapely", "psutil")


def cpu_seconds() -> float:
    """User + system CPU time of this process (all its threads, DuckDB's included)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn: Callable[[], Any], repeats: int) -> tuple[dict[str, Any], Any]:
    """Run ``fn`` ``repeats`` times; the median wall time, the runs, CPU time, and the last result.

    CPU time is recorded beside wall time because the machine may be shared: wall time then grows
    with the other processes' load, CPU time much less (see RESULTS.md).
    """
    runs: list[float] = []
    cpus: list[float] = []
    result = None
    for _ in range(max(1, repeats)):
        result = None  # the previous run's result is not kept alive during the next (peak memory)
        c0, t0 = cpu_seconds(), time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - t0)
        cpus.append(cpu_seconds() - c0)
    return summary(runs, cpus), result


def summary(runs: list[float], cpus: list[float] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"median_s": statistics.median(runs), "min_s": min(runs), "max_s": max(runs),
                           "runs_s": [round(r, 5) for r in runs]}
    if cpus:
        out["cpu_median_s"] = statistics.median(cpus)
    return out


class RssMonitor:
    """Peak resident memory of this process, overall and per phase.

    A thread samples ``psutil.Process().memory_info().rss`` every few milliseconds (per-phase
    peaks); the overall peak also comes from the kernel's exact high-water mark
    (``getrusage(RUSAGE_SELF).ru_maxrss``), which no sampling can miss.
    """

    def __init__(self) -> None:
        self._proc = psutil.Process()
        self._stop = threading.Event()
        self._phase_peak = 0
        self.phases: dict[str, float] = {}
        self.baseline_mb = self._proc.memory_info().rss / 2**20
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = self._proc.memory_info().rss
            self._phase_peak = max(self._phase_peak, rss)
            time.sleep(RSS_SAMPLE_S)

    def start_phase(self) -> None:
        self._phase_peak = self._proc.memory_info().rss

    def end_phase(self, name: str) -> None:
        self._phase_peak = max(self._phase_peak, self._proc.memory_info().rss)
        self.phases[name] = round(self._phase_peak / 2**20, 1)

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join(timeout=1)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
        return {"peak_rss_mb": round(peak, 1), "start_rss_mb": round(self.baseline_mb, 1),
                "phase_peak_rss_mb": self.phases}


def machine() -> dict[str, Any]:
    """Facts about this machine and the library versions, recorded with every result."""
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        cpu = platform.processor()
    versions = {}
    for name in VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    mem = psutil.virtual_memory()
    return {
        "cores_logical": psutil.cpu_count(logical=True), "cores_physical": psutil.cpu_count(logical=False),
        "cpu_model": cpu, "memory_gb": round(mem.total / 2**30, 1), "platform": platform.platform(),
        "python": platform.python_version(), "versions": versions,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


# The timed steps as both tables show them, in order: (timing key, pandas baseline key or None,
# label in the printed table, label in RESULTS.md, whether the ratio to the raw scan is shown).
STEPS: tuple[tuple[str, str | None, str, str, bool], ...] = (
    ("facts_build", "facts", "facts build from scratch", "facts build from scratch (no facts folder)", True),
    ("facts_build_sql_only", None, "  of which the build itself", "… of which the build itself", True),
    ("facts_refresh_official_import", None, "facts refresh, official import",
     "facts refresh after an import, largest official dataset", True),
    ("facts_refresh_citizen_import", None, "facts refresh, citizen import",
     "facts refresh after an import, largest citizen dataset", True),
    ("store_open", None, "store open (facts fresh)", "store open (facts fresh)", False),
    ("coverage_table", "cells", "coverage table, one level", "coverage table, one level", True),
    ("click_cold", None, "click, cold (first query)", "click, cold (first query after opening)", False),
    ("click_warm", None, "click, warm", "click, warm", False),
    ("click_scores_warm", None, "click's area scores, warm", "click's area scores, warm", False),
    ("area_scores", None, "area gap scores, all cells", "area gap scores, all cells of the level", False),
    ("point_in_polygon", None, "point-in-polygon at import", "point-in-polygon of the citizen points", False),
    ("point_in_polygon_sjoin_reference", None, "  plain gpd.sjoin, for reference",
     "… plain `gpd.sjoin(..., predicate=\"within\")`, for reference", False),
    ("gap_map_figure_first", None, "gap map figure (first build)",
     "gap map figure, first build (simplifies geometry)", False),
    ("gap_map_figure", None, "gap map figure", "gap map figure", False),
)
