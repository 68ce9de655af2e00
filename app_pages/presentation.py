"""Presentation mode: a story's slides on a projector, and the sidebar tools that build a story.

A slide is one view (page, filters, its one chart or map) with the presenter's title and caption
(:mod:`data_layers.stories`). In presentation mode a page whose slide has a chart draws only the
slide: a bar with Previous / step n of m / Next / Exit (arrow and Page keys work too), the chart
sized by CSS to the height of the screen, and the title and caption beside it in large type, so
the chart and its legend are on screen at 1280x720 and 1920x1080 with no form controls. Pages
without a chart of their own (citizen data) are shown as the page in large type.

Not a page: a helper module of the pages (registered pages are listed in ``components.PAGES``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import streamlit as st

from app_pages import components as ui
from data_layers import cache, settings, stories, views
from data_layers.i18n import t
from data_layers.stories import Slide, Story, StoryError
from data_layers.views import View

log = logging.getLogger("gaplens.pages.presentation")

DEFAULT_STORY: tuple[str, ...] = ("overview", "gap_map", "coverage_matrix", "area_profile", "citizen_data")
"""The meeting a CSO walks through by default: the big picture, where, what, one place, who speaks."""

_DRAFT = "gl.story_draft"
"""Session key of the story being built in the sidebar: a list of slide dicts."""

SLIDE_CHART_KEY = "gl-slide-chart"
LEGEND_CHARS = 26  # a legend line on a slide: about 300 px of 20 px type
CHROME_PX = 150  # the step bar (a row of buttons in 22 px type, its text on two lines) and paddings

SLIDE_CSS = f"""
<style>
/* a slide: the chart's box takes the screen's height below the step bar; plotly fills it */
[data-testid="stLayoutWrapper"]:has(> .st-key-{SLIDE_CHART_KEY}), .st-key-{SLIDE_CHART_KEY} {{
  height: calc(100vh - {CHROME_PX}px) !important; flex: 0 0 calc(100vh - {CHROME_PX}px) !important;
  max-height: none !important; min-height: 240px !important; overflow: hidden !important; }}
.st-key-{SLIDE_CHART_KEY} [data-testid="stElementContainer"],
.st-key-{SLIDE_CHART_KEY} [data-testid="stFullScreenFrame"], .st-key-{SLIDE_CHART_KEY} .stPlotlyChart {{
  height: 100% !important; }}
[data-testid="stMainBlockContainer"] {{ padding-top: 0.6rem !important; padding-bottom: 0 !important; }}
.gl-slide-title {{ font-size: 1.8rem; font-weight: 700; line-height: 1.2; margin: 0.2rem 0 0.8rem 0; }}
.gl-slide-caption {{ font-size: 1.1rem; line-height: 1.4; color: #1A1A1A; }}
.gl-slide-source {{ font-size: 0.8rem; color: #444444; margin-top: 1rem; }}
</style>
"""

KEYS_JS = """
<script>
(function () {
  if (window.__glSlideKeys) { return; }
  window.__glSlideKeys = true;
  document.addEventListener('keydown', function (e) {
    var tag = (e.target && e.target.tagName) || '';
    if (/INPUT|TEXTAREA|SELECT/.test(tag) || e.altKey || e.ctrlKey || e.metaKey) { return; }
    var rtl = document.documentElement.dir === 'rtl';
    var forward = {ArrowRight: !rtl, ArrowLeft: rtl, PageDown: true, PageUp: false}[e.key];
    if (forward === undefined) { return; }
    var b = document.querySelector('.st-key-w-present_' + (forward ? 'next' : 'prev') + ' button');
    if (b && !b.disabled) { e.preventDefault(); b.click(); }
  });
})();
</script>
"""


# --- the story being shown --------------------------------------------------------------------------

def story_of(v: View) -> tuple[str, ...]:
    """The view's presentation sequence, or the default one carrying the current filters."""
    if v.story:
        return v.story
    return tuple(views.encode_story_item(s, v) for s in DEFAULT_STORY if ui.page_def(s).exists)


def current_story(v: View) -> Story:
    """The story shown: the stored or linked one (with titles and captions), else the items."""
    if v.deck:
        try:
            found = stories.resolve(v.deck, getattr(ui.store(), "data_dir", None))
        except StoryError:
            log.log(logging.WARNING, "story %r could not be read", v.deck[:60], exc_info=True)
            found = None
        if found is not None:
            return found
    return stories.from_items(story_of(v))


def story_slugs(story: Sequence[str]) -> list[str]:
    out = []
    for item in story:
        parsed = views.story_item(item)
        out.append(parsed[0] if parsed else item)
    return out


def start_view(v: View, story: tuple[str, ...]) -> tuple[str, View]:
    """The first step of ``story`` in presentation mode: its page slug and view."""
    base = v.replace(present=True, story=story, step=0)
    slug, stepped, _ = views.story_step(base, store=ui.store(), step=0)
    return slug or ui.DEFAULT_PAGE, stepped


PAGE_TITLES: dict[str, str] = {"overview": "ui.overview.title", "gap_map": "ui.gap_map.title",
                               "coverage_matrix": "ui.matrix.title", "area_profile": "ui.profile.title",
                               "citizen_data": "ui.citizen.title"}
"""The title each page shows at its top (its menu entry is shorter)."""


def page_title(slug: str, v: View) -> str:
    """The page's own title (a slide without a title of its own shows it)."""
    key = PAGE_TITLES.get(slug, ui.page_def(slug).title_key)
    if slug == "area_profile":
        cat = views.catalogue(ui.store())
        area = v.area if v.area in cat["areas"] else views.home_area(ui.store())
        return t(key if area else "ui.profile.title_none", v.lang, area=cat["areas"].get(area or "", ""))
    return t(key, v.lang, group=views.group_label(ui.store(), v.group, v.lang))


# --- drawing --------------------------------------------------------------------------------------

def bar(slug: str, v: View, story: Story) -> None:
    """Previous / step n of m / Next / Exit, at the top of every page in presentation mode."""
    lng = v.lang
    items = story_of(v)
    n = len(items)
    step = min(v.step, n - 1) if n else 0
    base = v.replace(story=items)
    c_prev, c_info, c_next, c_exit = st.columns([1.2, 4, 1.2, 1.2], vertical_alignment="center")
    go_to: int | None = None
    if c_prev.button(t("ui.present.previous", lng), key="w.present_prev", icon=":material/arrow_back:",
                     disabled=step <= 0, width="stretch"):
        go_to = step - 1
    here_slug = story_slugs(items)[step] if n else slug
    slide = story.slides[step] if step < len(story.slides) else None
    here = (slide.title if slide and slide.title else "") or page_title(here_slug, v)
    c_info.markdown(f"<div class='gl-step'>{ui._html(t('ui.present.step', lng, n=step + 1, total=n, title=here))}</div>",
                    unsafe_allow_html=True)
    if c_next.button(t("ui.present.next", lng), key="w.present_next", icon=":material/arrow_forward:",
                     icon_position="right", disabled=step >= n - 1, width="stretch", type="primary"):
        go_to = step + 1
    if c_exit.button(t("ui.present.exit", lng), key="w.present_exit", icon=":material/close:", width="stretch"):
        ui.go(slug, v.replace(present=False, step=0))
    st.html(KEYS_JS, unsafe_allow_javascript=True)
    if go_to is not None:
        target_slug, stepped, _ = views.story_step(base, store=ui.store(), step=go_to)
        ui.go(target_slug or ui.DEFAULT_PAGE, stepped)


def slide(slug: str, v: View) -> bool:
    """Draw the view's slide; ``False`` when the slide has no chart (the page then draws itself)."""
    story = current_story(v)
    bar(slug, v, story)
    step = min(v.step, len(story.slides) - 1) if story.slides else 0
    s = story.slides[step] if story.slides else Slide(page=slug)
    # the step's own filters on top of the presentation's switches (a link to step n carries
    # only the story and the step; the buttons carry the filters too: both give the same view)
    _, shown, _ = views.story_step(v.replace(story=story_of(v)), store=ui.store(), step=step)
    if s.page != slug and ui.page_def(s.page).exists and ui.page_def(s.page).slug == s.page:
        # a link to step n lands on whatever page its path names: go to the slide's own page
        ui.go(s.page, shown)
    name = s.chart_name
    if not name:
        return False
    st.html(SLIDE_CSS)
    result = cache.figure(name, shown)
    chart_col, text_col = st.columns([3.3, 1.1], gap="medium")
    with text_col, st.container(key="gl-slide-text"):
        st.title(ui.inert(s.title) if s.title else page_title(slug, v), anchor=False)  # the presenter's words: text
        st.html("<style>.st-key-gl-slide-text h1 { font-size: 1.7rem !important; }</style>")
        if s.caption:  # the presenter's words: text, never Markdown
            st.html(f"<p class='gl-slide-caption'>{ui._html(s.caption)}</p>")
        else:
            st.html(f"<p class='gl-slide-caption'>{ui._html(result.alt_text)}</p>")
        st.html(f"<p class='gl-slide-source'>{ui._html(result.source)}</p>")
    with chart_col, st.container(key=SLIDE_CHART_KEY, height=480, border=False):
        st.plotly_chart(fitted(result.fig), key=f"slide-{step}", height="stretch", width="stretch",
                        config=_config(name), alt=result.alt_text or None)
    return True


def fitted(fig: Any) -> Any:
    """A copy of a figure that takes the height of its box (the cached figure is never changed).

    The legend stands beside the plot, one entry a line, so it never wraps into the plot or off
    the screen; long entries (a citizen dataset's title) are broken onto short lines, else the
    legend would take the width and squeeze a map to a strip (and over the map it hid the very
    areas the slide is about).
    """
    import textwrap

    import plotly.graph_objects as go

    out = go.Figure(fig)
    rtl = bool(out.layout.title.xanchor == "right")
    for tr in out.data:
        name = getattr(tr, "name", None)
        if name and getattr(tr, "showlegend", None) is not False and len(name) > LEGEND_CHARS and "<br>" not in name:
            tr.name = "<br>".join(textwrap.wrap(name, LEGEND_CHARS, break_long_words=False))
    out.update_layout(height=None, autosize=True, margin={"b": 50, "autoexpand": True},
                      legend={"orientation": "v", "yref": "paper", "x": -0.02 if rtl else 1.02, "y": 1,
                              "yanchor": "top", "xanchor": "right" if rtl else "left"})
    return out


def _config(name: str) -> dict[str, Any]:
    from data_layers import figures

    cfg = figures.plotly_config(filename=f"gaplens-{name}")
    cfg["displayModeBar"] = False  # a projector needs no toolbar
    return cfg


def footer(v: View) -> None:
    """The saved-as-a-link form of the running presentation (start from step 1)."""
    lng = v.lang
    slug, first = start_view(v, story_of(v))
    with st.expander(t("ui.present.save", lng), icon=":material/link:"):
        st.caption(t("ui.story.link", lng))
        st.code(ui.page_url(slug, first.to_params()), language=None, wrap_lines=True)


# --- building a story in the sidebar --------------------------------------------------------------

def _draft(v: View) -> list[dict[str, Any]]:
    draft = st.session_state.get(_DRAFT)
    if isinstance(draft, list):
        return draft
    return [s.to_dict() for s in current_story(v).slides] if v.story else []


def slide_label(d: dict[str, Any], lng: str) -> str:
    title = d.get("title") or t(ui.page_def(str(d.get("page", ""))).title_key, lng)
    f = d.get("filters") or {}
    bits = [str(f[k]) for k in ("indicator",) if k in f]
    if "group" in f:
        bits.append(views.group_label(ui.store(), str(f["group"]), lng))
    if "area" in f:
        bits.append(views.area_name(ui.store(), str(f["area"])))
    return title + (f" ({', '.join(bits)})" if bits else "")


def story_builder(v: View) -> None:
    """Sidebar: add this view as a slide (with a title and caption), then start, save or share."""
    lng = v.lang
    with st.expander(t("ui.story.heading", lng), icon=":material/slideshow:"):
        st.caption(t("ui.story.help", lng))
        draft = _draft(v)
        if draft:
            st.html("<ol>" + "".join(f"<li>{ui._html(slide_label(d, lng))}</li>" for d in draft) + "</ol>")
        else:
            st.caption(t("ui.story.default", lng))
        title = st.text_input(t("ui.story.slide_title", lng), key="w.story_title", max_chars=stories.MAX_TITLE_CHARS)
        caption = st.text_area(t("ui.story.slide_caption", lng), key="w.story_caption",
                               max_chars=stories.MAX_CAPTION_CHARS, height=90)
        c1, c2 = st.columns(2)
        if c1.button(t("ui.story.add", lng), key="w.story_add", width="stretch"):
            item = views.encode_story_item(ui.current_slug(), v)
            parsed = views.story_item(item)
            if parsed:
                d = Slide(page=parsed[0], filters=tuple(parsed[1].items()), title=" ".join(title.split()),
                          caption=" ".join(caption.split())).to_dict()
                st.session_state[_DRAFT] = [*draft, d][: views.MAX_STORY_ITEMS]
            st.rerun()
        if c2.button(t("ui.story.clear", lng), key="w.story_clear", width="stretch", disabled=not draft):
            st.session_state[_DRAFT] = []
            ui.set_view(v.replace(story=(), step=0, deck=""))
            st.rerun()
        story = _story_from_draft(draft) if draft else None
        items = story.items if story else story_of(v)
        slug, first = start_view(v, items)
        if story is not None:
            first = first.replace(deck=stories.encode(story))
        st.page_link(ui.page_def(slug).path, label=t("ui.story.start", lng), icon=":material/play_arrow:",
                     query_params=ui.link_params(first))
        st.caption(t("ui.story.link", lng))
        st.code(ui.page_url(slug, first.to_params()), language=None, wrap_lines=True)
        if story is not None:
            save_and_download(story, v)
        open_file(v)


def _story_from_draft(draft: list[dict[str, Any]]) -> Story | None:
    try:
        return stories.from_dict({"slides": draft})
    except StoryError:
        log.log(logging.WARNING, "the story draft is not valid", exc_info=True)
        return None


def save_and_download(story: Story, v: View) -> None:
    lng = v.lang
    name = st.text_input(t("ui.story.name", lng), key="w.story_name", max_chars=40,
                         help=t("ui.story.name_help", lng))
    named = Story(name=name.strip(), title=story.title, lang=lng, slides=story.slides)
    c1, c2 = st.columns(2)
    can_save = bool(stories.NAME_RE.match(named.name)) and not settings.get("read_only")
    if c1.button(t("ui.story.save", lng), key="w.story_save", width="stretch", disabled=not can_save):
        try:
            stories.save(ui.store().data_dir, named)
            st.success(t("ui.story.saved", lng, name=named.name), icon=":material/check:")
        except (StoryError, OSError) as e:
            st.error(t("ui.story.save_failed", lng), icon=":material/error:")
            st.text(str(e)[:300])  # the problem names the user's own text: shown as text, never Markdown
    c2.download_button(t("ui.story.download", lng), data=named.to_json().encode("utf-8"),
                       file_name=f"{named.name or 'gaplens-story'}.json", mime="application/json",
                       key="w.story_download", on_click="ignore", width="stretch", icon=":material/download:")


def open_file(v: View) -> None:
    """Open a story file (JSON) and start it; a bad file is refused with what is wrong."""
    lng = v.lang
    up = st.file_uploader(t("ui.story.open", lng), type=["json"], key="w.story_file")
    if up is None:
        return
    try:
        story = stories.from_json(up.getvalue(), where=up.name)
    except StoryError as e:
        st.error(t("ui.story.bad_file", lng), icon=":material/error:")
        st.text(str(e)[:300])
        return
    slug, first = start_view(v, story.items)
    first = first.replace(deck=stories.encode(story))
    st.page_link(ui.page_def(slug).path, label=t("ui.story.start_file", lng, n=len(story.slides)),
                 icon=":material/play_arrow:", query_params=ui.link_params(first))
