"""Citizen-data quality: the gateway checks and 0-3 scores of DESIGN.md, and the verdict.

Usable when every gateway check passes, the mean score is above 1.5 and no score is 0 (the UK
ONS protocol for non-official sources). Official datasets get no verdict.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .schema import GATEWAYS, QUALITY_SCORES

CITIZEN_INITIATORS = ("citizens", "civil_society")  # initiator kinds that make data citizen-initiated
CORE_STAGES = ("design", "collection")  # taking part in one of these makes it citizen data (Copenhagen Framework)

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
    out["participation"] = [participation_basis(r) if r.get("source_kind") == "citizen" else "" for r in records]
    return out


def participation_basis(row: dict | pd.Series) -> str:
    """What the participation record says makes the data citizen data (Copenhagen Framework on
    Citizen Data: citizens initiated it, or took part at least in its design or collection).

    ``initiated``, ``took_part``, ``not_citizen_data`` (recorded, neither holds) or ``not_recorded``.
    """
    kind = str(row.get("initiator_kind") or "")
    stages = {s for s in str(row.get("citizen_stages") or "").split("|") if s}
    if not kind and not stages:
        return "not_recorded"
    if kind in CITIZEN_INITIATORS:
        return "initiated"
    if stages & set(CORE_STAGES):
        return "took_part"
    return "not_citizen_data"


# --- words for people (every page, hover and brief says it the same way) ---------------------------

def verdict_reason_text(detail: str, lang: str = "en") -> str:
    """``not usable: fails the need gateway`` for a :func:`verdict_reason` code."""
    from . import i18n

    detail = str(detail or "")
    if detail.startswith("score_") and detail.endswith("=0"):
        return i18n.t("reason.score_zero", lang, score=i18n.t(f"ui.citizen.{detail[:-2]}", lang))
    if detail.startswith("mean="):
        return i18n.t("reason.mean", lang, mean=i18n.format_number(float(detail[5:]), lang, decimals=2))
    return i18n.t(f"reason.{detail}", lang) if detail else ""


def cell_reason_text(reason: str, detail: str, n: Any, lang: str = "en") -> str:
    """Why a cell's citizen data does not count (``cgd_reason`` / ``cgd_reason_detail``); ``""`` when it does."""
    from . import i18n

    if reason == "not_usable":
        return verdict_reason_text(detail, lang)
    if reason == "suppressed":
        return i18n.t(f"reason.{detail or 'small'}", lang, n=i18n.format_number(n, lang, decimals=0))
    if reason == "stale":
        return i18n.t("reason.stale", lang)
    return ""


def participation_text(row: dict | pd.Series, lang: str = "en", *, short: bool = True) -> str:
    """The participation record in words: short (``initiated by citizens; design, collection``) for
    hovers, or with the initiator, group membership and contact for cards and briefs."""
    from . import i18n

    basis = participation_basis(row)
    stages = [s for s in str(row.get("citizen_stages") or "").split("|") if s]
    parts = [i18n.t(f"participation.basis.{basis}", lang)]
    if stages:
        parts.append(", ".join(i18n.t(f"participation.stage.{s}", lang) for s in stages))
    if short:
        return "; ".join(parts)
    initiator = str(row.get("initiator") or "").strip()
    kind = str(row.get("initiator_kind") or "")
    if initiator or kind:
        who = ", ".join(x for x in (initiator, i18n.t(f"participation.kind.{kind}", lang) if kind else "") if x)
        parts.append(f"{i18n.t('ui.citizen.initiator', lang)}: {who}")
    membership = str(row.get("group_membership") or "")
    if membership:
        parts.append(f"{i18n.t('ui.citizen.membership', lang)}: {i18n.t(f'participation.membership.{membership}', lang)}")
    contact = str(row.get("contact") or "").strip()
    if contact:
        parts.append(f"{i18n.t('ui.citizen.contact', lang)}: {contact}")
    return "; ".join(parts)


PERCENT_UNITS = frozenset({"percent", "%", "per cent", "pct"})


def disagreement_margin(*, lower: float | None, upper: float | None, citizen_value: float | None,
                        n: float | None, unit: str) -> float | None:
    """The combined 95 % uncertainty of an official and a citizen figure, as ``cells.sql`` computes
    ``cgd_margin``: the official half-interval (0 without bounds) and, for percentages, the citizen
    sampling margin 1.96 * sqrt(p(1-p)/(n+4)) in points with the Agresti-Coull p = (x+2)/(n+4), added
    in quadrature. None when it cannot be known (not a percentage, no citizen figure or n)."""
    import math

    if str(unit).strip().lower() not in PERCENT_UNITS or citizen_value is None or n is None:
        return None
    if any(isinstance(x, float) and math.isnan(x) for x in (citizen_value, n)):
        return None
    half = 0.0
    if lower is not None and upper is not None and not (math.isnan(float(lower)) or math.isnan(float(upper))):
        half = (float(upper) - float(lower)) / 2.0
    p = (float(citizen_value) / 100.0 * float(n) + 2) / (float(n) + 4)
    sampling = 196.0 * math.sqrt(p * (1 - p) / (float(n) + 4))
    return math.sqrt(half ** 2 + sampling ** 2)
