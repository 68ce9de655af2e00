"""Shared UI of the GapLens pages: the view kept in the URL, the filter sidebar, charts with their
data table and downloads, notices, empty states, presentation mode and the error boundary.

Pages render, they do not compute: they read the :class:`~data_layers.views.View` this module
keeps in sync with the URL, ask :mod:`data_layers.cache` for data and figures, and draw them
with the helpers below. Every string a person reads goes through :func:`data_layers.i18n.t`.

How the view and the URL stay in sync (:func:`sync_view`): the canonical view lives in the
session. A run whose query parameters differ from the ones this session last wrote was started
from outside (a shared link, a deep link from another page, the first visit): the parameters
are validated by :meth:`View.from_params` and win. Otherwise the session's view wins (the user
moved a widget, or Streamlit's own navigation dropped the parameters) and is written back to the
URL, so the address bar always reproduces what is on screen.
"""

from __future__ import annotations

import logging
import re
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from data_layers import cache, i18n, views
from data_layers import palette as pal
from data_layers.i18n import t
from data_layers.interface import StoreAPI
from data_layers.tables import (  # noqa: F401  (moved there, shared with the exports; re-exported)
    CGD_WORD_COLUMNS,
    COLUMN_KEYS,
    MISSING,
    STATUS_WORD_COLUMNS,
    _fmt,
    _status_word,
    csv_bytes,
    display_table,
    flag_pairs,
    unique_names,
)
from data_layers.views import View

log = logging.getLogger("gaplens.pages")

ROOT = Path(__file__).resolve().parents[1]

# --- pages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageDef:
    """One page of the dashboard: URL slug, script, title key, icon (bundled Material Symbols)."""

    slug: str
    path: str
    title_key: str
    icon: str

    @property
    def exists(self) -> bool:
        return (ROOT / self.path).is_file()


PAGES: tuple[PageDef, ...] = (
    PageDef("overview", "pages/overview.py", "ui.nav.overview", ":material/dashboard:"),
    PageDef("gap_map", "pages/gap_map.py", "ui.nav.gap_map", ":material/map:"),
    PageDef("coverage_matrix", "pages/coverage_matrix.py", "ui.nav.coverage_matrix", ":material/grid_on:"),
    PageDef("area_profile", "pages/area_profile.py", "ui.nav.area_profile", ":material/location_on:"),
    PageDef("citizen_data", "pages/citizen_data.py", "ui.nav.citizen_data", ":material/diversity_3:"),
    PageDef("about", "pages/about.py", "ui.nav.about", ":material/info:"),
    PageDef("import_data", "pages/import_data.py", "ui.nav.import_data", ":material/upload_file:"),
)
PAGE_BY_SLUG: dict[str, PageDef] = {p.slug: p for p in PAGES}
DEFAULT_PAGE = "overview"

# session-state keys (prefixed so that they never clash with a widget key)
_VIEW = "gl.view"
_SYNCED = "gl.synced"
_NOTICES = "gl.notices"


WINDOW_MAX = 15  # the slider's top: beyond 15 years "current" stops meaning anything for policy
CHART_KEYS_SEEN = "gl.chart_keys"


def page_def(slug: str) -> PageDef:
    """The page of a slug (``gap-map`` and ``gap_map`` both work), else the overview."""
    return PAGE_BY_SLUG.get(slug.replace("-", "_"), PAGE_BY_SLUG[DEFAULT_PAGE])


def available_pages() -> list[PageDef]:
    """The pages whose script exists (the import page arrives with its own helper)."""
    return [p for p in PAGES if p.exists]


# --- the view --------------------------------------------------------------------------------

def store() -> Any:
    """The shared store (one DuckDB for every session)."""
    return cache.get_store()


def view() -> View:
    """The current view (filters and switches) of this session."""
    v = st.session_state.get(_VIEW)
    return v if isinstance(v, View) else View()


def lang() -> str:
    return view().lang


def sync_view(gs: StoreAPI) -> tuple[View, list[str]]:
    """Reconcile the session's view with the URL (see the module docstring); returns the view
    and the notices about refused URL values (shown once, on the run that read them).

    The entry script then calls :func:`write_url`, so the address bar shows the validated view
    (refused values and the ``via`` marker of deep links disappear from it).
    """
    ss = st.session_state
    qp = url_params()
    fresh = _VIEW not in ss
    notices: list[str] = []
    if fresh or (qp and qp != ss.get(_SYNCED)):
        params = dict(qp)
        if fresh and "lang" not in params:
            browser = i18n.normalise_lang(_browser_locale())
            if browser != i18n.DEFAULT_LANG:
                params["lang"] = browser
        v, notices = View.from_params(params, store=gs)
    else:
        v = ss[_VIEW]
    ss[_VIEW] = v
    ss[_NOTICES] = notices
    return v, notices


def url_params() -> dict[str, str]:
    """The URL's query parameters (the last value of a repeated one)."""
    return {k: st.query_params.get_all(k)[-1] for k in st.query_params}


def write_url(v: View | None = None) -> None:
    """Make the address bar show the view (only the non-default values, so links stay short)."""
    out = (v or view()).to_params()
    if url_params() != out:
        st.query_params.from_dict(out)
    st.session_state[_SYNCED] = out


def _browser_locale() -> str | None:
    try:
        return st.context.locale
    except (AttributeError, RuntimeError):  # older runtimes and bare script runs have no context
        return None


def set_view(new: View) -> None:
    """Replace the session's view after validating it like a URL (a widget cannot smuggle in a
    value the URL would refuse)."""
    v, _ = View.from_params(new.to_params(), store=store())
    st.session_state[_VIEW] = v


def update(**changes: Any) -> None:
    set_view(view().replace(**changes))


ALL = "all"
"""Widget option meaning "no filter" (a selectbox shows None as an empty placeholder)."""


def _from_widget(value: Any) -> Any:
    return None if value == ALL else value


NO_FILTER_FIELDS = frozenset({"goal", "indicator"})
"""Fields whose ALL option means "no filter"; for ``group``, ``all`` is a real group (everyone)."""


def _bound(field: str, key: str) -> None:
    """Widget callback: copy a widget's value into the view."""
    value = st.session_state.get(key)
    changes: dict[str, Any] = {field: _from_widget(value) if field in NO_FILTER_FIELDS else value}
    current = view()
    if field == "indicator":
        changes["series"] = ""  # a series belongs to one indicator: the next one shows its headline
    if field == "goal":
        # keep the indicator inside the chosen goal: first indicator of the goal otherwise
        cat = views.catalogue(store())["indicators"]
        goal = changes["goal"]
        if goal is not None and current.indicator and cat.get(current.indicator) != goal:
            changes["indicator"] = next((c for c, g in cat.items() if g == goal), None)
    set_view(current.replace(**changes))


def widget_state(field: str, key: str, value: Any) -> dict[str, Any]:
    """Keyword arguments binding a widget to a view field: its state is set from the view before
    it is drawn (``None`` becomes :data:`ALL`), and its callback writes back (so the URL and every
    page agree)."""
    st.session_state[key] = ALL if value is None else value
    return {"key": key, "on_change": _bound, "args": (field, key)}


# --- labels ------------------------------------------------------------------------------------

def goal_label(goal: int | str | None, lng: str) -> str:
    if goal is None or goal == ALL:
        return t("ui.filter.all_goals", lng)
    from data_layers import framework

    try:
        title, fallback = framework.title(str(goal), lng, store(), short=True)
    except (OSError, ValueError):
        title, fallback = str(goal), True
    plain = t("describe.goal", lng, goal=goal)
    if fallback and framework.strip_mark(title) == str(goal):
        return plain
    return t("ui.filter.goal_item", lng, goal=plain, title=title)


def series_option(key: str, keys: list[str], lng: str) -> str:
    """``SH_H2O_SAFE (percent)``; the empty choice names the headline series it stands for."""
    def words(k: str) -> str:
        name, _, unit = k.partition("|")
        return f"{name or t('ui.filter.series_unnamed', lng)} ({unit})" if unit else (name or t("ui.filter.series_unnamed", lng))
    if not key:
        return t("ui.filter.series_headline_of", lng, series=words(keys[0])) if keys else t("ui.filter.series_headline", lng)
    return words(key)


def indicator_option(code: str | None, lng: str) -> str:
    if code is None or code == ALL:
        return t("ui.filter.all_indicators", lng)
    return f"{code} · {views.indicator_title(store(), code, lng)}"


def level_option(level: int, lng: str) -> str:
    return views.level_label(level, lng).capitalize()


def area_option(code: str | None, lng: str) -> str:
    if not code or code == ALL:
        return t("ui.filter.no_area", lng)
    cat = views.catalogue(store())
    level = cat["area_levels"].get(code)
    name = cat["areas"].get(code, code)
    if level is None:
        return name
    return t("ui.filter.area_item", lng, name=name, level=views.level_label(level, lng, plural=False))


# --- theme: CSS for high contrast, presentation and right-to-left -------------------------------

BASE_CSS = """
<style>
/* GapLens: calm, legible on a projector; system fonts only (no web-font request) */
[data-testid="stMainBlockContainer"] { padding-top: 2.2rem; max-width: 1500px; }
[data-testid="stMetricValue"] { font-weight: 700; }
[data-testid="stMetric"] { background: #F6F7F9; border: 1px solid #D9D9D9; border-radius: 0.5rem;
  padding: 0.7rem 0.9rem; }
.gl-lead { font-size: 1.15rem; color: #1A1A1A; margin: -0.4rem 0 0.2rem 0; }
.gl-filters { font-size: 0.95rem; color: #444444; }
.gl-chip { display: inline-block; min-width: 1.6em; padding: 0 0.35em; border: 1px solid #4D4D4D;
  border-radius: 0.25em; text-align: center; font-weight: 700; margin-right: 0.35em; }
.gl-legend { line-height: 2.0; }
.gl-badge { display: inline-block; padding: 0.05em 0.5em; border-radius: 0.3em; font-weight: 700;
  border: 1px solid #1A1A1A; }
.gl-step { font-size: 1.1rem; font-weight: 700; padding-top: 0.45rem; }
/* plotly measures text in its own hidden svg (#js-plotly-tester): measured right-to-left, Arabic
   tick labels got no margin and were cut off (issue 15); measure and draw them the same way */
.js-plotly-plot, .js-plotly-plot *, #js-plotly-tester, #js-plotly-tester * { direction: ltr; }
/* Streamlit fades captions with opacity 0.6 (3.9:1 on white); WCAG 1.4.3 needs 4.5:1 */
[data-testid="stCaptionContainer"] { opacity: 1; color: #555555; }
/* links are questions: let them wrap rather than end in an ellipsis */
[data-testid="stPageLink-NavLink"] span, [data-testid="stPageLink-NavLink"] p {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
</style>
"""

CONTRAST_CSS = """
<style>
/* high contrast / large text: black text, thicker focus rings, larger type */
html { font-size: 19px; }
body, [data-testid="stMarkdownContainer"], [data-testid="stCaptionContainer"],
[data-testid="stWidgetLabel"], .gl-filters, .gl-lead { color: #000000 !important; }
[data-testid="stCaptionContainer"] { font-size: 1rem !important; }
a { text-decoration: underline !important; }
*:focus-visible { outline: 3px solid #000000 !important; outline-offset: 2px !important; }
[data-testid="stMetric"] { background: #FFFFFF; border: 2px solid #000000; }
</style>
"""

PRESENT_CSS = """
<style>
/* presentation mode: no sidebar or chrome, large type for a projector (>= 20 px body text) */
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarNav"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stStatusWidget"], [data-testid="stMainMenu"], footer { display: none !important; }
html { font-size: 22px; }
body, [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li,
[data-testid="stCaptionContainer"], .gl-lead { font-size: 22px !important; }
[data-testid="stMainBlockContainer"] { padding-top: 1rem; padding-left: 2rem; padding-right: 2rem;
  max-width: 100%; }
h1 { font-size: 2.1rem !important; padding-top: 0.4rem !important; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p {
  font-size: 2.4rem !important; line-height: 1.2 !important; }
</style>
"""

RTL_CSS = """
<style>
/* right-to-left languages (Arabic): text flows from the right; charts keep their own layout */
[data-testid="stMain"], [data-testid="stSidebar"] { direction: rtl; text-align: right; }
.gl-chip { margin-right: 0; margin-left: 0.35em; }
</style>
"""


def inject_css(v: View) -> None:
    """Style the app for the view (st.html with only <style> takes no room on the page)."""
    css = BASE_CSS
    if v.contrast:
        css += CONTRAST_CSS
    if v.present:
        css += PRESENT_CSS
    if v.is_rtl:
        css += RTL_CSS
    st.html(css)
    st.html(i18n.page_attributes_html(v.lang), unsafe_allow_javascript=True)  # <html lang dir>


# --- sidebar ---------------------------------------------------------------------------------

def sidebar(gs: StoreAPI, v: View) -> None:
    """The shared filters, display switches, the story builder and the link to this view."""
    lng = v.lang
    cat = views.catalogue(gs)
    with st.sidebar:
        st.header(t("ui.filter.heading", lng))
        goals: list[int | str] = [ALL, *cat["goals"]]
        st.selectbox(t("ui.filter.goal", lng), goals, format_func=lambda g: goal_label(g, lng),
                     help=t("ui.filter.goal_help", lng), **widget_state("goal", "w.goal", v.goal))
        inds: list[str] = [ALL] + [c for c, g in cat["indicators"].items() if v.goal is None or g == v.goal]
        current_ind = v.indicator if v.indicator in inds else ALL
        st.selectbox(t("ui.filter.indicator", lng), inds, format_func=lambda c: indicator_option(c, lng),
                     help=t("ui.filter.indicator_help", lng), **widget_state("indicator", "w.indicator", current_ind))
        keys = views.series_keys(gs, v.indicator) if v.indicator else []
        if len(keys) > 1:  # an indicator with several series: which one the values come from
            st.selectbox(t("ui.filter.series", lng), ["", *keys[1:]] if keys else [""],
                         format_func=lambda k: series_option(k, keys, lng),
                         help=t("ui.filter.series_help", lng), **widget_state("series", "w.series", v.series
                                                                              if v.series in keys[1:] else ""))
        groups = list(cat["groups"])
        st.selectbox(t("ui.filter.group", lng), groups,
                     format_func=lambda g: views.group_label(gs, g, lng),
                     help=t("ui.filter.group_help", lng), **widget_state("group", "w.group", v.group))
        levels = [lv for lv in cat["levels"] if lv > 0] or cat["levels"] or [v.level]
        if v.level not in levels:
            levels = sorted({*levels, v.level})
        st.selectbox(t("ui.filter.level", lng), levels, format_func=lambda x: level_option(x, lng),
                     help=t("ui.filter.level_help", lng), **widget_state("level", "w.level", v.level))
        lo, hi = cache.years()
        lo, hi = min(lo, v.as_of), max(hi, v.as_of, int(View().as_of))
        if lo == hi:
            lo -= 1
        st.slider(t("ui.filter.as_of", lng), min_value=lo, max_value=hi, step=1,
                  help=t("ui.filter.as_of_help", lng), **widget_state("as_of", "w.as_of", v.as_of))
        st.slider(t("ui.filter.window", lng), min_value=1, max_value=max(WINDOW_MAX, v.window), step=1,
                  help=t("ui.filter.window_help", lng), **widget_state("window", "w.window", v.window))
        st.divider()
        st.subheader(t("ui.display.heading", lng))
        st.selectbox(t("ui.display.language", lng), list(i18n.LANGUAGES),
                     format_func=lambda c: i18n.LANGUAGES[c], **widget_state("lang", "w.lang", v.lang))
        st.toggle(t("ui.display.contrast", lng), help=t("ui.display.contrast_help", lng),
                  **widget_state("contrast", "w.contrast", v.contrast))
        from pages import presentation

        presentation.story_builder(v)
        with st.expander(t("ui.share.heading", lng), icon=":material/link:"):
            st.caption(t("ui.share.help", lng))
            st.code(share_url(v), language=None, wrap_lines=True)


# --- links and URLs ----------------------------------------------------------------------------

def app_root() -> str:
    """The app's address without page path or query (``http://host:port/``); ``./`` when unknown."""
    url = None
    try:
        url = st.context.url
    except (AttributeError, RuntimeError):
        url = None
    if not url:
        return "./"
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    if last in PAGE_BY_SLUG:
        path = path[: -len(last)].rstrip("/")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path + "/", "", ""))


def page_url(slug: str, params: dict[str, str]) -> str:
    """Full address of a page showing ``params`` (what a user copies into an e-mail)."""
    root = app_root()
    path = "" if slug == DEFAULT_PAGE else page_def(slug).slug
    query = urllib.parse.urlencode(params, safe=",~=")
    return root + path + (f"?{query}" if query else "")


def current_slug() -> str:
    return st.session_state.get("gl.slug", DEFAULT_PAGE)


def set_current_slug(slug: str) -> None:
    """Record the page this run draws (the entry script knows it before the sidebar is drawn)."""
    st.session_state["gl.slug"] = page_def(slug).slug


def share_url(v: View) -> str:
    return page_url(current_slug(), v.to_params())


def link(slug: str, label: str, v: View | None = None, *, icon: str | None = None, **changes: Any) -> None:
    """A link to another page showing the current view with ``changes`` (deep link)."""
    p = page_def(slug)
    if not p.exists:
        return
    target = (v or view()).replace(**changes)
    st.page_link(p.path, label=inert(label), icon=icon or p.icon, query_params=link_params(target))


def link_params(target: View) -> dict[str, str]:
    """Query parameters of a deep link. ``via`` (ignored by the view) makes the parameters differ
    from the ones this session last wrote even when the target view is all defaults, so that the
    landing run takes the link's view rather than the session's."""
    return {**target.to_params(), "via": current_slug()}


def go(slug: str, v: View) -> None:
    """Switch to a page showing ``v`` (stops this run)."""
    set_view(v)
    st.switch_page(page_def(slug).path, query_params=link_params(view()))


# --- page frame: header, notices, error boundary ------------------------------------------------

def run_page(slug: str, body: Callable[[Any, View], None]) -> None:
    """Draw one page: presentation controls, notices, then ``body(store, view)``.

    An unexpected error never shows a traceback: the person sees a short reference to quote,
    and the full traceback goes to the server log under that reference.
    """
    _ensure_entrypoint()
    st.session_state["gl.slug"] = slug
    v = view()
    try:
        gs = store()
        notices = st.session_state.get(_NOTICES) or []
        if v.present:
            from pages import presentation

            if presentation.slide(slug, v):  # the slide alone: its chart fills the screen
                for notice in notices:
                    st.warning(notice, icon=":material/warning:")
                return
        for notice in notices:
            st.warning(notice, icon=":material/warning:")
        body(gs, v)
        if v.present:
            presentation.footer(v)
    except Exception:
        ref = uuid.uuid4().hex[:8]
        log.exception("page %s failed (reference %s)", slug, ref)
        st.error(t("ui.error.unexpected", v.lang, ref=ref), icon=":material/error:")


_RUN = threading.local()
_ENTRY_RETRIED = "gl.entry_retried"
"""Per script thread: whether ``dashboard.py`` started the run now going on (see below)."""


def entry_started() -> None:
    """Called by ``dashboard.py`` at the start of each run: the page that follows was reached
    through the entry script (and its sidebar, URL sync and ``st.navigation``)."""
    _RUN.entered = True


def _ensure_entrypoint() -> None:
    """Rerun once through ``dashboard.py`` when this page script ran without the entry script.

    With a ``pages/`` folder beside the entry script, Streamlit starts in its legacy multipage mode
    and stays there until the entry script calls ``st.navigation``. If the first request a fresh
    server gets is a deep link (``/gap_map?...``), it runs the page alone: no sidebar, no URL sync,
    a navigation listing every file of ``pages/``, for every later visitor too. The page then
    declares the app's pages with ``st.navigation`` itself (Streamlit's own API, which ends the
    legacy mode for the server) and asks for one rerun (documented ``st.rerun``), which goes through
    the entry script; if even that rerun does not, it renders alone instead of rerunning for ever.
    """
    # The run's own marker: set by the entry script on this thread at the start of the run.
    entered, _RUN.entered = getattr(_RUN, "entered", False), False
    retried = st.session_state.get(_ENTRY_RETRIED, False)
    st.session_state[_ENTRY_RETRIED] = not entered
    if not entered and not retried:
        log.log(logging.INFO, "page script ran without the entry script: declaring the pages, rerunning")
        st.navigation(nav_pages(i18n.DEFAULT_LANG), position="hidden")
        st.rerun()


def nav_pages(lang: str) -> list[Any]:
    """The app's pages as ``st.Page`` objects, titled in ``lang`` (the entry script's navigation)."""
    return [st.Page(str(ROOT / p.path), title=t(p.title_key, lang), icon=p.icon, url_path=p.slug, default=p.slug == DEFAULT_PAGE)
            for p in available_pages()]


def header(title_key: str, lead_key: str, v: View, *, describe: bool = True, **kw: Any) -> None:
    """The page title, the user's question it answers, and the filters in words."""
    lng = v.lang
    kw = {k: inert(x) if isinstance(x, str) else x for k, x in kw.items()}  # area names and the like
    st.title(t(title_key, lng, **kw))
    st.markdown(f"<p class='gl-lead'>{_html(t(lead_key, lng, **kw))}</p>", unsafe_allow_html=True)
    if describe:
        st.markdown(f"<p class='gl-filters'>{_html(views.describe(v, store(), lng))}</p>",
                    unsafe_allow_html=True)


def empty(key: str, v: View, **kw: Any) -> None:
    """A friendly message where there is nothing to show (never a blank area, never an error)."""
    st.info(t(key, v.lang, **kw), icon=":material/info:")


# Characters that Streamlit's Markdown (CommonMark + GFM, KaTeX, :color[...] and :emoji: directives)
# or HTML give a meaning, written as numeric character references: a reference is always literal
# text in Markdown and in HTML, so the reader sees the character and nothing is interpreted.
_INERT = str.maketrans({c: f"&#{ord(c)};" for c in "&<>\\`*[]{}#!|$:~^"} | {"\n": " ", "\r": " ", "\t": " "})
# an underscore between two letters or digits never opens or closes emphasis (respondent_name stays)
_EDGE_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
_JOINER = "\u2060"  # WORD JOINER: invisible, never a line break
_LINE_START = ("-", "+", "=", ">", ".", ")")  # list, heading or quote markers where a line begins


def inert(value: Any) -> str:
    """Imported text (titles, producers, licences, methods, area, group and indicator names, column
    headers, footnotes, file names) made inert for every Markdown sink: ``st.markdown`` (with or
    without HTML), captions, headers, alerts, widget labels and help. No link, image, emphasis,
    formula, colour, emoji or HTML survives; the words are shown as typed.

    Only our own message templates may carry Markdown: pass imported values through here before
    they are put into a template or handed to Streamlit. Dataframes, ``st.text``, ``st.code`` and
    selectbox options show plain text already and need nothing.
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    # GFM turns bare URLs, www. names and e-mail addresses into links after references are decoded:
    # an invisible word joiner inside each pattern keeps them text
    text = re.sub(r"(?i)(://|www\.|@)", lambda m: m.group(1)[0] + _JOINER + m.group(1)[1:], str(value))
    text = _EDGE_UNDERSCORE.sub("&#95;", text.translate(_INERT))
    if text.lstrip().startswith(_LINE_START) or (text.lstrip()[:1].isdigit() and ". " in text[:12]):
        text = f"&#{ord(text.lstrip()[0])};" + text.lstrip()[1:]
    return text


def _html(text: str) -> str:
    """Text made safe to place inside our own HTML snippets (and inert as Markdown)."""
    return inert(text)


# --- charts and tables -------------------------------------------------------------------------

def chart(name: str, v: View, *, key: str, on_select: bool = False, **extra: Any) -> tuple[Any, Any]:
    """Draw a registered chart with its text alternative, source, data table and downloads.

    Returns ``(result, selection_event)``; the event is ``None`` unless ``on_select``.
    """
    from data_layers import figures

    result = cache.figure(name, v, **extra)
    lng = v.lang
    kwargs: dict[str, Any] = {"key": key, "config": figures.plotly_config(filename=f"gaplens-{name}"),
                              "width": "stretch"}
    if result.alt_text.strip():
        kwargs["alt"] = result.alt_text
    if on_select:
        kwargs.update(on_select="rerun", selection_mode="points")
    event = st.plotly_chart(result.fig, **kwargs)
    table = display_table(result.data, lng)
    download_buttons(result, table, key=key, v=v)  # one click away, never inside the expander
    st.caption(inert(result.alt_text))
    st.caption(inert(result.source))
    if result.empty:
        empty("ui.empty.chart", v)
    with st.expander(t("ui.chart.table", lng, title=inert(result.title)), icon=":material/table:"):
        if table.empty:
            st.caption(t("ui.empty.table", lng))
        else:
            st.dataframe(table, hide_index=True, width="stretch")
    return result, (event if on_select else None)


def table(df: pd.DataFrame, v: View, *, key: str, name: str, height: int | str = "auto",
          column_config: dict[str, Any] | None = None, raw: bool = False) -> pd.DataFrame:
    """A plain table (no chart) with its CSV download; missing, suppressed and zero kept apart."""
    shown = df if raw else display_table(df, v.lang)
    if shown.empty:
        empty("ui.empty.table", v)
        return shown
    st.dataframe(shown, hide_index=True, width="stretch", height=height, column_config=column_config)
    st.download_button(t("ui.download.csv", v.lang), data=partial(csv_bytes, shown), file_name=f"gaplens-{name}.csv",
                       mime="text/csv", key=f"{key}-csv", on_click="ignore", icon=":material/download:")
    return shown


def download_buttons(result: Any, shown: pd.DataFrame, *, key: str, v: View) -> None:
    """PNG, SVG, PDF, CSV, XLSX and a data package of a chart, under it (see :mod:`pages.downloads`)."""
    from pages import downloads

    downloads.buttons(result, shown, key=key, v=v)


# --- legends and badges ------------------------------------------------------------------------

def legend(classes: Sequence[str], v: View, *, with_help: bool = True) -> None:
    """Each class as chip (colour + symbol) + word (+ help): never colour alone."""
    lng = v.lang
    lines = []
    for c in classes:
        style = pal.status_style(c)
        chip = (f"<span class='gl-chip' style='background:{style.color};color:{pal.text_on(style.color)}'>"
                f"{_html(style.symbol)}</span>")
        text = f"<b>{_html(t(style.label_key, lng))}</b>"
        if with_help:
            text += f" — {_html(t(style.help_key, lng))}"
        lines.append(f"{chip}{text}")
    st.markdown("<div class='gl-legend'>" + "<br>".join(lines) + "</div>", unsafe_allow_html=True)


VERDICT_STYLE: dict[str, tuple[str, str]] = {
    # verdict: (symbol, background) -- word + symbol carry the meaning, the colour only helps
    "usable": ("✓", "#D7ECF7"),
    "use with caution": ("!", "#FBF3C8"),
    "not usable": ("✕", "#F6DCCB"),
    "not assessed": ("?", "#EEEEEE"),
}


def verdict_word(verdict: str, lng: str) -> str:
    key = {"usable": "ui.verdict.usable", "use with caution": "ui.verdict.caution",
           "not usable": "ui.verdict.not_usable", "not assessed": "ui.verdict.not_assessed"}.get(verdict)
    return t(key, lng) if key else (verdict or MISSING)


def verdict_badge(verdict: str, lng: str) -> str:
    symbol, bg = VERDICT_STYLE.get(verdict, ("?", "#EEEEEE"))
    return (f"<span class='gl-badge' style='background:{bg};color:{pal.TEXT}'>{symbol} "
            f"{_html(verdict_word(verdict, lng))}</span>")


def pct(value: float | None, lng: str) -> str:
    """A share as a percentage: one decimal below 10 % so that 0.2 % is not shown as 0 %."""
    if value is None or pd.isna(value):
        return MISSING
    return i18n.format_percent(value, lng, decimals=1 if 0 < value < 0.1 else 0)


def share(n: int | float, d: int | float) -> float | None:
    """n / d, or None when there is nothing to divide (shown as "—", never as 0 %)."""
    return (float(n) / float(d)) if d else None


# --- the evidence register ---------------------------------------------------------------------

def register_panel(gs: StoreAPI, v: View, *, area: str | None = None) -> None:
    """The evidence register entries about what is shown (indicator, group, and ``area`` when one
    is open), its CSV, and a small form to record a presentation; the form is hidden in read-only
    mode. Free text is shown in a table (plain text), never as Markdown."""
    from data_layers import register, settings

    lng = v.lang
    with st.expander(t("ui.register.heading", lng), icon=":material/campaign:"):
        flash = st.session_state.pop("register_flash", None)
        if flash:
            st.success(t("ui.register.added", lng, entry=_literal(flash)))
        st.caption(t("ui.register.lead", lng))
        reg = gs.register()
        shown = register.concerning(reg, indicator=v.indicator, area_code=area, group=v.group)
        if shown.empty:
            st.caption(t("ui.register.empty", lng))
        else:
            st.dataframe(shown.rename(columns={c: t(f"register.field.{c}", lng) for c in register.COLUMNS}),
                         hide_index=True, width="stretch")
        st.download_button(t("ui.register.download", lng), data=register.to_csv(reg), file_name="gaplens-register.csv",
                           mime="text/csv", key="register-csv", on_click="ignore", icon=":material/download:")
        if settings.get("read_only"):
            st.caption(t("ui.register.read_only", lng))
            return
        _register_form(gs, v, area)


def _register_form(gs: StoreAPI, v: View, area: str | None) -> None:
    from data_layers import register

    lng = v.lang
    codes = ["", *cache.areas(level=v.level)["code"]]
    if area and area not in codes:
        codes.insert(1, area)
    with st.form("register-form", clear_on_submit=True):
        st.caption(t("ui.register.add", lng))
        where = st.selectbox(t("register.field.area_code", lng), codes, index=codes.index(area) if area else 0,
                             format_func=lambda a: area_option(a, lng) if a else t("ui.register.area_all", lng))
        on = st.date_input(t("register.field.presented_on", lng), value="today", format="YYYY-MM-DD")
        fields = {c: st.text_input(t(f"register.field.{c}", lng), max_chars=register.MAX_TEXT_CHARS)
                  for c in ("presented_to", "place", "presented_by")}
        fields |= {c: st.text_area(t(f"register.field.{c}", lng), max_chars=register.MAX_TEXT_CHARS)
                   for c in ("official_response", "commitments")}
        follow = st.date_input(t("register.field.follow_up_on", lng), value=None, format="YYYY-MM-DD")
        if not st.form_submit_button(t("ui.register.submit", lng)):
            return
    entry = {**fields, "presented_on": on.isoformat() if on else "", "follow_up_on": follow.isoformat() if follow else "",
             "indicator": v.indicator or "", "group_id": v.group or "", "area_code": where}
    known = {"indicator": set(views.catalogue(gs)["indicators"]), "group_id": set(views.catalogue(gs)["groups"]),
             "area_code": set(views.catalogue(gs)["areas"])}
    try:
        row = register.add(gs.data_dir, entry, known=known)
    except register.RegisterError as e:
        st.error(t("ui.register.refused", lng, problems=_literal(str(e))))
        return
    cache.refresh_store()
    st.session_state["register_flash"] = row["entry_id"]
    st.rerun()


def _literal(text: str) -> str:
    """Text placed in a Markdown message shown literally: every Markdown and HTML character escaped."""
    import re

    return re.sub(r"([\\`*_{}\[\]()#+\-.!|>~<$&])", r"\\\1", str(text))
