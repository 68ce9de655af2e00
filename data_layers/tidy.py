"""Finish a frame of observations into the tidy schema: defaults, derived columns, row keys.

Importers and the sample generator produce rows with the columns they know; :func:`finish` fills
the rest with their neutral values (``_T`` dimensions, empty texts), derives ``disagg_dim`` /
``disagg_code`` (which group an observation can speak for) and the stable ``obs_key``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import schema
from .schema import DIMENSION_NAMES, MULTI, TOTAL, dim_column

ROWS_PER_DATASET = 10**9  # obs_key = seq * 10^9 + row: unique while a dataset has < 1e9 rows

_TEXT_DEFAULTS = {"series": "", "period_label": "", "other_dims": "", "unit": "", "obs_status": "A",
                  "source": "", "footnote": ""}


def derive_disaggregation(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``disagg_dim``/``disagg_code`` per row: ``_T`` total, the one broken-down dimension, or ``_MULTI``."""
    cols = [dim_column(d) for d in DIMENSION_NAMES]
    values = df[cols].to_numpy(dtype=object)
    not_total = values != TOTAL
    count = not_total.sum(axis=1)
    other = df["other_dims"].to_numpy(dtype=object) != ""
    first = not_total.argmax(axis=1)
    names = np.array(DIMENSION_NAMES, dtype=object)
    dim = np.where(count == 0, TOTAL, np.where(count == 1, names[first], MULTI))
    code = np.where(count == 0, TOTAL, np.where(count == 1, values[np.arange(len(df)), first], MULTI))
    dim = np.where(other, MULTI, dim)
    code = np.where(other, MULTI, code)
    return dim, code


def finish(df: pd.DataFrame, *, dataset_id: str, source_kind: str, seq: int) -> pd.DataFrame:
    """Return ``df`` completed to ``schema.OBSERVATIONS`` (a new frame, columns in schema order)."""
    out = df.copy().reset_index(drop=True)
    n = len(out)
    out["dataset_id"] = dataset_id
    out["source_kind"] = source_kind
    out["obs_key"] = np.int64(seq) * ROWS_PER_DATASET + np.arange(n, dtype=np.int64)
    for d in DIMENSION_NAMES:
        c = dim_column(d)
        if c not in out:
            out[c] = TOTAL
        out[c] = out[c].fillna(TOTAL).astype(str).replace("", TOTAL)
    for c, default in _TEXT_DEFAULTS.items():
        if c not in out:
            out[c] = default
        out[c] = out[c].fillna(default).astype(str)
    if (out["period_label"] == "").any():
        out.loc[out["period_label"] == "", "period_label"] = out["period"].astype(str)
    for c in ("value", "lower", "upper", "lat", "lon"):
        if c not in out:
            out[c] = np.nan
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    if "n" not in out:
        out["n"] = pd.NA
    out["n"] = pd.to_numeric(out["n"], errors="coerce").astype("Int64")
    if "suppressed" not in out:
        out["suppressed"] = False
    out["suppressed"] = out["suppressed"].fillna(False).astype(bool)
    out.loc[out["suppressed"], "value"] = np.nan
    if "is_point" not in out:
        out["is_point"] = out["lat"].notna() & out["lon"].notna()
    out["is_point"] = out["is_point"].fillna(False).astype(bool)
    out["period"] = out["period"].astype("int32")
    out["disagg_dim"], out["disagg_code"] = derive_disaggregation(out)
    return out[schema.names(schema.OBSERVATIONS)]
