"""Citizen-generated data into the tidy schema, with personal identifiers dropped first.

Formats: CSV and XLSX with a column mapping, KoboToolbox exports (``_<q>_latitude`` /
``_<q>_longitude``, ``_geolocation``, ``_submission_time``), ODK Central CSV (``<q>-Latitude`` /
``<q>-Longitude``, ``SubmissionDate``) and GeoJSON points.

Each row is either an area aggregate (an area code or name, a figure, optionally ``n``) or a point
(a figure at a coordinate), assigned at import to the finest area of the store that contains it
(point-in-polygon, vectorised with shapely). Column roles come from the mapping's ``[citizen]``
table (or the Import page's form)::

    [citizen]
    indicator = "6.1.1"          # or indicator_column = "..."
    value = "status_id"          # the column holding the figure
    period = "report_date"       # a year or date column (or year = 2024)
    lat = "lat_deg"              # points (detected for Kobo, ODK, GeoJSON and lat/lon names) ...
    lon = "lon_deg"
    area = "province"            # ... or an area code/name column
    n = "respondents"            # sample size of an aggregate
    unit = "percent"
    [citizen.values]             # labels of the value column -> numbers ("" = no figure)
    yes = 100
    no = 0
    unknown = ""
    [citizen.dims]               # dimension -> column
    SEX = "gender"

Privacy (DESIGN.md): every column the mapping does not use is dropped before anything is stored,
and the report names the personal identifiers among them (names, phone numbers, e-mails, ID
numbers, ``username``, ``_submitted_by``, device ids, free-text comments). Mapping such a column
as a figure, area or dimension is refused. Points of a ``people`` dataset keep their area only,
never their coordinates; ``place`` points (water points, beaches) keep them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import settings, storage
from ..schema import DIMENSION_NAMES
from . import identifiers as ids
from . import values as val
from .citizen_formats import (  # noqa: F401  (moved there; re-exported for callers of the old names)
    AREA_NAMES,
    COUNTRY_NAME_LANGS,
    FORMATS,
    HXL_ROLES,
    LAT_NAMES,
    LON_NAMES,
    MAX_GEOJSON_FEATURES,
    NEAREST_TOLERANCE_DEG,
    PERIOD_NAMES,
    CitizenResult,
    _ancestors,
    _country_words,
    _declared_geometries,
    _find,
    _geo_columns,
    _sign_hint,
    _split_geolocation,
    check_declared_place,
    country_code,
    detect_format,
    hxl_roles,
    normalise,
    pii_in_values,
    pii_reason,
    read_geojson_points,
)
from .mapping import Mapper, MappingError, check_citizen, map_dimensions, norm
from .official import INDICATOR_RE
from .reading import KEEP, read_table
from .report import Report

log = logging.getLogger(__name__)

GRID_CELL_FACTOR = 0.5  # cell side / median area box side: 0.25-1 measured alike at L; smaller cells = more spans
GRID_MAX_AXIS = 4096    # cells along an axis at most, so a tiny median area in a world-wide level cannot blow it up
GRID_MAX_SPANS = 2_000_000  # (cell, area) pairs kept at most (a few huge areas cover many cells); beyond: coarser cells
POINT_CHUNK = 250_000   # points per pass: bounds the candidate-pair arrays (~40 MB) whatever the file size


@dataclass
class _AreaGrid:
    """One level's areas for point-in-polygon: prepared geometries and a grid over their boxes.

    A span is a (cell, area) pair where the area's bounding box overlaps the cell; the areas a point may
    lie in are the spans of its cell. Spans are ordered by area so the exact tests run area by area.
    ``rank`` is each area's position in a ``shapely.STRtree`` over the level: when a point intersects
    several areas (a shared border or vertex) the lowest rank wins, which is the first match
    ``geopandas.sjoin`` reported before, so assignments are unchanged.
    """

    geoms: np.ndarray
    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    span_cell: np.ndarray
    span_area: np.ndarray
    rank: np.ndarray
    by_rank: np.ndarray


def _cell_index(v: np.ndarray, origin: float, cell: float) -> np.ndarray:
    """Grid column/row of coordinates; one formula for boxes and points, so a point in a box is in its cells."""
    return np.floor((v - origin) / cell)


def _area_grid(geoms: np.ndarray) -> _AreaGrid | None:
    """The grid of one level (None when no area has a geometry)."""
    import shapely

    bounds = shapely.bounds(geoms)
    valid = np.flatnonzero(np.isfinite(bounds).all(axis=1))  # None and empty geometries match nothing
    if not valid.size:
        return None
    b = bounds[valid]
    x0, y0, x1, y1 = float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())
    extent = max(x1 - x0, y1 - y0)
    cell = max(float(np.median(np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]))) * GRID_CELL_FACTOR,
               extent / GRID_MAX_AXIS)
    if not cell > 0:  # every area is a single point: one cell
        cell = 1.0
    while True:
        ix0, ix1 = _cell_index(b[:, 0], x0, cell), _cell_index(b[:, 2], x0, cell)
        iy0, iy1 = _cell_index(b[:, 1], y0, cell), _cell_index(b[:, 3], y0, cell)
        width = (ix1 - ix0 + 1).astype(np.int64)
        per_area = width * (iy1 - iy0 + 1).astype(np.int64)
        if int(per_area.sum()) <= max(GRID_MAX_SPANS, len(valid)):
            break
        cell *= 2
    nx = int(_cell_index(np.float64(x1), x0, cell)) + 1
    ny = int(_cell_index(np.float64(y1), y0, cell)) + 1
    owner = np.repeat(np.arange(len(valid)), per_area)
    local = np.arange(int(per_area.sum())) - np.repeat(np.cumsum(per_area) - per_area, per_area)
    col = ix0.astype(np.int64)[owner] + local % width[owner]
    row = iy0.astype(np.int64)[owner] + local // width[owner]
    tree = shapely.STRtree(geoms)
    by_rank = tree.query(shapely.box(x0, y0, x1, y1))  # every indexed area, in leaf order
    rank = np.full(len(geoms), len(geoms), dtype=np.int64)
    rank[by_rank] = np.arange(len(by_rank))
    shapely.prepare(geoms)
    return _AreaGrid(geoms=geoms, x0=x0, y0=y0, cell=cell, nx=nx, ny=ny, span_cell=row * nx + col,
                     span_area=valid[owner], rank=rank, by_rank=by_rank)


def _first_areas(grid: _AreaGrid, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Index of the area holding each point (border and vertex points included), -1 when none does."""
    import shapely

    none = len(grid.geoms)
    best = np.full(len(x), none, dtype=np.int64)  # lowest rank among the areas a point intersects
    for start in range(0, len(x), POINT_CHUNK):
        cx, cy = x[start:start + POINT_CHUNK], y[start:start + POINT_CHUNK]
        col, row = _cell_index(cx, grid.x0, grid.cell), _cell_index(cy, grid.y0, grid.cell)
        p = np.flatnonzero((col >= 0) & (col < grid.nx) & (row >= 0) & (row < grid.ny))  # NaN compares False
        cells = row[p].astype(np.int64) * grid.nx + col[p].astype(np.int64)
        order = np.argsort(cells, kind="stable")
        p, cells = p[order], cells[order]
        lo = np.searchsorted(cells, grid.span_cell, side="left")
        count = np.searchsorted(cells, grid.span_cell, side="right") - lo
        total = int(count.sum())
        if not total:
            continue
        area = np.repeat(grid.span_area, count)
        pt = p[np.arange(total) - np.repeat(np.cumsum(count) - count - lo, count)]
        hit = shapely.intersects_xy(grid.geoms[area], cx[pt], cy[pt])
        np.minimum.at(best[start:start + POINT_CHUNK], pt[hit], grid.rank[area[hit]])
    found = np.full(len(x), -1, dtype=np.int64)
    placed = best < none
    found[placed] = grid.by_rank[best[placed]]
    return found


def _read_areas(data_dir: Path, level: int) -> tuple[np.ndarray, np.ndarray]:
    """(codes, geometries) of one level of the store."""
    import geopandas as gpd

    areas = gpd.read_parquet(data_dir / "areas" / f"level_{level}.parquet", columns=["code", "geometry"])
    return areas["code"].to_numpy(dtype=object), np.asarray(areas.geometry.array, dtype=object)


def _nearest_areas(geoms: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(point, area) pairs for points within NEAREST_TOLERANCE_DEG of an area, the first nearest for each,
    in the spatial index's order (ties as ``geopandas.sjoin_nearest`` broke them)."""
    import shapely

    tree = shapely.STRtree(geoms)
    pt, area = tree.query_nearest(shapely.points(x, y), max_distance=NEAREST_TOLERANCE_DEG, all_matches=True)
    first = np.sort(np.unique(pt, return_index=True)[1])
    return pt[first], area[first]


def assign_points(lat: np.ndarray, lon: np.ndarray, data_dir: Path, report: Report,
                  rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Area code of the finest area holding each point (nearest country within a tolerance for shore
    points); points outside every area are refused by row. Returns (codes, bad).

    Levels are read finest first, and a coarser level only for the points still unplaced; a point on a
    border or vertex belongs to the areas it touches (``intersects``), the first in index order winning.
    """
    n = len(lat)
    codes = np.full(n, "", dtype=object)
    if n == 0:
        return codes, np.zeros(0, dtype=bool)
    levels = sorted((int(p.stem.split("_")[1]) for p in storage.area_files(data_dir)), reverse=True)
    if not levels:
        report.error("the store has no areas: import boundaries first", code="no_areas")
        return codes, np.ones(n, dtype=bool)
    x, y = np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")
    placed = np.zeros(n, dtype=bool)
    coarsest: tuple[np.ndarray, np.ndarray] | None = None
    for level in levels:
        todo = np.flatnonzero(~placed)
        if not todo.size:
            break
        area_codes, geoms = coarsest = _read_areas(data_dir, level)
        grid = _area_grid(geoms)
        if grid is None:
            continue
        found = _first_areas(grid, x[todo], y[todo])
        inside = found >= 0
        codes[todo[inside]] = area_codes[found[inside]]
        placed[todo[inside]] = (area_codes != "")[found[inside]]  # an area without a code places nothing
    todo = np.flatnonzero(~placed)
    if todo.size and coarsest is not None:
        area_codes, geoms = coarsest
        pt, area = _nearest_areas(geoms, x[todo], y[todo])
        if len(pt):
            codes[todo[pt]] = area_codes[area]
            placed[todo[pt]] = (area_codes != "")[area]
            report.warn(f"{len(pt)} point(s) just outside every area (shore or border, within "
                        f"{NEAREST_TOLERANCE_DEG}°) assigned to the nearest area", row=int(rows[todo[pt[0]]]),
                        code="point_nearest")
    bad = ~placed
    for i in np.flatnonzero(bad):
        report.error("point outside every area of the store (wrong coordinates, swapped latitude/longitude, or "
                     "boundaries missing)", row=int(rows[i]), column="latitude/longitude",
                     value=f"{lat[i]}, {lon[i]}", code="point_outside")
    return codes, bad


def _where_mask(df: pd.DataFrame, where: dict[str, Any], cols: list[str], report: Report) -> np.ndarray | None:
    """Rows meeting every condition of [citizen.where] (None when a condition names no column)."""
    keep = np.ones(len(df), dtype=bool)
    for name, cond in where.items():
        c = column_for(name, cols)
        if c is None:
            report.error(f"[citizen.where] names column {name!r}, but the file has no such column", column=str(name),
                         code="mapping")
            return None
        cells = val.stripped(val.cells(df[c]))
        folded = val.per_unique(cells, norm)
        if isinstance(cond, bool):
            ok = (folded != "") if cond else (folded == "")
        elif isinstance(cond, dict):
            bad = cond["not"] if isinstance(cond["not"], list) else [cond["not"]]
            ok = ~np.isin(folded, [norm(_text(x)) for x in bad])
        else:
            wanted = cond if isinstance(cond, list) else [cond]
            ok = np.isin(folded, [norm(_text(x)) for x in wanted])
        keep &= np.asarray(ok, dtype=bool)
    return keep


def _text(x: Any) -> str:
    """A mapping value as the text a cell would hold (2014 and 2014.0 both read "2014")."""
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def _value_columns(spec: dict[str, Any], cols: list[str], report: Report) -> list[str]:
    """The columns a ``value = {sum = [...]}`` or ``{sum_regex = "..."}`` adds up (globs and regexes expanded)."""
    import fnmatch

    if "sum_regex" in spec:
        rx = re.compile(str(spec["sum_regex"]))
        found = [c for c in cols if rx.fullmatch(c)]
        if not found:
            report.error(f"value.sum_regex {spec['sum_regex']!r} matches no column", code="mapping")
        return found
    found: list[str] = []
    for entry in spec["sum"]:
        if any(ch in entry for ch in "*?["):
            hit = [c for c in cols if fnmatch.fnmatchcase(c.casefold(), entry.casefold())]
        else:
            one = column_for(entry, cols)
            hit = [one] if one else []
        if not hit:
            report.error(f"value.sum names {entry!r}, but no column of the file matches it", column=entry, code="mapping")
        found += [c for c in hit if c not in found]
    return found


def _sum_values(df: pd.DataFrame, sum_cols: list[str], per_col: str | None, scale: float, rows: np.ndarray,
                report: Report, *, decimal_comma: bool) -> val.Values:
    """A figure per row: the sum of ``sum_cols`` (blank cells count 0; a row with every cell blank has no
    figure), divided by ``per_col`` and multiplied by ``scale``. Unreadable cells refuse their row."""
    n = len(df)
    total = np.zeros(n)
    seen = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    for c in sum_cols:
        nums, wrong = val.parse_optional_numbers(val.cells(df[c]), rows, c, report, decimal_comma=decimal_comma)
        bad |= wrong
        have = np.isfinite(nums)
        total[have] += nums[have]
        seen |= have
    value = np.where(seen, total, np.nan)
    if per_col:
        per, wrong = val.parse_optional_numbers(val.cells(df[per_col]), rows, per_col, report, decimal_comma=decimal_comma)
        bad |= wrong
        zero = seen & ~wrong & (~np.isfinite(per) | (per == 0))
        for i in np.flatnonzero(zero):
            report.error(f"cannot divide by {per_col!r}: it is empty or zero", row=int(rows[i]), column=per_col,
                         value=df[per_col].iat[i], code="value_bad")
        bad |= zero
        with np.errstate(divide="ignore", invalid="ignore"):
            value = value / per
    value = value * scale
    skipped = ~seen & ~bad
    value[bad | skipped] = np.nan
    report.info(f"figure = sum of {len(sum_cols)} column(s)" + (f" / {per_col}" if per_col else "")
                + (f" x {scale:g}" if scale != 1 else ""))
    return val.Values(value=value, suppressed=np.zeros(n, dtype=bool), skipped=skipped, bad=bad,
                      status=np.full(n, "A", dtype=object), footnote=np.full(n, "", dtype=object))


def _count_per_area(obs: pd.DataFrame, mapper: Mapper, *, points: bool) -> pd.DataFrame:
    """``value = {count = true}``: one figure per area, period and breakdown, the number of records.

    Points count in the finest area holding them and in every area above it (DESIGN.md: a point belongs to
    every area that contains it), so each level gets its own count; ``n`` is the number of records."""
    if obs.empty:
        return obs
    keys = [c for c in obs.columns if c not in ("value", "n", "lat", "lon", "is_point", "_row", "period_label",
                                               "footnote", "obs_status", "suppressed")]
    if points:
        up = _ancestors(mapper)
        chains = obs["area_code"].map(lambda c: up.get(c, [c]))
        obs = obs.assign(area_code=chains).explode("area_code")
    grouped = obs.groupby(keys, dropna=False, sort=True).agg(value=("indicator", "size"), _row=("_row", "min"))
    out = grouped.reset_index()
    out["n"] = out["value"].astype(float)
    out["value"] = out["value"].astype(float)
    out["period_label"] = out["period"].astype(str)
    out["footnote"] = "count of records"
    out["obs_status"] = "A"
    out["suppressed"] = False
    out["lat"] = np.nan
    out["lon"] = np.nan
    out["is_point"] = False
    return out


def parse_citizen(path: Path, report: Report, mapper: Mapper, meta: dict[str, Any], *, fmt: str | None = None,  # noqa: PLR0911
                  indicator: str | None = None, encoding: str | None = None, sheet: Any = None,
                  source_name: str | None = None, roles: dict[str, Any] | None = None) -> CitizenResult | None:
    """Read a citizen file, drop personal data, map columns, place points. Nothing is written."""
    path = Path(path)
    if fmt and fmt not in FORMATS:
        report.error(f"unknown --format {fmt!r} for citizen data (known: {', '.join(FORMATS)})", code="format")
        return None
    if fmt == "geojson" or (fmt is None and path.suffix.lower() in (".geojson", ".json")):
        table = read_geojson_points(path, report)
    else:
        table = read_table(path, report, encoding=encoding, sheet=sheet, duplicates=KEEP)
        if table is not None:
            report.rows_read = len(table.frame)
    if table is None:
        return None
    cols = table.columns
    report.format = fmt or detect_format(cols, path)
    cfg: dict[str, Any] = dict(mapper.user.get("citizen") or {})
    cfg.update(roles or {})
    try:
        check_citizen(cfg)
    except MappingError as e:
        report.error(str(e).removeprefix("mapping: "), code="mapping")
        return None
    tags: dict[str, str] = table.extra.get("hxl", {})
    hxl = hxl_roles(tags)
    ambiguous: dict[str, list[str]] = table.extra.get("ambiguous", {})
    df, rows = table.frame, table.rows

    def column(role: str, name: Any = None) -> str | None:
        c = cfg.get(role) if name is None else name
        if c is None:
            return None
        if norm(c) in ambiguous:
            report.error(f"the mapping names column {c!r} for {role}, but the file has {len(ambiguous[norm(c)])} columns "
                         f"of that name ({', '.join(ambiguous[norm(c)])}): rename them so the mapping can tell which",
                         column=str(c), code="duplicate_header")
            return None
        if c not in cols:
            match = [x for x in cols if norm(x) == norm(c)]
            if not match:
                report.error(f"the mapping names column {c!r} for {role}, but the file has no such column "
                             f"(columns: {', '.join(cols[:15])}{', …' if len(cols) > 15 else ''})", column=str(c),
                             code="mapping")
                return None
            c = match[0]
        return c

    # the row filter first: rows it sets aside are neither figures nor errors
    where = cfg.get("where") or {}
    if where:
        mask = _where_mask(df, where, cols, report)
        if mask is None:
            return None
        report.rows_filtered = int((~mask).sum())
        report.info(f"[citizen.where] kept {int(mask.sum())} of {len(mask)} rows "
                    f"({', '.join(f'{k} = {v}' for k, v in where.items())})")
        df, rows = df[mask].reset_index(drop=True), rows[mask]
    n = len(df)

    spec = cfg.get("value")
    value_col: str | None = None
    sum_cols: list[str] = []
    per_col: str | None = None
    counting = isinstance(spec, dict) and spec.get("count") is True
    if isinstance(spec, dict) and not counting:
        sum_cols = _value_columns(spec, cols, report)
        per_col = column("value.per", spec["per"]) if spec.get("per") else None
    elif not counting:
        value_col = column("value") if spec is not None else (hxl.get("value") or _find(cols, ("value",)))
        if value_col is None and spec is None:
            report.error("which column holds the figure? Map it: [citizen] value = \"COLUMN\" (or choose it on the "
                         "Import page)", code="mapping")
    period_col = column("period")
    fixed_year = cfg.get("year")
    if period_col is None and fixed_year is None and "period" not in cfg:
        period_col = hxl.get("period") or _find(cols, PERIOD_NAMES)
        if period_col:
            report.info(f"the period comes from column {period_col!r}")
        else:
            report.error("no period: map a year or date column ([citizen] period = \"COLUMN\") or give year = 2024",
                         code="mapping")
    lat_col, lon_col, geo_col = column("lat"), column("lon"), column("geopoint")
    area_col = column("area")
    if not (lat_col and lon_col) and not geo_col and area_col is None and "area" not in cfg:
        lat_col, lon_col, geo_col = hxl.get("lat"), hxl.get("lon"), hxl.get("geopoint")
        if not (lat_col or geo_col):
            lat_col, lon_col, geo_col = _geo_columns(cols, report.format)
        if not (lat_col or geo_col):
            area_col = hxl.get("area") or _find(cols, AREA_NAMES)
        if not (lat_col or geo_col or area_col):
            report.error("no place: map an area code/name column ([citizen] area = \"COLUMN\") or the "
                         "latitude/longitude columns (lat = ..., lon = ...)", code="mapping")
    country_col = column("country")
    within_col = column("within")
    if (country_col or within_col) and not (lat_col or geo_col):
        report.error("country = / within = cross-check points: map lat and lon too", code="mapping")
    n_col = column("n")
    ind_col = column("indicator_column")
    code = indicator or cfg.get("indicator")
    if code is None and ind_col is None:
        ind_col = _find(cols, ("indicator",))
        if ind_col is None:
            report.error("which SDG indicator do the figures measure? Give --indicator or [citizen] indicator = "
                         "\"6.1.1\"", code="indicator")
    if code is not None and not INDICATOR_RE.match(str(code)):
        report.error(f"{code!r} is not an SDG indicator code such as 6.1.1", value=code, code="indicator")
    dims_cfg = {str(k).upper(): v for k, v in (cfg.get("dims") or {}).items()}
    for d in dims_cfg:
        if d not in DIMENSION_NAMES:
            report.error(f"[citizen.dims] {d}: unknown dimension (known: {', '.join(DIMENSION_NAMES)})", code="mapping")
    dim_cols = {}
    for d, c in dims_cfg.items():
        cc = column(f"dims.{d}", c)
        if cc is not None:
            dim_cols[d] = cc
    used = {c for c in (value_col, period_col, lat_col, lon_col, geo_col, area_col, n_col, ind_col, per_col,
                        country_col, within_col) if c}
    used |= set(dim_cols.values()) | set(sum_cols)

    # automatic breakdown columns: a header naming a dimension whose labels all map
    for c in cols:
        if c in used or c.startswith("_"):
            continue
        role = mapper.column_role(c)
        if role in DIMENSION_NAMES and role not in dim_cols and not pii_reason(c, tags.get(c)):
            labels = [str(u) for u in pd.unique(val.cells(df[c]))]
            if all(mapper.code(role, u)[0] is not None for u in labels):
                dim_cols[role] = c
                used.add(c)
                report.info(f"column {c!r} read as dimension {role}")
            elif sum(mapper.code(role, u)[0] is not None for u in labels) * 2 >= len(labels):
                bad_lab = next(u for u in labels if mapper.code(role, u)[0] is None)
                report.drop_column(c, f"not stored: looks like {role} but label {bad_lab!r} is not a {role} code; "
                                      f"map it in [citizen.dims] with [labels.{role}] to use it")

    # privacy: identifiers can never be a figure, a place or a breakdown; every unused column is dropped
    for c in sorted(used):
        coords = c in (lat_col, lon_col, geo_col)
        why = None if coords else pii_reason(c, tags.get(c))
        why = why or (None if coords or c in (value_col, n_col, per_col) or c in sum_cols
                      else pii_in_values(df[c], c))
        if why:
            report.error(f"column {c!r} holds personal data ({why}): it cannot be stored; map another column",
                         column=c, code="personal_data")
    pii_dropped = []
    for c in cols:
        if c in used:
            continue
        why = pii_reason(c, tags.get(c)) or pii_in_values(df[c], c)
        if why:
            report.drop_column(c, f"personal identifier ({why}): dropped before storing")
            pii_dropped.append(c)
        elif c not in report.dropped_columns:
            report.drop_column(c, "record identifier: not stored" if ids.is_record_id(c) else
                               "not used by the mapping: not stored")
    if pii_dropped:
        report.info(f"personal identifiers dropped before anything is stored: {', '.join(pii_dropped)}")
    for key, names in ambiguous.items():
        if not any(norm(x) == key for x in used):
            report.warn(f"the header {names[0]!r} appears {len(names)} times (also as {', '.join(names[1:])}) with "
                        "different data; no mapped column uses it, so it is not stored", column=names[0],
                        code="duplicate_header_unused")
    if report.has_file_errors:
        return None

    # figures
    decimal_comma = bool(cfg.get("decimal_comma")) or report.delimiter == ";"
    if counting:
        vals = val.Values(value=np.ones(n), suppressed=np.zeros(n, dtype=bool), skipped=np.zeros(n, dtype=bool),
                          bad=np.zeros(n, dtype=bool), status=np.full(n, "A", dtype=object),
                          footnote=np.full(n, "", dtype=object))
    elif sum_cols:
        scale = float(spec.get("scale", 1))
        vals = _sum_values(df, sum_cols, per_col, scale, rows, report, decimal_comma=decimal_comma)
    else:
        value_text = val.cells(df[value_col]) if value_col else np.full(n, "", dtype=object)
        recode = {norm(k): v for k, v in (cfg.get("values") or {}).items()}
        if recode:
            value_text = val.per_unique(value_text, lambda v: "" if recode.get(norm(v), v) is None
                                        else str(recode.get(norm(v), v)))
        vals = val.parse_values(value_text, rows, value_col or "value", report, decimal_comma=decimal_comma)
        if vals.bad.any():
            report.info("a label of the figure column that is not a number can be given a figure in the mapping's "
                        "[citizen.values] table (yes = 100, no = 0, unknown = \"\")")
    if period_col:
        order = cfg.get("date_order")
        periods = val.read_periods(val.cells(df[period_col]), rows, period_col, report,
                                   date_order=str(order).lower() if order else None, require_order=True)
        years, labels, bad_period = periods.years, periods.labels, periods.bad
        if report.has_file_errors:
            return None
    else:
        y = val.year_of(str(fixed_year)) if fixed_year is not None else None
        if y is None:
            report.error(f"year = {fixed_year!r} is not a year", value=fixed_year, code="bad_period")
            return None
        years, bad_period = np.full(n, y, dtype=np.int64), np.zeros(n, dtype=bool)
        labels = years.astype(str).astype(object)
    nn = np.full(n, np.nan)
    bad_n = np.zeros(n, dtype=bool)
    if n_col:
        nn, bad_n = val.parse_optional_numbers(val.cells(df[n_col]), rows, n_col, report,
                                             integer=True)
    ind = (np.full(n, str(code).lower(), dtype=object) if code else
           val.stripped(val.cells(df[ind_col])) if ind_col else np.full(n, "", dtype=object))
    bad_ind = (val.per_unique(ind, lambda x: not INDICATOR_RE.match(str(x))).astype(bool) if ind_col
               else np.zeros(n, dtype=bool))
    for i in np.flatnonzero(bad_ind):
        report.error("not an SDG indicator code such as 6.1.1", row=int(rows[i]), column=ind_col, value=ind[i],
                     code="indicator")
    from ..catalogue import framework_indicators

    # indicators the store lacks are added at import (catalogue.add_missing): curated entries first,
    # then the framework's official title; a code known to neither is said
    known = set(storage.read_catalogue(mapper.data_dir, "indicators")["code"]) | set(framework_indicators()["code"])
    for c in sorted({str(x) for x in ind[~bad_ind]} - known - {""}):
        report.warn(f"indicator {c} is not in the global indicator framework: added to the catalogue as written; "
                    "give it a title in indicators.csv", value=c, code="indicator_not_in_framework")

    dims = map_dimensions(df.rename(columns={c: d for d, c in dim_cols.items()}), list(dim_cols), rows, mapper,
                          report, strict=True) if dim_cols else None

    # places
    point_kind = meta.get("point_kind")
    lat = lon = np.full(n, np.nan)
    is_point = np.zeros(n, dtype=bool)
    bad_place = np.zeros(n, dtype=bool)
    area_codes = np.full(n, "", dtype=object)
    if lat_col or geo_col:
        if geo_col:
            lat_t, lon_t = _split_geolocation(df[geo_col])
            where_col = geo_col
        else:
            lat_t = val.cells(df[lat_col])
            lon_t = val.cells(df[lon_col])
            where_col = f"{lat_col}/{lon_col}"
        lat, bad_lat = val.parse_coordinates(lat_t, rows, lat_col or geo_col, report)
        lon, bad_lon = val.parse_coordinates(lon_t, rows, lon_col or geo_col, report)
        crs = table.frame.attrs.get("crs")
        if crs:
            lat, lon = _to_wgs84(lat, lon, crs, report)
        missing = ~np.isfinite(lat) | ~np.isfinite(lon)
        out_of_range = ~missing & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
        null_island = ~missing & (lat == 0) & (lon == 0)
        for mask, msg in ((missing & ~bad_lat & ~bad_lon, "no coordinates"),
                          (out_of_range, "coordinates out of range (latitude -90..90, longitude -180..180)"),
                          (null_island, "coordinates 0, 0 (a GPS that did not fix)")):
            for i in np.flatnonzero(mask):
                report.error(msg, row=int(rows[i]), column=where_col, value=f"{lat_t[i]}, {lon_t[i]}", code="coordinates")
        bad_place = bad_lat | bad_lon | missing | out_of_range | null_island
        ok = ~bad_place & ~vals.skipped & ~vals.bad
        codes, outside = assign_points(lat[ok], lon[ok], mapper.data_dir, report, rows[ok])
        area_codes[ok] = codes
        bad_place[np.flatnonzero(ok)[outside]] = True
        for col, is_country in ((country_col, True), (within_col, False)):
            if col:
                placed = np.flatnonzero(ok)[~outside]
                fixed = area_codes[placed].copy()
                wrong = check_declared_place(lat[placed], lon[placed], fixed, val.cells(df[col])[placed],
                                             rows[placed], col, report, mapper, country=is_country)
                area_codes[placed] = fixed
                bad_place[placed[wrong]] = True
        report.points_assigned = int((ok & ~bad_place).sum())
        is_point[:] = True
        if point_kind is None:
            point_kind = "people"
            report.warn("the metadata does not say whether the points are places or people: treated as people "
                        "(coordinates not stored, only the area); set point_kind: place for water points, beaches...",
                        code="point_kind")
        if point_kind == "people":
            lat = np.full(n, np.nan)
            lon = np.full(n, np.nan)
            report.info("people-type points: only the area of each point is stored, never its coordinates")
        else:
            report.info("place-type points: coordinates kept (places, not people)")
    elif area_col:
        by_code, by_name = mapper.area_lookup()
        raw = val.stripped(val.cells(df[area_col]))
        fcodes, uniques = pd.factorize(raw, use_na_sentinel=False)
        for k, u in enumerate(uniques):
            mask = fcodes == k
            hit = by_code.get(norm(u))
            if hit is None:
                names = by_name.get(norm(u), [])
                hit = names[0] if len(names) == 1 else None
                if len(names) > 1:
                    for i in np.flatnonzero(mask):
                        report.error(f"area name matches several areas ({', '.join(names)}): use codes or [areas] in "
                                     "a mapping file", row=int(rows[i]), column=area_col, value=u, code="ambiguous_area")
                    bad_place |= mask
                    continue
            if hit is None:
                for i in np.flatnonzero(mask):
                    report.error("unknown area (neither a code nor a name of this store's areas): map it in a "
                                 "mapping file's [areas] table", row=int(rows[i]), column=area_col, value=u,
                                 code="unknown_area")
                bad_place |= mask
                continue
            area_codes[mask] = hit
        point_kind = point_kind or "none"

    # small cells: an aggregate of fewer than k respondents is suppressed (DESIGN.md)
    k_min = int(meta.get("k_min") or settings.get("k_min"))
    supp = vals.suppressed.copy()
    small = np.isfinite(nn) & (nn < k_min) & ~is_point
    if small.any():
        supp |= small
        report.info(f"{int(small.sum())} aggregate(s) of fewer than {k_min} respondents stored as suppressed "
                    "(small cells)")

    bad = vals.bad | bad_period | bad_n | bad_ind | bad_place | (dims.bad if dims is not None else False)
    keep = ~vals.skipped & ~bad
    report.rows_skipped = int((vals.skipped & ~bad).sum())
    if report.rows_skipped:
        report.info(f"{report.rows_skipped} row(s) without a figure (empty, 'n/a', or mapped to no figure) not stored")
    unit = val.normalise_unit(str(cfg.get("unit", ""))) if cfg.get("unit") is not None else ""
    obs = pd.DataFrame({
        "indicator": ind, "series": "", "area_code": area_codes, "period": years.astype(np.int32),
        "period_label": labels, "value": vals.value, "n": nn, "unit": unit,
        "obs_status": vals.status, "suppressed": supp, "footnote": vals.footnote,
        "lat": lat, "lon": lon, "is_point": is_point,
    })
    if dims is not None:
        for c in dims.frame.columns:
            obs[c] = dims.frame[c].to_numpy(dtype=object)
    obs["_row"] = rows
    obs = obs[keep].reset_index(drop=True)
    if counting:
        records = len(obs)
        obs = _count_per_area(obs, mapper, points=bool(is_point.any()))
        report.info(f"figure = number of records per area and year: {records} record(s) counted into "
                    f"{len(obs)} area figure(s)" + (" (each point in every area that contains it)" if is_point.any()
                                                   else ""))
        if point_kind == "place":
            obs["lat"], obs["lon"] = np.nan, np.nan
    meta["point_kind"] = point_kind or "none"
    return CitizenResult(observations=obs, point_kind=meta["point_kind"])


def column_for(name: Any, columns: list[str]) -> str | None:
    if name in columns:
        return str(name)
    match = [c for c in columns if norm(c) == norm(name)]
    return match[0] if match else None


def _to_wgs84(lat: np.ndarray, lon: np.ndarray, crs: str, report: Report) -> tuple[np.ndarray, np.ndarray]:
    import geopandas as gpd
    from pyproj.exceptions import CRSError

    try:
        s = gpd.GeoSeries.from_xy(lon, lat, crs=crs).to_crs(4326)
    except (CRSError, ValueError) as e:
        report.error(f"the file's legacy 'crs' member ({crs}) is not a known coordinate system: {e}", code="crs")
        return np.full(len(lat), np.nan), np.full(len(lon), np.nan)
    report.info(f"coordinates reprojected from {crs} to WGS84 (EPSG:4326)")
    return s.y.to_numpy(), s.x.to_numpy()

