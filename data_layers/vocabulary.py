"""The words of DESIGN.md, written once: coverage statuses, citizen-data statuses, headline
classes, the drawn cell classes, which of them count as gaps and blind spots, and the score bins.

The SQL (``cells.sql``, ``area_scores.sql``) spells the same words; ``tests/test_figures.py``
and ``tests/test_architecture.py`` keep this module and the SQL in step. Every other module
imports the words from here instead of spelling them again, so that adding a status or
renaming one is one edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

# --- official coverage status of a cell (DESIGN.md, "The core rule"), in precedence order -------
CURRENT = "current"
STALE = "stale"
AGGREGATE_ONLY = "aggregate_only"
MISSING = "missing"
NOT_APPLICABLE = "not_applicable"
STATUSES: tuple[str, ...] = (CURRENT, STALE, AGGREGATE_ONLY, MISSING, NOT_APPLICABLE)

GAP_STATUSES: tuple[str, ...] = (STALE, AGGREGATE_ONLY, MISSING)
"""An official gap: no current official figure for the group (the gap score counts these)."""

# --- citizen-generated data laid over a cell -----------------------------------------------------
CGD_NONE = "none"
CGD_PRESENT = "present"
CGD_STALE = "stale"
CGD_STATUSES: tuple[str, ...] = (CGD_NONE, CGD_PRESENT, CGD_STALE)

# --- headline class (cells.sql's ``headline`` column) -------------------------------------------
COVERED = "covered"
FILLED = "filled"
BLIND_SPOT = "blind_spot"
HEADLINES: tuple[str, ...] = (COVERED, FILLED, BLIND_SPOT, NOT_APPLICABLE)

# --- the classes drawn on maps and matrices: the official statuses, plus ``filled`` (an official
# gap with citizen evidence that counts) and ``suppressed`` (measured, not published) -----------
SUPPRESSED = "suppressed"
CELL_CLASSES: tuple[str, ...] = (CURRENT, FILLED, STALE, AGGREGATE_ONLY, MISSING, SUPPRESSED, NOT_APPLICABLE)
GAP_CLASSES: tuple[str, ...] = (FILLED, *GAP_STATUSES)
"""Drawn classes where official data has no current figure for the group (filled ones included)."""

SCORE_BINS: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
"""Gap and blind-spot scores are drawn in five equal bins (the palette's SCORE_RAMP)."""


def _reason(value: Any) -> str:
    """A ``cgd_reason`` as text ("" when there is none, missing or NaN alike: the evidence counts)."""
    if value is None:
        return ""
    try:
        if bool(pd.isna(value)):
            return ""
    except (TypeError, ValueError):  # a list or array is not "missing"
        pass
    return str(value)


def cell_class(row: Mapping[str, Any]) -> str:
    """The one classification of a coverage cell used by maps, matrices and exports.

    ``not_applicable``; ``suppressed`` (measured but not published); ``current``; ``filled``
    (official gap, citizen evidence that counts: present, with no ``cgd_reason`` against it);
    else the official status (one of :data:`GAP_STATUSES`) -- those are the blind spots. It refines
    the facts' ``headline`` column (``covered`` splits into current and suppressed, ``blind_spot``
    into the gap statuses) and agrees with it (a test keeps the two in step).
    """
    status = row["status"]
    if status == NOT_APPLICABLE:
        return NOT_APPLICABLE
    if status == CURRENT:
        return SUPPRESSED if bool(row.get("official_suppressed")) else CURRENT
    if row.get("cgd_status") == CGD_PRESENT and not _reason(row.get("cgd_reason")):
        return FILLED
    return str(status)


def _truthy(values: pd.Series) -> np.ndarray:
    """``bool(x)`` of each value: how :func:`cell_class` reads a flag."""
    if values.dtype == bool:
        return values.to_numpy()
    return np.array([bool(x) for x in values], dtype=bool)


def cell_classes(cells: pd.DataFrame) -> np.ndarray:
    """:func:`cell_class` of every row of a coverage table, at once (vectorised for big maps)."""
    status = cells["status"].to_numpy(dtype=object)
    cgd = cells["cgd_status"].to_numpy(dtype=object)
    sup = _truthy(cells["official_suppressed"])
    out = np.array([str(x) for x in status], dtype=object)
    counts = np.array([not _reason(x) for x in cells["cgd_reason"]], dtype=bool) if "cgd_reason" in cells \
        else np.ones(len(cells), dtype=bool)
    out[(cgd == CGD_PRESENT) & counts] = FILLED
    out[status == CURRENT] = np.where(sup[status == CURRENT], SUPPRESSED, CURRENT)
    out[status == NOT_APPLICABLE] = NOT_APPLICABLE
    return out
