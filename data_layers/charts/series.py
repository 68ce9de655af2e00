"""Values over groups and years: the group comparison and the time series."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from .. import i18n, quality
from .. import palette as pal
from ..interface import StoreAPI
from ..views import (
    View,
    catalogue,
    group_label,
    home_area,
    indicator_label,
    is_missing,
)
from ..vocabulary import cell_class
from .base import (
    BAR_WIDTH,
    CITIZEN_OFFSET,
    MAX_SERIES,
    MIN_ROW_PX,
    OFFICIAL_OFFSET,
    YEAR_TICKS_MAX,
    ChartResult,
)
from .matrix import (
    _default_indicator,
    _subtitle_no_group,
)
from .text import (
    _empty_figure,
    _esc,
    _flag,
    _hover_cell,
    _layout,
    _producers,
    _theme,
    _unit,
    class_label,
    source_line,
)

log = logging.getLogger("data_layers.figures")

# --- group comparison -------------------------------------------------------------------------

def group_comparison(store: StoreAPI, view: View) -> ChartResult:
    """Who is left behind in one area on one indicator: the latest official figure of every group
    against the total, with citizen figures beside them (triangles, labelled citizen data).
    Suppressed figures are a hatched, labelled band (never a zero bar); missing ones say so.
    """
    import plotly.graph_objects as go

    lang = view.lang
    th = _theme(view)
    cat = catalogue(store)
    area = view.area if view.area in cat["areas"] else home_area(store)
    ind = view.indicator or _default_indicator(store, view)
    level = cat["area_levels"].get(area, view.level) if area else view.level
    area_nm = cat["areas"].get(area, area or "")
    title = i18n.t("fig.groups.title", lang, indicator=indicator_label(store, ind, lang), area=area_nm)
    subtitle = _subtitle_no_group(view.replace(indicator=ind, area=area), store, lang)
    if not area or not ind:
        fig = _empty_figure(view, title, subtitle, i18n.t("alt.empty", lang))
        return ChartResult(fig, pd.DataFrame(), title, subtitle, i18n.t("source.none", lang), i18n.t("alt.empty", lang),
                           "group-comparison")
    cells = store.coverage(series=view.series_choice(), level=level, as_of=view.as_of, window=view.window, indicators=[ind], areas=[area])
    off = store.facts(indicator=ind, area_code=area, kind="official",
                      series=view.series if view.series and ind == view.indicator else None)
    off = off[off["year"] <= view.as_of]
    latest = off.sort_values(["group_id", "year"]).drop_duplicates("group_id", keep="last").set_index("group_id")
    unit = _unit(store, ind)
    cells = cells[cells["status"] != "not_applicable"]
    total_row = cells[cells["group"] == "all"]
    total_val = total_row["official_value"].iloc[0] if len(total_row) else None
    total_year = total_row["official_latest_year"].iloc[0] if len(total_row) else None
    rows = cells[cells["group"] != "all"]
    rows = rows.copy()
    labels = [group_label(store, g, lang) for g in rows["group"]]
    rows["group_label"] = labels
    rows["lower"] = [latest["lower"].get(g) if g in latest.index else None for g in rows["group"]]
    rows["upper"] = [latest["upper"].get(g) if g in latest.index else None for g in rows["group"]]
    ds_of = latest["dataset_id"].to_dict() if "dataset_id" in latest else {}
    rows["official_dataset"] = [ds_of.get(g, "") if not is_missing(y) else (ds_of.get("all", "") if not is_missing(ty) else "")
                                for g, y, ty in zip(rows["group"], rows["official_latest_year"], rows["total_latest_year"],
                                                    strict=True)]
    vals = pd.to_numeric(rows["official_value"], errors="coerce")
    cvals = pd.to_numeric(rows["cgd_value"], errors="coerce")
    candidates = [*vals.dropna(), *cvals.dropna(), *pd.to_numeric(rows["upper"], errors="coerce").dropna()]
    if total_val is not None and not is_missing(total_val):
        candidates.append(float(total_val))
    xmax = max(candidates) if candidates else 100.0
    xmax = 100.0 if unit == "percent" and xmax <= 100 else xmax * 1.1
    fig = go.Figure()
    ylabels = [_esc(x) for x in labels]
    pos = dict(zip(rows["group"], range(len(rows)), strict=True))  # row 0 at the top (axis reversed)
    # official values (bars with bounds), suppressed bands, missing notes
    has = rows["official_latest_year"].notna() & ~rows["official_suppressed"].astype(bool)
    sup = rows["official_latest_year"].notna() & rows["official_suppressed"].astype(bool)
    nodata = rows["official_latest_year"].isna()
    if has.any():
        sub = rows[has]
        val = pd.to_numeric(sub["official_value"])
        up = pd.to_numeric(sub["upper"], errors="coerce")
        lo = pd.to_numeric(sub["lower"], errors="coerce")
        err_plus, err_minus = (up - val).tolist(), (val - lo).tolist()
        has_err = any(not is_missing(e) for e in err_plus)
        stale = sub["status"].eq("stale").tolist()
        ys = [pos[g] - OFFICIAL_OFFSET for g in sub["group"]]
        hov = [_group_hover(store, r, view, unit) for r in sub.to_dict("records")]
        fig.add_trace(go.Bar(
            x=val, y=ys, orientation="h", width=BAR_WIDTH, name=i18n.t("legend.official", lang),
            marker={"color": [pal.STATUS_STYLES["stale"].color if s else pal.STATUS_STYLES["current"].color
                              for s in stale],
                    "pattern": {"shape": [pal.STATUS_STYLES["stale"].pattern if s else "" for s in stale],
                                "fgcolor": pal.TEXT, "solidity": 0.2, "fillmode": "overlay"},
                    "line": {"color": th.border, "width": 1}},
            error_x={"type": "data", "array": [0 if is_missing(e) else e for e in err_plus],
                     "arrayminus": [0 if is_missing(e) else e for e in err_minus], "visible": has_err,
                     "color": th.text, "thickness": 1.5, "width": 6},
            customdata=hov, hovertemplate="%{customdata}<extra></extra>"))
        # value labels beyond the bar and its whisker, so neither hides them
        ends = [max(v, u) if not is_missing(u) else v for v, u in zip(val, up, strict=True)]
        fig.add_trace(go.Scatter(
            x=ends, y=ys, mode="text", showlegend=False, name=i18n.t("legend.official", lang),
            text=["  " + i18n.t("fig.groups.bar_text", lang, value=i18n.format_value(v, unit, lang),
                                year=i18n.format_year(y, lang))
                  for v, y in zip(val, sub["official_latest_year"], strict=True)],
            textposition="middle right", textfont={"size": th.font_size - 1, "color": th.text},
            customdata=hov, hovertemplate="%{customdata}<extra></extra>", cliponaxis=False))
    if sup.any():
        sub = rows[sup]
        fig.add_trace(go.Bar(
            x=[xmax] * len(sub), y=[pos[g] - OFFICIAL_OFFSET for g in sub["group"]], orientation="h", width=BAR_WIDTH,
            name=f"{pal.STATUS_STYLES['suppressed'].symbol} {i18n.t('status.suppressed.label', lang)}",
            marker={"color": pal.with_alpha("#BDBDBD", 0.35),
                    "pattern": {"shape": pal.STATUS_STYLES["suppressed"].pattern, "fgcolor": "#6E6E6E",
                                "size": 8, "solidity": 0.3, "fillmode": "overlay"},
                    "line": {"color": "#6E6E6E", "width": 1}},
            text=[i18n.t("fig.groups.suppressed_text", lang, year=i18n.format_year(y, lang))
                  for y in sub["official_latest_year"]],
            textposition="inside", insidetextanchor="middle", textfont={"size": th.font_size - 1, "color": pal.TEXT},
            customdata=[_group_hover(store, r, view, unit) for r in sub.to_dict("records")],
            hovertemplate="%{customdata}<extra></extra>"))
    if nodata.any():
        sub = rows[nodata]
        fig.add_trace(go.Scatter(
            x=[0] * len(sub), y=[pos[g] - OFFICIAL_OFFSET for g in sub["group"]], mode="text",
            text=["  " + class_label(cell_class({**r, "cgd_status": "none"}), lang) for r in sub.to_dict("records")],
            textposition="middle right", textfont={"size": th.font_size - 1, "color": th.muted},
            name=i18n.t("legend.no_official", lang), showlegend=False,
            customdata=[_group_hover(store, r, view, unit) for r in sub.to_dict("records")],
            hovertemplate="%{customdata}<extra></extra>"))
    # citizen figures: triangles just below the official bar, always labelled citizen data
    cg = rows[rows["cgd_status"] != "none"]
    if len(cg):
        cg_ok = cg[~cg["cgd_suppressed"].astype(bool)]
        if len(cg_ok):
            fig.add_trace(go.Scatter(
                x=cg_ok["cgd_value"], y=[pos[g] + CITIZEN_OFFSET for g in cg_ok["group"]], mode="markers+text",
                name=f"{pal.CITIZEN_SYMBOL} {i18n.t('legend.citizen', lang)}",
                marker={"symbol": pal.CITIZEN_MARKER, "size": 16, "color": pal.CITIZEN_MARKER_COLOR,
                        "line": {"width": 1.5, "color": pal.TEXT}},
                text=["  " + i18n.t("fig.groups.citizen_text", lang, value=i18n.format_value(v, unit, lang))
                      + (f" {pal.DISAGREE_SYMBOL}" if _flag(d) else "")
                      for v, d in zip(cg_ok["cgd_value"], cg_ok["cgd_disagrees"], strict=True)],
                textposition="middle right", textfont={"size": th.font_size - 1, "color": th.text},
                customdata=[_group_hover(store, r, view, unit) for r in cg_ok.to_dict("records")],
                hovertemplate="%{customdata}<extra></extra>", cliponaxis=False))
        cg_sup = cg[cg["cgd_suppressed"].astype(bool)]
        if len(cg_sup):
            fig.add_trace(go.Scatter(
                x=[0] * len(cg_sup), y=[pos[g] + CITIZEN_OFFSET for g in cg_sup["group"]], mode="markers+text",
                name=f"{pal.CITIZEN_SYMBOL} {i18n.t('legend.citizen_suppressed', lang)}",
                marker={"symbol": "triangle-up-open", "size": 16, "color": pal.TEXT},
                text=["  " + i18n.t("fig.groups.citizen_suppressed_text", lang)] * len(cg_sup),
                textposition="middle right", textfont={"size": th.font_size - 1, "color": th.text},
                customdata=[_group_hover(store, r, view, unit) for r in cg_sup.to_dict("records")],
                hovertemplate="%{customdata}<extra></extra>", cliponaxis=False))
    if total_val is not None and not is_missing(total_val):
        fig.add_vline(x=float(total_val), line={"color": pal.TOTAL_COLOR, "width": 3, "dash": "dash"})
        fig.add_annotation(x=float(total_val), y=1.0, yref="paper", yanchor="bottom", showarrow=False,
                           text=_esc(i18n.t("fig.groups.total", lang, value=i18n.format_value(total_val, unit, lang),
                                            year=i18n.format_year(total_year, lang))),
                           font={"size": th.font_size - 1, "color": th.text}, bgcolor=pal.BACKGROUND)
    row_px = max(MIN_ROW_PX * 2, th.font_size * 3 + 8)
    height = 40 + th.title_size + 2 * th.font_size + 200 + row_px * max(len(rows), 1)
    _layout(fig, view, title, subtitle, height=height)
    fig.update_layout(barmode="overlay", legend={"orientation": "h", "x": 0, "y": -0.1, "yanchor": "top"},
                      margin={"b": 130, "t": fig.layout.margin.t + th.font_size + 10})
    fig.update_xaxes(range=[0, xmax * 1.25], title={"text": _esc(_unit_title(unit, lang))}, gridcolor=th.grid,
                     zeroline=True, zerolinecolor=th.text, tickfont={"size": th.font_size})
    if unit == "percent":
        fig.update_xaxes(tickmode="array", tickvals=[0, 20, 40, 60, 80, 100])
    fig.update_yaxes(tickmode="array", tickvals=list(range(len(rows))), ticktext=ylabels, autorange=False,
                     range=[len(rows) - 0.5, -0.6], showgrid=False, zeroline=False, tickfont={"size": th.font_size},
                     side="right" if view.is_rtl else "left")
    shown = rows[["group", "group_label", "status", "official_latest_year", "official_value", "lower", "upper",
                  "official_suppressed", "cgd_status", "cgd_latest_year", "cgd_value", "cgd_n", "cgd_suppressed",
                  "cgd_datasets", "cgd_reason", "cgd_diff", "cgd_margin", "cgd_disagrees", "outcome_gap",
                  "outcome_gap_year"]].reset_index(drop=True)
    shown.insert(0, "area_name", area_nm)
    shown.insert(0, "area_code", area)
    shown.insert(0, "indicator", ind)
    shown["total_value"] = total_val
    shown["total_year"] = total_year
    ds_ids = list(latest["dataset_id"]) if "dataset_id" in latest else []
    ds_ids += list(rows["cgd_datasets"].dropna())
    gaps = rows.dropna(subset=["outcome_gap"])
    if rows.empty:
        alt = i18n.t("alt.empty", lang)
    else:
        alt = i18n.t("alt.groups.counts", lang, area=area_nm, indicator=indicator_label(store, ind, lang),
                     n_groups=len(rows), n_official=int(has.sum()), n_suppressed=int(sup.sum()),
                     n_citizen=int((rows["cgd_status"] != "none").sum()))
        if len(gaps):
            worst = gaps.loc[gaps["outcome_gap"].astype(float).idxmax()]
            if float(worst["outcome_gap"]) > 0:
                alt += " " + i18n.t("alt.groups.worst", lang, group=worst["group_label"],
                                    gap=i18n.format_number(float(worst["outcome_gap"]), lang))
    return ChartResult(fig, shown, title, subtitle, source_line(store, ds_ids, lang), alt, "group-comparison")


def _group_hover(store: StoreAPI, rec: dict[str, Any], view: View, unit: str) -> str:
    return _hover_cell(store, rec, view, unit=unit, official_producer=_producers(store, rec.get("official_dataset")),
                       head=rec.get("group_label", rec["group"]))


def _unit_title(unit: str, lang: str) -> str:
    if unit == "percent":
        return i18n.t("axis.percent", lang)
    return unit


# --- time series ------------------------------------------------------------------------------

def time_series(store: StoreAPI, view: View) -> ChartResult:
    """Official lines per group for one area and indicator (the total thicker and black, at most
    six series), bounds as bands, citizen figures as triangles, disagreements ringed."""
    import plotly.graph_objects as go

    lang = view.lang
    th = _theme(view)
    cat = catalogue(store)
    area = view.area if view.area in cat["areas"] else home_area(store)
    ind = view.indicator or _default_indicator(store, view)
    area_nm = cat["areas"].get(area, area or "")
    title = i18n.t("fig.series.title", lang, indicator=indicator_label(store, ind, lang), area=area_nm)
    subtitle = _subtitle_no_group(view.replace(indicator=ind, area=area), store, lang)
    if not area or not ind:
        fig = _empty_figure(view, title, subtitle, i18n.t("alt.empty", lang))
        return ChartResult(fig, pd.DataFrame(), title, subtitle, i18n.t("source.none", lang), i18n.t("alt.empty", lang),
                           "time-series")
    unit = _unit(store, ind)
    off = store.facts(indicator=ind, area_code=area, kind="official",
                      series=view.series if view.series and ind == view.indicator else None)
    cgd = store.facts(indicator=ind, area_code=area, kind="citizen")
    off = off[off["year"] <= view.as_of]
    cgd = cgd[cgd["year"] <= view.as_of]
    order = list(cat["group_rows"])
    present = [g for g in order if g in set(off["group_id"]) or g in set(cgd["group_id"])]
    chosen = [g for g in ("all", view.group) if g in present]
    chosen += [g for g in present if g not in chosen]
    chosen = chosen[:MAX_SERIES]
    off = off[off["group_id"].isin(chosen)]
    cgd = cgd[cgd["group_id"].isin(chosen)]
    fig = go.Figure()
    colors: dict[str, str] = {}
    dashes: dict[str, str] = {}
    i = 0
    for g in chosen:
        if g == "all":
            colors[g], dashes[g] = pal.TOTAL_COLOR, "solid"
        else:
            colors[g], dashes[g] = pal.SERIES_COLORS[i % len(pal.SERIES_COLORS)], pal.SERIES_DASHES[(i + 1) % 6]
            i += 1
    n_bands = 0
    for g in chosen:
        s = off[off["group_id"] == g].sort_values("year")
        if s.empty:
            continue
        label = group_label(store, g, lang)
        bounded = s.dropna(subset=["lower", "upper"])
        if len(bounded) >= 1:
            xs = list(bounded["year"]) + list(bounded["year"])[::-1]
            ys = list(bounded["upper"]) + list(bounded["lower"])[::-1]
            fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", mode="lines", line={"width": 0},
                                     fillcolor=pal.with_alpha(colors[g], 0.15), hoverinfo="skip",
                                     name=i18n.t("legend.band", lang, group=label), legendgroup=g, showlegend=False))
            n_bands += 1
        shown_vals = s[~s["suppressed"].astype(bool)]
        hov = [i18n.t("hover.series_point", lang, group=_esc(label), year=i18n.format_year(y, lang),
                      value=i18n.format_value(v, unit, lang),
                      bounds=(i18n.t("hover.bounds", lang, lower=i18n.format_value(lo, unit, lang),
                                     upper=i18n.format_value(hi, unit, lang))
                              if not is_missing(lo) and not is_missing(hi) else ""))
               for y, v, lo, hi in zip(shown_vals["year"], shown_vals["value"], shown_vals["lower"],
                                       shown_vals["upper"], strict=True)]
        fig.add_trace(go.Scatter(
            x=shown_vals["year"], y=shown_vals["value"], mode="lines+markers", name=_esc(label), legendgroup=g,
            line={"color": colors[g], "width": 4.5 if g == "all" else 2.5, "dash": dashes[g]},
            marker={"symbol": pal.OFFICIAL_MARKER, "size": 9 if g == "all" else 7, "color": colors[g]},
            hovertext=hov, hovertemplate="%{hovertext}<extra></extra>", connectgaps=False))
        sup = s[s["suppressed"].astype(bool)]
        if len(sup):
            fig.add_trace(go.Scatter(
                x=sup["year"], y=[None] * len(sup), mode="markers", showlegend=False, legendgroup=g, hoverinfo="skip"))
            for y in sup["year"]:
                fig.add_annotation(x=y, y=0, yref="paper", yanchor="bottom", showarrow=False,
                                   text=f"{pal.STATUS_STYLES['suppressed'].symbol} "
                                        f"{_esc(i18n.t('fig.series.suppressed', lang, group=label))}",
                                   font={"size": th.font_size - 3, "color": colors[g] if g != 'all' else th.text},
                                   bgcolor=pal.BACKGROUND)
    # citizen figures
    dis_rows = []
    for g in chosen:
        c = cgd[cgd["group_id"] == g].sort_values("year")
        if c.empty:
            continue
        label = group_label(store, g, lang)
        ok = c[~c["suppressed"].astype(bool)]
        if len(ok):
            producers = [_producers(store, d) for d in ok["datasets"]]
            fig.add_trace(go.Scatter(
                x=ok["year"], y=ok["value"], mode="markers",
                name=f"{pal.CITIZEN_SYMBOL} {_esc(i18n.t('legend.citizen_group', lang, group=label))}",
                legendgroup=f"cgd-{g}",
                marker={"symbol": pal.CITIZEN_MARKER, "size": 15, "color": colors[g],
                        "line": {"width": 1.5, "color": pal.BACKGROUND if g == "all" else pal.TEXT}},
                hovertext=[i18n.t("hover.citizen_series", lang, group=_esc(label), year=i18n.format_year(y, lang),
                                  value=i18n.format_value(v, unit, lang), n=i18n.format_number(n, lang, decimals=0),
                                  producer=_esc(p))
                           for y, v, n, p in zip(ok["year"], ok["value"], ok["n"], producers, strict=True)],
                hovertemplate="%{hovertext}<extra></extra>"))
        for r in ok.to_dict("records"):
            o = off[(off["group_id"] == g) & (off["year"] == r["year"]) & ~off["suppressed"].astype(bool)]
            if o.empty:
                continue
            ov = float(o["value"].iloc[0])
            lo, hi = o["lower"].iloc[0], o["upper"].iloc[0]
            # the same rule as the coverage cells (cgd_margin): beyond the combined uncertainty
            margin = quality.disagreement_margin(lower=None if is_missing(lo) else float(lo),
                                                 upper=None if is_missing(hi) else float(hi),
                                                 citizen_value=r["value"], n=r.get("n"), unit=unit)
            if margin is not None and abs(r["value"] - ov) > margin:
                dis_rows.append({"group": g, "year": int(r["year"]), "official_value": ov, "citizen_value": r["value"],
                                 "difference": r["value"] - ov})
    if dis_rows:
        d = pd.DataFrame(dis_rows)
        fig.add_trace(go.Scatter(
            x=d["year"], y=d["citizen_value"], mode="markers", name=_esc(i18n.t("legend.disagree", lang)),
            marker={"symbol": pal.DISAGREE_MARKER, "size": 30, "color": pal.STATUS_STYLES["missing"].color,
                    "line": {"width": 3}},
            hovertext=[i18n.t("hover.disagree", lang, group=_esc(group_label(store, g, lang)), year=y,
                              official=i18n.format_value(o, unit, lang), citizen=i18n.format_value(c, unit, lang),
                              diff=i18n.format_points(c - o, lang))
                       for g, y, o, c in zip(d["group"], d["year"], d["official_value"], d["citizen_value"], strict=True)],
            hovertemplate="%{hovertext}<extra></extra>"))
    data_years = pd.concat([off["year"], cgd["year"]])
    _layout(fig, view, title, subtitle, height=560)
    fig.update_layout(legend={"orientation": "v", "x": 1.01, "xanchor": "left", "y": 1, "yanchor": "top"},
                      hovermode="closest")
    span = int(data_years.max() - data_years.min()) if len(data_years) else 0
    fig.update_xaxes(title={"text": i18n.t("axis.year", lang)}, gridcolor=th.grid, tickformat="d",
                     dtick=1 if span <= YEAR_TICKS_MAX else (2 if span <= 2 * YEAR_TICKS_MAX else 5))
    fig.update_yaxes(title={"text": _esc(_unit_title(unit, lang))}, gridcolor=th.grid, rangemode="tozero",
                     range=[0, 100] if unit == "percent" else None)
    data = pd.concat([
        off.assign(source_kind="official", group_label=[group_label(store, g, lang) for g in off["group_id"]])[
            ["group_id", "group_label", "year", "value", "lower", "upper", "n", "suppressed", "dataset_id",
             "source_kind"]].rename(columns={"dataset_id": "datasets"}),
        cgd.assign(source_kind="citizen", lower=np.nan, upper=np.nan,
                   group_label=[group_label(store, g, lang) for g in cgd["group_id"]])[
            ["group_id", "group_label", "year", "value", "lower", "upper", "n", "suppressed", "datasets",
             "source_kind"]],
    ], ignore_index=True)
    data.insert(0, "area_code", area)
    data.insert(0, "indicator", ind)
    data["disagrees"] = False
    for r in dis_rows:
        m = (data["source_kind"] == "citizen") & (data["group_id"] == r["group"]) & (data["year"] == r["year"])
        data.loc[m, "disagrees"] = True
    if data.empty:
        fig.add_annotation(text=_esc(i18n.t("alt.empty", lang)), showarrow=False, x=0.5, y=0.5, xref="paper",
                           yref="paper")
        alt = i18n.t("alt.empty", lang)
    else:
        alt = i18n.t("alt.series", lang, area=area_nm, indicator=indicator_label(store, ind, lang),
                     n_series=int(off["group_id"].nunique()), first=i18n.format_year(data["year"].min(), lang),
                     last=i18n.format_year(data["year"].max(), lang), n_citizen=len(cgd), n_disagree=len(dis_rows))
    ds = list(off["dataset_id"].unique()) + list(cgd["datasets"].unique())
    return ChartResult(fig, data, title, subtitle, source_line(store, ds, lang), alt, "time-series")
