"""Exports: figures (PNG, SVG, PDF), data downloads (CSV, XLSX) and the evidence brief (PDF).

What leaves the app must stand on its own: every figure carries its title, filters, as-of year
and window, legend, sources and a GapLens credit; every table its sources and the coverage rule;
every brief page what it shows, for whom, from which data and as of when.

The heavy parts (kaleido, Playwright) are imported lazily, on the first export.
"""

from __future__ import annotations

from typing import Any

from ..interface import StoreAPI
from .tables import neutralise, table_csv, table_xlsx

__all__ = ["decorate", "export_figure", "figure_bytes", "make_brief", "neutralise", "table_csv", "table_xlsx"]


def figure_bytes(fig: Any, fmt: str = "png", **kw: Any) -> bytes:
    """PNG, SVG or PDF bytes of a plotly figure (see :func:`data_layers.exports.render.figure_bytes`)."""
    from .render import figure_bytes as _fb

    return _fb(fig, fmt, **kw)


def decorate(result: Any, view: Any = None, lang: str = "en", **kw: Any) -> Any:
    """A copy of a chart's figure with title, filters, sources, as-of and credit as text."""
    from .render import decorate as _d

    return _d(result, view, lang, **kw)


def export_figure(result: Any, view: Any, fmt: str, lang: str = "en", **kw: Any) -> bytes:
    """Decorate a chart and render it to PNG, SVG or PDF bytes."""
    from .render import export_figure as _ef

    return _ef(result, view, fmt, lang, **kw)


def make_brief(store: StoreAPI, view: Any = None, **kw: Any) -> bytes:
    """PDF bytes of the evidence brief for an area (or an indicator); see :mod:`.brief`."""
    from .brief import make_brief as _mb

    return _mb(store, view, **kw)
