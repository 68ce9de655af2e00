"""Plotly figures of GapLens, built from the store for a :class:`~data_layers.views.View`: the registry.

No Streamlit here: the pages, the exports and the benchmarks all call these builders. Each
returns a :class:`ChartResult` carrying the figure and everything a chart needs to stand on its
own: exactly the data shown (for the table and the CSV download), a title, a subtitle with the
filters in words, a source line (citizen data marked as such) and a plain-language text
alternative generated from the data.

Maps use ``geo`` traces (true vectors in SVG/PDF export) over simplified display geometry that
is oriented clockwise (``geo`` traces draw counter-clockwise polygons inside out) and built once
per store version and level. The base map comes from ``static/topojson/`` (the page passes
``config={"topojsonURL": ...}``; see :func:`plotly_config`), never from a CDN.

The charts themselves live in ``data_layers/charts/`` (one module per job: ``geometry``, ``text``,
``maps``, ``matrix``, ``series``, ``overview``); this module keeps the one table of them,
:data:`CHARTS`, that pages, exports and briefs look charts up in, and re-exports the names callers
have always imported from here (``from data_layers.figures import gap_map``).
"""

from __future__ import annotations

from typing import Any

from .charts.base import (  # noqa: F401  (re-exported: the names callers import from here)
    BAR_WIDTH,
    CITIZEN_OFFSET,
    COORD_DECIMALS,
    COORD_DECIMALS_MIN,
    GLYPH_MAX_AREAS,
    MAP_BYTES_CEILING,
    MAP_BYTES_FLOOR,
    MAP_BYTES_PER_AREA,
    MAP_HEIGHT,
    MATRIX_LABEL_ANGLE,
    MATRIX_LABEL_CHARS,
    MAX_POINTS,
    MAX_SERIES,
    MIN_ROW_PX,
    OFFICIAL_OFFSET,
    ROW_LABEL_CHARS,
    SCORE_BINS,
    SIMPLIFY_TOLERANCES,
    TOPOJSON_DIR,
    TOPOJSON_URL,
    WORLD_SPAN_DEG,
    YEAR_TICKS_MAX,
    Answer,
    ChartResult,
    ChartSpec,
    Drawing,
    Question,
)
from .charts.geometry import (  # noqa: F401  (re-exported: the names callers import from here)
    _GEOM_CACHE,
    _GEOM_CACHE_MAX,
    _GEOM_LOCK,
    BYTES_PER_FEATURE,
    BYTES_PER_VERTEX,
    MapGeometry,
    _build_geometry,
    _coord_decimals,
    _drop_specks,
    _estimated_bytes,
    _feature_collection,
    _finished,
    _Shared,
    _SharedList,
    _simplified,
    clear_geometry_cache,
    kaleido_topojson_url,
    map_geometry,
    plotly_config,
)
from .charts.maps import (  # noqa: F401  (re-exported: the names callers import from here)
    _datasets_in_scope,
    _goal_indicators,
    _point_traces,
    _score_class,
    _score_classes,
    _score_label,
    gap_map,
)
from .charts.matrix import (  # noqa: F401  (re-exported: the names callers import from here)
    MATRIX_GROUPINGS,
    _default_indicator,
    _indicator_tick,
    _official_only,
    _subtitle_no_group,
    coverage_matrix,
    ylabels_plain,
)
from .charts.overview import (  # noqa: F401  (re-exported: the names callers import from here)
    HEADS,
    hidden_groups_drawing,
    hidden_groups_question,
    overview_bars,
    overview_drawing,
    overview_question,
)
from .charts.series import (  # noqa: F401  (re-exported: the names callers import from here)
    _group_hover,
    _unit_title,
    group_comparison,
    time_series,
)
from .charts.text import (  # noqa: F401  (re-exported: the names callers import from here)
    _DS_CACHE,
    _FMT_CACHE,
    _FMT_CACHE_MAX,
    _FORMATS,
    _SLOT_RE,
    KEY_MAX,
    TIE_EPS,
    _cell_extra_lines,
    _dataset_table,
    _empty_figure,
    _esc,
    _esc_many,
    _flag,
    _floats,
    _format_many,
    _format_years,
    _hover_cell,
    _HoverLines,
    _layout,
    _layout_spec,
    _legend_marker,
    _legend_marker_spec,
    _merged,
    _objects,
    _official_datasets,
    _outline,
    _participation,
    _producer_map,
    _producers,
    _reason,
    _separators,
    _shorten,
    _slot,
    _status_hover,
    _theme,
    _unit,
    _wrap,
    class_label,
    parent_gaps_text,
    parts_text,
    register_text,
    source_line,
)
from .interface import StoreAPI
from .views import View
from .vocabulary import _truthy, cell_class, cell_classes  # noqa: F401  (re-exported for older callers)

# --- registry -----------------------------------------------------------------------------------

def _area_matrix(store: StoreAPI, view: View, **kw: Any) -> ChartResult:
    return coverage_matrix(store, view, axis="area", **kw)


def _indicator_matrix(store: StoreAPI, view: View, **kw: Any) -> ChartResult:
    return coverage_matrix(store, view, axis="indicator", **kw)


CHARTS: dict[str, ChartSpec] = {
    "overview": ChartSpec.of("overview", "chart.overview.title", overview_question, overview_drawing,
                             "chart.overview.help"),
    "hidden-groups": ChartSpec.of("hidden-groups", "chart.hidden_groups.title", hidden_groups_question,
                                  hidden_groups_drawing, "chart.hidden_groups.help"),
    "gap-map": ChartSpec("gap-map", "chart.gap_map.title", gap_map, "chart.gap_map.help"),
    "coverage-matrix": ChartSpec("coverage-matrix", "chart.coverage_matrix.title", _indicator_matrix,
                                 "chart.coverage_matrix.help"),
    "area-matrix": ChartSpec("area-matrix", "chart.area_matrix.title", _area_matrix, "chart.area_matrix.help"),
    "group-comparison": ChartSpec("group-comparison", "chart.group_comparison.title", group_comparison,
                                  "chart.group_comparison.help"),
    "time-series": ChartSpec("time-series", "chart.time_series.title", time_series, "chart.time_series.help"),
}


def register(spec: ChartSpec) -> ChartSpec:
    """Add (or replace) a chart in :data:`CHARTS`: pages, exports and ``export chart`` find it by name."""
    CHARTS[spec.name] = spec
    return spec


def build(name: str, store: StoreAPI, view: View, **options: Any) -> ChartResult:
    """Build a registered chart by name (``KeyError`` for an unknown one)."""
    return CHARTS[name].build(store, view, **options)


def topojson_available() -> bool:
    return (TOPOJSON_DIR / "world_110m.json").is_file()
