"""Constants and result types shared by every chart (sizes, limits, ``ChartResult``, ``ChartSpec``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .. import vocabulary as voc
from ..interface import StoreAPI
from ..settings import PROJECT_DIR

log = logging.getLogger("data_layers.figures")

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
class Answer:
    """What a chart's *question* returns: a frame of codes (no translated words, no Plotly), the
    datasets it came from (for the source line) and any scalars the drawing needs."""

    frame: pd.DataFrame
    datasets: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


Question = Callable[..., Answer]
"""``question(store, view, **options) -> Answer``: what the chart shows, asked of the store."""
Drawing = Callable[[Answer, StoreAPI, Any], ChartResult]
"""``drawing(answer, store, view) -> ChartResult``: the figure, its words and its text alternative
(the store is passed for catalogue labels only: translation happens here, at the edge)."""


@dataclass(frozen=True)
class ChartSpec:
    """A named chart of the dashboard, for pages, exports, briefs and ``export chart --list``.

    A chart is either a *question* and a *drawing* (:meth:`of`; the pattern new charts follow), or
    a single ``build`` function that does both (the older charts, to be split the same way).
    """

    name: str
    title_key: str
    build: Callable[..., ChartResult]
    """``build(store, view, **options)``; options are the builder's keyword arguments."""
    help_key: str = ""
    question: Question | None = None
    drawing: Drawing | None = None

    @classmethod
    def of(cls, name: str, title_key: str, question: Question, drawing: Drawing, help_key: str = "") -> ChartSpec:
        """A chart made of a question and a drawing; ``build`` asks the one and draws the other."""
        def build(store: StoreAPI, view: Any, **options: Any) -> ChartResult:
            return drawing(question(store, view, **options), store, view)

        return cls(name, title_key, build, help_key, question, drawing)
