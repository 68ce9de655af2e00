"""Intersections and the evidence register as a person sees them in Chromium: the gap map of an
intersectional group (rural women) draws its areas, shows the register entry that raised the gap
and that the gap has since closed, and the coverage matrix offers intersections as columns; no
exception, no outside request. Screenshots under ``test-artifacts/screenshots``."""

from __future__ import annotations

from typing import Any

import pytest
from test_dashboard_e2e import assert_clean, goto, screenshot

from data_layers.i18n import t

pytestmark = pytest.mark.browser


def test_the_gap_map_of_rural_women_shows_the_register_and_a_closed_gap(web: Any, recorder: Any, app_url: str) -> None:
    page = web
    goto(page, f"{app_url}/gap_map?indicator=1.1.1&group=rural_women&level=1&as_of=2024")
    assert_clean(page, recorder, "gap map, rural women")
    page.wait_for_function("() => document.querySelectorAll('path.choroplethlocation').length >= 17", timeout=60_000)
    assert page.locator("path.choroplethlocation").count() >= 17  # every region drawn
    assert "Every area has a current official figure" in page.inner_text("body")  # E0001's gap has closed
    panel = page.locator('[data-testid="stExpander"]', has_text=t("ui.register.heading")).first
    panel.get_by_text(t("ui.register.heading"), exact=True).first.click()
    panel.locator('[data-testid="stDataFrame"]').first.wait_for(state="visible", timeout=30_000)  # entries as text
    assert panel.get_by_text(t("ui.register.download")).count() >= 1
    assert panel.get_by_text(t("ui.register.submit")).count() >= 1  # the form (the server is not read-only)
    screenshot(page, "gap-map-register")
    screenshot(page, "gap-map-rural-women")
    assert not recorder.outside, sorted(recorder.outside)[:3]


def test_the_coverage_matrix_offers_intersections_as_columns(web: Any, recorder: Any, app_url: str) -> None:
    page = web
    goto(page, f"{app_url}/coverage_matrix?level=1&area=PH-08")
    assert_clean(page, recorder, "coverage matrix")
    page.get_by_text(t("ui.matrix.groups_intersections"), exact=True).first.click()
    page.wait_for_timeout(400)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
    page.wait_for_timeout(1500)
    assert_clean(page, recorder, "coverage matrix, intersections")
    page.wait_for_selector(".js-plotly-plot", timeout=30_000)
    svg = " ".join(page.locator(".js-plotly-plot").first.locator("text").all_text_contents())
    assert "Rural women" in svg, svg[:300]  # an intersection is a column of its own
    screenshot(page, "coverage-matrix-intersections")
