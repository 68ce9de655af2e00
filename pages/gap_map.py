"""Gap map: "Where does official data say nothing about this group, and who speaks for it?"

A choropleth of regions or provinces by the status of one indicator x group, or by gap or
blind-spot score; citizen place points on top; a click on an area opens its profile. Under the
map: the legend in words, and the areas without a current official figure with the citizen data
that speaks for them (producer, n, quality verdict).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from data_layers import cache, quality, views, vocabulary
from data_layers import palette as pal
from data_layers.i18n import t
from data_layers.interface import StoreAPI
from data_layers.views import View
from pages import components as ui

# map classes where official data has no current figure for the group (a comment, not a string:
# Streamlit would draw a bare string literal in a page script)
GAP_CLASSES = vocabulary.GAP_CLASSES


def body(gs: StoreAPI, v: View) -> None:
    lng = v.lang
    group = views.group_label(gs, v.group, lng)
    ui.header("ui.gap_map.title", "ui.gap_map.lead", v, group=group)
    cat = views.catalogue(gs)
    c1, c2 = st.columns([3, 2])
    with c1:
        st.radio(t("ui.gap_map.metric", lng), list(views.METRICS), horizontal=True,
                 format_func=lambda m: t(f"metric.{m}.label", lng), help=t(f"metric.{v.metric}.help", lng),
                 **ui.widget_state("metric", "w.metric", v.metric))
    with c2:
        levels = [lv for lv in cat["levels"] if lv > 0] or cat["levels"]
        if v.level in levels and len(levels) > 1:
            st.radio(t("ui.gap_map.level", lng), levels, horizontal=True,
                     format_func=lambda x: ui.level_option(x, lng), **ui.widget_state("level", "w.level_map", v.level))
    if v.metric == "status" and not v.indicator:
        ui.empty("ui.gap_map.pick_indicator", v)

    result, event = ui.chart("gap-map", v, key=f"map-{v.level}-{v.metric}", on_select=True)
    clicked = clicked_area(event, result)
    if clicked:
        ui.go("area_profile", v.replace(area=clicked))
    st.caption(t("ui.gap_map.click_hint", lng))
    if v.indicator:
        brief_button(gs, v)
    ui.register_panel(gs, v)

    metric = v.metric if (v.metric != "status" or v.indicator) else "blind_spot"
    if metric == "status":
        st.subheader(t("legend.status", lng))
        ui.legend(pal.STATUS_ORDER, v)
        st.subheader(t("ui.gap_map.speaks_heading", lng, group=ui.inert(group)))
        speaks_for(gs, v, result.data)
    else:
        st.markdown(t(f"metric.{metric}.help", lng))
        ui.link("coverage_matrix", t("ui.gap_map.matrix_link", lng), v)


def clicked_area(event: Any, result: Any) -> str | None:
    """The area code of a clicked polygon (``None`` when nothing, or a citizen point, was clicked)."""
    if not event:
        return None
    try:
        points = event.selection.points  # PlotlyState: attribute access
    except AttributeError:
        points = (event.get("selection") or {}).get("points", []) if isinstance(event, dict) else []
    known = set(result.data["area_code"]) if "area_code" in result.data else set()
    for p in points or []:
        code = p.get("location")
        if code is None:
            cd = p.get("customdata")
            code = cd[0] if isinstance(cd, list | tuple) and cd else cd
        if isinstance(code, str) and code in known:
            return code
    return None


def brief_button(gs: StoreAPI, v: View) -> None:
    """The indicator's evidence brief across the areas shown, made only when the button is pressed."""
    try:
        from data_layers import exports
    except ImportError:  # the core runs without the export stack
        return

    def make() -> bytes:
        return exports.make_brief(gs, v, indicator=v.indicator, level=v.level, lang=v.lang)

    st.download_button(t("ui.gap_map.brief", v.lang), data=make, file_name=f"gaplens-brief-{v.indicator}.pdf",
                       mime="application/pdf", key="map-brief", on_click="ignore",
                       icon=":material/picture_as_pdf:", help=t("ui.gap_map.brief_help", v.lang))


def speaks_for(gs: StoreAPI, v: View, data: pd.DataFrame) -> None:
    """Areas where official data has no current figure: what citizen data says, from whom, how
    trustworthy (the dashboard issue's "done when" in one table)."""
    lng = v.lang
    if data.empty or "status" not in data:
        ui.empty("ui.empty.table", v)
        return
    label_of = {t(pal.status_style(c).label_key, lng): c for c in pal.STATUS_ORDER}
    classes = data["class"].map(label_of)
    gaps = data[classes.isin(GAP_CLASSES)].copy()
    n_gap, n_filled = len(gaps), int((classes == "filled").sum())
    if gaps.empty:
        ui.empty("ui.gap_map.no_gaps", v)
        return
    st.markdown(t("ui.gap_map.speaks_lead", lng, n_gap=n_gap, n_filled=n_filled,
                  areas=views.level_label(v.level, lng)))
    ds = cache.datasets().set_index("dataset_id")

    def titles(ids: Any) -> str:
        if ids is None or (not isinstance(ids, str) and pd.isna(ids)) or not str(ids).strip():
            return ""
        return "; ".join(str(ds.at[d.strip(), "title"]) for d in str(ids).split(",") if d.strip() in ds.index)

    def verdicts(ids: Any) -> str:
        if ids is None or (not isinstance(ids, str) and pd.isna(ids)) or not str(ids).strip():
            return ""
        return "; ".join(ui.verdict_word(str(ds.at[d.strip(), "verdict"]), lng)
                         for d in str(ids).split(",") if d.strip() in ds.index)

    gaps["cgd_title"] = [titles(x) for x in gaps["cgd_datasets"]]
    gaps["verdict"] = [verdicts(x) for x in gaps["cgd_datasets"]]
    gaps["cgd_reason"] = [quality.cell_reason_text(str(r or ""), str(d or ""), n, lng) if isinstance(r, str) else ""
                          for r, d, n in zip(gaps["cgd_reason"], gaps["cgd_reason_detail"], gaps["cgd_n"], strict=True)]
    gaps = gaps.sort_values(["cgd_status", "area_name"], ascending=[False, True])
    shown = gaps[["area_name", "class", "official_latest_year", "total_latest_year", "cgd_value", "cgd_suppressed",
                  "cgd_n", "cgd_latest_year", "cgd_title", "citizen_producer", "verdict", "cgd_reason", "cgd_diff",
                  "cgd_disagrees"]]
    shown = ui.display_table(shown, lng)
    shown = shown.rename(columns={"cgd_title": t("ui.col.cgd_title", lng), "verdict": t("ui.col.verdict", lng)})
    ui.table(shown, v, key="tbl-speaks", name="who-speaks-for-the-gaps", raw=True)
    ui.link("citizen_data", t("ui.gap_map.quality_link", lng), v)


ui.run_page("gap_map", body)
