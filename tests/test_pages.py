"""The dashboard's pages under Streamlit's AppTest, over a copy of the sample store.

Every page renders without an exception or an error box and shows each chart with its data
table and CSV download; changing a filter changes the Plotly spec; deep-link query parameters
set the filters; an invalid parameter shows a notice and falls back; presentation mode hides the
sidebar and steps through its sequence; a failing page body shows a reference, not a traceback.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"
TIMEOUT_S = 60  # a cold first run builds map geometry and the DuckDB views: generous on 2 busy cores

# page script -> charts it must show on the sample (every chart needs a table and a CSV download)
PAGE_CHARTS = {
    "pages/overview.py": 2,  # coverage by group; who is hidden in totals (issue 15)
    "pages/gap_map.py": 1,
    "pages/coverage_matrix.py": 2,
    "pages/area_profile.py": 3,
    "pages/citizen_data.py": 0,
    "pages/about.py": 0,
}
N_REGIONS, N_PROVINCES = 17, 80


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the sample store (the dashboard may rebuild facts; never in the repo)."""
    dst = tmp_path_factory.mktemp("dash") / "sample_data"
    shutil.copytree(SAMPLE, dst, ignore=shutil.ignore_patterns("boundaries"))
    return dst


ORIGINAL_PAGES_MANAGER_INIT = PagesManager.__init__


@pytest.fixture(autouse=True)
def app_env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the app at the copy, start every test with empty caches, and keep Streamlit in
    ``st.navigation`` mode between runs, as a running server is.

    The pages live in ``pages/`` (no ``pages/`` folder), so Streamlit never enters its legacy
    multipage mode: every run goes through the entry script, in AppTest as on a server.
    """
    monkeypatch.setenv("GAPLENS_DATA_DIR", str(data_dir))

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def app(**params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT_S)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def open_page(page: str, **params: str) -> AppTest:
    """Run the app once (registers the pages), then open ``page`` with ``params`` as a link would."""
    at = app().run()
    for k, v in params.items():
        at.query_params[k] = v
    if page != "pages/overview.py" or params:
        at.switch_page(page).run()
    return at


def specs(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def locations(spec: dict[str, Any]) -> set[str]:
    """Area codes drawn by the choropleth traces of a map spec."""
    return {loc for tr in spec["data"] if tr.get("type") == "choropleth" for loc in tr.get("locations", [])}


def qp(at: AppTest) -> dict[str, str]:
    """The app's URL query parameters as plain strings (AppTest keeps lists for repeated keys)."""
    return {k: (v[-1] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def selectbox_value(at: AppTest, key: str) -> Any:
    return at.selectbox(key=key).value


# --- every page ------------------------------------------------------------------------------

@pytest.mark.parametrize("page", list(PAGE_CHARTS))
def test_page_renders_with_tables_and_downloads(page: str) -> None:
    at = open_page(page)
    ok(at)
    assert at.title and at.title[0].value.strip(), "every page has a title"
    assert at.sidebar.selectbox(key="w.indicator"), "the shared filters are in the sidebar"
    charts = at.get("plotly_chart")
    assert len(charts) == PAGE_CHARTS[page]
    csv_buttons = [b for b in at.get("download_button") if b.proto.id and "csv" in b.proto.label.lower()]
    assert len(at.dataframe) >= len(charts), "every chart has its data as a table"
    assert len(csv_buttons) >= len(charts), "every chart has a CSV download"
    for el in charts:
        spec = json.loads(el.proto.spec)
        assert spec["data"], "a chart with no traces"


def test_a_page_run_alone_brings_back_the_entry_script(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh server whose first request is a deep link runs ``dashboard.py`` (sidebar, URL sync)
    and then the page: with no ``pages/`` folder there is no legacy mode to run the page alone."""
    monkeypatch.setattr(PagesManager, "__init__", ORIGINAL_PAGES_MANAGER_INIT)
    at = app().run()
    at.query_params["group"] = "women"
    at.switch_page("pages/gap_map.py").run()
    ok(at)
    assert at.title[0].value == "Gap map"
    assert at.sidebar.selectbox(key="w.group").value == "women", "the entry script ran: filters and URL sync"
    assert "Women" in specs(at)[0]["layout"]["title"]["text"]


def test_navigation_registers_every_page() -> None:
    at = app().run()
    ok(at)
    scripts = {Path(str(i["script_path"])).name for i in at._registered_pages.values()}
    assert {"overview.py", "gap_map.py", "coverage_matrix.py", "area_profile.py", "citizen_data.py",
            "about.py"} <= scripts


# --- filters change the figure -------------------------------------------------------------------

@pytest.mark.parametrize(("key", "value"), [("w.indicator", "1.3.1"), ("w.group", "women"), ("w.group", "all"), ("w.level", 2)])
def test_changing_a_filter_changes_the_map_spec(key: str, value: Any) -> None:
    at = open_page("pages/gap_map.py")
    before = specs(at)[0]
    at.sidebar.selectbox(key=key).set_value(value).run()
    ok(at)
    after = specs(at)[0]
    assert after != before
    if key == "w.level":
        assert len(locations(before)) == N_REGIONS
        assert len(locations(after)) == N_PROVINCES
        assert qp(at).get("level") == "2"
    else:
        field = key.removeprefix("w.")
        assert qp(at).get(field) == str(value), "the URL follows the widget"


def test_changing_the_as_of_year_changes_the_overview() -> None:
    at = open_page("pages/overview.py")
    before = specs(at)[0]
    at.sidebar.slider(key="w.as_of").set_value(2015).run()
    ok(at)
    assert specs(at)[0] != before
    assert qp(at).get("as_of") == "2015"


def test_overview_names_every_tied_group_and_who_is_hidden_in_totals(data_dir: Path) -> None:
    """Issue 15: the headline named one group at 0 % when several tied, and nothing answered
    "which groups are most often hidden inside totals?"."""
    from data_layers import figures
    from data_layers.store import GapStore
    from data_layers.views import View

    store = GapStore(data_dir)
    try:
        groups = figures.build("overview", store, View(level=2)).data.iloc[1:]
        hidden = figures.build("hidden-groups", store, View(level=2)).data
    finally:
        store.close()
    least = groups[groups["share_covered"] == groups["share_covered"].min()]["group_label"]
    most = hidden[hidden["aggregate_only"] == hidden["aggregate_only"].max()]["group_label"]
    assert len(least) > 1, "the sample has a tie to name"
    at = open_page("pages/overview.py", level="2")
    ok(at)
    lead = next(m.value for m in at.markdown if "tie for the least official coverage" in m.value)
    assert lead.startswith(f"{len(least)} groups tie")
    assert all(name in lead for name in least)
    hidden_lead = next(m.value for m in at.markdown if m.value.startswith("Most often hidden in a total"))
    assert all(name in hidden_lead for name in most)
    assert "Which groups are most often hidden inside totals?" in " ".join(h.value for h in at.subheader)
    titles = [s.get("layout", {}).get("title", {}).get("text", "") for s in specs(at)]
    assert any("hidden in totals" in x for x in titles), titles


def test_goal_filter_keeps_the_indicator_in_the_goal() -> None:
    at = open_page("pages/gap_map.py")
    at.sidebar.selectbox(key="w.goal").set_value(5).run()
    ok(at)
    assert selectbox_value(at, "w.indicator") in ("5.2.1", "5.b.1")
    options = at.sidebar.selectbox(key="w.indicator").options
    assert all(o.startswith(("5.", "All")) for o in options)


# --- links ------------------------------------------------------------------------------------

def test_deep_link_sets_the_filters() -> None:
    at = open_page("pages/gap_map.py", indicator="1.3.1", group="women", level="2")
    ok(at)
    assert not at.warning
    assert selectbox_value(at, "w.indicator") == "1.3.1"
    assert selectbox_value(at, "w.group") == "women"
    assert selectbox_value(at, "w.level") == 2
    spec = specs(at)[0]
    assert len(locations(spec)) == N_PROVINCES
    assert "Women" in spec["layout"]["title"]["text"]
    assert qp(at) == {"indicator": "1.3.1", "group": "women", "level": "2"}


def test_deep_link_on_the_first_visit() -> None:
    at = app(level="2", as_of="2020").run()
    ok(at)
    assert selectbox_value(at, "w.level") == 2
    assert at.sidebar.slider(key="w.as_of").value == 2020
    assert "provinces" in specs(at)[0]["layout"]["title"]["text"]


def test_a_copied_link_reproduces_the_view() -> None:
    at = open_page("pages/coverage_matrix.py")
    at.sidebar.selectbox(key="w.group").set_value("rural").run()
    at.sidebar.selectbox(key="w.indicator").set_value("6.2.1").run()
    at.radio(key="w.sort").set_value("gap").run()
    ok(at)
    link = qp(at)
    assert link == {"group": "rural", "indicator": "6.2.1", "sort": "gap"}
    again = open_page("pages/coverage_matrix.py", **link)
    ok(again)
    assert specs(again) == specs(at)


def test_invalid_parameters_show_notices_and_fall_back() -> None:
    at = open_page("pages/gap_map.py", group="martians", level="9", as_of="yesterday", indicator="6.1.1")
    ok(at)
    notices = " ".join(w.value for w in at.warning)
    assert "martians" in notices and "9" in notices and "yesterday" in notices
    assert len(at.warning) == 3
    assert selectbox_value(at, "w.group") == "disability"
    assert selectbox_value(at, "w.level") == 1
    assert qp(at) == {}, "the URL now shows the fallback view (6.1.1 is the default indicator)"
    assert len(locations(specs(at)[0])) == N_REGIONS


def test_an_unknown_area_in_a_profile_link_falls_back_to_the_country() -> None:
    at = open_page("pages/area_profile.py", area="PH-NOWHERE")
    ok(at)
    assert any("PH-NOWHERE" in w.value for w in at.warning)
    assert "Philippines" in at.title[0].value


def test_area_profile_deep_link_shows_that_area() -> None:
    at = open_page("pages/area_profile.py", area="PH-05", indicator="6.1.1")
    ok(at)
    assert "Bicol" in at.title[0].value
    titles = " ".join(s["layout"]["title"]["text"] for s in specs(at))
    assert titles.count("Bicol") == 3, "matrix, group comparison and time series are about the area"


def test_gap_map_offers_the_evidence_brief_of_its_indicator() -> None:
    at = open_page("pages/gap_map.py", indicator="6.1.1")
    ok(at)
    briefs = [b for b in at.get("download_button") if "PDF" in b.proto.label and "brief" in b.proto.label.lower()]
    assert len(briefs) == 1, "one indicator-brief button on the gap map"
    assert "Indicator" in briefs[0].proto.label
    at_fr = open_page("pages/gap_map.py", indicator="6.1.1", lang="fr")
    assert any("Note de synthèse de l'indicateur" in b.proto.label for b in at_fr.get("download_button"))


def test_area_profile_offers_the_evidence_brief_of_that_area() -> None:
    at = open_page("pages/area_profile.py", area="PH-05")
    ok(at)
    briefs = [b for b in at.get("download_button") if "PDF" in b.proto.label and "brief" in b.proto.label.lower()]
    assert len(briefs) == 1, "one evidence-brief button on the area profile"
    at_fr = open_page("pages/area_profile.py", area="PH-05", lang="fr")
    assert any("Note de synthèse" in b.proto.label for b in at_fr.get("download_button"))


# --- presentation mode ----------------------------------------------------------------------------

def test_presentation_mode_hides_the_sidebar_and_steps_through_the_story() -> None:
    at = app(present="1", group="women").run()
    ok(at)
    assert not at.sidebar.selectbox, "no filters in presentation mode"
    labels = [b.label for b in at.button]
    assert {"Previous", "Next", "Exit"} <= set(labels)
    at.button(key="w.present_next").click().run()
    ok(at)
    assert at.title[0].value == "Gap map"
    params = qp(at)
    assert params["present"] == "1" and params["step"] == "1" and params["group"] == "women"
    assert params["story"].split(",")[1].startswith("gap_map")
    at.button(key="w.present_prev").click().run()
    assert at.title[0].value.startswith("Who do official statistics")
    assert at.button(key="w.present_prev").disabled


def test_a_saved_story_link_replays_its_steps() -> None:
    story = "citizen_data,gap_map~indicator=1.3.1~group=women~level=2"
    at = open_page("pages/citizen_data.py", present="1", story=story, step="0")
    ok(at)
    assert at.title[0].value == "Citizen data"
    at.button(key="w.present_next").click().run()
    ok(at)
    assert at.title[0].value == "Gap map"
    spec = specs(at)[0]
    assert len(locations(spec)) == N_PROVINCES and "Women" in spec["layout"]["title"]["text"]
    assert at.button(key="w.present_next").disabled, "the last step has no next"


# --- tables: missing, suppressed and zero look different ------------------------------------------

def test_tables_keep_missing_suppressed_and_zero_apart() -> None:
    from pages import components as ui

    df = pd.DataFrame({
        "area_name": ["A", "B", "C"],
        "official_value": [0.0, None, None],
        "official_suppressed": [False, False, True],
        "cgd_n": [0, None, 12],
    })
    shown = ui.display_table(df, "en")
    assert list(shown.columns) == ["Area", "Official value", "Citizen n"]
    assert list(shown["Official value"]) == ["0", ui.MISSING, "suppressed"]
    assert list(shown["Citizen n"]) == ["0", ui.MISSING, "12"]
    csv = ui.csv_bytes(shown).decode("utf-8-sig").splitlines()
    assert csv[1:] == ["A,0,0", "B,,", "C,suppressed,12"]


# --- no traceback, ever -------------------------------------------------------------------------

def _failing_page() -> None:
    import sys

    sys.path.insert(0, "ROOT_PLACEHOLDER")
    from pages import components as ui

    def body(gs: object, v: object) -> None:
        raise RuntimeError("boom: secret internals")

    ui.run_page("overview", body)


def test_an_unexpected_error_shows_a_reference_not_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    import inspect
    import textwrap

    src = textwrap.dedent(inspect.getsource(_failing_page)).replace("ROOT_PLACEHOLDER", str(ROOT))
    at = AppTest.from_string(src + "\n_failing_page()\n", default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "boom" not in message and "Traceback" not in message
    ref = message.rsplit(" ", 1)[-1].strip(".")
    assert len(ref) == 8
    assert any(ref in r.getMessage() for r in caplog.records), "the traceback is logged under the reference"


# --- the cache adapter ---------------------------------------------------------------------------

def test_the_shared_store_notices_a_removed_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from data_layers import cache, storage

    copy = tmp_path / "store"
    shutil.copytree(SAMPLE, copy, ignore=shutil.ignore_patterns("boundaries"))
    monkeypatch.setenv("GAPLENS_DATA_DIR", str(copy))
    monkeypatch.setattr(cache, "FINGERPRINT_CHECK_S", 0.0)
    first = cache.get_store()
    n = len(cache.datasets())
    version = first.version
    storage.remove_dataset(copy, "youth-online-poll-2024")
    second = cache.get_store()
    assert second is first, "one store (one DuckDB) for the whole server"
    assert second.version != version
    assert len(cache.datasets()) == n - 1, "cached results are keyed by the store version"


def test_only_the_cache_adapter_imports_streamlit() -> None:
    offenders = [p.relative_to(ROOT) for p in (ROOT / "data_layers").rglob("*.py")
                 if p.name != "cache.py" and ("import streamlit" in p.read_text(encoding="utf-8")
                                              or "from streamlit" in p.read_text(encoding="utf-8"))]
    assert not offenders, offenders


# --- citizen evidence that counts (DESIGN.md): the not-usable poll and Batanes' suppressed cell ----

def _page_strings(at: AppTest) -> list[str]:
    """Every text a person can read on the page: chart specs (hovers, labels) and table rows."""
    out: list[str] = []

    def walk(x: Any) -> None:
        if isinstance(x, str):
            out.append(x)
        elif isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    for spec in specs(at):
        walk(spec["data"])
    for df in at.dataframe:
        frame = df.value
        out += [" | ".join(str(v) for v in row) for row in frame.astype(str).itertuples(index=False)]
    out += [m.value for m in at.markdown]
    return out


@pytest.mark.parametrize("page", [p for p in PAGE_CHARTS if p != "pages/about.py"])
def test_no_page_calls_the_not_usable_poll_or_the_suppressed_batanes_cell_filled(page: str) -> None:
    filled = "Filled by citizen data"
    at = open_page(page, indicator="17.8.1", group="youth", level="1")
    ok(at)
    poll = [s for s in _page_strings(at) if "Student council network" in s or "youth-online-poll" in s]
    assert not [s for s in poll if filled in s], page
    if page == "pages/gap_map.py":  # the hover says why it does not count
        assert any("Does not count as filling the gap: not usable: fails the need gateway" in s for s in poll)
    if page == "pages/citizen_data.py":
        assert any("never make a cell" in w.value and "need gateway" in w.value for w in at.warning)
    at = open_page(page, indicator="8.5.2", group="disability", level="2", area="PH-BTN")
    ok(at)
    # the profile of Batanes names the group, not the area, in its hovers
    batanes = [s for s in _page_strings(at) if ("Batanes" in s or page == "pages/area_profile.py") and "n = 3" in s]
    assert not [s for s in batanes if filled in s], page
    if page in ("pages/gap_map.py", "pages/coverage_matrix.py", "pages/area_profile.py"):
        assert batanes, f"{page} shows the Batanes cell"
