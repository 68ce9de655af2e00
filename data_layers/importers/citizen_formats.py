"""The citizen formats and their columns: which format a file is (detect_format), which columns carry
the place, the period and the area, personal-data screening of headers and values, HXL roles, and
the country cross-check of points against a declared place. citizen.py reads and places."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import storage
from . import identifiers as ids
from . import values as val
from .areas import M49_FILE
from .mapping import Mapper, norm
from .reading import Table, decode, read_bytes, sniff_kind
from .report import Report

log = logging.getLogger("data_layers.importers.citizen")


@dataclass(frozen=True)
class CitizenFormat:
    """One citizen input format: its name (``--format``), a title, and how a file is recognised
    (``detect(lower-case headers, path)``). Detection tries :data:`CITIZEN_FORMATS` in order."""

    name: str
    title: str
    detect: Callable[[set[str], Path], bool]


CITIZEN_FORMATS: tuple[CitizenFormat, ...] = (
    CitizenFormat("geojson", "GeoJSON points", lambda h, path: path.suffix.lower() in (".geojson", ".json")),
    CitizenFormat("kobo", "KoboToolbox export (CSV or XLSX)",
                  lambda h, path: bool({"_submission_time"} & h) or {"_uuid", "_index"} <= h
                  or any(c.startswith("_") and c.endswith("_latitude") for c in h)),
    CitizenFormat("odk", "ODK Central export (CSV)",
                  lambda h, path: "submissiondate" in h or "meta-instanceid" in h or {"key", "submitterid"} <= h),
    CitizenFormat("csv", "CSV or XLSX with a column mapping", lambda h, path: True),
)
_BY_NAME = {f.name: f for f in CITIZEN_FORMATS}
FORMATS: dict[str, str] = {n: _BY_NAME[n].title for n in ("kobo", "odk", "csv", "geojson")}
NEAREST_TOLERANCE_DEG = 0.1  # ~11 km: generalised coastlines (Natural Earth) cut off real shore-side points
MAX_GEOJSON_FEATURES = 2_000_000  # beyond this a GeoJSON file is better converted to GeoParquet first

LAT_NAMES = ("lat", "latitude", "lat_deg", "y_lat", "gps_latitude", "_geolocation_latitude")
LON_NAMES = ("lon", "lng", "long", "longitude", "lon_deg", "x_lon", "gps_longitude", "_geolocation_longitude")
PERIOD_NAMES = ("year", "period", "date", "_submission_time", "submissiondate", "submission_date", "today", "end",
                "start", "survey_date", "date_of_survey")
AREA_NAMES = ("area_code", "area", "geocode", "area_name")


@dataclass
class CitizenResult:
    observations: pd.DataFrame
    point_kind: str = "none"


def normalise(header: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", norm(header)).strip("_")


def pii_reason(header: str, tag: str | None = None) -> str | None:
    """Why a column header (or its HXL hashtag) names personal data, or None (see :mod:`.identifiers`)."""
    return ids.reason_from_header(header, tag)


def pii_in_values(values: pd.Series, header: str = "") -> str | None:
    """Why a sample of a column's cells shows personal data, or None (see :mod:`.identifiers`)."""
    return ids.reason_from_cells(values, header)


# HXL hashtags that say which role a column plays (attributes in any order; extra attributes allowed).
# The first matching row wins for a role; `#adm2` codes come before `#adm1` (the finest area first).
HXL_ROLES: tuple[tuple[str, str], ...] = (
    ("#geo+lat", "lat"), ("#lat_deg", "lat"), ("#geo+lon", "lon"), ("#geo+long", "lon"), ("#lon_deg", "lon"),
    ("#geo+coord", "geopoint"),
    ("#date+reported", "period"), ("#report_date", "period"), ("#date+occurred", "period"), ("#date", "period"),
    ("#adm3+code", "area"), ("#adm2+code", "area"), ("#adm1+code", "area"), ("#adm3_id", "area"),
    ("#adm2_id", "area"), ("#adm1_id", "area"),
    ("#country+code", "country"), ("#country+name", "country"), ("#country", "country"),
    ("#indicator+value", "value"), ("#indicator+num", "value"), ("#value", "value"),
    ("#population+num", "n"), ("#reached+num", "n"),
)


def hxl_roles(tags: dict[str, str]) -> dict[str, str]:
    """Column roles proposed by a file's HXL hashtag row (``{column: tag}``)."""
    out: dict[str, str] = {}
    for pattern, role in HXL_ROLES:
        if role in out:
            continue
        hit = next((c for c, t in tags.items() if ids.hxl_matches(t, pattern)), None)
        if hit is not None:
            out[role] = hit
    if "lat" not in out or "lon" not in out:
        out.pop("lat", None)
        out.pop("lon", None)
    return out


def detect_format(columns: list[str], path: Path) -> str:
    """The citizen format of a file: the first record of :data:`CITIZEN_FORMATS` that accepts it."""
    h = {c.strip().lower() for c in columns}
    return next(f.name for f in CITIZEN_FORMATS if f.detect(h, path))


def read_geojson_points(path: Path, report: Report) -> Table | None:  # noqa: PLR0911
    """Features of a GeoJSON file as a table (properties as text) with ``_lat``/``_lon`` columns."""
    raw = read_bytes(path, report)
    if raw is None:
        return None
    kind = sniff_kind(raw)
    if kind != "text":
        report.error("not a GeoJSON text file", code=kind)
        return None
    text = decode(raw, report)
    if text is None:
        return None
    try:
        doc = json.loads(text)
    except ValueError as e:
        report.error(f"not valid JSON: {e}", code="geojson")
        return None
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        report.error("not a GeoJSON FeatureCollection", code="geojson")
        return None
    feats = doc["features"]
    if len(feats) > MAX_GEOJSON_FEATURES:
        report.error(f"{len(feats)} features: convert the file to GeoParquet or CSV first", code="too_large")
        return None
    records, rows, lats, lons = [], [], [], []
    for i, f in enumerate(feats, start=1):
        if not isinstance(f, dict):
            report.error("not a GeoJSON feature", row=i, code="geojson")
            continue
        geom = f.get("geometry") or {}
        props = f.get("properties") or {}
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        gtype = geom.get("type") if isinstance(geom, dict) else None
        if gtype == "MultiPoint" and isinstance(coords, list) and len(coords) == 1:
            gtype, coords = "Point", coords[0]
        if gtype != "Point" or not isinstance(coords, list) or len(coords) < 2:
            report.error(f"not a point (geometry {gtype or 'missing'}): citizen GeoJSON holds points; areas are "
                         "imported as boundaries", row=i, column="geometry", value=gtype, code="not_point")
            continue
        if not isinstance(props, dict):
            props = {}
        records.append({str(k): "" if v is None else (json.dumps(v) if isinstance(v, dict | list) else str(v))
                        for k, v in props.items()})
        rows.append(i)
        lons.append(str(coords[0]))
        lats.append(str(coords[1]))
    report.rows_read = len(feats)
    frame = pd.DataFrame(records, dtype=object).fillna("")
    frame["_lat"] = lats
    frame["_lon"] = lons
    crs = doc.get("crs")
    if isinstance(crs, dict):
        name = str((crs.get("properties") or {}).get("name", ""))
        if name and not re.search(r"(CRS84|EPSG::?4326)$", name):
            frame.attrs["crs"] = name
    return Table(frame=frame.reset_index(drop=True), rows=np.asarray(rows, dtype=np.int64), encoding=report.encoding)


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    by = {normalise(c): c for c in columns}
    for n in names:
        if normalise(n) in by:
            return by[normalise(n)]
    return None


def _geo_columns(columns: list[str], fmt: str) -> tuple[str | None, str | None, str | None]:
    """(lat, lon, combined) columns: Kobo ``_q_latitude``, ODK ``q-Latitude``, ``_geolocation``, generic names."""
    lat = lon = None
    for c in columns:
        low = c.lower()
        if low.startswith("_") and low.endswith("_latitude"):
            twin = c[: -len("latitude")] + ("longitude" if c.endswith("latitude") else "Longitude")
            cand = [x for x in columns if x.lower() == twin.lower()]
            if cand:
                return c, cand[0], None
        if low.endswith("-latitude"):
            cand = [x for x in columns if x.lower() == low[: -len("latitude")] + "longitude"]
            if cand:
                return c, cand[0], None
    if "_lat" in columns and "_lon" in columns:
        return "_lat", "_lon", None
    lat, lon = _find(columns, LAT_NAMES), _find(columns, LON_NAMES)
    if lat and lon:
        return lat, lon, None
    geo = _find(columns, ("_geolocation",))
    return None, None, geo


def _split_geolocation(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Kobo ``_geolocation`` (``[lat, lon]``) or a geopoint ``lat lon alt acc`` into two text arrays."""
    parts = values.astype(str).str.strip("[]() ").str.replace(",", " ").str.split()
    lat = parts.map(lambda p: p[0] if isinstance(p, list) and len(p) >= 2 else "").to_numpy(dtype=object)
    lon = parts.map(lambda p: p[1] if isinstance(p, list) and len(p) >= 2 else "").to_numpy(dtype=object)
    return lat, lon


# Point-in-polygon at national scale (issue 3: 1 million points into 5,000 areas). Points are matched
# to areas through a regular grid over the areas' bounding boxes, then tested exactly, area by area,
# with shapely's prepared ``intersects_xy``: no point geometries are built and each area's edge index
# stays in cache while its points are tested. The constants below bound the work on any input.

# --- countries, for the cross-check of points against a declared country ---------------------------

@functools.lru_cache(maxsize=1)
def _country_words() -> dict[str, str]:
    """``{normalised ISO2, ISO3, M49 or name: ISO3}`` from the M49 table and Babel's CLDR data (offline)."""
    from babel import Locale
    from babel.core import get_global

    out: dict[str, str] = {}
    m49 = pd.read_csv(M49_FILE, dtype=str, keep_default_na=False)
    for r in m49.itertuples(index=False):
        out[norm(r.iso3)] = r.iso3
        out[norm(r.m49)] = r.iso3
        out[norm(r.name)] = r.iso3
    iso2 = {}
    for alias, targets in get_global("territory_aliases").items():
        if len(alias) == 3 and alias.isalpha() and len(targets) == 1 and alias in set(m49["iso3"]):
            iso2[targets[0]] = alias  # CLDR's alpha-3 aliases, for real countries only (not XX -> XXX "unknown")
    for two, three in iso2.items():
        out.setdefault(norm(two), three)
    for lang in COUNTRY_NAME_LANGS:
        for two, name in Locale.parse(lang).territories.items():
            if two in iso2:
                out.setdefault(norm(name), iso2[two])
    return out


COUNTRY_NAME_LANGS = ("en", "fr", "es", "pt", "ar", "sw", "ru", "zh")  # names of countries recognised in these languages


def country_code(text: str, level0: dict[str, str]) -> str | None:
    """ISO3 of a country written as ISO3, ISO2, M49 or a name (also inverted ISO names such as
    ``Tanzania, United Republic of``), or None."""
    t = norm(text)
    if not t:
        return None
    words = _country_words()
    for cand in (t, " ".join(reversed([p.strip() for p in t.split(",", 1)])) if "," in t else ""):
        if cand and (hit := level0.get(cand) or words.get(cand)):
            return hit
    return None


def _ancestors(mapper: Mapper) -> dict[str, list[str]]:
    """``{area code: [the area and every area above it]}`` from the store's parent codes."""
    a = mapper.areas()
    parent = dict(zip(a["code"], a["parent_code"].fillna(""), strict=False))
    out: dict[str, list[str]] = {}
    for code in parent:
        chain, seen = [code], {code}
        while (p := parent.get(chain[-1], "")) and p not in seen:
            chain.append(p)
            seen.add(p)
        out[code] = chain
    return out


def check_declared_place(lat: np.ndarray, lon: np.ndarray, codes: np.ndarray, declared: np.ndarray, rows: np.ndarray,
                         column: str, report: Report, mapper: Mapper, *, country: bool) -> np.ndarray:
    """Rows whose point does not lie in the country (or area) its own row declares: refused, never placed in
    another country. A hint says when flipping a sign or swapping the coordinates would put it there. A point
    within NEAREST_TOLERANCE_DEG of the declared area (a generalised border) is moved into it instead:
    ``codes`` is updated in place."""
    areas = mapper.areas()
    names = dict(zip(areas["code"], areas["name"], strict=False))
    up = _ancestors(mapper)
    level0 = {norm(c): c for c in areas.loc[areas["level"] == 0, "code"]}
    if country:
        level0.update({norm(n): c for c, n in zip(areas.loc[areas["level"] == 0, "code"],
                                                  areas.loc[areas["level"] == 0, "name"], strict=False)})
    by_code, by_name = mapper.area_lookup()
    n = len(codes)
    bad = np.zeros(n, dtype=bool)
    fcodes, uniques = pd.factorize(val.stripped(declared), use_na_sentinel=False)
    target = np.full(len(uniques), "", dtype=object)
    unknown: list[str] = []
    for k, u in enumerate(uniques):
        if not str(u):
            continue
        if country:
            hit = country_code(str(u), level0)
        else:
            hit = by_code.get(norm(u)) or (by_name.get(norm(u), [None])[0] if len(by_name.get(norm(u), [])) == 1 else None)
        if hit is None:
            unknown.append(str(u))
        else:
            target[k] = hit
    want = target[fcodes]
    blank = int((val.stripped(declared) == "").sum())
    if blank:
        report.info(f"{blank} point(s) with an empty {column!r}: placed by their coordinates, not cross-checked")
    for u in unknown:
        k = int(np.sum(val.stripped(declared) == u))
        report.warn(f"{u!r} is not {'a country' if country else 'an area of this store'} GapLens knows: {k} point(s) "
                    "placed by their coordinates, not cross-checked", column=column, value=u, code="unknown_country")
    check = np.flatnonzero((want != "") & (codes != ""))
    mismatch = [i for i in check if want[i] not in up.get(codes[i], [codes[i]])]
    if not mismatch:
        if len(check):
            report.info(f"{len(check)} point(s) checked against {column!r}: every one lies in the "
                        f"{'country' if country else 'area'} its row names")
        return bad
    import shapely

    geoms = _declared_geometries(mapper, {want[i] for i in mismatch})
    near = [i for i in mismatch if geoms.get(want[i]) is not None
            and shapely.distance(geoms[want[i]], shapely.points(float(lon[i]), float(lat[i]))) <= NEAREST_TOLERANCE_DEG]
    if near:
        codes[near] = want[near]
        report.warn(f"{len(near)} point(s) just across a border from the {'country' if country else 'area'} their row "
                    f"names (within {NEAREST_TOLERANCE_DEG}°: generalised boundaries) placed in that "
                    f"{'country' if country else 'area'}", row=int(rows[near[0]]), column=column, code="point_border")
    for i in sorted(set(mismatch) - set(near)):
        found = next((c for c in reversed(up.get(codes[i], [codes[i]]))), codes[i]) if country else codes[i]
        hint = _sign_hint(float(lat[i]), float(lon[i]), geoms.get(want[i]))
        report.error(f"the point lies in {names.get(found, found)} ({found}), but {column!r} says "
                     f"{names.get(want[i], want[i])} ({want[i]}): not stored in another country{hint}",
                     row=int(rows[i]), column=column, value=f"{lat[i]}, {lon[i]}", code="point_elsewhere")
        bad[i] = True
    return bad


def _declared_geometries(mapper: Mapper, codes: set[str]) -> dict[str, Any]:
    import geopandas as gpd

    out: dict[str, Any] = {}
    for f in storage.area_files(mapper.data_dir):
        g = gpd.read_parquet(f, columns=["code", "geometry"])
        g = g[g["code"].isin(codes)]
        out.update(dict(zip(g["code"], g.geometry, strict=False)))
    return out


def _sign_hint(lat: float, lon: float, geom: Any) -> str:
    """' (with longitude -13.4 it would be there: a missing minus sign?)' when a simple slip explains the point."""
    if geom is None:
        return ""
    import shapely

    for (y, x), what in (((lat, -lon), f"longitude {-lon:g}"), ((-lat, lon), f"latitude {-lat:g}"),
                         ((-lat, -lon), f"latitude {-lat:g} and longitude {-lon:g}"), ((lon, lat), "latitude and longitude swapped")):
        if abs(y) <= 90 and shapely.intersects_xy(geom, x, y):
            slip = "a missing minus sign?" if "swapped" not in what else "swapped columns?"
            return f" (with {what} it would be there: {slip})"
    return " (wrong coordinates?)"
