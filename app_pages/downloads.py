"""One-click exports beside every chart: PNG, SVG, PDF, CSV (+ metadata), XLSX and a data package.

Not a page: a helper of :func:`app_pages.components.chart`. Every file is named after what it shows
(:func:`data_layers.exports.package.file_stem`) and made only when its button is clicked. The
spreadsheet and the package hold the chart's data with numbers as numbers, the filters as the
chart shows them (its subtitle, not the sidebar: the overview covers every group whatever the
sidebar says), the sources with their licences and the coverage rule.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from app_pages import components as ui
from data_layers import views
from data_layers.i18n import t
from data_layers.views import View

log = logging.getLogger("gaplens.pages.downloads")

MIMES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf", "csv": "text/csv",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "zip": "application/zip"}


def stem(result: Any, v: View) -> str:
    from data_layers.exports.package import file_stem

    return file_stem(v, result.name or "chart", level_word=views.level_label(v.level, "en"))


def data_frame(result: Any, lng: str) -> pd.DataFrame:
    """The chart's data with readable headers and numbers kept as numbers."""
    from data_layers.exports.package import numeric_frame

    words = {c: partial(_status, lng=lng) for c in ui.STATUS_WORD_COLUMNS}
    words.update({c: (lambda x, lng=lng: t(f"ui.cgd.{x}", lng)) for c in ui.CGD_WORD_COLUMNS})
    headers = {k: t(key, lng) for k, key in ui.COLUMN_KEYS.items()}
    return numeric_frame(result.data, headers=headers, words=words, suppressed_word=t("ui.table.suppressed", lng),
                         yes=t("ui.table.yes", lng), no=t("ui.table.no", lng))


def _status(code: Any, lng: str) -> str:
    return ui._status_word(str(code), lng)


def context(result: Any, v: View) -> dict[str, Any]:
    """Sources, filters as shown and the rule, for the XLSX and the package."""
    from data_layers.exports.cli import table_context

    ctx = table_context(ui.store(), result, v, v.lang)
    shown = str(getattr(result, "subtitle", "") or "") or views.describe(v, ui.store(), v.lang)
    ctx["filters"] = {t("export.filters.view", v.lang): shown, **{k: val for k, val in ctx["filters"].items()
                                                                  if k != t("export.filters.view", v.lang)}}
    return ctx


def buttons(result: Any, shown: pd.DataFrame, *, key: str, v: View) -> None:
    """A row of download buttons under a chart, visible without opening anything."""
    lng = v.lang
    name = stem(result, v)
    try:
        from data_layers import exports
    except ImportError:  # the core runs without the export stack: the table's CSV only
        exports = None
    cols = st.columns(6, gap="small")
    if exports is not None:
        for col, fmt in zip(cols[:3], ("png", "svg", "pdf"), strict=True):
            col.download_button(t(f"ui.download.{fmt}", lng), data=_figure(exports, result, v, fmt),
                                file_name=f"{name}.{fmt}", mime=MIMES[fmt], key=f"{key}-{fmt}", on_click="ignore",
                                icon=":material/image:", width="stretch", help=t("ui.download.figure_help", lng))
    cols[3].download_button(t("ui.download.csv", lng), data=partial(ui.csv_bytes, shown), file_name=f"{name}.csv",
                            mime=MIMES["csv"], key=f"{key}-csv", on_click="ignore", icon=":material/download:",
                            width="stretch", help=t("ui.download.csv_help", lng))
    if exports is None:
        return
    cols[4].download_button(t("ui.download.xlsx", lng), data=_xlsx(result, v), file_name=f"{name}.xlsx",
                            mime=MIMES["xlsx"], key=f"{key}-xlsx", on_click="ignore", icon=":material/table_view:",
                            width="stretch", help=t("ui.download.xlsx_help", lng))
    cols[5].download_button(t("ui.download.zip", lng), data=_package(result, v, name), file_name=f"{name}.zip",
                            mime=MIMES["zip"], key=f"{key}-zip", on_click="ignore", icon=":material/folder_zip:",
                            width="stretch", help=t("ui.download.zip_help", lng))


def _figure(exports: Any, result: Any, v: View, fmt: str) -> Callable[[], bytes]:
    def make() -> bytes:
        try:
            return exports.export_figure(result, v, fmt, v.lang)
        except Exception:
            log.exception("export of %s as %s failed", result.name, fmt)
            raise
    return make


def _xlsx(result: Any, v: View) -> Callable[[], bytes]:
    def make() -> bytes:
        from data_layers.exports import table_xlsx

        ctx = context(result, v)
        return table_xlsx(data_frame(result, v.lang), separate_filters=True, **ctx)
    return make


def _package(result: Any, v: View, name: str) -> Callable[[], bytes]:
    def make() -> bytes:
        from data_layers.exports import package

        lng = v.lang
        ctx = context(result, v)
        frame = data_frame(result, lng)
        filters = "; ".join(f"{k}: {val}" for k, val in ctx["filters"].items())
        licence = t("export.licence_note", lng)
        meta = package.csv_metadata(title=result.title, filters=filters, sources=ctx["sources"],
                                    rule=ctx["rule_text"], frame=frame, file_name=f"{name}.csv", licence_note=licence)
        readme = package.readme_text(title=result.title, filters=filters, sources_line=result.source,
                                     rule=ctx["rule_text"], licence_note=licence)
        sidecar = json.dumps(meta, ensure_ascii=False, indent=2, default=str).encode("utf-8")
        return package.data_package(name=name, title=result.title, filters=filters, frame=frame,
                                    sources=ctx["sources"], rule=ctx["rule_text"], licence_note=licence,
                                    readme=readme, extra={f"data/{name}.csv-metadata.json": sidecar})
    return make
