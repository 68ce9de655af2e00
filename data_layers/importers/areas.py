"""Area codes and names of a file resolved in a declared code scheme, never guessed from their shape.

The numeric code ``24`` is Quebec on Canada's Open SDG platform and Angola in UN M49: which one a
file means depends on where the file comes from, so every format has a declared scheme
(:data:`FORMAT_SCHEMES`) and a user can declare another (``--geo-scheme``, ``--geo-level``):

``m49``
    UN database files (SDG Global Database, portal exports): M49 numeric codes, or ISO 3166-1
    alpha-3, resolved **at level 0 only**. M49 codes that are not countries (World, regions,
    income groups) are regional aggregates: kept apart, never areas on a map.
``country``
    SDMX ``REF_AREA``: ISO 3166-1 alpha-3 (or M49) at level 0; any other code (``WORLD``,
    ``UNICEF_EAP``, ``WB_LMC``...) is an aggregate, kept apart.
``store``
    The platform's or office's own codes (Open SDG ``GeoCode``, GapLens CSV ``area_code``),
    matched exactly against the store's area codes, inside the country the file is about when it
    is known (``--area``). A code held by two areas of the store is refused with both named.
``name``
    Area names, matched after normalisation (case, accents, punctuation; ``area_aliases.csv``).

Rows are then attached to the finest area they describe: area-name columns (``Geography``,
``Local Authority``...) are read within the area the code gave (a Welsh council's row, whose
GeoCode is Wales', is attached to the council). A name that is not in the store is an error with
close names suggested, never a silent fuzzy match.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from ..settings import PACKAGE_DIR
from .mapping import Mapper, norm
from .report import Report

SCHEMES: dict[str, str] = {
    "m49": "UN M49 numeric codes or ISO 3166-1 alpha-3, at level 0 (countries) only",
    "country": "ISO 3166-1 alpha-3 (or M49) at level 0; other codes are aggregates kept apart",
    "store": "the store's own area codes (the platform's or office's codes), exact",
    "name": "area names (normalised; aliases in area_aliases.csv)",
}
#: the scheme each official format's area column is written in
FORMAT_SCHEMES: dict[str, str] = {"un_long": "m49", "un_wide": "m49", "sdmx": "country", "open_sdg": "store",
                                  "canonical": "store"}
M49_FILE = PACKAGE_DIR / "tables" / "m49.csv"
ALIASES_FILE = PACKAGE_DIR / "tables" / "area_aliases.csv"
#: column headers that hold area names, not breakdowns (compared after mapping.norm_header)
AREA_NAME_HEADERS: frozenset[str] = frozenset({
    "geography", "geo", "area name", "geoareaname", "geographic area", "region", "regions", "country", "country name",
    "province", "state", "territory", "province or territory", "district", "county", "municipality", "commune",
    "department", "prefecture", "city", "local authority", "local authority district", "lad", "council",
    "council area", "scottish council area", "welsh unitary authority", "unitary authority", "nation",
    "combined authority", "police force area", "health board", "reference area", "ref area name",
})
MAX_SUGGESTIONS = 3
_STOP = re.compile(r"[^0-9a-z]+")


def name_key(text: object) -> str:
    """Comparison form of an area name: no accents, case, punctuation; ``&`` read as ``and``."""
    t = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    t = t.casefold().replace("&", " and ")
    return " ".join(_STOP.sub(" ", t).split())


@lru_cache(maxsize=1)
def m49_table() -> tuple[dict[str, str], frozenset[str]]:
    """``{M49 number without leading zeros: ISO3}`` and the set of ISO3 country codes."""
    df = pd.read_csv(M49_FILE, dtype=str, keep_default_na=False)
    return {str(int(c)): iso for c, iso in zip(df["m49"], df["iso3"], strict=True)}, frozenset(df["iso3"])


@lru_cache(maxsize=1)
def aliases() -> dict[str, str]:
    """Documented alternative names: ``{name_key(alias): name_key(name in the store)}``."""
    df = pd.read_csv(ALIASES_FILE, dtype=str, keep_default_na=False, comment="#")
    return {name_key(a): name_key(n) for a, n in zip(df["alias"], df["name"], strict=True)}


def is_area_name_header(column: str) -> bool:
    from .mapping import norm_header

    return norm_header(column) in AREA_NAME_HEADERS


@dataclass
class Resolution:
    codes: np.ndarray            # area code per row ("" when unresolved)
    aggregate: np.ndarray        # rows about regional aggregates (kept apart)
    bad: np.ndarray              # rows refused (unknown or ambiguous area)
    how: dict[str, int] = field(default_factory=dict)
    no_boundary: np.ndarray | None = None   # countries the store has no boundary for (kept apart)


class AreaResolver:
    """Resolve one file's area codes and names against a store's areas, in one declared scheme."""

    def __init__(self, mapper: Mapper, report: Report, *, scheme: str, level: int | None = None,
                 root: str | None = None) -> None:
        self.report = report
        self.scheme = scheme
        self.level = level
        a = mapper.areas().copy()
        a["level"] = a["level"].astype(int)
        a["parent_code"] = a["parent_code"].where(a["parent_code"].notna(), None)
        self.areas = a
        self.parent = dict(zip(a["code"], a["parent_code"], strict=True))
        self.level_of = dict(zip(a["code"], a["level"], strict=True))
        self.name_of = dict(zip(a["code"], a["name"], strict=True))
        self.user = {norm(k): str(v) for k, v in (mapper.user.get("areas") or {}).items()}
        self.root = root
        within = a if root is None else a[[self.descends(c, root) for c in a["code"]]]
        if level is not None:
            within = within[within["level"] == level]
        self.within = within
        self.by_code: dict[str, list[tuple[str, int]]] = {}
        for c, lvl in zip(within["code"], within["level"], strict=True):
            self.by_code.setdefault(norm(c), []).append((c, int(lvl)))
        self.by_name: dict[str, list[tuple[str, int]]] = {}
        for c, n, lvl in zip(a["code"], a["name"], a["level"], strict=True):
            self.by_name.setdefault(name_key(n), []).append((c, int(lvl)))

    # --- the tree ----------------------------------------------------------------------------------

    def descends(self, code: str, ancestor: str) -> bool:
        """True when ``code`` is ``ancestor`` or lies inside it."""
        seen: set[str] = set()
        cur: str | None = code
        while cur is not None and cur not in seen:
            if cur == ancestor:
                return True
            seen.add(cur)
            cur = self.parent.get(cur)
        return False

    def describe(self, code: str, level: int | None = None) -> str:
        lvl = self.level_of.get(code, "?") if level is None else level
        rows = self.areas[(self.areas["code"] == code) & (self.areas["level"] == lvl)]
        name = rows["name"].iloc[0] if len(rows) else self.name_of.get(code, "")
        return f"{code} {name} (level {lvl})".replace("  ", " ")

    # --- codes -------------------------------------------------------------------------------------

    def resolve(self, raw: np.ndarray, names: np.ndarray, rows: np.ndarray, column: str | None) -> Resolution:
        """Area code per row of the code column ``raw`` (names only help messages)."""
        n = len(raw)
        out = Resolution(codes=np.full(n, "", dtype=object), aggregate=np.zeros(n, dtype=bool),
                         bad=np.zeros(n, dtype=bool))
        fcodes, uniques = pd.factorize(raw, use_na_sentinel=False)
        missing: dict[str, int] = {}
        for k, u in enumerate(uniques):
            mask = fcodes == k
            label = str(u).strip()
            hit, why = self.lookup(label)
            if hit == "aggregate":
                out.aggregate |= mask
                continue
            if hit == "unmapped":  # a real country with no boundary in this store: kept apart, said loudly
                out.aggregate |= mask
                if out.no_boundary is None:
                    out.no_boundary = np.zeros(n, dtype=bool)
                out.no_boundary |= mask
                missing.setdefault(why, 0)
                missing[why] += int(mask.sum())
                continue
            if hit is None:
                name = next((str(x) for x in names[mask] if str(x) and str(x) != label), "") if len(names) else ""
                extra = f" ({name})" if name else ""
                for i in np.flatnonzero(mask):
                    self.report.error(f"{why}{extra}", row=int(rows[i]), column=column, value=u,
                                      code="ambiguous_area" if "could mean" in why else "unknown_area")
                out.bad |= mask
                continue
            out.codes[mask] = hit
            out.how[why] = out.how.get(why, 0) + int(mask.sum())
        if missing:
            self.report.warn(f"{sum(missing.values())} rows about {len(missing)} countries with no boundary in this "
                             f"store ({', '.join(sorted(missing))}) kept apart, not on maps: import their boundaries "
                             "and import the file again to see them", column=column, code="no_boundary")
        return out

    def lookup(self, label: str) -> tuple[str | None, str]:  # noqa: PLR0911 - one return per scheme
        """(area code, how) or ("aggregate", "") or (None, why not)."""
        key = norm(label)
        if key in self.user:
            return self.user[key], "mapping file"
        if self.scheme in ("m49", "country"):
            return self._country(label)
        if self.scheme == "name":
            return self.by_name_within(label, self.root)
        found = self.by_code.get(key, [])
        if len(found) == 1:
            return found[0][0], "code"
        if len(found) > 1:
            return None, ("area code could mean several areas of this store: "
                          + "; ".join(self.describe(c, lvl) for c, lvl in found)
                          + ": give --geo-level N, or map it in a mapping file's [areas] table")
        hit, why = self.by_name_within(label, self.root)
        if hit is not None:
            self.report.info(f"area {label!r} matched by name to {hit}")
            return hit, "name"
        if "could mean" in why:
            return None, why
        where = f" inside {self.describe(self.root)}" if self.root else ""
        lvl = f" at level {self.level}" if self.level is not None else ""
        return None, (f"unknown area code: not a code of this store's areas{where}{lvl} "
                      f"(codes in this file are read as {SCHEMES['store']}; UN M49 codes only in UN files "
                      "or with --geo-scheme m49); import the boundaries first, or map it in a mapping "
                      f"file's [areas] table{self._suggest(label)}")

    def _country(self, label: str) -> tuple[str | None, str]:
        m49, iso3 = m49_table()
        level0 = {norm(c): c for c in self.areas.loc[self.areas["level"] == 0, "code"]}
        if re.fullmatch(r"\d{1,3}", label):
            iso = m49.get(str(int(label)))
            if iso is None:
                return "aggregate", ""
            how = f"M49 {label} = {iso}"
        else:
            iso = label.upper()
            if iso not in iso3:
                if self.scheme == "country" or not re.fullmatch(r"[A-Z]{3}", iso):
                    return "aggregate", ""
                return None, "not an M49 code or an ISO 3166-1 alpha-3 country code"
            how = "ISO 3166-1 alpha-3"
        hit = level0.get(norm(iso))
        if hit is None:
            return "unmapped", iso
        return hit, how

    # --- names -------------------------------------------------------------------------------------

    def by_name_within(self, label: str, parent: str | None) -> tuple[str | None, str]:
        """The one area named ``label`` inside ``parent`` (any depth), or None with why."""
        key = name_key(label)
        key = aliases().get(key, key)
        found = [(c, lvl) for c, lvl in self.by_name.get(key, []) if parent is None or self.descends(c, parent)]
        if self.level is not None and len(found) > 1:
            found = [(c, lvl) for c, lvl in found if lvl == self.level] or found
        if len(found) == 1:
            return found[0][0], "name"
        if len(found) > 1:
            return None, ("area name could mean several areas of this store: "
                          + "; ".join(self.describe(c, lvl) for c, lvl in found)
                          + ": give --geo-level N, use a code, or map it in a mapping file's [areas] table")
        where = f" inside {self.describe(parent)}" if parent else ""
        return None, f"no area of this store is named so{where}{self._suggest(label, parent)}"

    def _suggest(self, label: str, parent: str | None = None) -> str:
        pool = self.areas if parent is None else self.areas[[self.descends(c, parent) for c in self.areas["code"]]]
        names = {name_key(n): n for n in pool["name"]}
        close = difflib.get_close_matches(name_key(label), list(names), n=MAX_SUGGESTIONS, cutoff=0.75)
        return f" (close names, not applied: {', '.join(repr(names[c]) for c in close)})" if close else ""

    def refine(self, codes: np.ndarray, bad: np.ndarray, name_columns: dict[str, np.ndarray], rows: np.ndarray) -> None:
        """Attach each row to the finest area its name columns describe (in place).

        Each name is looked up inside the area the row has so far (its code, or the file's
        country), so ``Cardiff`` under Wales is Cardiff, and a name naming the row's own area (a
        ``Geography`` of ``Canada`` on a Canadian file) changes nothing. Names not found are errors.
        """
        for column, values in name_columns.items():
            keys = pd.Series(values, dtype=object).fillna("").astype(str).str.strip().to_numpy(dtype=object)
            pairs = pd.DataFrame({"code": codes, "name": keys})
            for (code, label), idx in pairs.groupby(["code", "name"], sort=False).indices.items():
                if not label or not code or bad[idx].all():
                    continue
                if name_key(label) == name_key(self.name_of.get(code, "")):
                    continue
                hit, why = self.by_name_within(label, code)
                if hit is None and self.parent.get(code) is not None:
                    # a name one level up or beside (a region column after a district code): it must
                    # contain the row's area to agree with it
                    up, _ = self.by_name_within(label, self.root)
                    if up is not None and self.descends(code, up):
                        continue
                if hit is None:
                    for i in idx:
                        if not bad[i]:
                            self.report.error(f"{why}: the row's area cannot be told; import the boundaries of "
                                              "that level, or map the name in a mapping file's [areas] table",
                                              row=int(rows[i]), column=column, value=label, code="unknown_area")
                    bad[idx] = True
                    continue
                codes[idx] = hit
