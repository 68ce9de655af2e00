"""The brief's question: what a one-page brief about an area or an indicator says, as data (cells,
headline counts, datasets, register entries, catalogue labels), before any HTML. brief.py lays it out."""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .. import palette, settings, vocabulary
from ..i18n import (
    normalise_lang,
    t,
)
from ..interface import StoreAPI

log = logging.getLogger("data_layers.exports.brief")


# --- the content ------------------------------------------------------------------------------

@dataclass
class BriefData:
    """Everything one brief shows, computed from the store before any layout."""

    kind: str  # "area" or "indicator"
    lang: str
    as_of: int
    window: int
    level: int
    title: str
    subject: str  # the area's or indicator's name, as in the header
    context: str  # "Region (admin level 1) in PHL" / the indicator's full title
    cells: pd.DataFrame  # coverage cells the brief is about
    scores: pd.DataFrame  # area_scores of the level (for the map and the rank)
    highlight: str | None  # area code to outline on the map
    indicators: pd.DataFrame
    groups: pd.DataFrame
    datasets: pd.DataFrame  # catalogue with verdicts
    official_ids: list[str] = field(default_factory=list)
    citizen_ids: list[str] = field(default_factory=list)
    citizen_below: list[str] = field(default_factory=list)  # citizen datasets in the area's sub-areas
    rank: tuple[int, int] | None = None  # (rank by blind-spot score, areas at the level)
    focus: list[str] = field(default_factory=list)  # areas the map zooms to (a province's region)
    register: pd.DataFrame = field(default_factory=pd.DataFrame)  # evidence register entries about the cells
    unmeasured: list[str] = field(default_factory=list)  # labels of intersections with nothing to show


def _level_word(level: int, lang: str) -> str:
    return t(f"brief.level.{level}", lang) if level in (0, 1, 2) else t("brief.level.other", lang, level=level)


def collect(store: StoreAPI, *, area: str | None = None, indicator: str | None = None, level: int | None = None,
            as_of: int | None = None, window: int | None = None, lang: str = "en",
            groups: Sequence[str] | None = None) -> BriefData:
    """Query the store for one brief (an area's, or an indicator's across the areas of a level)."""
    from ..i18n import catalogue_text
    from ..views import level_label

    lang = normalise_lang(lang)
    as_of = int(as_of if as_of is not None else settings.get("as_of"))
    window = int(window if window is not None else settings.get("window"))
    areas = store.areas()
    inds = store.indicators()
    grps = store.groups()
    if groups:
        grps = grps[grps["group_id"].isin(list(groups))]
    datasets = store.datasets()
    if area is None and indicator is None:
        raise ValueError("a brief needs an area or an indicator")
    if area is not None:
        row = areas[areas["code"] == area]
        if row.empty:
            raise KeyError(area)
        a = row.iloc[0]
        level = int(a["level"])
        cells = store.coverage(level=level, as_of=as_of, window=window, areas=[area],
                               indicators=[indicator] if indicator else None, groups=groups)
        parent_code = None if pd.isna(a["parent_code"]) else str(a["parent_code"])
        parent = areas[areas["code"] == parent_code] if parent_code else areas.iloc[0:0]
        parent_name = str(parent.iloc[0]["name"]) if not parent.empty else (parent_code or "")
        context = t("brief.area_context", lang, level_word=_level_word(level, lang), parent=parent_name) \
            if parent_name else _level_word(level, lang)
        subject = str(a["name"])
        title = t("brief.title_area", lang, area=subject)
        highlight: str | None = area
        siblings = areas[(areas["parent_code"] == parent_code) & (areas["level"] == level)] if parent_code else None
        focus = list(siblings["code"]) if level >= 2 and siblings is not None and len(siblings) > 1 else []
    else:
        irow = inds[inds["code"] == indicator]
        if irow.empty:
            raise KeyError(indicator)
        level = int(level if level is not None else 1)
        cells = store.coverage(level=level, as_of=as_of, window=window, indicators=[indicator], groups=groups)
        ind = irow.iloc[0]
        subject = f"{indicator} {catalogue_text(ind.to_dict(), 'short_title', lang)}"
        context = t("brief.indicator_context", lang, title=catalogue_text(ind.to_dict(), "title", lang),
                    level_word=level_label(level, lang, plural=False))
        title = t("brief.title_indicator", lang, indicator=subject)
        highlight = None
        focus = []
    all_grps = grps
    grps, cells, quiet = _intersections_with_evidence(grps, cells)
    unmeasured = [_group_label(all_grps, g, lang) for g in quiet]
    scores = store.area_scores(level=level, as_of=as_of, window=window,
                               indicators=[indicator] if indicator else None, groups=groups)
    rank = None
    if area is not None and not scores.empty and area in set(scores["area_code"]):
        ordered = scores.sort_values(["blind_spot_score", "area_code"], ascending=[False, True]).reset_index(drop=True)
        rank = (int(ordered.index[ordered["area_code"] == area][0]) + 1, len(ordered))
    codes = list(cells["area_code"].unique())
    official_ids = _official_datasets(store, codes, as_of, indicator)
    citizen_ids = _split_ids(cells.loc[cells["cgd_status"].isin(["present", "stale"]), "cgd_datasets"])
    below: list[str] = []
    if area is not None:
        children = areas[areas["parent_code"] == area]
        if not children.empty:
            sub = store.coverage(level=level + 1, as_of=as_of, window=window, areas=list(children["code"]),
                                 indicators=[indicator] if indicator else None, groups=groups)
            below = [d for d in _split_ids(sub.loc[sub["cgd_status"] == "present", "cgd_datasets"])
                     if d not in citizen_ids]
    return BriefData(kind="area" if area is not None else "indicator", lang=lang, as_of=as_of, window=window,
                     level=level, title=title, subject=subject, context=context, cells=cells, scores=scores,
                     highlight=highlight, indicators=inds, groups=grps, datasets=datasets,
                     official_ids=official_ids, citizen_ids=citizen_ids, citizen_below=below, rank=rank,
                     focus=focus, register=_register_entries(store, cells), unmeasured=unmeasured)


def _intersections_with_evidence(grps: pd.DataFrame, cells: pd.DataFrame
                                 ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Keep the intersectional groups the brief has something to say about (a cell covered or filled,
    or raised in the evidence register); the others are only named, so a brief stays on two pages."""
    if "n_dims" not in grps or cells.empty:
        return grps, cells, []
    crossed = set(grps.loc[grps["n_dims"].astype(int) > 1, "group_id"])
    sub = cells[cells["group"].isin(crossed) & cells["status"].ne("not_applicable")]
    said = sub["headline"].isin(["covered", "filled"])
    if "raised_on" in sub:
        said |= sub["raised_on"].notna()
    keep = set(sub.loc[said, "group"])
    quiet = [g for g in grps["group_id"] if g in crossed and g not in keep and g in set(sub["group"])]
    drop = crossed - keep
    return grps[~grps["group_id"].isin(drop)], cells[~cells["group"].isin(drop)], quiet


def _register_entries(store: StoreAPI, cells: pd.DataFrame) -> pd.DataFrame:
    """The evidence register's entries that concern at least one cell of the brief, newest first."""
    if not hasattr(store, "register") or cells.empty:
        return pd.DataFrame()
    reg = store.register()
    keys = {(str(r.indicator), str(r.area_code), str(r.group)) for r in
            cells[["indicator", "area_code", "group"]].drop_duplicates().itertuples()}
    inds, areas, grps = ({k[i] for k in keys} for i in range(3))

    def concerns(e: Any) -> bool:
        if (e.indicator and e.indicator not in inds) or (e.area_code and e.area_code not in areas) or \
                (e.group_id and e.group_id not in grps):
            return False
        return any((not e.indicator or e.indicator == i) and (not e.area_code or e.area_code == a)
                   and (not e.group_id or e.group_id == g) for i, a, g in keys)

    keep = [concerns(e) for e in reg.itertuples()]
    return reg[keep].sort_values(["presented_on", "entry_id"], ascending=[False, False], kind="stable")


def _split_ids(values: pd.Series) -> list[str]:
    ids: set[str] = set()
    for v in values.dropna():
        ids.update(x.strip() for x in str(v).split(",") if x.strip())
    return sorted(ids)


def _official_datasets(store: StoreAPI, codes: list[str], as_of: int, indicator: str | None) -> list[str]:
    return store.official_dataset_ids(areas=codes, as_of=as_of, indicator=indicator)


@dataclass(frozen=True)
class Headline:
    applicable: int
    covered: int
    filled: int
    blind_spot: int
    gap: int  # stale + aggregate_only + missing

    @property
    def covered_share(self) -> float:
        return self.covered / self.applicable if self.applicable else float("nan")

    @property
    def blind_share(self) -> float:
        return self.blind_spot / self.applicable if self.applicable else float("nan")

    @property
    def filled_of_gap(self) -> float:
        return self.filled / self.gap if self.gap else float("nan")


def headline(cells: pd.DataFrame) -> Headline:
    """Counts of DESIGN.md's headline classes over the applicable cells."""
    app = cells[cells["headline"] != "not_applicable"]
    counts = app["headline"].value_counts()
    gap = int(app["status"].isin(vocabulary.GAP_STATUSES).sum())
    return Headline(applicable=len(app), covered=int(counts.get("covered", 0)), filled=int(counts.get("filled", 0)),
                    blind_spot=int(counts.get("blind_spot", 0)), gap=gap)


def cell_class(row: Any) -> str:
    """The palette class of a matrix cell: the dashboard's one classification (vocabulary.cell_class)."""
    return vocabulary.cell_class(row)


def cell_glyph(row: Any) -> str:
    """Cell text as in the dashboard's matrix: the class symbol (a filled cell keeps the symbol of
    its official status, so the reader sees why official data is lacking), ▲ when citizen data is present."""
    key = cell_class(row)
    base = key if key != "filled" else (row["status"] if row["status"] in palette.STATUS_STYLES else "missing")
    citizen = row.get("cgd_status") == "present" and key != "not_applicable"
    return palette.STATUS_STYLES[base].symbol + (palette.CITIZEN_SYMBOL if citizen else "")

def _e(text: Any) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _group_label(groups: pd.DataFrame, gid: str, lang: str) -> str:
    return _labels(groups, "group_id", "label", lang).get(gid, gid)


def _indicator_label(inds: pd.DataFrame, code: str, lang: str) -> str:
    return _labels(inds, "code", "short_title", lang).get(code, code)


def _labels(table: pd.DataFrame, key: str, field: str, lang: str) -> dict[str, str]:
    """``code -> title`` of a catalogue in ``lang``, computed once per catalogue frame (kept in the
    frame's ``attrs``, so it lives and dies with the frame)."""
    from ..i18n import catalogue_text

    memo = table.attrs.setdefault("gaplens_labels", {})
    hit = memo.get((key, field, lang))
    if hit is None:
        hit = {str(r[key]): catalogue_text(r, field, lang) for r in table.to_dict("records")}
        memo[(key, field, lang)] = hit
    return hit
