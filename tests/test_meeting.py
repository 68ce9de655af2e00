"""Meeting-ready (issue 15): stories of slides, exports named after what they show, numeric
spreadsheets, data packages, and the share link of the page one is on.

Stories are real JSON files in a copy of the sample store; pages run under AppTest; exports are
opened with openpyxl and zipfile, not trusted.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from data_layers import stories
from data_layers.store import GapStore
from data_layers.views import View
from pages.components import inert

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
TIMEOUT_S = 60


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("meeting") / "sample_data"
    shutil.copytree(SAMPLE, dst, ignore=shutil.ignore_patterns("boundaries"))
    return dst


@pytest.fixture(scope="module")
def gs(data_dir: Path) -> GapStore:
    return GapStore(data_dir)


# --- stories: files, links, bad input ---------------------------------------------------------------

STORY = {
    "name": "water", "title": "Water", "slides": [
        {"page": "gap_map", "chart": "gap-map", "title": "Where", "caption": "Provinces <b>hide</b> it.",
         "filters": {"indicator": "6.1.1", "group": "rural", "level": 2}},
        {"page": "overview"},
    ]}


def test_a_story_round_trips_through_a_file_and_a_link(tmp_path: Path) -> None:
    story = stories.from_dict(STORY)
    assert story.items == ("gap_map~indicator=6.1.1~group=rural~level=2", "overview")
    assert story.slides[1].chart_name == "overview", "a slide without a chart shows its page's main chart"
    path = stories.save(tmp_path, story)
    assert path == tmp_path / "stories" / "water.json"
    assert not [p for p in path.parent.iterdir() if p.name != "water.json"], "no temporary file left behind"
    assert stories.load(tmp_path, "water") == story
    assert stories.names(tmp_path) == ["water"]
    link = stories.encode(story)
    assert link.startswith("z.") and all(c.isalnum() or c in "-_." for c in link)
    assert stories.decode(link) == story
    assert stories.load(tmp_path, "nothing") is None


@pytest.mark.parametrize(("change", "message"), [
    ({"slides": []}, "field 'slides'"),
    ({"slides": [{"page": "../etc"}]}, "slide 1, field 'page'"),
    ({"slides": [{"page": "gap_map", "filters": {"colour": "red"}}]}, "slide 1, field 'filters': 'colour'"),
    ({"slides": [{"page": "gap_map", "filters": {"group": "a b"}}]}, "slide 1, filter 'group'"),
    ({"slides": [{"page": "gap_map", "chart": "pie"}]}, "slide 1, field 'chart'"),
    ({"slides": [{"page": "gap_map"}, {"page": "overview", "title": "x" * 200}]}, "slide 2, field 'title'"),
    ({"name": "Bad Name"}, "field 'name'"),
])
def test_a_bad_story_is_refused_naming_the_slide_and_field(change: dict[str, Any], message: str,
                                                           tmp_path: Path) -> None:
    bad = {**STORY, **change}
    with pytest.raises(stories.StoryError, match=message.replace("(", r"\(")):
        stories.from_dict(bad)
    p = tmp_path / "stories" / "broken.json"
    p.parent.mkdir()
    p.write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(stories.StoryError, match=r"broken\.json"):
        stories.load(tmp_path, "broken")


def test_a_damaged_or_oversized_link_is_refused() -> None:
    with pytest.raises(stories.StoryError, match="damaged"):
        stories.decode("z.!!!notbase64")
    bomb = stories.INLINE_PREFIX + __import__("base64").urlsafe_b64encode(
        __import__("zlib").compress(b"[" + b" " * 1_000_000 + b"]")).decode()
    with pytest.raises(stories.StoryError, match="too large"):
        stories.decode(bomb)


def test_the_sample_ships_its_five_step_story(gs: GapStore) -> None:
    from data_layers.sample import SAMPLE_STORY

    story = stories.load(SAMPLE, "sample")
    assert story is not None and story == stories.from_dict(SAMPLE_STORY)
    assert len(story.slides) == 5 and all(s.title and s.caption and s.chart_name for s in story.slides)
    assert {s.page for s in story.slides} >= {"overview", "gap_map", "area_profile"}


def test_a_url_names_a_stored_story_and_keeps_the_short_name(gs: GapStore) -> None:
    v, notices = View.from_params({"present": "1", "story": "sample", "step": "4"}, store=gs)
    assert not notices
    assert v.deck == "sample" and len(v.story) == 5 and v.step == 4
    assert v.to_params()["story"] == "sample"
    inline = stories.encode(stories.from_dict(STORY))
    v2, notices = View.from_params({"story": inline, "step": "1"}, store=gs)
    assert not notices and v2.story == stories.from_dict(STORY).items and v2.to_params()["story"] == inline
    # the older compact form still works, and a single page name is not taken for a story file
    v3, _ = View.from_params({"story": "overview,gap_map~group=women"}, store=gs)
    assert v3.deck == "" and v3.story == ("overview", "gap_map~group=women")
    v4, notices = View.from_params({"story": "z.broken"}, store=gs)
    assert v4.story == () and notices and "[" not in notices[0]


# --- exports -----------------------------------------------------------------------------------------

def test_downloads_are_named_after_what_they_show() -> None:
    from data_layers.exports.package import file_stem

    v = View(indicator="6.1.1", group="rural", level=2, as_of=2024)
    assert file_stem(v, "gap-map", level_word="provinces") == "6.1.1-rural-provinces-2024-gap-map"
    assert file_stem(View(indicator=None, goal=6, area="PH-05"), "overview").startswith("goal-6-disability-ph-05-")


def test_spreadsheet_data_keeps_numbers_as_numbers_and_suppressed_as_a_word() -> None:
    from openpyxl import load_workbook

    from data_layers.exports.package import numeric_frame
    from data_layers.exports.tables import table_xlsx

    df = pd.DataFrame({"area_name": ["A", "B", "C"], "official_value": [75.8, None, 0.0],
                       "official_suppressed": [False, True, False], "status": ["current", "missing", "current"],
                       "n": [120, 3, 0]})
    frame = numeric_frame(df, headers={"area_name": "Area", "official_value": "Official value"},
                          words={"status": str.upper}, suppressed_word="suppressed", yes="yes", no="no")
    assert list(frame.columns) == ["Area", "Official value", "status", "n"]
    wb = load_workbook(io.BytesIO(table_xlsx(frame, filters={"Shown": "Rural people · provinces"},
                                             separate_filters=True, title="T")))
    assert wb.sheetnames == ["Data", "Filters", "Sources"]
    rows = list(wb["Data"].iter_rows(values_only=True))
    head = rows.index(("Area", "Official value", "status", "n"))
    assert rows[head + 1] == ("A", 75.8, "CURRENT", 120)
    assert rows[head + 2][1] == "suppressed" and rows[head + 3][1] == 0
    assert ("Shown", "Rural people · provinces") in list(wb["Filters"].iter_rows(values_only=True))


def test_a_data_package_holds_data_schema_sources_and_readme() -> None:
    from data_layers.exports import package

    frame = pd.DataFrame({"Area": ["A", "=B"], "Value": [1.5, 2.0]})
    sources = pd.DataFrame({"title": ["Survey"], "licence": ["CC-BY-4.0"], "url": [""]})
    data = package.data_package(name="6.1.1-rural-provinces-2024-gap-map", title="Map", filters="Rural",
                                frame=frame, sources=sources, rule="rule", licence_note="own licences",
                                readme="# Map\n", extra={"data/x.csv-metadata.json": b"{}"})
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = set(z.namelist())
        assert {"datapackage.json", "README.md", "data/6.1.1-rural-provinces-2024-gap-map.csv",
                "data/x.csv-metadata.json"} <= names
        desc = json.loads(z.read("datapackage.json"))
        csv_text = z.read("data/6.1.1-rural-provinces-2024-gap-map.csv").decode("utf-8-sig")
    res = desc["resources"][0]
    assert res["schema"]["fields"] == [{"name": "Area", "type": "string"}, {"name": "Value", "type": "number"}]
    assert desc["licenses"] == [{"name": "CC-BY-4.0", "title": "CC-BY-4.0"}]
    assert desc["sources"][0]["title"] == "Survey"
    assert "'=B" in csv_text, "formula-like text is neutralised in the package too"


# --- pages -------------------------------------------------------------------------------------------

ORIGINAL_INIT = PagesManager.__init__


@pytest.fixture
def app_env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As in tests/test_pages.py: the copy of the sample, empty caches, st.navigation mode."""
    monkeypatch.setenv("GAPLENS_DATA_DIR", str(data_dir))

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def _app(**params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT_S)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.usefixtures("app_env")
def test_a_slide_of_the_stored_story_shows_its_one_chart_and_no_controls() -> None:
    at = _app(present="1", story="sample", step="1").run()
    if not at.get("plotly_chart"):  # the link named the root: the slide moves to its own page
        at.run()
    _ok(at)
    charts = at.get("plotly_chart")
    assert len(charts) == 1, "a slide shows one chart"
    assert not at.selectbox and not at.radio and not at.slider and not at.text_input
    slide = stories.load(SAMPLE, "sample").slides[1]
    assert at.title[0].value == inert(slide.title)  # the presenter's words, shown as typed (inert to Markdown)
    spec = json.loads(charts[0].proto.spec)
    assert "height" not in spec["layout"], "the slide's chart takes the height of the screen (CSS)"
    assert spec["layout"]["legend"]["orientation"] == "v"
    locs = {loc for tr in spec["data"] if tr.get("type") == "choropleth" for loc in tr.get("locations", [])}
    assert len(locs) == 80, "the step's own filters apply (provinces), not the presentation's defaults"
    step_text = " ".join(m.value for m in at.markdown)
    assert "2 of 5" in step_text
    at.button(key="w.present_next").click().run()
    _ok(at)
    assert at.title[0].value == inert(stories.load(SAMPLE, "sample").slides[2].title)


@pytest.mark.usefixtures("app_env")
def test_the_share_link_names_the_page_it_is_on() -> None:
    at = _app().run()
    at.switch_page("pages/gap_map.py").run()
    _ok(at)
    links = [c.value for c in at.sidebar.code if "present=1" not in c.value]
    assert links and all("/gap_map" in x for x in links), links


@pytest.mark.usefixtures("app_env")
def test_every_chart_has_its_exports_beside_it_named_after_what_it_shows() -> None:
    at = _app(indicator="6.1.1", group="rural", level="2").run()
    at.switch_page("pages/gap_map.py").run()
    _ok(at)
    labels = {b.proto.label: b.proto for b in at.get("download_button")}
    assert {"PNG", "SVG", "PDF", "CSV", "XLSX", "ZIP"} <= set(labels)


# --- bugs of issue 15 ----------------------------------------------------------------------------------

def test_a_uniform_score_map_says_so_and_names_the_official_totals_behind_it(gs: GapStore) -> None:
    from data_layers import figures

    res = figures.gap_map(gs, View(level=2, metric="gap", group="disability"))
    scores = res.data["gap_score"].dropna()
    assert scores.nunique() == 1, "the sample's disability gap score is the same in every province"
    assert "ranges from" not in res.alt_text and res.alt_text.startswith("In all 80 provinces")
    assert "SDG indicators of the Philippines" in res.source, "the official totals the groups are hidden in"


def test_a_pdf_figure_is_titled_after_its_chart(gs: GapStore) -> None:
    pypdf = pytest.importorskip("pypdf")
    from data_layers import figures
    from data_layers.exports import export_figure

    view = View(level=1, group="rural")
    res = figures.build("overview", gs, view)
    pdf = pypdf.PdfReader(io.BytesIO(export_figure(res, view, "pdf", "en")))
    assert pdf.metadata.title == res.title


@pytest.mark.usefixtures("app_env")
def test_the_overview_says_it_counts_every_indicator_and_links_to_the_chosen_one() -> None:
    at = _app(indicator="8.5.2", group="women").run()
    _ok(at)
    text = " ".join(m.value for m in at.markdown)
    assert "every indicator and group" in text and "Unemployment (8.5.2)" in text and "Women and girls" in text
    assert any("8.5.2" in link.label for link in at.get("page_link"))


def test_map_hover_text_is_full_contrast(gs: GapStore) -> None:
    from data_layers import figures
    from data_layers import palette as pal

    for contrast in (False, True):
        layout = figures.gap_map(gs, View(level=1, contrast=contrast)).fig.to_dict()["layout"]
        assert layout["hoverlabel"]["font"]["color"] == pal.theme(contrast=contrast).text


def test_arabic_group_labels_get_the_room_they_need(gs: GapStore) -> None:
    """The overview's group names sit right of the bars in Arabic; plotly sizes the margin from
    text measured in its hidden tester svg, which must be measured left-to-right like the chart
    (checked in Chromium: the labels ended up to 141 px outside the figure before)."""
    from data_layers import figures
    from pages.components import BASE_CSS

    yaxis = figures.build("overview", gs, View(lang="ar")).fig.to_dict()["layout"]["yaxis"]
    assert yaxis["side"] == "right" and yaxis["automargin"] is True
    assert "#js-plotly-tester" in BASE_CSS


@pytest.mark.usefixtures("app_env")
def test_a_slide_says_where_its_evidence_was_raised_before() -> None:
    """The evidence register's entries about a slide's indicator and group are on the slide (as text)."""
    at = _app(present="1", story="sample", step="2").run()
    if not at.get("plotly_chart"):
        at.run()
    _ok(at)
    html = " ".join(str(getattr(h, "proto", h)) for h in at.get("html"))
    assert "Raised with Bangsamoro Planning and Development Authority" in html  # entry E0003 about 6.1.1
