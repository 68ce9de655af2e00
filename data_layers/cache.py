"""The one Streamlit adapter of ``data_layers``: a shared store and cached query results.

Everything else in ``data_layers`` is plain Python (a test proves no other module imports
Streamlit). Pages call these functions instead of the store so that:

- one :class:`~data_layers.store.GapStore` (one DuckDB) serves every session
  (``st.cache_resource``), and it notices new or removed datasets without a restart: the
  store's content fingerprint is compared at most every :data:`FINGERPRINT_CHECK_S` seconds
  and the store refreshes itself when it changed;
- query results are cached per ``(store.version, filters)`` (``st.cache_data``), so a filter
  change on the sample re-renders from memory and an import invalidates the cache by itself
  (the version is part of every key).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from . import settings, storage
from .store import GapStore

log = logging.getLogger(__name__)

FINGERPRINT_CHECK_S = 2.0
"""How often (seconds) a page run may re-hash the store to notice an import. Hashing reads every
``dataset.json`` and the area files (a few MB on the sample); once per two seconds keeps a burst
of reruns cheap while an import shows up on the next click."""

FACTS_RETRY_S = 60.0
"""When the facts could not be written (a full disk) the store serves facts built in memory and
tries to write them again this often (seconds): soon after space is freed, without a rebuild
attempt on every click."""

NOT_IN_FIGURES = frozenset({"story", "step"})
"""View parameters no figure depends on: stepping through a presentation reuses cached figures."""

CACHE_ENTRIES = 256
"""Cached results per function: enough for every level x indicator x group a session explores,
small enough that a long-running server does not grow without bound."""


class _Holder:
    """The shared store plus the bookkeeping that decides when to re-check its fingerprint."""

    def __init__(self, data_dir: Path) -> None:
        self.store = GapStore(data_dir)
        self.lock = threading.Lock()
        self.checked_at = time.monotonic()
        self.retried_at = self.checked_at  # last attempt to write facts that were built in memory


@st.cache_resource(show_spinner=False)
def _holder(data_dir: str) -> _Holder:
    log.info("opening the store at %s", data_dir)
    from . import uploads

    uploads.sweep()  # uploads left by servers that were killed (this one removes its own at exit)
    return _Holder(Path(data_dir))


_resolved: dict[str, tuple[float, Path]] = {}  # setting value -> (when resolved, resolved path)


def data_dir() -> Path:
    """The configured store folder (``GAPLENS_DATA_DIR`` or the sample).

    Resolved at most every :data:`FINGERPRINT_CHECK_S` seconds per setting value: a page run asks
    for the store some forty times, and ``Path.resolve`` is one ``lstat`` per path component each
    time (a measurable share of a rerun under load); a symlinked store that is re-pointed is still
    noticed within the same delay as an import."""
    raw = str(settings.data_dir())
    now = time.monotonic()
    cached = _resolved.get(raw)
    if cached is not None and now - cached[0] < FINGERPRINT_CHECK_S:
        return cached[1]
    path = Path(raw).resolve()
    if len(_resolved) > 16:  # tests switch stores often; a server has one
        _resolved.clear()
    _resolved[raw] = (now, path)
    return path


def get_store() -> GapStore:
    """The shared store, refreshed when the data folder's content changed since it was opened."""
    holder = _holder(str(data_dir()))
    now = time.monotonic()
    if now - holder.checked_at >= FINGERPRINT_CHECK_S:
        with holder.lock:
            if now - holder.checked_at >= FINGERPRINT_CHECK_S:
                holder.checked_at = now
                try:
                    fp = storage.fingerprint(holder.store.data_dir)
                except OSError:
                    log.warning("could not fingerprint %s; keeping the loaded store", holder.store.data_dir)
                    fp = holder.store.version
                retry = holder.store.facts_pending and now - holder.retried_at >= FACTS_RETRY_S
                if fp != holder.store.version or retry:
                    log.info("store content changed: refreshing" if not retry else "writing the facts again")
                    holder.retried_at = now
                    holder.store.refresh()
    return holder.store


def refresh_store() -> GapStore:
    """Refresh the shared store now (after an import from the dashboard itself)."""
    holder = _holder(str(data_dir()))
    with holder.lock:
        holder.store.refresh()
        holder.checked_at = time.monotonic()
    return holder.store


def _key(values: Iterable[str] | None) -> tuple[str, ...] | None:
    """A hashable, order-stable cache key for an optional filter list."""
    if values is None:
        return None
    out = tuple(sorted({str(v) for v in values}))
    return out or None


# --- cached query results (the leading underscore keeps the store out of the cache key) --------

@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _coverage(_store: GapStore, version: str, level: int, as_of: int, window: int,
              indicators: tuple[str, ...] | None, groups: tuple[str, ...] | None,
              areas: tuple[str, ...] | None, headline: str | None = None) -> pd.DataFrame:
    return _store.coverage(level=level, as_of=as_of, window=window, indicators=indicators,
                           groups=groups, areas=areas, headline=headline)


def coverage(*, level: int, as_of: int, window: int, indicators: Sequence[str] | None = None,
             groups: Sequence[str] | None = None, areas: Sequence[str] | None = None,
             headline: str | None = None) -> pd.DataFrame:
    """Cached :meth:`GapStore.coverage`."""
    store = get_store()
    return _coverage(store, store.version, int(level), int(as_of), int(window),
                     _key(indicators), _key(groups), _key(areas), headline)


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _area_scores(_store: GapStore, version: str, level: int, as_of: int, window: int,
                 indicators: tuple[str, ...] | None, groups: tuple[str, ...] | None) -> pd.DataFrame:
    return _store.area_scores(level=level, as_of=as_of, window=window, indicators=indicators, groups=groups)


def area_scores(*, level: int, as_of: int, window: int, indicators: Sequence[str] | None = None,
                groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Cached :meth:`GapStore.area_scores`."""
    store = get_store()
    return _area_scores(store, store.version, int(level), int(as_of), int(window),
                        _key(indicators), _key(groups))


@st.cache_data(show_spinner=False, max_entries=16)
def _datasets(_store: GapStore, version: str, source_kind: str | None) -> pd.DataFrame:
    return _store.datasets(source_kind=source_kind)


def datasets(*, source_kind: str | None = None) -> pd.DataFrame:
    """Cached dataset catalogue with quality verdicts."""
    store = get_store()
    return _datasets(store, store.version, source_kind)


@st.cache_data(show_spinner=False, max_entries=16)
def _catalogue(_store: GapStore, version: str, name: str) -> pd.DataFrame:
    if name == "indicators":
        return _store.indicators()
    if name == "groups":
        return _store.groups()
    if name == "areas":
        return _store.areas()
    raise ValueError(f"unknown catalogue {name!r}")


def indicators() -> pd.DataFrame:
    """Cached indicator catalogue (natural code order)."""
    store = get_store()
    return _catalogue(store, store.version, "indicators")


def groups() -> pd.DataFrame:
    """Cached group catalogue (catalogue order)."""
    store = get_store()
    return _catalogue(store, store.version, "groups")


def areas(*, level: int | None = None) -> pd.DataFrame:
    """Cached areas (no geometry), optionally of one level."""
    store = get_store()
    df = _catalogue(store, store.version, "areas")
    return df if level is None else df[df["level"] == int(level)].reset_index(drop=True)


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES)
def _facts(_store: GapStore, version: str, indicator: str, area_code: str, kind: str) -> pd.DataFrame:
    return _store.facts(indicator=indicator, area_code=area_code, kind=kind)


def facts(*, indicator: str, area_code: str, kind: str = "official") -> pd.DataFrame:
    """Cached yearly facts of one indicator in one area (time series)."""
    store = get_store()
    return _facts(store, store.version, indicator, area_code, kind)


@st.cache_data(show_spinner=False, max_entries=32)
def _citizen_points(_store: GapStore, version: str, indicator: str | None, as_of: int | None) -> pd.DataFrame:
    return _store.citizen_points(indicator=indicator, as_of=as_of)


def citizen_points(*, indicator: str | None = None, as_of: int | None = None) -> pd.DataFrame:
    """Cached place-type citizen points (people-type points are never returned by the store)."""
    store = get_store()
    return _citizen_points(store, store.version, indicator, None if as_of is None else int(as_of))


@st.cache_data(show_spinner=False, max_entries=4)
def _years(_store: GapStore, version: str) -> tuple[int, int]:
    return _store.years()


def years() -> tuple[int, int]:
    """First and last reference year in the store."""
    store = get_store()
    return _years(store, store.version)


@st.cache_resource(show_spinner=False, max_entries=8)
def _geometries(_store: GapStore, version: str, level: int) -> Any:
    # a resource, not data: GeoDataFrames are large and read-only here, so one shared copy is built
    # once per store version instead of being pickled on every rerun
    return _store.geometries(level=level)


def geometries(*, level: int) -> Any:
    """Areas of one level as a GeoDataFrame, read once per store version."""
    store = get_store()
    return _geometries(store, store.version, int(level))


# a resource, not data: a figure is shared read-only (pages draw it, exports copy it first), and
# unpickling a cached 5,000-area map re-validated it through Plotly on every rerun
@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES)
def _figure(_store: GapStore, version: str, name: str, params: tuple[tuple[str, str], ...],
            extra: tuple[tuple[str, Any], ...]) -> Any:
    from . import figures, views

    view, _notices = views.View.from_params(dict(params), store=_store)
    builder = figures.CHARTS[name]
    builder = getattr(builder, "build", builder)
    return builder(_store, view, **dict(extra))


def figure(name: str, view: Any, **extra: Any) -> Any:
    """A cached chart (``figures.CHARTS[name]``) for a view, as a ``ChartResult``.

    The view enters the cache key through its URL parameters (plain strings), so two sessions
    looking at the same view share one build; ``extra`` arguments must be hashable.
    """
    store = get_store()
    params = tuple(sorted((str(k), str(v)) for k, v in view.to_params().items() if k not in NOT_IN_FIGURES))
    return _figure(store, store.version, name, params, tuple(sorted(extra.items())))


def clear() -> None:
    """Forget every cached result and the shared store (tests, and after a settings change)."""
    st.cache_data.clear()
    st.cache_resource.clear()
