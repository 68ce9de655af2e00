"""The coverage matrix: indicators (or areas) by groups, one cell per class."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from .. import i18n
from .. import palette as pal
from .. import vocabulary as voc
from ..interface import StoreAPI
from ..views import (
    View,
    catalogue,
    describe,
    group_label,
    home_area,
    indicator_label,
    indicator_title,
    level_label,
)
from ..vocabulary import cell_class
from .base import (
    MATRIX_LABEL_ANGLE,
    MATRIX_LABEL_CHARS,
    MIN_ROW_PX,
    ROW_LABEL_CHARS,
    ChartResult,
)
from .maps import (
    _goal_indicators,
)
from .text import (
    _empty_figure,
    _esc,
    _hover_cell,
    _layout,
    _legend_marker,
    _official_datasets,
    _producers,
    _shorten,
    _theme,
    _unit,
    class_label,
    source_line,
)

log = logging.getLogger("data_layers.figures")

# --- coverage matrix ----------------------------------------------------------------------------

MATRIX_GROUPINGS: tuple[str, ...] = ("all", "single", "intersections")  # which group columns a matrix shows


def coverage_matrix(store: StoreAPI, view: View, *, axis: str = "indicator", sort: str | None = None,
                    groups: str = "all") -> ChartResult:
    """Heatmap of coverage classes: indicator x group for one area (the country by default), or
    area x group for one indicator (``axis="area"``). Cells show the status symbol, ``▲`` when
    citizen data is present; rows sort by catalogue order (``code``) or most gaps first (``gap``).
    ``groups`` keeps every group column (``all``: intersections last, after a divider), the
    one-characteristic groups (``single``) or the intersectional groups (``intersections``).
    """
    if groups not in MATRIX_GROUPINGS:
        raise ValueError(f"groups={groups!r}: expected one of {MATRIX_GROUPINGS}")
    import plotly.graph_objects as go

    lang = view.lang
    sort = sort or view.sort
    th = _theme(view)
    cat = catalogue(store)
    grp_rows = cat["group_rows"]
    if axis == "indicator":
        area = view.area if view.area in cat["areas"] else home_area(store)
        level = cat["area_levels"].get(area, view.level) if area else view.level
        inds = _goal_indicators(store, view)
        cells = store.coverage(series=view.series_choice(), level=level, as_of=view.as_of, window=view.window, indicators=inds,
                               areas=[area] if area else None)
        row_key = "indicator"
        title = i18n.t("fig.matrix.indicator.title", lang, area=cat["areas"].get(area, area or ""))
        subtitle = _subtitle_no_group(view.replace(indicator=None, area=area, level=level), store, lang)
        name = "coverage-matrix"
    else:
        ind = view.indicator or _default_indicator(store, view)
        level = view.level
        cells = store.coverage(series=view.series_choice(), level=level, as_of=view.as_of, window=view.window,
                               indicators=[ind] if ind else None)
        row_key = "area_code"
        title = i18n.t("fig.matrix.area.title", lang, indicator=indicator_label(store, ind, lang),
                       areas=level_label(level, lang))
        subtitle = _subtitle_no_group(view.replace(indicator=ind, area=None), store, lang)
        name = "area-matrix"
    if cells.empty:
        fig = _empty_figure(view, title, subtitle, i18n.t("alt.empty", lang))
        return ChartResult(fig, cells.iloc[0:0], title, subtitle, i18n.t("source.none", lang),
                           i18n.t("alt.empty", lang), name)
    cells = cells.copy()
    cells["class"] = [cell_class(r) for r in cells.to_dict("records")]
    cells["cgd_present"] = cells["cgd_status"].eq("present")
    grouping = groups

    def crossed(g: str) -> bool:
        return int(grp_rows[g].get("n_dims", 1) or 1) > 1

    groups = [g for g in grp_rows if g in set(cells["group"])
              and (grouping == "all" or crossed(g) == (grouping == "intersections"))]
    groups = [g for g in groups if not crossed(g)] + [g for g in groups if crossed(g)]
    cells = cells[cells["group"].isin(groups)]
    if cells.empty:
        fig = _empty_figure(view, title, subtitle, i18n.t("alt.empty", lang))
        return ChartResult(fig, cells.iloc[0:0], title, subtitle, i18n.t("source.none", lang),
                           i18n.t("alt.empty", lang), name)
    rows = list(dict.fromkeys(cells[row_key]))
    if axis == "area":  # areas read best by name; indicators keep the catalogue's natural order
        names = dict(zip(cells["area_code"], cells["area_name"], strict=False))
        rows = sorted(rows, key=lambda r: names.get(r, r))
    if sort == "gap":
        bad = cells[cells["class"].isin(voc.GAP_CLASSES)].groupby(row_key).size()
        blind = cells[cells["headline"].eq("blind_spot")].groupby(row_key).size()
        base = {r: i for i, r in enumerate(rows)}
        rows = sorted(rows, key=lambda r: (-int(blind.get(r, 0)), -int(bad.get(r, 0)), base[r]))
    order = list(pal.STATUS_ORDER)
    k = len(order)
    idx = {c: i for i, c in enumerate(order)}
    colorscale = []
    for i, c in enumerate(order):
        colorscale += [[i / k, pal.STATUS_STYLES[c].color], [(i + 1) / k, pal.STATUS_STYLES[c].color]]
    by = cells.set_index([row_key, "group"])
    z, text, hover = [], [], []
    unit_cache: dict[str, str] = {}
    offd = _official_datasets(store, indicators=list(cells["indicator"].unique()), groups=None, level=level,
                              as_of=view.as_of, areas=list(cells["area_code"].unique()))
    off_map = {(r.indicator, r.area_code, r.group_id): r.dataset_id for r in offd.itertuples()} if not offd.empty else {}
    for r in rows:
        zr, tr, hr = [], [], []
        for g in groups:
            rec = by.loc[(r, g)].to_dict() if (r, g) in by.index else None
            if rec is None:
                zr.append(None)
                tr.append("")
                hr.append("")
                continue
            rec[row_key] = r
            rec["group"] = g
            c = rec["class"]
            zr.append(idx[c] + 0.5)
            sym = pal.STATUS_STYLES[c].symbol if c != "filled" else pal.STATUS_STYLES[_official_only(rec)].symbol
            # a disagreement with the official figure is told in the hover (and the data table)
            tr.append(sym + (pal.CITIZEN_SYMBOL if rec["cgd_present"] and c != "not_applicable" else ""))
            ind = rec["indicator"]
            unit = unit_cache.setdefault(ind, _unit(store, ind))
            head = (f"{indicator_title(store, ind, lang, full=True)} ({ind})" if axis == "indicator"
                    else str(rec["area_name"])) + i18n.t("describe.sep", lang) + group_label(store, g, lang)
            producer = _producers(store, off_map.get((ind, rec["area_code"], g), ""))
            hr.append(_hover_cell(store, rec, view, unit=unit, official_producer=producer, head=head))
        z.append(zr)
        text.append(tr)
        hover.append(hr)
    if axis == "indicator":
        ylabels = [_indicator_tick(store, r, lang) for r in rows]
    else:
        names = dict(zip(cells["area_code"], cells["area_name"], strict=False))
        ylabels = [_esc(_shorten(names.get(r, r), ROW_LABEL_CHARS)) for r in rows]
    # angled, unwrapped column labels: eleven groups stay readable in an ~800 px page column
    xlabels = [_esc(_shorten(group_label(store, g, lang), MATRIX_LABEL_CHARS)) for g in groups]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(range(len(groups))), y=list(range(len(rows))), text=text, texttemplate="%{text}",
        textfont={"size": th.font_size, "family": pal.FONT_FAMILY}, customdata=hover,
        hovertemplate="%{customdata}<extra></extra>", colorscale=colorscale, zmin=0, zmax=k, showscale=False,
        xgap=2, ygap=2, name=""))
    for c in order:
        if (cells["class"] == c).any():
            fig.add_trace(_legend_marker(class_label(c, lang), pal.STATUS_STYLES[c].color, group=c, line=th.border))
    if cells["cgd_present"].any():
        fig.add_trace(_legend_marker(f"{pal.CITIZEN_SYMBOL} {i18n.t('legend.citizen_present', lang)}",
                                     pal.BACKGROUND, symbol="triangle-up", line=pal.TEXT))
    row_px = max(MIN_ROW_PX, th.font_size + 12)
    longest = max((len(_shorten(group_label(store, g, lang), MATRIX_LABEL_CHARS)) for g in groups), default=8)
    label_px = longest * th.font_size * 0.55 * math.sin(math.radians(abs(MATRIX_LABEL_ANGLE)))
    header_px = 40 + th.title_size + 2 * th.font_size + int(label_px) + 20
    # the last angled labels run past the last column: keep room for them on the right
    right_px = 20 + int(longest * th.font_size * 0.55 * math.cos(math.radians(abs(MATRIX_LABEL_ANGLE))))
    height = header_px + 150 + row_px * len(rows)
    _layout(fig, view, title, subtitle, height=height, legend_title=i18n.t("legend.status", lang))
    fig.update_xaxes(tickmode="array", tickvals=list(range(len(groups))), ticktext=xlabels, side="top",
                     tickangle=MATRIX_LABEL_ANGLE, showgrid=False, zeroline=False, range=[-0.5, len(groups) - 0.5],
                     tickfont={"size": th.font_size, "color": th.text})
    fig.update_yaxes(tickmode="array", tickvals=list(range(len(rows))), ticktext=ylabels, autorange="reversed",
                     showgrid=False, zeroline=False, tickfont={"size": th.font_size, "color": th.text},
                     side="right" if view.is_rtl else "left")
    fig.update_layout(legend={"orientation": "h", "x": 0, "y": -0.02, "yanchor": "top"},
                      margin={"b": 140, "t": header_px, "r": right_px}, plot_bgcolor=pal.BACKGROUND)
    fig.update_xaxes(showline=False)
    n_single = sum(not crossed(g) for g in groups)
    if 0 < n_single < len(groups):  # intersections stand apart, after the one-characteristic groups
        fig.add_vline(x=n_single - 0.5, line={"color": th.text, "width": 2})
    # the data shown: one row per cell, with words for every class
    rank = {r: i for i, r in enumerate(rows)}
    shown = cells[cells[row_key].isin(rows)].copy()
    shown = shown.assign(_rank=shown[row_key].map(rank)).sort_values("_rank", kind="stable").drop(columns="_rank")
    shown["class_label"] = [i18n.t(pal.status_style(c).label_key, lang) for c in shown["class"]]
    shown["group_label"] = [group_label(store, g, lang) for g in shown["group"]]
    keep = ["indicator", "area_code", "area_name", "group", "group_label", "class_label", "status",
            "official_latest_year", "official_value", "official_suppressed", "cgd_status", "cgd_value", "cgd_n",
            "cgd_suppressed", "cgd_datasets", "cgd_reason", "cgd_diff", "cgd_disagrees", "outcome_gap"]
    keep += [c for c in ("parts_status", "parent_gaps", "raised_on", "closed_since_raised") if c in shown]
    shown = shown[keep].rename(columns={"class_label": "class"}).reset_index(drop=True)
    ds_ids = list(offd.get("dataset_id", [])) + list(cells["cgd_datasets"].dropna())
    applicable = cells[cells["class"] != "not_applicable"]
    n_cur = int(applicable["class"].isin(["current", "suppressed"]).sum())
    n_fill = int((applicable["class"] == "filled").sum())
    n_blind = int(applicable["headline"].eq("blind_spot").sum())
    if axis == "indicator":
        alt = i18n.t("alt.matrix.indicator", lang, area=cat["areas"].get(area, area or ""), n_cells=len(applicable),
                     n_current=n_cur, n_filled=n_fill, n_blind=n_blind, n_rows=len(rows))
    else:
        alt = i18n.t("alt.matrix.area", lang, indicator=indicator_label(store, ind, lang), n_rows=len(rows),
                     areas=level_label(level, lang), n_cells=len(applicable), n_current=n_cur, n_filled=n_fill,
                     n_blind=n_blind)
    if rows and sort == "gap":
        first = ylabels_plain(store, rows[:1], axis, lang, cells)
        alt += " " + i18n.t("alt.matrix.most_gaps", lang, row=first[0])
    return ChartResult(fig, shown, title, subtitle, source_line(store, ds_ids, lang), alt, name)


def ylabels_plain(store: StoreAPI, rows: Sequence[str], axis: str, lang: str, cells: pd.DataFrame) -> list[str]:
    """Row names without markup (for alt text)."""
    if axis == "indicator":
        return [indicator_label(store, r, lang) for r in rows]
    names = dict(zip(cells["area_code"], cells["area_name"], strict=False))
    return [names.get(r, r) for r in rows]


def _official_only(rec: dict[str, Any]) -> str:
    """The official status behind a ``filled`` cell (its symbol tells why official data is lacking)."""
    return str(rec["status"]) if rec["status"] in pal.STATUS_STYLES else "missing"


def _indicator_tick(store: StoreAPI, code: str, lang: str) -> str:
    """Axis label with a goal-coloured chip: ``■ 6.1.1 Safe drinking water`` (text stays dark)."""
    goal = catalogue(store)["indicators"].get(code)
    color = pal.goal_color(goal)
    return (f"<span style='color:{color}'>■</span> {_esc(code)} "
            f"{_esc(indicator_title(store, code, lang))}")


def _subtitle_no_group(view: View, store: StoreAPI, lang: str) -> str:
    """``describe`` without the group (the matrix shows every group)."""
    full = describe(view, store, lang)
    sep = i18n.t("describe.sep", lang)
    parts = full.split(sep)
    return sep.join(parts[1:]) if len(parts) > 1 else full


def _default_indicator(store: StoreAPI, view: View) -> str | None:
    inds = _goal_indicators(store, view) or list(catalogue(store)["indicators"])
    return inds[0] if inds else None
