"""Official SDG files into the tidy schema: detection of the format, then one long shape.

Formats (``--format`` forces one):

``un_long``
    UN SDG Global Database / SDG API CSV: ``Goal, Target, Indicator, SeriesCode, ...,
    GeoAreaCode, GeoAreaName, TimePeriod, Value, Time_Detail, Source, FootNote, Nature, Units``,
    then dimensions in square brackets (``[Sex]``, ``[Age]``, ...). Unknown columns are tolerated.
``un_wide``
    UN SDG data portal export: the same leading columns, unbracketed dimensions, one column per year.
``open_sdg``
    Open SDG CSV (national reporting platforms): ``Year``, breakdown columns (blank = total), optional
    ``Units``, ``Series``, ``GeoCode``, ``Observation status``, then ``Value``. The indicator comes
    from the file name (``indicator_1-1-1.csv``) or ``indicator=``; the country from ``GeoCode``,
    ``area=``, or a country name in the file name.
``sdmx``
    SDMX-CSV with the SDG data structure's IDs (``REF_AREA``, ``TIME_PERIOD``, ``OBS_VALUE``, ``SEX``...).
``canonical``
    The project's own tidy CSV or Parquet (``indicator, area_code, period, value``, dimension columns).

UN M49 numeric area codes become ISO 3166-1 alpha-3 through ``data_layers/tables/m49.csv``; other M49
codes are regional aggregates (World, Sub-Saharan Africa...): kept apart, never areas on a map.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import storage
from ..schema import DIMENSION_NAMES, TOTAL, dim_column
from . import values as val
from .areas import FORMAT_SCHEMES, SCHEMES, AreaResolver, is_area_name_header
from .mapping import Mapper, map_dimensions, norm, norm_header
from .reading import LABEL_SUFFIX, Table, read_parquet_table, read_table
from .report import Report

INDICATOR_RE = re.compile(r"^\d{1,2}\.[0-9a-z]{1,2}\.[0-9a-z]{1,2}(?:\.[0-9a-z]{1,3})*$", re.I)
# Open SDG names files indicator_<goal>-<target>-<indicator>[-<national part>].csv
_FILE_INDICATOR = re.compile(r"(?:^|[^0-9a-z])indicator[_\- ]?(\d{1,2})[-_.]([0-9a-z]{1,2})[-_.]([0-9a-z]{1,2})"
                             r"((?:[-.](?:[a-z]|\d{1,2})(?=$|[^0-9a-z]))*)", re.I)

# Columns with a known role, per format (compared with mapping.norm_header: case, brackets and _ ignored).
UN_META = {
    "goal": "goal", "target": "target", "indicator": "indicator", "seriescode": "series",
    "seriesdescription": "series_description", "geoareacode": "area", "geoareaname": "area_name",
    "timeperiod": "period", "value": "value", "time detail": "period_label", "timecoverage": None,
    "upperbound": "upper", "lowerbound": "lower", "baseperiod": None, "source": "source",
    "geoinfourl": None, "footnote": "footnote", "nature": "nature", "units": "unit",
    "reporting type": "reporting_type", "observation status": "status", "unit multiplier": None,
    "unit mult": None, "series": "series", "seriesid": None, "record id": None, "recordid": None,
}
OPEN_SDG_META = {
    "year": "period", "value": "value", "units": "unit", "unit": "unit", "unit measure": "unit",
    "unit of measure": "unit", "unit of measurement": "unit", "series": "series",
    "geocode": "area", "geo code": "area", "observation status": "status", "obs status": "status",
    "unit multiplier": None, "unit mult": None, "footnote": "footnote", "comment": "footnote",
    "indicator": "indicator", "lower bound": "lower", "upper bound": "upper", "sample size": "n",
    # Open SDG's documented non-disaggregation columns: a progress measure, not a breakdown
    "progress": None, "reporting type": "reporting_type",
}
SDMX_META = {
    "dataflow": None, "structure": None, "structure id": None, "structure name": None, "action": None,
    "freq": None, "reporting type": "reporting_type", "series": "series", "indicator": "indicator",
    "ref area": "area", "time period": "period", "obs value": "value", "upper bound": "upper",
    "lower bound": "lower", "unit mult": None, "unit measure": "unit", "obs status": "status",
    "nature": "nature", "base per": None, "source detail": "source", "comment obs": "footnote",
    "time detail": "period_label", "geo info url": None, "geo info type": None, "comment ts": None,
    "obs nature": "nature", "observation nature": "nature",
    # UNICEF / .Stat flows: provenance and notes, not breakdowns
    "data source": "source", "country notes": "footnote", "ref period": None, "obs footnote": "footnote",
    "time period method": None, "obs conf": None, "lower bound method": None, "upper bound method": None,
}
CANONICAL_META = {
    "indicator": "indicator", "series": "series", "area code": "area", "period": "period",
    "period label": "period_label", "other dims": "other_dims", "value": "value", "lower": "lower", "upper": "upper",
    "n": "n", "unit": "unit", "obs status": "status", "suppressed": "suppressed", "source": "source",
    "footnote": "footnote", "obs key": None, "dataset id": None, "source kind": None, "disagg dim": None,
    "disagg code": None, "lat": None, "lon": None, "is point": None,
}
# UN "Nature" of data: E estimated, M modelled, G global monitoring data -> SDMX status E; others normal.
NATURE_STATUS = {"e": "E", "m": "E", "g": "E", "na": "M"}
SDMX_TOTAL_CODES = frozenset({"_t", "_z", "_x", "_u"})  # total, not applicable, unspecified: no breakdown
YEAR_HEADER = re.compile(r"^(1[89]\d\d|20\d\d)(?:\.0)?$")


@dataclass
class Parsed:
    """A file read into long raw text columns, before the common checks."""

    long: pd.DataFrame                      # role columns (text) + breakdown columns
    rows: np.ndarray                        # source row of each long row
    value_columns: np.ndarray | None = None  # per row, the column the value came from (wide files)
    dims: list[str] = field(default_factory=list)
    known: dict[str, str] = field(default_factory=dict)  # role -> source column (for messages)
    area_names: list[str] = field(default_factory=list)   # columns naming areas (Geography, Local Authority...)


@dataclass
class OfficialResult:
    observations: pd.DataFrame              # partial tidy frame (before tidy.finish), one row per stored figure
    kept_apart: pd.DataFrame                # regional aggregates and other rows kept beside the dataset
    rows_total: int = 0
    indicators: list[str] = field(default_factory=list)


def detect_format(columns: list[str], path: Path) -> str | None:
    """The official format a header belongs to (the first record of :data:`OFFICIAL_FORMATS` whose
    ``detect`` accepts it), or None. A Parquet file is always the tidy (canonical) shape."""
    if path.suffix.lower() == ".parquet":
        return "canonical"
    h = {norm_header(c) for c in columns}
    return next((f.name for f in OFFICIAL_FORMATS if f.detect(h, columns)), None)


def indicator_from_name(name: str) -> str | None:
    """``armenia_indicator_1-1-1.csv`` -> ``1.1.1`` (Open SDG names files after their indicator)."""
    m = _FILE_INDICATOR.search(Path(name).stem)
    if not m:
        return None
    tail = [p for p in re.split(r"[-.]", m.group(4) or "") if p]
    code = ".".join([m.group(1), m.group(2), m.group(3), *tail]).lower()
    return code if INDICATOR_RE.match(code) else None


def _split_columns(table: Table, meta: dict[str, str | None], report: Report,
                   *, bracketed_dims: bool = False, years: bool = False) -> tuple[dict[str, str], list[str], list[str]]:
    """``role -> column``, breakdown columns, year columns; unknown extra columns are reported."""
    roles: dict[str, str] = {}
    dims: list[str] = []
    year_cols: list[str] = []
    for c in table.columns:
        key = norm_header(c)
        if years and YEAR_HEADER.match(c.strip()):
            year_cols.append(c)
            continue
        if key in meta:
            role = meta[key]
            if role is None:
                report.drop_column(c, "not needed by GapLens (metadata of the source)")
            elif role in roles:
                report.drop_column(c, f"a second {role} column; {roles[role]!r} was used")
            else:
                roles[role] = c
            continue
        if bracketed_dims and not c.strip().startswith("["):
            report.drop_column(c, "unknown column (tolerated; not a [bracketed] dimension)")
            continue
        dims.append(c)
    return roles, dims, year_cols


def _col(df: pd.DataFrame, roles: dict[str, str], role: str, default: str = "") -> np.ndarray:
    c = roles.get(role)
    if c is None:
        return np.full(len(df), default, dtype=object)
    return val.stripped(val.cells(df[c]))


def _long_from(table: Table, roles: dict[str, str], dims: list[str]) -> Parsed:
    df = table.frame
    out = pd.DataFrame({role: _col(df, roles, role) for role in (
        "indicator", "series", "area", "area_name", "period", "period_label", "value", "lower", "upper", "n",
        "unit", "status", "nature", "source", "footnote", "reporting_type", "other_dims", "suppressed")}, dtype=object)
    for d in dims:
        out[d] = pd.Series(val.cells(df[d]), dtype=object)
    return Parsed(long=out, rows=table.rows, dims=dims, known=roles)


def _wide_to_long(table: Table, roles: dict[str, str], dims: list[str], year_cols: list[str]) -> Parsed:
    df = table.frame
    base = _long_from(table, roles, dims)
    parts, rows, vcols = [], [], []
    for yc in year_cols:
        cells = val.stripped(val.cells(df[yc]))
        keep = cells != ""
        if not keep.any():
            continue
        part = base.long.loc[keep].copy()
        part["value"] = pd.Series(cells[keep], index=part.index, dtype=object)
        year = YEAR_HEADER.match(yc.strip()).group(1)
        part["period"] = pd.Series(year, index=part.index, dtype=object)
        parts.append(part)
        rows.append(table.rows[keep])
        vcols.append(np.full(int(keep.sum()), yc, dtype=object))
    if not parts:
        empty = base.long.iloc[0:0]
        return Parsed(long=empty, rows=np.zeros(0, dtype=np.int64), value_columns=np.zeros(0, dtype=object),
                      dims=dims, known=roles)
    return Parsed(long=pd.concat(parts, ignore_index=True), rows=np.concatenate(rows),
                  value_columns=np.concatenate(vcols), dims=dims, known=roles)


_SDMX_ID = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _drop_sdmx_labels(table: Table, report: Report) -> None:
    """SDMX-CSV written with label columns (UNICEF, .Stat): ``SEX`` then ``Sex``, ``REF_AREA`` then
    ``Geographic area``. A column right after a code column (an upper-case SDMX id) whose own
    header is not an id is that column's label: dropped, the code is what counts."""
    cols = list(table.columns)
    drop = []
    for i, c in enumerate(cols):
        prev = cols[i - 1] if i else ""
        if LABEL_SUFFIX in c or (prev and _SDMX_ID.match(prev) and not _SDMX_ID.match(c.strip())):
            drop.append(c)
            report.drop_column(c, f"labels of the SDMX column {prev} (its codes are read)")
    if drop:
        table.frame = table.frame.drop(columns=drop)


def _sdmx_codes(df: pd.DataFrame, columns: list[str]) -> None:
    """SDMX-CSV written with labels (``F: Female``): keep the code before the colon."""
    for c in columns:
        s = df[c].astype(str)
        if s.str.contains(": ", regex=False).any():
            df[c] = s.str.split(": ", n=1).str[0]


# --- the official formats, as records ----------------------------------------------------------
# Each format: its name (``--format``), a title, how its header is recognised and how it is read
# into the long raw shape (:class:`Parsed`). Detection tries the records in this order; a new
# format is one record (docs/architecture.md, "How to add an importer format").

Reader = Callable[[Table, Report], "tuple[dict[str, str], Parsed] | None"]


@dataclass(frozen=True)
class OfficialFormat:
    """One official input format."""

    name: str
    title: str
    detect: Callable[[set[str], list[str]], bool]
    """``detect(normalised headers, raw headers)``: does a header look like this format?"""
    read: Reader
    """``read(table, report)``: the column roles and the long raw shape, or None (reasons in ``report``)."""


def _un_header(h: set[str]) -> bool:
    return {"seriescode", "geoareacode"} <= h or {"geoareacode", "timeperiod"} <= h


def _has_year_columns(columns: list[str]) -> bool:
    return any(YEAR_HEADER.match(str(c).strip()) for c in columns)


def _read_un_long(table: Table, report: Report) -> tuple[dict[str, str], Parsed] | None:
    roles, dims, _ = _split_columns(table, UN_META, report, bracketed_dims=True)
    return roles, _long_from(table, roles, dims)


def _read_un_wide(table: Table, report: Report) -> tuple[dict[str, str], Parsed] | None:
    roles, dims, years = _split_columns(table, UN_META, report, years=True)
    if not years:
        report.error("a UN wide export needs one column per year (2000, 2001, ...): none found", row=1, code="format")
        return None
    return roles, _wide_to_long(table, roles, dims, years)


def _read_open_sdg(table: Table, report: Report) -> tuple[dict[str, str], Parsed] | None:
    roles, dims, _ = _split_columns(table, OPEN_SDG_META, report)
    parsed = _long_from(table, roles, dims)
    parsed.area_names = [c for c in dims if is_area_name_header(c)]
    parsed.dims = [c for c in dims if c not in parsed.area_names]
    for c in parsed.area_names:
        report.drop_column(c, "area names: used to attach each row to the area it describes, not a breakdown")
    return roles, parsed


def _read_sdmx(table: Table, report: Report) -> tuple[dict[str, str], Parsed] | None:
    _sdmx_codes(table.frame, list(table.columns))
    table.frame.columns = [c.split(": ", 1)[0] if ": " in c else c for c in table.columns]
    _drop_sdmx_labels(table, report)
    roles, dims, _ = _split_columns(table, SDMX_META, report)
    return roles, _long_from(table, roles, dims)


def _read_canonical(table: Table, report: Report) -> tuple[dict[str, str], Parsed] | None:
    roles, dims, _ = _split_columns(table, CANONICAL_META, report)
    return roles, _long_from(table, roles, dims)


OFFICIAL_FORMATS: tuple[OfficialFormat, ...] = (
    OfficialFormat("sdmx", "SDMX-CSV (SDG data structure)",
                   lambda h, cols: {"ref area", "obs value"} <= h or {"ref area", "time period"} <= h, _read_sdmx),
    OfficialFormat("canonical", "GapLens tidy CSV or Parquet",
                   lambda h, cols: {"indicator", "area code", "period", "value"} <= h, _read_canonical),
    OfficialFormat("un_long", "UN SDG Global Database / API CSV (long, bracketed dimensions)",
                   lambda h, cols: _un_header(h) and (("timeperiod" in h and "value" in h) or not _has_year_columns(cols)),
                   _read_un_long),
    OfficialFormat("un_wide", "UN SDG data portal export (wide: one column per year)",
                   lambda h, cols: _un_header(h) and _has_year_columns(cols), _read_un_wide),
    OfficialFormat("open_sdg", "Open SDG CSV (national reporting platform)",
                   lambda h, cols: "year" in h and "value" in h, _read_open_sdg),
)
OFFICIAL_FORMATS_BY_NAME: dict[str, OfficialFormat] = {f.name: f for f in OFFICIAL_FORMATS}
# name -> title, in the order the CLI and the import page list them
FORMAT_ORDER = ("un_long", "un_wide", "open_sdg", "sdmx", "canonical")
FORMATS: dict[str, str] = {name: OFFICIAL_FORMATS_BY_NAME[name].title for name in FORMAT_ORDER}


def parse_file(path: Path, report: Report, *, fmt: str | None, encoding: str | None, sheet: Any = None) -> Parsed | None:  # noqa: PLR0911
    """Read and detect; return the long raw shape (or None with the reasons in ``report``)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        df = read_parquet_table(path, report)
        if df is None:
            return None
        for c in df.columns:
            df[c] = df[c].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
        table = Table(frame=df.astype(object), rows=np.arange(2, len(df) + 2, dtype=np.int64))
    else:
        table = read_table(path, report, encoding=encoding, sheet=sheet)
        if table is None:
            return None
    if fmt and fmt not in FORMATS:
        report.error(f"unknown --format {fmt!r} for official data (known: {', '.join(FORMATS)})", code="format")
        return None
    detected = detect_format(table.columns, path)
    fmt = fmt or detected
    if fmt is None:
        report.error("not a known official format: expected an Open SDG CSV (Year, ..., Value), a UN SDG "
                     "download (SeriesCode, GeoAreaCode, TimePeriod, Value or year columns), SDMX-CSV "
                     "(REF_AREA, TIME_PERIOD, OBS_VALUE) or GapLens tidy CSV (indicator, area_code, period, value); "
                     f"the header is: {', '.join(table.columns[:12])}", row=1, code="format")
        return None
    if detected and fmt != detected:
        report.info(f"format forced to {fmt} (the header looks like {detected})")
    report.format = fmt
    read = OFFICIAL_FORMATS_BY_NAME[fmt].read(table, report)
    if read is None:
        return None
    roles, parsed = read
    need = ["period"] if fmt == "un_wide" else ["period", "value"]
    missing = [r for r in need if r not in roles and not (fmt == "un_wide" and r == "period")]
    if missing:
        report.error(f"no {' and no '.join(missing)} column for the {fmt} format", row=1, code="format")
        return None
    report.rows_read = len(table.frame)
    return parsed


def resolve_indicator(parsed: Parsed, report: Report, mapper: Mapper, *, fmt: str, indicator: str | None,  # noqa: PLR0911
                      source_name: str, catalogue: pd.DataFrame) -> np.ndarray | None:
    """Indicator code per row: explicit option, the file's column, the series, or the file name."""
    n = len(parsed.long)
    col = parsed.long["indicator"].to_numpy(dtype=object)
    if indicator:
        if not INDICATOR_RE.match(indicator):
            report.error(f"indicator {indicator!r} is not an SDG indicator code such as 1.2.1 or 1.2.1.a", code="indicator")
            return None
        return np.full(n, indicator.lower(), dtype=object)
    if (col != "").any():
        cleaned = pd.Series(col).str.strip("[]'\" ").str.split(",").str[0].str.strip().to_numpy(dtype=object)
        if (cleaned != col).any():
            report.info("indicator cells listing several indicators: the first one is used")
        return cleaned
    series = parsed.long["series"].to_numpy(dtype=object)
    if (series != "").any():
        by_series = {s.casefold(): c for s, c in zip(catalogue["series"], catalogue["code"], strict=False) if s}
        out = np.array([by_series.get(str(s).casefold(), "") for s in series], dtype=object)
        unknown = sorted({s for s, o in zip(series, out, strict=False) if not o and s})
        for s in unknown:
            report.error(f"series {s!r} is not in the indicator catalogue: say which indicator it measures "
                         "(--indicator CODE)", column=parsed.known.get("series"), value=s, code="indicator")
        if unknown:
            return None
        return out
    code = indicator_from_name(source_name)
    if code:
        report.info(f"indicator {code} taken from the file name")
        return np.full(n, code, dtype=object)
    report.error("cannot tell which indicator this file is about: name the file after it "
                 "(indicator_1-2-1.csv, as Open SDG does) or give --indicator CODE", code="indicator")
    return None


def guess_area_from_name(source_name: str, mapper: Mapper, report: Report) -> str | None:
    """A country named in the file name (``armenia_indicator_1-1-1.csv`` -> ARM), if exactly one matches."""
    a = mapper.areas()
    countries = a[a["level"] == 0]
    names = {norm(nm): c for c, nm in zip(countries["code"], countries["name"], strict=False)}
    stem = norm(Path(source_name).stem)
    tokens = [t for t in re.split(r"[^a-z]+", stem) if len(t) > 2]
    found = {names[t] for t in tokens if t in names}
    for size in (2, 3):  # multi-word names: "sri lanka", "south sudan", "united kingdom"
        for i in range(len(tokens) - size + 1):
            phrase = " ".join(tokens[i:i + size])
            if phrase in names:
                found.add(names[phrase])
    if len(found) == 1:
        code = found.pop()
        report.warn(f"no GeoCode column and no --area: the country was taken from the file name ({code}); "
                    "give --area CODE to be explicit", code="area_from_name")
        return code
    return None


def parse_official(path: Path, report: Report, mapper: Mapper, *, fmt: str | None = None, indicator: str | None = None,
                   area: str | None = None, encoding: str | None = None, sheet: Any = None,
                   source_name: str | None = None, geo_level: int | None = None,
                   geo_scheme: str | None = None) -> OfficialResult | None:
    """Read, detect, map and check an official file. Row problems are in ``report``; nothing is written."""
    source_name = source_name or Path(path).name
    parsed = parse_file(path, report, fmt=fmt, encoding=encoding, sheet=sheet)
    if parsed is None:
        return None
    fmt = report.format
    long = parsed.long
    rows = parsed.rows
    n = len(long)
    catalogue = storage.read_catalogue(mapper.data_dir, "indicators")
    value_col = parsed.known.get("value", "value")
    value_cols = parsed.value_columns if parsed.value_columns is not None else np.full(n, value_col, dtype=object)

    # values first: a file with no figure at all is "no data", whatever else it lacks
    status_raw = long["status"].to_numpy(dtype=object)
    status = val.parse_status(status_raw, rows, parsed.known.get("status", "status"), report) if (status_raw != "").any() \
        else np.full(n, "A", dtype=object)
    nature = val.per_unique(long["nature"].to_numpy(dtype=object), lambda u: NATURE_STATUS.get(str(u).casefold(), ""))
    status = np.where((status == "A") & (nature != ""), nature, status)
    vals = val.parse_values(long["value"].to_numpy(dtype=object), rows, value_cols if fmt == "un_wide" else value_col,
                          report, status=status, status_column=parsed.known.get("status", ""),
                          decimal_comma=report.delimiter == ";")
    if fmt == "canonical":  # suppressed=true with no value: a suppressed observation (measured), not "no figure"
        marked = long["suppressed"].astype(str).str.strip().str.casefold().isin(["true", "1", "yes"]).to_numpy()
        vals.skipped[marked & vals.skipped] = False
    ind = resolve_indicator(parsed, report, mapper, fmt=fmt, indicator=indicator, source_name=source_name,
                            catalogue=catalogue)
    has_figure = ~vals.skipped & ~vals.bad
    if n == 0 or not has_figure.any():
        report.rows_skipped = int(vals.skipped.sum())
        return OfficialResult(observations=long.iloc[0:0], kept_apart=long.iloc[0:0], rows_total=n)

    years, bad_period = val.parse_periods(long["period"].to_numpy(dtype=object), rows,
                                        parsed.known.get("period", "period"), report)
    label = long["period_label"].to_numpy(dtype=object)
    label = np.where(label == "", long["period"].to_numpy(dtype=object), label)

    area_codes, aggregate, bad_area = _resolve_areas(parsed, report, mapper, fmt=fmt, area=area,
                                                     source_name=source_name, geo_level=geo_level,
                                                     geo_scheme=geo_scheme)
    area_raw = long["area"].to_numpy(dtype=object)
    if area:
        area_raw = np.where(area_raw == "", area, area_raw)
    names = long["area_name"].to_numpy(dtype=object)

    # breakdowns
    if fmt == "sdmx":
        for d in parsed.dims:
            c = long[d].to_numpy(dtype=object)
            long[d] = np.where(val.per_unique(c, lambda u: str(u).strip().casefold() in SDMX_TOTAL_CODES).astype(bool),
                               "", c)
    dims_cols = list(parsed.dims)
    series = long["series"].to_numpy(dtype=object)
    if fmt == "sdmx" and ind is not None and indicator and "indicator" in parsed.known and not (series != "").any():
        series = long["indicator"].to_numpy(dtype=object)  # a non-SDG INDICATOR code (CME_MRY0T4) is the series
    if fmt == "open_sdg":
        dims_cols, series = _series_qualifiers(long, dims_cols, series, mapper, report)
    context = np.full(n, "", dtype=object)
    if fmt != "canonical":
        dims_cols = _constant_columns(long, dims_cols, series, mapper, report, context)
    dims = map_dimensions(long, dims_cols, rows, mapper, report, strict=True)
    _base_age_by_interval(dims.frame, ind if ind is not None else np.full(n, "", dtype=object), series, report,
                          group_spans=_age_group_spans(mapper))
    if fmt in ("un_long", "un_wide", "sdmx"):
        _base_age_as_total(dims.frame, ind if ind is not None else np.full(n, "", dtype=object), series, report)
    if fmt == "canonical" and (long["other_dims"] != "").any():
        extra = long["other_dims"].to_numpy(dtype=object)
        merged = [";".join(sorted(p for p in f"{a};{b}".split(";") if p)) for a, b in zip(dims.frame["other_dims"], extra,
                                                                                         strict=False)]
        dims.frame["other_dims"] = merged

    lower, bad_lo = val.parse_optional_numbers(long["lower"].to_numpy(dtype=object), rows, parsed.known.get("lower", "lower"), report)
    upper, bad_up = val.parse_optional_numbers(long["upper"].to_numpy(dtype=object), rows, parsed.known.get("upper", "upper"), report)
    nn, bad_n = val.parse_optional_numbers(long["n"].to_numpy(dtype=object), rows, parsed.known.get("n", "n"), report, integer=True)
    crossed = np.isfinite(lower) & np.isfinite(upper) & (lower > upper)
    for i in np.flatnonzero(crossed):
        report.error("lower bound above upper bound", row=int(rows[i]), column=parsed.known.get("lower", "lower"),
                     value=f"{lower[i]} > {upper[i]}", code="bounds")
    supp = vals.suppressed.copy()
    if fmt == "canonical":
        flag = long["suppressed"].astype(str).str.strip().str.casefold().isin(["true", "1", "yes"]).to_numpy()
        supp |= flag & ~vals.bad

    bad = vals.bad | bad_period | bad_area | dims.bad | bad_lo | bad_up | bad_n | crossed
    if ind is None:
        ind = np.full(n, "", dtype=object)
    else:
        wrong = val.per_unique(ind, lambda c: not INDICATOR_RE.match(str(c))).astype(bool)
        for i in np.flatnonzero(wrong):
            report.error("not an SDG indicator code such as 1.2.1", row=int(rows[i]),
                         column=parsed.known.get("indicator", "indicator"), value=ind[i], code="indicator")
        bad |= wrong
        from ..catalogue import framework_indicators

        known = set(catalogue["code"]) | set(framework_indicators()["code"])
        for code in sorted({str(c) for c in ind[~wrong]} - known):
            national = len(code.split(".")) > 3
            report.warn(f"indicator {code} is not in the global indicator framework"
                        + (" (a national indicator): it is added to the catalogue under its global parent; give it "
                           "a title in indicators.csv" if national else
                           ": a retired or mistyped code? It is added to the catalogue as written"),
                        column=parsed.known.get("indicator"), value=code, code="indicator_not_in_framework")

    unit = val.per_unique(long["unit"].to_numpy(dtype=object), val.normalise_unit)
    unit = _catalogue_unit(unit, ind, catalogue, report)
    foot = long["footnote"].to_numpy(dtype=object).copy()
    has_ctx = np.flatnonzero(context != "")
    foot[has_ctx] = [("; ".join(x for x in (context[i], foot[i]) if x)) for i in has_ctx]
    extra = np.flatnonzero(vals.footnote != "")
    foot[extra] = [("; ".join(x for x in (foot[i], vals.footnote[i]) if x)) for i in extra]
    obs = pd.DataFrame({
        "indicator": ind, "series": series, "area_code": area_codes,
        "period": years.astype(np.int32), "period_label": label,
        "value": vals.value, "lower": lower, "upper": upper, "n": nn,
        "unit": unit, "obs_status": vals.status, "suppressed": supp,
        "source": long["source"].to_numpy(dtype=object), "footnote": foot,
    })
    for c in dims.frame.columns:
        obs[c] = dims.frame[c].to_numpy(dtype=object)
    obs["_row"] = rows
    obs["_value_raw"] = long["value"].to_numpy(dtype=object)
    obs["_reporting_type"] = long["reporting_type"].to_numpy(dtype=object)
    obs["_area_raw"] = area_raw
    obs["_area_name"] = names

    keep = ~vals.skipped
    report.rows_skipped = int((vals.skipped & ~bad).sum())
    if report.rows_skipped:
        report.info(f"{report.rows_skipped} row(s) without a figure ('..', 'n/a', empty) are not observations: "
                    "not stored")
    obs = obs[keep]
    bad = bad[keep]
    aggregate = aggregate[keep]
    obs.loc[aggregate, "area_code"] = "M49:" + obs.loc[aggregate, "_area_raw"].astype(str)
    dup_bad, copies = _duplicates(obs, report, parsed, skip=bad)
    bad |= dup_bad
    report.rows_skipped += int(copies.sum())
    apart = obs[aggregate & ~bad & ~copies].copy()
    apart["reason"] = "regional aggregate, or a country with no boundary in this store: not an area of the map"
    rt = val.per_unique(obs["_reporting_type"].to_numpy(dtype=object), lambda u: str(u).upper()).astype(str)
    national = _national_where_global(obs, rt) & ~bad & ~aggregate & ~copies
    if national.any():
        nat = obs[national].copy()
        nat["reason"] = "national estimate (Reporting Type N) where the global series (G) has the same figure's key"
        apart = pd.concat([apart, nat], ignore_index=True)
        report.info(f"{int(national.sum())} national estimates (Reporting Type N) set aside where the global series "
                    "(G) has the same figure: kept apart beside the dataset")
    stored = obs[~bad & ~aggregate & ~national & ~copies].copy()
    report.rows_kept_apart = len(apart)
    return OfficialResult(observations=stored, kept_apart=apart, rows_total=n,
                          indicators=sorted(set(stored["indicator"])))


KEY = ["indicator", "series", "area_code", "period_label", "unit", "other_dims", "_reporting_type",
       *[dim_column(d) for d in DIMENSION_NAMES]]


def _duplicates(obs: pd.DataFrame, report: Report, parsed: Parsed, *, skip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows with the same key: (refused, exact copies). Copies are stored once; different figures are both refused.

    Rows in ``skip`` (already refused) take no part: an unmapped label must not look like a duplicate total.
    """
    bad = np.zeros(len(obs), dtype=bool)
    copy = np.zeros(len(obs), dtype=bool)
    if obs.empty:
        return bad, copy
    dup_any = obs.duplicated(subset=KEY, keep=False).to_numpy() & ~skip
    if dup_any.any():
        dup_any &= obs[~skip].duplicated(subset=KEY, keep=False).reindex(obs.index, fill_value=False).to_numpy()
    if not dup_any.any():
        return bad, copy
    value_col = parsed.known.get("value", "value")
    positions = np.flatnonzero(dup_any)
    sub = obs.iloc[positions]
    for idx in sub.groupby(KEY, sort=False, dropna=False).indices.values():
        pos = positions[idx]
        figures = obs.iloc[pos][["value", "suppressed"]].astype(str).drop_duplicates()
        if len(figures) == 1:
            copy[pos[1:]] = True
            continue
        rows = [int(r) for r in obs["_row"].iloc[pos]]
        for i, r in zip(pos, rows, strict=False):
            others = ", ".join(str(x) for x in rows if x != r)
            report.error(f"two figures for the same indicator, area, period and breakdown (also row {others}): "
                         "which one is right? Correct the label or remove one", row=r, column=value_col,
                         value=obs["_value_raw"].iloc[i], code="duplicate")
            bad[i] = True
    if copy.any():
        report.info(f"{int(copy.sum())} exact duplicate row(s) stored once")
    return bad, copy


def _base_age_as_total(frame: pd.DataFrame, indicator: np.ndarray, series: np.ndarray, report: Report) -> None:
    """UN and SDMX data state the population an indicator covers as an age (unemployment: ``Y_GE15``)
    and never publish ``AGE=_T``: that base age is the total, or every figure would look broken down."""
    age = frame["age"].to_numpy(dtype=object).copy()
    key = pd.Series(indicator.astype(str)) + "|" + pd.Series(series.astype(str))
    for k, idx in key.groupby(key).indices.items():
        codes = pd.Series(age[idx])
        if (codes == TOTAL).any():
            continue
        base = sorted(codes.value_counts().items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        hit = idx[age[idx] == base]
        age[hit] = TOTAL
        report.info(f"{k.replace('|', ' ').strip()}: no AGE total in the file, AGE={base} is the population the "
                    f"figures cover: read as the total ({len(hit)} rows)")
    frame["age"] = age


def _series_qualifiers(long: pd.DataFrame, columns: list[str], series: np.ndarray, mapper: Mapper,
                        report: Report) -> tuple[list[str], np.ndarray]:
    """Open SDG columns that label every row (``Services``: water supply, sewerage...) split the
    indicator into series rather than break a total down: they go to ``series``, so the figures of
    each stay comparable with their own totals (a breakdown column has blanks, the totals)."""
    keep: list[str] = []
    out = series.copy()
    for col in columns:
        cells = val.stripped(long[col].to_numpy(dtype=object))
        labels = [str(u) for u in pd.unique(cells)]
        if mapper.column_role(col) is not None or mapper.sole_dimension(labels) is not None \
                or any(mapper.is_total_label(x) for x in labels):
            keep.append(col)
            continue
        name = col.strip("[] ").replace(";", ",")
        part = val.per_unique(cells, lambda u, name=name: f"{name}={str(u).replace(';', ',')}")
        out = np.array([f"{a};{b}" if a else b for a, b in zip(out, part, strict=False)], dtype=object)
        report.info(f"column {col!r} labels every row ({', '.join(sorted(labels)[:5])}{', …' if len(labels) > 5 else ''}): "
                    "read as series of the indicator, not as a breakdown")
    return keep, out


def _national_where_global(obs: pd.DataFrame, rt: np.ndarray) -> np.ndarray:
    if not (rt == "N").any() or not (rt == "G").any():
        return np.zeros(len(obs), dtype=bool)
    key = [k for k in KEY if k != "_reporting_type"]
    g = obs[rt == "G"][key].astype(str).agg("|".join, axis=1)
    allk = obs[key].astype(str).agg("|".join, axis=1)
    return (rt == "N") & allk.isin(set(g)).to_numpy()


def _resolve_areas(parsed: Parsed, report: Report, mapper: Mapper, *, fmt: str, area: str | None,
                   source_name: str, geo_level: int | None,
                   geo_scheme: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area code per row in the scheme the format declares (or the user), then the finest area the
    row's name columns describe. Returns (codes, regional-aggregate mask, refused mask)."""
    long, rows = parsed.long, parsed.rows
    n = len(long)
    codes = np.full(n, "", dtype=object)
    aggregate, bad = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    scheme = geo_scheme or FORMAT_SCHEMES.get(fmt, "store")
    if scheme not in SCHEMES:
        report.error(f"unknown area code scheme {scheme!r} (known: {', '.join(SCHEMES)})", value=scheme, code="area")
        return codes, aggregate, np.ones(n, dtype=bool)
    if scheme in ("m49", "country") and geo_level not in (None, 0):
        report.error(f"{scheme} codes are countries: they resolve at level 0 only, not level {geo_level}",
                     value=geo_level, code="area")
        return codes, aggregate, np.ones(n, dtype=bool)
    raw = long["area"].to_numpy(dtype=object)
    area_col = parsed.known.get("area")
    has_column = area_col is not None and bool((raw != "").any())
    root = area or (None if has_column else guess_area_from_name(source_name, mapper, report))
    if root is not None:
        probe = AreaResolver(mapper, report, scheme="store")
        hit, why = probe.lookup(str(root))
        if hit in (None, "aggregate"):
            report.error(f"--area {root!r} is not an area of this store: {why}", value=root, code="area")
            return codes, aggregate, np.ones(n, dtype=bool)
        root = hit
    if not has_column:
        if root is None:
            report.error("which country or area is this file about? The file has no area column: give --area CODE "
                         "(an area code of the store, e.g. PHL)", code="area")
            return codes, aggregate, np.ones(n, dtype=bool)
        codes[:] = root
    else:
        resolver = AreaResolver(mapper, report, scheme=scheme, level=geo_level,
                                root=root if scheme == "store" else None)
        blank = raw == ""
        if root is not None:
            codes[blank] = root
        elif blank.any():
            for i in np.flatnonzero(blank):
                report.error("no area on this row and no --area for the file", row=int(rows[i]), column=area_col,
                             code="unknown_area")
            bad |= blank
        res = resolver.resolve(raw[~blank], long["area_name"].to_numpy(dtype=object)[~blank], rows[~blank], area_col)
        codes[~blank] = res.codes
        aggregate[~blank] = res.aggregate
        bad[~blank] |= res.bad
        if res.aggregate.any():
            labels = sorted({f"{r} {nm}".strip() for r, nm in zip(raw[aggregate], long["area_name"].to_numpy(dtype=object)[aggregate],
                                                                    strict=False)})
            report.info(f"{int(aggregate.sum())} rows about regional aggregates ({'; '.join(labels[:5])}"
                        f"{'; …' if len(labels) > 5 else ''}) kept apart: stored beside the dataset, never drawn as areas")
        if scheme == "store" and res.how.get("code"):
            report.info(f"area codes read as the store's own codes ({res.how['code']} rows): never as UN M49")
    if parsed.area_names and scheme in ("store", "name"):
        resolver = AreaResolver(mapper, report, scheme="name", root=root)
        resolver.refine(codes, bad, {c: long[c].to_numpy(dtype=object) for c in parsed.area_names}, rows)
    return codes, aggregate, bad


def _constant_columns(long: pd.DataFrame, columns: list[str], series: np.ndarray, mapper: Mapper, report: Report,
                      context: np.ndarray) -> list[str]:
    """Columns with one label on every row of a series (Armenia's ``Age = 15+``) are context of the
    series, not a breakdown (DESIGN.md): the label goes to the rows' footnote, the column is read as
    total for that series, and the report says so. Returns the columns still to map."""
    keep: list[str] = []
    key = pd.Series(series.astype(str))
    groups = key.groupby(key).indices
    for col in columns:
        cells = val.stripped(long[col].to_numpy(dtype=object))
        constant_in: list[np.ndarray] = []
        for idx in groups.values():
            labels = pd.unique(cells[idx])
            if len(labels) == 1 and labels[0] != "" and not mapper.is_total_label(labels[0]) and len(idx) > 1:
                constant_in.append(idx)
        if not constant_in:
            keep.append(col)
            continue
        name = col.strip("[] ")
        for idx in constant_in:
            label = str(cells[idx[0]])
            context[idx] = [f"{c}; {name}: {label}" if c else f"{name}: {label}" for c in context[idx]]
            cells[idx] = ""
        long[col] = cells
        report.info(f"column {col!r} has the same label on every row of {len(constant_in)} series: context of "
                    "the series (kept in the footnote), not a breakdown, so their totals stay totals")
        if (cells != "").any():
            keep.append(col)
    return keep


def _age_group_spans(mapper: Mapper) -> list[tuple[float, float]]:
    """The age intervals of the store's age groups (youth 15-24, older 60+): a band inside one of them
    describes that group, never the whole population."""
    from .. import ages

    groups = storage.read_catalogue(mapper.data_dir, "groups")
    spans = []
    for dims, codes in zip(groups["dimension"], groups["codes"], strict=True):
        for dim, part in zip(str(dims).split("+"), str(codes).split("+"), strict=False):
            if dim.strip() == "AGE" and (span := ages.hull(c.strip() for c in part.split("|"))) is not None:
                spans.append(span)
    return spans


def _base_age_by_interval(frame: pd.DataFrame, indicator: np.ndarray, series: np.ndarray, report: Report, *,
                          group_spans: list[tuple[float, float]] = ()) -> None:
    """The age band that contains every other band of a series (Canada's ``15 years and over``
    beside 15-24, 25-54, 65+...; Malta's ``15-74`` beside 15-24 and 25-74) is the population the
    figures describe: read as the AGE total. A band inside an age group's own interval (15-24 beside
    15-19 and 20-24) describes that group, so it never becomes the total."""
    from .. import ages

    age = frame["age"].to_numpy(dtype=object).copy()
    key = pd.Series(indicator.astype(str)) + "|" + pd.Series(series.astype(str))
    changed = False
    for k, idx in key.groupby(key).indices.items():
        codes = sorted({str(c) for c in age[idx]} - {TOTAL})
        if len(codes) < 2:
            continue
        base = [c for c in codes if ages.interval(c) and ages.contains_all(c, [o for o in codes if o != c])
                and not any(ages.inside(c, span) for span in group_spans)]
        if len(base) != 1:
            continue
        hit = idx[age[idx] == base[0]]
        age[hit] = TOTAL
        changed = True
        report.info(f"{k.replace('|', ' ').strip()}: AGE={base[0]} is the population the figures cover (it contains "
                    f"every other age band of the series): read as the total ({len(hit)} rows)")
    if changed:
        frame["age"] = age


def _catalogue_unit(unit: np.ndarray, ind: np.ndarray, catalogue: pd.DataFrame, report: Report) -> np.ndarray:
    """A file that states no unit at all (many Open SDG files): its figures are in the unit the
    indicator catalogue gives, said in the report, so they compare with the same indicator's other
    files. Any stated unit is kept as written."""
    if (unit != "").any() or not len(unit):
        return unit
    units = dict(zip(catalogue["code"], catalogue["unit"], strict=False))
    filled = np.array([units.get(str(i), "") for i in ind], dtype=object)
    found = sorted({f"{i}: {u}" for i, u in zip(ind, filled, strict=False) if u})
    if found:
        report.info(f"no unit in the file: the indicator catalogue's unit is assumed ({'; '.join(found[:5])})")
    return filled
