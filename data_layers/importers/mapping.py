"""Source labels to SDMX codes, through editable tables, never through ad-hoc string tests.

Three tables say how a source's words become the codes of DESIGN.md:

- the store's ``dimension_labels.csv`` (``SEX, female -> F``; a label may name its column too,
  ``DISABILITY_STATUS, type=disabled -> PD``), compared case-insensitively after trimming;
- ``data_layers/tables/dimension_columns.csv``: which source column is which dimension
  (``Location -> URBANISATION``, ``Quintiles -> INCOME_WEALTH_QUANTILE``);
- :data:`PATTERNS`: the few label families that are regular enough to read by rule (age bands such
  as ``aged 25-34 years`` -> ``Y25T34``, quintiles such as ``IV quintile`` -> ``Q4``).

A user mapping file (TOML, YAML or JSON) extends all of them, and :func:`save_mapping` writes one
(the Import page saves the choices a person made)::

    [columns]                       # source column -> dimension, or "other" / "ignore"
    "Category" = "DISABILITY_STATUS"
    [labels.SEX]                    # dimension -> source label -> code
    "femme" = "F"
    [areas]                         # area name or code in the file -> area code of the store
    "Bicol" = "PH-05"
    [citizen]                       # column roles of a citizen file (see citizen.py)
    indicator = "6.1.1"
    value = "status_id"
"""

from __future__ import annotations

import json
import logging
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import storage
from ..schema import DIMENSION_NAMES, TOTAL, dim_column
from ..settings import PACKAGE_DIR
from .report import Report

log = logging.getLogger(__name__)

DIMENSION_COLUMNS_FILE = PACKAGE_DIR / "tables" / "dimension_columns.csv"
OTHER, IGNORE = "other", "ignore"   # column roles a mapping file may give instead of a dimension
MAX_MAPPING_BYTES = 1 << 20         # a mapping file is a few lines; a megabyte is not one


class MappingError(Exception):
    """A mapping file that cannot be used (the message says where)."""


def norm(text: Any) -> str:
    """Comparison form of a label or header: trimmed, case-folded, inner whitespace collapsed."""
    return " ".join(str(text).replace("\ufeff", "").split()).casefold()


def norm_header(text: Any) -> str:
    """Comparison form of a column header: also without brackets, underscores or hyphens."""
    t = norm(text).strip("[]() ")
    return " ".join(re.sub(r"[_\-]+", " ", t).split())


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}


def _age_range(m: re.Match) -> str | None:
    lo, hi = int(m["lo"]), int(m["hi"])
    return f"Y{lo}T{hi}" if lo <= hi else None


def _age_over(m: re.Match) -> str:
    return f"Y_GE{int(m['lo'])}"


def _age_under(m: re.Match) -> str | None:
    hi = int(m["hi"])
    return f"Y0T{hi - 1}" if hi > 0 else None


def _quintile(m: re.Match) -> str:
    return f"Q{_ROMAN[m['q']]}"


def _upper(m: re.Match) -> str:
    return m.group(0).upper()


@dataclass(frozen=True)
class Pattern:
    dimension: str
    regex: re.Pattern[str]
    code: Callable[[re.Match], str | None]
    example: str


_YEARS = r"(?:\s*(?:years?|yrs?|y)(?:\s*old)?)?"
PATTERNS: tuple[Pattern, ...] = (
    Pattern("AGE", re.compile(r"^y\d+t\d+$|^y_ge\d+$|^y_lt\d+$"), _upper, "Y25T34 (an SDMX code)"),
    Pattern("AGE", re.compile(rf"^(?:aged?\s*)?(?P<lo>\d{{1,3}})\s*(?:-|–|to)\s*(?P<hi>\d{{1,3}}){_YEARS}$"),
            _age_range, "aged 25-34 years -> Y25T34"),
    Pattern("AGE", re.compile(rf"^(?:aged?\s*)?(?P<lo>\d{{1,3}}){_YEARS}\s*(?:\+|and over|and above|and older|or more|or older|plus)$"),
            _age_over, "aged 65 and over -> Y_GE65"),
    Pattern("AGE", re.compile(rf"^(?:aged?\s*)?(?:under|less than|below|<)\s*(?P<hi>\d{{1,3}}){_YEARS}$"),
            _age_under, "under 5 -> Y0T4"),
    Pattern("INCOME_WEALTH_QUANTILE",
            re.compile(r"^(?P<q>iii|ii|iv|i|v|[1-5])(?:st|nd|rd|th)?\s*(?:income\s*|wealth\s*)?quintile$"),
            _quintile, "IV quintile -> Q4"),
    Pattern("INCOME_WEALTH_QUANTILE", re.compile(r"^(?:income\s*|wealth\s*)?(?:quintile|q)\s*(?P<q>iii|ii|iv|i|v|[1-5])$"),
            _quintile, "quintile 4 -> Q4"),
)


def load_mapping_file(path: str | Path) -> dict[str, Any]:
    """Read a user mapping file (``.toml``, ``.yaml``/``.yml`` or ``.json``) into a plain dict."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise MappingError(f"{p.name}: cannot read the mapping file ({e.strerror or e})") from e
    if len(raw) > MAX_MAPPING_BYTES:
        raise MappingError(f"{p.name}: a mapping file of {len(raw)} bytes is too large")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise MappingError(f"{p.name}: a mapping file must be UTF-8") from e
    suffix = p.suffix.lower()
    try:
        if suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise MappingError(f"{p.name}: a mapping file ends in .toml, .yaml, .yml or .json")
    except (tomllib.TOMLDecodeError, ValueError) as e:
        raise MappingError(f"{p.name}: not valid {suffix[1:].upper()}: {e}") from e
    except Exception as e:  # yaml.YAMLError without importing yaml at module level
        if type(e).__module__.startswith("yaml"):
            raise MappingError(f"{p.name}: not valid YAML: {e}") from e
        raise
    check_mapping(data, p.name)
    return data


# The keys of a mapping's [citizen] table, with what each does (docs/importing.md documents every one,
# and a test checks it). A key not listed is refused with the nearest known keys as suggestions.
CITIZEN_KEYS: dict[str, str] = {
    "indicator": "the SDG indicator every figure measures (\"6.1.1\")",
    "indicator_column": "or: the column holding each row's indicator code",
    "value": "the column holding the figure; or a table: {sum = [columns or globs], per = COLUMN, scale = 100} "
             "(a sum of columns, optionally divided by a column and scaled) or {count = true} (the number of "
             "records per area and year)",
    "values": "[citizen.values]: labels of the figure column -> figures (yes = 100, unknown = \"\")",
    "decimal_comma": "true: read 1,234 as 1.234 in the figure columns (a lone 12,5 is always 12.5)",
    "period": "a year or date column (see the date forms)",
    "year": "or: one year for every row (year = 2024)",
    "date_order": "\"dmy\" or \"mdy\": how to read 01/09/2015 when no date in the column decides",
    "lat": "the latitude column (points)",
    "lon": "the longitude column (points)",
    "geopoint": "or: one column holding \"lat lon\" (Kobo/ODK geopoint)",
    "area": "or: an area code or name column (area aggregates)",
    "n": "the respondents behind each aggregate (small cells are suppressed)",
    "unit": "the unit of the figures (percent, items per 100 m)",
    "dims": "[citizen.dims]: dimension -> column (SEX = \"gender\")",
    "where": "[citizen.where]: column -> condition; only rows meeting every condition are imported",
    "country": "a column naming each row's country (ISO3, ISO2 or name): each point is checked against it",
    "within": "a column naming an area of the store (code or name) each point must lie in",
}
VALUE_KEYS = ("sum", "sum_regex", "per", "scale", "count")
DATE_ORDER_VALUES = ("dmy", "mdy")


def _suggest(key: str, known: Any) -> str:
    import difflib

    near = difflib.get_close_matches(str(key), list(known), n=3, cutoff=0.5)
    return f" (did you mean {' or '.join(near)}?)" if near else f" (known: {', '.join(known)})"


def check_citizen(cfg: Any, name: str = "mapping") -> None:
    """Refuse a [citizen] table with an unknown key or a value of the wrong shape, with suggestions."""
    if not isinstance(cfg, dict):
        raise MappingError(f"{name}: [citizen] must be a table of column roles")
    for key, v in cfg.items():
        if key not in CITIZEN_KEYS:
            raise MappingError(f"{name}: [citizen] unknown key {key!r}{_suggest(key, CITIZEN_KEYS)}")
        if key in ("values", "dims", "where") and not isinstance(v, dict):
            raise MappingError(f"{name}: [citizen] {key} must be a table, e.g. [citizen.{key}]")
    spec = cfg.get("value")
    if isinstance(spec, dict):
        for k in spec:
            if k not in VALUE_KEYS:
                raise MappingError(f"{name}: [citizen] value: unknown key {k!r}{_suggest(k, VALUE_KEYS)}")
        if sum(k in spec for k in ("sum", "sum_regex", "count")) != 1:
            raise MappingError(f"{name}: [citizen] value must say one of sum = [...], sum_regex = \"...\" or "
                               "count = true")
        if "count" in spec and (spec["count"] is not True or set(spec) - {"count"}):
            raise MappingError(f"{name}: [citizen] value = {{count = true}} takes no other key")
        if "sum" in spec and not (isinstance(spec["sum"], list) and spec["sum"]
                                  and all(isinstance(c, str) for c in spec["sum"])):
            raise MappingError(f"{name}: [citizen] value.sum must be a list of column names or globs")
        if "sum_regex" in spec:
            try:
                re.compile(str(spec["sum_regex"]))
            except re.error as e:
                raise MappingError(f"{name}: [citizen] value.sum_regex is not a regular expression: {e}") from e
        if "scale" in spec and (isinstance(spec["scale"], bool) or not isinstance(spec["scale"], int | float)):
            raise MappingError(f"{name}: [citizen] value.scale must be a number (e.g. 100)")
        if "per" in spec and not isinstance(spec["per"], str):
            raise MappingError(f"{name}: [citizen] value.per must be a column name")
    elif spec is not None and not isinstance(spec, str):
        raise MappingError(f"{name}: [citizen] value must be a column name or a table such as {{sum = [...]}}")
    order = cfg.get("date_order")
    if order is not None and str(order).lower() not in DATE_ORDER_VALUES:
        raise MappingError(f"{name}: [citizen] date_order = {order!r}: expected \"dmy\" (01/09/2015 is 1 September) "
                           "or \"mdy\" (9 January)")
    if "decimal_comma" in cfg and not isinstance(cfg["decimal_comma"], bool):
        raise MappingError(f"{name}: [citizen] decimal_comma must be true or false")
    for col, cond in (cfg.get("where") or {}).items():
        ok = isinstance(cond, str | bool | int | float) or (
            isinstance(cond, list) and all(isinstance(x, str | int | float) for x in cond)) or (
            isinstance(cond, dict) and set(cond) == {"not"} and isinstance(cond["not"], str | int | float | list))
        if not ok:
            raise MappingError(f"{name}: [citizen.where] {col!r}: expected true (set), false (empty), a value, a list "
                               "of values, or {not = [values]}")


def check_mapping(data: Any, name: str = "mapping") -> None:
    """Refuse a mapping whose shape is wrong, saying which key."""
    if not isinstance(data, dict):
        raise MappingError(f"{name}: expected tables such as [columns], [labels.SEX], [areas], [citizen]")
    known = {"columns", "labels", "areas", "citizen", "official", "boundaries"}
    for key in data:
        if key not in known:
            raise MappingError(f"{name}: unknown section [{key}] (known: {', '.join(sorted(known))})")
    for section in ("columns", "areas"):
        if section in data and not isinstance(data[section], dict):
            raise MappingError(f"{name}: [{section}] must map names to names")
    if "citizen" in data:
        check_citizen(data["citizen"], name)
    for col, role in (data.get("columns") or {}).items():
        if not isinstance(role, str) or (role.upper() not in DIMENSION_NAMES and role.lower() not in (OTHER, IGNORE)):
            raise MappingError(f"{name}: [columns] {col!r} = {role!r}: expected a dimension "
                               f"({', '.join(DIMENSION_NAMES)}), 'other' or 'ignore'")
    labels = data.get("labels") or {}
    if not isinstance(labels, dict):
        raise MappingError(f"{name}: [labels] must hold one table per dimension, e.g. [labels.SEX]")
    for dim, table in labels.items():
        if str(dim).upper() not in DIMENSION_NAMES:
            raise MappingError(f"{name}: [labels.{dim}]: unknown dimension (known: {', '.join(DIMENSION_NAMES)})")
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise MappingError(f"{name}: [labels.{dim}] must map source labels to codes (text)")


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k, ensure_ascii=False)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)


def _toml_lines(data: dict[str, Any], prefix: str = "") -> list[str]:
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for k, v in data.items():
        if isinstance(v, dict):
            name = f"{prefix}.{_toml_key(k)}" if prefix else _toml_key(k)
            lines += ["", f"[{name}]", *_toml_lines(v, name)]
    return lines


def save_mapping(path: str | Path, mapping: dict[str, Any]) -> Path:
    """Write a mapping (TOML unless the name ends in .yaml/.yml/.json), after checking its shape."""
    check_mapping(mapping, Path(path).name)
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False)
    elif suffix == ".json":
        text = json.dumps(mapping, indent=1, ensure_ascii=False) + "\n"
    else:
        text = "# GapLens mapping file: source columns, labels and areas -> SDMX dimensions, codes and area codes\n"
        text += "\n".join(_toml_lines(mapping)).lstrip("\n") + "\n"
    storage.atomic_write_bytes(p, text.encode("utf-8"))
    return p


def mapping_text(mapping: dict[str, Any]) -> str:
    """A mapping as TOML text (for a download button)."""
    check_mapping(mapping)
    return "\n".join(_toml_lines(mapping)).lstrip("\n") + "\n"


class Mapper:
    """Label, column and area lookups for one store, extended by an optional user mapping."""

    def __init__(self, data_dir: Path, user: dict[str, Any] | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.user = user or {}
        self.labels: dict[tuple[str, str], str] = {}
        self.pairs: dict[tuple[str, str], tuple[str, str]] = {}
        self.codes: dict[str, set[str]] = {d: {TOTAL} for d in DIMENSION_NAMES}
        # the package's labels first, then the store's own table (which wins): a store made before a
        # label was added to the package still knows it
        shipped = pd.read_csv(storage.DEFAULT_TABLES_DIR / storage.CATALOGUE_FILES["dimension_labels"], dtype=str,
                              keep_default_na=False)
        table = pd.concat([shipped, storage.read_catalogue(self.data_dir, "dimension_labels")], ignore_index=True)
        for r in table.itertuples(index=False):
            self._add_label(str(r.dimension).upper(), str(r.source_label), str(r.code))
        for dim, entries in (self.user.get("labels") or {}).items():
            for label, code in entries.items():
                self._add_label(str(dim).upper(), str(label), str(code))
        self.columns: dict[str, str] = {}
        cols = pd.read_csv(DIMENSION_COLUMNS_FILE, dtype=str, keep_default_na=False)
        for r in cols.itertuples(index=False):
            self.columns[norm_header(r.source_column)] = r.dimension
        for d in DIMENSION_NAMES:
            self.columns.setdefault(norm_header(d), d)
        for col, role in (self.user.get("columns") or {}).items():
            self.columns[norm_header(col)] = role.upper() if role.upper() in DIMENSION_NAMES else role.lower()
        self._areas: pd.DataFrame | None = None

    def _add_label(self, dim: str, label: str, code: str) -> None:
        if dim not in self.codes:
            return
        self.codes[dim].add(code)
        n = norm(label)
        if "=" in n:
            col, _, val = n.partition("=")
            self.pairs[(norm_header(col), norm(val))] = (dim, code)
        else:
            self.labels[(dim, n)] = code

    # --- columns and labels ---------------------------------------------------------------------

    def column_role(self, column: str) -> str | None:
        """The dimension a column holds, ``other``/``ignore`` if a mapping says so, else None."""
        return self.columns.get(norm_header(column))

    def code(self, dim: str, label: Any) -> tuple[str | None, str]:
        """SDMX code of ``label`` on ``dim`` and how it was found (``table``, ``code``, ``pattern``, ``blank``)."""
        n = norm(label)
        if n == "":
            return TOTAL, "blank"
        hit = self.labels.get((dim, n))
        if hit is not None:
            return hit, "table"
        for c in self.codes[dim]:
            if c.casefold() == n:
                return c, "code"
        for p in PATTERNS:
            if p.dimension == dim:
                m = p.regex.match(n)
                if m:
                    code = p.code(m)
                    if code:
                        return code, "pattern"
        return None, ""

    def pair(self, column: str, label: Any) -> tuple[str, str] | None:
        return self.pairs.get((norm_header(column), norm(label)))

    def is_total_label(self, label: Any) -> bool:
        n = norm(label)
        return n == "" or any(self.labels.get((d, n)) == TOTAL for d in DIMENSION_NAMES)

    def sole_dimension(self, labels: list[str]) -> str | None:
        """The one dimension every non-total label maps to (by table or pattern), if there is one."""
        dims: set[str] | None = None
        seen = False
        for lab in labels:
            if self.is_total_label(lab):
                continue
            seen = True
            here = {d for d in DIMENSION_NAMES if (self.code(d, lab)[0] or TOTAL) != TOTAL}
            dims = here if dims is None else dims & here
            if not dims:
                return None
        if not seen or not dims or len(dims) != 1:
            return None
        return next(iter(dims))

    # --- areas ----------------------------------------------------------------------------------

    def areas(self) -> pd.DataFrame:
        """Areas of the store (code, name, level, parent_code), read without geometry."""
        if self._areas is None:
            import pyarrow.parquet as pq

            parts = []
            for f in storage.area_files(self.data_dir):
                try:
                    parts.append(pq.read_table(f, columns=["code", "name", "level", "parent_code"]).to_pandas())
                except (OSError, ValueError) as e:  # a broken areas file: report as no areas, the store says more
                    log.warning("cannot read %s: %s", f, e)
            self._areas = (pd.concat(parts, ignore_index=True) if parts
                           else pd.DataFrame(columns=["code", "name", "level", "parent_code"]))
        return self._areas

    def area_lookup(self, *, level: int | None = None) -> tuple[dict[str, str], dict[str, list[str]]]:
        """``{normalised code: code}`` and ``{normalised name: [codes]}`` (a name may repeat across levels)."""
        a = self.areas()
        if level is not None:
            a = a[a["level"] == level]
        by_code = {norm(c): c for c in a["code"]}
        by_name: dict[str, list[str]] = {}
        for c, n in zip(a["code"], a["name"], strict=False):
            by_name.setdefault(norm(n), []).append(c)
        for label, code in (self.user.get("areas") or {}).items():
            by_name[norm(label)] = [str(code)]
        return by_code, by_name


@dataclass
class DimensionResult:
    frame: pd.DataFrame      # dimension columns (lowercase names) + other_dims
    bad: np.ndarray          # rows with an unmapped label or a conflict


def map_dimensions(df: pd.DataFrame, columns: list[str], rows: np.ndarray, mapper: Mapper, report: Report, *,
                   strict: bool = True) -> DimensionResult:
    """Translate the breakdown columns of ``df`` into SDMX dimension codes, row by row.

    A column whose header names a dimension (``Sex``, ``[Location]``) is read on that dimension:
    every label must map, or its rows are reported (``strict``). A column the tables do not know
    is read on a dimension when all its labels point to the same one (``Category``: ``disabled``
    -> ``DISABILITY_STATUS``); otherwise its non-total labels are kept in ``other_dims``
    (``Employment status=Employed``), so that nothing is lost.
    """
    n = len(df)
    out = {dim_column(d): np.full(n, TOTAL, dtype=object) for d in DIMENSION_NAMES}
    source = {dim_column(d): np.full(n, "", dtype=object) for d in DIMENSION_NAMES}
    other_parts: list[np.ndarray] = []
    bad = np.zeros(n, dtype=bool)
    for col in columns:
        values = df[col].to_numpy(dtype=object)
        fcodes, uniques = pd.factorize(values, use_na_sentinel=False)
        index = {str(u): k for k, u in enumerate(uniques)}
        role = mapper.column_role(col)
        if role == IGNORE:
            report.drop_column(col, "ignored by the mapping file")
            continue
        if role is None:
            role = mapper.sole_dimension([str(u) for u in uniques if not mapper.pair(col, u)])
            if role is not None:
                report.info(f"column {col!r} read as dimension {role} (every label in it is one of {role}'s)")
        per_value: dict[str, tuple[str | None, str | None]] = {}   # label -> (dimension, code); code None = unmapped
        for u in uniques:
            label = str(u)
            pair = mapper.pair(col, label)
            if pair is not None:
                per_value[label] = pair
            elif role in DIMENSION_NAMES:
                code, how = mapper.code(role, label)
                per_value[label] = (role, code)
                if how == "pattern" and str(code).casefold() != label.strip().casefold():
                    report.info(f"column {col!r}: label {label!r} read as {role}={code}")
            elif mapper.is_total_label(label):
                per_value[label] = (None, TOTAL)
            else:
                per_value[label] = (OTHER, label)
        other = np.full(n, "", dtype=object)
        unmapped: dict[str, list[int]] = {}
        for label, (dim, code) in per_value.items():
            mask = fcodes == index[label]
            if dim == OTHER:
                other[mask] = f"{col.strip('[] ').replace(';', ',')}={label.strip().replace(';', ',')}"
                continue
            if dim is None:
                continue
            if code is None:
                unmapped[label] = list(rows[mask])
                continue
            if code == TOTAL:
                continue
            c = dim_column(dim)
            clash = mask & (out[c] != TOTAL) & (out[c] != code)
            for i in np.flatnonzero(clash):
                report.error(f"two columns give {dim} different codes on this row ({source[c][i]} -> {out[c][i]}, "
                             f"{col} -> {code})", row=int(rows[i]), column=col, value=label, code="dimension_clash")
            bad |= clash
            out[c][mask & ~clash] = code
            source[c][mask & ~clash] = col
        for label, where in unmapped.items():
            dim = role if role in DIMENSION_NAMES else "?"
            msg = (f"label not in the mapping tables for {dim}: add it to a mapping file "
                   f"([labels.{dim}] {json.dumps(label)} = \"CODE\") or to dimension_labels.csv")
            if strict:
                for r in where:
                    report.error(msg, row=int(r), column=col, value=label, code="unmapped_label")
                bad |= np.isin(rows, where)
            else:
                report.warn(msg + f" ({len(where)} rows)", row=int(where[0]), column=col, value=label,
                            code="unmapped_label")
        if (other != "").any():
            other_parts.append(other)
            kept = sorted({v.partition("=")[2] for v in other if v})
            report.info(f"column {col!r} is no SDMX dimension: its labels are kept as breakdowns "
                        f"({', '.join(kept[:6])}{', …' if len(kept) > 6 else ''})")
    if other_parts:
        stacked = np.column_stack(other_parts)
        other_dims = np.array([";".join(sorted(p for p in r if p)) for r in stacked], dtype=object)
    else:
        other_dims = np.full(n, "", dtype=object)
    frame = pd.DataFrame(out, dtype=object)
    frame["other_dims"] = pd.Series(other_dims, dtype=object)
    return DimensionResult(frame=frame, bad=bad)
