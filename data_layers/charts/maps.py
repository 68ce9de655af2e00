"""The gap map: a choropleth of cell classes or scores, with citizen points over it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
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
    indicator_label,
    is_missing,
    level_label,
)
from ..vocabulary import cell_classes
from .base import (
    GLYPH_MAX_AREAS,
    MAP_HEIGHT,
    MAX_POINTS,
    SCORE_BINS,
    ChartResult,
)
from .geometry import (
    MapGeometry,
    _SharedList,
    map_geometry,
)
from .text import (
    _esc,
    _esc_many,
    _floats,
    _format_many,
    _format_years,
    _HoverLines,
    _layout_spec,
    _legend_marker_spec,
    _merged,
    _objects,
    _official_datasets,
    _outline,
    _producer_map,
    _slot,
    _status_hover,
    _theme,
    _unit,
    class_label,
    source_line,
)

log = logging.getLogger("data_layers.figures")

# --- gap map ------------------------------------------------------------------------------------

def gap_map(store: StoreAPI, view: View, *, geometry: MapGeometry | None = None, full_geometry: bool = False) -> ChartResult:
    """Choropleth of the areas at ``view.level`` by coverage class or gap / blind-spot score.

    ``view.metric == "status"`` colours each area by the class of one indicator x group cell
    (needs ``view.indicator``; without one the blind-spot score is shown); ``gap`` and
    ``blind_spot`` show the area's score over the indicators (of the goal, if chosen) for the
    group, in five labelled classes. Place-type citizen points are overlaid as triangles.

    Built for thousands of areas: values are formatted once per distinct value, hover texts are
    per-trace templates (see :class:`_HoverLines`), and the traces are plain dicts that plotly
    takes without validating or copying them (the geometry is shared, see :class:`_Shared`).
    """
    import plotly.graph_objects as go

    lang = view.lang
    metric = view.metric if (view.metric != "status" or view.indicator) else "blind_spot"
    geom = geometry or map_geometry(store, view.level, full=full_geometry)
    areas_word = level_label(view.level, lang)
    grp = group_label(store, view.group, lang)
    subtitle = describe(view.replace(area=None, indicator=view.indicator if metric == "status" else None), store, lang)
    th = _theme(view)

    if metric == "status":
        ind = str(view.indicator)
        cells = store.coverage(series=view.series_choice(), level=view.level, as_of=view.as_of, window=view.window,
                               indicators=[ind], groups=[view.group])
        title = i18n.t("fig.map.status.title", lang, group=grp, indicator=indicator_label(store, ind, lang))
        offd = _official_datasets(store, indicators=[ind], groups=list(dict.fromkeys([view.group, "all"])),
                                  level=view.level, as_of=view.as_of)
        own, total = ({a: d for a, g, d in zip(_objects(offd["area_code"]), _objects(offd["group_id"]),
                                                _objects(offd["dataset_id"]), strict=True) if g == want}
                      for want in (view.group, "all"))
        unit = _unit(store, ind)
        codes = _objects(cells["area_code"])
        classes = cell_classes(cells)
        no_year = cells["official_latest_year"].isna().to_numpy()
        no_total = cells["total_latest_year"].isna().to_numpy()
        data = pd.DataFrame({"area_code": codes, "area_name": _objects(cells["area_name"]), "class": classes.tolist()})
        label_of = {c: i18n.t(pal.status_style(c).label_key, lang) for c in set(classes.tolist())}
        data["class_label"] = [label_of[c] for c in classes]
        for col in ("status", "official_latest_year", "official_value", "official_suppressed", "total_latest_year",
                    "total_value", "cgd_status", "cgd_latest_year", "cgd_value", "cgd_suppressed", "cgd_n",
                    "cgd_datasets", "cgd_reason", "cgd_reason_detail", "cgd_diff", "cgd_disagrees", "outcome_gap",
                    "parts_status", "parent_gaps", "raised_on", "closed_since_raised"):
            if col in cells:
                data[col] = cells[col].to_numpy()
        # the dataset behind the figure shown: the group's own, or the total a group is hidden in
        official_dataset = [own.get(c, "") if not ny else (total.get(c, "") if not nt else "")
                            for c, ny, nt in zip(codes, no_year, no_total, strict=True)]
        data["official_dataset"] = official_dataset
        producers = _producer_map(store, official_dataset)
        official_producer = [producers.get(d, "") for d in official_dataset]
        data["official_producer"] = official_producer
        producers = _producer_map(store, cells["cgd_datasets"])
        citizen_producer = [producers.get(d, "") if isinstance(d, str) else "" for d in _objects(cells["cgd_datasets"])]
        data["citizen_producer"] = citizen_producer
        hover = _status_hover(store, cells, classes, official_producer, citizen_producer, view, unit)
        order = pal.STATUS_ORDER
        styles = {c: pal.STATUS_STYLES[c] for c in order}
        labels = {c: class_label(c, lang) for c in order}
        ds_ids = list(dict.fromkeys(official_dataset + _objects(data["cgd_datasets"].fillna(""))))
        legend_title = i18n.t("legend.status", lang)
        n_gap = int(data["class"].isin(voc.GAP_CLASSES).sum())
        n_filled = int((data["class"] == "filled").sum())
        n_app = int((data["class"] != "not_applicable").sum())
        if data.empty:
            alt = i18n.t("alt.empty", lang)
        elif n_app == 0:
            alt = i18n.t("alt.map.not_applicable", lang, group=grp, indicator=indicator_label(store, ind, lang))
        else:
            alt = i18n.t("alt.map.status", lang, n_areas=len(data), areas=areas_word, n_gap=n_gap, group=grp,
                         indicator=indicator_label(store, ind, lang), n_filled=n_filled)
            n_sup = int((data["class"] == "suppressed").sum())
            if n_sup:
                alt += " " + i18n.t("alt.map.suppressed", lang, n=n_sup)
    else:
        inds = _goal_indicators(store, view)
        scores = store.area_scores(level=view.level, as_of=view.as_of, window=view.window,
                                   indicators=inds, groups=[view.group])
        col = "gap_score" if metric == "gap" else "blind_spot_score"
        scope = i18n.t("describe.goal", lang, goal=view.goal) if view.goal else i18n.t("describe.all_indicators", lang)
        title = i18n.t(f"fig.map.{metric}.title", lang, group=grp, scope=scope)
        data = scores[["area_code", "area_name", "applicable", "n_current", "n_filled", "n_blind_spot", "gap_score",
                       "blind_spot_score"]].copy()
        order = ("score_0", "score_1", "score_2", "score_3", "score_4", "not_applicable")
        classes = _score_classes(data[col])
        data["class"] = classes.tolist()
        labels = {c: _score_label(c, lang) for c in order}
        data["class_label"] = [labels[c] for c in classes]
        metric_word = i18n.t(f"metric.{metric}.label", lang)
        n_bad = data["n_blind_spot"] if metric == "blind_spot" else data["applicable"] - data["n_current"]
        hover = _HoverLines(len(data))
        hover.slots = {"head": np.asarray(_esc_many(data["area_name"]), dtype=object),
                       "score": _format_many(data[col], "percent", lang),
                       "bad": _format_many(n_bad, "count", lang),
                       "app": _format_many(data["applicable"], "count", lang),
                       "filled": _format_many(data["n_filled"], "count", lang)}
        hover.add(["<b>" + _slot("head") + "</b>"], 0)
        hover.add([i18n.t("hover.score", lang, metric=metric_word, value=_slot("score"), n=_slot("bad"),
                          applicable=_slot("app"))], 0)
        hover.add([i18n.t("hover.filled_count", lang, n=_slot("filled"))], 0)
        styles = {f"score_{i}": pal.StatusStyle(f"score_{i}", c, "", "") for i, c in enumerate(pal.SCORE_RAMP)}
        styles["not_applicable"] = pal.STATUS_STYLES["not_applicable"]
        ds_ids = _datasets_in_scope(store, view, inds)
        legend_title = metric_word
        valid = data[col].dropna()
        if valid.empty:
            alt = i18n.t("alt.empty", lang)
        else:
            lo, hi = i18n.format_percent(valid.min(), lang), i18n.format_percent(valid.max(), lang)
            if lo == hi:  # "ranges from 100% to 100%" says nothing: every area is at the same share
                alt = i18n.t(f"alt.map.{metric}_same", lang, n_areas=len(valid), areas=areas_word, group=grp,
                             scope=scope, value=hi)
            else:
                top = data.loc[data[col].idxmax(), "area_name"]
                alt = i18n.t(f"alt.map.{metric}", lang, n_areas=len(valid), areas=areas_word, group=grp, scope=scope,
                             lo=lo, hi=hi, top=top, n_high=int((valid >= SCORE_BINS[-2]).sum()))

    traces: list[dict[str, Any]] = []
    codes_all = np.asarray(_objects(data["area_code"]), dtype=object)
    drawn = np.array([c in geom.names for c in codes_all], dtype=bool)
    classes = np.asarray(_objects(data["class"]), dtype=object)
    classes_present = [c for c in order if (classes == c).any()] if not data.empty else []
    template_of, templates = hover.groups()
    for c in classes_present:
        style = styles[c]
        rows_c = np.flatnonzero((classes == c) & drawn)
        for g in pd.unique(template_of[rows_c]):   # areas sharing a hover template, in data order
            rows = rows_c[template_of[rows_c] == g]
            codes = codes_all[rows].tolist()
            traces.append({
                "type": "choropleth", "geojson": geom.subset(codes), "locations": _SharedList(codes),
                "featureidkey": "id", "z": _SharedList([1] * len(codes)), "zmin": 0, "zmax": 1,
                "colorscale": [[0, style.color], [1, style.color]],
                "showscale": False, "name": labels[c], "legendgroup": c, "showlegend": False,
                "marker": {"line": {"color": _outline(style.color, th), "width": th.border_width}},
                **hover.trace_fields(templates[g], rows, lead=codes)})
        traces.append(_legend_marker_spec(labels[c], style.color, group=c, geo=True, line=th.border))
    # symbols on the areas: the class survives greyscale and colour-vision deficiency
    if metric == "status" and 0 < len(data) <= GLYPH_MAX_AREAS:
        at = np.array([c in geom.rep_lon for c in codes_all], dtype=bool)
        for c in classes_present:
            sub = codes_all[(classes == c) & at].tolist()
            if not sub or c == "not_applicable":
                continue
            fill = styles[c].color
            traces.append({
                "type": "scattergeo", "lon": [geom.rep_lon[a] for a in sub], "lat": [geom.rep_lat[a] for a in sub],
                "mode": "text", "text": [styles[c].symbol] * len(sub),
                "textfont": {"size": th.font_size, "color": pal.text_on(fill), "family": pal.FONT_FAMILY},
                "hoverinfo": "skip", "showlegend": False, "legendgroup": c, "name": labels[c]})
    # citizen place points (people-type points never reach this: the store refuses them)
    if view.indicator and metric == "status":
        pts = store.citizen_points(indicator=view.indicator, as_of=view.as_of)
        pts = pts[pts["period"] >= view.as_of - view.window]
        if len(pts) > MAX_POINTS:
            pts = pts.sample(MAX_POINTS, random_state=0).sort_index()
        traces += _point_traces(pts, view, _unit(store, view.indicator), ds_ids)
        if len(pts):
            log.debug("map shows %d citizen points", len(pts))
    geo = {"fitbounds": "locations", "visible": True, "resolution": 110, "projection": {"type": geom.projection},
           "showland": True, "landcolor": "#F2F2F2", "showcountries": True, "countrycolor": "#BDBDBD",
           "countrywidth": 0.5, "showcoastlines": False, "showocean": True, "oceancolor": "#FFFFFF",
           "showlakes": False, "showframe": False, "bgcolor": pal.BACKGROUND}
    layout = _merged(_layout_spec(view, title, subtitle, height=MAP_HEIGHT + 30 * len(classes_present),
                                  legend_title=legend_title),
                     {"geo": geo,
                      "legend": {"orientation": "h", "x": 1 if view.is_rtl else 0,
                                 "xanchor": "right" if view.is_rtl else "left", "y": 0, "yanchor": "top",
                                 "itemsizing": "constant", "title": {"side": "top"}},
                      "clickmode": "event+select", "dragmode": False, "uirevision": f"{view.level}"})
    # plain dicts, taken as they are: plotly's validation and deep copies cost more than the rest
    # of a national map (tests/test_figures.py checks that the spec validates)
    fig = go.Figure({"data": traces, "layout": layout}, _validate=False)
    if data.empty:
        fig.add_annotation(text=_esc(i18n.t("alt.empty", lang)), showarrow=False, x=0.5, y=0.5,
                           xref="paper", yref="paper")
    shown = data.drop(columns=["class"]).rename(columns={"class_label": "class"})
    return ChartResult(fig=fig, data=shown.reset_index(drop=True), title=title, subtitle=subtitle,
                       source=source_line(store, list(dict.fromkeys(ds_ids)), lang), alt_text=alt,
                       name="gap-map")


def _point_traces(pts: pd.DataFrame, view: View, unit: str, ds_ids: list[str]) -> list[dict[str, Any]]:
    """One trace of triangles per citizen dataset (its legend entry); adds the datasets to ``ds_ids``."""
    lang = view.lang
    out = []
    for ds_id, sub in pts.groupby("dataset_id", sort=True):
        name = i18n.t("legend.citizen_points", lang, title=_esc(str(sub["title"].iloc[0])))
        hover = _HoverLines(len(sub))
        hover.slots = {"value": _format_many(sub["value"], "value", lang, unit),
                       "year": _format_years(sub["period"], lang)}
        pairs = list(zip(_objects(sub["title"]), _objects(sub["producer"]), strict=True))
        kinds = list(dict.fromkeys(pairs))
        pick = {p: i for i, p in enumerate(kinds)}
        hover.add([i18n.t("hover.citizen_point", lang, title=_esc(t_), producer=_esc(p), value=_slot("value"),
                          year=_slot("year")) for t_, p in kinds], [pick[p] for p in pairs])
        template_of, templates = hover.groups()
        rows = np.arange(len(sub))
        if len(templates) == 1:   # one title and producer: a template, the values as customdata
            text = hover.trace_fields(templates[0], rows)
        else:
            text = {"hovertext": [hover.text(templates[g], [r])[0] for r, g in zip(rows, template_of, strict=True)],
                    "hovertemplate": "%{hovertext}<extra></extra>"}
        out.append({
            "type": "scattergeo", "lon": sub["lon"].to_numpy(dtype=np.float32),
            "lat": sub["lat"].to_numpy(dtype=np.float32), "mode": "markers", "name": name,
            "legendgroup": f"cgd-{ds_id}",
            # small and see-through: the points sit on the very areas they fill, whose colour and
            # symbol must still show (issue 15); the legend entry toggles them off entirely
            "marker": {"symbol": pal.CITIZEN_MARKER, "size": 6, "color": pal.CITIZEN_MARKER_COLOR,
                       "opacity": 0.7, "line": {"width": 0.5, "color": pal.TEXT}},
            **text, "showlegend": True,
            # on a slide the areas carry the message: the points wait behind their legend entry
            "visible": "legendonly" if view.present else True})
        ds_ids.append(str(ds_id))
    return out


def _score_classes(scores: pd.Series) -> np.ndarray:
    """:func:`_score_class` of every score, at once."""
    v = _floats(scores)
    out = np.full(len(v), "not_applicable", dtype=object)
    ok = ~np.isnan(v)
    bins = np.clip(np.searchsorted(np.asarray(SCORE_BINS[1:-1]), v[ok], side="right"), 0, len(SCORE_BINS) - 2)
    out[ok] = np.array([f"score_{i}" for i in range(len(SCORE_BINS) - 1)], dtype=object)[bins]
    return out


def _score_class(score: Any) -> str:
    """The class of one score (the definition; :func:`_score_classes` applies it to a column)."""
    if is_missing(score):
        return "not_applicable"
    for i in range(len(SCORE_BINS) - 1):
        if score < SCORE_BINS[i + 1] or i == len(SCORE_BINS) - 2:
            return f"score_{i}"
    return "not_applicable"


def _score_label(cls: str, lang: str) -> str:
    if cls == "not_applicable":
        return class_label("not_applicable", lang)
    i = int(cls.split("_")[1])
    return i18n.t("legend.score_bin", lang, lo=i18n.format_percent(SCORE_BINS[i], lang),
                  hi=i18n.format_percent(SCORE_BINS[i + 1], lang))


def _goal_indicators(store: StoreAPI, view: View) -> list[str] | None:
    if view.goal is None:
        return None
    return [c for c, g in catalogue(store)["indicators"].items() if g == view.goal]


def _datasets_in_scope(store: StoreAPI, view: View, inds: Sequence[str] | None) -> list[str]:
    """The datasets a score map rests on: the official ones with a figure for the group or the
    total it is hidden in (a score counts both), and the citizen ones of its cells."""
    groups = list(dict.fromkeys([view.group, "all"]))
    offd = _official_datasets(store, indicators=inds, groups=groups, level=view.level, as_of=view.as_of)
    cells = store.coverage(series=view.series_choice(), level=view.level, as_of=view.as_of, window=view.window,
                           indicators=inds, groups=[view.group])
    return list(offd.get("dataset_id", [])) + list(cells["cgd_datasets"].dropna())
