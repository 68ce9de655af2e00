"""Citizen-data quality: the gateway checks and 0-3 scores of DESIGN.md, and the verdict.

Usable when every gateway check passes, the mean score is above 1.5 and no score is 0 (the UK
ONS protocol for non-official sources). Official datasets get no verdict.
"""

from __future__ import annotations

import pandas as pd

from .schema import GATEWAYS, QUALITY_SCORES

USABLE_MEAN = 1.5  # ONS protocol: mean of the six scores must exceed this


def verdict(row: dict | pd.Series) -> str:
    """``usable``, ``use with caution`` (scores fine, a gateway unknown), ``not usable`` or ``not assessed``."""
    if row.get("source_kind") != "citizen":
        return ""
    scores = [row.get(s) for s in QUALITY_SCORES]
    if any(s is None or pd.isna(s) for s in scores):
        return "not assessed"
    gates = [row.get(g) for g in GATEWAYS]
    if any(g is False for g in gates):
        return "not usable"
    scores = [int(s) for s in scores]
    if min(scores) == 0 or sum(scores) / len(scores) <= USABLE_MEAN:
        return "not usable"
    if any(g is None or pd.isna(g) for g in gates):
        return "use with caution"
    return "usable"


def verdict_reason(row: dict | pd.Series) -> str:
    """Why a citizen dataset is not usable, as a short code the pages translate; ``""`` when usable.

    ``not_assessed``; ``gateway_<name>`` (a failed gateway check, the first in ``GATEWAYS`` order);
    ``score_<name>=0`` (a zero score); ``mean=<m>`` (the mean not above ``USABLE_MEAN``);
    ``gateway_unknown`` (scores fine, a gateway check not answered: "use with caution").
    """
    v = verdict(row)
    if v in ("usable", ""):
        return ""
    if v == "not assessed":
        return "not_assessed"
    failed = [g for g in GATEWAYS if row.get(g) is False]
    if failed:
        return failed[0]
    scores = {s: int(row.get(s)) for s in QUALITY_SCORES}
    zero = [s for s, x in scores.items() if x == 0]
    if zero:
        return f"{zero[0]}=0"
    mean = sum(scores.values()) / len(scores)
    if mean <= USABLE_MEAN:
        return f"mean={mean:.2f}"
    return "gateway_unknown"


def verdicts(datasets: pd.DataFrame) -> pd.DataFrame:
    """The catalogue with ``quality_mean``, ``verdict`` and ``verdict_reason`` columns added."""
    out = datasets.copy()
    scores = out[list(QUALITY_SCORES)].apply(pd.to_numeric, errors="coerce")
    out["quality_mean"] = scores.mean(axis=1, skipna=False).round(2)
    records = out.to_dict("records")
    out["verdict"] = [verdict(r) for r in records]
    out["verdict_reason"] = [verdict_reason(r) for r in records]
    return out
