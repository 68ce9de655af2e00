"""Area profile: "In this place, who is left behind, and what do we know about them?"

One area: the status of every indicator for every group; each group against the total with
official and citizen figures side by side; the time series with uncertainty bands; where
official and citizen figures disagree.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data_layers import cache, i18n, views
from data_layers import palette as pal
from data_layers.i18n import t
from data_layers.interface import StoreAPI
from data_layers.views import View
from pages import components as ui


def body(gs: StoreAPI, v: View) -> None:
    lng = v.lang
    cat = views.catalogue(gs)
    home = views.home_area(gs)
    area = v.area if v.area in cat["areas"] else home
    if area is None:
        ui.header("ui.profile.title_none", "ui.profile.lead_none", v, describe=False)
        ui.empty("ui.profile.no_areas", v)
        return
    name = cat["areas"][area]
    ui.header("ui.profile.title", "ui.profile.lead", v, describe=False, area=name)
    shown_view = v.replace(area=area)

    c1, c2 = st.columns(2)
    with c1:
        options = area_choices(gs, area, home)
        st.selectbox(t("ui.profile.pick_area", lng), options, format_func=lambda a: ui.area_option(a, lng),
                     help=t("ui.profile.pick_area_help", lng), **ui.widget_state("area", "w.profile_area", area))
    with c2:
        inds = list(cat["indicators"])
        ind = v.indicator if v.indicator in inds else ui.ALL
        st.selectbox(t("ui.filter.indicator", lng), [ui.ALL, *inds], format_func=lambda c: ui.indicator_option(c, lng),
                     help=t("ui.profile.indicator_help", lng),
                     **ui.widget_state("indicator", "w.profile_indicator", ind))
    st.markdown(f"<p class='gl-filters'>{ui._html(views.describe(shown_view, gs, lng))}</p>",
                unsafe_allow_html=True)
    headline(gs, v, area)
    brief_button(gs, shown_view, area)
    ui.register_panel(gs, shown_view, area=area)

    st.subheader(t("ui.profile.matrix_heading", lng, area=ui.inert(name)))
    ui.chart("coverage-matrix", shown_view, key="chart-profile-matrix")
    with st.expander(t("ui.legend.heading", lng), icon=":material/palette:"):
        ui.legend(pal.STATUS_ORDER, v)

    st.divider()
    indicator = v.indicator or next(iter(cat["indicators"]), None)
    if indicator is None:
        ui.empty("ui.empty.chart", v)
        return
    if not v.indicator:
        st.caption(t("ui.profile.first_indicator", lng, indicator=ui.inert(views.indicator_label(gs, indicator, lng))))
    st.subheader(t("ui.profile.groups_heading", lng))
    ui.chart("group-comparison", shown_view, key="chart-profile-groups")

    st.divider()
    st.subheader(t("ui.profile.series_heading", lng))
    series, _ = ui.chart("time-series", shown_view, key="chart-profile-series")

    st.subheader(t("ui.profile.disagree_heading", lng))
    disagreements(series.data, v)


def brief_button(gs: StoreAPI, v: View, area: str) -> None:
    """One click: this area's evidence brief as a PDF, made only when the button is pressed."""
    try:
        from data_layers import exports
    except ImportError:  # the core runs without the export stack
        return

    def make() -> bytes:
        return exports.make_brief(gs, v, area=area, lang=v.lang)

    st.download_button(t("ui.profile.brief", v.lang), data=make, file_name=f"gaplens-brief-{area}.pdf",
                       mime="application/pdf", key="profile-brief", on_click="ignore",
                       icon=":material/picture_as_pdf:", help=t("ui.profile.brief_help", v.lang))


def area_choices(gs: StoreAPI, area: str, home: str | None) -> list[str]:
    """The country first, then regions and provinces by name (98 on the sample: a searchable list)."""
    areas = cache.areas()
    sub = areas[areas["level"] > 0].sort_values(["level", "name"])
    codes = ([home] if home else []) + list(sub["code"])
    if area not in codes:
        codes.insert(0, area)
    return codes


def headline(gs: StoreAPI, v: View, area: str) -> None:
    lng = v.lang
    level = views.catalogue(gs)["area_levels"].get(area, v.level)
    scores = cache.area_scores(level=level, as_of=v.as_of, window=v.window, groups=None)
    row = scores[scores["area_code"] == area]
    if row.empty:
        ui.empty("ui.profile.no_cells", v)
        return
    r = row.iloc[0]
    c1, c2, c3 = st.columns(3)
    c1.metric(t("ui.profile.gap_score", lng), ui.pct(r["gap_score"], lng),
              help=t("metric.gap.help", lng))
    c2.metric(t("ui.profile.blind_score", lng), ui.pct(r["blind_spot_score"], lng),
              help=t("metric.blind_spot.help", lng))
    c3.metric(t("ui.profile.filled", lng), i18n.format_number(r["n_filled"], lng, decimals=0),
              help=t("status.filled.help", lng))
    st.caption(t("ui.profile.headline_note", lng, applicable=i18n.format_number(r["applicable"], lng, decimals=0)))


def disagreements(data: pd.DataFrame, v: View) -> None:
    """Citizen figures that fall outside the official bounds or differ by more than the threshold,
    next to the official figure of the same group and year."""
    lng = v.lang
    if data.empty or "disagrees" not in data or not data["disagrees"].any():
        ui.empty("ui.profile.no_disagreement", v)
        return
    cit = data[(data["source_kind"] == "citizen") & data["disagrees"]]
    off = data[data["source_kind"] == "official"][["group_id", "year", "value", "lower", "upper", "datasets"]]
    both = cit.merge(off, on=["group_id", "year"], how="left", suffixes=("_citizen", "_official"))
    shown = pd.DataFrame({
        t("ui.col.group_label", lng): both["group_label"],
        t("ui.col.year", lng): both["year"],
        t("ui.col.official_value", lng): both["value_official"],
        t("ui.col.lower", lng): both["lower_official"],
        t("ui.col.upper", lng): both["upper_official"],
        t("ui.col.cgd_value", lng): both["value_citizen"],
        t("ui.col.cgd_n", lng): both["n"],
        t("ui.col.difference", lng): both["value_citizen"] - both["value_official"],
        t("ui.col.cgd_datasets", lng): both["datasets_citizen"],
    })
    st.markdown(t("ui.profile.disagree_lead", lng, n=len(shown)))
    ui.table(shown, v, key="tbl-disagree", name="disagreements")


ui.run_page("area_profile", body)
