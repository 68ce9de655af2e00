"""Cells to figures: numbers, not-available markers, censored and confidential values, periods.

Decided once per distinct cell text (files repeat the same few thousand texts), so large files
stay fast. The rules:

- a number (``12``, ``-3.5``, ``1.2e-3``, ``1,234`` with a thousands comma, ``1,5`` when the file
  is semicolon-separated, ``45%``) is a value; zero is a value;
- ``..``, ``n/a``, ``NaN``, ``-``, empty: no figure (the row is skipped and counted, unless its
  status says the figure exists but is confidential);
- ``<5``, ``< 0.5``, ``>95``: censored, stored as suppressed (measured, not shown), never as 5;
- ``x``, ``c``, ``confidential``: suppressed;
- ``=HYPERLINK(...)``, ``@SUM(...)``: a spreadsheet formula, refused (formula injection);
- anything else (``abc``, ``inf``): refused with its row.

An observation status that contradicts the value is reported: a figure whose status says
"missing" is refused; a figure whose status says "confidential" is kept as suppressed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .report import Report

NA_TOKENS = frozenset({"", "..", "...", "n/a", "na", "n.a.", "nan", "null", "none", "-", "--", "–", "—", ":",
                       "not available", "no data", "#n/a"})
CONFIDENTIAL_TOKENS = frozenset({"x", "c", "conf", "confidential", "suppressed", "(c)", "*"})
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_SPACED = re.compile(r"^[+-]?\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:[.,]\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+(?:\.\d{3})*,\d+$")
_CENSORED = re.compile(r"^(<=|>=|<|>|≤|≥)\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$")
_FORMULA_START = ("=", "+", "@", "-", "\t", "\r")

# Observation status labels (SDMX OBS_STATUS codes and the words national platforms use).
STATUS_LABELS: dict[str, str] = {
    "a": "A", "normal": "A", "normal value": "A", "": "A",
    "e": "E", "estimated": "E", "estimated value": "E", "estimate": "E", "modelled": "E", "modeled": "E",
    "m": "M", "missing": "M", "missing value": "M", "not available": "M",
    "o": "O", "not collected": "O",
    "c": "C", "confidential": "C", "confidential statistical information": "C", "confidential value": "C",
    "f": "F", "forecast": "F", "forecast value": "F",
    "p": "P", "provisional": "P", "provisional value": "P",
    "b": "B", "break": "B", "time series break": "B",
    "i": "I", "imputed": "I", "imputed value": "I",
    "n": "N", "not significant": "N",
    "u": "U", "low reliability": "U",
    "d": "D", "definition differs": "D",
    "r": "R", "revised": "R",
    # SDMX CL_OBS_STATUS words as Open SDG platforms and .Stat services write them
    "q": "Q", "missing value; suppressed": "Q", "suppressed": "Q", "suppressed value": "Q",
    "l": "L", "missing value; data exist but were not collected": "L",
    "missing value; data cannot exist": "M", "missing value; not applicable": "M",
    "g": "G", "experimental": "G", "experimental value": "G",
    "k": "K", "data included in another category": "K",
    "w": "W", "includes data from another category": "W",
    "v": "V", "unvalidated": "V", "unvalidated value": "V",
    "s": "S", "strike": "S", "strike and other special events": "S",
}
MISSING_STATUSES = frozenset({"M", "O", "L"})
# statuses of a measured figure that must not be shown: C confidential, Q missing value; suppressed
CONFIDENTIAL_STATUSES = frozenset({"C", "Q"})

# Units as sources write them -> the store's words.
UNIT_LABELS: dict[str, str] = {"%": "percent", "percent": "percent", "percentage": "percent", "per cent": "percent",
                               "pc": "percent", "pct": "percent", "pt": "percent"}  # PT: SDMX UNIT_MEASURE code

MIN_YEAR, MAX_YEAR = 1900, 2100  # SDG-era data: a year outside is a typo or a date in another calendar


def cells(col: pd.Series | np.ndarray) -> np.ndarray:
    """A column's cells as an object array of ``str`` (without ``astype(str)``, which is slow on big files)."""
    a = col.to_numpy(dtype=object) if hasattr(col, "to_numpy") else np.asarray(col, dtype=object)
    if len(a) and not all(isinstance(x, str) for x in a[: min(len(a), 50)]):
        a = np.array(["" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x) for x in a], dtype=object)
    return a


def per_unique(values: np.ndarray, fn: object) -> np.ndarray:
    """``fn`` applied once per distinct value, spread back to every row."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    out = np.empty(len(uniques), dtype=object)
    for k, u in enumerate(uniques):
        out[k] = fn(u)  # type: ignore[operator]
    return out[codes] if len(values) else np.empty(0, dtype=object)


def stripped(values: np.ndarray) -> np.ndarray:
    return per_unique(values, lambda u: str(u).strip())


@dataclass
class Cell:
    kind: str            # number | na | censored | confidential | formula | bad
    value: float = math.nan
    note: str = ""


def classify(text: str, *, decimal_comma: bool = False) -> Cell:  # noqa: PLR0911
    """What one cell holds (see the module's rules)."""
    t = text.strip()
    low = t.casefold()
    if low in NA_TOKENS:
        return Cell("na")
    if low in CONFIDENTIAL_TOKENS:
        return Cell("confidential")
    if _NUMBER.match(t):
        v = float(t)
        return Cell("number", v) if math.isfinite(v) else Cell("bad", note="not a finite number")
    m = _CENSORED.match(t)
    if m:
        return Cell("censored", float(m.group(2)), note=f"censored at source ({t})")
    if t.endswith("%") and _NUMBER.match(t[:-1].strip()):
        return Cell("number", float(t[:-1].strip()), note="percent sign removed")
    if decimal_comma and _DECIMAL_COMMA.match(t):
        return Cell("number", float(t.replace(".", "").replace(",", ".")), note="decimal comma read as a point")
    if _THOUSANDS.match(t) and not decimal_comma:
        return Cell("number", float(t.replace(",", "")), note="thousands separators removed")
    if _SPACED.match(t):
        return Cell("number", float(re.sub(r"[ \u00a0\u202f]", "", t).replace(",", ".")),
                    note="thousands separators removed")
    if t.startswith(_FORMULA_START) and not _NUMBER.match(t):
        return Cell("formula", note="a spreadsheet formula, not a value: refused (formula injection)")
    return Cell("bad", note="not a number")


@dataclass
class Values:
    value: np.ndarray        # float64, NaN where no figure
    suppressed: np.ndarray   # bool
    skipped: np.ndarray      # bool: no figure at all (not stored, counted)
    bad: np.ndarray          # bool: refused rows
    status: np.ndarray       # object: SDMX status code per row
    footnote: np.ndarray     # object: notes to add to the row's footnote ("" if none)


def parse_status(values: np.ndarray, rows: np.ndarray, column: str, report: Report) -> np.ndarray:
    """SDMX observation status codes; an unknown label is kept as written and reported once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    mapped = np.empty(len(uniques), dtype=object)
    for k, u in enumerate(uniques):
        code = STATUS_LABELS.get(" ".join(str(u).split()).casefold())
        if code is None:
            code = str(u).strip()
            where = np.flatnonzero(codes == k)
            report.warn(f"unknown observation status: kept as written ({len(where)} rows)", row=int(rows[where[0]]),
                        column=column, value=u, code="unknown_status")
        mapped[k] = code
    return mapped[codes] if len(values) else np.empty(0, dtype=object)


def parse_values(values: np.ndarray, rows: np.ndarray, column: str | np.ndarray, report: Report, *,
                 status: np.ndarray | None = None, status_column: str = "", decimal_comma: bool = False) -> Values:
    """Figures of one value column, with every refused cell reported by row.

    ``column`` is the column's name, or one name per row (a wide file's year columns).
    """
    n = len(values)
    per_row = not isinstance(column, str)
    name = "value" if per_row else column

    def col(i: int) -> str:
        return str(column[i]) if per_row else str(column)

    value = np.full(n, np.nan)
    suppressed = np.zeros(n, dtype=bool)
    skipped = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    foot = np.full(n, "", dtype=object)
    st = status if status is not None else np.full(n, "A", dtype=object)
    st = st.copy()
    notes: dict[str, int] = {}
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    found = [classify(str(u), decimal_comma=decimal_comma) for u in uniques]
    if n == 0:
        codes = np.zeros(0, dtype=np.int64)
    kinds = np.array([c.kind for c in found] or [""], dtype=object)[codes]
    nums = np.array([c.value for c in found] or [np.nan], dtype=float)[codes]
    notes_u = np.array([c.note for c in found] or [""], dtype=object)[codes]
    number = kinds == "number"
    value[number] = nums[number]
    counts = np.bincount(codes, minlength=len(found)) if n else np.zeros(len(found), dtype=np.int64)
    for k, c in enumerate(found):
        if c.note and c.kind == "number":
            notes[c.note] = notes.get(c.note, 0) + int(counts[k])
    censored = kinds == "censored"
    suppressed |= censored
    foot[censored] = notes_u[censored]
    conf = kinds == "confidential"
    suppressed |= conf
    st[conf & (st == "A")] = "C"
    na = kinds == "na"
    for kind in ("formula", "bad"):
        idx = np.flatnonzero(kinds == kind)
        for i in idx:
            report.error(notes_u[i], row=int(rows[i]), column=col(i), value=values[i], code=f"value_{kind}")
        bad[idx] = True
    is_missing_status = np.isin(st, list(MISSING_STATUSES))
    is_conf_status = np.isin(st, list(CONFIDENTIAL_STATUSES))
    contradiction = (number | censored) & is_missing_status
    for i in np.flatnonzero(contradiction):
        report.error(f"a figure, but the observation status ({status_column or 'status'}) says {st[i]} (missing): "
                     "which one is right?", row=int(rows[i]), column=col(i), value=values[i], code="status_contradiction")
    bad |= contradiction
    withheld = number & is_conf_status
    for i in np.flatnonzero(withheld)[:1]:
        report.warn(f"a figure, but the observation status says confidential: stored as suppressed, not shown "
                    f"({int(withheld.sum())} rows)", row=int(rows[i]), column=col(i), value=values[i],
                    code="status_contradiction")
    suppressed |= withheld
    # an empty cell whose status says confidential is a measured, suppressed figure; otherwise no figure
    suppressed |= na & is_conf_status
    skipped |= na & ~is_conf_status
    value[suppressed] = np.nan
    for note, k in notes.items():
        report.info(f"{name}: {note} in {k} cell(s)")
    if censored.any():
        report.info(f"{name}: {int(censored.sum())} censored value(s) such as '<5' stored as suppressed, not as numbers")
    return Values(value=value, suppressed=suppressed & ~bad, skipped=skipped & ~bad, bad=bad, status=st, footnote=foot)


def parse_optional_numbers(values: np.ndarray, rows: np.ndarray, column: str, report: Report, *,
                           integer: bool = False, decimal_comma: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A secondary numeric column (bounds, sample size): blank is null, garbage is refused by row."""
    n = len(values)
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    nums = np.full(len(uniques), np.nan)
    wrong = np.zeros(len(uniques), dtype=bool)
    for k, u in enumerate(uniques):
        c = classify(str(u), decimal_comma=decimal_comma)
        if c.kind == "na":
            continue
        if c.kind == "number" and (not integer or (c.value >= 0 and float(c.value).is_integer())):
            nums[k] = c.value
        else:
            wrong[k] = True
    if n == 0:
        return np.full(0, np.nan), np.zeros(0, dtype=bool)
    out, bad = nums[codes], wrong[codes]
    what = "a whole number of respondents (0 or more)" if integer else "a number"
    for i in np.flatnonzero(bad):
        report.error(f"expected {what}", row=int(rows[i]), column=column, value=values[i], code="value_bad")
    return out, bad


_YEAR = r"(1[89]\d\d|20\d\d|2100)"
_PERIOD_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"^{_YEAR}(?:\.0+)?$"), "year"),
    (re.compile(rf"^{_YEAR}\s*[/\-–]\s*(\d{{2}}|\d{{4}})$"), "span"),       # 2004/05, 2013/16, 2015-2017
    (re.compile(rf"^{_YEAR}\s*[-_ ]?\s*(?:q[1-4]|[1-4]q|s[12]|h[12]|m\d{{1,2}})$", re.I), "sub"),  # 2000 Q1
    (re.compile(rf"^{_YEAR}[-/]\d{{1,2}}(?:[-/]\d{{1,2}})?(?:[ T].*)?$"), "date"),   # 2020-03-01, 2020-03-01T10:00
    (re.compile(rf"^\d{{1,2}}[-/.]\d{{1,2}}[-/.]{_YEAR}(?:[ T].*)?$"), "dmy"),       # 01/05/2008 12:00:00 AM +0000
)


def year_of(text: str) -> int | None:
    """Reference year of a period as written (the last year of a span), or None."""
    t = text.strip()
    for rx, kind in _PERIOD_PATTERNS:
        m = rx.match(t)
        if not m:
            continue
        y = int(m.group(1))
        if kind == "span":
            end = m.group(2)
            y2 = int(end) if len(end) == 4 else (y // 100) * 100 + int(end)
            if len(end) == 2 and y2 < y:
                y2 += 100
            if not y <= y2 <= y + 50:
                return None
            y = y2
        return y if MIN_YEAR <= y <= MAX_YEAR else None
    return None


def parse_periods(values: np.ndarray, rows: np.ndarray, column: str, report: Report) -> tuple[np.ndarray, np.ndarray]:
    """Reference years of a period column; unreadable ones are refused by row."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    found = [year_of(str(u)) for u in uniques]
    years = np.array([y or 0 for y in found], dtype=np.int64)[codes]
    bad = np.array([y is None for y in found], dtype=bool)[codes]
    for i in np.flatnonzero(bad):
        report.error(f"not a year or period (expected e.g. 2015, 2004/05, 2013/16, 2000 Q1, 2020-03-01, "
                     f"between {MIN_YEAR} and {MAX_YEAR})", row=int(rows[i]), column=column, value=values[i],
                     code="bad_period")
    return years, bad


def normalise_unit(text: str) -> str:
    t = " ".join(str(text).split())
    return UNIT_LABELS.get(t.casefold(), t)
