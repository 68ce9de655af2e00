"""Boundaries (areas of one admin level) into the store as GeoParquet in EPSG:4326.

Reads GeoJSON (also with the legacy ``crs`` member), GeoPackage, zipped Shapefile and GeoParquet.
The person names the fields holding the code, the name and (optionally) the parent code, and the
level. Geometries are reprojected to EPSG:4326; invalid ones are repaired (``make_valid``) and
reported; features sharing a code and a name are merged (shapefiles often split islands). Without
a parent field, the parent of each area is the level-above area holding its representative point.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from .. import storage
from .mapping import Mapper
from .reading import MAX_COLUMNS, sniff_kind
from .report import ACCEPTED, REFUSED, UNCHANGED, Report

log = logging.getLogger(__name__)

FORMATS = {"geojson": "GeoJSON", "gpkg": "GeoPackage", "shapefile": "zipped Shapefile", "geoparquet": "GeoParquet"}
CODE_FIELDS = ("code", "iso3", "iso_a3", "adm0_a3", "shapeiso", "pcode", "adm1_pcode", "adm2_pcode", "gid")
NAME_FIELDS = ("name", "name_en", "shapename", "adm1_en", "adm2_en", "admin")
MAX_FEATURES = 500_000  # a national admin level has at most tens of thousands of areas


def _format_of(path: Path, raw_head: bytes) -> str | None:
    suffix = path.suffix.lower()
    kind = sniff_kind(raw_head)
    if suffix in (".parquet", ".geoparquet") or kind == "parquet":
        return "geoparquet"
    if suffix == ".gpkg" or kind == "sqlite":
        return "gpkg"
    if suffix == ".zip" or kind == "zip":
        return "shapefile"
    if suffix in (".geojson", ".json") or raw_head.lstrip()[:1] == b"{":
        return "geojson"
    if suffix == ".shp":
        return "shapefile"
    return None


SHP_FILE_CODE = b"\x00\x00\x27\x0a"  # every .shp starts with the big-endian file code 9994


def _zip_problem(path: Path) -> str | None:
    """Why a ZIP is not a readable zipped Shapefile (checked before GDAL, whose errors for a
    broken archive are an IndexError or worse), or ``None``."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if not n.startswith("__MACOSX/")]
            shps = [n for n in names if n.lower().endswith(".shp")]
            if not shps:
                return "the ZIP archive holds no .shp file (a zipped Shapefile needs .shp, .shx and .dbf)"
            stem = shps[0][:-4]
            missing = [ext for ext in (".shx", ".dbf") if not any(n.lower() == (stem + ext).lower() for n in names)]
            if missing:
                return f"the ZIP archive's {shps[0]} comes without its {' and '.join(missing)} file"
            with z.open(shps[0]) as f:
                if f.read(4) != SHP_FILE_CODE:
                    return f"{shps[0]} in the ZIP archive is not a Shapefile (its header is not a Shapefile header)"
    except (zipfile.BadZipFile, OSError, RuntimeError) as e:  # RuntimeError: an encrypted member
        return f"not a readable ZIP archive: {e}"
    return None


def _read(path: Path, fmt: str, report: Report):  # -> GeoDataFrame | None
    import geopandas as gpd

    try:
        if fmt == "geoparquet":
            return gpd.read_parquet(path)
        if fmt == "shapefile" and path.suffix.lower() == ".zip":
            problem = _zip_problem(path)
            if problem:
                report.error(problem, code="unreadable")
                return None
            return gpd.read_file(f"zip://{path.resolve()}")
        return gpd.read_file(path)
    except Exception as e:  # pyogrio/GDAL, pyarrow and shapely raise many unrelated types for broken files
        report.error(f"cannot read the {FORMATS.get(fmt, fmt)} file: {type(e).__name__}: {e}", code="unreadable")
        return None


def _pick(columns: list[str], given: str | None, candidates: tuple[str, ...], role: str, report: Report) -> str | None:
    if given:
        hits = [c for c in columns if c == given] or [c for c in columns if c.lower() == given.lower()]
        if not hits:
            report.error(f"no field {given!r} for the {role} (fields: {', '.join(columns[:20])})", column=given,
                         code="field")
            return None
        return hits[0]
    for cand in candidates:
        hits = [c for c in columns if c.lower() == cand]
        if hits:
            report.info(f"the {role} comes from field {hits[0]!r} (say otherwise with --{role}-field)")
            return hits[0]
    report.error(f"which field holds the {role}? Give --{role}-field (fields: {', '.join(columns[:20])})", code="field")
    return None


def import_boundaries(path: Path, report: Report, data_dir: Path, *, level: int | None, code_field: str | None,  # noqa: PLR0911
                      name_field: str | None, parent_field: str | None, dry_run: bool,
                      tick: Callable[[str, float], None], replace_level: bool = False) -> None:
    """Validate and (unless ``dry_run``) store the areas of one level.

    The areas are merged into the level (one file holds every country's areas of that level): an
    area with a code already there is replaced, the others are kept, unless ``replace_level``.
    """
    import geopandas as gpd
    import shapely

    path = Path(path)
    if level is None or level < 0:
        report.error("give the admin level of these boundaries: --level N (0 countries, 1 regions, 2 provinces...)",
                     code="level")
        report.status = REFUSED
        return
    try:
        with open(path, "rb") as f:
            head = f.read(65536)
    except OSError as e:
        report.error(f"cannot read the file: {e.strerror or e}", code="unreadable")
        report.status = REFUSED
        return
    if not head.strip():
        report.error("the file is empty", code="empty")
        report.status = REFUSED
        return
    fmt = _format_of(path, head)
    if fmt is None:
        report.error("not a boundaries file: expected GeoJSON, GeoPackage (.gpkg), a zipped Shapefile (.zip) or "
                     "GeoParquet (.parquet)", code="format")
        report.status = REFUSED
        return
    report.format = fmt
    gdf = _read(path, fmt, report)
    if gdf is None:
        report.status = REFUSED
        return
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        report.error("the file has no geometry", code="geometry")
        report.status = REFUSED
        return
    report.rows_read = len(gdf)
    if len(gdf) > MAX_FEATURES or gdf.shape[1] > MAX_COLUMNS:
        report.error(f"{len(gdf)} features x {gdf.shape[1]} fields: too large for one admin level", code="too_large")
        report.status = REFUSED
        return
    if len(gdf) == 0:
        report.error("the file holds no feature", code="empty")
        report.status = REFUSED
        return
    tick("checking", 0.3)
    fields = [c for c in gdf.columns if c != gdf.geometry.name]
    code_col = _pick(fields, code_field, CODE_FIELDS, "code", report)
    name_col = _pick(fields, name_field, NAME_FIELDS, "name", report)
    parent_col = _pick(fields, parent_field, (), "parent", report) if parent_field else None
    if report.has_file_errors:
        report.status = REFUSED
        return
    if gdf.crs is None:
        minx, miny, maxx, maxy = gdf.total_bounds
        if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
            report.warn("no coordinate system in the file: read as WGS84 longitude/latitude (EPSG:4326)", code="crs")
            gdf = gdf.set_crs(4326)
        else:
            report.error("no coordinate system in the file and the coordinates are not degrees: save it with its CRS",
                         code="crs")
            report.status = REFUSED
            return
    elif not gdf.crs.equals("EPSG:4326"):
        report.info(f"reprojected from {gdf.crs.to_string()} to EPSG:4326")
        gdf = gdf.to_crs(4326)
    rows = np.arange(1, len(gdf) + 1)
    codes = gdf[code_col].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip())
    names = gdf[name_col].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip())
    parents = (gdf[parent_col].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) or str(v).strip() == ""
                                   else str(v).strip()) if parent_col else pd.Series([None] * len(gdf), index=gdf.index))
    geom = gdf.geometry.to_numpy()
    bad = np.zeros(len(gdf), dtype=bool)
    for i in np.flatnonzero((codes == "").to_numpy()):
        report.error("no area code", row=int(rows[i]), column=code_col, value="", code="no_code")
        bad[i] = True
    for i in np.flatnonzero((names == "").to_numpy()):
        report.warn("no area name: the code is used as the name", row=int(rows[i]), column=name_col, code="no_name")
    names = names.where(names != "", codes)
    empty = shapely.is_missing(geom) | shapely.is_empty(geom)
    for i in np.flatnonzero(empty):
        report.error("no geometry", row=int(rows[i]), column="geometry", code="geometry")
    bad |= empty
    types = shapely.get_type_id(geom)
    polygonal = np.isin(types, [3, 6])  # Polygon, MultiPolygon
    for i in np.flatnonzero(~polygonal & ~empty):
        report.error(f"not a polygon ({shapely.get_type_id(geom[i])} = {geom[i].geom_type}): boundaries are areas",
                     row=int(rows[i]), column="geometry", value=geom[i].geom_type, code="geometry")
    bad |= ~polygonal & ~empty
    invalid = ~bad & ~shapely.is_valid(geom)
    if invalid.any():
        for i in np.flatnonzero(invalid):
            reason = shapely.is_valid_reason(geom[i])
            fixed = shapely.make_valid(geom[i])
            polys = [g for g in shapely.get_parts(fixed) if g.geom_type in ("Polygon", "MultiPolygon")]
            if not polys:
                report.error(f"invalid geometry that cannot be repaired ({reason})", row=int(rows[i]), column="geometry",
                             value=codes.iloc[i], code="geometry")
                bad[i] = True
                continue
            geom[i] = shapely.union_all(polys)
            report.warn(f"invalid geometry repaired ({reason})", row=int(rows[i]), column="geometry",
                        value=codes.iloc[i], code="geometry_repaired")
    out = gpd.GeoDataFrame({"code": codes.to_numpy(), "name": names.to_numpy(), "parent_code": parents.to_numpy(),
                            "_row": rows}, geometry=geom, crs=4326)
    # features sharing a code: merged when the name agrees (islands split into features), refused otherwise
    dup = out["code"].duplicated(keep=False).to_numpy() & ~bad
    if dup.any():
        for code, grp in out[dup].groupby("code", sort=False):
            if grp["name"].nunique() > 1 or grp["parent_code"].astype(str).nunique() > 1:
                for r in grp["_row"]:
                    report.error(f"code shared by features with different names ({', '.join(sorted(set(grp['name'])))})",
                                 row=int(r), column=code_col, value=code, code="duplicate_code")
                bad[grp.index.to_numpy()] = True
            else:
                report.warn(f"{len(grp)} features share code {code}: merged into one area", row=int(grp['_row'].iloc[0]),
                            column=code_col, value=code, code="merged")
    mapper = Mapper(data_dir)
    existing = mapper.areas()
    elsewhere = existing[existing["level"] != level]
    clash = out["code"].isin(set(elsewhere["code"])).to_numpy() & ~bad
    for i in np.flatnonzero(clash):
        lvl = int(elsewhere.loc[elsewhere["code"] == out["code"].iloc[i], "level"].iloc[0])
        report.error(f"code already used by an area of level {lvl}: codes are unique across levels",
                     row=int(rows[i]), column=code_col, value=out["code"].iloc[i], code="code_clash")
    bad |= clash
    report.rows_rejected = len(report.rejected_rows)
    report.rows_valid = report.rows_read - report.rows_rejected
    if report.n_errors:
        report.status = REFUSED
        return
    good = out[~bad]
    good = good.dissolve(by="code", as_index=False, aggfunc="first") if good["code"].duplicated().any() else good
    good = good.drop(columns="_row")
    good["level"] = int(level)
    # parents
    if level == 0:
        if good["parent_code"].notna().any():
            report.info("level 0 areas have no parent: the parent field was ignored")
        good["parent_code"] = None
    else:
        above = existing[existing["level"] == level - 1]
        if parent_col:
            unknown = good["parent_code"].notna() & ~good["parent_code"].isin(set(above["code"]))
            for c, p in zip(good.loc[unknown, "code"], good.loc[unknown, "parent_code"], strict=False):
                report.warn(f"parent {p!r} is not an area of level {level - 1}: the area will not count in any parent",
                            column=parent_col, value=f"{c} -> {p}", code="unknown_parent")
        elif len(above):
            above_geo = gpd.read_parquet(data_dir / "areas" / f"level_{level - 1}.parquet")[["code", "geometry"]]
            pts = gpd.GeoDataFrame({"i": np.arange(len(good))}, geometry=good.geometry.representative_point(), crs=4326)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                hit = gpd.sjoin(pts, above_geo, how="left", predicate="within")
            hit = hit[~hit.index.duplicated(keep="first")]
            parent = hit["code"].to_numpy(dtype=object)
            good["parent_code"] = [None if pd.isna(p) else p for p in parent]
            report.info(f"parents found by point-in-polygon in level {level - 1}: "
                        f"{int(good['parent_code'].notna().sum())} of {len(good)} areas")
        else:
            report.warn(f"no areas of level {level - 1} in the store and no --parent-field: these areas have no parent",
                        code="no_parent")
    good = good[["code", "name", "level", "parent_code", "geometry"]].sort_values("code").reset_index(drop=True)
    report.rows_stored = len(good)  # areas of the file; the level may hold more after merging
    target = data_dir / "areas" / f"level_{level}.parquet"
    old = gpd.read_parquet(target) if target.is_file() else None
    if old is not None:
        report.changes = _area_changes(old, good, replace_level=replace_level)
        if not any(report.changes.get(k, 0) for k in ("added", "removed", "changed")):
            report.status = UNCHANGED
            report.info(f"level {level} already holds exactly these areas: nothing to do")
            return
        if replace_level:
            gone = set(old["code"]) - set(good["code"])
            if gone:
                report.warn(f"{len(gone)} area(s) of level {level} disappear with this file "
                            f"({', '.join(sorted(gone)[:8])}{', …' if len(gone) > 8 else ''}): figures attached to "
                            "them will no longer show", code="areas_removed")
        else:
            # the same code under another parent is another place (Canada's province 24 is not another
            # country's region 24): merging by code would put one's figures on the other's map
            was = old.set_index("code")
            other = [(c, p, was.at[c, "name"], was.at[c, "parent_code"]) for c, p in zip(good["code"], good["parent_code"],
                                                                                          strict=True)
                     if c in was.index and p is not None and not pd.isna(was.at[c, "parent_code"])
                     and was.at[c, "parent_code"] not in (None, "None") and p != was.at[c, "parent_code"]]
            for c, p, name, parent in other:
                report.error(f"code {c} is already the code of {name} (in {parent}) at this level, and this file's area "
                             f"lies in {p}: codes must be unique in a level; give the file's codes a prefix of their "
                             "own (a mapping of codes, or edit the file), or replace the level with --replace-level",
                             column=code_col, value=c, code="code_clash")
            if other:
                report.status = REFUSED
                return
            kept = old[~old["code"].isin(set(good["code"]))]
            good = gpd.GeoDataFrame(pd.concat([kept[good.columns], good], ignore_index=True), geometry="geometry",
                                    crs=4326).sort_values("code").reset_index(drop=True)
            report.info(f"merged into level {level}: {len(kept)} areas already there are kept")
    report.status = ACCEPTED
    report.info(f"level {level} now holds {len(good)} areas")
    if dry_run:
        return
    tick("writing", 0.7)
    storage.write_areas(data_dir, level, good)
    tick("refreshing", 0.9)
    from . import refresh_facts

    refresh_facts(data_dir, report)


def _area_changes(old, new, *, replace_level: bool) -> dict[str, int]:  # GeoDataFrames in, counts out
    import shapely

    o = old.set_index("code")
    n = new.set_index("code")
    if not replace_level:
        o = o[o.index.isin(n.index)]
    both = o.index.intersection(n.index)
    changed = 0
    for c in both:
        a, b = o.loc[c], n.loc[c]
        same_geom = shapely.equals_exact(a.geometry, b.geometry, tolerance=1e-9) if a.geometry is not None else False
        same_parent = (pd.isna(a["parent_code"]) and pd.isna(b["parent_code"])) or a["parent_code"] == b["parent_code"]
        if not (a["name"] == b["name"] and same_parent and same_geom):
            changed += 1
    return {"added": len(n.index.difference(o.index)), "removed": len(o.index.difference(n.index)),
            "changed": changed, "unchanged": len(both) - changed}
