"""Data downloads: CSV and XLSX of exactly what a chart shows, safe to open in a spreadsheet.

Why this module exists: a table that leaves the app is opened in Excel or LibreOffice, where a
text cell beginning with ``=``, ``+``, ``-`` or ``@`` is read as a formula (CSV injection,
OWASP). Every text cell that could be read so is prefixed with a single quote, in both formats;
true numbers (negative ones included) stay numbers. Suppressed values are a third state
(DESIGN.md): the word "suppressed", distinct from an empty cell (missing) and from 0 (a value).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..tables import flag_pairs

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters a spreadsheet may evaluate (the OWASP list: the four operators, tab and CR)."""

QUOTE = "'"
"""The neutralising prefix: a spreadsheet then shows the cell as plain text."""

SUPPRESSED = "suppressed"
"""Written where a value exists but must not be shown (small n, confidentiality)."""

MAX_COL_WIDTH = 60  # characters; wider columns make the sheet unreadable on a laptop screen
MIN_COL_WIDTH = 8


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would evaluate gets a leading quote; anything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return QUOTE + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells and column names are neutralised; numeric and boolean columns
    are left as they are (``-3.5`` stays a number). The command line's CSV goes through here too."""
    out = df.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        out[col] = series.map(neutralise).astype(object)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def prepare(df: pd.DataFrame, *, suppressed_word: str = SUPPRESSED) -> pd.DataFrame:
    """The table as it is written: suppressed values spelled out, text cells neutralised.

    Numbers stay numbers (``-3.5`` is a number, not a formula); missing stays empty; zero stays 0.
    """
    out = df.copy()
    for value_col, flag_col in flag_pairs([str(c) for c in out.columns]):
        flags = out[flag_col].fillna(False).astype(bool)
        if flags.any():
            col = out[value_col].astype(object)
            col[flags & col.isna()] = suppressed_word
            out[value_col] = col
    return neutralise_frame(out)


def table_csv(df: pd.DataFrame) -> bytes:
    """CSV bytes (UTF-8 with a byte-order mark so that Excel reads accents and Arabic correctly)."""
    return prepare(df).to_csv(index=False, lineterminator="\n").encode("utf-8-sig")


def _cell(value: Any) -> Any:
    """A Python value XlsxWriter writes as the right cell type (None for missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isinf(value):
        return str(value)
    return neutralise(value)


def _filters_rows(filters: Mapping[str, Any] | str | None) -> list[tuple[str, str]]:
    if filters is None:
        return []
    if isinstance(filters, str):
        return [("", filters)]
    return [(str(k), "" if v is None else str(v)) for k, v in filters.items()]


def table_xlsx(df: pd.DataFrame, *, sources: pd.DataFrame | None = None,
               filters: Mapping[str, Any] | str | None = None, rule_text: str = "",
               lang: str = "en", title: str = "", separate_filters: bool = False) -> bytes:
    """An XLSX workbook: the data sheet, and a sheet with the sources, the filters and the coverage rule.

    With ``separate_filters`` the filters (as the chart shows them) get a sheet of their own,
    between the data and the sources: what the dashboard's own downloads do.

    Written with XlsxWriter with formula and URL conversion switched off, so that no string is
    ever stored as a formula; text cells are neutralised as in the CSV as well.
    """
    import xlsxwriter

    from ..i18n import t

    data = prepare(df, suppressed_word=t("export.suppressed", lang))
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                   "strings_to_urls": False, "strings_to_numbers": False,
                                   "nan_inf_to_errors": False})
    bold = wb.add_format({"bold": True})
    head = wb.add_format({"bold": True, "bottom": 1, "text_wrap": True, "valign": "top"})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    big = wb.add_format({"bold": True, "font_size": 13})

    ws = wb.add_worksheet(_sheet_name(t("export.sheet_data", lang)))
    start = 0
    if title:
        ws.write_string(0, 0, str(neutralise(title)), big)
        start = 2
    _write_frame(ws, data, start, head)
    if len(data.columns):
        ws.freeze_panes(start + 1, 0)
        ws.autofilter(start, 0, start + max(len(data), 1), len(data.columns) - 1)

    if separate_filters:
        flt = wb.add_worksheet(_sheet_name(t("export.filters_heading", lang)))
        flt.write_string(0, 0, t("export.filters_heading", lang), big)
        for i, (key, value) in enumerate(_filters_rows(filters), start=1):
            flt.write_string(i, 0, str(neutralise(key)), bold)
            flt.write_string(i, 1, str(neutralise(value)), wrap)
        flt.set_column(0, 0, 28)
        flt.set_column(1, 1, 90)
        filters = None
    src = wb.add_worksheet(_sheet_name(t("export.sheet_sources", lang)))
    row = 0
    src.write_string(row, 0, t("export.sources_heading", lang), big)
    row += 1
    if sources is not None and len(sources.columns):
        row = _write_frame(src, prepare(sources), row, head) + 1
    else:
        src.write_string(row, 0, t("export.no_sources", lang))
        row += 2
    if filters is not None:
        src.write_string(row, 0, t("export.filters_heading", lang), big)
        row += 1
        for key, value in _filters_rows(filters):
            src.write_string(row, 0, str(neutralise(key)), bold)
            src.write_string(row, 1, str(neutralise(value)), wrap)
            row += 1
        row += 1
    src.write_string(row, 0, t("export.rule_heading", lang), big)
    row += 1
    for para in (rule_text or "").split("\n"):
        if para.strip():
            src.write_string(row, 0, str(neutralise(para.strip())), wrap)
            row += 1
    src.set_column(0, 0, 28)
    src.set_column(1, 12, 30)
    wb.close()
    return buf.getvalue()


def _sheet_name(name: str) -> str:
    """Excel refuses sheet names longer than 31 characters or with ``[]:*?/\\``."""
    for ch in "[]:*?/\\":
        name = name.replace(ch, " ")
    return name[:31] or "Sheet"


def _write_frame(ws: Any, df: pd.DataFrame, start: int, head_fmt: Any) -> int:
    """Write a header row and the rows of ``df`` from row ``start``; returns the next free row."""
    for j, col in enumerate(df.columns):
        ws.write_string(start, j, str(col), head_fmt)
        texts = [len(str(col))] + [len(str(v)) for v in df[col].head(200) if v is not None]
        ws.set_column(j, j, max(MIN_COL_WIDTH, min(MAX_COL_WIDTH, max(texts) + 2)))
    for i, rec in enumerate(df.itertuples(index=False), start=start + 1):
        for j, value in enumerate(rec):
            v = _cell(value)
            if v is None:
                continue
            if isinstance(v, bool):
                ws.write_boolean(i, j, v)
            elif isinstance(v, (int, float)):
                ws.write_number(i, j, v)
            else:
                ws.write_string(i, j, str(v))
    return start + 1 + len(df)
