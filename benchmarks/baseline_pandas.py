"""Baseline 1: the coverage rule written the straightforward way in pandas.

What a competent analyst would write without GapLens: read the observation parquet files (only the
columns the rule needs), pick one official figure per indicator x area x group x year, aggregate the
citizen rows (points counted in every enclosing area), then judge every cell of one level with
merges. It implements DESIGN.md's rule independently of the SQL, so agreeing with GapLens is also
a correctness check of the engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from data_layers import storage

OBS_COLUMNS = ["obs_key", "source_kind", "indicator", "series", "unit", "area_code", "period", "disagg_dim", "disagg_code",
               "value", "lower", "upper", "n", "suppressed", "dataset_id", "is_point"]
KEY = ["indicator", "area_code", "group_id"]


def load(data_dir: Path) -> dict[str, pd.DataFrame]:
    """Observation files, areas and catalogues as frames."""
    files = [d / "observations.parquet" for d in storage.dataset_dirs(data_dir)]
    obs = pd.concat([pd.read_parquet(f, columns=OBS_COLUMNS) for f in files], ignore_index=True)
    areas = pd.concat([pd.read_parquet(p, columns=["code", "name", "level", "parent_code"])
                       for p in storage.area_files(data_dir)], ignore_index=True)
    groups = storage.read_catalogue(data_dir, "groups")
    indicators = storage.read_catalogue(data_dir, "indicators")
    return {"obs": obs, "areas": areas, "groups": groups, "indicators": indicators}


def group_codes(groups: pd.DataFrame) -> pd.DataFrame:
    rows = [(g.group_id, g.dimension, c.strip(), i) for g in groups.itertuples()
            for i, c in enumerate(g.codes.split("|")) if c.strip()]
    return pd.DataFrame(rows, columns=["group_id", "disagg_dim", "disagg_code", "priority"])


def ancestors(areas: pd.DataFrame) -> pd.DataFrame:
    """(area_code, ancestor_code) pairs, self included, by walking parent codes."""
    parent = dict(zip(areas["code"], areas["parent_code"], strict=True))
    rows = []
    for code in parent:
        cur, seen = code, set()
        while cur is not None and cur in parent and cur not in seen:
            seen.add(cur)
            rows.append((code, cur))
            cur = parent[cur]
    return pd.DataFrame(rows, columns=["area_code", "ancestor_code"])


def official_facts(d: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One official figure per indicator x series x unit x area x group x year, with the same-year total."""
    obs = d["obs"]
    off = obs[(obs["source_kind"] == "official") & (obs["value"].notna() | obs["suppressed"])]
    m = off.merge(group_codes(d["groups"]), on=["disagg_dim", "disagg_code"])
    # prefer the group's first code, then the newest dataset (highest obs_key)
    m["pick"] = (1000 - m["priority"]).astype("int64") * 10**15 + m["obs_key"]
    m = m.loc[m.groupby(["indicator", "series", "unit", "area_code", "group_id", "period"], sort=False)["pick"].idxmax()]
    m = m.merge(d["areas"][["code", "level"]].rename(columns={"code": "area_code"}), on="area_code")
    m["value"] = m["value"].where(~m["suppressed"])
    same = ["indicator", "series", "unit", "area_code", "period"]
    tot = m.loc[m["group_id"] == "all", [*same, "value"]].rename(columns={"value": "total_value"})
    m = m.merge(tot, on=same, how="left")
    return m.rename(columns={"period": "year"})[
        ["indicator", "series", "unit", "area_code", "level", "group_id", "year", "value", "lower", "upper", "n",
         "suppressed", "dataset_id", "total_value"]]


def headline_series(d: dict[str, pd.DataFrame], off: pd.DataFrame) -> pd.DataFrame:
    """The series and unit each indicator shows: the catalogue's series, else the one with most facts."""
    opts = off.groupby(["indicator", "series", "unit"], as_index=False).size()
    cat = d["indicators"][["code", "series"]].rename(columns={"code": "indicator", "series": "cat_series"})
    opts = opts.merge(cat, on="indicator", how="left")
    opts["not_cat"] = (opts["series"] != opts["cat_series"]).astype(int)
    opts = opts.sort_values(["indicator", "not_cat", "size", "series", "unit"], ascending=[True, True, False, True, True])
    return opts.drop_duplicates("indicator")[["indicator", "series", "unit"]]


def citizen_facts(d: dict[str, pd.DataFrame], k_min: int) -> pd.DataFrame:
    """Citizen figures per indicator x area x group x year (n-weighted mean, small cells suppressed)."""
    obs = d["obs"]
    cit = obs[(obs["source_kind"] == "citizen") & (obs["value"].notna() | obs["suppressed"])]
    placed = cit.merge(ancestors(d["areas"]), on="area_code")
    placed = placed[placed["is_point"] | (placed["ancestor_code"] == placed["area_code"])]
    placed = placed.merge(group_codes(d["groups"]), on=["disagg_dim", "disagg_code"])
    n = placed["n"].fillna(1).astype("float64")
    sup = placed["suppressed"].to_numpy()
    placed = placed.assign(wsum=np.where(sup, np.nan, placed["value"] * n), weight=np.where(sup, np.nan, n),
                           nn=n, sup=sup.astype("int8"))
    keys = ["indicator", "ancestor_code", "group_id", "period"]
    grouped = placed.groupby(keys, sort=False)
    g = grouped[["wsum", "weight"]].sum(min_count=1).rename(columns={"wsum": "weighted_sum"})
    g["n"] = grouped["nn"].sum()
    g["all_suppressed"] = grouped["sup"].min()
    g = g.reset_index()
    ds = placed[[*keys, "dataset_id"]].drop_duplicates().sort_values("dataset_id")
    ds = ds.groupby(keys, sort=False)["dataset_id"].agg(",".join).rename("datasets").reset_index()
    g = g.merge(ds, on=keys)
    suppressed = (g["n"] < k_min) | (g["all_suppressed"] == 1)
    g["value"] = (g["weighted_sum"] / g["weight"].replace(0, np.nan)).where(~suppressed)
    g["suppressed"] = suppressed
    g = g.rename(columns={"ancestor_code": "area_code", "period": "year"})
    g = g.merge(d["areas"][["code", "level"]].rename(columns={"code": "area_code"}), on="area_code")
    return g[["indicator", "area_code", "level", "group_id", "year", "value", "n", "suppressed", "datasets"]]


def _latest(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Row of the newest year per cell key."""
    return df.sort_values("year").drop_duplicates(KEY, keep="last")[KEY + cols]


def cells(d: dict[str, pd.DataFrame], off: pd.DataFrame, cgd: pd.DataFrame, *, level: int, as_of: int,
          window: int) -> pd.DataFrame:
    """The coverage status of every indicator x area x group cell of ``level``."""
    ind = d["indicators"][["code", "higher_is_better", "not_applicable"]].rename(columns={"code": "indicator"})
    areas = d["areas"].loc[d["areas"]["level"] == level, ["code", "name"]].rename(
        columns={"code": "area_code", "name": "area_name"})
    grid = ind[["indicator"]].merge(areas, how="cross").merge(d["groups"][["group_id"]], how="cross")

    vis_all = off[(off["level"] == level) & (off["year"] <= as_of)]
    # status from any series; values from the headline series and unit
    vis = vis_all.merge(headline_series(d, off), on=["indicator", "series", "unit"])
    seen = _latest(vis_all, ["year"]).rename(columns={"year": "official_latest_year"})
    latest = _latest(vis, ["value", "suppressed"]).rename(
        columns={"value": "official_value", "suppressed": "official_suppressed"})
    latest = seen.merge(latest, on=KEY, how="left")
    tot = latest[latest["group_id"] == "all"].drop(columns=["group_id", "official_suppressed"]).rename(
        columns={"official_latest_year": "total_latest_year", "official_value": "total_value"})
    win = vis[(vis["year"] >= as_of - window) & vis["value"].notna() & vis["total_value"].notna()
              & (vis["group_id"] != "all")]
    gap = _latest(win.assign(diff=win["value"] - win["total_value"]), ["year", "diff"]).rename(
        columns={"year": "outcome_gap_year"})
    cv = cgd[(cgd["level"] == level) & (cgd["year"] <= as_of)]
    c = _latest(cv, ["year", "value", "n", "suppressed", "datasets"]).rename(
        columns={"year": "cgd_latest_year", "value": "cgd_value", "n": "cgd_n", "suppressed": "cgd_suppressed",
                 "datasets": "cgd_datasets"})

    out = (grid.merge(latest, on=KEY, how="left").merge(tot, on=["indicator", "area_code"], how="left")
           .merge(c, on=KEY, how="left").merge(gap, on=KEY, how="left").merge(ind, on="indicator", how="left"))
    excluded = pd.Series([g in {x.strip() for x in na.split("|")} for g, na in
                          zip(out["group_id"], out["not_applicable"], strict=True)], index=out.index)
    out["status"] = np.select(
        [excluded, out["official_latest_year"] >= as_of - window, out["official_latest_year"].notna(),
         out["total_latest_year"].notna()],
        ["not_applicable", "current", "stale", "aggregate_only"], default="missing")
    out["cgd_status"] = np.select([out["cgd_latest_year"].isna(), out["cgd_latest_year"] >= as_of - window],
                                  ["none", "present"], default="stale")
    out["official_suppressed"] = out["official_suppressed"].fillna(False).astype(bool)
    out["cgd_suppressed"] = out["cgd_suppressed"].fillna(False).astype(bool)
    hib = out["higher_is_better"].str.lower()
    out["outcome_gap"] = np.where(hib == "true", -out["diff"], np.where(hib == "false", out["diff"], np.nan))
    out["headline"] = np.select(
        [out["status"] == "not_applicable", out["status"] == "current", out["cgd_status"] == "present"],
        ["not_applicable", "covered", "filled"], default="blind_spot")
    return out.rename(columns={"group_id": "group"}).drop(columns=["higher_is_better", "not_applicable", "diff"])


def run(data_dir: Path, *, level: int, as_of: int, window: int, k_min: int) -> dict[str, Any]:
    """The whole rule, step by step (the worker times each step)."""
    d = load(data_dir)
    off = official_facts(d)
    cgd = citizen_facts(d, k_min)
    return {"cells": cells(d, off, cgd, level=level, as_of=as_of, window=window)}
