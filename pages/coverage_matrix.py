"""Coverage matrix: "For which indicators and groups do we have figures, and where?"

Two heatmaps coloured by status with citizen data marked: indicator x group for the country or
one area, and area x group for one indicator. Rows sort by code or by most gaps first; full
indicator titles show on hover.
"""

from __future__ import annotations

import streamlit as st

from data_layers import cache, figures, views
from data_layers import palette as pal
from data_layers.i18n import t
from data_layers.interface import StoreAPI
from data_layers.views import View
from pages import components as ui


def body(gs: StoreAPI, v: View) -> None:
    lng = v.lang
    ui.header("ui.matrix.title", "ui.matrix.lead", v)
    cat = views.catalogue(gs)
    home = views.home_area(gs)
    c1, c2 = st.columns([2, 3])
    with c1:
        st.radio(t("ui.matrix.sort", lng), list(views.SORTS), horizontal=True,
                 format_func=lambda s: t(f"ui.matrix.sort_{s}", lng), **ui.widget_state("sort", "w.sort", v.sort))
    with c2:
        options: list[str] = [ui.ALL] + [a for a in area_choices(gs, v) if a != home]
        current = v.area if v.area in options else ui.ALL
        st.selectbox(t("ui.matrix.area", lng), options,
                     format_func=lambda a: area_label(a, home, lng),
                     help=t("ui.matrix.area_help", lng), **ui.widget_state("area", "w.matrix_area", current))

    area_name = cat["areas"].get(v.area or "", cat["areas"].get(home or "", ""))
    grouping = st.radio(t("ui.matrix.groups", lng), list(figures.MATRIX_GROUPINGS), horizontal=True,
                        format_func=lambda g: t(f"ui.matrix.groups_{g}", lng), key="w.matrix_groups")
    st.subheader(t("ui.matrix.by_indicator", lng, area=ui.inert(area_name)))
    ui.chart("coverage-matrix", v, key="chart-matrix-indicator", groups=grouping)
    with st.expander(t("ui.legend.heading", lng), icon=":material/palette:"):
        ui.legend(pal.STATUS_ORDER, v)
    st.caption(t("ui.matrix.symbol_hint", lng, symbol=pal.CITIZEN_SYMBOL))

    st.divider()
    ind = v.indicator or next(iter(cat["indicators"]), None)
    if ind is None:
        ui.empty("ui.empty.chart", v)
        return
    st.subheader(t("ui.matrix.by_area", lng, indicator=ui.inert(views.indicator_label(gs, ind, lng)),
                   areas=views.level_label(v.level, lng)))
    if not v.indicator:
        st.caption(t("ui.matrix.first_indicator", lng))
    ui.chart("area-matrix", v, key="chart-matrix-area", groups=grouping)
    if v.area:
        ui.link("area_profile", t("ui.matrix.profile_link", lng, area=area_name), v)


def area_choices(gs: StoreAPI, v: View) -> list[str]:
    """Areas of the view's level, the selected one kept even when it is of another level."""
    areas = cache.areas(level=v.level)
    codes = list(areas.sort_values("name")["code"])
    if v.area and v.area not in codes:
        codes.insert(0, v.area)
    return codes


def area_label(code: str, home: str | None, lng: str) -> str:
    if code == ui.ALL:
        name = views.area_name(ui.store(), home) if home else ""
        return t("ui.matrix.whole_country", lng, name=name)
    return ui.area_option(code, lng)


ui.run_page("coverage_matrix", body)
