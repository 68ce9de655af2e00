"""Age bands as intervals (DESIGN.md: "Age bands are intervals").

An observation's age band covers an age group when it lies inside the group's interval: youth
(15-24) is covered by 15-19, 16-24 or 18-24, not by 15-29 or 15+. SDMX writes bands as ``Y15T24``
(15 to 24, inclusive), ``Y_GE60`` (60 and over) and ``Y_LT5`` / ``Y_LE4`` (under 5).

>>> interval("Y15T24"), interval("Y_GE60"), interval("Y_LT5"), interval("_T")
((15.0, 24.0), (60.0, inf), (0.0, 4.0), None)
>>> inside("Y16T24", (15, 24)), inside("Y15T29", (15, 24)), inside("Y_GE70", (60, float("inf")))
(True, False, True)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

Interval = tuple[float, float]

_RANGE = re.compile(r"^Y(\d{1,3})T(\d{1,3})$")
_OVER = re.compile(r"^Y_GE(\d{1,3})$")
_UNDER = re.compile(r"^Y_LT(\d{1,3})$")
_UPTO = re.compile(r"^Y_LE(\d{1,3})$")
_ONE = re.compile(r"^Y(\d{1,3})$")


def interval(code: str) -> Interval | None:
    """The ages ``[lo, hi]`` (whole years, inclusive) an SDMX age code stands for, or None."""
    c = str(code).strip().upper()
    if m := _RANGE.match(c):
        lo, hi = float(m[1]), float(m[2])
        return (lo, hi) if lo <= hi else None
    if m := _OVER.match(c):
        return float(m[1]), math.inf
    if m := _UNDER.match(c):
        return (0.0, float(m[1]) - 1) if int(m[1]) > 0 else None
    if m := _UPTO.match(c):
        return 0.0, float(m[1])
    if m := _ONE.match(c):
        return float(m[1]), float(m[1])
    return None


def hull(codes: Iterable[str]) -> Interval | None:
    """The smallest interval holding every band of ``codes`` (a group's declared bands)."""
    found = [iv for iv in (interval(c) for c in codes) if iv is not None]
    if not found:
        return None
    return min(lo for lo, _ in found), max(hi for _, hi in found)


def inside(code: str, group: Interval) -> bool:
    """True when the band ``code`` lies inside the interval ``group``."""
    iv = interval(code)
    return iv is not None and group[0] <= iv[0] and iv[1] <= group[1]


def contains_all(code: str, others: Iterable[str]) -> bool:
    """True when the band ``code`` contains every band of ``others`` (the base age of a file)."""
    iv = interval(code)
    if iv is None:
        return False
    return all((o := interval(x)) is not None and iv[0] <= o[0] and o[1] <= iv[1] for x in others)
