"""Plotly figures of GapLens, built from the store for a :class:`~data_layers.views.View`.

No Streamlit here: the pages, the exports and the benchmarks all call these builders. Each
returns a :class:`ChartResult` carrying the figure and everything a chart needs to stand on its
own: exactly the data shown (for the table and the CSV download), a title, a subtitle with the
filters in words, a source line (citizen data marked as such) and a plain-language text
alternative generated from the data.

Maps use ``geo`` traces (true vectors in SVG/PDF export) over simplified display geometry that
is oriented clockwise (``geo`` traces draw counter-clockwise polygons inside out) and built once
per store version and level. The base map comes from ``static/topojson/`` (the page passes
``config={"topojsonURL": ...}``; see :func:`plotly_config`), never from a CDN.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import i18n, quality
from . import palette as pal
from . import vocabulary as voc
from .interface import StoreAPI
from .settings import PROJECT_DIR
from .views import (
    View,
    catalogue,
    describe,
    group_label,
    home_area,
    indicator_label,
    indicator_title,
    is_missing,
    level_label,
)
from .vocabulary import _truthy, cell_class, cell_classes

log = logging.getLogger(__name__)

TOPOJSON_DIR = PROJECT_DIR / "static" / "topojson"
TOPOJSON_URL = "/app/static/topojson/"
"""Where Streamlit serves ``static/topojson`` (``enableStaticServing``)."""

MAP_BYTES_PER_AREA = 240          # geometry's share (60 %) of a 400 B per area map: 5,000 areas fit 2 MB
MAP_BYTES_FLOOR = 800_000         # maps of fewer areas may keep detail up to this size
MAP_BYTES_CEILING = 1_200_000     # the rest of the 2 MB budget: per-area hover values, codes, points
SIMPLIFY_TOLERANCES = (0.0, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)  # degrees
COORD_DECIMALS = 4                # 4 decimals of a degree ~ 11 m: finer than any screen shows
COORD_DECIMALS_MIN = 2            # ~1 km: the coarsest rounding, for tolerances of 0.01 degree and more
GLYPH_MAX_AREAS = 400             # above this a symbol per area is clutter; colour + hover remain
MAX_POINTS = 5_000                # citizen place points drawn on a map (a sample beyond)
MAX_SERIES = 6                    # DESIGN.md: at most about six series in a line chart
DISAGREE_POINTS = 10.0            # official vs citizen differ by more than this (percentage points)
MIN_ROW_PX = 26                   # heatmap row height that keeps 16 px symbols legible
SCORE_BINS = voc.SCORE_BINS
MAP_HEIGHT = 680                  # px; the legend below adds a line per class
BAR_WIDTH = 0.38                  # group comparison: official bar, in row units
OFFICIAL_OFFSET = 0.14            # official bar sits above the row centre ...
CITIZEN_OFFSET = 0.26             # ... and the citizen triangle below it: side by side, never on top
YEAR_TICKS_MAX = 15               # one tick per year up to this span, then every 2 or 5 years
WORLD_SPAN_DEG = 90.0             # wider than this in longitude: a world projection
ROW_LABEL_CHARS = 30              # longer area names are shortened on the axis (never in hover/table)
MATRIX_LABEL_CHARS = 30           # column labels of the matrix, cut with an ellipsis (full text in hover)
MATRIX_LABEL_ANGLE = -60          # angled so that eleven group labels never overlap in a page column


@dataclass(frozen=True)
class ChartResult:
    """A figure and what it needs to stand alone in a page, a report or a meeting."""

    fig: Any
    data: pd.DataFrame
    title: str
    subtitle: str
    source: str
    alt_text: str
    name: str = ""

    @property
    def empty(self) -> bool:
        """True when the selection has nothing to show (the figure says so in words)."""
        return self.data.empty


@dataclass(frozen=True)
class ChartSpec:
    """A named chart of the dashboard, for exports and ``export chart --list``."""

    name: str
    title_key: str
    build: Callable[..., ChartResult]
    """``build(store, view, **options)``; options are the builder's keyword arguments."""
    help_key: str = ""


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


# --- shared pieces --------------------------------------------------------------------------

def _flag(value: Any) -> bool:
    """A nullable flag (``cgd_disagrees``) read as True only when it is known and true."""
    return value is not None and not is_missing(value) and bool(value)


def _reason(value: Any) -> str:
    """``cgd_reason`` as text (empty for evidence that counts, missing or NaN alike)."""
    return "" if value is None or is_missing(value) else str(value)


def parts_text(store: StoreAPI, group: str, status: str, parts_status: Any, lang: str) -> str:
    """An intersection's cell in words: "Women: current; Rural people: current; Rural women: not
    measured" (``parts_status`` of the coverage cells); empty for a one-dimension group."""
    if parts_status is None or is_missing(parts_status) or not str(parts_status).strip():
        return ""
    bits = []
    for item in str(parts_status).split(";"):
        gid, _, st = item.strip().partition("=")
        if gid:
            bits.append(i18n.t("hover.part", lang, group=group_label(store, gid, lang), status=i18n.t(f"part.{st}", lang)))
    bits.append(i18n.t("hover.part", lang, group=group_label(store, group, lang), status=i18n.t(f"part.{status}", lang)))
    return "; ".join(bits)


def parent_gaps_text(store: StoreAPI, group: str, parent_gaps: Any, unit: str, lang: str) -> list[str]:
    """"Rural women minus women: -4.2" for each parent group with a comparable figure (``parent_gaps``)."""
    if parent_gaps is None or is_missing(parent_gaps) or not str(parent_gaps).strip():
        return []
    out = []
    for item in str(parent_gaps).split(";"):
        gid, _, diff = item.strip().partition("=")
        try:
            value = float(diff)
        except ValueError:
            continue
        gap = i18n.format_points(value, lang) if unit.lower() in ("percent", "%") else i18n.format_number(value, lang)
        out.append(i18n.t("hover.parent_gap", lang, group=group_label(store, group, lang),
                          parent=group_label(store, gid, lang), gap=gap))
    return out


def register_text(store: StoreAPI, row: Any, lang: str) -> str:
    """"Raised with PSA on 12 March 2022 · gap closed since raised: official figure for 2023", from
    the evidence register (plain text: escape it before it goes into markup); empty when never raised."""
    raised = row.get("raised_on")
    if raised is None or is_missing(raised) or not str(raised):
        return ""
    from . import register

    entries = register.concerning(store.register(), indicator=row.get("indicator"), area_code=row.get("area_code"),
                                  group=row.get("group"))
    to = str(entries["presented_to"].iloc[0]) if len(entries) else ""
    text = i18n.t("hover.raised", lang, to=to, date=i18n.format_date(str(raised), lang))
    if _flag(row.get("closed_since_raised")):
        text += " · " + i18n.t("hover.closed", lang, year=i18n.format_year(row.get("official_latest_year"), lang))
    return text


def _cell_extra_lines(store: StoreAPI, row: Any, unit: str, lang: str) -> list[str]:
    """Hover lines about intersections and the register, already escaped for plotly's markup."""
    lines = []
    parts = parts_text(store, str(row.get("group")), str(row.get("status")), row.get("parts_status"), lang)
    if parts:
        lines.append(_esc(parts))
    lines += [_esc(x) for x in parent_gaps_text(store, str(row.get("group")), row.get("parent_gaps"), unit, lang)]
    raised = register_text(store, row, lang)
    if raised:
        lines.append(_esc(raised))
    return lines


def class_label(cls: str, lang: str) -> str:
    """``● Current official figure``: symbol and word, so no class relies on colour."""
    style = pal.status_style(cls)
    return f"{style.symbol} {i18n.t(style.label_key, lang)}"


def _outline(fill: str, th: pal.Theme) -> str:
    """Area outline that shows on its own fill: white on dark fills, dark on light ones."""
    if th.high_contrast:
        return th.border
    return pal.TEXT_ON_DARK if pal.text_on(fill) == pal.TEXT_ON_DARK else th.border


def _theme(view: View) -> pal.Theme:
    return pal.theme(contrast=view.contrast, present=view.present)


def _layout(fig: Any, view: View, title: str, subtitle: str, *, height: int | None = None,
            legend_title: str | None = None) -> None:
    fig.update_layout(_layout_spec(view, title, subtitle, height=height, legend_title=legend_title))


def _layout_spec(view: View, title: str, subtitle: str, *, height: int | None = None,
                 legend_title: str | None = None) -> dict[str, Any]:
    """The layout every chart shares (title, subtitle, fonts, legend, hover labels, separators),
    as a plain dict (:func:`_layout` applies it; a map passes it to the figure directly)."""
    th = _theme(view)
    rtl = view.is_rtl
    spec: dict[str, Any] = dict(
        title={"text": f"<b>{_esc(title)}</b>",
               "subtitle": {"text": _esc(subtitle), "font": {"size": th.font_size, "color": th.muted}},
               "x": 0.99 if rtl else 0.01, "xanchor": "right" if rtl else "left",
               "yref": "container", "y": 1.0, "yanchor": "top", "pad": {"t": 14},
               "font": {"size": th.title_size, "color": th.text}},
        font={"family": pal.FONT_FAMILY, "size": th.font_size, "color": th.text},
        paper_bgcolor=pal.BACKGROUND, plot_bgcolor=pal.BACKGROUND,
        margin={"l": 20, "r": 20, "t": 40 + th.title_size + 2 * th.font_size, "b": 40, "autoexpand": True},
        legend={"title": {"text": _esc(legend_title) if legend_title else ""},
                "font": {"size": th.font_size, "color": th.text}, "bgcolor": "rgba(255,255,255,0.9)",
                "bordercolor": th.grid, "borderwidth": 1},
        # the hover's text in the theme's full-contrast colour (plotly's default greyed it on white)
        hoverlabel={"font": {"size": th.font_size, "family": pal.FONT_FAMILY, "color": th.text},
                    "bgcolor": pal.BACKGROUND,
                    "bordercolor": th.text, "align": "right" if rtl else "left"},
        separators=_separators(view.lang),
    )
    if height:
        spec["height"] = height
    return spec


def _merged(base: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``more`` the way ``fig.update_layout`` does it (nested dicts merge)."""
    out = dict(base)
    for k, v in more.items():
        out[k] = _merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@functools.cache
def _separators(lang: str) -> str:
    """Plotly ``separators`` (decimal then thousands) for the locale of ``lang``."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    loc = i18n.babel_locale(lang)
    return get_decimal_symbol(loc) + get_group_symbol(loc)


def _shorten(text: str, width: int) -> str:
    """A long name cut with an ellipsis (the full name stays in the hover and the table)."""
    text = str(text)
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _wrap(text: str, width: int) -> str:
    """Escaped text broken onto lines of about ``width`` characters (``<br>``), for axis labels
    that must stay horizontal to be read on a projector."""
    import textwrap

    return "<br>".join(_esc(line) for line in textwrap.wrap(str(text), width=width, break_long_words=False)) or ""


def _esc(text: str) -> str:
    """Plotly renders a subset of HTML in text: escape what came from data."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _empty_figure(view: View, title: str, subtitle: str, message: str) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    _layout(fig, view, title, subtitle, height=420)
    fig.add_annotation(text=_esc(message), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": _theme(view).font_size + 2, "color": _theme(view).text})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _unit(store: StoreAPI, indicator: str | None) -> str:
    if not indicator:
        return ""
    row = catalogue(store)["indicator_rows"].get(indicator)
    return str(row.get("unit") or "") if row else ""


_DS_CACHE: dict[tuple[str, str], pd.DataFrame] = {}


def _dataset_table(store: StoreAPI) -> pd.DataFrame:
    """The dataset catalogue indexed by id, read once per store version (hover texts ask often)."""
    key = (str(store.data_dir), str(store.version))
    hit = _DS_CACHE.get(key)
    if hit is None:
        if len(_DS_CACHE) > 8:
            _DS_CACHE.clear()
        hit = _DS_CACHE[key] = store.datasets().set_index("dataset_id", drop=False)
    return hit


def source_line(store: StoreAPI, dataset_ids: Sequence[str], lang: str) -> str:
    """``Sources: <title> (<producer>); <title> (<producer>), citizen data`` for the datasets shown."""
    ids = sorted({d.strip() for ds in dataset_ids if ds and not is_missing(ds) for d in str(ds).split(",") if d.strip()})
    if not ids:
        return i18n.t("source.none", lang)
    ds = _dataset_table(store)
    parts = []
    for kind in ("official", "citizen"):
        for d in ids:
            if d not in ds.index or ds.at[d, "source_kind"] != kind:
                continue
            key = "source.citizen_item" if kind == "citizen" else "source.official_item"
            parts.append(i18n.t(key, lang, title=ds.at[d, "title"], producer=ds.at[d, "producer"]))
    return i18n.t("source.line", lang, sources="; ".join(parts))


def _producers(store: StoreAPI, dataset_ids: str | None) -> str:
    if dataset_ids is None or is_missing(dataset_ids):
        return ""
    ds = _dataset_table(store)
    out = [str(ds.at[d.strip(), "producer"]) for d in str(dataset_ids).split(",") if d.strip() in ds.index]
    return ", ".join(dict.fromkeys(out))


def _participation(store: StoreAPI, dataset_ids: str | None, lang: str) -> str:
    """The short participation record of the datasets behind a citizen figure (one per distinct record)."""
    if dataset_ids is None or is_missing(dataset_ids):
        return ""
    ds = _dataset_table(store)
    out = [quality.participation_text(ds.loc[d.strip()].to_dict(), lang)
           for d in str(dataset_ids).split(",") if d.strip() in ds.index]
    return " / ".join(dict.fromkeys(out))


def _producer_map(store: StoreAPI, dataset_ids: Any) -> dict[str, str]:
    """:func:`_producers` of each distinct dataset-id list in ``dataset_ids`` (a map shows
    thousands of cells but only a handful of distinct lists)."""
    return {d: _producers(store, d) for d in dict.fromkeys(_objects(dataset_ids)) if isinstance(d, str)}


def _official_datasets(store: StoreAPI, *, indicators: Sequence[str] | None, groups: Sequence[str] | None,
                       level: int, as_of: int, areas: Sequence[str] | None = None) -> pd.DataFrame:
    """Dataset of the newest official figure per indicator x area x group (the store's query)."""
    return store.newest_official_datasets(indicators=indicators, groups=groups, level=level, as_of=as_of, areas=areas)


# --- many values formatted at once --------------------------------------------------------------
# A national map formats tens of thousands of numbers. Babel takes ~40 us per number, but the text
# depends only on the sign, on whether the value is zero and on the magnitude rounded to the
# decimals shown: one Babel call per distinct rounded value gives exactly the same text.

TIE_EPS = 1e-6    # a scaled value this close to x.5 is a rounding tie: formatted on its own (exact)
KEY_MAX = 1e9     # below this a float64 holds the fraction of a scaled value to ~1e-7: keys are exact
_FMT_CACHE: dict[tuple[str, str, str, int], str] = {}
_FMT_CACHE_MAX = 100_000
_FORMATS: dict[str, tuple[int, Callable[[float, str, str], str]]] = {
    # kind: (decimals the text rounds to, after any scaling; formatter(value, lang, unit))
    "value": (1, lambda x, lang, unit: i18n.format_value(x, unit, lang)),
    "percent": (2, lambda x, lang, unit: i18n.format_percent(x, lang)),     # a share, shown as 0 decimals of %
    "count": (0, lambda x, lang, unit: i18n.format_number(x, lang, decimals=0)),
    "points": (1, lambda x, lang, unit: i18n.format_points(x, lang)),
    "count1": (1, lambda x, lang, unit: i18n.format_number(x, lang, decimals=1)),
}


def _floats(values: Any) -> np.ndarray:
    """``values`` as floats, NaN for every missing one (None, NaN, pandas NA)."""
    return pd.Series(values).astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _format_many(values: Any, kind: str, lang: str, unit: str = "") -> np.ndarray:
    """``[fmt(v) for v in values]`` for the formatter ``kind`` of :data:`_FORMATS`, with the
    same text, calling Babel once per distinct displayed value (cached across figures)."""
    decimals, fmt = _FORMATS[kind]
    scale = 10.0 ** decimals   # a percent unit shows v / 100 with 1 decimal of %: the same rounding of v
    v = _floats(values)
    out = np.empty(len(v), dtype=object)
    missing = np.isnan(v)
    if missing.any():
        out[missing] = fmt(float("nan"), lang, unit)
    a = np.abs(np.where(missing, 0.0, v)) * scale
    frac = a - np.floor(a)
    alone = ~missing & ((np.abs(frac - 0.5) < TIE_EPS) | (a > KEY_MAX))
    for i in np.flatnonzero(alone):
        out[i] = fmt(float(v[i]), lang, unit)
    keyed = np.flatnonzero(~missing & ~alone)
    if len(keyed):
        kv = v[keyed]
        key = np.rint(a[keyed]).astype(np.int64) * 4 + np.signbit(kv) * 2 + (kv == 0)
        uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        if len(_FMT_CACHE) > _FMT_CACHE_MAX:
            _FMT_CACHE.clear()
        texts = np.empty(len(uniq), dtype=object)
        for j, (k, i) in enumerate(zip(uniq.tolist(), first.tolist(), strict=True)):
            ck = (kind, lang, unit, k)
            text = _FMT_CACHE.get(ck)
            if text is None:
                text = _FMT_CACHE[ck] = fmt(float(kv[i]), lang, unit)
            texts[j] = text
        out[keyed] = texts[inverse]
    return out


def _format_years(values: Any, lang: str) -> np.ndarray:
    """``[i18n.format_year(y, lang) for y in values]``, once per distinct year."""
    v = _floats(values)
    out = np.empty(len(v), dtype=object)
    missing = np.isnan(v)
    if missing.any():
        out[missing] = i18n.format_year(None, lang)
    ok = np.flatnonzero(~missing)
    if len(ok):
        uniq, inverse = np.unique(np.trunc(v[ok]).astype(np.int64), return_inverse=True)
        out[ok] = np.array([i18n.format_year(int(y), lang) for y in uniq], dtype=object)[inverse]
    return out


def _objects(values: Any) -> list[Any]:
    """The values of a column as a list (pandas iterates Arrow-backed text one element at a time)."""
    if isinstance(values, pd.Series | pd.Index):
        return values.to_numpy(dtype=object).tolist()
    return list(values)


def _esc_many(values: Any) -> list[str]:
    """:func:`_esc` of each value (most names need no escaping: those are left as they are)."""
    text = [str(x) for x in _objects(values)]
    return [_esc(x) if ("&" in x or "<" in x or ">" in x) else x for x in text]


# --- hover text as templates ----------------------------------------------------------------------
# A map's hover texts repeat the same lines (status, producers, "no citizen data") for thousands of
# areas. Each trace gets one ``hovertemplate`` with the constant text and ``%{customdata[j]}`` for
# the values that differ by area; the browser assembles exactly the text a per-area string would
# hold, for a fraction of the payload. Areas are grouped by template (several traces per class,
# one legend group per class, so the legend still shows and hides a class as one).

_SLOT_RE = re.compile("\x00(\\w+)\x00")


def _slot(name: str) -> str:
    """Marks where a per-area value goes in a template while it is built."""
    return f"\x00{name}\x00"


@dataclass
class _HoverLines:
    """Hover text of many areas, line by line: line ``i`` of area ``r`` is
    ``choices[i][codes[i][r]]`` (no line where the code is -1), with slots filled from ``slots``."""

    n: int
    choices: list[list[str]] = field(default_factory=list)
    codes: list[np.ndarray] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)

    def add(self, choices: Sequence[str], codes: Any) -> None:
        self.choices.append(list(choices))
        self.codes.append(np.broadcast_to(np.asarray(codes, dtype=np.int64), (self.n,)))

    def groups(self) -> tuple[np.ndarray, list[str]]:
        """Template number of each area, and the templates (slot marks not yet replaced)."""
        if self.n == 0 or not self.codes:
            return np.zeros(self.n, dtype=np.int64), ([] if self.n == 0 else [""])
        radix = math.prod(len(ch) + 1 for ch in self.choices)
        if radix < 2**62:   # the line codes of an area as one number (mixed radix)
            combined = np.zeros(self.n, dtype=np.int64)
            for choices, codes in zip(self.choices, self.codes, strict=True):
                combined = combined * (len(choices) + 1) + (codes + 1)
            _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
        else:
            _, first, inverse = np.unique(np.stack(self.codes, axis=1), axis=0, return_index=True,
                                          return_inverse=True)
        templates = ["<br>".join(ch[int(c[r])] for ch, c in zip(self.choices, self.codes, strict=True) if c[r] >= 0)
                     for r in first.tolist()]
        return inverse.reshape(-1), templates

    def text(self, template: str, rows: Any) -> list[str]:
        """The finished texts of ``rows`` under ``template`` (what the browser will show)."""
        parts = _SLOT_RE.split(template)
        out = []
        for r in rows:
            out.append("".join(p if i % 2 == 0 else str(self.slots[p][r]) for i, p in enumerate(parts)))
        return out

    def trace_fields(self, template: str, rows: np.ndarray, lead: Sequence[Any] | None = None) -> dict[str, Any]:
        """``hovertemplate`` and ``customdata`` of a trace showing ``rows``: ``lead`` (the area
        codes, for clicks) in the first column when given, then the slot values."""
        if "%{" in _SLOT_RE.sub("", template):
            # constant text (a producer's name, say) that plotly would read as a placeholder:
            # ship the finished texts instead
            cols = [self.text(template, rows)]
            names, template = ["_text"], _slot("_text")
        else:
            names = list(dict.fromkeys(_SLOT_RE.findall(template)))
            cols = [np.asarray(self.slots[nm], dtype=object)[rows].tolist() for nm in names]
        first = 0 if lead is None else 1
        index = {nm: j + first for j, nm in enumerate(names)}
        hovertemplate = _SLOT_RE.sub(lambda m: "%{customdata[" + str(index[m.group(1)]) + "]}", template)
        columns = cols if lead is None else [list(lead), *cols]
        return {"hovertemplate": hovertemplate + "<extra></extra>",
                "customdata": _SharedList(list(r) for r in zip(*columns, strict=True))}


def _hover_cell(store: StoreAPI, row: dict[str, Any], view: View, *, unit: str, official_producer: str,
                head: str) -> str:
    """Hover text of one coverage cell: area/indicator, status word, official and citizen figures."""
    lang = view.lang
    k = int(getattr(store, "k_min", 5))
    cls = cell_class(row)
    lines = [f"<b>{_esc(head)}</b>", i18n.t("hover.status", lang, status=class_label(cls, lang))]
    if row["status"] == "not_applicable":
        return "<br>".join(lines)
    extra = _cell_extra_lines(store, row, unit, lang)
    year = row.get("official_latest_year")
    if is_missing(year):
        total_year = row.get("total_latest_year")
        if is_missing(total_year):
            lines.append(i18n.t("hover.official_none", lang))
        else:
            lines.append(i18n.t("hover.official_total_only", lang,
                                value=i18n.format_value(row.get("total_value"), unit, lang),
                                year=i18n.format_year(total_year, lang)))
    elif bool(row.get("official_suppressed")):
        lines.append(i18n.t("hover.official_suppressed", lang, year=i18n.format_year(year, lang)))
    else:
        lines.append(i18n.t("hover.official", lang, value=i18n.format_value(row.get("official_value"), unit, lang),
                            year=i18n.format_year(year, lang)))
    if official_producer and not (is_missing(year) and is_missing(row.get("total_latest_year"))):
        lines.append(i18n.t("hover.official_producer", lang, producer=_esc(official_producer)))
    if row.get("cgd_status", "none") == "none":
        lines.append(i18n.t("hover.citizen_none", lang))
    else:
        cyear = i18n.format_year(row.get("cgd_latest_year"), lang)
        n = i18n.format_number(row.get("cgd_n"), lang, decimals=0)
        reason, detail = _reason(row.get("cgd_reason")), _reason(row.get("cgd_reason_detail"))
        if bool(row.get("cgd_suppressed")):
            key = {"source": "hover.citizen_suppressed_source",
                   "complementary": "hover.citizen_suppressed_complementary"}.get(detail, "hover.citizen_suppressed")
            lines.append(i18n.t(key, lang, year=cyear, n=n, k=k))
        else:
            lines.append(i18n.t("hover.citizen", lang, value=i18n.format_value(row.get("cgd_value"), unit, lang),
                                year=cyear, n=n))
        if row.get("cgd_status") == "stale":
            lines.append(i18n.t("hover.citizen_stale", lang))
        elif reason == "not_usable":
            lines.append(i18n.t("hover.citizen_not_counted", lang,
                                reason=_esc(quality.verdict_reason_text(detail, lang))))
        producers = _producers(store, row.get("cgd_datasets"))
        if producers:
            lines.append(i18n.t("hover.citizen_producer", lang, producer=_esc(producers)))
        participation = _participation(store, row.get("cgd_datasets"), lang)
        if participation:
            lines.append(i18n.t("hover.participation", lang, text=_esc(participation)))
        disagrees = row.get("cgd_disagrees")
        if disagrees is not None and not is_missing(disagrees):
            lines.append(i18n.t("hover.cgd_disagree" if bool(disagrees) else "hover.cgd_agree", lang,
                                diff=i18n.format_points(row.get("cgd_diff"), lang),
                                margin=i18n.format_number(row.get("cgd_margin"), lang)))
    gap = row.get("outcome_gap")
    raw_gap = row.get("group_minus_total")
    if not is_missing(gap):
        lines.append(i18n.t("hover.outcome_gap", lang, gap=i18n.format_points(gap, lang),
                            year=i18n.format_year(row.get("outcome_gap_year"), lang)))
    elif raw_gap is not None and not is_missing(raw_gap):  # polarity unknown: a difference, never better or worse
        lines.append(i18n.t("hover.group_minus_total", lang, gap=i18n.format_points(raw_gap, lang),
                            year=i18n.format_year(row.get("outcome_gap_year"), lang)))
    return "<br>".join(lines + extra)


def _legend_marker_spec(name: str, color: str, *, symbol: str = "square", group: str = "", line: str | None = None,
                        geo: bool = False) -> dict[str, Any]:
    """An empty trace (as a plain dict) whose only job is a legend entry (word + coloured square, outlined)."""
    marker = {"symbol": symbol, "size": 16, "color": color,
              "line": {"width": 1.5, "color": line or pal.BORDER}}
    xy: dict[str, Any] = {"lon": [None], "lat": [None]} if geo else {"x": [None], "y": [None]}
    return {"type": "scattergeo" if geo else "scatter", **xy, "mode": "markers", "marker": marker, "name": name,
            "legendgroup": group or name, "showlegend": True, "hoverinfo": "skip"}


def _legend_marker(name: str, color: str, *, symbol: str = "square", group: str = "", line: str | None = None,
                   geo: bool = False) -> Any:
    """:func:`_legend_marker_spec` as a plotly trace object."""
    import plotly.graph_objects as go

    spec = _legend_marker_spec(name, color, symbol=symbol, group=group, line=line, geo=geo)
    return (go.Scattergeo if spec.pop("type") == "scattergeo" else go.Scatter)(**spec)


def _status_hover(store: StoreAPI, cells: pd.DataFrame, classes: np.ndarray, official_producer: Sequence[str],
                  citizen_producer: Sequence[str], view: View, unit: str) -> _HoverLines:
    """The hover text of :func:`_hover_cell` for every cell of a map, as templates and values."""
    lang = view.lang
    n = len(cells)
    k = int(getattr(store, "k_min", 5))
    h = _HoverLines(n)
    status = cells["status"].to_numpy(dtype=object)
    na = status == "not_applicable"
    h.slots = {
        "head": np.asarray(_esc_many(cells["area_name"]), dtype=object),
        "ov": _format_many(cells["official_value"], "value", lang, unit),
        "oy": _format_years(cells["official_latest_year"], lang),
        "tv": _format_many(cells["total_value"], "value", lang, unit),
        "ty": _format_years(cells["total_latest_year"], lang),
        "cv": _format_many(cells["cgd_value"], "value", lang, unit),
        "cy": _format_years(cells["cgd_latest_year"], lang),
        "n": _format_many(cells["cgd_n"], "count", lang),
        "gap": _format_many(cells["outcome_gap"], "points", lang),
        "gy": _format_years(cells["outcome_gap_year"], lang),
        "raw": _format_many(cells["group_minus_total"] if "group_minus_total" in cells else cells["outcome_gap"],
                            "points", lang),
    }

    def when(codes: Any, shown: np.ndarray) -> np.ndarray:
        return np.where(shown, codes, -1)

    h.add(["<b>" + _slot("head") + "</b>"], 0)
    order = list(pal.STATUS_ORDER)
    index = {c: i for i, c in enumerate(order)}
    h.add([i18n.t("hover.status", lang, status=class_label(c, lang)) for c in order], [index[c] for c in classes])
    no_year = cells["official_latest_year"].isna().to_numpy()
    no_total = cells["total_latest_year"].isna().to_numpy()
    sup = _truthy(cells["official_suppressed"])
    h.add([i18n.t("hover.official_none", lang),
           i18n.t("hover.official_total_only", lang, value=_slot("tv"), year=_slot("ty")),
           i18n.t("hover.official_suppressed", lang, year=_slot("oy")),
           i18n.t("hover.official", lang, value=_slot("ov"), year=_slot("oy"))],
          when(np.select([no_year & no_total, no_year, sup], [0, 1, 2], 3), ~na))
    names = sorted({p for p in official_producer if p})
    pick = {p: i for i, p in enumerate(names)}
    h.add([i18n.t("hover.official_producer", lang, producer=_esc(p)) for p in names],
          when([pick.get(p, -1) for p in official_producer], ~na & ~(no_year & no_total)))
    cgd = cells["cgd_status"].to_numpy(dtype=object)
    none = cgd == "none"
    reason = np.array([_reason(x) for x in cells["cgd_reason"]], dtype=object)
    detail = np.array([_reason(x) for x in cells["cgd_reason_detail"]], dtype=object)
    sup = _truthy(cells["cgd_suppressed"])
    h.add([i18n.t("hover.citizen_none", lang),
           i18n.t("hover.citizen_suppressed", lang, year=_slot("cy"), n=_slot("n"), k=k),
           i18n.t("hover.citizen_suppressed_source", lang, year=_slot("cy"), n=_slot("n")),
           i18n.t("hover.citizen_suppressed_complementary", lang, year=_slot("cy"), n=_slot("n")),
           i18n.t("hover.citizen", lang, value=_slot("cv"), year=_slot("cy"), n=_slot("n"))],
          when(np.select([none, sup & (detail == "source"), sup & (detail == "complementary"), sup],
                         [0, 2, 3, 1], 4), ~na))
    h.add([i18n.t("hover.citizen_stale", lang)], when(0, ~na & ~none & (cgd == "stale")))
    why = sorted({d for r, d in zip(reason, detail, strict=True) if r == "not_usable"})
    pick = {d: i for i, d in enumerate(why)}
    h.add([i18n.t("hover.citizen_not_counted", lang, reason=_esc(quality.verdict_reason_text(d, lang))) for d in why],
          when([pick.get(d, -1) if r == "not_usable" else -1 for r, d in zip(reason, detail, strict=True)],
               ~na & ~none & (cgd != "stale")))
    names = sorted({p for p in citizen_producer if p})
    pick = {p: i for i, p in enumerate(names)}
    h.add([i18n.t("hover.citizen_producer", lang, producer=_esc(p)) for p in names],
          when([pick.get(p, -1) for p in citizen_producer], ~na & ~none))
    texts = {d: _participation(store, d, lang) for d in dict.fromkeys(_objects(cells["cgd_datasets"]))
             if isinstance(d, str)}
    names = sorted({x for x in texts.values() if x})
    pick = {p: i for i, p in enumerate(names)}
    h.add([i18n.t("hover.participation", lang, text=_esc(p)) for p in names],
          when([pick.get(texts.get(d, ""), -1) if isinstance(d, str) else -1 for d in _objects(cells["cgd_datasets"])],
               ~na & ~none))
    h.slots["diff"] = _format_many(cells["cgd_diff"], "points", lang)
    h.slots["margin"] = _format_many(cells["cgd_margin"], "count1", lang)
    dis = cells["cgd_disagrees"]
    known = dis.notna().to_numpy()
    flag = np.array([bool(x) if k else False for x, k in zip(dis, known, strict=True)], dtype=bool)
    h.add([i18n.t("hover.cgd_agree", lang, diff=_slot("diff"), margin=_slot("margin")),
           i18n.t("hover.cgd_disagree", lang, diff=_slot("diff"), margin=_slot("margin"))],
          when(np.where(flag, 1, 0), ~na & known))
    signed = cells["outcome_gap"].notna().to_numpy()
    unsigned = ~signed & (cells["group_minus_total"].notna().to_numpy() if "group_minus_total" in cells else False)
    h.add([i18n.t("hover.outcome_gap", lang, gap=_slot("gap"), year=_slot("gy")),
           i18n.t("hover.group_minus_total", lang, gap=_slot("raw"), year=_slot("gy"))],
          when(np.where(signed, 0, 1), ~na & (signed | unsigned)))
    if {"parts_status", "raised_on"} <= set(cells.columns):  # intersections and the evidence register
        extra = ["<br>".join(_cell_extra_lines(store, r, unit, lang)) if not skip else ""
                 for r, skip in zip(cells.to_dict("records"), na, strict=True)]
        texts = sorted({x for x in extra if x})
        pick = {x: i for i, x in enumerate(texts)}
        h.add(texts, [pick.get(x, -1) for x in extra])
    return h


# --- gap map ------------------------------------------------------------------------------------

def gap_map(store: StoreAPI, view: View, *, geometry: MapGeometry | None = None, full_geometry: bool = False) -> ChartResult:
    """Choropleth of the areas at ``view.level`` by coverage class or gap / blind-spot score.

    ``view.metric == "status"`` colours each area by the class of one indicator x group cell
    (needs ``view.indicator``; without one the blind-spot score is shown); ``gap`` and
    ``blind_spot`` show the area's score over the indicators (of the goal, if chosen) for the
    group, in five labelled classes. Place-type citizen points are overlaid as triangles.

    Built for thousands of areas: values are formatted once per distinct value, hover texts are
    per-trace templates (see :class:`_HoverLines`), and the traces are plain dicts that plotly
    takes without validating or copying them (the geometry is shared, see :class:`_Shared`).
    """
    import plotly.graph_objects as go

    lang = view.lang
    metric = view.metric if (view.metric != "status" or view.indicator) else "blind_spot"
    geom = geometry or map_geometry(store, view.level, full=full_geometry)
    areas_word = level_label(view.level, lang)
    grp = group_label(store, view.group, lang)
    subtitle = describe(view.replace(area=None, indicator=view.indicator if metric == "status" else None), store, lang)
    th = _theme(view)

    if metric == "status":
        ind = str(view.indicator)
        cells = store.coverage(level=view.level, as_of=view.as_of, window=view.window,
                               indicators=[ind], groups=[view.group])
        title = i18n.t("fig.map.status.title", lang, group=grp, indicator=indicator_label(store, ind, lang))
        offd = _official_datasets(store, indicators=[ind], groups=list(dict.fromkeys([view.group, "all"])),
                                  level=view.level, as_of=view.as_of)
        own, total = ({a: d for a, g, d in zip(_objects(offd["area_code"]), _objects(offd["group_id"]),
                                                _objects(offd["dataset_id"]), strict=True) if g == want}
                      for want in (view.group, "all"))
        unit = _unit(store, ind)
        codes = _objects(cells["area_code"])
        classes = cell_classes(cells)
        no_year = cells["official_latest_year"].isna().to_numpy()
        no_total = cells["total_latest_year"].isna().to_numpy()
        data = pd.DataFrame({"area_code": codes, "area_name": _objects(cells["area_name"]), "class": classes.tolist()})
        label_of = {c: i18n.t(pal.status_style(c).label_key, lang) for c in set(classes.tolist())}
        data["class_label"] = [label_of[c] for c in classes]
        for col in ("status", "official_latest_year", "official_value", "official_suppressed", "total_latest_year",
                    "total_value", "cgd_status", "cgd_latest_year", "cgd_value", "cgd_suppressed", "cgd_n",
                    "cgd_datasets", "cgd_reason", "cgd_reason_detail", "cgd_diff", "cgd_disagrees", "outcome_gap",
                    "parts_status", "parent_gaps", "raised_on", "closed_since_raised"):
            if col in cells:
                data[col] = cells[col].to_numpy()
        # the dataset behind the figure shown: the group's own, or the total a group is hidden in
        official_dataset = [own.get(c, "") if not ny else (total.get(c, "") if not nt else "")
                            for c, ny, nt in zip(codes, no_year, no_total, strict=True)]
        data["official_dataset"] = official_dataset
        producers = _producer_map(store, official_dataset)
        official_producer = [producers.get(d, "") for d in official_dataset]
        data["official_producer"] = official_producer
        producers = _producer_map(store, cells["cgd_datasets"])
        citizen_producer = [producers.get(d, "") if isinstance(d, str) else "" for d in _objects(cells["cgd_datasets"])]
        data["citizen_producer"] = citizen_producer
        hover = _status_hover(store, cells, classes, official_producer, citizen_producer, view, unit)
        order = pal.STATUS_ORDER
        styles = {c: pal.STATUS_STYLES[c] for c in order}
        labels = {c: class_label(c, lang) for c in order}
        ds_ids = list(dict.fromkeys(official_dataset + _objects(data["cgd_datasets"].fillna(""))))
        legend_title = i18n.t("legend.status", lang)
        n_gap = int(data["class"].isin(voc.GAP_CLASSES).sum())
        n_filled = int((data["class"] == "filled").sum())
        n_app = int((data["class"] != "not_applicable").sum())
        if data.empty:
            alt = i18n.t("alt.empty", lang)
        elif n_app == 0:
            alt = i18n.t("alt.map.not_applicable", lang, group=grp, indicator=indicator_label(store, ind, lang))
        else:
            alt = i18n.t("alt.map.status", lang, n_areas=len(data), areas=areas_word, n_gap=n_gap, group=grp,
                         indicator=indicator_label(store, ind, lang), n_filled=n_filled)
            n_sup = int((data["class"] == "suppressed").sum())
            if n_sup:
                alt += " " + i18n.t("alt.map.suppressed", lang, n=n_sup)
    else:
        inds = _goal_indicators(store, view)
        scores = store.area_scores(level=view.level, as_of=view.as_of, window=view.window,
                                   indicators=inds, groups=[view.group])
        col = "gap_score" if metric == "gap" else "blind_spot_score"
        scope = i18n.t("describe.goal", lang, goal=view.goal) if view.goal else i18n.t("describe.all_indicators", lang)
        title = i18n.t(f"fig.map.{metric}.title", lang, group=grp, scope=scope)
        data = scores[["area_code", "area_name", "applicable", "n_current", "n_filled", "n_blind_spot", "gap_score",
                       "blind_spot_score"]].copy()
        order = ("score_0", "score_1", "score_2", "score_3", "score_4", "not_applicable")
        classes = _score_classes(data[col])
        data["class"] = classes.tolist()
        labels = {c: _score_label(c, lang) for c in order}
        data["class_label"] = [labels[c] for c in classes]
        metric_word = i18n.t(f"metric.{metric}.label", lang)
        n_bad = data["n_blind_spot"] if metric == "blind_spot" else data["applicable"] - data["n_current"]
        hover = _HoverLines(len(data))
        hover.slots = {"head": np.asarray(_esc_many(data["area_name"]), dtype=object),
                       "score": _format_many(data[col], "percent", lang),
                       "bad": _format_many(n_bad, "count", lang),
                       "app": _format_many(data["applicable"], "count", lang),
                       "filled": _format_many(data["n_filled"], "count", lang)}
        hover.add(["<b>" + _slot("head") + "</b>"], 0)
        hover.add([i18n.t("hover.score", lang, metric=metric_word, value=_slot("score"), n=_slot("bad"),
                          applicable=_slot("app"))], 0)
        hover.add([i18n.t("hover.filled_count", lang, n=_slot("filled"))], 0)
        styles = {f"score_{i}": pal.StatusStyle(f"score_{i}", c, "", "") for i, c in enumerate(pal.SCORE_RAMP)}
        styles["not_applicable"] = pal.STATUS_STYLES["not_applicable"]
        ds_ids = _datasets_in_scope(store, view, inds)
        legend_title = metric_word
        valid = data[col].dropna()
        if valid.empty:
            alt = i18n.t("alt.empty", lang)
        else:
            lo, hi = i18n.format_percent(valid.min(), lang), i18n.format_percent(valid.max(), lang)
            if lo == hi:  # "ranges from 100% to 100%" says nothing: every area is at the same share
                alt = i18n.t(f"alt.map.{metric}_same", lang, n_areas=len(valid), areas=areas_word, group=grp,
                             scope=scope, value=hi)
            else:
                top = data.loc[data[col].idxmax(), "area_name"]
                alt = i18n.t(f"alt.map.{metric}", lang, n_areas=len(valid), areas=areas_word, group=grp, scope=scope,
                             lo=lo, hi=hi, top=top, n_high=int((valid >= SCORE_BINS[-2]).sum()))

    traces: list[dict[str, Any]] = []
    codes_all = np.asarray(_objects(data["area_code"]), dtype=object)
    drawn = np.array([c in geom.names for c in codes_all], dtype=bool)
    classes = np.asarray(_objects(data["class"]), dtype=object)
    classes_present = [c for c in order if (classes == c).any()] if not data.empty else []
    template_of, templates = hover.groups()
    for c in classes_present:
        style = styles[c]
        rows_c = np.flatnonzero((classes == c) & drawn)
        for g in pd.unique(template_of[rows_c]):   # areas sharing a hover template, in data order
            rows = rows_c[template_of[rows_c] == g]
            codes = codes_all[rows].tolist()
            traces.append({
                "type": "choropleth", "geojson": geom.subset(codes), "locations": _SharedList(codes),
                "featureidkey": "id", "z": _SharedList([1] * len(codes)), "zmin": 0, "zmax": 1,
                "colorscale": [[0, style.color], [1, style.color]],
                "showscale": False, "name": labels[c], "legendgroup": c, "showlegend": False,
                "marker": {"line": {"color": _outline(style.color, th), "width": th.border_width}},
                **hover.trace_fields(templates[g], rows, lead=codes)})
        traces.append(_legend_marker_spec(labels[c], style.color, group=c, geo=True, line=th.border))
    # symbols on the areas: the class survives greyscale and colour-vision deficiency
    if metric == "status" and 0 < len(data) <= GLYPH_MAX_AREAS:
        at = np.array([c in geom.rep_lon for c in codes_all], dtype=bool)
        for c in classes_present:
            sub = codes_all[(classes == c) & at].tolist()
            if not sub or c == "not_applicable":
                continue
            fill = styles[c].color
            traces.append({
                "type": "scattergeo", "lon": [geom.rep_lon[a] for a in sub], "lat": [geom.rep_lat[a] for a in sub],
                "mode": "text", "text": [styles[c].symbol] * len(sub),
                "textfont": {"size": th.font_size, "color": pal.text_on(fill), "family": pal.FONT_FAMILY},
                "hoverinfo": "skip", "showlegend": False, "legendgroup": c, "name": labels[c]})
    # citizen place points (people-type points never reach this: the store refuses them)
    if view.indicator and metric == "status":
        pts = store.citizen_points(indicator=view.indicator, as_of=view.as_of)
        pts = pts[pts["period"] >= view.as_of - view.window]
        if len(pts) > MAX_POINTS:
            pts = pts.sample(MAX_POINTS, random_state=0).sort_index()
        traces += _point_traces(pts, view, _unit(store, view.indicator), ds_ids)
        if len(pts):
            log.debug("map shows %d citizen points", len(pts))
    geo = {"fitbounds": "locations", "visible": True, "resolution": 110, "projection": {"type": geom.projection},
           "showland": True, "landcolor": "#F2F2F2", "showcountries": True, "countrycolor": "#BDBDBD",
           "countrywidth": 0.5, "showcoastlines": False, "showocean": True, "oceancolor": "#FFFFFF",
           "showlakes": False, "showframe": False, "bgcolor": pal.BACKGROUND}
    layout = _merged(_layout_spec(view, title, subtitle, height=MAP_HEIGHT + 30 * len(classes_present),
                                  legend_title=legend_title),
                     {"geo": geo,
                      "legend": {"orientation": "h", "x": 1 if view.is_rtl else 0,
                                 "xanchor": "right" if view.is_rtl else "left", "y": 0, "yanchor": "top",
                                 "itemsizing": "constant", "title": {"side": "top"}},
                      "clickmode": "event+select", "dragmode": False, "uirevision": f"{view.level}"})
    # plain dicts, taken as they are: plotly's validation and deep copies cost more than the rest
    # of a national map (tests/test_figures.py checks that the spec validates)
    fig = go.Figure({"data": traces, "layout": layout}, _validate=False)
    if data.empty:
        fig.add_annotation(text=_esc(i18n.t("alt.empty", lang)), showarrow=False, x=0.5, y=0.5,
                           xref="paper", yref="paper")
    shown = data.drop(columns=["class"]).rename(columns={"class_label": "class"})
    return ChartResult(fig=fig, data=shown.reset_index(drop=True), title=title, subtitle=subtitle,
                       source=source_line(store, list(dict.fromkeys(ds_ids)), lang), alt_text=alt,
                       name="gap-map")


def _point_traces(pts: pd.DataFrame, view: View, unit: str, ds_ids: list[str]) -> list[dict[str, Any]]:
    """One trace of triangles per citizen dataset (its legend entry); adds the datasets to ``ds_ids``."""
    lang = view.lang
    out = []
    for ds_id, sub in pts.groupby("dataset_id", sort=True):
        name = i18n.t("legend.citizen_points", lang, title=_esc(str(sub["title"].iloc[0])))
        hover = _HoverLines(len(sub))
        hover.slots = {"value": _format_many(sub["value"], "value", lang, unit),
                       "year": _format_years(sub["period"], lang)}
        pairs = list(zip(_objects(sub["title"]), _objects(sub["producer"]), strict=True))
        kinds = list(dict.fromkeys(pairs))
        pick = {p: i for i, p in enumerate(kinds)}
        hover.add([i18n.t("hover.citizen_point", lang, title=_esc(t_), producer=_esc(p), value=_slot("value"),
                          year=_slot("year")) for t_, p in kinds], [pick[p] for p in pairs])
        template_of, templates = hover.groups()
        rows = np.arange(len(sub))
        if len(templates) == 1:   # one title and producer: a template, the values as customdata
            text = hover.trace_fields(templates[0], rows)
        else:
            text = {"hovertext": [hover.text(templates[g], [r])[0] for r, g in zip(rows, template_of, strict=True)],
                    "hovertemplate": "%{hovertext}<extra></extra>"}
        out.append({
            "type": "scattergeo", "lon": sub["lon"].to_numpy(dtype=np.float32),
            "lat": sub["lat"].to_numpy(dtype=np.float32), "mode": "markers", "name": name,
            "legendgroup": f"cgd-{ds_id}",
            # small and see-through: the points sit on the very areas they fill, whose colour and
            # symbol must still show (issue 15); the legend entry toggles them off entirely
            "marker": {"symbol": pal.CITIZEN_MARKER, "size": 6, "color": pal.CITIZEN_MARKER_COLOR,
                       "opacity": 0.7, "line": {"width": 0.5, "color": pal.TEXT}},
            **text, "showlegend": True})
        ds_ids.append(str(ds_id))
    return out


def _score_classes(scores: pd.Series) -> np.ndarray:
    """:func:`_score_class` of every score, at once."""
    v = _floats(scores)
    out = np.full(len(v), "not_applicable", dtype=object)
    ok = ~np.isnan(v)
    bins = np.clip(np.searchsorted(np.asarray(SCORE_BINS[1:-1]), v[ok], side="right"), 0, len(SCORE_BINS) - 2)
    out[ok] = np.array([f"score_{i}" for i in range(len(SCORE_BINS) - 1)], dtype=object)[bins]
    return out


def _score_class(score: Any) -> str:
    """The class of one score (the definition; :func:`_score_classes` applies it to a column)."""
    if is_missing(score):
        return "not_applicable"
    for i in range(len(SCORE_BINS) - 1):
        if score < SCORE_BINS[i + 1] or i == len(SCORE_BINS) - 2:
            return f"score_{i}"
    return "not_applicable"


def _score_label(cls: str, lang: str) -> str:
    if cls == "not_applicable":
        return class_label("not_applicable", lang)
    i = int(cls.split("_")[1])
    return i18n.t("legend.score_bin", lang, lo=i18n.format_percent(SCORE_BINS[i], lang),
                  hi=i18n.format_percent(SCORE_BINS[i + 1], lang))


def _goal_indicators(store: StoreAPI, view: View) -> list[str] | None:
    if view.goal is None:
        return None
    return [c for c, g in catalogue(store)["indicators"].items() if g == view.goal]


def _datasets_in_scope(store: StoreAPI, view: View, inds: Sequence[str] | None) -> list[str]:
    """The datasets a score map rests on: the official ones with a figure for the group or the
    total it is hidden in (a score counts both), and the citizen ones of its cells."""
    groups = list(dict.fromkeys([view.group, "all"]))
    offd = _official_datasets(store, indicators=inds, groups=groups, level=view.level, as_of=view.as_of)
    cells = store.coverage(level=view.level, as_of=view.as_of, window=view.window, indicators=inds, groups=[view.group])
    return list(offd.get("dataset_id", [])) + list(cells["cgd_datasets"].dropna())


# --- coverage matrix ----------------------------------------------------------------------------

MATRIX_GROUPINGS: tuple[str, ...] = ("all", "single", "intersections")  # which group columns a matrix shows


def coverage_matrix(store: StoreAPI, view: View, *, axis: str = "indicator", sort: str | None = None,
                    groups: str = "all") -> ChartResult:
    """Heatmap of coverage classes: indicator x group for one area (the country by default), or
    area x group for one indicator (``axis="area"``). Cells show the status symbol, ``▲`` when
    citizen data is present; rows sort by catalogue order (``code``) or most gaps first (``gap``).
    ``groups`` keeps every group column (``all``: intersections last, after a divider), the
    one-characteristic groups (``single``) or the intersectional groups (``intersections``).
    """
    if groups not in MATRIX_GROUPINGS:
        raise ValueError(f"groups={groups!r}: expected one of {MATRIX_GROUPINGS}")
    import plotly.graph_objects as go

    lang = view.lang
    sort = sort or view.sort
    th = _theme(view)
    cat = catalogue(store)
    grp_rows = cat["group_rows"]
    if axis == "indicator":
        area = view.area if view.area in cat["areas"] else home_area(store)
        level = cat["area_levels"].get(area, view.level) if area else view.level
        inds = _goal_indicators(store, view)
        cells = store.coverage(level=level, as_of=view.as_of, window=view.window, indicators=inds,
                               areas=[area] if area else None)
        row_key = "indicator"
        title = i18n.t("fig.matrix.indicator.title", lang, area=cat["areas"].get(area, area or ""))
        subtitle = _subtitle_no_group(view.replace(indicator=None, area=area, level=level), store, lang)
        name = "coverage-matrix"
    else:
        ind = view.indicator or _default_indicator(store, view)
        level = view.level
        cells = store.coverage(level=level, as_of=view.as_of, window=view.window,
                               indicators=[ind] if ind else None)
        row_key = "area_code"
        title = i18n.t("fig.matrix.area.title", lang, indicator=indicator_label(store, ind, lang),
                       areas=level_label(level, lang))
        subtitle = _subtitle_no_group(view.replace(indicator=ind, area=None), store, lang)
        name = "area-matrix"
    if cells.empty:
        fig = _empty_figure(view, title, subtitle, i18n.t("alt.empty", lang))
        return ChartResult(fig, cells.iloc[0:0], title, subtitle, i18n.t("source.none", lang),
                           i18n.t("alt.empty", lang), name)
    cells = cells.copy()
    cells["class"] = [cell_class(r) for r in cells.to_dict("records")]
    cells["cgd_present"] = cells["cgd_status"].eq("present")
    grouping = groups

    def crossed(g: str) -> bool:
        return int(grp_rows[g].get("n_dims", 1) or 1) > 1

    groups = [g for g in grp_rows if g in set(cells["group"])
              and (grouping == "all" or crossed(g) == (grouping == "intersections"))]
    groups = [g for g in groups if not crossed(g)] + [g for g in groups if crossed(g)]
    cells = cells[cells["group"].isin(groups)]
    if cells.empty:
        fig = _empty_figure(view, title, subtitle, i18n.t("alt.empty", lang))
        return ChartResult(fig, cells.iloc[0:0], title, subtitle, i18n.t("source.none", lang),
                           i18n.t("alt.empty", lang), name)
    rows = list(dict.fromkeys(cells[row_key]))
    if axis == "area":  # areas read best by name; indicators keep the catalogue's natural order
        names = dict(zip(cells["area_code"], cells["area_name"], strict=False))
        rows = sorted(rows, key=lambda r: names.get(r, r))
    if sort == "gap":
        bad = cells[cells["class"].isin(voc.GAP_CLASSES)].groupby(row_key).size()
        blind = cells[cells["headline"].eq("blind_spot")].groupby(row_key).size()
        base = {r: i for i, r in enumerate(rows)}
        rows = sorted(rows, key=lambda r: (-int(blind.get(r, 0)), -int(bad.get(r, 0)), base[r]))
    order = list(pal.STATUS_ORDER)
    k = len(order)
    idx = {c: i for i, c in enumerate(order)}
    colorscale = []
    for i, c in enumerate(order):
        colorscale += [[i / k, pal.STATUS_STYLES[c].color], [(i + 1) / k, pal.STATUS_STYLES[c].color]]
    by = cells.set_index([row_key, "group"])
    z, text, hover = [], [], []
    unit_cache: dict[str, str] = {}
    offd = _official_datasets(store, indicators=list(cells["indicator"].unique()), groups=None, level=level,
                              as_of=view.as_of, areas=list(cells["area_code"].unique()))
    off_map = {(r.indicator, r.area_code, r.group_id): r.dataset_id for r in offd.itertuples()} if not offd.empty else {}
    for r in rows:
        zr, tr, hr = [], [], []
        for g in groups:
            rec = by.loc[(r, g)].to_dict() if (r, g) in by.index else None
            if rec is None:
                zr.append(None)
                tr.append("")
                hr.append("")
                continue
            rec[row_key] = r
            rec["group"] = g
            c = rec["class"]
            zr.append(idx[c] + 0.5)
            sym = pal.STATUS_STYLES[c].symbol if c != "filled" else pal.STATUS_STYLES[_official_only(rec)].symbol
            # a disagreement with the official figure is told in the hover (and the data table)
            tr.append(sym + (pal.CITIZEN_SYMBOL if rec["cgd_present"] and c != "not_applicable" else ""))
            ind = rec["indicator"]
            unit = unit_cache.setdefault(ind, _unit(store, ind))
            head = (f"{indicator_title(store, ind, lang, full=True)} ({ind})" if axis == "indicator"
                    else str(rec["area_name"])) + i18n.t("describe.sep", lang) + group_label(store, g, lang)
            producer = _producers(store, off_map.get((ind, rec["area_code"], g), ""))
            hr.append(_hover_cell(store, rec, view, unit=unit, official_producer=producer, head=head))
        z.append(zr)
        text.append(tr)
        hover.append(hr)
    if axis == "indicator":
        ylabels = [_indicator_tick(store, r, lang) for r in rows]
    else:
        names = dict(zip(cells["area_code"], cells["area_name"], strict=False))
        ylabels = [_esc(_shorten(names.get(r, r), ROW_LABEL_CHARS)) for r in rows]
    # angled, unwrapped column labels: eleven groups stay readable in an ~800 px page column
    xlabels = [_esc(_shorten(group_label(store, g, lang), MATRIX_LABEL_CHARS)) for g in groups]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(len(groups))), y=list(range(len(rows))), text=text, texttemplate="%{text}",
        textfont={"size": th.font_size, "family": pal.FONT_FAMILY}, customdata=hover,
        hovertemplate="%{customdata}<extra></extra>", colorscale=colorscale, zmin=0, zmax=k, showscale=False,
        xgap=2, ygap=2, name=""))
    for c in order:
        if (cells["class"] == c).any():
            fig.add_trace(_legend_marker(class_label(c, lang), pal.STATUS_STYLES[c].color, group=c, line=th.border))
    if cells["cgd_present"].any():
        fig.add_trace(_legend_marker(f"{pal.CITIZEN_SYMBOL} {i18n.t('legend.citizen_present', lang)}",
                                     pal.BACKGROUND, symbol="triangle-up", line=pal.TEXT))
    row_px = max(MIN_ROW_PX, th.font_size + 12)
    longest = max((len(_shorten(group_label(store, g, lang), MATRIX_LABEL_CHARS)) for g in groups), default=8)
    label_px = longest * th.font_size * 0.55 * math.sin(math.radians(abs(MATRIX_LABEL_ANGLE)))
    header_px = 40 + th.title_size + 2 * th.font_size + int(label_px) + 20
    # the last angled labels run past the last column: keep room for them on the right
    right_px = 20 + int(longest * th.font_size * 0.55 * math.cos(math.radians(abs(MATRIX_LABEL_ANGLE))))
    height = header_px + 150 + row_px * len(rows)
    _layout(fig, view, title, subtitle, height=height, legend_title=i18n.t("legend.status", lang))
    fig.update_xaxes(tickmode="array", tickvals=list(range(len(groups))), ticktext=xlabels, side="top",
                     tickangle=MATRIX_LABEL_ANGLE, showgrid=False, zeroline=False, range=[-0.5, len(groups) - 0.5],
                     tickfont={"size": th.font_size, "color": th.text})
    fig.update_yaxes(tickmode="array", tickvals=list(range(len(rows))), ticktext=ylabels, autorange="reversed",
                     showgrid=False, zeroline=False, tickfont={"size": th.font_size, "color": th.text},
                     side="right" if view.is_rtl else "left")
    fig.update_layout(legend={"orientation": "h", "x": 0, "y": -0.02, "yanchor": "top"},
                      margin={"b": 140, "t": header_px, "r": right_px}, plot_bgcolor=pal.BACKGROUND)
    fig.update_xaxes(showline=False)
    n_single = sum(not crossed(g) for g in groups)
    if 0 < n_single < len(groups):  # intersections stand apart, after the one-characteristic groups
        fig.add_vline(x=n_single - 0.5, line={"color": th.text, "width": 2})
    # the data shown: one row per cell, with words for every class
    rank = {r: i for i, r in enumerate(rows)}
    shown = cells[cells[row_key].isin(rows)].copy()
    shown = shown.assign(_rank=shown[row_key].map(rank)).sort_values("_rank", kind="stable").drop(columns="_rank")
    shown["class_label"] = [i18n.t(pal.status_style(c).label_key, lang) for c in shown["class"]]
    shown["group_label"] = [group_label(store, g, lang) for g in shown["group"]]
    keep = ["indicator", "area_code", "area_name", "group", "group_label", "class_label", "status",
            "official_latest_year", "official_value", "official_suppressed", "cgd_status", "cgd_value", "cgd_n",
            "cgd_suppressed", "cgd_datasets", "cgd_reason", "cgd_diff", "cgd_disagrees", "outcome_gap"]
    keep += [c for c in ("parts_status", "parent_gaps", "raised_on", "closed_since_raised") if c in shown]
    shown = shown[keep].rename(columns={"class_label": "class"}).reset_index(drop=True)
    ds_ids = list(offd.get("dataset_id", [])) + list(cells["cgd_datasets"].dropna())
    applicable = cells[cells["class"] != "not_applicable"]
    n_cur = int(applicable["class"].isin(["current", "suppressed"]).sum())
    n_fill = int((applicable["class"] == "filled").sum())
    n_blind = int(applicable["headline"].eq("blind_spot").sum())
    if axis == "indicator":
        alt = i18n.t("alt.matrix.indicator", lang, area=cat["areas"].get(area, area or ""), n_cells=len(applicable),
                     n_current=n_cur, n_filled=n_fill, n_blind=n_blind, n_rows=len(rows))
    else:
        alt = i18n.t("alt.matrix.area", lang, indicator=indicator_label(store, ind, lang), n_rows=len(rows),
                     areas=level_label(level, lang), n_cells=len(applicable), n_current=n_cur, n_filled=n_fill,
                     n_blind=n_blind)
    if rows and sort == "gap":
        first = ylabels_plain(store, rows[:1], axis, lang, cells)
        alt += " " + i18n.t("alt.matrix.most_gaps", lang, row=first[0])
    return ChartResult(fig, shown, title, subtitle, source_line(store, ds_ids, lang), alt, name)


def ylabels_plain(store: StoreAPI, rows: Sequence[str], axis: str, lang: str, cells: pd.DataFrame) -> list[str]:
    """Row names without markup (for alt text)."""
    if axis == "indicator":
        return [indicator_label(store, r, lang) for r in rows]
    names = dict(zip(cells["area_code"], cells["area_name"], strict=False))
    return [names.get(r, r) for r in rows]


def _official_only(rec: dict[str, Any]) -> str:
    """The official status behind a ``filled`` cell (its symbol tells why official data is lacking)."""
    return str(rec["status"]) if rec["status"] in pal.STATUS_STYLES else "missing"


def _indicator_tick(store: StoreAPI, code: str, lang: str) -> str:
    """Axis label with a goal-coloured chip: ``■ 6.1.1 Safe drinking water`` (text stays dark)."""
    goal = catalogue(store)["indicators"].get(code)
    color = pal.goal_color(goal)
    return (f"<span style='color:{color}'>■</span> {_esc(code)} "
            f"{_esc(indicator_title(store, code, lang))}")


def _subtitle_no_group(view: View, store: StoreAPI, lang: str) -> str:
    """``describe`` without the group (the matrix shows every group)."""
    full = describe(view, store, lang)
    sep = i18n.t("describe.sep", lang)
    parts = full.split(sep)
    return sep.join(parts[1:]) if len(parts) > 1 else full


def _default_indicator(store: StoreAPI, view: View) -> str | None:
    inds = _goal_indicators(store, view) or list(catalogue(store)["indicators"])
    return inds[0] if inds else None


# --- group comparison -------------------------------------------------------------------------

def group_comparison(store: StoreAPI, view: View) -> ChartResult:
    """Who is left behind in one area on one indicator: the latest official figure of every group
    against the total, with citizen figures beside them (triangles, labelled citizen data).
    Suppressed figures are a hatched, labelled band (never a zero bar); missing ones say so.
    """
    import plotly.graph_objects as go

    lang = view.lang
    th = _theme(view)
    cat = catalogue(store)
    area = view.area if view.area in cat["areas"] else home_area(store)
    ind = view.indicator or _default_indicator(store, view)
    level = cat["area_levels"].get(area, view.level) if area else view.level
    area_nm = cat["areas"].get(area, area or "")
    title = i18n.t("fig.groups.title", lang, indicator=indicator_label(store, ind, lang), area=area_nm)
    subtitle = _subtitle_no_group(view.replace(indicator=ind, area=area), store, lang)
    if not area or not ind:
        fig = _empty_figure(view, title, subtitle, i18n.t("alt.empty", lang))
        return ChartResult(fig, pd.DataFrame(), title, subtitle, i18n.t("source.none", lang), i18n.t("alt.empty", lang),
                           "group-comparison")
    cells = store.coverage(level=level, as_of=view.as_of, window=view.window, indicators=[ind], areas=[area])
    off = store.facts(indicator=ind, area_code=area, kind="official")
    off = off[off["year"] <= view.as_of]
    latest = off.sort_values(["group_id", "year"]).drop_duplicates("group_id", keep="last").set_index("group_id")
    unit = _unit(store, ind)
    cells = cells[cells["status"] != "not_applicable"]
    total_row = cells[cells["group"] == "all"]
    total_val = total_row["official_value"].iloc[0] if len(total_row) else None
    total_year = total_row["official_latest_year"].iloc[0] if len(total_row) else None
    rows = cells[cells["group"] != "all"]
    rows = rows.copy()
    labels = [group_label(store, g, lang) for g in rows["group"]]
    rows["group_label"] = labels
    rows["lower"] = [latest["lower"].get(g) if g in latest.index else None for g in rows["group"]]
    rows["upper"] = [latest["upper"].get(g) if g in latest.index else None for g in rows["group"]]
    ds_of = latest["dataset_id"].to_dict() if "dataset_id" in latest else {}
    rows["official_dataset"] = [ds_of.get(g, "") if not is_missing(y) else (ds_of.get("all", "") if not is_missing(ty) else "")
                                for g, y, ty in zip(rows["group"], rows["official_latest_year"], rows["total_latest_year"],
                                                    strict=True)]
    vals = pd.to_numeric(rows["official_value"], errors="coerce")
    cvals = pd.to_numeric(rows["cgd_value"], errors="coerce")
    candidates = [*vals.dropna(), *cvals.dropna(), *pd.to_numeric(rows["upper"], errors="coerce").dropna()]
    if total_val is not None and not is_missing(total_val):
        candidates.append(float(total_val))
    xmax = max(candidates) if candidates else 100.0
    xmax = 100.0 if unit == "percent" and xmax <= 100 else xmax * 1.1
    fig = go.Figure()
    ylabels = [_esc(x) for x in labels]
    pos = dict(zip(rows["group"], range(len(rows)), strict=True))  # row 0 at the top (axis reversed)
    # official values (bars with bounds), suppressed bands, missing notes
    has = rows["official_latest_year"].notna() & ~rows["official_suppressed"].astype(bool)
    sup = rows["official_latest_year"].notna() & rows["official_suppressed"].astype(bool)
    nodata = rows["official_latest_year"].isna()
    if has.any():
        sub = rows[has]
        val = pd.to_numeric(sub["official_value"])
        up = pd.to_numeric(sub["upper"], errors="coerce")
        lo = pd.to_numeric(sub["lower"], errors="coerce")
        err_plus, err_minus = (up - val).tolist(), (val - lo).tolist()
        has_err = any(not is_missing(e) for e in err_plus)
        stale = sub["status"].eq("stale").tolist()
        ys = [pos[g] - OFFICIAL_OFFSET for g in sub["group"]]
        hov = [_group_hover(store, r, view, unit) for r in sub.to_dict("records")]
        fig.add_trace(go.Bar(
            x=val, y=ys, orientation="h", width=BAR_WIDTH, name=i18n.t("legend.official", lang),
            marker={"color": [pal.STATUS_STYLES["stale"].color if s else pal.STATUS_STYLES["current"].color
                              for s in stale],
                    "pattern": {"shape": [pal.STATUS_STYLES["stale"].pattern if s else "" for s in stale],
                                "fgcolor": pal.TEXT, "solidity": 0.2, "fillmode": "overlay"},
                    "line": {"color": th.border, "width": 1}},
            error_x={"type": "data", "array": [0 if is_missing(e) else e for e in err_plus],
                     "arrayminus": [0 if is_missing(e) else e for e in err_minus], "visible": has_err,
                     "color": th.text, "thickness": 1.5, "width": 6},
            customdata=hov, hovertemplate="%{customdata}<extra></extra>"))
        # value labels beyond the bar and its whisker, so neither hides them
        ends = [max(v, u) if not is_missing(u) else v for v, u in zip(val, up, strict=True)]
        fig.add_trace(go.Scatter(
            x=ends, y=ys, mode="text", showlegend=False, name=i18n.t("legend.official", lang),
            text=["  " + i18n.t("fig.groups.bar_text", lang, value=i18n.format_value(v, unit, lang),
                                year=i18n.format_year(y, lang))
                  for v, y in zip(val, sub["official_latest_year"], strict=True)],
            textposition="middle right", textfont={"size": th.font_size - 1, "color": th.text},
            customdata=hov, hovertemplate="%{customdata}<extra></extra>", cliponaxis=False))
    if sup.any():
        sub = rows[sup]
        fig.add_trace(go.Bar(
            x=[xmax] * len(sub), y=[pos[g] - OFFICIAL_OFFSET for g in sub["group"]], orientation="h", width=BAR_WIDTH,
            name=f"{pal.STATUS_STYLES['suppressed'].symbol} {i18n.t('status.suppressed.label', lang)}",
            marker={"color": pal.with_alpha("#BDBDBD", 0.35),
                    "pattern": {"shape": pal.STATUS_STYLES["suppressed"].pattern, "fgcolor": "#6E6E6E",
                                "size": 8, "solidity": 0.3, "fillmode": "overlay"},
                    "line": {"color": "#6E6E6E", "width": 1}},
            text=[i18n.t("fig.groups.suppressed_text", lang, year=i18n.format_year(y, lang))
                  for y in sub["official_latest_year"]],
            textposition="inside", insidetextanchor="middle", textfont={"size": th.font_size - 1, "color": pal.TEXT},
            customdata=[_group_hover(store, r, view, unit) for r in sub.to_dict("records")],
            hovertemplate="%{customdata}<extra></extra>"))
    if nodata.any():
        sub = rows[nodata]
        fig.add_trace(go.Scatter(
            x=[0] * len(sub), y=[pos[g] - OFFICIAL_OFFSET for g in sub["group"]], mode="text",
            text=["  " + class_label(cell_class({**r, "cgd_status": "none"}), lang) for r in sub.to_dict("records")],
            textposition="middle right", textfont={"size": th.font_size - 1, "color": th.muted},
            name=i18n.t("legend.no_official", lang), showlegend=False,
            customdata=[_group_hover(store, r, view, unit) for r in sub.to_dict("records")],
            hovertemplate="%{customdata}<extra></extra>"))
    # citizen figures: triangles just below the official bar, always labelled citizen data
    cg = rows[rows["cgd_status"] != "none"]
    if len(cg):
        cg_ok = cg[~cg["cgd_suppressed"].astype(bool)]
        if len(cg_ok):
            fig.add_trace(go.Scatter(
                x=cg_ok["cgd_value"], y=[pos[g] + CITIZEN_OFFSET for g in cg_ok["group"]], mode="markers+text",
                name=f"{pal.CITIZEN_SYMBOL} {i18n.t('legend.citizen', lang)}",
                marker={"symbol": pal.CITIZEN_MARKER, "size": 16, "color": pal.CITIZEN_MARKER_COLOR,
                        "line": {"width": 1.5, "color": pal.TEXT}},
                text=["  " + i18n.t("fig.groups.citizen_text", lang, value=i18n.format_value(v, unit, lang))
                      + (f" {pal.DISAGREE_SYMBOL}" if _flag(d) else "")
                      for v, d in zip(cg_ok["cgd_value"], cg_ok["cgd_disagrees"], strict=True)],
                textposition="middle right", textfont={"size": th.font_size - 1, "color": th.text},
                customdata=[_group_hover(store, r, view, unit) for r in cg_ok.to_dict("records")],
                hovertemplate="%{customdata}<extra></extra>", cliponaxis=False))
        cg_sup = cg[cg["cgd_suppressed"].astype(bool)]
        if len(cg_sup):
            fig.add_trace(go.Scatter(
                x=[0] * len(cg_sup), y=[pos[g] + CITIZEN_OFFSET for g in cg_sup["group"]], mode="markers+text",
                name=f"{pal.CITIZEN_SYMBOL} {i18n.t('legend.citizen_suppressed', lang)}",
                marker={"symbol": "triangle-up-open", "size": 16, "color": pal.TEXT},
                text=["  " + i18n.t("fig.groups.citizen_suppressed_text", lang)] * len(cg_sup),
                textposition="middle right", textfont={"size": th.font_size - 1, "color": th.text},
                customdata=[_group_hover(store, r, view, unit) for r in cg_sup.to_dict("records")],
                hovertemplate="%{customdata}<extra></extra>", cliponaxis=False))
    if total_val is not None and not is_missing(total_val):
        fig.add_vline(x=float(total_val), line={"color": pal.TOTAL_COLOR, "width": 3, "dash": "dash"})
        fig.add_annotation(x=float(total_val), y=1.0, yref="paper", yanchor="bottom", showarrow=False,
                           text=_esc(i18n.t("fig.groups.total", lang, value=i18n.format_value(total_val, unit, lang),
                                            year=i18n.format_year(total_year, lang))),
                           font={"size": th.font_size - 1, "color": th.text}, bgcolor=pal.BACKGROUND)
    row_px = max(MIN_ROW_PX * 2, th.font_size * 3 + 8)
    height = 40 + th.title_size + 2 * th.font_size + 200 + row_px * max(len(rows), 1)
    _layout(fig, view, title, subtitle, height=height)
    fig.update_layout(barmode="overlay", legend={"orientation": "h", "x": 0, "y": -0.1, "yanchor": "top"},
                      margin={"b": 130, "t": fig.layout.margin.t + th.font_size + 10})
    fig.update_xaxes(range=[0, xmax * 1.25], title={"text": _esc(_unit_title(unit, lang))}, gridcolor=th.grid,
                     zeroline=True, zerolinecolor=th.text, tickfont={"size": th.font_size})
    if unit == "percent":
        fig.update_xaxes(tickmode="array", tickvals=[0, 20, 40, 60, 80, 100])
    fig.update_yaxes(tickmode="array", tickvals=list(range(len(rows))), ticktext=ylabels, autorange=False,
                     range=[len(rows) - 0.5, -0.6], showgrid=False, zeroline=False, tickfont={"size": th.font_size},
                     side="right" if view.is_rtl else "left")
    shown = rows[["group", "group_label", "status", "official_latest_year", "official_value", "lower", "upper",
                  "official_suppressed", "cgd_status", "cgd_latest_year", "cgd_value", "cgd_n", "cgd_suppressed",
                  "cgd_datasets", "cgd_reason", "cgd_diff", "cgd_margin", "cgd_disagrees", "outcome_gap",
                  "outcome_gap_year"]].reset_index(drop=True)
    shown.insert(0, "area_name", area_nm)
    shown.insert(0, "area_code", area)
    shown.insert(0, "indicator", ind)
    shown["total_value"] = total_val
    shown["total_year"] = total_year
    ds_ids = list(latest["dataset_id"]) if "dataset_id" in latest else []
    ds_ids += list(rows["cgd_datasets"].dropna())
    gaps = rows.dropna(subset=["outcome_gap"])
    if rows.empty:
        alt = i18n.t("alt.empty", lang)
    else:
        alt = i18n.t("alt.groups.counts", lang, area=area_nm, indicator=indicator_label(store, ind, lang),
                     n_groups=len(rows), n_official=int(has.sum()), n_suppressed=int(sup.sum()),
                     n_citizen=int((rows["cgd_status"] != "none").sum()))
        if len(gaps):
            worst = gaps.loc[gaps["outcome_gap"].astype(float).idxmax()]
            if float(worst["outcome_gap"]) > 0:
                alt += " " + i18n.t("alt.groups.worst", lang, group=worst["group_label"],
                                    gap=i18n.format_number(float(worst["outcome_gap"]), lang))
    return ChartResult(fig, shown, title, subtitle, source_line(store, ds_ids, lang), alt, "group-comparison")


def _group_hover(store: StoreAPI, rec: dict[str, Any], view: View, unit: str) -> str:
    return _hover_cell(store, rec, view, unit=unit, official_producer=_producers(store, rec.get("official_dataset")),
                       head=rec.get("group_label", rec["group"]))


def _unit_title(unit: str, lang: str) -> str:
    if unit == "percent":
        return i18n.t("axis.percent", lang)
    return unit


# --- time series ------------------------------------------------------------------------------

def time_series(store: StoreAPI, view: View) -> ChartResult:
    """Official lines per group for one area and indicator (the total thicker and black, at most
    six series), bounds as bands, citizen figures as triangles, disagreements ringed."""
    import plotly.graph_objects as go

    lang = view.lang
    th = _theme(view)
    cat = catalogue(store)
    area = view.area if view.area in cat["areas"] else home_area(store)
    ind = view.indicator or _default_indicator(store, view)
    area_nm = cat["areas"].get(area, area or "")
    title = i18n.t("fig.series.title", lang, indicator=indicator_label(store, ind, lang), area=area_nm)
    subtitle = _subtitle_no_group(view.replace(indicator=ind, area=area), store, lang)
    if not area or not ind:
        fig = _empty_figure(view, title, subtitle, i18n.t("alt.empty", lang))
        return ChartResult(fig, pd.DataFrame(), title, subtitle, i18n.t("source.none", lang), i18n.t("alt.empty", lang),
                           "time-series")
    unit = _unit(store, ind)
    off = store.facts(indicator=ind, area_code=area, kind="official")
    cgd = store.facts(indicator=ind, area_code=area, kind="citizen")
    off = off[off["year"] <= view.as_of]
    cgd = cgd[cgd["year"] <= view.as_of]
    order = list(cat["group_rows"])
    present = [g for g in order if g in set(off["group_id"]) or g in set(cgd["group_id"])]
    chosen = [g for g in ("all", view.group) if g in present]
    chosen += [g for g in present if g not in chosen]
    chosen = chosen[:MAX_SERIES]
    off = off[off["group_id"].isin(chosen)]
    cgd = cgd[cgd["group_id"].isin(chosen)]
    fig = go.Figure()
    colors: dict[str, str] = {}
    dashes: dict[str, str] = {}
    i = 0
    for g in chosen:
        if g == "all":
            colors[g], dashes[g] = pal.TOTAL_COLOR, "solid"
        else:
            colors[g], dashes[g] = pal.SERIES_COLORS[i % len(pal.SERIES_COLORS)], pal.SERIES_DASHES[(i + 1) % 6]
            i += 1
    n_bands = 0
    for g in chosen:
        s = off[off["group_id"] == g].sort_values("year")
        if s.empty:
            continue
        label = group_label(store, g, lang)
        bounded = s.dropna(subset=["lower", "upper"])
        if len(bounded) >= 1:
            xs = list(bounded["year"]) + list(bounded["year"])[::-1]
            ys = list(bounded["upper"]) + list(bounded["lower"])[::-1]
            fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", mode="lines", line={"width": 0},
                                     fillcolor=pal.with_alpha(colors[g], 0.15), hoverinfo="skip",
                                     name=i18n.t("legend.band", lang, group=label), legendgroup=g, showlegend=False))
            n_bands += 1
        shown_vals = s[~s["suppressed"].astype(bool)]
        hov = [i18n.t("hover.series_point", lang, group=_esc(label), year=i18n.format_year(y, lang),
                      value=i18n.format_value(v, unit, lang),
                      bounds=(i18n.t("hover.bounds", lang, lower=i18n.format_value(lo, unit, lang),
                                     upper=i18n.format_value(hi, unit, lang))
                              if not is_missing(lo) and not is_missing(hi) else ""))
               for y, v, lo, hi in zip(shown_vals["year"], shown_vals["value"], shown_vals["lower"],
                                       shown_vals["upper"], strict=True)]
        fig.add_trace(go.Scatter(
            x=shown_vals["year"], y=shown_vals["value"], mode="lines+markers", name=_esc(label), legendgroup=g,
            line={"color": colors[g], "width": 4.5 if g == "all" else 2.5, "dash": dashes[g]},
            marker={"symbol": pal.OFFICIAL_MARKER, "size": 9 if g == "all" else 7, "color": colors[g]},
            hovertext=hov, hovertemplate="%{hovertext}<extra></extra>", connectgaps=False))
        sup = s[s["suppressed"].astype(bool)]
        if len(sup):
            fig.add_trace(go.Scatter(
                x=sup["year"], y=[None] * len(sup), mode="markers", showlegend=False, legendgroup=g, hoverinfo="skip"))
            for y in sup["year"]:
                fig.add_annotation(x=y, y=0, yref="paper", yanchor="bottom", showarrow=False,
                                   text=f"{pal.STATUS_STYLES['suppressed'].symbol} "
                                        f"{_esc(i18n.t('fig.series.suppressed', lang, group=label))}",
                                   font={"size": th.font_size - 3, "color": colors[g] if g != 'all' else th.text},
                                   bgcolor=pal.BACKGROUND)
    # citizen figures
    dis_rows = []
    for g in chosen:
        c = cgd[cgd["group_id"] == g].sort_values("year")
        if c.empty:
            continue
        label = group_label(store, g, lang)
        ok = c[~c["suppressed"].astype(bool)]
        if len(ok):
            producers = [_producers(store, d) for d in ok["datasets"]]
            fig.add_trace(go.Scatter(
                x=ok["year"], y=ok["value"], mode="markers",
                name=f"{pal.CITIZEN_SYMBOL} {_esc(i18n.t('legend.citizen_group', lang, group=label))}",
                legendgroup=f"cgd-{g}",
                marker={"symbol": pal.CITIZEN_MARKER, "size": 15, "color": colors[g],
                        "line": {"width": 1.5, "color": pal.BACKGROUND if g == "all" else pal.TEXT}},
                hovertext=[i18n.t("hover.citizen_series", lang, group=_esc(label), year=i18n.format_year(y, lang),
                                  value=i18n.format_value(v, unit, lang), n=i18n.format_number(n, lang, decimals=0),
                                  producer=_esc(p))
                           for y, v, n, p in zip(ok["year"], ok["value"], ok["n"], producers, strict=True)],
                hovertemplate="%{hovertext}<extra></extra>"))
        for r in ok.to_dict("records"):
            o = off[(off["group_id"] == g) & (off["year"] == r["year"]) & ~off["suppressed"].astype(bool)]
            if o.empty:
                continue
            ov = float(o["value"].iloc[0])
            lo, hi = o["lower"].iloc[0], o["upper"].iloc[0]
            outside = not is_missing(lo) and not is_missing(hi) and not (float(lo) <= r["value"] <= float(hi))
            far = abs(r["value"] - ov) > DISAGREE_POINTS
            if outside or far:
                dis_rows.append({"group": g, "year": int(r["year"]), "official_value": ov, "citizen_value": r["value"],
                                 "difference": r["value"] - ov})
    if dis_rows:
        d = pd.DataFrame(dis_rows)
        fig.add_trace(go.Scatter(
            x=d["year"], y=d["citizen_value"], mode="markers", name=_esc(i18n.t("legend.disagree", lang)),
            marker={"symbol": pal.DISAGREE_MARKER, "size": 30, "color": pal.STATUS_STYLES["missing"].color,
                    "line": {"width": 3}},
            hovertext=[i18n.t("hover.disagree", lang, group=_esc(group_label(store, g, lang)), year=y,
                              official=i18n.format_value(o, unit, lang), citizen=i18n.format_value(c, unit, lang),
                              diff=i18n.format_points(c - o, lang))
                       for g, y, o, c in zip(d["group"], d["year"], d["official_value"], d["citizen_value"], strict=True)],
            hovertemplate="%{hovertext}<extra></extra>"))
    data_years = pd.concat([off["year"], cgd["year"]])
    _layout(fig, view, title, subtitle, height=560)
    fig.update_layout(legend={"orientation": "v", "x": 1.01, "xanchor": "left", "y": 1, "yanchor": "top"},
                      hovermode="closest")
    span = int(data_years.max() - data_years.min()) if len(data_years) else 0
    fig.update_xaxes(title={"text": i18n.t("axis.year", lang)}, gridcolor=th.grid, tickformat="d",
                     dtick=1 if span <= YEAR_TICKS_MAX else (2 if span <= 2 * YEAR_TICKS_MAX else 5))
    fig.update_yaxes(title={"text": _esc(_unit_title(unit, lang))}, gridcolor=th.grid, rangemode="tozero",
                     range=[0, 100] if unit == "percent" else None)
    data = pd.concat([
        off.assign(source_kind="official", group_label=[group_label(store, g, lang) for g in off["group_id"]])[
            ["group_id", "group_label", "year", "value", "lower", "upper", "n", "suppressed", "dataset_id",
             "source_kind"]].rename(columns={"dataset_id": "datasets"}),
        cgd.assign(source_kind="citizen", lower=np.nan, upper=np.nan,
                   group_label=[group_label(store, g, lang) for g in cgd["group_id"]])[
            ["group_id", "group_label", "year", "value", "lower", "upper", "n", "suppressed", "datasets",
             "source_kind"]],
    ], ignore_index=True)
    data.insert(0, "area_code", area)
    data.insert(0, "indicator", ind)
    data["disagrees"] = False
    for r in dis_rows:
        m = (data["source_kind"] == "citizen") & (data["group_id"] == r["group"]) & (data["year"] == r["year"])
        data.loc[m, "disagrees"] = True
    if data.empty:
        fig.add_annotation(text=_esc(i18n.t("alt.empty", lang)), showarrow=False, x=0.5, y=0.5, xref="paper",
                           yref="paper")
        alt = i18n.t("alt.empty", lang)
    else:
        alt = i18n.t("alt.series", lang, area=area_nm, indicator=indicator_label(store, ind, lang),
                     n_series=int(off["group_id"].nunique()), first=i18n.format_year(data["year"].min(), lang),
                     last=i18n.format_year(data["year"].max(), lang), n_citizen=len(cgd), n_disagree=len(dis_rows))
    ds = list(off["dataset_id"].unique()) + list(cgd["datasets"].unique())
    return ChartResult(fig, data, title, subtitle, source_line(store, ds, lang), alt, "time-series")


# --- overview -----------------------------------------------------------------------------------

def overview_bars(store: StoreAPI, view: View) -> ChartResult:
    """Share of cells covered / filled by citizen data / blind spot, for all groups together and
    for each group (least official coverage first), at the view's level, as-of year and window."""
    import plotly.graph_objects as go

    lang = view.lang
    th = _theme(view)
    inds = _goal_indicators(store, view)
    cells = store.coverage(level=view.level, as_of=view.as_of, window=view.window, indicators=inds)
    scope = i18n.t("describe.goal", lang, goal=view.goal) if view.goal else i18n.t("describe.all_indicators", lang)
    title = i18n.t("fig.overview.title", lang, areas=level_label(view.level, lang))
    subtitle = i18n.t("describe.sep", lang).join([
        scope, level_label(view.level, lang),
        i18n.t("describe.as_of", lang, year=i18n.format_year(view.as_of, lang),
               window=i18n.format_number(view.window, lang, decimals=0))])
    app = cells[cells["headline"] != "not_applicable"]
    if app.empty:
        fig = _empty_figure(view, title, subtitle, i18n.t("alt.empty", lang))
        return ChartResult(fig, pd.DataFrame(), title, subtitle, i18n.t("source.none", lang), i18n.t("alt.empty", lang),
                           "overview")
    heads = ("covered", "filled", "blind_spot")
    counts = app.groupby("group")["headline"].value_counts().unstack(fill_value=0)
    for h in heads:
        if h not in counts:
            counts[h] = 0
    counts = counts[list(heads)]
    counts["cells"] = counts.sum(axis=1)
    counts = counts.sort_values(["covered", "cells"], key=lambda s: s, ascending=[True, False])
    counts["share_covered"] = counts["covered"] / counts["cells"]
    counts = counts.sort_values(["share_covered"], kind="stable")
    total = pd.DataFrame({h: [int((app["headline"] == h).sum())] for h in heads}, index=["__all__"])
    total["cells"] = len(app)
    total["share_covered"] = total["covered"] / total["cells"]
    table = pd.concat([total, counts])
    names = [i18n.t("fig.overview.all_groups", lang) if g == "__all__" else group_label(store, g, lang)
             for g in table.index]
    fig = go.Figure()
    for h in heads:
        style = pal.HEADLINE_STYLES[h]
        share = table[h] / table["cells"]
        fig.add_trace(go.Bar(
            x=share, y=[_esc(n) for n in names], orientation="h", name=class_label(h, lang),
            marker={"color": style.color, "pattern": {"shape": style.pattern, "fgcolor": pal.text_on(style.color),
                                                      "solidity": 0.12, "size": 10, "fillmode": "overlay"},
                    "line": {"color": th.border, "width": 1}},
            text=[i18n.format_percent(s, lang) if s >= 0.06 else "" for s in share], textposition="inside",
            insidetextanchor="middle", textfont={"color": pal.text_on(style.color), "size": th.font_size - 1},
            customdata=[i18n.t("hover.overview", lang, group=_esc(n), cls=class_label(h, lang),
                               share=i18n.format_percent(s, lang), n=int(c), cells=int(t_))
                        for n, s, c, t_ in zip(names, share, table[h], table["cells"], strict=True)],
            hovertemplate="%{customdata}<extra></extra>"))
    height = 240 + th.title_size * 2 + (th.font_size * 2 + 14) * len(table)
    _layout(fig, view, title, subtitle, height=height)
    fig.update_layout(barmode="stack", bargap=0.3,
                      legend={"orientation": "h", "x": 0, "y": -0.12, "yanchor": "top", "traceorder": "normal"},
                      margin={"b": 130})
    fig.update_xaxes(range=[0, 1.001], tickformat=".0%", gridcolor=th.grid, title={"text": i18n.t("axis.share_cells", lang)})
    # automargin: the group names take the room they need on either side (in Arabic, on the right,
    # they were cut off by the 20 px margin: issue 15)
    fig.update_yaxes(categoryorder="array", categoryarray=[_esc(n) for n in reversed(names)],
                     side="right" if view.is_rtl else "left", automargin=True)
    # the first bar (all groups) gets a separator line
    fig.add_hline(y=len(names) - 1.5, line={"color": th.text, "width": 1.5})
    data = table.reset_index(names="group")
    data["group"] = ["all_groups" if g == "__all__" else g for g in data["group"]]
    data.insert(1, "group_label", names)
    for h in heads:
        data[f"share_{h}"] = data[h] / data["cells"]
    least = data.iloc[1] if len(data) > 1 else data.iloc[0]
    alt = i18n.t("alt.overview", lang, n_cells=int(total["cells"].iloc[0]), areas=level_label(view.level, lang),
                 covered=i18n.format_percent(total["covered"].iloc[0] / total["cells"].iloc[0], lang),
                 filled=i18n.format_percent(total["filled"].iloc[0] / total["cells"].iloc[0], lang),
                 blind=i18n.format_percent(total["blind_spot"].iloc[0] / total["cells"].iloc[0], lang),
                 least=least["group_label"], least_share=i18n.format_percent(least["share_covered"], lang))
    ds = list(_official_datasets(store, indicators=inds, groups=None, level=view.level, as_of=view.as_of)
              .get("dataset_id", [])) + list(cells["cgd_datasets"].dropna())
    return ChartResult(fig, data, title, subtitle, source_line(store, ds, lang), alt, "overview")


# --- registry -----------------------------------------------------------------------------------

def _area_matrix(store: StoreAPI, view: View, **kw: Any) -> ChartResult:
    return coverage_matrix(store, view, axis="area", **kw)


def _indicator_matrix(store: StoreAPI, view: View, **kw: Any) -> ChartResult:
    return coverage_matrix(store, view, axis="indicator", **kw)


CHARTS: dict[str, ChartSpec] = {
    "overview": ChartSpec("overview", "chart.overview.title", overview_bars, "chart.overview.help"),
    "gap-map": ChartSpec("gap-map", "chart.gap_map.title", gap_map, "chart.gap_map.help"),
    "coverage-matrix": ChartSpec("coverage-matrix", "chart.coverage_matrix.title", _indicator_matrix,
                                 "chart.coverage_matrix.help"),
    "area-matrix": ChartSpec("area-matrix", "chart.area_matrix.title", _area_matrix, "chart.area_matrix.help"),
    "group-comparison": ChartSpec("group-comparison", "chart.group_comparison.title", group_comparison,
                                  "chart.group_comparison.help"),
    "time-series": ChartSpec("time-series", "chart.time_series.title", time_series, "chart.time_series.help"),
}


def build(name: str, store: StoreAPI, view: View, **options: Any) -> ChartResult:
    """Build a registered chart by name (``KeyError`` for an unknown one)."""
    return CHARTS[name].build(store, view, **options)


def topojson_available() -> bool:
    return (TOPOJSON_DIR / "world_110m.json").is_file()
