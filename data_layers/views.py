"""What the user is looking at, as one small immutable value kept in the URL.

A :class:`View` holds the shared filters (goal, indicator, group, level, as-of year, window,
area), the map metric, the language, presentation and high-contrast switches and a presentation
"story". :meth:`View.from_params` reads URL query parameters, checks every one against the store
(known codes, integer ranges, allowed words) and falls back to a default with a human notice for
each bad one; it only ever parses plain strings (no pickle, no eval). :meth:`View.to_params`
writes back only what differs from the defaults, so shared links stay short.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import i18n, settings
from .interface import StoreAPI

METRICS: tuple[str, ...] = ("status", "gap", "blind_spot")
SORTS: tuple[str, ...] = ("code", "gap")
DEFAULT_INDICATOR = "6.1.1"   # "safe water", the task of the dashboard issue's "done when"
DEFAULT_GROUP = "disability"
DEFAULT_LEVEL = 1
AS_OF_RANGE = (1990, 2100)    # wide sanity bounds: a past as-of year legitimately shows the past
WINDOW_RANGE = (1, 30)        # a freshness window beyond a generation is meaningless
GOAL_RANGE = (1, 17)
MAX_STORY_ITEMS = 30          # a meeting's worth of slides; bounds the URL
MAX_PARAM_CHARS = 2000        # longer values are refused before any parsing
NONE_WORDS = frozenset({"", "all", "none", "_t"})
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
_SLUG_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_VALUE_RE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")
STORY_ITEM_SEP = ","
STORY_PARAM_SEP = "~"
# Parameters a story step may set (the language and presentation switches belong to the whole
# presentation, not to one step).
STORY_KEYS: tuple[str, ...] = ("goal", "indicator", "group", "level", "as_of", "window", "area", "metric", "sort")


@dataclass(frozen=True)
class View:
    """The shared filters and display switches of every page, chart and export."""

    goal: int | None = None
    indicator: str | None = DEFAULT_INDICATOR
    group: str = DEFAULT_GROUP
    level: int = DEFAULT_LEVEL
    as_of: int = field(default_factory=lambda: int(settings.get("as_of")))
    window: int = field(default_factory=lambda: int(settings.get("window")))
    area: str | None = None
    metric: str = "status"
    sort: str = "code"
    lang: str = i18n.DEFAULT_LANG
    present: bool = False
    contrast: bool = False
    story: tuple[str, ...] = ()
    step: int = 0
    deck: str = ""
    series: str = ""  # "SERIES|unit" whose values the indicator shows; "" = its headline series
    """The ``story`` parameter when it names a stored story or carries a whole one (``z.``...):
    ``story`` then holds that story's items, and the link keeps the short name."""

    # --- URL round trip ---------------------------------------------------------------------

    @classmethod
    def from_params(cls, params: Mapping[str, str | list[str]], *, store: StoreAPI) -> tuple[View, list[str]]:
        """A validated view from URL query parameters, and one notice per value that was refused.

        Unknown parameter names are ignored silently (other tools add their own); known ones
        with a bad value fall back to the default and say so in the chosen language.
        """
        raw = {str(k): _first(v) for k, v in params.items()}
        base = cls()
        lang_raw = raw.get("lang")
        lang = base.lang
        notices: list[str] = []
        if lang_raw is not None:
            if lang_raw.strip().lower() in i18n.LANGUAGES:
                lang = lang_raw.strip().lower()
            else:
                notices.append(_notice("lang", lang_raw, i18n.LANGUAGES[base.lang], lang))
        cat = _catalogue(store)
        kw: dict[str, Any] = {"lang": lang}

        def refuse(name: str, value: str, fallback: Any) -> None:
            notices.append(_notice(name, value, fallback, lang))

        # goal
        goal: int | None = None
        if (v := raw.get("goal")) is not None and v.strip().lower() not in NONE_WORDS:
            g = _int(v)
            if g is not None and GOAL_RANGE[0] <= g <= GOAL_RANGE[1] and g in cat["goals"]:
                goal = g
            else:
                refuse("goal", v, i18n.t("describe.all_goals", lang))
        kw["goal"] = goal

        # indicator (must belong to the goal when both are given)
        indicators: dict[str, int] = cat["indicators"]
        in_goal = [c for c, gl in indicators.items() if goal is None or gl == goal]
        default_ind = _default_indicator(in_goal)
        indicator: str | None = default_ind
        if (v := raw.get("indicator")) is not None:
            if v.strip().lower() in NONE_WORDS:
                indicator = None
            elif v.strip() in indicators:
                if goal is not None and indicators[v.strip()] != goal:
                    notices.append(i18n.t("notice.goal_mismatch", lang, indicator=_safe(v), goal=goal,
                                          fallback=default_ind or i18n.t("describe.all_indicators", lang)))
                else:
                    indicator = v.strip()
            else:
                refuse("indicator", v, default_ind or i18n.t("describe.all_indicators", lang))
        kw["indicator"] = indicator

        # series of the indicator's values (an indicator with several: 11.3.1 has three)
        kw["series"] = ""
        if (v := raw.get("series")) is not None and v.strip() and indicator:
            keys = series_keys(store, indicator)
            hit = next((k for k in keys if v.strip() in (k, k.split("|", 1)[0])), None)
            if hit is None:
                refuse("series", v, i18n.t("ui.filter.series_headline", lang))
            else:
                kw["series"] = hit

        # group
        groups: dict[str, str] = cat["groups"]
        default_group = DEFAULT_GROUP if DEFAULT_GROUP in groups else next(iter(groups), DEFAULT_GROUP)
        kw["group"] = default_group
        if (v := raw.get("group")) is not None:
            if v.strip() in groups:
                kw["group"] = v.strip()
            else:
                refuse("group", v, groups.get(default_group, default_group))

        # level
        levels: list[int] = cat["levels"]
        default_level = DEFAULT_LEVEL if (DEFAULT_LEVEL in levels or not levels) else levels[-1]
        kw["level"] = default_level
        if (v := raw.get("level")) is not None:
            lv = _int(v)
            if lv is not None and lv in levels:
                kw["level"] = lv
            else:
                refuse("level", v, default_level)

        # as-of year and window
        for name, lo_hi, default in (("as_of", AS_OF_RANGE, base.as_of), ("window", WINDOW_RANGE, base.window)):
            kw[name] = default
            if (v := raw.get(name)) is not None:
                n = _int(v)
                if n is not None and lo_hi[0] <= n <= lo_hi[1]:
                    kw[name] = n
                else:
                    refuse(name, v, default)

        # area (any level: a profile shows an area at its own level)
        kw["area"] = None
        if (v := raw.get("area")) is not None and v.strip().lower() not in NONE_WORDS:
            if v.strip() in cat["areas"]:
                kw["area"] = v.strip()
            else:
                refuse("area", v, i18n.t("describe.no_area", lang))

        # words
        for name, allowed, default in (("metric", METRICS, base.metric), ("sort", SORTS, base.sort)):
            kw[name] = default
            if (v := raw.get(name)) is not None:
                if v.strip().lower() in allowed:
                    kw[name] = v.strip().lower()
                else:
                    refuse(name, v, default)

        # switches
        for name in ("present", "contrast"):
            kw[name] = False
            if (v := raw.get(name)) is not None:
                b = _bool(v)
                if b is None:
                    refuse(name, v, i18n.t("notice.off", lang))
                else:
                    kw[name] = b

        # story and step
        kw["story"] = ()
        kw["deck"] = ""
        if (v := raw.get("story")) is not None and v.strip():
            from . import stories

            try:
                whole = stories.resolve(v, getattr(store, "data_dir", None))
            except stories.StoryError as e:
                whole = None
                notices.append(i18n.t("notice.bad_story", lang, problem=_plain(str(e))))
            story = whole.items if whole is not None else parse_story(v)
            if story is None:
                refuse("story", v, i18n.t("notice.no_story", lang))
            else:
                kw["story"] = story
                kw["deck"] = v.strip() if whole is not None else ""
        kw["step"] = 0
        if (v := raw.get("step")) is not None:
            n = _int(v)
            limit = max(len(kw["story"]) - 1, 0)
            if n is not None and 0 <= n <= limit:
                kw["step"] = n
            else:
                refuse("step", v, 1)
        return cls(**kw), notices

    def to_params(self) -> dict[str, str]:
        """URL query parameters of the values that differ from the defaults (short links)."""
        default = View()
        out: dict[str, str] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "deck" or value == getattr(default, f.name):
                continue
            out[f.name] = self.deck if (f.name == "story" and self.deck) else _encode(f.name, value)
        return out

    def series_choice(self) -> dict[str, str] | None:
        """The series pick for the store's queries (``{indicator: "SERIES|unit"}``), or None (headline)."""
        return {self.indicator: self.series} if self.series and self.indicator else None

    def replace(self, **kw: Any) -> View:
        """A copy with some fields changed (views are immutable, so they can key caches)."""
        return dataclasses.replace(self, **kw)

    @property
    def is_rtl(self) -> bool:
        return i18n.is_rtl(self.lang)


# --- presentation stories ---------------------------------------------------------------------

def parse_story(text: str) -> tuple[str, ...] | None:
    """Split ``overview,gap-map~indicator=6.1.1~group=women`` into checked items, or ``None``.

    Each item is a page slug optionally followed by ``~key=value`` pairs for the keys of
    :data:`STORY_KEYS`; values are plain codes. Nothing else is accepted.
    """
    if len(text) > MAX_PARAM_CHARS:
        return None
    items = [s.strip() for s in text.split(STORY_ITEM_SEP) if s.strip()]
    if not items or len(items) > MAX_STORY_ITEMS:
        return None
    for item in items:
        if story_item(item) is None:
            return None
    return tuple(items)


def story_item(item: str) -> tuple[str, dict[str, str]] | None:
    """``(slug, overrides)`` of one story item, or ``None`` when it is malformed."""
    slug, *pairs = item.split(STORY_PARAM_SEP)
    if not _SLUG_RE.match(slug):
        return None
    overrides: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in STORY_KEYS or not _VALUE_RE.match(value) or key in overrides:
            return None
        overrides[key] = value
    return slug, overrides


def encode_story_item(slug: str, view: View | None = None) -> str:
    """A story item for ``slug`` showing ``view`` (only its non-default filters are kept)."""
    if not _SLUG_RE.match(slug):
        raise ValueError(f"not a page slug: {slug!r}")
    if view is None:
        return slug
    params = view.to_params()
    pairs = [f"{k}={params[k]}" for k in STORY_KEYS if k in params and _VALUE_RE.match(params[k])]
    return STORY_PARAM_SEP.join([slug, *pairs])


def story_step(view: View, *, store: StoreAPI, step: int | None = None) -> tuple[str | None, View, list[str]]:
    """The page slug and the validated view of a story step (``view.step`` by default).

    The step's overrides are applied on top of the presentation's language and switches and
    validated like any URL, so a hand-edited story cannot smuggle in a bad value.
    """
    if not view.story:
        return None, view, []
    idx = view.step if step is None else step
    idx = min(max(int(idx), 0), len(view.story) - 1)
    parsed = story_item(view.story[idx])
    if parsed is None:
        return None, view, [_notice("story", view.story[idx], "", view.lang)]
    slug, overrides = parsed
    params = {k: v for k, v in view.to_params().items() if k not in STORY_KEYS}
    params.update(overrides)
    params["step"] = str(idx)
    stepped, notices = View.from_params(params, store=store)
    return slug, stepped, notices


# --- describing a view in words ---------------------------------------------------------------

def describe(view: View, store: StoreAPI, lang: str | None = None) -> str:
    """The filters in words, for every figure's subtitle and every export's header.

    E.g. ``Persons with disabilities · Safe drinking water (6.1.1) · regions · as of 2024,
    5-year window``.
    """
    lang = i18n.normalise_lang(lang or view.lang)
    cat = _catalogue(store)
    parts = [group_label(store, view.group, lang)]
    if view.indicator:
        parts.append(indicator_label(store, view.indicator, lang))
    elif view.goal is not None:
        parts.append(i18n.t("describe.goal", lang, goal=view.goal))
    else:
        parts.append(i18n.t("describe.all_indicators", lang))
    if view.area and view.area in cat["areas"]:
        parts.append(cat["areas"][view.area])
    else:
        parts.append(level_label(view.level, lang))
    parts.append(i18n.t("describe.as_of", lang, year=i18n.format_year(view.as_of, lang),
                        window=i18n.format_number(view.window, lang, decimals=0)))
    return i18n.t("describe.sep", lang).join(parts)


def group_label(store: StoreAPI, group: str, lang: str) -> str:
    """A group's name from the group catalogue (translated column when present)."""
    rows = _catalogue(store)["group_rows"]
    row = rows.get(group)
    return i18n.catalogue_text(row, "label", lang) if row is not None else group


def indicator_label(store: StoreAPI, code: str, lang: str, *, full: bool = False) -> str:
    """``Safe drinking water (6.1.1)``, or the full framework title with ``full=True``."""
    row = _catalogue(store)["indicator_rows"].get(code)
    if row is None:
        return code
    title = _full_title(store, code, row, lang) if full else i18n.catalogue_text(row, "short_title", lang)
    return i18n.t("describe.indicator", lang, title=title, code=code)


def indicator_title(store: StoreAPI, code: str, lang: str, *, full: bool = False) -> str:
    """The indicator's title alone (short by default)."""
    row = _catalogue(store)["indicator_rows"].get(code)
    if row is None:
        return code
    return _full_title(store, code, row, lang) if full else i18n.catalogue_text(row, "short_title", lang)


def _full_title(store: StoreAPI, code: str, row: Mapping[str, Any], lang: str) -> str:
    """The framework title in ``lang`` (imported with ``import framework``), English marked
    " (EN)" when the language has none; the catalogue's own translation column wins."""
    from . import framework

    if row.get(f"title_{i18n.normalise_lang(lang)}"):
        return i18n.catalogue_text(row, "title", lang)
    try:
        return framework.title(code, lang, store)[0]
    except OSError:
        return i18n.catalogue_text(row, "title", lang)


def level_label(level: int, lang: str, *, plural: bool = True) -> str:
    """``regions``/``region`` for a level; a generic phrase for levels without a name."""
    form = "plural" if plural else "singular"
    key = f"level.{int(level)}.{form}"
    if i18n.has_key(key, "en"):
        return i18n.t(key, lang)
    return i18n.t(f"level.other.{form}", lang, level=level)


def area_name(store: StoreAPI, code: str | None) -> str:
    if not code:
        return ""
    return _catalogue(store)["areas"].get(code, code)


def home_area(store: StoreAPI) -> str | None:
    """The country whose regions the store holds: the commonest parent of level-1 areas."""
    return _catalogue(store)["home"]


# --- helpers ------------------------------------------------------------------------------------

_CATALOGUE_CACHE: dict[tuple[str, str], dict[str, Any]] = {}


def _catalogue(store: StoreAPI) -> dict[str, Any]:
    """Codes the URL may name, read once per store content version."""
    key = (str(getattr(store, "data_dir", id(store))), str(getattr(store, "version", "")))
    hit = _CATALOGUE_CACHE.get(key)
    if hit is not None:
        return hit
    ind = store.indicators()
    grp = store.groups()
    areas = store.areas()
    indicators = {str(r.code): int(r.goal) for r in ind.itertuples()}
    l1 = areas[areas["level"] == 1]
    parents = l1["parent_code"].dropna()
    home = str(parents.mode().iloc[0]) if len(parents) else None
    cat = {
        "indicators": indicators,
        "indicator_rows": {str(r["code"]): r for r in ind.to_dict("records")},
        "goals": sorted(set(indicators.values())),
        "groups": {str(r.group_id): str(r.label) for r in grp.itertuples()},
        "group_rows": {str(r["group_id"]): r for r in grp.to_dict("records")},
        "levels": [int(x) for x in store.levels()],
        "areas": dict(zip(areas["code"].astype(str), areas["name"].astype(str), strict=True)),
        "area_levels": dict(zip(areas["code"].astype(str), areas["level"].astype(int), strict=True)),
        "home": home,
    }
    if len(_CATALOGUE_CACHE) > 16:  # a handful of stores per process; keep it bounded
        _CATALOGUE_CACHE.clear()
    _CATALOGUE_CACHE[key] = cat
    return cat


def catalogue(store: StoreAPI) -> dict[str, Any]:
    """Public read-only access to the cached catalogue lookups (codes, names, levels)."""
    return _catalogue(store)


def _default_indicator(codes: list[str]) -> str | None:
    if DEFAULT_INDICATOR in codes:
        return DEFAULT_INDICATOR
    return codes[0] if codes else None


def _first(v: str | list[str] | tuple[str, ...] | None) -> str:
    if isinstance(v, list | tuple):
        v = v[0] if v else ""
    s = "" if v is None else str(v)
    return s[:MAX_PARAM_CHARS + 1]


def _int(v: str) -> int | None:
    s = v.strip()
    if not re.fullmatch(r"[+-]?\d{1,6}", s):
        return None
    return int(s)


def _bool(v: str) -> bool | None:
    s = v.strip().lower()
    if s in TRUE_WORDS:
        return True
    if s in FALSE_WORDS:
        return False
    return None


def series_keys(store: StoreAPI, indicator: str) -> list[str]:
    """``SERIES|unit`` of every series the indicator's official facts hold, the headline one first."""
    opts = store.series_options(indicator=indicator)
    return [f"{r.series}|{r.unit}" for r in opts.itertuples()]


def _encode(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if value is None:
        return "all" if name == "indicator" else ""
    if isinstance(value, tuple):
        return STORY_ITEM_SEP.join(value)
    return str(value)


def _safe(value: str) -> str:
    """A user-supplied value made harmless for display: short, and only plain characters."""
    cleaned = re.sub(r"[^A-Za-z0-9 ._\-]", "?", value)[:40]
    return cleaned + ("…" if len(value) > 40 else "")


def _plain(text: str, limit: int = 240) -> str:
    """A longer message (a file's problem) reduced to letters, digits and plain punctuation, so
    that nothing in it can act as Markdown or HTML where the notice is shown."""
    cleaned = re.sub(r"[^\w .,:;'/-]|_", "?", text)
    return cleaned[:limit] + ("…" if len(cleaned) > limit else "")


def _notice(name: str, value: str, fallback: Any, lang: str) -> str:
    return i18n.t("notice.invalid", lang, param=i18n.t(f"param.{name}", lang), value=_safe(value),
                  fallback=fallback)


def is_missing(x: Any) -> bool:
    """True for None, NaN and pandas NA (shared by figures and exports)."""
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False
