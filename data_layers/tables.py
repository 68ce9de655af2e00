"""Tables as a person reads them, shared by the pages and the exports: column headers in the
reader's language, statuses and flags as words, numbers formatted, "—" for missing (an empty cell
in CSV). No Streamlit: ``pages/components.py`` draws these tables, ``pages/downloads.py`` and the
exports write them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from . import palette as pal
from .i18n import t

MISSING = "—"
"""How a missing value is written in tables (an empty cell in CSV downloads)."""


COLUMN_KEYS: dict[str, str] = {
    "indicator": "ui.col.indicator", "area_code": "ui.col.area_code", "area_name": "ui.col.area_name",
    "group": "ui.col.group_code", "group_id": "ui.col.group_code", "group_label": "ui.col.group_label",
    "class": "ui.col.class", "status": "ui.col.status", "level": "ui.col.level",
    "official_latest_year": "ui.col.official_latest_year", "official_value": "ui.col.official_value",
    "total_latest_year": "ui.col.total_latest_year", "total_value": "ui.col.total_value",
    "total_year": "ui.col.total_latest_year",
    "cgd_status": "ui.col.cgd_status", "cgd_latest_year": "ui.col.cgd_latest_year", "cgd_value": "ui.col.cgd_value",
    "cgd_n": "ui.col.cgd_n", "cgd_datasets": "ui.col.cgd_datasets", "outcome_gap": "ui.col.outcome_gap",
    "cgd_reason": "ui.col.cgd_reason", "cgd_diff": "ui.col.cgd_diff", "cgd_disagrees": "ui.col.cgd_disagrees",
    "outcome_gap_year": "ui.col.outcome_gap_year", "official_dataset": "ui.col.official_dataset",
    "official_producer": "ui.col.official_producer", "citizen_producer": "ui.col.citizen_producer",
    "applicable": "ui.col.applicable", "n_current": "ui.col.n_current", "n_filled": "ui.col.n_filled",
    "n_blind_spot": "ui.col.n_blind_spot", "gap_score": "ui.col.gap_score",
    "blind_spot_score": "ui.col.blind_spot_score", "year": "ui.col.year", "value": "ui.col.value",
    "lower": "ui.col.lower", "upper": "ui.col.upper", "n": "ui.col.n", "datasets": "ui.col.datasets",
    "source_kind": "ui.col.source_kind", "disagrees": "ui.col.disagrees", "covered": "ui.col.covered",
    "filled": "ui.col.filled", "blind_spot": "ui.col.blind_spot", "cells": "ui.col.cells",
    "share_covered": "ui.col.share_covered", "share_filled": "ui.col.share_filled",
    "share_blind_spot": "ui.col.share_blind_spot", "dataset_id": "ui.col.dataset_id",
    "parts_status": "ui.col.parts_status", "parent_gaps": "ui.col.parent_gaps", "raised_on": "ui.col.raised_on",
    "closed_since_raised": "ui.col.closed_since_raised",
}
STATUS_WORD_COLUMNS = ("status",)
CGD_WORD_COLUMNS = ("cgd_status",)


def flag_pairs(columns: Sequence[str]) -> list[tuple[str, str]]:
    """(value column, suppressed flag) pairs: ``official_value``/``official_suppressed``,
    ``cgd_value``/``cgd_suppressed``, ``value``/``suppressed``."""
    cols = set(columns)
    pairs = []
    for c in columns:
        if not c.endswith("suppressed"):
            continue
        prefix = c[: -len("suppressed")]
        for cand in (f"{prefix}value", prefix.rstrip("_")):
            if cand and cand in cols and cand != c:
                pairs.append((cand, c))
                break
    return pairs


def _fmt(x: Any) -> str:
    """A number as people write it: 0 stays 0, integers without decimals, others unpadded."""
    if isinstance(x, bool):
        return str(x)
    f = float(x)
    if f.is_integer() and abs(f) < 1e15:
        return str(int(f))
    return f"{f:.4g}" if abs(f) < 1 else f"{round(f, 2):g}"


def display_table(df: pd.DataFrame, lng: str) -> pd.DataFrame:
    """The table as people read it: suppressed values spelled out, missing as "—", 0 as 0,
    status codes in words, readable column names. The CSV download is this table."""
    if df is None or df.empty:
        return pd.DataFrame()
    out = df.copy().reset_index(drop=True)
    pairs = flag_pairs([str(c) for c in out.columns])
    flags = {flag for _, flag in pairs}
    suppressed_word = t("ui.table.suppressed", lng)
    yes, no = t("ui.table.yes", lng), t("ui.table.no", lng)
    for col in out.columns:
        s = out[col]
        name = str(col)
        if name in flags:
            continue
        pair_flag = next((f for v_, f in pairs if v_ == name), None)
        flag = out[pair_flag].fillna(False).astype(bool) if pair_flag else None
        if pd.api.types.is_bool_dtype(s):
            out[col] = [MISSING if pd.isna(x) else (yes if x else no) for x in s]
            continue
        if name in STATUS_WORD_COLUMNS:
            out[col] = [MISSING if pd.isna(x) else _status_word(str(x), lng) for x in s]
            continue
        if name in CGD_WORD_COLUMNS:
            out[col] = [MISSING if pd.isna(x) else t(f"ui.cgd.{x}", lng) for x in s]
            continue
        is_num = pd.api.types.is_numeric_dtype(s)
        vals = []
        for i, x in enumerate(s):
            if flag is not None and bool(flag.iloc[i]):
                vals.append(suppressed_word)
            elif x is None or (not isinstance(x, str) and pd.isna(x)):
                vals.append(MISSING)
            elif is_num:
                vals.append(_fmt(x))
            else:
                text = str(x)
                vals.append(text if text.strip() else MISSING)
        out[col] = pd.Series(vals, dtype=object)
    out = out.drop(columns=[c for c in out.columns if str(c) in flags])
    out.columns = unique_names([t(COLUMN_KEYS[str(c)], lng) if str(c) in COLUMN_KEYS else str(c)
                                for c in out.columns])
    return out


def unique_names(names: Sequence[str]) -> list[str]:
    """Column headers made unique (a table cannot show two columns of one name)."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


def _status_word(code: str, lng: str) -> str:
    if code in pal.STATUS_STYLES or code in pal.HEADLINE_STYLES:
        return t(pal.status_style(code).label_key, lng)
    return code


def csv_bytes(shown: pd.DataFrame) -> bytes:
    """CSV of exactly the table shown ("—" written as an empty cell, the CSV way of "missing");
    formula-like text is neutralised when the exports module is there."""
    out = shown.replace({MISSING: None})
    try:
        from data_layers.exports import table_csv
    except ImportError:
        return out.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
    return table_csv(out)
