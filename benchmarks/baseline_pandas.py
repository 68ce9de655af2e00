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
    from data_layers.quality import verdict

    meta = storage.read_dataset_meta(data_dir)
    datasets = pd.DataFrame({"dataset_id": [m["dataset_id"] for m in meta],
                             "usable": [verdict(m) == "usable" for m in meta],
                             "k_min": [int(m.get("k_min") or 0) for m in meta]})
    return {"obs": obs, "areas": areas, "groups": groups, "indicators": indicators, "datasets": datasets}


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
    # prefer a shown figure, then the group's first code, then the newest dataset (highest obs_key)
    shown = (~m["suppressed"] & m["value"].notna()).astype("int64")
    m["pick"] = shown * 2 * 10**18 + (1000 - m["priority"]).astype("int64") * 10**15 + m["obs_key"]
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
    """Citizen figures per indicator x area x group x year x verdict (usable or not): n-weighted mean
    of the rows not suppressed at source, suppressed under k respondents behind it, then
    complementary suppression over parent areas and the groups of an area until nothing changes."""
    obs = d["obs"]
    cit = obs[(obs["source_kind"] == "citizen") & (obs["value"].notna() | obs["suppressed"])]
    n = cit["n"].fillna(1).astype("float64")
    sup = cit["suppressed"].to_numpy()
    cit = cit.assign(wsum=np.where(sup, np.nan, cit["value"] * n), weight=np.where(sup, 0.0, n), nn=n)
    cit = cit.merge(group_codes(d["groups"]), on=["disagg_dim", "disagg_code"])
    ds = d["datasets"].assign(k=lambda x: x["k_min"].clip(lower=k_min))
    cit = cit.merge(ds[["dataset_id", "usable", "k"]], on="dataset_id")
    # ties among one dataset's aggregates: a figure that can be shown, then the group's first code
    own = ["dataset_id", "indicator", "area_code", "group_id", "period", "is_point", "disagg_code"]
    per_code = cit.groupby(own, sort=False).agg(wsum=("wsum", lambda x: x.sum(min_count=1)), weight=("weight", "sum"),
                                                nn=("nn", "sum"), priority=("priority", "first"), k=("k", "first"),
                                                usable=("usable", "first")).reset_index()
    per_code["hidden"] = (per_code["weight"] < per_code["k"]).astype(int)
    per_code = per_code.sort_values(["hidden", "priority", "disagg_code"])
    first = per_code.drop_duplicates(own[:-1], keep="first")
    per_code = pd.concat([per_code[per_code["is_point"]], first[~first["is_point"]]])
    placed = per_code.merge(ancestors(d["areas"]), on="area_code")
    placed = placed[placed["is_point"] | (placed["ancestor_code"] == placed["area_code"])]
    keys = ["indicator", "ancestor_code", "group_id", "period", "usable"]
    grouped = placed.groupby(keys, sort=False)
    g = grouped.agg(weighted_sum=("wsum", lambda x: x.sum(min_count=1)), weight=("weight", "sum"),
                    n_all=("nn", "sum"), k=("k", "max")).reset_index()
    names = placed[[*keys, "dataset_id"]].drop_duplicates().sort_values("dataset_id")
    names = names.groupby(keys, sort=False)["dataset_id"].agg(",".join).rename("datasets").reset_index()
    g = g.merge(names, on=keys)
    g["suppressed"] = g["weight"] < g["k"]
    g["n"] = np.where(g["weight"] > 0, g["weight"], g["n_all"]).astype("int64")
    g["value"] = (g["weighted_sum"] / g["weight"].replace(0, np.nan)).where(~g["suppressed"])
    g = g.rename(columns={"ancestor_code": "area_code", "period": "year"})
    g = g.merge(d["areas"][["code", "level", "parent_code"]].rename(columns={"code": "area_code"}), on="area_code")
    g = g.merge(d["groups"][["group_id", "dimension"]], on="group_id")
    _complementary(g)
    return g[["indicator", "area_code", "level", "group_id", "year", "usable", "value", "n", "suppressed", "datasets"]]


def _complementary(g: pd.DataFrame) -> None:
    """Suppress in place, round after round, until no shown parent (area, or an area's total) has
    exactly one suppressed part: the smallest shown part goes too, else (areas) the parent."""
    slice_ = ["indicator", "year", "usable"]
    while True:
        hide: set[int] = set()
        shown_of = {k: not s for k, s in zip(zip(g["indicator"], g["year"], g["usable"], g["area_code"], g["group_id"],
                                                 strict=True), g["suppressed"], strict=True)}
        index_of = dict(zip(zip(g["indicator"], g["year"], g["usable"], g["area_code"], g["group_id"], strict=True),
                            g.index, strict=True))
        for fam_keys, parent_of in ((["group_id", "parent_code"], "area"), (["area_code", "dimension"], "group")):
            kids = g[g["parent_code"].notna()] if parent_of == "area" else g[g["dimension"] != "_T"]
            for key, fam in kids.groupby([*slice_, *fam_keys], sort=False, dropna=True):
                ind, year, usable = key[:3]
                top = (ind, year, usable, key[4], key[3]) if parent_of == "area" else (ind, year, usable, key[3], "all")
                if fam["suppressed"].sum() != 1 or not shown_of.get(top, False):
                    continue
                open_ = fam[~fam["suppressed"]].sort_values(["n", "area_code" if parent_of == "area" else "group_id"])
                if len(open_):
                    hide.add(open_.index[0])
                elif parent_of == "area":
                    hide.add(index_of[top])
        if not hide:
            return
        rows = list(hide)
        g.loc[rows, "suppressed"] = True
        g.loc[rows, "value"] = np.nan


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
    c = _citizen_cells(cgd[(cgd["level"] == level) & (cgd["year"] <= as_of)], as_of=as_of, window=window)

    out = (grid.merge(latest, on=KEY, how="left").merge(tot, on=["indicator", "area_code"], how="left")
           .merge(c, on=KEY, how="left").merge(gap, on=KEY, how="left").merge(ind, on="indicator", how="left"))
    excluded = pd.Series([g in {x.strip() for x in na.split("|")} for g, na in
                          zip(out["group_id"], out["not_applicable"], strict=True)], index=out.index)
    out["status"] = np.select(
        [excluded, out["official_latest_year"] >= as_of - window, out["official_latest_year"].notna(),
         out["total_latest_year"].notna()],
        ["not_applicable", "current", "stale", "aggregate_only"], default="missing")
    out["cgd_status"] = out["cgd_status"].fillna("none")
    out["official_suppressed"] = out["official_suppressed"].fillna(False).astype(bool)
    out["cgd_suppressed"] = out["cgd_suppressed"].fillna(False).astype(bool)
    hib = out["higher_is_better"].str.lower()
    out["outcome_gap"] = np.where(hib == "true", -out["diff"], np.where(hib == "false", out["diff"], np.nan))
    out["headline"] = np.select(
        [out["status"] == "not_applicable", out["status"] == "current", out["cgd_counts"].fillna(False).astype(bool)],
        ["not_applicable", "covered", "filled"], default="blind_spot")
    return out.rename(columns={"group_id": "group"}).drop(columns=["higher_is_better", "not_applicable", "diff",
                                                                   "cgd_counts"])


def _citizen_cells(cv: pd.DataFrame, *, as_of: int, window: int) -> pd.DataFrame:
    """The citizen columns of each cell: the usable figures of the window, n-weighted over their
    years; else the data that does not count (usable but suppressed, not usable, stale)."""
    cv = cv.assign(inwin=cv["year"] >= as_of - window)
    shown = cv[cv["inwin"] & ~cv["suppressed"]]
    win = shown.assign(w=shown["value"] * shown["n"]).groupby([*KEY, "usable"], sort=False).agg(
        year=("year", "max"), w=("w", "sum"), n=("n", "sum"),
        datasets=("datasets", lambda x: ",".join(sorted({i for v in x for i in v.split(",")})))).reset_index()
    win["value"] = win["w"] / win["n"]
    rank = cv.assign(r=(cv["inwin"].astype(int) * 2 + cv["usable"].astype(int)) * 100000 + cv["year"])
    last = rank.sort_values("r").drop_duplicates(KEY, keep="last")
    inw = cv.groupby(KEY, sort=False).agg(any_in=("inwin", "max")).reset_index()
    uin = cv[cv["inwin"] & cv["usable"]].groupby(KEY, sort=False).size().rename("u_in").reset_index()
    out = last.merge(inw, on=KEY).merge(uin, on=KEY, how="left")
    cols = ["year", "value", "n", "datasets"]
    u = win[win["usable"]][KEY + cols].rename(columns={c: f"u_{c}" for c in cols})
    x = win[~win["usable"]][KEY + cols].rename(columns={c: f"x_{c}" for c in cols})
    out = out.merge(u, on=KEY, how="left").merge(x, on=KEY, how="left")
    counts = out["u_year"].notna()
    not_usable = ~counts & out["u_in"].isna() & out["any_in"] & out["x_year"].notna()
    res = out[KEY].copy()
    for c in cols:
        res[f"cgd_{c}"] = np.where(counts, out[f"u_{c}"], np.where(not_usable, out[f"x_{c}"], out[c]))
    res["cgd_suppressed"] = np.where(counts | not_usable, False, out["suppressed"])
    res.loc[res["cgd_suppressed"].astype(bool), "cgd_value"] = np.nan
    res["cgd_status"] = np.where(out["any_in"], "present", "stale")
    res["cgd_counts"] = counts
    return res.rename(columns={"cgd_year": "cgd_latest_year"})


def run(data_dir: Path, *, level: int, as_of: int, window: int, k_min: int) -> dict[str, Any]:
    """The whole rule, step by step (the worker times each step)."""
    d = load(data_dir)
    off = official_facts(d)
    cgd = citizen_facts(d, k_min)
    return {"cells": cells(d, off, cgd, level=level, as_of=as_of, window=window)}
