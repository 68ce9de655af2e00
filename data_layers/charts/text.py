"""The words and numbers of charts: source lines, cell text, numbers formatted many at once, hover templates, layout."""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
    is_missing,
)
from ..vocabulary import _truthy, cell_class
from .geometry import (
    _SharedList,
)

log = logging.getLogger("data_layers.figures")

# --- shared pieces --------------------------------------------------------------------------

def _flag(value: Any) -> bool:
    """A nullable flag (``cgd_disagrees``) read as True only when it is known and true."""
    return value is not None and not is_missing(value) and bool(value)


def _reason(value: Any) -> str:
    """``cgd_reason`` as text (empty for evidence that counts, missing or NaN alike)."""
    return "" if value is None or is_missing(value) else str(value)


def parts_text(store: StoreAPI, group: str, status: str, parts_status: Any, lang: str) -> str:
    """An intersection's cell in words: "Women: current; Rural people: current; Rural women: not
    measured" (``parts_status`` of the coverage cells); empty for a one-dimension group."""
    if parts_status is None or is_missing(parts_status) or not str(parts_status).strip():
        return ""
    bits = []
    for item in str(parts_status).split(";"):
        gid, _, st = item.strip().partition("=")
        if gid:
            bits.append(i18n.t("hover.part", lang, group=group_label(store, gid, lang), status=i18n.t(f"part.{st}", lang)))
    bits.append(i18n.t("hover.part", lang, group=group_label(store, group, lang), status=i18n.t(f"part.{status}", lang)))
    return "; ".join(bits)


def parent_gaps_text(store: StoreAPI, group: str, parent_gaps: Any, unit: str, lang: str) -> list[str]:
    """"Rural women minus women: -4.2" for each parent group with a comparable figure (``parent_gaps``)."""
    if parent_gaps is None or is_missing(parent_gaps) or not str(parent_gaps).strip():
        return []
    out = []
    for item in str(parent_gaps).split(";"):
        gid, _, diff = item.strip().partition("=")
        try:
            value = float(diff)
        except ValueError:
            continue
        gap = i18n.format_points(value, lang) if unit.lower() in ("percent", "%") else i18n.format_number(value, lang)
        out.append(i18n.t("hover.parent_gap", lang, group=group_label(store, group, lang),
                          parent=group_label(store, gid, lang), gap=gap))
    return out


def register_text(store: StoreAPI, row: Any, lang: str) -> str:
    """"Raised with PSA on 12 March 2022 · gap closed since raised: official figure for 2023", from
    the evidence register (plain text: escape it before it goes into markup); empty when never raised."""
    raised = row.get("raised_on")
    if raised is None or is_missing(raised) or not str(raised):
        return ""
    from .. import register

    entries = register.concerning(store.register(), indicator=row.get("indicator"), area_code=row.get("area_code"),
                                  group=row.get("group"))
    to = str(entries["presented_to"].iloc[0]) if len(entries) else ""
    text = i18n.t("hover.raised", lang, to=to, date=i18n.format_date(str(raised), lang))
    if _flag(row.get("closed_since_raised")):
        text += " · " + i18n.t("hover.closed", lang, year=i18n.format_year(row.get("official_latest_year"), lang))
    return text


def _cell_extra_lines(store: StoreAPI, row: Any, unit: str, lang: str) -> list[str]:
    """Hover lines about intersections and the register, already escaped for plotly's markup."""
    lines = []
    parts = parts_text(store, str(row.get("group")), str(row.get("status")), row.get("parts_status"), lang)
    if parts:
        lines.append(_esc(parts))
    lines += [_esc(x) for x in parent_gaps_text(store, str(row.get("group")), row.get("parent_gaps"), unit, lang)]
    raised = register_text(store, row, lang)
    if raised:
        lines.append(_esc(raised))
    return lines


def class_label(cls: str, lang: str) -> str:
    """``● Current official figure``: symbol and word, so no class relies on colour."""
    style = pal.status_style(cls)
    return f"{style.symbol} {i18n.t(style.label_key, lang)}"


def _outline(fill: str, th: pal.Theme) -> str:
    """Area outline that shows on its own fill: white on dark fills, dark on light ones."""
    if th.high_contrast:
        return th.border
    return pal.TEXT_ON_DARK if pal.text_on(fill) == pal.TEXT_ON_DARK else th.border


def _theme(view: View) -> pal.Theme:
    return pal.theme(contrast=view.contrast, present=view.present)


def _layout(fig: Any, view: View, title: str, subtitle: str, *, height: int | None = None,
            legend_title: str | None = None) -> None:
    fig.update_layout(_layout_spec(view, title, subtitle, height=height, legend_title=legend_title))


def _layout_spec(view: View, title: str, subtitle: str, *, height: int | None = None,
                 legend_title: str | None = None) -> dict[str, Any]:
    """The layout every chart shares (title, subtitle, fonts, legend, hover labels, separators),
    as a plain dict (:func:`_layout` applies it; a map passes it to the figure directly)."""
    th = _theme(view)
    rtl = view.is_rtl
    spec: dict[str, Any] = dict(
        title={"text": f"<b>{_esc(title)}</b>",
               "subtitle": {"text": _esc(subtitle), "font": {"size": th.font_size, "color": th.muted}},
               "x": 0.99 if rtl else 0.01, "xanchor": "right" if rtl else "left",
               "yref": "container", "y": 1.0, "yanchor": "top", "pad": {"t": 14},
               "font": {"size": th.title_size, "color": th.text}},
        font={"family": pal.FONT_FAMILY, "size": th.font_size, "color": th.text},
        paper_bgcolor=pal.BACKGROUND, plot_bgcolor=pal.BACKGROUND,
        margin={"l": 20, "r": 20, "t": 40 + th.title_size + 2 * th.font_size, "b": 40, "autoexpand": True},
        legend={"title": {"text": _esc(legend_title) if legend_title else ""},
                "font": {"size": th.font_size, "color": th.text}, "bgcolor": "rgba(255,255,255,0.9)",
                "bordercolor": th.grid, "borderwidth": 1},
        # the hover's text in the theme's full-contrast colour (plotly's default greyed it on white)
        hoverlabel={"font": {"size": th.font_size, "family": pal.FONT_FAMILY, "color": th.text},
                    "bgcolor": pal.BACKGROUND,
                    "bordercolor": th.text, "align": "right" if rtl else "left"},
        separators=_separators(view.lang),
    )
    if height:
        spec["height"] = height
    return spec


def _merged(base: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``more`` the way ``fig.update_layout`` does it (nested dicts merge)."""
    out = dict(base)
    for k, v in more.items():
        out[k] = _merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@functools.cache
def _separators(lang: str) -> str:
    """Plotly ``separators`` (decimal then thousands) for the locale of ``lang``."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    loc = i18n.babel_locale(lang)
    return get_decimal_symbol(loc) + get_group_symbol(loc)


def _shorten(text: str, width: int) -> str:
    """A long name cut with an ellipsis (the full name stays in the hover and the table)."""
    text = str(text)
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _wrap(text: str, width: int) -> str:
    """Escaped text broken onto lines of about ``width`` characters (``<br>``), for axis labels
    that must stay horizontal to be read on a projector."""
    import textwrap

    return "<br>".join(_esc(line) for line in textwrap.wrap(str(text), width=width, break_long_words=False)) or ""


def _esc(text: str) -> str:
    """Plotly renders a subset of HTML in text: escape what came from data."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _empty_figure(view: View, title: str, subtitle: str, message: str) -> Any:
    import plotly.graph_objects as go

    fig = go.Figure()
    _layout(fig, view, title, subtitle, height=420)
    fig.add_annotation(text=_esc(message), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": _theme(view).font_size + 2, "color": _theme(view).text})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _unit(store: StoreAPI, indicator: str | None) -> str:
    if not indicator:
        return ""
    row = catalogue(store)["indicator_rows"].get(indicator)
    return str(row.get("unit") or "") if row else ""


_DS_CACHE: dict[tuple[str, str], pd.DataFrame] = {}


def _dataset_table(store: StoreAPI) -> pd.DataFrame:
    """The dataset catalogue indexed by id, read once per store version (hover texts ask often)."""
    key = (str(store.data_dir), str(store.version))
    hit = _DS_CACHE.get(key)
    if hit is None:
        if len(_DS_CACHE) > 8:
            _DS_CACHE.clear()
        hit = _DS_CACHE[key] = store.datasets().set_index("dataset_id", drop=False)
    return hit


def source_line(store: StoreAPI, dataset_ids: Sequence[str], lang: str) -> str:
    """``Sources: <title> (<producer>); <title> (<producer>), citizen data`` for the datasets shown."""
    ids = sorted({d.strip() for ds in dataset_ids if ds and not is_missing(ds) for d in str(ds).split(",") if d.strip()})
    if not ids:
        return i18n.t("source.none", lang)
    ds = _dataset_table(store)
    parts = []
    for kind in ("official", "citizen"):
        for d in ids:
            if d not in ds.index or ds.at[d, "source_kind"] != kind:
                continue
            key = "source.citizen_item" if kind == "citizen" else "source.official_item"
            parts.append(i18n.t(key, lang, title=ds.at[d, "title"], producer=ds.at[d, "producer"]))
    return i18n.t("source.line", lang, sources="; ".join(parts))


def _producers(store: StoreAPI, dataset_ids: str | None) -> str:
    if dataset_ids is None or is_missing(dataset_ids):
        return ""
    ds = _dataset_table(store)
    out = [str(ds.at[d.strip(), "producer"]) for d in str(dataset_ids).split(",") if d.strip() in ds.index]
    return ", ".join(dict.fromkeys(out))


def _participation(store: StoreAPI, dataset_ids: str | None, lang: str) -> str:
    """The short participation record of the datasets behind a citizen figure (one per distinct record)."""
    if dataset_ids is None or is_missing(dataset_ids):
        return ""
    ds = _dataset_table(store)
    out = [quality.participation_text(ds.loc[d.strip()].to_dict(), lang)
           for d in str(dataset_ids).split(",") if d.strip() in ds.index]
    return " / ".join(dict.fromkeys(out))


def _producer_map(store: StoreAPI, dataset_ids: Any) -> dict[str, str]:
    """:func:`_producers` of each distinct dataset-id list in ``dataset_ids`` (a map shows
    thousands of cells but only a handful of distinct lists)."""
    return {d: _producers(store, d) for d in dict.fromkeys(_objects(dataset_ids)) if isinstance(d, str)}


def _official_datasets(store: StoreAPI, *, indicators: Sequence[str] | None, groups: Sequence[str] | None,
                       level: int, as_of: int, areas: Sequence[str] | None = None) -> pd.DataFrame:
    """Dataset of the newest official figure per indicator x area x group (the store's query)."""
    return store.newest_official_datasets(indicators=indicators, groups=groups, level=level, as_of=as_of, areas=areas)


# --- many values formatted at once --------------------------------------------------------------
# A national map formats tens of thousands of numbers. Babel takes ~40 us per number, but the text
# depends only on the sign, on whether the value is zero and on the magnitude rounded to the
# decimals shown: one Babel call per distinct rounded value gives exactly the same text.

TIE_EPS = 1e-6    # a scaled value this close to x.5 is a rounding tie: formatted on its own (exact)
KEY_MAX = 1e9     # below this a float64 holds the fraction of a scaled value to ~1e-7: keys are exact
_FMT_CACHE: dict[tuple[str, str, str, int], str] = {}
_FMT_CACHE_MAX = 100_000
_FORMATS: dict[str, tuple[int, Callable[[float, str, str], str]]] = {
    # kind: (decimals the text rounds to, after any scaling; formatter(value, lang, unit))
    "value": (1, lambda x, lang, unit: i18n.format_value(x, unit, lang)),
    "percent": (2, lambda x, lang, unit: i18n.format_percent(x, lang)),     # a share, shown as 0 decimals of %
    "count": (0, lambda x, lang, unit: i18n.format_number(x, lang, decimals=0)),
    "points": (1, lambda x, lang, unit: i18n.format_points(x, lang)),
    "count1": (1, lambda x, lang, unit: i18n.format_number(x, lang, decimals=1)),
}


def _floats(values: Any) -> np.ndarray:
    """``values`` as floats, NaN for every missing one (None, NaN, pandas NA)."""
    return pd.Series(values).astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _format_many(values: Any, kind: str, lang: str, unit: str = "") -> np.ndarray:
    """``[fmt(v) for v in values]`` for the formatter ``kind`` of :data:`_FORMATS`, with the
    same text, calling Babel once per distinct displayed value (cached across figures)."""
    decimals, fmt = _FORMATS[kind]
    scale = 10.0 ** decimals   # a percent unit shows v / 100 with 1 decimal of %: the same rounding of v
    v = _floats(values)
    out = np.empty(len(v), dtype=object)
    missing = np.isnan(v)
    if missing.any():
        out[missing] = fmt(float("nan"), lang, unit)
    a = np.abs(np.where(missing, 0.0, v)) * scale
    frac = a - np.floor(a)
    alone = ~missing & ((np.abs(frac - 0.5) < TIE_EPS) | (a > KEY_MAX))
    for i in np.flatnonzero(alone):
        out[i] = fmt(float(v[i]), lang, unit)
    keyed = np.flatnonzero(~missing & ~alone)
    if len(keyed):
        kv = v[keyed]
        key = np.rint(a[keyed]).astype(np.int64) * 4 + np.signbit(kv) * 2 + (kv == 0)
        uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        if len(_FMT_CACHE) > _FMT_CACHE_MAX:
            _FMT_CACHE.clear()
        texts = np.empty(len(uniq), dtype=object)
        for j, (k, i) in enumerate(zip(uniq.tolist(), first.tolist(), strict=True)):
            ck = (kind, lang, unit, k)
            text = _FMT_CACHE.get(ck)
            if text is None:
                text = _FMT_CACHE[ck] = fmt(float(kv[i]), lang, unit)
            texts[j] = text
        out[keyed] = texts[inverse]
    return out


def _format_years(values: Any, lang: str) -> np.ndarray:
    """``[i18n.format_year(y, lang) for y in values]``, once per distinct year."""
    v = _floats(values)
    out = np.empty(len(v), dtype=object)
    missing = np.isnan(v)
    if missing.any():
        out[missing] = i18n.format_year(None, lang)
    ok = np.flatnonzero(~missing)
    if len(ok):
        uniq, inverse = np.unique(np.trunc(v[ok]).astype(np.int64), return_inverse=True)
        out[ok] = np.array([i18n.format_year(int(y), lang) for y in uniq], dtype=object)[inverse]
    return out


def _objects(values: Any) -> list[Any]:
    """The values of a column as a list (pandas iterates Arrow-backed text one element at a time)."""
    if isinstance(values, pd.Series | pd.Index):
        return values.to_numpy(dtype=object).tolist()
    return list(values)


def _esc_many(values: Any) -> list[str]:
    """:func:`_esc` of each value (most names need no escaping: those are left as they are)."""
    text = [str(x) for x in _objects(values)]
    return [_esc(x) if ("&" in x or "<" in x or ">" in x) else x for x in text]


# --- hover text as templates ----------------------------------------------------------------------
# A map's hover texts repeat the same lines (status, producers, "no citizen data") for thousands of
# areas. Each trace gets one ``hovertemplate`` with the constant text and ``%{customdata[j]}`` for
# the values that differ by area; the browser assembles exactly the text a per-area string would
# hold, for a fraction of the payload. Areas are grouped by template (several traces per class,
# one legend group per class, so the legend still shows and hides a class as one).

_SLOT_RE = re.compile("\x00(\\w+)\x00")


def _slot(name: str) -> str:
    """Marks where a per-area value goes in a template while it is built."""
    return f"\x00{name}\x00"


@dataclass
class _HoverLines:
    """Hover text of many areas, line by line: line ``i`` of area ``r`` is
    ``choices[i][codes[i][r]]`` (no line where the code is -1), with slots filled from ``slots``."""

    n: int
    choices: list[list[str]] = field(default_factory=list)
    codes: list[np.ndarray] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)

    def add(self, choices: Sequence[str], codes: Any) -> None:
        self.choices.append(list(choices))
        self.codes.append(np.broadcast_to(np.asarray(codes, dtype=np.int64), (self.n,)))

    def groups(self) -> tuple[np.ndarray, list[str]]:
        """Template number of each area, and the templates (slot marks not yet replaced)."""
        if self.n == 0 or not self.codes:
            return np.zeros(self.n, dtype=np.int64), ([] if self.n == 0 else [""])
        radix = math.prod(len(ch) + 1 for ch in self.choices)
        if radix < 2**62:   # the line codes of an area as one number (mixed radix)
            combined = np.zeros(self.n, dtype=np.int64)
            for choices, codes in zip(self.choices, self.codes, strict=True):
                combined = combined * (len(choices) + 1) + (codes + 1)
            _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
        else:
            _, first, inverse = np.unique(np.stack(self.codes, axis=1), axis=0, return_index=True,
                                          return_inverse=True)
        templates = ["<br>".join(ch[int(c[r])] for ch, c in zip(self.choices, self.codes, strict=True) if c[r] >= 0)
                     for r in first.tolist()]
        return inverse.reshape(-1), templates

    def text(self, template: str, rows: Any) -> list[str]:
        """The finished texts of ``rows`` under ``template`` (what the browser will show)."""
        parts = _SLOT_RE.split(template)
        out = []
        for r in rows:
            out.append("".join(p if i % 2 == 0 else str(self.slots[p][r]) for i, p in enumerate(parts)))
        return out

    def trace_fields(self, template: str, rows: np.ndarray, lead: Sequence[Any] | None = None) -> dict[str, Any]:
        """``hovertemplate`` and ``customdata`` of a trace showing ``rows``: ``lead`` (the area
        codes, for clicks) in the first column when given, then the slot values."""
        if "%{" in _SLOT_RE.sub("", template):
            # constant text (a producer's name, say) that plotly would read as a placeholder:
            # ship the finished texts instead
            cols = [self.text(template, rows)]
            names, template = ["_text"], _slot("_text")
        else:
            names = list(dict.fromkeys(_SLOT_RE.findall(template)))
            cols = [np.asarray(self.slots[nm], dtype=object)[rows].tolist() for nm in names]
        first = 0 if lead is None else 1
        index = {nm: j + first for j, nm in enumerate(names)}
        hovertemplate = _SLOT_RE.sub(lambda m: "%{customdata[" + str(index[m.group(1)]) + "]}", template)
        columns = cols if lead is None else [list(lead), *cols]
        return {"hovertemplate": hovertemplate + "<extra></extra>",
                "customdata": _SharedList(list(r) for r in zip(*columns, strict=True))}


def _hover_cell(store: StoreAPI, row: dict[str, Any], view: View, *, unit: str, official_producer: str,
                head: str) -> str:
    """Hover text of one coverage cell: area/indicator, status word, official and citizen figures."""
    lang = view.lang
    k = int(getattr(store, "k_min", 5))
    cls = cell_class(row)
    lines = [f"<b>{_esc(head)}</b>", i18n.t("hover.status", lang, status=class_label(cls, lang))]
    if row["status"] == "not_applicable":
        return "<br>".join(lines)
    extra = _cell_extra_lines(store, row, unit, lang)
    year = row.get("official_latest_year")
    if is_missing(year):
        total_year = row.get("total_latest_year")
        if is_missing(total_year):
            lines.append(i18n.t("hover.official_none", lang))
        else:
            lines.append(i18n.t("hover.official_total_only", lang,
                                value=i18n.format_value(row.get("total_value"), unit, lang),
                                year=i18n.format_year(total_year, lang)))
    elif bool(row.get("official_suppressed")):
        lines.append(i18n.t("hover.official_suppressed", lang, year=i18n.format_year(year, lang)))
    else:
        lines.append(i18n.t("hover.official", lang, value=i18n.format_value(row.get("official_value"), unit, lang),
                            year=i18n.format_year(year, lang)))
    if official_producer and not (is_missing(year) and is_missing(row.get("total_latest_year"))):
        lines.append(i18n.t("hover.official_producer", lang, producer=_esc(official_producer)))
    if row.get("cgd_status", "none") == "none":
        lines.append(i18n.t("hover.citizen_none", lang))
    else:
        cyear = i18n.format_year(row.get("cgd_latest_year"), lang)
        n = i18n.format_number(row.get("cgd_n"), lang, decimals=0)
        reason, detail = _reason(row.get("cgd_reason")), _reason(row.get("cgd_reason_detail"))
        if bool(row.get("cgd_suppressed")):
            key = {"source": "hover.citizen_suppressed_source",
                   "complementary": "hover.citizen_suppressed_complementary"}.get(detail, "hover.citizen_suppressed")
            lines.append(i18n.t(key, lang, year=cyear, n=n, k=k))
        else:
            lines.append(i18n.t("hover.citizen", lang, value=i18n.format_value(row.get("cgd_value"), unit, lang),
                                year=cyear, n=n))
        if row.get("cgd_status") == "stale":
            lines.append(i18n.t("hover.citizen_stale", lang))
        elif reason == "not_usable":
            lines.append(i18n.t("hover.citizen_not_counted", lang,
                                reason=_esc(quality.verdict_reason_text(detail, lang))))
        producers = _producers(store, row.get("cgd_datasets"))
        if producers:
            lines.append(i18n.t("hover.citizen_producer", lang, producer=_esc(producers)))
        participation = _participation(store, row.get("cgd_datasets"), lang)
        if participation:
            lines.append(i18n.t("hover.participation", lang, text=_esc(participation)))
        disagrees = row.get("cgd_disagrees")
        if disagrees is not None and not is_missing(disagrees):
            lines.append(i18n.t("hover.cgd_disagree" if bool(disagrees) else "hover.cgd_agree", lang,
                                diff=i18n.format_points(row.get("cgd_diff"), lang),
                                margin=i18n.format_number(row.get("cgd_margin"), lang)))
    gap = row.get("outcome_gap")
    raw_gap = row.get("group_minus_total")
    if not is_missing(gap):
        lines.append(i18n.t("hover.outcome_gap", lang, gap=i18n.format_points(gap, lang),
                            year=i18n.format_year(row.get("outcome_gap_year"), lang)))
    elif raw_gap is not None and not is_missing(raw_gap):  # polarity unknown: a difference, never better or worse
        lines.append(i18n.t("hover.group_minus_total", lang, gap=i18n.format_points(raw_gap, lang),
                            year=i18n.format_year(row.get("outcome_gap_year"), lang)))
    return "<br>".join(lines + extra)


def _legend_marker_spec(name: str, color: str, *, symbol: str = "square", group: str = "", line: str | None = None,
                        geo: bool = False) -> dict[str, Any]:
    """An empty trace (as a plain dict) whose only job is a legend entry (word + coloured square, outlined)."""
    marker = {"symbol": symbol, "size": 16, "color": color,
              "line": {"width": 1.5, "color": line or pal.BORDER}}
    xy: dict[str, Any] = {"lon": [None], "lat": [None]} if geo else {"x": [None], "y": [None]}
    return {"type": "scattergeo" if geo else "scatter", **xy, "mode": "markers", "marker": marker, "name": name,
            "legendgroup": group or name, "showlegend": True, "hoverinfo": "skip"}


def _legend_marker(name: str, color: str, *, symbol: str = "square", group: str = "", line: str | None = None,
                   geo: bool = False) -> Any:
    """:func:`_legend_marker_spec` as a plotly trace object."""
    import plotly.graph_objects as go

    spec = _legend_marker_spec(name, color, symbol=symbol, group=group, line=line, geo=geo)
    return (go.Scattergeo if spec.pop("type") == "scattergeo" else go.Scatter)(**spec)


def _status_hover(store: StoreAPI, cells: pd.DataFrame, classes: np.ndarray, official_producer: Sequence[str],
                  citizen_producer: Sequence[str], view: View, unit: str) -> _HoverLines:
    """The hover text of :func:`_hover_cell` for every cell of a map, as templates and values."""
    lang = view.lang
    n = len(cells)
    k = int(getattr(store, "k_min", 5))
    h = _HoverLines(n)
    status = cells["status"].to_numpy(dtype=object)
    na = status == "not_applicable"
    h.slots = {
        "head": np.asarray(_esc_many(cells["area_name"]), dtype=object),
        "ov": _format_many(cells["official_value"], "value", lang, unit),
        "oy": _format_years(cells["official_latest_year"], lang),
        "tv": _format_many(cells["total_value"], "value", lang, unit),
        "ty": _format_years(cells["total_latest_year"], lang),
        "cv": _format_many(cells["cgd_value"], "value", lang, unit),
        "cy": _format_years(cells["cgd_latest_year"], lang),
        "n": _format_many(cells["cgd_n"], "count", lang),
        "gap": _format_many(cells["outcome_gap"], "points", lang),
        "gy": _format_years(cells["outcome_gap_year"], lang),
        "raw": _format_many(cells["group_minus_total"] if "group_minus_total" in cells else cells["outcome_gap"],
                            "points", lang),
    }

    def when(codes: Any, shown: np.ndarray) -> np.ndarray:
        return np.where(shown, codes, -1)

    h.add(["<b>" + _slot("head") + "</b>"], 0)
    order = list(pal.STATUS_ORDER)
    index = {c: i for i, c in enumerate(order)}
    h.add([i18n.t("hover.status", lang, status=class_label(c, lang)) for c in order], [index[c] for c in classes])
    no_year = cells["official_latest_year"].isna().to_numpy()
    no_total = cells["total_latest_year"].isna().to_numpy()
    sup = _truthy(cells["official_suppressed"])
    h.add([i18n.t("hover.official_none", lang),
           i18n.t("hover.official_total_only", lang, value=_slot("tv"), year=_slot("ty")),
           i18n.t("hover.official_suppressed", lang, year=_slot("oy")),
           i18n.t("hover.official", lang, value=_slot("ov"), year=_slot("oy"))],
          when(np.select([no_year & no_total, no_year, sup], [0, 1, 2], 3), ~na))
    names = sorted({p for p in official_producer if p})
    pick = {p: i for i, p in enumerate(names)}
    h.add([i18n.t("hover.official_producer", lang, producer=_esc(p)) for p in names],
          when([pick.get(p, -1) for p in official_producer], ~na & ~(no_year & no_total)))
    cgd = cells["cgd_status"].to_numpy(dtype=object)
    none = cgd == "none"
    reason = np.array([_reason(x) for x in cells["cgd_reason"]], dtype=object)
    detail = np.array([_reason(x) for x in cells["cgd_reason_detail"]], dtype=object)
    sup = _truthy(cells["cgd_suppressed"])
    h.add([i18n.t("hover.citizen_none", lang),
           i18n.t("hover.citizen_suppressed", lang, year=_slot("cy"), n=_slot("n"), k=k),
           i18n.t("hover.citizen_suppressed_source", lang, year=_slot("cy"), n=_slot("n")),
           i18n.t("hover.citizen_suppressed_complementary", lang, year=_slot("cy"), n=_slot("n")),
           i18n.t("hover.citizen", lang, value=_slot("cv"), year=_slot("cy"), n=_slot("n"))],
          when(np.select([none, sup & (detail == "source"), sup & (detail == "complementary"), sup],
                         [0, 2, 3, 1], 4), ~na))
    h.add([i18n.t("hover.citizen_stale", lang)], when(0, ~na & ~none & (cgd == "stale")))
    why = sorted({d for r, d in zip(reason, detail, strict=True) if r == "not_usable"})
    pick = {d: i for i, d in enumerate(why)}
    h.add([i18n.t("hover.citizen_not_counted", lang, reason=_esc(quality.verdict_reason_text(d, lang))) for d in why],
          when([pick.get(d, -1) if r == "not_usable" else -1 for r, d in zip(reason, detail, strict=True)],
               ~na & ~none & (cgd != "stale")))
    names = sorted({p for p in citizen_producer if p})
    pick = {p: i for i, p in enumerate(names)}
    h.add([i18n.t("hover.citizen_producer", lang, producer=_esc(p)) for p in names],
          when([pick.get(p, -1) for p in citizen_producer], ~na & ~none))
    texts = {d: _participation(store, d, lang) for d in dict.fromkeys(_objects(cells["cgd_datasets"]))
             if isinstance(d, str)}
    names = sorted({x for x in texts.values() if x})
    pick = {p: i for i, p in enumerate(names)}
    h.add([i18n.t("hover.participation", lang, text=_esc(p)) for p in names],
          when([pick.get(texts.get(d, ""), -1) if isinstance(d, str) else -1 for d in _objects(cells["cgd_datasets"])],
               ~na & ~none))
    h.slots["diff"] = _format_many(cells["cgd_diff"], "points", lang)
    h.slots["margin"] = _format_many(cells["cgd_margin"], "count1", lang)
    dis = cells["cgd_disagrees"]
    known = dis.notna().to_numpy()
    flag = np.array([bool(x) if k else False for x, k in zip(dis, known, strict=True)], dtype=bool)
    h.add([i18n.t("hover.cgd_agree", lang, diff=_slot("diff"), margin=_slot("margin")),
           i18n.t("hover.cgd_disagree", lang, diff=_slot("diff"), margin=_slot("margin"))],
          when(np.where(flag, 1, 0), ~na & known))
    signed = cells["outcome_gap"].notna().to_numpy()
    unsigned = ~signed & (cells["group_minus_total"].notna().to_numpy() if "group_minus_total" in cells else False)
    h.add([i18n.t("hover.outcome_gap", lang, gap=_slot("gap"), year=_slot("gy")),
           i18n.t("hover.group_minus_total", lang, gap=_slot("raw"), year=_slot("gy"))],
          when(np.where(signed, 0, 1), ~na & (signed | unsigned)))
    if {"parts_status", "raised_on"} <= set(cells.columns):  # intersections and the evidence register
        extra = ["<br>".join(_cell_extra_lines(store, r, unit, lang)) if not skip else ""
                 for r, skip in zip(cells.to_dict("records"), na, strict=True)]
        texts = sorted({x for x in extra if x})
        pick = {x: i for i, x in enumerate(texts)}
        h.add(texts, [pick.get(x, -1) for x in extra])
    return h
