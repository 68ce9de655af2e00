"""The indicator catalogue: every global indicator from the shipped framework, and new stores.

A store's ``indicators.csv`` says which indicators the pages and ``gaps`` judge. The project
curates a few dozen entries (``tables/indicators.csv``: headline series, unit, polarity, groups
that do not apply); every other global indicator comes from the UN framework shipped in
``sdg_framework/`` with its official title and an *unknown* polarity (empty ``higher_is_better``:
the outcome gap is then shown unsigned, never as better or worse off). Indicators that a file
brings and the catalogue lacks are added at import (:func:`add_missing`), so nothing stored is
unqueryable.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from . import framework, schema, storage
from .settings import PROJECT_DIR

log = logging.getLogger(__name__)

#: world countries (ISO 3166-1 alpha-3 in ``iso3``), Natural Earth, public domain (its PROVENANCE.md)
WORLD_BOUNDARIES = PROJECT_DIR / "sample_data" / "boundaries" / "world_admin0.geojson"
#: a short title is cut here (axes and legends); the full title is always one hover away
SHORT_TITLE_CHARS = 48
_CUT = re.compile(r",? (?:by|disaggregated by|including) |; |:| \(")


def short_title(title: str) -> str:
    """A few words for axes: the title up to its first qualifier, at most ``SHORT_TITLE_CHARS``."""
    head = _CUT.split(title, maxsplit=1)[0].strip() or title
    if len(head) <= SHORT_TITLE_CHARS:
        return head
    cut = head[:SHORT_TITLE_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;") + "…"


def _code_key(code: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in str(code).split("."))


def _entry(code: str, title: str) -> dict[str, Any]:
    parts = code.split(".")
    return {"code": code, "goal": parts[0], "target": ".".join(parts[:2]), "series": "", "title": title,
            "short_title": short_title(title), "unit": "", "higher_is_better": "", "survey_based": "false",
            "not_applicable": ""}


def framework_indicators() -> pd.DataFrame:
    """English titles of every global indicator of the shipped framework (``code``, ``title``)."""
    df = pd.read_csv(framework.SHIPPED_FILE, dtype=str, keep_default_na=False)
    df = df[(df["kind"] == "indicator") & (df["lang"] == framework.FALLBACK_LANG)]
    return df[["code", "title"]].reset_index(drop=True)


def full_catalogue() -> pd.DataFrame:
    """The curated entries plus every other global indicator of the framework, in code order."""
    curated = pd.read_csv(storage.DEFAULT_TABLES_DIR / "indicators.csv", dtype=str, keep_default_na=False)
    more = pd.DataFrame(list(_curated_more().values()), columns=curated.columns)
    curated = pd.concat([curated, more[~more["code"].isin(curated["code"])]], ignore_index=True)
    known = set(curated["code"])
    extra = [_entry(r.code, r.title) for r in framework_indicators().itertuples() if r.code not in known]
    out = pd.concat([curated, pd.DataFrame(extra, columns=curated.columns)], ignore_index=True)
    out = out.iloc[sorted(range(len(out)), key=lambda i: _code_key(out["code"].iat[i]))]
    return out[schema.names(schema.INDICATORS)].reset_index(drop=True)


def _curated_more() -> dict[str, dict[str, Any]]:
    """Curated entries (unit, polarity, short title) for indicators citizen data often measures
    (``tables/indicators_more.csv``), used instead of the bare framework entry when added."""
    path = storage.DEFAULT_TABLES_DIR / "indicators_more.csv"
    if not path.is_file():
        return {}
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return {r["code"]: r for r in df.reindex(columns=schema.names(schema.INDICATORS), fill_value="").to_dict("records")}


def add_missing(data_dir: Path, codes: Iterable[str]) -> list[str]:
    """Add indicators a file brought that the store's catalogue lacks; return the codes added.

    Global codes get their official title; national ones (``1.2.1.a``) are titled after their
    global parent ("national indicator under ...") until someone edits ``indicators.csv``.
    """
    cat = storage.read_catalogue(data_dir, "indicators")
    missing = sorted({str(c) for c in codes} - set(cat["code"]), key=_code_key)
    if not missing:
        return []
    titles = dict(framework_indicators().itertuples(index=False))
    curated = _curated_more()
    rows = []
    for code in missing:
        if code in curated:
            rows.append(curated[code])
            continue
        title = titles.get(code)
        if title is None:
            parent = ".".join(code.split(".")[:3])
            title = f"National indicator {code}" + (f" (under {parent}: {titles[parent]})" if parent in titles else "")
        rows.append(_entry(code, title))
    out = pd.concat([cat, pd.DataFrame(rows, columns=cat.columns)], ignore_index=True)
    out = out.iloc[sorted(range(len(out)), key=lambda i: _code_key(out["code"].iat[i]))].reset_index(drop=True)
    storage.write_catalogue(data_dir, "indicators", out)
    log.info("indicators added to the catalogue of %s: %s", data_dir, ", ".join(missing))
    return missing


class InitError(Exception):
    """A folder that cannot become a new store (not empty, not writable)."""


def init_store(data_dir: str | Path, *, world: bool = False) -> dict[str, int]:
    """Make an empty, valid store in ``data_dir``: catalogues, and the world's countries if asked.

    Refuses a folder that already holds files, so that no store is ever overwritten. Returns
    counts for the report (indicators, groups, areas).
    """
    data_dir = Path(data_dir)
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise InitError(f"{data_dir} is not an empty folder: a new store is made only in an empty or new folder")
    data_dir.mkdir(parents=True, exist_ok=True)
    storage.datasets_dir(data_dir).mkdir()
    storage.copy_default_catalogues(data_dir, [n for n in storage.CATALOGUE_FILES if n != "indicators"])
    cat = full_catalogue()
    storage.write_catalogue(data_dir, "indicators", cat)
    areas = 0
    if world:
        import geopandas as gpd

        w = gpd.read_file(WORLD_BOUNDARIES).rename(columns={"iso3": "code"})
        w = w.assign(level=0, parent_code=None)[["code", "name", "level", "parent_code", "geometry"]]
        storage.write_areas(data_dir, 0, gpd.GeoDataFrame(w, geometry="geometry", crs=4326))
        areas = len(w)
    groups = len(storage.read_catalogue(data_dir, "groups"))
    return {"indicators": len(cat), "groups": groups, "areas": areas}
