"""The evidence brief: one or two A4 or Letter pages about one area (or one indicator).

What a CSO takes into a meeting: headline numbers, the map with the area highlighted, the
coverage matrix, the group comparison, the quality cards of the citizen datasets used, the
sources and a short method note. Every page carries a running header and footer that say what it
shows, for whom, from which data and as of when, so that a single page torn out of a pack still
stands on its own.

How: an HTML document (inline SVG map from the export browser, HTML tables for everything else
so that the PDF's text layer is complete) printed to PDF by headless Chromium through Playwright
(:mod:`.printing`), which blocks and records every request that is not local, so nothing leaves
the machine.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from .. import palette, quality
from ..i18n import (
    direction,
    format_date,
    format_number,
    format_percent,
    format_points,
    format_value,
    format_year,
    normalise_lang,
    t,
)
from ..interface import StoreAPI
from .brief_data import (  # noqa: F401  (moved there; re-exported for callers of the old names)
    BriefData,
    Headline,
    _e,
    _group_label,
    _indicator_label,
    _intersections_with_evidence,
    _labels,
    _level_word,
    _official_datasets,
    _register_entries,
    _split_ids,
    cell_class,
    cell_glyph,
    collect,
    headline,
)
from .printing import NO_LIGATURES_CSS, PdfPrinter, shared_printer

log = logging.getLogger(__name__)

MARGINS = {"top": "17mm", "bottom": "17mm", "left": "13mm", "right": "13mm"}
MAX_PAGES = 2
"""Issue 6: a brief is one or two pages; denser layouts are tried until it fits."""
DENSITIES = (0, 1, 2, 3)  # 0 roomy, 1 compact, 2 tight (smaller map, fewer cards and sources), 3 tightest
MAX_CARDS = (6, 6, 4, 2)  # citizen-dataset quality cards shown per density
MAX_DISAGREEMENTS = (6, 4, 3, 2)  # official-vs-citizen disagreements listed per density (largest first)
MAX_MATRIX_ROWS = (24, 24, 18, 16)  # rows of an indicator brief's area x group matrix


# --- layout --------------------------------------------------------------------------------------

CSS = """
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
%(no_ligatures)s
body { font-family: "DejaVu Sans", "Liberation Sans", sans-serif; color: %(text)s; font-size: 8.6pt;
       line-height: 1.3; margin: 0; }
h1 { font-size: 16pt; margin: 0 0 1mm 0; }
h2 { font-size: 10.5pt; margin: 3mm 0 1.2mm 0; border-bottom: 0.4pt solid %(border)s; padding-bottom: 0.6mm; }
p { margin: 0.8mm 0; }
.muted { color: %(muted)s; }
.lead { font-size: 9pt; }
.cards { display: grid; grid-template-columns: 1fr 1fr; gap: 2mm; margin: 2mm 0; }
.num { border: 0.6pt solid %(border)s; border-radius: 1.5mm; padding: 1.4mm 2mm; }
.num b { display: block; font-size: 15pt; line-height: 1.1; }
.num .glyph { font-size: 11pt; }
.row { display: flex; gap: 4mm; align-items: flex-start; }
.intro { flex: 1; min-width: 0; }
.map { flex: 0 0 37%%; }
.map svg { width: 100%%; height: auto; display: block; }
table { border-collapse: collapse; width: 100%%; }
th, td { padding: 0.45mm 0.9mm; vertical-align: top; text-align: start; }
table.grid th, table.grid td { border-bottom: 0.3pt solid %(grid)s; }
table.matrix { table-layout: fixed; font-size: 7.2pt; }
table.matrix th.g { font-weight: normal; font-size: 6pt; text-align: center; vertical-align: bottom;
                    line-height: 1.1; overflow-wrap: normal; hyphens: manual; padding: 0.3mm 0.1mm; }
table.matrix td { padding-top: 0.15mm; padding-bottom: 0.15mm; line-height: 1.12; }
table.matrix td.c { text-align: center; border: 0.4pt solid #FFFFFF; font-size: 7.6pt; }
table.matrix td.r { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
table.matrix col.rowhead { width: 25%%; }
table.groups { table-layout: fixed; }
table.groups td { padding-top: 0.25mm; padding-bottom: 0.25mm; }
table.groups col.g { width: 27%%; }
table.groups col.b { width: 22%%; }
table.groups col.n { width: 14%%; }
td.n { white-space: nowrap; }
.legend { display: flex; flex-wrap: wrap; gap: 1mm 3mm; margin-top: 1mm; font-size: 7.2pt; }
.sw { display: inline-block; min-width: 4.2mm; text-align: center; border: 0.4pt solid %(border)s;
      margin-inline-end: 0.8mm; }
.bar { display: flex; height: 3.2mm; border: 0.4pt solid %(border)s; min-width: 25mm; }
.bar span { display: block; height: 100%%; }
.qcards { display: grid; grid-template-columns: 1fr 1fr; gap: 2mm; }
.q { border: 0.6pt solid %(border)s; border-inline-start: 2mm solid %(citizen)s; padding: 1.4mm 2mm;
     break-inside: avoid; font-size: 7.6pt; }
.q b.t { font-size: 8.4pt; }
.tag { display: inline-block; border: 0.5pt solid %(text)s; border-radius: 1mm; padding: 0 1mm; font-size: 6.8pt; }
ul.src { margin: 0; padding-inline-start: 4mm; font-size: 7.6pt; }
ul.src li { margin: 0.3mm 0; }
section { break-inside: avoid; }
.d1 body, body.d1 { font-size: 8pt; }
body.d1 h2 { margin-top: 2.5mm; }
body.d2 { font-size: 7.6pt; }
body.d2 h2 { margin-top: 2mm; font-size: 9.5pt; }
body.d2 .map { flex-basis: 32%%; }
body.d2 table.matrix { font-size: 6.8pt; }
body.d3 { font-size: 7.2pt; }
body.d3 h2 { margin-top: 1.5mm; font-size: 9pt; }
body.d3 .map { flex-basis: 30%%; }
body.d3 table.matrix { font-size: 6.4pt; }
"""


def _css() -> str:
    return CSS % {"text": palette.TEXT, "muted": palette.TEXT_MUTED, "border": palette.BORDER,
                  "grid": palette.GRID, "citizen": palette.CITIZEN_MARKER_COLOR,
                  "no_ligatures": NO_LIGATURES_CSS}


def _swatch(key: str, lang: str, *, with_word: bool = True) -> str:
    st = palette.status_style(key)
    fg = palette.text_on(st.color)
    word = f" {_e(t(st.label_key, lang))}" if with_word else ""
    return f'<span><span class="sw" style="background:{st.color};color:{fg}">{_e(st.symbol)}</span>{word}</span>'


def _headline_html(d: BriefData) -> str:
    from ..views import level_label

    h = headline(d.cells)
    lang = d.lang
    boxes = [
        ("covered", t("brief.num.covered", lang), h.covered,
         t("brief.num.of_cells", lang, share=format_percent(h.covered_share, lang), total=h.applicable)),
        ("filled", t("brief.num.filled", lang), h.filled,
         t("brief.num.of_gaps", lang, share=format_percent(h.filled_of_gap, lang), gaps=h.gap)),
        ("blind_spot", t("brief.num.blind", lang), h.blind_spot,
         t("brief.num.of_cells", lang, share=format_percent(h.blind_share, lang), total=h.applicable)),
    ]
    out = ['<div class="cards">']
    for key, label, n, note in boxes:
        st = palette.status_style(key)
        out.append(f'<div class="num"><span class="glyph" style="color:{st.color if key != "covered" else palette.TEXT}">'
                   f'{_e(st.symbol)}</span> {_e(label)}<b>{_e(format_number(n, lang, decimals=0))}</b>'
                   f'<span class="muted">{_e(note)}</span></div>')
    if d.rank is not None:
        rank, n_areas = d.rank
        out.append(f'<div class="num">{_e(t("brief.num.rank", lang))}<b>{_e(format_number(rank, lang, decimals=0))}'
                   f' / {_e(format_number(n_areas, lang, decimals=0))}</b><span class="muted">'
                   f'{_e(t("brief.num.rank_note", lang, areas=level_label(d.level, lang)))}</span></div>')
    out.append("</div>")
    return "".join(out)


def _findings(d: BriefData) -> str:
    """Two or three plain sentences a reader can quote (also the brief's text alternative)."""
    lang = d.lang
    h = headline(d.cells)
    app = d.cells[d.cells["headline"] != "not_applicable"]
    sentences = [t("brief.finding.summary", lang, subject=d.subject, blind=h.blind_spot, total=h.applicable,
                   covered=h.covered, filled=h.filled)]
    if not app.empty:
        by_group = app.groupby("group")["headline"].apply(lambda s: int((s == "blind_spot").sum()))
        sizes = app.groupby("group").size()
        worst = by_group.sort_values(ascending=False, kind="stable")
        worst = worst[worst > 0].head(3)
        if len(worst):
            names = ", ".join(f"{_group_label(d.groups, g, lang)} ({n}/{int(sizes[g])})" for g, n in worst.items())
            sentences.append(t("brief.finding.worst_groups", lang, groups=names))
        gaps = app.dropna(subset=["outcome_gap"])
        gaps = gaps[gaps["group"] != "all"]
        if not gaps.empty:
            top = gaps.sort_values("outcome_gap", ascending=False, kind="stable").iloc[0]
            if top["outcome_gap"] > 0:
                who = _group_label(d.groups, top["group"], lang)
                what = _indicator_label(d.indicators, top["indicator"], lang)
                where = top["area_name"] if d.kind == "indicator" else d.subject
                sentences.append(t("brief.finding.outcome_gap", lang, group=who, indicator=what, area=where,
                                   gap=format_points(top["outcome_gap"], lang),
                                   year=format_year(top["outcome_gap_year"], lang)))
    return "<p>" + " ".join(_e(s) for s in sentences) + "</p>"


def _matrix_html(d: BriefData, density: int) -> str:
    lang = d.lang
    cells = d.cells
    gids = [g for g in d.groups["group_id"] if g in set(cells["group"])]
    if d.kind == "area":
        rows = [c for c in d.indicators["code"] if c in set(cells["indicator"])]
        row_key, label = "indicator", (lambda c: f"{c} {_indicator_label(d.indicators, c, lang)}")
        note = ""
    else:
        order = d.scores.sort_values(["blind_spot_score", "area_code"], ascending=[False, True])["area_code"]
        rows = [c for c in order if c in set(cells["area_code"])]
        names = dict(zip(cells["area_code"], cells["area_name"], strict=False))
        row_key, label = "area_code", (lambda c: f"{names.get(c, c)}")
        limit = MAX_MATRIX_ROWS[density]
        note = ""
        if len(rows) > limit:
            note = t("brief.matrix.truncated", lang, shown=limit, total=len(rows))
            rows = rows[:limit]
    lookup = {(r[row_key], r["group"]): r for r in cells.to_dict("records")}
    out = ['<table class="matrix"><colgroup><col class="rowhead">', "<col>" * len(gids), "</colgroup><thead><tr><th></th>"]
    out += [f'<th class="g">{_e(_group_label(d.groups, g, lang))}</th>' for g in gids]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append(f'<tr><td class="r" title="{_e(label(r))}">{_e(label(r))}</td>')
        for g in gids:
            rec = lookup.get((r, g))
            if rec is None:
                out.append('<td class="c"></td>')
                continue
            st = palette.STATUS_STYLES[cell_class(rec)]
            glyph = cell_glyph(rec)
            out.append(f'<td class="c" style="background:{st.color};color:{palette.text_on(st.color)}">{_e(glyph)}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    legend = "".join(_swatch(k, lang) for k in palette.STATUS_ORDER)
    out.append(f'<div class="legend">{legend}<span>{_e(palette.CITIZEN_SYMBOL)} {_e(t("brief.matrix.citizen_mark", lang))}'
               "</span></div>")
    if note:
        out.append(f'<p class="muted">{_e(note)}</p>')
    return "".join(out)


def _groups_html(d: BriefData) -> str:
    """Per group: covered / filled / blind-spot cells as a patterned bar, and the largest outcome gap."""
    lang = d.lang
    app = d.cells[d.cells["headline"] != "not_applicable"]
    out = ['<table class="grid groups"><colgroup><col class="g"><col class="b"><col class="n"><col></colgroup>'
           f'<thead><tr><th>{_e(t("brief.groups.group", lang))}</th><th>{_e(t("brief.groups.bar", lang))}</th>'
           f'<th>{_e(t("brief.groups.cells", lang))}</th><th>{_e(t("brief.groups.gap", lang))}</th></tr></thead><tbody>']
    for gid in d.groups["group_id"]:
        sub = app[app["group"] == gid]
        if sub.empty:
            continue
        counts = sub["headline"].value_counts()
        n = len(sub)
        bar = []
        for key in ("covered", "filled", "blind_spot"):
            k = int(counts.get(key, 0))
            if k:
                st = palette.status_style(key)
                bar.append(f'<span style="width:{100 * k / n:.1f}%;background:{st.color};'
                           f'{_pattern_css(st.pattern)}"></span>')
        nums = " ".join(f"{palette.status_style(k).symbol}{int(counts.get(k, 0))}" for k in ("covered", "filled", "blind_spot"))
        gaps = sub.dropna(subset=["outcome_gap"])
        gap_txt = "–"
        if gid != "all" and not gaps.empty:
            top = gaps.sort_values("outcome_gap", ascending=False, kind="stable").iloc[0]
            who = _indicator_label(d.indicators, top["indicator"], lang) if d.kind == "area" else top["area_name"]
            gap_txt = f"{format_points(top['outcome_gap'], lang)} ({who}, {format_year(top['outcome_gap_year'], lang)})"
        out.append(f'<tr><td>{_e(_group_label(d.groups, gid, lang))}</td><td><div class="bar">{"".join(bar)}</div></td>'
                   f'<td class="n">{_e(nums)}</td><td class="gap">{_e(gap_txt)}</td></tr>')
    out.append("</tbody></table>")
    out.append('<div class="legend">' + "".join(_swatch(k, lang) for k in ("covered", "filled", "blind_spot"))
               + f'<span>{_e(t("brief.groups.gap_note", lang))}</span></div>')
    if d.unmeasured:
        labels = ", ".join(d.unmeasured)
        out.append(f'<p class="muted">{_e(t("brief.groups.unmeasured", lang, groups=labels))}</p>')
    return "".join(out)


def _pattern_css(pattern: str) -> str:
    """A CSS stripe pattern for the palette's pattern shapes, so that bars survive greyscale."""
    if pattern in ("x", "/", "\\"):
        angle = {"x": 45, "/": 45, "\\": -45}[pattern]
        return (f"background-image:repeating-linear-gradient({angle}deg, rgba(255,255,255,.55) 0 0.5mm, "
                "transparent 0.5mm 1.4mm);")
    if pattern == ".":
        return "background-image:radial-gradient(rgba(0,0,0,.45) 28%, transparent 32%);background-size:1.2mm 1.2mm;"
    return ""


def _dataset_rows(d: BriefData, ids: Sequence[str]) -> list[dict[str, Any]]:
    df = d.datasets
    return [df[df["dataset_id"] == i].iloc[0].to_dict() for i in ids if (df["dataset_id"] == i).any()]


def _period(row: dict[str, Any]) -> str:
    a, b = str(row.get("collection_start") or "")[:10], str(row.get("collection_end") or "")[:10]
    return f"{a} – {b}" if a and b and a != b else (a or b)


def _cards_html(d: BriefData, density: int) -> str:
    from ..schema import GATEWAYS, QUALITY_SCORES

    lang = d.lang
    ids = list(d.citizen_ids) + list(d.citizen_below)
    if not ids:
        return f'<p class="muted">{_e(t("brief.cards.none", lang))}</p>'
    limit = MAX_CARDS[density]
    out = ['<div class="qcards">']
    for row in _dataset_rows(d, ids[:limit]):
        verdict = str(row.get("verdict") or "not assessed")
        mean = row.get("quality_mean")
        scores = " ".join(
            f"{_e(t('brief.score.' + s.removeprefix('score_'), lang))} "
            f"{'–' if pd.isna(row.get(s)) else int(row.get(s))}" for s in QUALITY_SCORES)
        gates = " ".join(
            f"{_e(t('brief.gateway.' + g.removeprefix('gateway_'), lang))} {_gate(row.get(g))}" for g in GATEWAYS)
        where = t("brief.cards.below", lang) if row["dataset_id"] in d.citizen_below else ""
        mean_txt = "" if mean is None or pd.isna(mean) else \
            " · " + _e(t("brief.cards.mean", lang, mean=format_number(mean, lang, decimals=1)))
        why = quality.verdict_reason_text(str(row.get("verdict_reason") or ""), lang)
        if why:
            mean_txt += "<br>" + _e(t("brief.cards.why_not", lang, reason=why))
        mean_txt += ("<br>" + _e(t("brief.cards.participation", lang)) + ": "
                     + _e(quality.participation_text(row, lang)))
        out.append(
            f'<div class="q"><span class="tag">{_e(palette.CITIZEN_SYMBOL)} {_e(t("export.citizen_data", lang))}</span> '
            f'<b class="t">{_e(row.get("title"))}</b><br>'
            f'{_e(row.get("producer"))} · {_e(row.get("licence"))} · {_e(_period(row))}'
            f'{(" · " + _e(where)) if where else ""}<br>'
            f'<b>{_e(t("brief.verdict." + verdict.replace(" ", "_"), lang))}</b>'
            f'{mean_txt}'
            f'<br><span class="muted">{_e(t("brief.cards.gateways", lang))}: {gates}<br>'
            f'{_e(t("brief.cards.scores", lang))}: {scores}</span></div>')
    out.append("</div>")
    if len(ids) > limit:
        out.append(f'<p class="muted">{_e(t("brief.more", lang, n=len(ids) - limit))}</p>')
    return "".join(out)


def _disagreements_html(d: BriefData, density: int) -> str:
    """Cells where citizen and official figures differ beyond their combined margin (``cgd_disagrees``
    of the coverage table), largest difference first; empty when there is none."""
    if "cgd_disagrees" not in d.cells:
        return ""
    lang = d.lang
    flags = d.cells["cgd_disagrees"]
    dis = d.cells[flags.notna() & flags.fillna(False).astype(bool)].copy()
    if dis.empty:
        return ""
    dis["_abs"] = dis["cgd_diff"].astype(float).abs()
    dis = dis.sort_values(["_abs", "area_code", "group"], ascending=[False, True, True], kind="stable")
    units = dict(zip(d.indicators["code"], d.indicators["unit"], strict=False)) if "unit" in d.indicators else {}
    items = []
    for r in dis.head(MAX_DISAGREEMENTS[density]).to_dict("records"):
        unit = str(units.get(r["indicator"], "") or "")
        area = r["area_name"] if d.kind == "indicator" else _indicator_label(d.indicators, r["indicator"], lang)
        items.append("<li>" + _e(t("brief.disagree.row", lang, area=area, group=_group_label(d.groups, r["group"], lang),
                                   official=format_value(r["official_value"], unit, lang),
                                   year=format_year(r["official_latest_year"], lang),
                                   citizen=format_value(r["cgd_value"], unit, lang),
                                   cyear=format_year(r["cgd_latest_year"], lang),
                                   n=format_number(r["cgd_n"], lang, decimals=0),
                                   diff=format_points(r["cgd_diff"], lang),
                                   margin=format_number(r["cgd_margin"], lang))) + "</li>")
    more = len(dis) - len(items)
    tail = f'<p class="muted">{_e(t("brief.more", lang, n=more))}</p>' if more > 0 else ""
    return (f'<section><h2>{_e(t("brief.disagree.heading", lang))}</h2><ul>{"".join(items)}</ul>{tail}</section>')


MAX_REGISTER = (5, 4, 3, 2)  # evidence register entries listed per density (newest first)


def _register_html(d: BriefData, density: int) -> str:
    """Where this evidence has been raised (the evidence register), and the gaps closed since; empty
    when the register says nothing about the brief's cells. Every text is escaped: shown as text."""
    lang = d.lang
    items = []
    for e in d.register.head(MAX_REGISTER[density]).to_dict("records") if not d.register.empty else []:
        what = [_indicator_label(d.indicators, e["indicator"], lang) if e["indicator"] else "",
                _area_name(d, e["area_code"]), _group_label(d.groups, e["group_id"], lang) if e["group_id"] else ""]
        key = "brief.register.row" if density < 2 else "brief.register.row_short"  # tight: who, when, what
        items.append("<li>" + _e(t(key, lang, date=format_date(e["presented_on"], lang),
                                   place=e["place"] or "–", to=e["presented_to"], by=e["presented_by"] or "–",
                                   what=", ".join(w for w in what if w), response=e["official_response"] or "–",
                                   commitments=e["commitments"] or "–",
                                   follow_up=format_date(e["follow_up_on"], lang) if e["follow_up_on"] else "–"))
                     + "</li>")
    closed = d.cells[d.cells["closed_since_raised"].fillna(False).astype(bool)] if "closed_since_raised" in d.cells \
        else d.cells.iloc[0:0]
    for r in closed.head(MAX_REGISTER[density]).to_dict("records"):
        items.append("<li><b>" + _e(t("brief.register.closed", lang, area=r["area_name"],
                                      group=_group_label(d.groups, r["group"], lang),
                                      year=format_year(r["official_latest_year"], lang))) + "</b></li>")
    if not items:
        return ""
    more = max(0, len(d.register) - MAX_REGISTER[density])
    tail = f'<p class="muted">{_e(t("brief.more", lang, n=more))}</p>' if more > 0 else ""
    return f'<section><h2>{_e(t("brief.register.heading", lang))}</h2><ul>{"".join(items)}</ul>{tail}</section>'


def _area_name(d: BriefData, code: str) -> str:
    if not code:
        return ""
    names = dict(zip(d.cells["area_code"], d.cells["area_name"], strict=False))
    return str(names.get(code, code))


def _gate(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return "?"
    return "✓" if bool(value) else "✗"


def _sources_html(d: BriefData) -> str:
    lang = d.lang
    items = []
    for kind, ids in (("official", d.official_ids), ("citizen", list(d.citizen_ids) + list(d.citizen_below))):
        for row in _dataset_rows(d, ids):
            mark = t("export.citizen_data", lang) if kind == "citizen" else t("export.official_data", lang)
            url = str(row.get("url") or "")
            items.append(f"<li><b>{_e(row.get('title'))}</b> ({_e(mark)}) — {_e(row.get('producer'))}; "
                         f"{_e(row.get('licence'))}; {_e(_period(row))}"
                         f"{('; ' + _e(url)) if url else ''}</li>")
    if not items:
        items.append(f"<li>{_e(t('brief.sources.none', lang))}</li>")
    return '<ul class="src">' + "".join(items) + "</ul>"


def source_summary(d: BriefData) -> str:
    """One line for running footers: the producers, citizen ones marked."""
    lang = d.lang
    parts = []
    for ids, kind in ((d.official_ids, "official"), (list(d.citizen_ids) + list(d.citizen_below), "citizen")):
        for row in _dataset_rows(d, ids):
            producer = re.sub(r"\s*\(illustrative\)", "", str(row.get("producer") or row.get("dataset_id")))
            parts.append(producer + (f" ({t('export.citizen_data', lang)})" if kind == "citizen" else ""))
    seen: list[str] = []
    for p in parts:
        if p not in seen:
            seen.append(p)
    if len(seen) > 3:
        seen = [*seen[:3], t("brief.more", lang, n=len(seen) - 3)]
    return "; ".join(seen) or t("brief.sources.none", lang)


def _map_caption(d: BriefData) -> str:
    from ..views import level_label

    areas = level_label(d.level, d.lang)
    if d.kind == "area":
        return t("brief.map.caption", d.lang, areas=areas, area=d.subject)
    return t("brief.map.caption_all", d.lang, areas=areas)


def document(d: BriefData, map_svg: str, density: int = 0) -> str:
    """The brief as one self-contained HTML document (no external resource)."""
    lang = d.lang
    groups_word = ", ".join(_group_label(d.groups, g, lang) for g in d.groups["group_id"] if g != "all")
    n_ind = d.cells["indicator"].nunique()
    when = {"as_of": format_year(d.as_of, lang), "start": format_year(d.as_of - d.window, lang), "window": d.window}
    if d.kind == "area":
        lead = t("brief.lead", lang, context=d.context, n_ind=n_ind, n_groups=d.groups["group_id"].nunique(), **when)
    else:
        from ..views import level_label

        lead = t("brief.lead_indicator", lang, context=d.context, n_areas=d.cells["area_code"].nunique(),
                 areas=level_label(d.level, lang), n_groups=d.groups["group_id"].nunique(), **when)
    method = t("brief.method.text", lang, as_of=format_year(d.as_of, lang), start=format_year(d.as_of - d.window, lang),
               window=d.window)
    body = [
        '<div class="row">',
        f'<div class="intro"><h1>{_e(d.title)}</h1><p class="lead">{_e(lead)}</p>{_headline_html(d)}{_findings(d)}</div>',
        f'<div class="map">{map_svg}<p class="muted">{_e(_map_caption(d))}</p></div>',
        "</div>",
        f'<section><h2>{_e(t("brief.matrix.heading", lang))}</h2>{_matrix_html(d, density)}</section>',
        f'<section><h2>{_e(t("brief.groups.heading", lang))}</h2>{_groups_html(d)}</section>',
        _disagreements_html(d, density),
        _register_html(d, density),
        f'<section><h2>{_e(t("brief.cards.heading", lang))}</h2>{_cards_html(d, density)}</section>',
        f'<section><h2>{_e(t("brief.sources.heading", lang))}</h2>{_sources_html(d)}</section>',
        f'<section><h2>{_e(t("brief.method.heading", lang))}</h2><p>{_e(method)}</p>'
        f'<p class="muted">{_e(t("brief.method.groups", lang, groups=groups_word))}</p></section>',
    ]
    return (f'<!DOCTYPE html><html lang="{lang}" dir="{direction(lang)}"><head><meta charset="utf-8">'
            f"<title>{_e(d.title)}</title><style>{_css()}</style></head>"
            f'<body class="d{density}">{"".join(body)}</body></html>')


def running_texts(d: BriefData, generated: str) -> tuple[str, str]:
    """Header and footer templates: what, for whom, from which data, as of when, and the page number."""
    lang = d.lang
    style = (f"font-family:'DejaVu Sans',sans-serif;font-size:8px;color:{palette.TEXT_MUTED};width:100%;"
             "padding:0 13mm;display:flex;justify-content:space-between;gap:4mm;")
    dir_attr = f'dir="{direction(lang)}"'
    what = t("brief.running.what", lang, subject=d.subject)
    when = t("brief.running.when", lang, as_of=format_year(d.as_of, lang), window=d.window)
    header = f'<div {dir_attr} style="{style}"><span>{_e(what)}</span><span>{_e(when)}</span></div>'
    who = t("brief.running.who", lang, n=d.groups["group_id"].nunique())
    data = t("brief.running.data", lang, sources=source_summary(d))
    page = t("brief.running.page", lang)
    footer = (f'<div {dir_attr} style="{style}"><span>{_e(who)} · {_e(data)} · '
              f'{_e(t("brief.running.generated", lang, date=generated))}</span>'
              f'<span style="white-space:nowrap">{_e(page)} <span class="pageNumber"></span>/<span class="totalPages"></span>'
              "</span></div>")
    return header, footer


# --- the map ------------------------------------------------------------------------------------

MAP_WIDTH, MAP_HEIGHT = 440, 560  # portrait: most countries and regions are taller than wide in Mercator


def map_figure(store: StoreAPI, d: BriefData) -> Any:
    """Blind-spot score of every area of the level (score ramp), the brief's area outlined thick."""
    import plotly.graph_objects as go

    from ..figures import map_geometry

    lang = d.lang
    geom = map_geometry(store, d.level)  # the dashboard's display geometry: oriented, simplified, cached
    if not geom.codes:
        return None
    geojson = geom.geojson
    codes = list(geom.names)
    scores = d.scores.set_index("area_code")["blind_spot_score"]
    z = [float(scores.get(c, float("nan"))) for c in codes]
    ramp = palette.SCORE_RAMP
    n = len(ramp)
    colorscale = []
    for i, c in enumerate(ramp):  # stepped: five classes of 20 %, readable in grey
        colorscale += [[i / n, c], [(i + 1) / n, c]]
    title = t("brief.map.legend", lang)
    fig = go.Figure(go.Choropleth(
        geojson=geojson, featureidkey="id", locations=codes, z=z, zmin=0, zmax=1,
        colorscale=colorscale, marker={"line": {"color": palette.BORDER, "width": 0.4}},
        colorbar={"title": {"text": title, "side": "top"}, "orientation": "h", "x": 0.5, "y": -0.02,
                  "yanchor": "top", "thickness": 12, "len": 0.9, "tickformat": ".0%",
                  "tickvals": [i / n for i in range(n + 1)]},
        showscale=True, name=title))
    if d.highlight and d.highlight in geom.names:
        for color, line_w in (("#FFFFFF", 6.0), ("#000000", 2.4)):  # a white halo keeps it visible on dark fills
            fig.add_trace(go.Choropleth(
                geojson=geom.subset([d.highlight]), featureidkey="id", locations=[d.highlight], z=[0],
                colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]], showscale=False,
                marker={"line": {"color": color, "width": line_w}}, name=d.subject, hoverinfo="skip"))
    fig.update_geos(fitbounds="locations", visible=False, projection={"type": "mercator"})
    focus = _focus_bounds(geom, d.focus) if d.focus else None
    if focus:  # a province is a speck on a country map: show its region, the rest for context
        fig.update_geos(fitbounds=False, lonaxis_range=focus[0], lataxis_range=focus[1])
    fig.update_layout(width=MAP_WIDTH, height=MAP_HEIGHT, margin={"l": 0, "r": 0, "t": 0, "b": 60},
                      font={"family": palette.FONT_FAMILY, "size": 12, "color": palette.TEXT},
                      paper_bgcolor="white", showlegend=False)
    return fig


FOCUS_PAD = 0.08  # share of the focus box added on each side


def _focus_bounds(geom: Any, codes: Sequence[str]) -> tuple[list[float], list[float]] | None:
    """Longitude and latitude ranges around some areas (their features' coordinates, padded)."""
    want = set(codes)
    xs: list[float] = []
    ys: list[float] = []

    def walk(c: Any) -> None:
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
            xs.append(float(c[0]))
            ys.append(float(c[1]))
        elif isinstance(c, (list, tuple)):
            for x in c:
                walk(x)

    for f in geom.geojson["features"]:
        if f["id"] in want:
            walk(f["geometry"]["coordinates"])
    if not xs:
        return None
    dx = (max(xs) - min(xs)) * FOCUS_PAD + 0.05
    dy = (max(ys) - min(ys)) * FOCUS_PAD + 0.05
    return [min(xs) - dx, max(xs) + dx], [min(ys) - dy, max(ys) + dy]


def map_svg(store: StoreAPI, d: BriefData) -> str:
    """The map as inline SVG (vector in the PDF), or a note when the level has no boundaries."""
    from .render import figure_bytes

    fig = map_figure(store, d)
    if fig is None:
        return f'<p class="muted">{_e(t("brief.map.none", d.lang))}</p>'
    svg = figure_bytes(fig, "svg", width=MAP_WIDTH, height=MAP_HEIGHT).decode("utf-8")
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    return svg


# --- the public entry point ----------------------------------------------------------------------

def make_brief(store: StoreAPI, view: Any = None, *, area: str | None = None, indicator: str | None = None,
               paper: str = "a4", lang: str | None = None, as_of: int | None = None, window: int | None = None,
               level: int | None = None, printer: PdfPrinter | None = None,
               generated: dt.date | None = None) -> bytes:
    """PDF bytes of the evidence brief for ``area`` (or for ``indicator`` across a level).

    Defaults come from ``view`` (the dashboard's current view) when given. Printed by ``printer``
    (default: the process's persistent one). Raises ``KeyError`` for an unknown area or indicator.
    """
    from pypdf import PdfReader

    lang = normalise_lang(lang or getattr(view, "lang", None))
    if as_of is None:
        as_of = getattr(view, "as_of", None)
    if window is None:
        window = getattr(view, "window", None)
    if level is None:
        level = getattr(view, "level", None)
    if area is None and indicator is None:
        area = getattr(view, "area", None) or None
        if area is None:
            indicator = getattr(view, "indicator", None)
    d = collect(store, area=area, indicator=indicator if area is None else None, level=level,
                as_of=as_of, window=window, lang=lang)
    svg = map_svg(store, d)
    generated_text = format_date(generated or dt.datetime.now(dt.UTC).date(), lang)
    header, footer = running_texts(d, generated_text)
    prn = printer or shared_printer()
    blocked_before = len(prn.outside_requests)
    pdf = b""
    for density in DENSITIES:
        pdf = prn.print_html(document(d, svg, density), paper=paper, header=header, footer=footer, margins=MARGINS)
        pages = len(PdfReader(io.BytesIO(pdf)).pages)
        if pages <= MAX_PAGES:
            break
        log.info("brief for %s: %d pages at density %d, trying denser", d.subject, pages, density)
    if len(prn.outside_requests) > blocked_before:
        raise RuntimeError(f"the brief tried to load outside resources: {prn.outside_requests[blocked_before:][:3]}")
    return pdf
