"""Generate the Philippine sample store: real boundaries, synthetic illustrative values.

Deterministic: one seeded generator, fixed timestamps, no dependence on the clock, so running it
twice gives the same content. Everything goes through the real write path
(:func:`storage.write_dataset`, :func:`storage.write_areas`) and the facts are built by the real
engine. The values are SYNTHETIC and ILLUSTRATIVE, not statistics of the Philippine Statistics
Authority.

The deliberate edge cases (listed in ``sample_data/README.md``) are forced here by name, in
:data:`EDGE_CASES`, so a test can find each of them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import register, storage, stories, tidy
from .settings import PROJECT_DIR
from .store import GapStore

SEED = 2030
BOUNDARIES = PROJECT_DIR / "sample_data" / "boundaries"
IMPORTED_AT = "2025-01-15T00:00:00+00:00"  # fixed, so regeneration is byte-stable
METRO_MANILA_PROVINCE = "PH-00-MM"  # PH-00 is the region's code; codes are unique across levels
YEARS = range(2010, 2025)

EDGE_CASES: dict[str, str] = {
    "no_official_data": "6.1.1 has no official figure at all for BARMM (PH-14) nor for Sulu (PH-SLU).",
    "stale_only": "Disability figures exist only for 2016 (national and regional): stale from 2022 on with a 5-year window.",
    "aggregate_only": "Provinces publish totals only (except birth registration by sex), so group cells there are hidden in a total.",
    "cgd_fills_missing": "Community water-point monitoring covers Sulu and BARMM, where official 6.1.1 is missing.",
    "cgd_contradicts": "In Bicol (PH-05) official rural safe water is 80 % (2023) "
                       "while citizen water points find about 35 % working and safe.",
    "suppressed_official": "Unemployment of persons with disabilities in CAR (PH-15), 2016, rests on n=3 and is confidential.",
    "suppressed_citizen": "The disability survey reached only 3 respondents in Batanes (PH-BTN): shown as suppressed.",
    "true_zero": "Official slum population in Batanes (PH-BTN) is 0.0 % (2021); one surveyed beach found 0 plastic items.",
    "not_applicable": "Women/men are not applicable to skilled birth attendance and intimate-partner violence; "
                      "people groups to beach litter.",
}


SAMPLE_STORY: dict[str, Any] = {
    "name": "sample",
    "title": "Safe water and disability in the Philippines: who the totals hide",
    "lang": "en",
    "slides": [
        {"page": "overview", "chart": "overview", "filters": {"level": "2"},
         "title": "Official statistics leave groups out",
         "caption": "Across every indicator and province, most group figures are hidden inside totals. "
                    "Persons with disabilities have the least current official coverage."},
        {"page": "gap_map", "chart": "gap-map",
         "filters": {"indicator": "6.1.1", "group": "disability", "level": "2"},
         "title": "Safe water: no province counts persons with disabilities",
         "caption": "Provinces publish one total for safe drinking water. Whether persons with "
                    "disabilities have safe water is hidden in it everywhere."},
        {"page": "gap_map", "chart": "gap-map",
         "filters": {"indicator": "6.1.1", "group": "rural", "level": "2"},
         "title": "Citizen water-point monitoring fills Sulu and BARMM",
         "caption": "Where official safe-water figures are missing, community monitors checked water "
                    "points. Their data fills the gap for rural people."},
        {"page": "area_profile", "chart": "group-comparison",
         "filters": {"indicator": "6.1.1", "group": "rural", "area": "PH-05", "level": "1"},
         "title": "Bicol: official 80 %, citizen monitors about 35 %",
         "caption": "Official data says 80 % of rural people in Bicol have safe water. Citizen monitors "
                    "found about a third of water points working and safe: a figure worth checking."},
        {"page": "gap_map", "chart": "gap-map",
         "filters": {"group": "disability", "level": "2", "metric": "blind_spot", "indicator": "all"},
         "title": "Blind spots: where no one speaks for persons with disabilities",
         "caption": "The share of indicators with neither a current official figure nor citizen "
                    "evidence, province by province. These are the places to collect data next."},
    ],
}
"""The five-step story the sample ships (``stories/sample.json``): ``?present=1&story=sample``."""


@dataclass
class Spec:
    """How one indicator is published in the synthetic world."""

    code: str
    base: float                # national value in 2010
    trend: float               # change per year
    years: tuple[int, ...]     # survey rounds
    province_years: tuple[int, ...] = ()    # rounds with provincial totals
    dims: dict[str, dict[str, Any]] = field(default_factory=dict)
    lo: float = 0.0
    hi: float = 100.0
    survey: bool = True


_LFS = tuple(range(2010, 2025))
_FIES = (2012, 2015, 2018, 2021, 2023)
_NDHS = (2013, 2017, 2022)
_SEXURB = {"SEX": {"F": -2.0, "M": 2.0}, "URBANISATION": {"U": 8.0, "R": -9.0}}
SPECS: tuple[Spec, ...] = (
    Spec("1.1.1", 12, -0.5, _FIES, (2018, 2021), {**_SEXURB, "AGE": {"Y0T14": 4, "Y_GE60": -1}}, 0, 60),
    Spec("1.2.1", 27, -0.9, _FIES, (2015, 2018, 2021, 2023),
         {"SEX": {"F": 1.0, "M": -1.0}, "URBANISATION": {"U": -10, "R": 9},
          "INDIGENOUS_STATUS": {"IND": 18, "_years": (2015,)}, "DISABILITY_STATUS": {"PD": 9, "_years": (2016,)}},
         0, 70),
    Spec("1.3.1", 30, 1.2, (2016, 2019, 2022), (), {"DISABILITY_STATUS": {"PD": -12, "_years": (2016,)},
                                                   "AGE": {"Y_GE60": 15, "_years": (2019, 2022)}}, survey=False),
    Spec("1.4.2", 45, 0.8, (2017, 2022), (), {"SEX": {"F": -6, "M": 5}, "URBANISATION": {"U": 6, "R": -7}}),
    Spec("3.1.2", 72, 1.4, _NDHS, (2017, 2022), {"URBANISATION": {"U": 8, "R": -10},
                                               "INCOME_WEALTH_QUANTILE": {"Q1": -22, "Q2": -10}}),
    Spec("4.1.2", 80, 0.8, (2013, 2017, 2019, 2022), (2019,),
         {"SEX": {"F": 4, "M": -4}, "URBANISATION": {"U": 6, "R": -7},
          "INCOME_WEALTH_QUANTILE": {"Q1": -20, "Q2": -9}, "DISABILITY_STATUS": {"PD": -25, "_years": (2016,)}}),
    Spec("5.2.1", 7, -0.1, (2017, 2022), (), {"URBANISATION": {"U": -0.5, "R": 0.8},
                                            "AGE": {"Y15T19": 2.5, "_years": (2022,)}}, 0, 40),
    Spec("5.b.1", 70, 1.6, (2014, 2019, 2023), (), {"SEX": {"F": 3, "M": -3}, "AGE": {"Y15T24": 6, "Y_GE60": -25}}),
    Spec("6.1.1", 40, 1.5, (2012, 2015, 2017, 2019, 2021, 2023), (2019, 2023),
         {"URBANISATION": {"U": 14, "R": -16}, "INCOME_WEALTH_QUANTILE": {"Q1": -18, "_years": (2017, 2022)}}),
    Spec("6.2.1", 48, 1.8, (2012, 2015, 2017, 2019, 2021, 2023), (2023,), {"URBANISATION": {"U": 9, "R": -11}}),
    Spec("7.1.1", 85, 1.0, _LFS[::2], (2016, 2020, 2024), {"URBANISATION": {"U": 7, "R": -9}}),
    Spec("8.5.2", 7.5, -0.15, _LFS, (2018, 2021, 2024),
         {"SEX": {"F": 0.6, "M": -0.4}, "AGE": {"Y15T24": 7.5, "_years": _LFS[-6:]},
          "DISABILITY_STATUS": {"PD": 6, "_years": (2016,)}}, 0, 40),
    Spec("8.10.2", 31, 2.2, (2011, 2014, 2017, 2021), (), {"SEX": {"F": 4, "M": -4},
                                                          "INCOME_WEALTH_QUANTILE": {"B40": -15}}),
    Spec("11.1.1", 38, -0.8, (2015, 2021), (2021,), {}, 0, 80),
    Spec("14.1.1", 180, 6, (2019,), (), {}, 0, 1000, survey=False),
    Spec("16.1.4", 62, 0.7, (2017, 2021), (), {"SEX": {"F": -9, "M": 9}, "AGE": {"Y_GE60": -6}}),
    Spec("16.9.1", 86, 0.8, tuple(range(2010, 2024)), tuple(range(2012, 2024, 2)),
         {"SEX": {"F": 0.4, "M": -0.4}, "_province": ("SEX",)}, survey=False),
    Spec("17.8.1", 36, 3.2, (2013, 2016, 2019, 2023), (2019,),
         {"SEX": {"F": 2, "M": -2}, "URBANISATION": {"U": 12, "R": -14}, "AGE": {"Y15T24": 20, "Y_GE60": -26},
          "DISABILITY_STATUS": {"PD": -18, "_years": (2016,)}}),
)


def load_areas() -> gpd.GeoDataFrame:
    """Countries (level 0), Philippine regions (1) and provinces (2) from the bundled boundaries."""
    w = gpd.read_file(BOUNDARIES / "world_admin0.geojson")
    w = w.rename(columns={"iso3": "code"}).assign(level=0, parent_code=None)
    r = gpd.read_file(BOUNDARIES / "phl_admin1.geojson").assign(level=1, parent_code="PHL")
    p = gpd.read_file(BOUNDARIES / "phl_admin2.geojson").assign(level=2)
    p.loc[p["code"] == "PH-00", "code"] = METRO_MANILA_PROVINCE
    cols = ["code", "name", "level", "parent_code", "geometry"]
    out = pd.concat([w[cols], r[cols], p[cols]], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=4326)


def _clip(x: np.ndarray | float, lo: float, hi: float) -> np.ndarray:
    return np.clip(np.round(x, 1), lo, hi)


def _official(areas: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    regions = areas.loc[areas.level == 1, "code"].tolist()
    provinces = areas.loc[areas.level == 2, ["code", "parent_code"]].values.tolist()
    rows: list[dict[str, Any]] = []
    for spec in SPECS:
        reg_dev = dict(zip(regions, rng.normal(0, 6, len(regions)), strict=False))
        reg_dev["PH-14"] = reg_dev["PH-14"] - 12 if spec.base > 40 else reg_dev["PH-14"] + 6
        prov_dev = {c: reg_dev[parent] + rng.normal(0, 3) for c, parent in provinces}
        group_years = {d: cfg.get("_years") for d, cfg in spec.dims.items() if not d.startswith("_")}

        def add(area: str, year: int, value: float, n: int, dims: dict[str, str], level: int,
                spec: Spec = spec) -> None:
            margin = 1.96 * np.sqrt(max(value * (100 - value), 25) / max(n, 1)) if spec.survey else None
            rows.append({
                "indicator": spec.code, "series": "", "area_code": area, "period": year,
                "value": float(_clip(value, spec.lo, spec.hi)), "n": n if spec.survey else None,
                "lower": float(_clip(value - margin, spec.lo, spec.hi)) if margin else None,
                "upper": float(_clip(value + margin, spec.lo, spec.hi)) if margin else None,
                "unit": "items per 100 m" if spec.code == "14.1.1" else "percent",
                "source": "Synthetic survey round (illustrative)" if spec.survey else "Synthetic register (illustrative)",
                **{k.lower(): v for k, v in dims.items()},
            })

        # a group-only round (e.g. the 2016 disability survey) is also a round with a total
        rounds = sorted(set(spec.years).union(*(y for y in group_years.values() if y)))
        for year in rounds:
            nat = spec.base + spec.trend * (year - 2010) + rng.normal(0, 0.6)
            add("PHL", year, nat, 150_000, {}, 0)
            for dim, cfg in spec.dims.items():
                if dim.startswith("_"):
                    continue
                yrs = group_years[dim]
                if yrs is not None and year not in yrs:
                    continue
                for code, off in cfg.items():
                    if code.startswith("_"):
                        continue
                    add("PHL", year, nat + off + rng.normal(0, 0.5), 20_000, {dim: code}, 0)
                    for reg in regions:
                        if spec.code == "6.1.1" and reg == "PH-14":
                            continue
                        if dim in ("AGE", "INCOME_WEALTH_QUANTILE", "INDIGENOUS_STATUS"):
                            continue  # national only
                        n = 3 if (spec.code == "8.5.2" and dim == "DISABILITY_STATUS" and reg == "PH-15") else 900
                        val = nat + reg_dev[reg] + off + rng.normal(0, 1.2)
                        if spec.code == "6.1.1" and reg == "PH-05" and code == "R" and year == 2023:
                            val = 80.0
                        add(reg, year, val, n, {dim: code}, 1)
                        if n == 3:
                            rows[-1].update(obs_status="C", suppressed=True)
            for reg in regions:
                if spec.code == "6.1.1" and reg == "PH-14":
                    continue
                add(reg, year, nat + reg_dev[reg] + rng.normal(0, 1.0), 6_000, {}, 1)
            if year in spec.province_years:
                for prov, _parent in provinces:
                    if spec.code == "6.1.1" and (prov == "PH-SLU" or _parent == "PH-14"):
                        continue
                    if rng.random() < 0.08:
                        continue  # a province skipped in this round
                    val = nat + prov_dev[prov] + rng.normal(0, 1.5)
                    if spec.code == "11.1.1" and prov == "PH-BTN":
                        val = 0.0
                    add(prov, year, val, 800, {}, 2)
                    for dim in spec.dims.get("_province", ()):
                        for code, off in spec.dims[dim].items():
                            add(prov, year, val + off + rng.normal(0, 0.8), 400, {dim: code}, 2)
    return pd.DataFrame(rows)


# Intersectional groups the sample adds to the default groups table (DESIGN.md, "Intersectional
# groups"), and the official cross-tabulations published for them: (indicator, breakdown, years,
# where, offset from the total of the same area and year). Rural women are tabulated nationally
# from 2018 but by region only from 2023 (after the evidence register's first entry, raised in
# 2022); women with disabilities only in the 2016 disability round; indigenous youth once, in 2015.
# Nothing crosses sex and location for 1.4.2: women and rural people are current there, rural
# women are not measured (the evidence register's second entry raises it).
INTERSECTION_GROUPS: tuple[dict[str, str], ...] = (
    {"group_id": "rural_women", "label": "Rural women", "dimension": "SEX+URBANISATION", "codes": "F+R",
     "description": "Women and girls living in rural areas: an intersection, covered only by figures broken "
                    "down by both sex and location."},
    {"group_id": "women_disability", "label": "Women with disabilities", "dimension": "SEX+DISABILITY_STATUS",
     "codes": "F+PD", "description": "Women and girls with disabilities: an intersection of sex and disability status."},
    {"group_id": "indigenous_youth", "label": "Indigenous youth", "dimension": "AGE+INDIGENOUS_STATUS",
     "codes": "Y15T24|Y15T19|Y20T24+IND", "description": "Indigenous young people aged 15 to 24: an intersection "
                                                         "of age (bands inside 15-24) and indigenous status."},
)
CROSSTABS: tuple[tuple[str, dict[str, str], tuple[int, ...], str, float], ...] = (
    ("1.1.1", {"sex": "F", "urbanisation": "R"}, (2018, 2021, 2023), "country", 3.0),
    ("1.1.1", {"sex": "F", "urbanisation": "R"}, (2023,), "regions", 3.0),
    ("5.b.1", {"sex": "F", "urbanisation": "R"}, (2019, 2023), "country", -12.0),
    ("8.5.2", {"sex": "F", "disability_status": "PD"}, (2016,), "country", 7.0),
    ("8.5.2", {"sex": "F", "disability_status": "PD"}, (2016,), "regions", 7.0),
    ("1.2.1", {"age": "Y15T24", "indigenous_status": "IND"}, (2015,), "country", 20.0),
)
CROSSTAB_SKIP = {("8.5.2", "PH-15")}  # too few respondents in CAR to cross disability with sex


def _crosstabs(official: pd.DataFrame) -> pd.DataFrame:
    """Official cross-tabulations (:data:`CROSSTABS`) derived from each area's published total, with
    their own generator so that every other synthetic value stays as it was."""
    rng = np.random.default_rng(SEED + 16)
    dims = [c for c in ("sex", "age", "urbanisation", "disability_status", "income_wealth_quantile",
                        "indigenous_status") if c in official]
    totals = official[official[dims].isna().all(axis=1)]
    rows = []
    for code, breakdown, years, where, offset in CROSSTABS:
        t = totals[(totals["indicator"] == code) & totals["period"].isin(years)]
        t = t[t["area_code"].eq("PHL")] if where == "country" else t[t["area_code"].str.fullmatch(r"PH-\d\d")]
        for r in t.sort_values(["period", "area_code"]).itertuples():
            if (code, r.area_code) in CROSSTAB_SKIP:
                continue
            n = 2_500 if r.area_code == "PHL" else 300
            value = float(_clip(r.value + offset + rng.normal(0, 1.5), 0, 100))
            margin = 1.96 * np.sqrt(max(value * (100 - value), 25) / n)
            rows.append({"indicator": code, "series": "", "area_code": r.area_code, "period": r.period,
                         "value": value, "n": n, "lower": float(_clip(value - margin, 0, 100)),
                         "upper": float(_clip(value + margin, 0, 100)), "unit": r.unit,
                         "source": "Synthetic survey round, cross-tabulation (illustrative)", **breakdown})
    return pd.DataFrame(rows)


def _points_in(poly: Any, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` points uniformly inside ``poly`` (rejection sampling, deterministic given ``rng``)."""
    minx, miny, maxx, maxy = poly.bounds
    out: list[np.ndarray] = []
    got = 0
    shapely.prepare(poly)
    while got < k:
        xs = rng.uniform(minx, maxx, 4 * k)
        ys = rng.uniform(miny, maxy, 4 * k)
        inside = shapely.contains_xy(poly, xs, ys)
        pts = np.column_stack([xs[inside], ys[inside]])[: k - got]
        out.append(pts)
        got += len(pts)
    return np.vstack(out)


def _citizen(areas: gpd.GeoDataFrame, rng: np.random.Generator) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    prov = areas[areas.level == 2].set_index("code")
    out: list[tuple[dict[str, Any], pd.DataFrame]] = []

    # 1. disability-rights organisation's survey: province aggregates (people, no points)
    rows = []
    targets = ["PH-BTN", "PH-CAG", "PH-ISA", "PH-ALB", "PH-CAS", "PH-SOR", "PH-LEY", "PH-SLE", "PH-BUK",
               "PH-DAS", "PH-SLU", "PH-LAS", "PH-MGN", "PH-BEN", "PH-IFU", "PH-CEB", METRO_MANILA_PROVINCE, "PH-ILI"]
    ind = {"8.5.2": (16, 4, False), "16.1.4": (44, 8, True), "4.1.2": (55, 9, True), "17.8.1": (30, 9, True),
           "6.1.1": (38, 10, True),  # households of persons with disabilities using safe drinking water
           "1.3.1": (22, 7, True)}
    for year in (2022, 2023):
        for p in targets:
            n = 3 if p == "PH-BTN" else int(rng.integers(40, 220))
            for code, (base, sd, _hib) in ind.items():
                rows.append({"indicator": code, "area_code": p, "period": year, "disability_status": "PD",
                             "value": float(_clip(base + rng.normal(0, sd), 0, 100)), "n": n, "unit": "percent",
                             "suppressed": n < 5, "obs_status": "C" if n < 5 else "A"})
    out.append(({"dataset_id": "pwd-survey-2023", "title": "Lives of persons with disabilities: community survey 2022-2023",
                 "producer": "Kapansanan Rights Network (illustrative)", "licence": "CC BY 4.0",
                 "method": "Household survey using the Washington Group Short Set, run by trained peer enumerators",
                 "sampling": "Two-stage cluster sample of barangays, then households with a person with disabilities",
                 "collection_start": "2022-03-01", "collection_end": "2023-11-30", "point_kind": "none",
                 "consent": "Verbal informed consent, recorded; no names stored",
                 "initiator": "Kapansanan Rights Network, an organisation of persons with disabilities",
                 "initiator_kind": "civil_society", "citizen_stages": "design|collection|analysis|dissemination|use",
                 "group_membership": "self_identified",
                 "contact": "Research officer, Kapansanan Rights Network (research@kapansanan.example)",
                 "gateway_ethics": True, "gateway_transparency": True, "gateway_need": True,
                 "score_relevance": 3, "score_methods": 2, "score_coverage": 2, "score_timeliness": 3,
                 "score_data_journey": 2, "score_qa": 2}, pd.DataFrame(rows)))

    # 2. community water-point monitoring: place points (water points), rural
    rows = []
    wp_provinces = {"PH-SLU": (0.30, 120), "PH-TAW": (0.33, 60), "PH-LAS": (0.38, 90), "PH-MGN": (0.41, 90),
                    "PH-BAS": (0.36, 50), "PH-ALB": (0.35, 70), "PH-CAS": (0.34, 90), "PH-CAN": (0.37, 40),
                    "PH-SOR": (0.33, 40), "PH-CAT": (0.36, 30), "PH-MAS": (0.38, 40), "PH-EAS": (0.45, 60),
                    "PH-NSA": (0.47, 50), "PH-ZAS": (0.52, 60), "PH-BUK": (0.58, 50)}
    for year in (2023, 2024):
        for p, (share, k) in wp_provinces.items():
            pts = _points_in(prov.loc[p, "geometry"], k // 2 + (k % 2 if year == 2023 else 0), rng)
            ok = rng.random(len(pts)) < share + (0.03 if year == 2024 else 0)
            for (x, y), good in zip(pts, ok, strict=False):
                rows.append({"indicator": "6.1.1", "area_code": p, "period": year, "urbanisation": "R",
                             "value": 100.0 if good else 0.0, "n": 1, "unit": "percent",
                             "lat": round(float(y), 5), "lon": round(float(x), 5), "is_point": True})
    out.append(({"dataset_id": "water-points-2024", "title": "Community water-point monitoring 2023-2024",
                 "producer": "Barangay water committees with Tubig Watch (illustrative)", "licence": "ODbL 1.0",
                 "method": "Volunteers visit each communal water point, record functionality and run an E. coli field test",
                 "sampling": "Census of communal water points in participating rural barangays",
                 "collection_start": "2023-01-10", "collection_end": "2024-10-31", "point_kind": "place",
                 "consent": "Not applicable: places, not people",
                 "initiator": "Barangay water committees", "initiator_kind": "citizens",
                 "citizen_stages": "design|collection|dissemination|use", "group_membership": "not_applicable",
                 "contact": "Tubig Watch data desk (data@tubigwatch.example)",
                 "gateway_ethics": True, "gateway_transparency": True, "gateway_need": True,
                 "score_relevance": 3, "score_methods": 2, "score_coverage": 2, "score_timeliness": 3,
                 "score_data_journey": 2, "score_qa": 2}, pd.DataFrame(rows)))

    # 3. coastal litter citizen science: place points (beaches), everyone
    rows = []
    coast = ["PH-PLW", "PH-CEB", "PH-BOH", "PH-ALB", "PH-SOR", "PH-ZAS", "PH-DAS", "PH-BTN", "PH-ILN", "PH-LUN",
             "PH-BTG", "PH-QUE", "PH-SLE", "PH-SUN", "PH-TAW", "PH-AKL"]
    for year in (2022, 2024):
        for p in coast:
            geom = prov.loc[p, "geometry"]
            for (x, y) in _points_in(geom, 6, rng):
                dens = float(np.round(rng.gamma(2.0, 120.0), 0))
                rows.append({"indicator": "14.1.1", "area_code": p, "period": year, "value": dens, "n": 1,
                             "unit": "items per 100 m", "lat": round(float(y), 5), "lon": round(float(x), 5),
                             "is_point": True})
    rows[0]["value"] = 0.0  # a clean beach: a true zero
    out.append(({"dataset_id": "beach-litter-2024", "title": "Beach litter audits 2022 and 2024",
                 "producer": "Coastal cleanup volunteers' network (illustrative)", "licence": "CC BY 4.0",
                 "method": "Standard 100 m transect litter audit (items counted and classified)",
                 "sampling": "Beaches chosen by local volunteer groups (convenience sample)",
                 "collection_start": "2022-09-17", "collection_end": "2024-09-21", "point_kind": "place",
                 "consent": "Not applicable: places, not people",
                 "initiator": "Coastal cleanup volunteers' network", "initiator_kind": "citizens",
                 "citizen_stages": "collection|dissemination", "group_membership": "not_applicable",
                 "contact": "Network coordinator (audits@coastalcleanup.example)",
                 "gateway_ethics": True, "gateway_transparency": True, "gateway_need": True,
                 "score_relevance": 3, "score_methods": 2, "score_coverage": 1, "score_timeliness": 3,
                 "score_data_journey": 2, "score_qa": 2}, pd.DataFrame(rows)))

    # 4. informal-settlement enumeration: province aggregates, informal residents
    rows = []
    vals = {"6.1.1": 21, "6.2.1": 18, "7.1.1": 64, "16.9.1": 71, "1.4.2": 9}
    for year, places in ((2016, [METRO_MANILA_PROVINCE]), (2021, [METRO_MANILA_PROVINCE, "PH-CEB", "PH-DAS", "PH-ZAS"])):
        for p in places:
            n = int(rng.integers(800, 4000))
            for code, base in vals.items():
                rows.append({"indicator": code, "area_code": p, "period": year, "settlement_type": "INF",
                             "value": float(_clip(base + rng.normal(0, 5), 0, 100)), "n": n, "unit": "percent"})
    out.append(({"dataset_id": "informal-enumeration-2021", "title": "Community-led enumeration of informal settlements",
                 "producer": "Urban poor federation (illustrative)", "licence": "CC BY-NC 4.0",
                 "method": "Community-led household enumeration and settlement profiling",
                 "sampling": "Full enumeration of participating settlements", "collection_start": "2021-02-01",
                 "collection_end": "2021-12-15", "point_kind": "people",
                 "consent": "Community and household consent; results published only as settlement aggregates",
                 "initiator": "Urban poor federation's savings groups", "initiator_kind": "citizens",
                 "citizen_stages": "design|collection|analysis|dissemination|use", "group_membership": "self_identified",
                 "contact": "Federation secretariat (profiling@urbanpoor.example)",
                 "gateway_ethics": True, "gateway_transparency": True, "gateway_need": True,
                 "score_relevance": 3, "score_methods": 2, "score_coverage": 1, "score_timeliness": 2,
                 "score_data_journey": 3, "score_qa": 2}, pd.DataFrame(rows)))

    # 5. indigenous communities' land-tenure mapping: province aggregates, indigenous peoples
    rows = []
    for p in ["PH-ABR", "PH-APA", "PH-BEN", "PH-IFU", "PH-KAL", "PH-MOU", "PH-BUK", "PH-DAV", "PH-COM", "PH-SUK",
              "PH-PLW", "PH-MDR", "PH-AGS"]:
        n = int(rng.integers(60, 400))
        rows.append({"indicator": "1.4.2", "area_code": p, "period": 2020, "indigenous_status": "IND",
                     "value": float(_clip(24 + rng.normal(0, 8), 0, 100)), "n": n, "unit": "percent"})
        rows.append({"indicator": "16.9.1", "area_code": p, "period": 2020, "indigenous_status": "IND",
                     "value": float(_clip(68 + rng.normal(0, 7), 0, 100)), "n": n, "unit": "percent"})
    out.append(({"dataset_id": "ip-tenure-mapping-2020", "title": "Ancestral-domain tenure mapping with indigenous communities",
                 "producer": "Indigenous peoples' organisations' mapping network (illustrative)", "licence": "CC BY-NC-SA 4.0",
                 "method": "Participatory mapping and community tenure survey, with free, prior and informed consent",
                 "sampling": "Communities that asked to take part", "collection_start": "2019-06-01",
                 "collection_end": "2020-12-31", "point_kind": "people",
                 "consent": "Free, prior and informed consent of each community",
                 "initiator": "Indigenous peoples' organisations with the councils of elders", "initiator_kind": "citizens",
                 "citizen_stages": "design|collection|analysis|use", "group_membership": "self_identified",
                 "contact": "Mapping network secretariat (maps@ipmapping.example)",
                 "gateway_ethics": True, "gateway_transparency": True, "gateway_need": True,
                 "score_relevance": 3, "score_methods": 2, "score_coverage": 1, "score_timeliness": 2,
                 "score_data_journey": 3, "score_qa": 1}, pd.DataFrame(rows)))

    # 6. an online youth poll: self-selected, fails the quality test (shown, flagged "not usable")
    rows = []
    for r in ["PH-00", "PH-03", "PH-07", "PH-11", "PH-40"]:
        rows.append({"indicator": "17.8.1", "area_code": r, "period": 2024, "age": "Y15T24",
                     "value": float(_clip(93 + rng.normal(0, 3), 0, 100)), "n": int(rng.integers(150, 600)),
                     "unit": "percent"})
    out.append(({"dataset_id": "youth-online-poll-2024", "title": "Youth digital life online poll 2024",
                 "producer": "Student council network (illustrative)", "licence": "CC BY 4.0",
                 "method": "Self-selected online questionnaire shared on social media",
                 "sampling": "None (self-selected respondents online)", "collection_start": "2024-02-01",
                 "collection_end": "2024-03-15", "point_kind": "none", "consent": "Online consent tick-box",
                 "initiator": "Student council network", "initiator_kind": "civil_society",
                 "citizen_stages": "collection", "group_membership": "self_identified",
                 "contact": "Network officers (poll@studentcouncils.example)",
                 "gateway_ethics": True, "gateway_transparency": True, "gateway_need": False,
                 "score_relevance": 2, "score_methods": 0, "score_coverage": 1, "score_timeliness": 3,
                 "score_data_journey": 1, "score_qa": 1}, pd.DataFrame(rows)))

    _add_crossed(out)
    return out


# The evidence register (data_layers/register.py): where the sample's evidence was presented. The
# first entry's gap has since closed (regional tables of rural women's poverty from 2023 on).
REGISTER_ENTRIES: tuple[dict[str, str], ...] = (
    {"entry_id": "E0001", "presented_on": "2022-03-12", "place": "Regional Development Council meeting, Tacloban City",
     "presented_to": "PSA Regional Statistical Services Office VIII",
     "presented_by": "Rural women's assembly of Eastern Visayas (illustrative)", "indicator": "1.1.1",
     "area_code": "PH-08", "group_id": "rural_women",
     "official_response": "The survey sample allows tables of poverty by sex and location for each region; the "
                          "office will consider publishing them.",
     "commitments": "Publish the poverty of rural women by region from the next survey round.",
     "follow_up_on": "2023-06-30", "recorded_at": "2022-03-14T09:00:00+00:00"},
    {"entry_id": "E0002", "presented_on": "2024-11-20",
     "place": "Inter-agency Committee on SDG Statistics, Quezon City", "presented_to": "PSA",
     "presented_by": "Rural women's assembly of Eastern Visayas and Bicol (illustrative)", "indicator": "1.4.2",
     "area_code": "PH-05", "group_id": "rural_women",
     "official_response": "Secure tenure is measured for women and for rural households, not for rural women; "
                          "a cross-tabulation would need a larger sample.",
     "commitments": "Examine pooling two survey rounds to publish rural women's tenure by region.",
     "follow_up_on": "2025-05-31", "recorded_at": "2024-11-21T10:30:00+00:00"},
    {"entry_id": "E0003", "presented_on": "2024-08-05", "place": "Bangsamoro water forum, Cotabato City",
     "presented_to": "Bangsamoro Planning and Development Authority",
     "presented_by": "Tubig Watch (illustrative)", "indicator": "6.1.1", "area_code": "PH-14", "group_id": "",
     "official_response": "No official figure on safe drinking water exists for the region; the authority "
                          "welcomed the water-point monitoring.",
     "commitments": "", "follow_up_on": "", "recorded_at": "2024-08-06T08:00:00+00:00"},
)

# Citizen records with several characteristics (DESIGN.md, "Intersectional groups"), published by
# two of the surveys above as cross-tabulated aggregates: the disability survey crosses disability
# with sex; the tenure mapping crosses indigenous identity with age (18-24: a band inside youth 15-24).
CITIZEN_CROSSTABS: dict[str, tuple[tuple[str, dict[str, str], int, float, float, tuple[str, ...]], ...]] = {
    "pwd-survey-2023": (
        ("8.5.2", {"sex": "F", "disability_status": "PD"}, 2023, 19, 4,
         ("PH-CEB", "PH-BOH", "PH-LEY", "PH-SLE", "PH-ILI", "PH-CAS", "PH-ALB", "PH-SOR")),
        ("16.1.4", {"sex": "F", "disability_status": "PD"}, 2023, 38, 8,
         ("PH-CEB", "PH-LEY", "PH-SLE", "PH-DAS", "PH-BUK")),
    ),
    "ip-tenure-mapping-2020": (
        ("1.4.2", {"age": "Y18T24", "indigenous_status": "IND"}, 2020, 17, 6,
         ("PH-ABR", "PH-BEN", "PH-IFU", "PH-KAL", "PH-MOU", "PH-BUK", "PH-COM")),
    ),
}


def _add_crossed(datasets: list[tuple[dict[str, Any], pd.DataFrame]]) -> None:
    """Append :data:`CITIZEN_CROSSTABS` to their datasets (after their own rows, with their own
    generator, so every other row and value stays as it was)."""
    rng = np.random.default_rng(SEED + 17)
    for i, (meta, df) in enumerate(datasets):
        rows = []
        for code, breakdown, year, base, sd, places in CITIZEN_CROSSTABS.get(meta["dataset_id"], ()):
            for p in places:
                rows.append({"indicator": code, "area_code": p, "period": year, **breakdown,
                             "value": float(_clip(base + rng.normal(0, sd), 0, 100)),
                             "n": int(rng.integers(40, 200)), "unit": "percent"})
        if rows:
            datasets[i] = (meta, pd.concat([df, pd.DataFrame(rows)], ignore_index=True))


_OFFICIAL_META = {
    "dataset_id": "psa-sdg-synthetic", "title": "SDG indicators of the Philippines (synthetic, illustrative)",
    "producer": "GapLens sample generator, modelled on national SDG reporting", "licence": "CC0 1.0",
    "method": "Synthetic values shaped like household surveys, the labour force survey and civil registration",
    "sampling": "Synthetic", "collection_start": "2010-01-01", "collection_end": "2024-12-31",
    "point_kind": "none", "consent": "",
}


MARKER = "sample.json"
"""Written last by :func:`generate`: the SHA-256 of every file it wrote. A folder is "the sample"
(and ``sample --out`` may regenerate it) only while these files are unchanged and it holds no
other dataset or area level; anything imported, edited or removed makes it a store of its own."""
GENERATOR = "data_layers.sample"


def _marked_files(out: Path) -> list[Path]:
    """The files the marker vouches for: areas, datasets (every file) and catalogues."""
    files = sorted((out / "areas").glob("*.parquet")) if (out / "areas").is_dir() else []
    for d in storage.committed_dataset_dirs(out):
        files += sorted(p for p in d.iterdir() if p.is_file() and not p.name.startswith("."))
    files += [out / name for name in storage.CATALOGUE_FILES.values() if (out / name).is_file()]
    # what people add to a store by hand: an edited register or saved story makes it not the sample
    files += [out / "register.csv"] if (out / "register.csv").is_file() else []
    files += sorted((out / "stories").glob("*.json")) if (out / "stories").is_dir() else []
    return files


def write_marker(out: Path) -> None:
    files = {p.relative_to(out).as_posix(): storage.sha256_file(p) for p in _marked_files(out)}
    body = {"generator": GENERATOR, "seed": SEED, "files": files}
    storage.atomic_write_bytes(out / MARKER, (json.dumps(body, indent=1, sort_keys=True) + "\n").encode())


def not_the_sample(out: Path) -> str | None:
    """Why folder ``out`` is not an untouched GapLens sample, or ``None`` when it is one (or is
    empty, or does not exist: nothing there to lose)."""
    return next(_differences(Path(out)), None)


def _differences(out: Path) -> Iterator[str]:
    """Every reason ``out`` is not the generated sample (lazily: the first one decides)."""
    if not out.exists():
        return
    if not out.is_dir():
        yield f"{out} is a file"
        return
    if not any(p for p in out.iterdir() if not p.name.startswith(".") and p.name not in ("boundaries", "README.md")):
        return
    try:
        marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        marker = f"{out} holds files but no {MARKER} (the mark of a generated sample)"
    except (OSError, ValueError) as e:
        marker = f"{out}/{MARKER} is unreadable ({e})"
    listed = marker.get("files") if isinstance(marker, dict) and marker.get("generator") == GENERATOR else None
    if not isinstance(listed, dict):
        yield marker if isinstance(marker, str) else f"{out}/{MARKER} is not a sample marker"
        return
    present = {p.relative_to(out).as_posix() for p in _marked_files(out)}
    for rel in sorted(present - set(listed)):
        yield f"{out} holds {rel}, which the sample does not (imported or edited since it was generated)"
    for d in (out / "datasets").iterdir() if (out / "datasets").is_dir() else ():
        if d.is_dir() and not d.name.startswith(".") and f"datasets/{d.name}/dataset.json" not in listed:
            yield f"{out} holds dataset folder {d.name}, which the sample does not"
    for rel, digest in sorted(listed.items()):
        path = out / rel
        if not path.is_file():
            yield f"{rel} of the sample is missing (removed since it was generated)"
        elif storage.sha256_file(path) != digest:
            yield f"{rel} differs from the generated sample (imported or edited since)"


def generate(out: Path) -> GapStore:
    """Write the full sample store into ``out`` (replacing its data, keeping README and boundaries).

    Callers check :func:`not_the_sample` first (the command line does): this replaces whatever
    store ``out`` holds. The whole run holds the store's lock, so an import waits for it.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with storage.store_lock(out):
        _generate(out)
    return GapStore(out)


def _generate(out: Path) -> None:
    (out / MARKER).unlink(missing_ok=True)  # an interrupted run is not the sample
    for sub in ("datasets", "areas", "facts"):
        shutil.rmtree(out / sub, ignore_errors=True)
    if out.resolve() != BOUNDARIES.parent.resolve():
        shutil.copytree(BOUNDARIES, out / "boundaries", dirs_exist_ok=True)
    rng = np.random.default_rng(SEED)
    areas = load_areas()
    for level in (0, 1, 2):
        storage.write_areas(out, level, areas[areas.level == level])
    storage.copy_default_catalogues(out)
    groups = storage.read_catalogue(out, "groups")
    storage.write_catalogue(out, "groups", pd.concat([groups, pd.DataFrame(INTERSECTION_GROUPS)], ignore_index=True))
    official = _official(areas, rng)
    official = pd.concat([official, _crosstabs(official)], ignore_index=True)
    datasets = [(dict(_OFFICIAL_META), official, "official")]
    datasets += [(meta, df, "citizen") for meta, df in _citizen(areas, rng)]
    for seq, (meta, df, kind) in enumerate(datasets, start=1):
        obs = tidy.finish(df, dataset_id=meta["dataset_id"], source_kind=kind, seq=seq)
        digest = hashlib.sha256(obs.to_csv(index=False).encode()).hexdigest()
        meta.update({
            "seq": seq, "source_kind": kind, "imported_at": IMPORTED_AT,
            "source_file": f"generated by data_layers.sample (seed {SEED})", "sha256": digest,
            "format": "generated", "rows_read": len(obs), "rows_stored": len(obs), "rows_rejected": 0,
            "k_min": 5, "url": "", "notes": "Synthetic, illustrative values.",
        })
        for key in ("consent", "initiator", "initiator_kind", "citizen_stages", "group_membership", "contact"):
            meta.setdefault(key, "")
        storage.write_dataset(out, meta, obs)
    register.write_all(out, list(REGISTER_ENTRIES))
    stories.save(out, stories.from_dict(SAMPLE_STORY))
    write_marker(out)
