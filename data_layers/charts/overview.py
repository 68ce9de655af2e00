"""The overview: share of cells covered, filled by citizen data or blind spots, per group.

Split into a *question* (store and view in; a frame of codes out: no Plotly, no words) and a
*drawing* (the frame in; the figure, its words and its text alternative out), registered together in
``figures.CHARTS``: the pattern every new chart follows (docs/architecture.md)."""

from __future__ import annotations

import logging

import pandas as pd

from .. import i18n, vocabulary
from .. import palette as pal
from ..interface import StoreAPI
from ..views import (
    View,
    group_label,
    level_label,
)
from .base import (
    Answer,
    ChartResult,
)
from .maps import (
    _goal_indicators,
)
from .text import (
    _empty_figure,
    _esc,
    _layout,
    _official_datasets,
    _theme,
    class_label,
    source_line,
)

log = logging.getLogger("data_layers.figures")

# --- overview -----------------------------------------------------------------------------------

HEADS = ("covered", "filled", "blind_spot")  # the headline classes drawn, in stacking order


def overview_question(store: StoreAPI, view: View) -> Answer:
    """Per group (and ``__all__`` first), how many applicable cells are covered, filled by citizen
    data or blind spots, least official coverage first. Codes only: no words, no figure."""
    inds = _goal_indicators(store, view)
    cells = store.coverage(series=view.series_choice(), level=view.level, as_of=view.as_of, window=view.window, indicators=inds)
    app = cells[cells["headline"] != "not_applicable"]
    if app.empty:
        return Answer(pd.DataFrame())
    counts = app.groupby("group")["headline"].value_counts().unstack(fill_value=0)
    for h in HEADS:
        if h not in counts:
            counts[h] = 0
    counts = counts[list(HEADS)]
    counts["cells"] = counts.sum(axis=1)
    counts = counts.sort_values(["covered", "cells"], key=lambda s: s, ascending=[True, False])
    counts["share_covered"] = counts["covered"] / counts["cells"]
    counts = counts.sort_values(["share_covered"], kind="stable")
    total = pd.DataFrame({h: [int((app["headline"] == h).sum())] for h in HEADS}, index=["__all__"])
    total["cells"] = len(app)
    total["share_covered"] = total["covered"] / total["cells"]
    ds = list(_official_datasets(store, indicators=inds, groups=None, level=view.level, as_of=view.as_of)
              .get("dataset_id", [])) + list(cells["cgd_datasets"].dropna())
    return Answer(pd.concat([total, counts]), ds)


def _scope_subtitle(view: View) -> str:
    """"all indicators · provinces · as of 2024, 5-year window": the scope the across-indicator charts count."""
    lang = view.lang
    scope = i18n.t("describe.goal", lang, goal=view.goal) if view.goal else i18n.t("describe.all_indicators", lang)
    return i18n.t("describe.sep", lang).join([
        scope, level_label(view.level, lang),
        i18n.t("describe.as_of", lang, year=i18n.format_year(view.as_of, lang),
               window=i18n.format_number(view.window, lang, decimals=0))])


def _empty_result(view: View, title: str, subtitle: str, name: str) -> ChartResult:
    lang = view.lang
    fig = _empty_figure(view, title, subtitle, i18n.t("alt.empty", lang))
    return ChartResult(fig, pd.DataFrame(), title, subtitle, i18n.t("source.none", lang), i18n.t("alt.empty", lang), name)


def overview_drawing(answer: Answer, store: StoreAPI, view: View) -> ChartResult:
    """Stacked bars of :func:`overview_question`'s shares, with words in the view's language."""
    import plotly.graph_objects as go

    lang = view.lang
    th = _theme(view)
    title = i18n.t("fig.overview.title", lang, areas=level_label(view.level, lang))
    subtitle = _scope_subtitle(view)
    table = answer.frame
    if table.empty:
        return _empty_result(view, title, subtitle, "overview")
    total = table.loc[["__all__"]]
    heads = HEADS
    names = [i18n.t("fig.overview.all_groups", lang) if g == "__all__" else group_label(store, g, lang)
             for g in table.index]
    fig = go.Figure()
    for h in heads:
        style = pal.HEADLINE_STYLES[h]
        share = table[h] / table["cells"]
        fig.add_trace(go.Bar(
            x=share, y=[_esc(n) for n in names], orientation="h", name=class_label(h, lang),
            marker={"color": style.color, "pattern": {"shape": style.pattern, "fgcolor": pal.text_on(style.color),
                                                      "solidity": 0.12, "size": 10, "fillmode": "overlay"},
                    "line": {"color": th.border, "width": 1}},
            text=[i18n.format_percent(s, lang) if s >= 0.06 else "" for s in share], textposition="inside",
            insidetextanchor="middle", textfont={"color": pal.text_on(style.color), "size": th.font_size - 1},
            customdata=[i18n.t("hover.overview", lang, group=_esc(n), cls=class_label(h, lang),
                               share=i18n.format_percent(s, lang), n=int(c), cells=int(t_))
                        for n, s, c, t_ in zip(names, share, table[h], table["cells"], strict=True)],
            hovertemplate="%{customdata}<extra></extra>"))
    height = 240 + th.title_size * 2 + (th.font_size * 2 + 14) * len(table)
    _layout(fig, view, title, subtitle, height=height)
    fig.update_layout(barmode="stack", bargap=0.3,
                      legend={"orientation": "h", "x": 0, "y": -0.12, "yanchor": "top", "traceorder": "normal"},
                      margin={"b": 130})
    fig.update_xaxes(range=[0, 1.001], tickformat=".0%", gridcolor=th.grid, title={"text": i18n.t("axis.share_cells", lang)})
    # automargin: the group names take the room they need on either side (in Arabic, on the right,
    # they were cut off by the 20 px margin: issue 15)
    fig.update_yaxes(categoryorder="array", categoryarray=[_esc(n) for n in reversed(names)],
                     side="right" if view.is_rtl else "left", automargin=True)
    # the first bar (all groups) gets a separator line
    fig.add_hline(y=len(names) - 1.5, line={"color": th.text, "width": 1.5})
    data = table.reset_index(names="group")
    data["group"] = ["all_groups" if g == "__all__" else g for g in data["group"]]
    data.insert(1, "group_label", names)
    for h in heads:
        data[f"share_{h}"] = data[h] / data["cells"]
    least = data.iloc[1] if len(data) > 1 else data.iloc[0]
    alt = i18n.t("alt.overview", lang, n_cells=int(total["cells"].iloc[0]), areas=level_label(view.level, lang),
                 covered=i18n.format_percent(total["covered"].iloc[0] / total["cells"].iloc[0], lang),
                 filled=i18n.format_percent(total["filled"].iloc[0] / total["cells"].iloc[0], lang),
                 blind=i18n.format_percent(total["blind_spot"].iloc[0] / total["cells"].iloc[0], lang),
                 least=least["group_label"], least_share=i18n.format_percent(least["share_covered"], lang))
    return ChartResult(fig, data, title, subtitle, source_line(store, answer.datasets, lang), alt, "overview")


def overview_bars(store: StoreAPI, view: View) -> ChartResult:
    """Share of cells covered / filled by citizen data / blind spot, for all groups together and
    for each group (least official coverage first), at the view's level, as-of year and window."""
    return overview_drawing(overview_question(store, view), store, view)


# --- who is hidden in totals ------------------------------------------------------------------

HIDDEN_COUNTS = (vocabulary.AGGREGATE_ONLY, vocabulary.MISSING, vocabulary.FILLED)
"""What :func:`hidden_groups_question` counts per group, in drawing order: cells whose official
status is hidden in a total, cells with no official figure at all, and official gaps that citizen
data fills (these overlap the first two: a filled cell is also hidden or missing)."""


def hidden_groups_question(store: StoreAPI, view: View) -> Answer:
    """Per group, across the (goal's) indicators and the level's areas at the view's as-of year and
    window: how many applicable cells are hidden in a total, missing, or filled by citizen data.
    Most often hidden first ("which groups are most often hidden inside totals?", issue 15)."""
    inds = _goal_indicators(store, view)
    cells = store.coverage(series=view.series_choice(), level=view.level, as_of=view.as_of, window=view.window,
                           indicators=inds)
    app = cells[cells["status"] != vocabulary.NOT_APPLICABLE]
    if app.empty:
        return Answer(pd.DataFrame(columns=["group", *HIDDEN_COUNTS, "cells"]))
    flags = pd.DataFrame({
        "group": app["group"].to_numpy(),
        vocabulary.AGGREGATE_ONLY: (app["status"] == vocabulary.AGGREGATE_ONLY).to_numpy(),
        vocabulary.MISSING: (app["status"] == vocabulary.MISSING).to_numpy(),
        vocabulary.FILLED: vocabulary.cell_classes(app) == vocabulary.FILLED,
    })
    counts = flags.groupby("group").sum().astype(int)
    counts["cells"] = flags.groupby("group").size()
    counts = counts.reset_index().sort_values([vocabulary.AGGREGATE_ONLY, vocabulary.MISSING, "group"],
                                              ascending=[False, False, True], kind="stable")
    ds = list(cells["cgd_datasets"].dropna()) if "cgd_datasets" in cells else []
    ds = list(_official_datasets(store, indicators=inds, groups=None, level=view.level, as_of=view.as_of)
              .get("dataset_id", [])) + ds
    return Answer(counts.reset_index(drop=True), ds)


def hidden_groups_drawing(answer: Answer, store: StoreAPI, view: View) -> ChartResult:
    """Grouped bars of :func:`hidden_groups_question`'s counts per group, most often hidden on top."""
    import plotly.graph_objects as go

    lang = view.lang
    th = _theme(view)
    title = i18n.t("fig.hidden_groups.title", lang, areas=level_label(view.level, lang))
    subtitle = _scope_subtitle(view)
    table = answer.frame
    if table.empty:
        return _empty_result(view, title, subtitle, "hidden-groups")
    names = [group_label(store, g, lang) for g in table["group"]]
    fig = go.Figure()
    for cls in HIDDEN_COUNTS:
        style = pal.status_style(cls)
        fig.add_trace(go.Bar(
            x=table[cls], y=[_esc(n) for n in names], orientation="h", name=class_label(cls, lang),
            marker={"color": style.color, "pattern": {"shape": style.pattern, "fgcolor": pal.text_on(style.color),
                                                      "solidity": 0.12, "size": 10, "fillmode": "overlay"},
                    "line": {"color": th.border, "width": 1}},
            text=[i18n.format_number(c, lang, decimals=0) for c in table[cls]], textposition="outside",
            textfont={"color": th.text, "size": th.font_size - 1},
            customdata=[i18n.t("hover.hidden_groups", lang, group=_esc(n), cls=class_label(cls, lang),
                               n=i18n.format_number(c, lang, decimals=0),
                               cells=i18n.format_number(t_, lang, decimals=0))
                        for n, c, t_ in zip(names, table[cls], table["cells"], strict=True)],
            hovertemplate="%{customdata}<extra></extra>"))
    height = 220 + th.title_size * 2 + (th.font_size * 3 + 18) * len(table)
    _layout(fig, view, title, subtitle, height=height)
    fig.update_layout(barmode="group", bargap=0.25,
                      legend={"orientation": "h", "x": 0, "y": -0.08, "yanchor": "top", "traceorder": "normal"},
                      margin={"b": 110})
    fig.update_xaxes(gridcolor=th.grid, rangemode="tozero", title={"text": i18n.t("axis.cells", lang)})
    fig.update_yaxes(categoryorder="array", categoryarray=[_esc(n) for n in reversed(names)],
                     side="right" if view.is_rtl else "left", automargin=True)
    data = table.copy()
    data.insert(1, "group_label", names)
    data["share_aggregate_only"] = data[vocabulary.AGGREGATE_ONLY] / data["cells"]
    top = data[data[vocabulary.AGGREGATE_ONLY] == data[vocabulary.AGGREGATE_ONLY].max()]
    alt = i18n.t("alt.hidden_groups", lang, n_groups=len(data), areas=level_label(view.level, lang),
                 n_top=len(top), groups=i18n.format_list(list(top["group_label"]), lang),
                 n=i18n.format_number(int(top[vocabulary.AGGREGATE_ONLY].iloc[0]), lang, decimals=0))
    return ChartResult(fig, data, title, subtitle, source_line(store, answer.datasets, lang), alt, "hidden-groups")
