"""The one palette: readable text, status that survives greyscale and colour-vision deficiency,
and the UN goal colours exactly as DESIGN.md lists them."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest

from data_layers import palette as pal

DESIGN = Path(__file__).resolve().parents[2] / "shared" / "DESIGN.md"

# Machado, Oliveira & Fernandes (2009), severity 1.0, applied to linear RGB.
CVD = {
    "normal": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
MIN_DELTA_E = 15.0       # CIE76 distance: clearly different at a glance (2.3 is "just noticeable")
MIN_DELTA_L = 8.0        # lightness steps between status fills, so a greyscale printout keeps them apart
MIN_HEADLINE_DELTA_L = 12.0


def _lab(hex_color: str, matrix: np.ndarray) -> np.ndarray:
    rgb = np.clip(matrix @ np.array([pal._linear(c) for c in pal._rgb(hex_color)]), 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 216 / 24389, np.cbrt(t), (24389 / 27 * t + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert pal.contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert pal.contrast_ratio("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    assert pal.contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)  # the classic near-miss
    assert pal.contrast_ratio("#0072B2", "#FFFFFF") == pal.contrast_ratio("#FFFFFF", "#0072B2")


@pytest.mark.parametrize("name", ["TEXT", "TEXT_MUTED", "HC_TEXT"])
def test_chart_text_colours_reach_aa_on_white(name: str) -> None:
    assert pal.contrast_ratio(getattr(pal, name), pal.BACKGROUND) >= pal.WCAG_AA_TEXT


@pytest.mark.parametrize("contrast", [False, True])
def test_theme_text_reaches_aa_and_is_projector_sized(contrast: bool) -> None:
    th = pal.theme(contrast=contrast)
    assert pal.contrast_ratio(th.text, pal.BACKGROUND) >= pal.WCAG_AA_TEXT
    assert pal.contrast_ratio(th.muted, pal.BACKGROUND) >= pal.WCAG_AA_TEXT
    assert th.font_size >= 16 and th.title_size > th.font_size
    assert pal.theme(contrast=True).font_size > pal.theme().font_size
    assert pal.theme(present=True).font_size >= 20


@pytest.mark.parametrize("key", list(pal.STATUS_STYLES) + list(pal.HEADLINE_STYLES))
def test_symbol_text_on_every_fill_reaches_aa(key: str) -> None:
    """The glyph drawn on a cell or an area must be readable on that cell's colour."""
    fill = pal.status_style(key).color
    assert pal.contrast_ratio(pal.text_on(fill), fill) >= pal.WCAG_AA_TEXT


def test_every_status_has_its_own_symbol_and_look() -> None:
    styles = pal.STATUS_STYLES
    symbols = [s.symbol for s in styles.values()]
    assert len(set(symbols)) == len(symbols), symbols
    assert all(s.strip() for s in symbols)
    # patterns: every status except the two plain ones (current: solid, not applicable: blank) differs
    patterned = [s.pattern for k, s in styles.items() if k not in ("current", "not_applicable")]
    assert len(set(patterned)) == len(patterned) and all(patterned)
    assert styles["not_applicable"].color.upper() == "#FFFFFF"
    assert styles["suppressed"].pattern in ("/", "\\", "x")  # hatched
    head = [s.symbol for s in pal.HEADLINE_STYLES.values()]
    assert len(set(head)) == len(head)


def test_status_fills_survive_greyscale() -> None:
    light = sorted(pal.lightness(s.color) for s in pal.STATUS_STYLES.values())
    steps = np.diff(light)
    assert steps.min() >= MIN_DELTA_L, dict(zip(pal.STATUS_STYLES, light, strict=True))
    hl = [pal.lightness(pal.HEADLINE_STYLES[k].color) for k in ("covered", "filled", "blind_spot")]
    assert min(abs(a - b) for a, b in itertools.combinations(hl, 2)) >= MIN_HEADLINE_DELTA_L


def test_score_ramp_is_monotonic_in_lightness() -> None:
    light = [pal.lightness(c) for c in pal.SCORE_RAMP]
    assert all(a - b >= MIN_DELTA_L for a, b in itertools.pairwise(light)), light


@pytest.mark.parametrize("vision", list(CVD))
@pytest.mark.parametrize("family", ["status", "headline"])
def test_status_fills_stay_distinct_for_colour_blind_readers(vision: str, family: str) -> None:
    styles = pal.STATUS_STYLES if family == "status" else pal.HEADLINE_STYLES
    lab = {k: _lab(s.color, CVD[vision]) for k, s in styles.items()}
    worst = min((float(np.linalg.norm(lab[a] - lab[b])), a, b) for a, b in itertools.combinations(lab, 2))
    assert worst[0] >= MIN_DELTA_E, worst


def test_status_colours_are_okabe_ito_hues() -> None:
    """Shaded variants keep the hue of their Okabe–Ito parent (or are neutral grey / white)."""
    import colorsys

    def hue(h: str) -> float:
        r, g, b = (c / 255 for c in pal._rgb(h))
        return colorsys.rgb_to_hls(r, g, b)[0]

    parents = {"current": "blue", "filled": "orange", "stale": "sky_blue", "aggregate_only": "yellow",
               "missing": "vermillion"}
    for key, parent in parents.items():
        assert hue(pal.STATUS_STYLES[key].color) == pytest.approx(hue(pal.OKABE_ITO[parent]), abs=0.01), key
    r, g, b = pal._rgb(pal.STATUS_STYLES["suppressed"].color)
    assert r == g == b


EXPECTED_GOALS = {1: "#E5243B", 2: "#DDA63A", 3: "#4C9F38", 4: "#C5192D", 5: "#FF3A21", 6: "#26BDE2",
                  7: "#FCC30B", 8: "#A21942", 9: "#FD6925", 10: "#DD1367", 11: "#FD9D24", 12: "#BF8B2E",
                  13: "#3F7E44", 14: "#0A97D9", 15: "#56C02B", 16: "#00689D", 17: "#19486A"}


def test_goal_colours_are_exactly_the_un_colours() -> None:
    assert pal.GOAL_COLORS == EXPECTED_GOALS
    assert pal.goal_color(6) == "#26BDE2"
    assert pal.goal_color(None) == pal.TEXT_MUTED


@pytest.mark.skipif(not DESIGN.is_file(), reason="maintainers' DESIGN.md not present")
def test_goal_colours_match_design_md() -> None:
    text = DESIGN.read_text(encoding="utf-8")
    listed = {int(n): c.upper() for n, c in re.findall(r"\b(\d{1,2}) (#[0-9A-Fa-f]{6})", text)}
    assert listed == pal.GOAL_COLORS


def test_goal_colours_are_not_data_colours() -> None:
    """Goal colours identify goals; a status fill that equals one would read as a goal."""
    goal = {c.upper() for c in pal.GOAL_COLORS.values()}
    assert not goal & {s.color.upper() for s in pal.STATUS_STYLES.values()}


def test_helpers() -> None:
    assert pal.with_alpha("#0072B2", 0.2) == "rgba(0,114,178,0.2)"
    assert pal.relative_luminance("#FFFFFF") == pytest.approx(1.0)
    assert pal.lightness("#000000") == pytest.approx(0.0)
    assert pal.status_style("blind_spot") is pal.HEADLINE_STYLES["blind_spot"]
    with pytest.raises(ValueError, match="colour"):
        pal.contrast_ratio("blue", "#FFFFFF")
