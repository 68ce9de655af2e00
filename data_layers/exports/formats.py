"""The export formats of a chart, as one registry (like datasette's output renderers).

Each :class:`ExportFormat` names a format, its file suffix and media type, and a writer that turns
a built chart (``figures.ChartResult``) into bytes. ``export chart --format`` and
:func:`data_layers.exports.cli.export_chart` look formats up here, so a new format is one
:func:`register` call (docs/architecture.md, "How to add an export format").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..interface import StoreAPI

Writer = Callable[[Any, "StoreAPI", Any, str], bytes]
"""``write(result, store, view, lang) -> bytes``: ``result`` is a ``figures.ChartResult``."""


@dataclass(frozen=True)
class ExportFormat:
    """One way a chart leaves the app."""

    name: str
    suffix: str
    media_type: str
    write: Writer
    help: str = ""


def _figure(fmt: str) -> Writer:
    def write(result: Any, store: StoreAPI, view: Any, lang: str) -> bytes:
        from .render import export_figure

        return export_figure(result, view, fmt, lang)

    return write


def _csv(result: Any, store: StoreAPI, view: Any, lang: str) -> bytes:
    from .tables import table_csv

    return table_csv(result.data)


def _xlsx(result: Any, store: StoreAPI, view: Any, lang: str) -> bytes:
    from .cli import table_context
    from .tables import table_xlsx

    return table_xlsx(result.data, **table_context(store, result, view, lang))


EXPORT_FORMATS: dict[str, ExportFormat] = {}


def register(fmt: ExportFormat) -> ExportFormat:
    """Add (or replace) a format; returns it, so that it can be used as a one-liner."""
    EXPORT_FORMATS[fmt.name] = fmt
    return fmt


for _f in (
    ExportFormat("png", ".png", "image/png", _figure("png"), "the decorated figure, raster"),
    ExportFormat("svg", ".svg", "image/svg+xml", _figure("svg"), "the decorated figure, vector"),
    ExportFormat("pdf", ".pdf", "application/pdf", _figure("pdf"), "the decorated figure, vector, printable"),
    ExportFormat("csv", ".csv", "text/csv", _csv, "the chart's data, as shown"),
    ExportFormat("xlsx", ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _xlsx,
                 "the chart's data with its sources, filters and the coverage rule"),
):
    register(_f)


def export(result: Any, store: StoreAPI, view: Any, fmt: str, lang: str) -> bytes:
    """Bytes of a built chart in a registered format (``KeyError`` names the known ones)."""
    try:
        spec = EXPORT_FORMATS[fmt]
    except KeyError:
        raise KeyError(f"export format {fmt!r}: known formats are {', '.join(EXPORT_FORMATS)}") from None
    return spec.write(result, store, view, lang)
