"""Citizen data: "Which citizen datasets can we trust, and which official gaps do they fill?"

One quality card per citizen dataset (gateway checks, 0-3 scores, verdict, method, n, producer,
licence, dates) and the official gaps it fills: cells at the chosen level with no current
official figure where this dataset's figures are within the window.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from data_layers import cache, i18n, quality, schema, views
from data_layers.i18n import t
from data_layers.interface import StoreAPI
from data_layers.views import View
from pages import components as ui

GATE_SYMBOL = {True: "✓", False: "✕", None: "?"}
SCORE_MAX = 3


def body(gs: StoreAPI, v: View) -> None:
    lng = v.lang
    ui.header("ui.citizen.title", "ui.citizen.lead", v, describe=False)
    ds = cache.datasets(source_kind="citizen")
    if ds.empty:
        ui.empty("ui.citizen.none", v)
        ui.link("import_data", t("ui.citizen.import_link", lng), v)
        return
    levels = [lv for lv in views.catalogue(gs)["levels"] if lv > 0] or [v.level]
    fills = pd.concat([filled_cells(cache.coverage(level=lv, as_of=v.as_of, window=v.window, headline="filled"))
                       for lv in levels],
                      ignore_index=True)
    counts = ds["verdict"].value_counts()
    st.markdown(t("ui.citizen.summary", lng, n=len(ds), usable=int(counts.get("usable", 0)),
                  caution=int(counts.get("use with caution", 0)), not_usable=int(counts.get("not usable", 0)),
                  as_of=i18n.format_year(v.as_of, lng), window=v.window))
    with st.expander(t("ui.citizen.protocol_heading", lng), icon=":material/rule:"):
        st.markdown(t("ui.citizen.protocol", lng))
    for rec in ds.to_dict("records"):
        card(gs, rec, fills[fills["dataset_id"] == rec["dataset_id"]], v)


def filled_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, cell) where the cell is ``filled`` and the dataset is among its sources."""
    f = cells[cells["headline"] == "filled"].copy()
    if f.empty:
        return f.assign(dataset_id=pd.Series(dtype=object))
    f["dataset_id"] = f["cgd_datasets"].fillna("").str.split(",")
    f = f.explode("dataset_id")
    f["dataset_id"] = f["dataset_id"].str.strip()
    return f[f["dataset_id"] != ""]


def card(gs: StoreAPI, rec: dict[str, Any], fills: pd.DataFrame, v: View) -> None:
    lng = v.lang
    with st.container(border=True):
        top, badge = st.columns([4, 1.3], vertical_alignment="top")
        top.subheader(ui.inert(rec["title"]))
        top.markdown(t("ui.citizen.by", lng, producer=ui.inert(rec["producer"])))
        badge.markdown(ui.verdict_badge(str(rec.get("verdict") or ""), lng), unsafe_allow_html=True)
        mean = rec.get("quality_mean")
        badge.caption(t("ui.citizen.mean", lng, mean=ui.MISSING if pd.isna(mean) else i18n.format_number(mean, lng, decimals=2)))
        left, right = st.columns([3, 2], gap="large")
        with left:
            facts = [
                (t("ui.citizen.method", lng), rec.get("method")),
                (t("ui.citizen.sampling", lng), rec.get("sampling")),
                (t("ui.citizen.n", lng), i18n.format_number(rec.get("rows_stored"), lng, decimals=0)),
                (t("ui.citizen.period", lng), t("ui.citizen.period_value", lng,
                                                 start=_date(rec.get("collection_start"), lng),
                                                 end=_date(rec.get("collection_end"), lng))),
                (t("ui.citizen.licence", lng), rec.get("licence")),
                (t("ui.citizen.consent", lng), rec.get("consent")),
                (t("ui.citizen.points", lng), t(f"ui.citizen.point_kind.{rec.get('point_kind') or 'none'}", lng)),
                (t("ui.citizen.notes", lng), rec.get("notes")),
            ]
            st.markdown("\n".join(f"- **{label}:** {_text(value)}" for label, value in facts))
            participation(rec, lng)
        with right:
            st.markdown(f"**{t('ui.citizen.gateway', lng)}**")
            gates = []
            for g in schema.GATEWAYS:
                val = rec.get(g)
                val = None if val is None or pd.isna(val) else bool(val)
                gates.append(f"- {GATE_SYMBOL[val]} {t(f'ui.citizen.{g}', lng)}: {t(f'ui.citizen.gate_{val}'.lower(), lng)}")
            st.markdown("\n".join(gates))
            st.markdown(f"**{t('ui.citizen.scores', lng)}**")
            rows = []
            for s in schema.QUALITY_SCORES:
                val = rec.get(s)
                ok = val is not None and not pd.isna(val)
                bar = ("■" * int(val) + "□" * (SCORE_MAX - int(val))) if ok else ""
                rows.append(f"- {t(f'ui.citizen.{s}', lng)}: {bar} {int(val) if ok else ui.MISSING}/{SCORE_MAX}")
            st.markdown("\n".join(rows))
        fills_block(gs, rec, fills, v)


def participation(rec: dict[str, Any], lng: str) -> None:
    """The participation record (Copenhagen Framework on Citizen Data) beside the verdict."""
    st.markdown(f"**{t('ui.citizen.participation', lng)}:** {_text(quality.participation_text(rec, lng))}")
    kind = str(rec.get("initiator_kind") or "")
    who = ", ".join(x for x in (str(rec.get("initiator") or "").strip(),
                                t(f"participation.kind.{kind}", lng) if kind else "") if x)
    stages = [s for s in str(rec.get("citizen_stages") or "").split("|") if s]
    membership = str(rec.get("group_membership") or "")
    rows = [
        (t("ui.citizen.initiator", lng), who),
        (t("ui.citizen.stages", lng), ", ".join(t(f"participation.stage.{s}", lng) for s in stages)),
        (t("ui.citizen.membership", lng), t(f"participation.membership.{membership}", lng) if membership else ""),
        (t("ui.citizen.contact", lng), rec.get("contact")),
    ]
    st.markdown("\n".join(f"- **{label}:** {_text(value)}" for label, value in rows))


def fills_block(gs: StoreAPI, rec: dict[str, Any], fills: pd.DataFrame, v: View) -> None:
    """Which official gaps this dataset fills, counted per admin level (regions, provinces)."""
    lng = v.lang
    why = quality.verdict_reason_text(str(rec.get("verdict_reason") or ""), lng)
    if why:  # never "filled": say so before anything else about gaps
        st.warning(t("ui.citizen.why_not", lng, reason=why), icon=":material/block:")
    if fills.empty:
        st.markdown(t("ui.citizen.fills_none", lng))
        return
    per_level = fills.groupby("level")["area_code"].nunique()
    where = ", ".join(t("ui.citizen.fills_level", lng, n=int(n), areas=views.level_label(int(lv), lng))
                      for lv, n in per_level.items())
    inds = sorted(fills["indicator"].unique())
    groups = sorted(fills["group"].unique())
    st.markdown(t("ui.citizen.fills", lng, n=len(fills), where=where,
                  indicators=", ".join(ui.inert(views.indicator_label(gs, i, lng)) for i in inds),
                  groups=", ".join(ui.inert(views.group_label(gs, g, lng)) for g in groups)))
    with st.expander(t("ui.citizen.fills_table", lng, n=len(fills))):
        shown = fills[["area_name", "level", "indicator", "group", "status", "cgd_value", "cgd_suppressed", "cgd_n",
                       "cgd_latest_year", "official_latest_year", "total_latest_year"]].copy()
        shown["level"] = [views.level_label(int(lv), lng, plural=False) for lv in shown["level"]]
        shown = shown.rename(columns={"group": "group_label"})
        shown["group_label"] = [views.group_label(gs, g, lng) for g in shown["group_label"]]
        ui.table(shown, v, key=f"tbl-fills-{rec['dataset_id']}", name=f"gaps-filled-{rec['dataset_id']}")
    first = fills.sort_values("level", ascending=False).iloc[0]
    ui.link("gap_map", t("ui.citizen.map_link", lng), v, indicator=first["indicator"], group=first["group"],
            level=int(first["level"]), metric="status")


def _text(value: Any) -> str:
    """An imported value for the card's Markdown list: inert, or the missing mark."""
    if value is None or (not isinstance(value, str) and pd.isna(value)) or not str(value).strip():
        return ui.MISSING
    return ui.inert(value)


def _date(value: Any, lng: str) -> str:
    """A collection date in the reader's language (``1 mars 2023``), or the missing mark."""
    text = i18n.format_date(value, lng)
    return ui.MISSING if text == "–" else text


ui.run_page("citizen_data", body)
