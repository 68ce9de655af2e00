"""The one palette of GapLens, shared by the pages and the exports (DESIGN.md, "Visual language").

Every coverage class has a colour, a word (an i18n key), a symbol (a Unicode glyph that DejaVu
Sans draws, used as heatmap cell text, map labels and legend prefixes) and a Plotly pattern
shape, so that a reader on a greyscale printout or with a colour-vision deficiency loses
nothing. Colours are Okabe–Ito hues; a few are shaded lighter or darker (same hue) so that the
classes also differ in lightness (CIE L*) and survive conversion to grey.

Goal colours are the UN SDG communication colours; they identify goals (chips, axis labels) and
are never used to encode data.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import vocabulary as voc

# --- Okabe–Ito (2008) colour-blind-safe set -----------------------------------------------------
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

# --- text colours (checked >= 4.5:1 against white by tests/test_palette.py) ---------------------
BACKGROUND = "#FFFFFF"
TEXT = "#1A1A1A"          # body and chart text: 17.4:1 on white
TEXT_MUTED = "#555555"    # subtitles, source lines, axis titles: 7.5:1 on white
GRID = "#D9D9D9"          # gridlines are not text; kept light so data dominates
BORDER = "#4D4D4D"        # area outlines: visible on every fill, including white (not applicable)
TEXT_ON_DARK = "#FFFFFF"
HC_TEXT = "#000000"       # high-contrast variant
HC_GRID = "#8C8C8C"
HC_BORDER = "#000000"

WCAG_AA_TEXT = 4.5
"""Minimum contrast ratio for normal-size text (WCAG 2.1 success criterion 1.4.3)."""


@dataclass(frozen=True)
class StatusStyle:
    """How one coverage class looks everywhere: fill colour, glyph, Plotly pattern, i18n keys."""

    key: str
    color: str
    symbol: str
    pattern: str

    @property
    def label_key(self) -> str:
        return f"status.{self.key}.label"

    @property
    def help_key(self) -> str:
        return f"status.{self.key}.help"


# The classes of a cell, in legend order. ``current`` .. ``not_applicable`` are the official
# statuses of DESIGN.md; ``filled`` (an official gap with present citizen data) and
# ``suppressed`` (measured, not published) are drawn as classes of their own because a reader
# must see them at a glance. Lightness (L*) steps: 35, 71, 81, 89, 48, 58, 100.
STATUS_STYLES: dict[str, StatusStyle] = {
    voc.CURRENT: StatusStyle(voc.CURRENT, "#005787", "●", ""),              # Okabe–Ito blue, darker
    voc.FILLED: StatusStyle(voc.FILLED, "#E69F00", "▲", "."),               # Okabe–Ito orange
    voc.STALE: StatusStyle(voc.STALE, "#96D1F1", "◐", "/"),                 # Okabe–Ito sky blue, lighter
    voc.AGGREGATE_ONLY: StatusStyle(voc.AGGREGATE_ONLY, "#F0E442", "Σ", "-"),  # Okabe–Ito yellow
    voc.MISSING: StatusStyle(voc.MISSING, "#BB5300", "✕", "x"),             # Okabe–Ito vermillion, darker
    voc.SUPPRESSED: StatusStyle(voc.SUPPRESSED, "#8C8C8C", "▨", "\\"),      # hatched grey
    voc.NOT_APPLICABLE: StatusStyle(voc.NOT_APPLICABLE, "#FFFFFF", "–", ""),  # blank
}
STATUS_ORDER: tuple[str, ...] = tuple(STATUS_STYLES)

# The headline pair of DESIGN.md (plus covered and not applicable, to complete the legend).
HEADLINE_STYLES: dict[str, StatusStyle] = {
    "covered": StatusStyle("covered", STATUS_STYLES["current"].color, "●", ""),
    "filled": StatusStyle("filled", STATUS_STYLES["filled"].color, "▲", "."),
    "blind_spot": StatusStyle("blind_spot", STATUS_STYLES["missing"].color, "○", "x"),
    "not_applicable": StatusStyle("not_applicable", "#FFFFFF", "–", ""),
}
HEADLINE_ORDER: tuple[str, ...] = tuple(HEADLINE_STYLES)

CITIZEN_SYMBOL = "▲"
DISAGREE_SYMBOL = "≠"  # citizen and official figures differ beyond their combined margin
"""Appended to a cell's text when citizen data is present; also the map marker shape."""
CITIZEN_MARKER = "triangle-up"
OFFICIAL_MARKER = "circle"
CITIZEN_MARKER_COLOR = "#CC79A7"   # Okabe–Ito reddish purple, outlined in TEXT on maps
DISAGREE_MARKER = "circle-open"

# Ordered single-hue ramp for scores (0-20 % ... 80-100 %): lightness falls monotonically, so
# it reads in grey and for every colour-vision type (ColorBrewer "Oranges", 5 classes).
SCORE_RAMP: tuple[str, ...] = ("#FEE6CE", "#FDAE6B", "#F16913", "#C4470A", "#7F2704")

# Up to six series in a line chart (DESIGN.md); the total is drawn in TEXT, thicker.
SERIES_COLORS: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
SERIES_DASHES: tuple[str, ...] = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
TOTAL_COLOR = TEXT

# UN SDG communication guidelines, exactly as DESIGN.md lists them.
GOAL_COLORS: dict[int, str] = {
    1: "#E5243B", 2: "#DDA63A", 3: "#4C9F38", 4: "#C5192D", 5: "#FF3A21", 6: "#26BDE2",
    7: "#FCC30B", 8: "#A21942", 9: "#FD6925", 10: "#DD1367", 11: "#FD9D24", 12: "#BF8B2E",
    13: "#3F7E44", 14: "#0A97D9", 15: "#56C02B", 16: "#00689D", 17: "#19486A",
}

FONT_FAMILY = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
"""System fonts only (no web-font fetch); DejaVu Sans has every status glyph and Arabic."""


@dataclass(frozen=True)
class Theme:
    """Text sizes and line colours of figures; ``high_contrast`` enlarges and darkens."""

    font_size: int
    title_size: int
    text: str
    muted: str
    grid: str
    border: str
    border_width: float
    high_contrast: bool


def theme(*, contrast: bool = False, present: bool = False) -> Theme:
    """The figure theme for a view: projector-friendly sizes (>= 16 px), larger when asked."""
    size = 16
    if present:
        size = 20
    if contrast:
        size += 4
    return Theme(font_size=size, title_size=size + 6,
                 text=HC_TEXT if contrast else TEXT,
                 muted=HC_TEXT if contrast else TEXT_MUTED,
                 grid=HC_GRID if contrast else GRID,
                 border=HC_BORDER if contrast else BORDER,
                 border_width=1.5 if contrast else 0.8,
                 high_contrast=contrast)


# --- colour arithmetic --------------------------------------------------------------------------

def _rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    if len(h) != 6:
        raise ValueError(f"not a #RRGGBB colour: {hex_color!r}")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(hex_color: str) -> float:
    """WCAG 2.1 relative luminance (0 black .. 1 white)."""
    r, g, b = (_linear(c) for c in _rgb(hex_color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def lightness(hex_color: str) -> float:
    """CIE L* (0..100): perceived lightness, i.e. what survives a greyscale printout."""
    y = relative_luminance(hex_color)
    return 116 * y ** (1 / 3) - 16 if y > 216 / 24389 else y * 24389 / 27


def contrast_ratio(hex1: str, hex2: str) -> float:
    """WCAG 2.1 contrast ratio between two colours (1..21)."""
    a, b = relative_luminance(hex1), relative_luminance(hex2)
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


def text_on(fill: str) -> str:
    """The text colour (near-black or white) with the higher contrast on ``fill``."""
    return TEXT if contrast_ratio(TEXT, fill) >= contrast_ratio(TEXT_ON_DARK, fill) else TEXT_ON_DARK


def goal_color(goal: int | None) -> str:
    """UN colour of a goal, or the muted text colour for an unknown one."""
    return GOAL_COLORS.get(int(goal), TEXT_MUTED) if goal is not None else TEXT_MUTED


def with_alpha(hex_color: str, alpha: float) -> str:
    """``rgba()`` string for translucent bands."""
    r, g, b = _rgb(hex_color)
    return f"rgba({r},{g},{b},{alpha:g})"


def status_style(key: str) -> StatusStyle:
    """Style of a coverage class or headline (``covered``, ``blind_spot`` included)."""
    if key in STATUS_STYLES:
        return STATUS_STYLES[key]
    return HEADLINE_STYLES[key]
