"""Overview: "How much do official statistics cover, and who is left out?"

For the chosen level, as-of year and window: the share of cells covered, filled by citizen data
and blind spots; the areas with the most blind spots; the groups with the least official
coverage; what data is loaded. Each headline links to the page that explains it.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data_layers import cache, i18n, views, vocabulary
from data_layers.i18n import t
from data_layers.interface import StoreAPI
from data_layers.views import View
from pages import components as ui

TOP_AREAS = 10  # a list a meeting can read out; the gap map shows all of them


def body(gs: StoreAPI, v: View) -> None:
    lng = v.lang
    ui.header("ui.overview.title", "ui.overview.lead", v, describe=False)
    st.markdown(f"<p class='gl-filters'>{ui._html(scope_words(gs, v))}</p>", unsafe_allow_html=True)
    sidebar_note(gs, v)
    result = cache.figure("overview", v)
    data = result.data
    if data.empty:
        ui.empty("ui.overview.empty", v)
        return
    total = data.iloc[0]
    cells = int(total["cells"])

    headlines = (  # (count key, label key, help key, page it links to, link label, link overrides)
        ("covered", "ui.overview.covered", "status.covered.help", "coverage_matrix", "ui.overview.covered_link", {}),
        ("filled", "ui.overview.filled", "status.filled.help", "citizen_data", "ui.overview.filled_link", {}),
        ("blind_spot", "ui.overview.blind", "status.blind_spot.help", "gap_map", "ui.overview.blind_link",
         {"metric": "blind_spot"}),
    )
    for col, (count, label, help_key, page, link_key, extra) in zip(st.columns(3), headlines, strict=True):
        with col:
            st.metric(t(label, lng), ui.pct(ui.share(total[count], cells), lng), help=t(help_key, lng))
            st.caption(t("ui.overview.of_cells", lng, n=i18n.format_number(total[count], lng, decimals=0),
                         cells=i18n.format_number(cells, lng, decimals=0)))
            ui.link(page, t(link_key, lng), v, **extra)

    st.divider()
    st.subheader(t("ui.overview.groups_heading", lng))
    if len(data) > 1:
        st.markdown(least_covered_lead(data.iloc[1:], lng))
    ui.chart("overview", v, key="chart-overview")
    ui.link("coverage_matrix", t("ui.overview.groups_link", lng), v)

    st.divider()
    st.subheader(t("ui.overview.hidden_heading", lng))
    hidden = cache.figure("hidden-groups", v).data
    if not hidden.empty:
        st.markdown(hidden_lead(hidden, lng))
    ui.chart("hidden-groups", v, key="chart-hidden-groups")

    st.divider()
    st.subheader(t("ui.overview.areas_heading", lng, areas=views.level_label(v.level, lng)))
    top_areas(gs, v)

    st.divider()
    st.subheader(t("ui.overview.data_heading", lng))
    loaded_data(v)


def _ties(frame: pd.DataFrame, column: str, best: float) -> list[str]:
    """The inert labels of every group whose ``column`` equals ``best`` (a tie is named whole)."""
    return [ui.inert(x) for x in frame.loc[frame[column] == best, "group_label"]]


def least_covered_lead(groups: pd.DataFrame, lng: str) -> str:
    """The groups with the least official coverage, every one of a tie named (issue 15: it named
    one group at 0 % when seven tied)."""
    least = float(groups["share_covered"].min())
    names = _ties(groups, "share_covered", least)
    if len(names) == 1:
        return t("ui.overview.groups_lead", lng, group=names[0], share=ui.pct(least, lng))
    return t("ui.overview.groups_lead_tie", lng, n=len(names), share=ui.pct(least, lng),
             groups=i18n.format_list(names, lng))


def hidden_lead(hidden: pd.DataFrame, lng: str) -> str:
    """The groups most often hidden in a total (all of a tie), with their count of cells."""
    most = int(hidden[vocabulary.AGGREGATE_ONLY].max())
    names = _ties(hidden, vocabulary.AGGREGATE_ONLY, most)
    return t("ui.overview.hidden_lead", lng, n=i18n.format_number(most, lng, decimals=0), n_top=len(names),
             groups=i18n.format_list(names, lng))


def scope_words(gs: StoreAPI, v: View) -> str:
    """What the headline numbers count: all groups, the goal's (or all) indicators, the level."""
    lng = v.lang
    scope = t("describe.goal", lng, goal=v.goal) if v.goal else t("describe.all_indicators", lng)
    return t("describe.sep", lng).join([
        t("ui.overview.all_groups", lng), scope, views.level_label(v.level, lng),
        t("describe.as_of", lng, year=i18n.format_year(v.as_of, lng),
          window=i18n.format_number(v.window, lng, decimals=0))])


def sidebar_note(gs: StoreAPI, v: View) -> None:
    """Say that the headline counts every indicator and group, whatever the sidebar picks, and
    link to the page that shows the picked indicator and group (issue 15: it was silent)."""
    if not v.indicator:
        return
    lng = v.lang
    note = t("ui.overview.scope_note", lng, indicator=views.indicator_label(gs, v.indicator, lng),
             group=views.group_label(gs, v.group, lng))
    st.markdown(f"<p class='gl-filters'>{ui._html(note)}</p>", unsafe_allow_html=True)
    ui.link("gap_map", t("ui.overview.scope_link", lng, indicator=v.indicator,
                         group=views.group_label(gs, v.group, lng)), v, metric="status")


def top_areas(gs: StoreAPI, v: View) -> None:
    lng = v.lang
    inds = [c for c, g in views.catalogue(gs)["indicators"].items() if g == v.goal] if v.goal else None
    scores = cache.area_scores(level=v.level, as_of=v.as_of, window=v.window, indicators=inds)
    if scores.empty:
        ui.empty("ui.empty.table", v)
        return
    top = scores.sort_values(["blind_spot_score", "area_name"], ascending=[False, True],
                             na_position="last").head(TOP_AREAS)
    first = top.iloc[0]
    st.markdown(t("ui.overview.areas_lead", lng, area=ui.inert(first["area_name"]),
                  share=ui.pct(first["blind_spot_score"], lng)))
    shown = top[["area_name", "blind_spot_score", "n_blind_spot", "applicable"]].copy()
    shown["blind_spot_score"] = shown["blind_spot_score"] * 100
    shown.columns = [t("ui.col.area_name", lng), t("ui.col.blind_spot_score", lng),
                     t("ui.col.n_blind_spot", lng), t("ui.col.applicable", lng)]
    col_cfg = {t("ui.col.blind_spot_score", lng): st.column_config.ProgressColumn(
        t("ui.col.blind_spot_score", lng), format="%.0f%%", min_value=0, max_value=100)}
    ui.table(shown, v, key="tbl-top-areas", name="areas-most-blind-spots", column_config=col_cfg, raw=True)
    ui.link("gap_map", t("ui.overview.areas_link", lng), v, metric="blind_spot")
    ui.link("area_profile", t("ui.overview.area_link", lng, area=first["area_name"]), v, area=first["area_code"])


def loaded_data(v: View) -> None:
    lng = v.lang
    ds = cache.datasets()
    if ds.empty:
        ui.empty("ui.overview.no_data", v)
        return
    n_cit = int((ds["source_kind"] == "citizen").sum())
    n_off = int((ds["source_kind"] == "official").sum())
    lo, hi = cache.years()
    st.markdown(t("ui.overview.data_lead", lng, n_official=n_off, n_citizen=n_cit,
                  first=i18n.format_year(lo, lng), last=i18n.format_year(hi, lng),
                  producers=int(ds["producer"].nunique())))
    shown = ds[["title", "producer", "source_kind", "rows_stored", "verdict"]].copy()
    shown.insert(3, "collected", [t("ui.citizen.period_value", lng, start=a or ui.MISSING, end=b or ui.MISSING)
                                  for a, b in zip(ds["collection_start"], ds["collection_end"], strict=True)])
    shown["source_kind"] = [t(f"ui.kind.{k}", lng) for k in shown["source_kind"]]
    shown["verdict"] = [ui.verdict_word(x, lng) if x else ui.MISSING for x in shown["verdict"]]
    shown.columns = [t("ui.col.title", lng), t("ui.col.producer", lng), t("ui.col.source_kind", lng),
                     t("ui.citizen.period", lng), t("ui.col.rows", lng), t("ui.col.verdict", lng)]
    ui.table(shown, v, key="tbl-datasets", name="datasets")
    ui.link("citizen_data", t("ui.overview.data_link", lng), v)
    ui.link("about", t("ui.overview.about_link", lng), v)


ui.run_page("overview", body)
