"""Static figures: one persistent kaleido browser, and figures decorated to stand on their own.

Why one browser: kaleido 1.x starts Chromium for every call (about 3.5 s) unless a sync server
runs; with ``kaleido.start_sync_server(mathjax=False)`` a PNG takes about 0.4 s. ``mathjax=False``
keeps kaleido from loading MathJax from a CDN, and geo traces read their basemap from the local
``static/topojson/`` folder instead of plotly's CDN (STACK_NOTES.md). The browser is also started
behind a proxy that does not exist, so that nothing it might still ask for can leave the machine.

Why decorate: a chart pasted into a report without its source is useless (issue 6). Every
exported figure carries, as real text (annotations, so SVG and PDF keep it searchable), its
title, the filters in words, the as-of year and window, the legend, the sources (citizen datasets
marked as citizen data) and a small GapLens credit.
"""

from __future__ import annotations

import atexit
import logging
import textwrap
import threading
import warnings
from typing import Any

from ..settings import PROJECT_DIR

log = logging.getLogger(__name__)

FORMATS = ("png", "svg", "pdf")

TOPOJSON_DIR = PROJECT_DIR / "static" / "topojson"
"""Local basemaps (world_110m.json, ...) that plotly's geo traces would otherwise fetch from a CDN."""

OFFLINE_PROXY = "http://127.0.0.1:9"
"""A proxy nobody listens on (port 9, "discard"): any http(s) request of the export browser fails
at once instead of leaving the machine; file:// URLs (plotly.js, topojson) never use a proxy.
Needed because kaleido's Chromium (started by choreographer, whose flags cannot be extended)
makes background calls of its own (time, update and account services, search suggestions)."""

MIN_PNG_WIDTH = 1600
"""Issue 6: a PNG is at least 1600 px wide (sharp in a printed A4 report)."""

DEFAULT_WIDTH = 1100  # layout px of a decorated figure; 16 px text is then about 7 pt across an A4 text width
DEFAULT_HEIGHT = 700  # for bare figures without a height of their own
MAX_WIDTH = 2000  # layout px: a wide matrix may grow to this, beyond it labels must wrap
PNG_SCALE = 2.0  # PNGs at twice the layout size: 2200 px wide, sharp in print and on projectors
BASE_FONT = 16  # px: the palette theme's body size (never smaller in an export)
RENDER_TIMEOUT_S = 90  # kaleido's own default; a map of 80 provinces renders in about 1 s

_lock = threading.RLock()
"""Serialises start, stop and every render: kaleido's sync server pairs answers with questions by
order only, so two threads calling at once could swap their images."""

_browser_options: dict[str, Any] = {"proxy_server": OFFLINE_PROXY}
_state = {"started": False, "atexit": False}

warnings.filterwarnings("ignore", message="The kopts argument is ignored", category=UserWarning)


def topojson_url() -> str:
    """``file:///.../static/topojson/`` (with the trailing slash plotly expects)."""
    return TOPOJSON_DIR.resolve().as_uri() + "/"


def configure(**browser_options: Any) -> None:
    """Options for the export browser (tests route it through a recording proxy); restarts it if running."""
    with _lock:
        if _state["started"]:
            stop_server()
        _browser_options.update(browser_options)


def server_options() -> dict[str, Any]:
    """The options the export browser is (or will be) started with: ``mathjax`` is always False."""
    return {"mathjax": False, "timeout": RENDER_TIMEOUT_S, **_browser_options}


def ensure_server() -> None:
    """Start the one kaleido browser of this process if it is not running (thread-safe, idempotent)."""
    import kaleido
    import plotly.io as pio

    with _lock:
        pio.defaults.topojson = topojson_url()
        server = kaleido._global_server  # the singleton behind start_sync_server
        if _state["started"] and server.is_running() and _server_alive(server):
            return
        if server.is_running():  # died (crash, OOM), or started elsewhere without our offline options
            log.info("restarting the export browser with the offline options")
            kaleido.stop_sync_server(silence_warnings=True)
        if not TOPOJSON_DIR.is_dir():
            log.warning("no local basemap folder %s: geo figures will have no basemap", TOPOJSON_DIR)
        kaleido.start_sync_server(silence_warnings=True, **server_options())
        if not _state["atexit"]:
            atexit.register(stop_server)
            _state["atexit"] = True
        _state["started"] = True
        log.info("export browser started (%s)", server_options())


def _server_alive(server: Any) -> bool:
    thread = getattr(server, "_thread", None)
    return thread is None or thread.is_alive()


def stop_server() -> None:
    """Stop the export browser (called at exit; safe to call twice)."""
    import kaleido

    with _lock:
        kaleido.stop_sync_server(silence_warnings=True)
        _state["started"] = False


def figure_bytes(fig: Any, fmt: str = "png", *, width: int = DEFAULT_WIDTH, height: int | None = None,
                 scale: float | None = None, title: str = "") -> bytes:
    """Render a plotly figure to PNG, SVG or PDF bytes with the persistent browser.

    ``width``/``height`` are layout pixels; a PNG is scaled up when needed so that it is at least
    1600 px wide. SVG and PDF keep text as text and geo maps as vectors; a PDF is kaleido's SVG
    printed by :mod:`.printing` (one page the size of the figure, searchable text).
    """
    import kaleido

    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")
    height = height or _layout_height(fig) or DEFAULT_HEIGHT
    if scale is None:
        scale = PNG_SCALE if fmt == "png" else 1.0
    if fmt == "png" and width * scale < MIN_PNG_WIDTH:
        scale = MIN_PNG_WIDTH / width
    fig_dict = fig.to_plotly_json() if hasattr(fig, "to_plotly_json") else fig
    ensure_server()
    kfmt = "svg" if fmt == "pdf" else fmt
    with _lock:
        data = kaleido.calc_fig_sync(
            fig_dict, opts={"format": kfmt, "width": int(width), "height": int(height), "scale": scale},
            topojson=topojson_url())
    if fmt != "pdf":
        return data
    # kaleido's PDF prints an <img> of the SVG: ligature glyphs would break text search (printing.py)
    from .printing import shared_printer

    svg = data.decode("utf-8") if isinstance(data, bytes) else str(data)
    return shared_printer().print_svg(_strip_xml_declaration(svg), width=int(width), height=int(height),
                                      title=title or _title_of(fig))


def _title_of(fig: Any) -> str:
    """A figure's title as plain text ("" for a bare dict or a figure without one)."""
    try:
        return _plain(fig.layout.title.text or "")
    except AttributeError:
        return ""


def _strip_xml_declaration(svg: str) -> str:
    import re

    return re.sub(r"^\s*<\?xml[^>]*>\s*", "", svg)


def _layout_height(fig: Any) -> int | None:
    layout = getattr(fig, "layout", None)
    h = getattr(layout, "height", None) if layout is not None else None
    return int(h) if h else None


# --- decoration ------------------------------------------------------------------------------------
# Layout of a decorated figure, top to bottom: title and subtitle (the layout title, anchored to
# the figure), the chart's own plot area (its height kept), axis labels, the legend (anchored to
# the figure bottom, above the source band), the source lines and the credit. Plotly annotations
# cannot be anchored to the figure, only to the plot area, so the margins are computed here
# generously enough that plotly does not have to push them (which would move the source band).

CHAR_EM = 0.6  # average advance of a DejaVu Sans character, in font sizes (a generous estimate)
LINE = 1.35  # line height, in font sizes
PAD = 28  # px between the figure edge and the text blocks
MIN_PLOT_HEIGHT = 320  # px: below this a chart is cramped whatever its own height says


def _wrap(text: str, width_px: float, font_px: float) -> list[str]:
    """Plotly text does not wrap: break ``text`` into lines that fit ``width_px``."""
    chars = max(24, int(width_px / (font_px * CHAR_EM)))
    return textwrap.wrap(text, chars, break_long_words=False, break_on_hyphens=False) if text else []


def _escape(text: str) -> str:
    """Plotly reads a small HTML subset in text: escape what came from data."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(text: str) -> str:
    """Text without plotly's HTML tags (for width estimates)."""
    import re

    return re.sub(r"<[^>]+>", "", str(text or ""))


def _lines(text: str) -> list[str]:
    """The lines of a plotly label (``<br>`` breaks), without tags."""
    import re

    return [_plain(x) for x in re.split(r"<br\s*/?>", str(text))]


def _columns_width(fig: Any, font_px: float) -> float:
    """Width the plot area of a heatmap needs so that its horizontal column labels do not collide."""
    ax = fig.layout.xaxis
    if isinstance(ax.tickangle, (int, float)) and ax.tickangle:
        return 0.0
    n_cols = max((len(tr.x) for tr in fig.data if tr.type == "heatmap" and tr.x is not None), default=0)
    if not n_cols:
        return 0.0
    longest = max((len(line) for x in (ax.ticktext or ()) for line in _lines(str(x))), default=0)
    return n_cols * (longest * font_px * CHAR_EM + 14)


def _shows_in_legend(tr: Any) -> bool:
    show = tr.showlegend
    if show is None:  # plotly's default: traces with a legend, except heatmaps and the like
        show = tr.type not in ("heatmap", "choropleth", "choroplethmap", "histogram2d", "contour")
    return bool(show and tr.name)


LEGEND_ENTRY_CHARS = 40  # an export's legend entry wraps after this many characters a line


def _legend_lines(name: str, width_px: float, font_px: float) -> list[str]:
    """A legend entry broken into lines that fit both ``LEGEND_ENTRY_CHARS`` and ``width_px`` (a
    citizen dataset's long title ran off the exported map: "…water-point monitorin", issue 15)."""
    room = int((width_px - 56) / (font_px * CHAR_EM))
    chars = max(12, min(LEGEND_ENTRY_CHARS, room))
    return textwrap.wrap(name, chars, break_long_words=True, break_on_hyphens=False) or [name]


def wrap_legend(fig: Any, width_px: float, font_px: float) -> list[list[str]]:
    """Wrap the names of ``fig``'s legend entries in place (``<br>`` between lines, each line
    escaped as plotly text); returns each entry's plain lines, for the height estimate."""
    wrapped = []
    for tr in fig.data:
        if not _shows_in_legend(tr):
            continue
        lines = _legend_lines(_plain(tr.name), width_px, font_px)
        tr.name = "<br>".join(_escape(_unescape(x)) for x in lines)
        wrapped.append(lines)
    return wrapped


def _unescape(text: str) -> str:
    """Undo :func:`_escape` (names may already be escaped plotly text)."""
    return str(text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _legend_height(entries: list[list[str]], width_px: float, font_px: float, title: str) -> float:
    """Estimated height of a horizontal legend that wraps its (multi-line) entries into rows,
    under a title line of its own."""
    if not entries:
        return 0.0
    height = font_px * 1.9 if title else 0.0
    used, row_lines = 0.0, 1
    for lines in entries:
        w = max(len(x) for x in lines) * font_px * CHAR_EM + 56  # symbol, gap and padding per entry
        if used + w > width_px and used > 0:
            height += row_lines * font_px * LINE + font_px * 0.9
            used, row_lines = 0.0, 1
        used += w
        row_lines = max(row_lines, len(lines))
    return height + row_lines * font_px * LINE + font_px * 0.9 + 16


def _axis_space(fig: Any, font_px: float, side: str) -> float:
    """Room the cartesian x axes need above (``top``) or below (``bottom``) the plot area."""
    import math

    space = 0.0
    layout = fig.layout
    for name in [k for k in layout.to_plotly_json() if k.startswith("xaxis")] or (["xaxis"] if _cartesian(fig) else []):
        ax = layout[name]
        if ax.visible is False or (ax.side or "bottom") != side:
            continue
        labels = [str(x) for x in (ax.ticktext or ())]
        longest = max((len(line) for x in labels for line in _lines(x)), default=6)
        n_lines = max((len(_lines(x)) for x in labels), default=1)
        angle = abs(float(ax.tickangle)) if isinstance(ax.tickangle, (int, float)) else 0.0
        tick = max(font_px * 1.3 * n_lines + font_px * 0.6,
                   longest * font_px * CHAR_EM * math.sin(math.radians(angle)) + font_px * 1.4)
        title = font_px * 2.2 if ax.title and ax.title.text else 0.0
        space = max(space, tick + title + 14)
    return space


def _y_label_space(fig: Any, font_px: float, side: str) -> float:
    """Room the y-axis labels (and title) on ``side`` need, so that plotly need not push the margin."""
    layout = fig.layout
    ax = layout.yaxis
    if not _cartesian(fig) or ax.visible is False or (ax.side or "left") != side:
        return 0.0
    labels: list[str] = [str(x) for x in (ax.ticktext or ())] or [str(x) for x in (ax.categoryarray or ())]
    if not labels:
        for tr in fig.data:
            ys = getattr(tr, "y", None)
            if ys is not None and len(ys) and isinstance(ys[0], str):
                labels += [str(y) for y in ys]
    longest = max((len(_plain(x)) for x in labels), default=6)
    title = font_px * 2.2 if ax.title and ax.title.text else 0.0
    return longest * font_px * CHAR_EM + title + 24


def _x_label_overhang(fig: Any, font_px: float) -> float:
    """How far slanted x tick labels reach right of the plot area (plotly drops labels that would
    leave the figure instead of making room for them)."""
    import math

    ax = fig.layout.xaxis
    if not _cartesian(fig) or ax.visible is False or not isinstance(ax.tickangle, (int, float)) or not ax.tickangle:
        return 0.0
    labels = [str(x) for x in (ax.ticktext or ())]
    longest = max((len(_plain(x)) for x in labels), default=0)
    return longest * font_px * CHAR_EM * abs(math.cos(math.radians(float(ax.tickangle))))


GEO_TRACES = ("choropleth", "scattergeo", "choroplethmap", "scattermap", "densitymap")


def _cartesian(fig: Any) -> bool:
    """True when the figure draws x/y axes (an empty figure keeps its axes unless it hides them)."""
    if any(tr.type in GEO_TRACES for tr in fig.data):
        return False
    return bool(fig.data) or fig.layout.xaxis.visible is not False


def decorate(result: Any, view: Any = None, lang: str = "en", *, width: int | None = None) -> Any:
    """A copy of ``result.fig`` that stands on its own in a report.

    Adds, as text: the title; a subtitle with the filters in words, the as-of year and window;
    the legend (below the plot, horizontal); the source line (citizen data marked as such); a
    small GapLens credit. The chart's plot area keeps its height; the figure grows around it.
    """
    import plotly.graph_objects as go

    from .. import palette
    from ..i18n import is_rtl, t

    width = int(width or DEFAULT_WIDTH)
    fig = go.Figure(result.fig)  # a deep copy: the page's figure is never touched
    rtl = is_rtl(lang)
    layout = fig.layout
    font = float(max(layout.font.size or 0, BASE_FONT))
    small = round(font * 0.82, 1)
    title = str(getattr(result, "title", "") or "")
    subtitle = subtitle_text(result, view, lang)
    source = str(getattr(result, "source", "") or "") or t("source.none", lang)
    credit = t("source.credit", lang)

    left = PAD + _y_label_space(fig, font, "left")
    right = PAD + max(_y_label_space(fig, font, "right"), _x_label_overhang(fig, font))
    width = max(width, min(MAX_WIDTH, int(left + right + _columns_width(fig, font))))
    text_w = width - 2 * PAD
    title_lines = _wrap(title, text_w, font * 1.45)
    sub_lines = _wrap(subtitle, text_w, font)
    credit_w = len(credit) * small * CHAR_EM + 40
    src_lines = _wrap(source, text_w - credit_w - 40, small)

    top = PAD + len(title_lines) * font * 1.45 * LINE + len(sub_lines) * font * LINE + 18
    top += _axis_space(fig, font, "top")
    entries = wrap_legend(fig, text_w, small)
    legend_title = _plain(layout.legend.title.text) if layout.legend.title and layout.legend.title.text else ""
    legend_h = _legend_height(entries, text_w, small, legend_title)
    source_h = len(src_lines) * small * LINE + PAD
    bottom = _axis_space(fig, font, "bottom") + legend_h + (12 if legend_h else 0) + source_h + 10
    if not _cartesian(fig):
        bottom += 8

    old_h = float(layout.height or 0) or 500.0
    old_m = layout.margin
    plot_h = max(MIN_PLOT_HEIGHT, old_h - float(old_m.t or 80) - float(old_m.b or 80))
    height = int(plot_h + top + bottom)

    title_html = "<br>".join(f"<b>{_escape(x)}</b>" for x in title_lines)
    if sub_lines:
        title_html += (f"<br><span style='font-size:{font:g}px;color:{palette.TEXT_MUTED}'>"
                       + "<br>".join(_escape(x) for x in sub_lines) + "</span>")
    fig.update_layout(
        width=width, height=height, paper_bgcolor=palette.BACKGROUND,
        font={"family": palette.FONT_FAMILY, "size": font, "color": palette.TEXT},
        title={"text": title_html, "xref": "container", "yref": "container", "x": (1 - PAD / width) if rtl else PAD / width,
               "xanchor": "right" if rtl else "left", "y": 1 - PAD / height, "yanchor": "top",
               "font": {"size": font * 1.45, "color": palette.TEXT}, "pad": {"t": 0, "b": 0, "l": 0, "r": 0},
               "subtitle": {"text": ""},
               "automargin": False},
        margin={"t": top, "b": bottom, "l": left, "r": right, "autoexpand": True},
    )
    if entries:
        fig.update_layout(showlegend=True, legend={
            "orientation": "h", "xref": "container", "x": (1 - PAD / width) if rtl else PAD / width,
            "xanchor": "right" if rtl else "left", "yref": "container", "y": (source_h + 8) / height,
            "yanchor": "bottom", "font": {"size": small}, "bgcolor": "rgba(0,0,0,0)", "borderwidth": 0,
            # the title on a line of its own: beside the entries it took their row's room and
            # plotly let the last entry run off the figure (issue 15)
            "title": {"side": "top"} if legend_title else {}})
    # annotations sit on the plot area: the source band's top lies `bottom - source_h` px below it
    plot_left = left
    annotations = list(layout.annotations or ())
    annotations.append(go.layout.Annotation(
        text="<br>".join(_escape(x) for x in src_lines), xref="paper", yref="paper",
        x=1 if rtl else 0, xanchor="right" if rtl else "left", xshift=(right - PAD) if rtl else -(plot_left - PAD),
        y=0, yanchor="top", yshift=-(bottom - source_h + 6), align="right" if rtl else "left", showarrow=False,
        font={"size": small, "color": palette.TEXT_MUTED}))
    annotations.append(go.layout.Annotation(
        text=_escape(credit), xref="paper", yref="paper", x=0 if rtl else 1, xanchor="left" if rtl else "right",
        xshift=-(plot_left - PAD) if rtl else (right - PAD), y=0, yanchor="bottom", yshift=-(bottom - PAD + 4),
        showarrow=False, font={"size": small * 0.9, "color": palette.TEXT_MUTED}))
    fig.update_layout(annotations=annotations)
    return fig


def subtitle_text(result: Any, view: Any, lang: str) -> str:
    """The filters in words, with the as-of year and window (added unless the subtitle says them)."""
    from ..i18n import format_number, format_year, t

    sub = str(getattr(result, "subtitle", "") or "")
    as_of = getattr(view, "as_of", None)
    window = getattr(view, "window", None)
    if as_of is None:
        return sub
    as_of_text = t("describe.as_of", lang, year=format_year(as_of, lang),
                   window=format_number(window, lang, decimals=0))
    if as_of_text in sub:
        return sub
    return t("describe.sep", lang).join(x for x in (sub, as_of_text) if x)


def export_figure(result: Any, view: Any, fmt: str, lang: str = "en", *, width: int | None = None) -> bytes:
    """Decorate and render in one step (what the download buttons and the CLI call)."""
    fig = decorate(result, view, lang, width=width)
    return figure_bytes(fig, fmt, width=int(fig.layout.width), height=int(fig.layout.height),
                        title=str(getattr(result, "title", "") or ""))
