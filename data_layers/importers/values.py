"""Cells to figures: numbers, not-available markers, censored and confidential values, periods.

Decided once per distinct cell text (files repeat the same few thousand texts), so large files
stay fast. The rules:

- a number (``12``, ``-3.5``, ``1.2e-3``, ``1,234`` with a thousands comma, ``1,5`` when the file
  is semicolon-separated or the mapping says ``decimal_comma = true``, ``12,5`` and ``9,609019``
  anywhere (a comma not followed by exactly three digits is never a thousands separator), ``45%``)
  is a value; zero is a value;
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

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

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
# a single comma followed by other than three digits cannot be a thousands separator: a decimal comma
_LONE_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,(?:\d{1,2}|\d{4,})$")
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
                               "pc": "percent", "pct": "percent", "pt": "percent",  # PT: SDMX UNIT_MEASURE code
                               "percent (%)": "percent", "percentage (%)": "percent", "per cent (%)": "percent"}

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
    if _LONE_DECIMAL_COMMA.match(t):
        return Cell("number", float(t.replace(",", ".")), note="decimal comma read as a point")
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

# --- dates -------------------------------------------------------------------------------------
# The date forms citizen exports use, one row each (docs/importing.md lists the same table, and a test
# checks that every form is documented). A date's reference year is the year of the date as written,
# in its own time zone: an offset (`-05:00`, `+0000`, `Z`) is read and ignored, never converted.
_TIME = (r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?"
         r"(?:\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?))?)?")
EXCEL_EPOCH = dt.date(1899, 12, 30)      # day 0 of Excel's 1900 date system (its 1900 leap-year bug included)
EXCEL_SERIAL_RANGE = (21916, 73050)      # 1960-01-01 .. 2099-12-31: disjoint from years (1900-2100) and yyyymmdd
DATE_ORDERS = ("dmy", "mdy")


@dataclass(frozen=True)
class DateForm:
    name: str
    regex: re.Pattern[str]
    example: str
    help: str


DATE_FORMS: tuple[DateForm, ...] = (
    DateForm("iso", re.compile(rf"^(?P<y>\d{{4}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}}){_TIME}$"),
             "2015-09-01, 2015-09-01T10:30:00Z, 2015-09-01T00:00:00-05:00",
             "ISO 8601 date or date-time (Kobo, ODK, most APIs), with or without an offset"),
    DateForm("yyyymmdd", re.compile(r"^(?P<y>(?:19|20)\d\d)(?P<m>[01]\d)(?P<d>[0-3]\d)$"), "20180428",
             "compact date, eight digits (EEA Marine LitterWatch `EventDate`)"),
    DateForm("ymd_slash", re.compile(rf"^(?P<y>\d{{4}})[/.](?P<m>\d{{1,2}})[/.](?P<d>\d{{1,2}}){_TIME}$"),
             "2015/09/01", "year first with slashes or dots"),
    DateForm("day_month", re.compile(rf"^(?P<a>\d{{1,2}})(?P<sep>[/.-])(?P<b>\d{{1,2}})(?P=sep)(?P<y>\d{{4}}){_TIME}$"),
             "01/09/2015, 09/01/2015 12:00:00 AM +00:00, 25.09.2014",
             "dd/mm/yyyy or mm/dd/yyyy (also with dots or hyphens, a time and an offset): the order is "
             "found from the column (a first number above 12 means dd/mm, a second above 12 means mm/dd) or "
             "declared with date_order = \"dmy\" or \"mdy\"; a column where every date could be read both "
             "ways is refused until the order is declared"),
    DateForm("excel", re.compile(r"^(?P<serial>\d{5})(?:\.\d+)?$"), "42248 (= 2015-09-01)",
             "an Excel serial day number (a date cell exported as a number), 1960 to 2099"),
)


@dataclass
class Periods:
    years: np.ndarray    # int64 reference year per row (0 where bad)
    labels: np.ndarray   # object: ISO date (yyyy-mm-dd) for a date, else the period as written
    bad: np.ndarray      # bool: refused rows


def _date(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _read_date(t: str) -> tuple[str, Any]:
    """(form, date | (a, b, year) for day_month | None) of one cell; ("", None) when it is no date form."""
    for form in DATE_FORMS:
        m = form.regex.match(t)
        if not m:
            continue
        if form.name == "day_month":
            return form.name, (int(m["a"]), int(m["b"]), int(m["y"]))
        if form.name == "excel":
            serial = int(m["serial"])
            if not EXCEL_SERIAL_RANGE[0] <= serial <= EXCEL_SERIAL_RANGE[1]:
                return "", None
            return form.name, EXCEL_EPOCH + dt.timedelta(days=serial)
        return form.name, _date(int(m["y"]), int(m["m"]), int(m["d"]))
    return "", None


def year_of(text: str) -> int | None:
    """Reference year of a period as written (the last year of a span), or None."""
    t = text.strip()
    form, found = _read_date(t)
    if form == "day_month":
        a, b, y = found
        ok = _date(y, b, a) or _date(y, a, b)
        return y if ok and MIN_YEAR <= y <= MAX_YEAR else None
    if form:
        return found.year if found is not None and MIN_YEAR <= found.year <= MAX_YEAR else None
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


def date_order_of(pairs: list[tuple[int, int]]) -> str | None:
    """``dmy`` / ``mdy`` when the day/month numbers of a column decide it, "mixed" when they contradict."""
    first = any(a > 12 for a, _ in pairs)
    second = any(b > 12 for _, b in pairs)
    if first and second:
        return "mixed"
    return "dmy" if first else "mdy" if second else None


def read_periods(values: np.ndarray, rows: np.ndarray, column: str, report: Report, *,
                 date_order: str | None = None, require_order: bool = False) -> Periods:
    """Reference years and labels of a period column, dates included; unreadable cells refused by row.

    ``date_order`` (``dmy``/``mdy``) says how to read ``01/09/2015``; without it the order is found from
    the column. ``require_order`` refuses a column whose every such date reads both ways (citizen data
    keeps the date, so the order matters); otherwise only the year, which both readings share, is kept.
    """
    n = len(values)
    if n == 0:
        return Periods(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object), np.zeros(0, dtype=bool))
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    texts = [str(u).strip() for u in uniques]
    read = [_read_date(t) for t in texts]
    pairs = [(f[0], f[1]) for form, f in read if form == "day_month"]
    order = date_order
    if order is None and pairs:
        order = date_order_of(pairs)
        if order == "mixed" and not require_order:
            order = None  # only the year is kept, and both readings share it
        elif order == "mixed":
            k = next(i for i, (form, f) in enumerate(read) if form == "day_month" and f[0] > 12)
            j = next(i for i, (form, f) in enumerate(read) if form == "day_month" and f[1] > 12)
            report.error(f"the column mixes dd/mm/yyyy ({texts[k]}) and mm/dd/yyyy ({texts[j]}) dates: correct "
                         "them or declare date_order = \"dmy\" or \"mdy\" in the mapping", column=column,
                         value=f"{texts[k]} / {texts[j]}", code="date_order")
            order = None
        elif order:
            report.info(f"{column}: dates read as {'dd/mm/yyyy' if order == 'dmy' else 'mm/dd/yyyy'} "
                        "(a number above 12 decides the order)")
        elif require_order and any(a != b for a, b in pairs):
            k = next(i for i, (form, f) in enumerate(read) if form == "day_month" and f[0] != f[1])
            a, b, y = read[k][1]
            report.error(f"dates such as {texts[k]} read both ways ({a} {_MONTHS[b - 1]} or {b} {_MONTHS[a - 1]} "
                         f"{y}) and no date in the column decides: declare the order in the mapping, "
                         "[citizen] date_order = \"dmy\" (day first) or \"mdy\" (month first)", column=column,
                         value=texts[k], code="date_order")
    years = np.zeros(len(uniques), dtype=np.int64)
    labels = np.array(texts, dtype=object)
    wrong = np.zeros(len(uniques), dtype=bool)
    why = [""] * len(uniques)
    forms: dict[str, int] = {}
    for k, (t, (form, found)) in enumerate(zip(texts, read, strict=True)):
        day: dt.date | None = None
        if form == "day_month":
            a, b, y = found
            if order in DATE_ORDERS:
                day = _date(y, b, a) if order == "dmy" else _date(y, a, b)
                if day is None:
                    why[k] = f"not a date in {'dd/mm/yyyy' if order == 'dmy' else 'mm/dd/yyyy'} order"
            else:
                # the year does not depend on the order (an undecided order that matters is a problem of
                # the column, reported once above); the label is the date when both readings agree
                ok = _date(y, b, a) or _date(y, a, b)
                if ok is None:
                    why[k] = "not a date (day or month out of range)"
                elif a == b:
                    day = ok
                else:
                    years[k] = y if MIN_YEAR <= y <= MAX_YEAR else 0
                    wrong[k] = not years[k]
                    why[k] = "" if years[k] else f"a year outside {MIN_YEAR}-{MAX_YEAR}"
                    continue
        elif form:
            day = found
            if day is None:
                why[k] = "not a date (day or month out of range)"
        if form and not why[k]:
            if not MIN_YEAR <= day.year <= MAX_YEAR:
                why[k] = f"a year outside {MIN_YEAR}-{MAX_YEAR}"
            else:
                years[k], labels[k] = day.year, day.isoformat()
                forms[form] = forms.get(form, 0) + 1
        elif not form:
            y = year_of(t)
            if t == "":
                why[k] = "no period (an empty cell)"
            elif y is None:
                why[k] = (f"not a year, period or date (expected e.g. 2015, 2004/05, 2000 Q1, 2020-03-01, 20200301, "
                          f"01/03/2020; between {MIN_YEAR} and {MAX_YEAR})")
            else:
                years[k] = y
        wrong[k] = bool(why[k])
    if "excel" in forms:
        report.info(f"{column}: {forms['excel']} distinct value(s) read as Excel serial day numbers (e.g. 42248 = "
                    "2015-09-01)")
    bad = wrong[codes]
    for i in np.flatnonzero(bad):
        report.error(why[codes[i]], row=int(rows[i]), column=column, value=values[i], code="bad_period")
    return Periods(years[codes], labels[codes], bad)


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def parse_periods(values: np.ndarray, rows: np.ndarray, column: str, report: Report) -> tuple[np.ndarray, np.ndarray]:
    """Reference years of a period column; unreadable ones are refused by row."""
    p = read_periods(values, rows, column, report)
    return p.years, p.bad


def parse_coordinates(values: np.ndarray, rows: np.ndarray, column: str, report: Report) -> tuple[np.ndarray, np.ndarray]:
    """Degrees of a latitude or longitude column. A coordinate never has a thousands separator, so a comma
    is a decimal comma (``9,609019``); a trailing comma or semicolon left from a pasted ``lat, lon`` pair
    (``9.611940,``) is removed. Both are said in the report."""
    fixed = per_unique(values, lambda u: _COORD_TAIL.sub("", str(u)))
    trailing = int(np.sum(fixed != values))
    if trailing:
        report.info(f"{column}: a trailing comma removed from {trailing} coordinate(s) (a pasted 'lat, lon' pair)")
    comma = per_unique(fixed, lambda u: bool(_DECIMAL_COMMA.match(str(u).strip()))).astype(bool)
    if comma.any():
        report.info(f"{column}: decimal comma read as a point in {int(comma.sum())} coordinate(s)")
    return parse_optional_numbers(fixed, rows, column, report, decimal_comma=True)


_COORD_TAIL = re.compile(r"\s*[,;]\s*$")


def normalise_unit(text: str) -> str:
    t = " ".join(str(text).split())
    return UNIT_LABELS.get(t.casefold(), t)
