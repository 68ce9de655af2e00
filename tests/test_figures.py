"""Figures, tested through their Plotly spec (``fig.to_dict()``), never through pixels.

The sample store's known facts are used: disability figures for 6.1.1 are hidden in the total in
every province, rural 6.1.1 is filled by water-point monitoring in some provinces, the official
disability figure for 8.5.2 in the Cordillera (PH-15, 2016) is suppressed, and the citizen
disability survey is suppressed in Batanes (PH-BTN, n = 3).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from data_layers import figures, i18n
from data_layers import palette as pal
from data_layers.views import View

OFFICIAL_PRODUCER = "GapLens sample generator"
WATER_PRODUCER = "Barangay water committees"
SYMBOLS = {s.symbol for s in pal.STATUS_STYLES.values()}
LEGIBLE_PX = 14
MAX_MAP_JSON = 1_500_000   # level-2 map (80 provinces + 1,132 citizen points) in bytes


def vals(x: Any) -> list[Any]:
    """Plain values of a trace array (plotly 7 writes numpy arrays as base64 typed arrays)."""
    if isinstance(x, dict) and "bdata" in x:
        return np.frombuffer(base64.b64decode(x["bdata"]), dtype=np.dtype(x["dtype"])).tolist()
    return list(x)


def traces(fig: Any, kind: str) -> list[dict[str, Any]]:
    return [t for t in fig.to_dict()["data"] if t["type"] == kind]


def choropleths(res: figures.ChartResult) -> list[dict[str, Any]]:
    return traces(res.fig, "choropleth")


HOVER_FIELD = re.compile(r"%\{([^}]*)\}")


def hover_texts(trace: dict[str, Any]) -> list[str]:
    """The hover label of each point as the browser shows it: plotly.js fills ``%{customdata[j]}``
    and ``%{hovertext}`` of the ``hovertemplate`` per point and moves ``<extra>`` to a side box."""
    template = trace.get("hovertemplate") or "%{hovertext}"
    n = len(trace["customdata"]) if "customdata" in trace else len(trace["hovertext"])

    def field(i: int, name: str) -> str:
        if name == "hovertext":
            return str(trace["hovertext"][i])
        m = re.fullmatch(r"customdata\[(\d+)\]", name)
        assert m, f"unexpected hover field {name!r}"
        return str(trace["customdata"][i][int(m[1])])

    out = [HOVER_FIELD.sub(lambda m, i=i: field(i, m[1]), template) for i in range(n)]
    return [re.sub(r"<extra>.*?</extra>", "", text) for text in out]


def map_hover(res: figures.ChartResult) -> dict[str, str]:
    """Area code -> its hover label, over all choropleth traces (an area appears once)."""
    out: dict[str, str] = {}
    for t in choropleths(res):
        for code, text in zip(t["locations"], hover_texts(t), strict=True):
            assert code not in out, code
            out[code] = text
    return out


def legend_names(res: figures.ChartResult) -> list[str]:
    return [t["name"] for t in res.fig.to_dict()["data"] if t.get("showlegend")]


def expected_classes(store, view: View) -> dict[str, str]:
    cells = store.coverage(level=view.level, as_of=view.as_of, window=view.window,
                           indicators=[view.indicator], groups=[view.group])
    return {r["area_code"]: figures.cell_class(r) for r in cells.to_dict("records")}


# --- the gap map --------------------------------------------------------------------------------

@pytest.mark.parametrize("level", [0, 1, 2])
def test_map_has_one_location_per_area(sample_store, level: int) -> None:
    res = figures.gap_map(sample_store, View(level=level))
    locs = [code for t in choropleths(res) for code in t["locations"]]
    areas = set(sample_store.areas(level=level)["code"])
    assert len(locs) == len(set(locs)) == len(areas)
    assert set(locs) == areas
    assert len(res.data) == len(areas)
    # every location is clickable to its profile: customdata carries the area code
    for t in choropleths(res):
        assert [c[0] for c in t["customdata"]] == t["locations"]


def _exterior_rings(geometry: dict[str, Any]) -> Iterator[list[list[float]]]:
    polys = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    for poly in polys:
        yield poly[0]


@pytest.mark.parametrize("level", [1, 2])
def test_map_polygons_are_clockwise(sample_store, level: int) -> None:
    """``geo`` traces draw counter-clockwise polygons inside out (STACK_NOTES)."""
    res = figures.gap_map(sample_store, View(level=level))
    rings = [ring for t in choropleths(res) for f in t["geojson"]["features"]
             for ring in _exterior_rings(f["geometry"])]
    assert len(rings) >= len(res.data)
    assert not any(shapely.is_ccw(shapely.LinearRing(r)) for r in rings)
    assert res.fig.layout.geo.fitbounds == "locations"


@pytest.mark.parametrize("view", [
    View(level=2),
    View(level=2, group="rural"),
    View(level=1, indicator="8.5.2", as_of=2016),
    View(level=2, indicator="14.1.1", group="all"),
    View(level=2, indicator="3.1.2", group="men"),
])
def test_map_classes_use_palette_colours_and_words(sample_store, view: View) -> None:
    res = figures.gap_map(sample_store, view)
    expected = expected_classes(sample_store, view)
    seen = set()
    for t in choropleths(res):
        cls = t["legendgroup"]
        assert t["colorscale"][0][1] == t["colorscale"][-1][1] == pal.STATUS_STYLES[cls].color
        for code in t["locations"]:
            assert expected[code] == cls, code
        seen.add(cls)
    assert seen == set(expected.values())
    names = legend_names(res)
    for cls in seen:
        label = f"{pal.STATUS_STYLES[cls].symbol} {i18n.t(pal.STATUS_STYLES[cls].label_key)}"
        assert label in names
    for name in names:
        assert re.search(r"[A-Za-z]{3,} [A-Za-z]{2,}", name), name   # words, not codes
        assert "_" not in name


def test_map_shows_symbols_on_areas_for_greyscale(sample_store) -> None:
    res = figures.gap_map(sample_store, View(level=2, group="rural"))
    glyphs = [t for t in traces(res.fig, "scattergeo") if t.get("mode") == "text"]
    drawn = {s for t in glyphs for s in t["text"]}
    assert drawn <= SYMBOLS and {"▲", "Σ"} <= drawn
    for t in glyphs:  # glyph colour readable on its fill
        cls = t["legendgroup"]
        assert pal.contrast_ratio(t["textfont"]["color"], pal.STATUS_STYLES[cls].color) >= pal.WCAG_AA_TEXT


def test_map_hover_names_status_values_and_producers(sample_store) -> None:
    res = figures.gap_map(sample_store, View(level=2, group="rural"))
    by_class: dict[str, list[str]] = {}
    for t in choropleths(res):
        by_class.setdefault(t["legendgroup"], []).extend(hover_texts(t))
    filled = by_class["filled"][0]
    assert "Filled by citizen data" in filled and WATER_PRODUCER in filled and "n =" in filled
    res = figures.gap_map(sample_store, View(level=1, group="all"))
    current = next(hover_texts(t)[0] for t in choropleths(res) if t["legendgroup"] == "current")
    assert OFFICIAL_PRODUCER in current and re.search(r"Official: \d+\.\d%", current)
    assert res.data["official_producer"].str.contains(OFFICIAL_PRODUCER).any()


def test_map_citizen_place_points(sample_store) -> None:
    res = figures.gap_map(sample_store, View(level=2))
    pts = [t for t in traces(res.fig, "scattergeo") if t.get("mode") == "markers" and t["lat"] != [None]]
    assert len(pts) == 1
    assert pts[0]["marker"]["symbol"] == pal.CITIZEN_MARKER
    assert pts[0]["name"].startswith("Citizen data: Community water-point monitoring")
    assert WATER_PRODUCER in hover_texts(pts[0])[0]
    assert "citizen data" in res.source
    # a score map is about many indicators: one indicator's points would mislead
    res = figures.gap_map(sample_store, View(level=2, metric="gap"))
    assert not [t for t in traces(res.fig, "scattergeo") if t.get("mode") == "markers" and t["lat"] != [None]]


@pytest.mark.parametrize("point_kind", ["people", "place"])
def test_people_points_are_never_drawn(tiny_store, point_kind: str) -> None:
    store = tiny_store("""
        kind,     indicator, area_code, period, value, n, lat, lon, is_point
        official, 6.1.1,     P1,        2023,   50,    100, , ,    false
        citizen,  6.1.1,     P1,        2023,   1,     1,   4.0, 2.0, true
        citizen,  6.1.1,     P1,        2023,   0,     1,   4.1, 2.1, true
    """, point_kind=point_kind)
    res = figures.gap_map(store, View(level=2, group="all"))
    pts = [t for t in traces(res.fig, "scattergeo") if t.get("mode") == "markers" and t["lat"] != [None]]
    assert len(pts) == (0 if point_kind == "people" else 1)


def test_changing_the_view_changes_the_spec(sample_store) -> None:
    base = View(level=2)
    variants = [base, base.replace(indicator="8.5.2"), base.replace(group="rural"), base.replace(level=1),
                base.replace(metric="blind_spot"), base.replace(metric="gap")]
    specs = []
    for v in variants:
        d = figures.gap_map(sample_store, v).fig.to_dict()
        for t in d["data"]:
            t.pop("geojson", None)
        specs.append(json.dumps(d, sort_keys=True, default=str))
    assert len(set(specs)) == len(specs)


def test_score_maps_use_the_ordered_ramp(sample_store) -> None:
    res = figures.gap_map(sample_store, View(level=1, metric="gap", group="all"))
    colours = {t["colorscale"][0][1] for t in choropleths(res)}
    assert colours <= set(pal.SCORE_RAMP) | {pal.STATUS_STYLES["not_applicable"].color}
    scores = res.data.set_index("area_code")["gap_score"]
    for t in choropleths(res):
        i = pal.SCORE_RAMP.index(t["colorscale"][0][1])
        for code in t["locations"]:
            assert figures.SCORE_BINS[i] <= scores[code] <= figures.SCORE_BINS[i + 1]
    assert "all indicators" in res.subtitle and "Safe drinking water" not in res.subtitle


def test_map_alt_text_agrees_with_the_data(sample_store) -> None:
    for view in (View(level=2), View(level=2, group="rural"), View(level=1, group="women", indicator="1.1.1")):
        res = figures.gap_map(sample_store, view)
        m = re.match(r"Of (\d+) (\w+), (\d+) have no current official figure .*; citizen data covers (\d+) of them\.",
                     res.alt_text)
        assert m, res.alt_text
        cls = expected_classes(sample_store, view)
        n_gap = sum(c in ("filled", "stale", "aggregate_only", "missing") for c in cls.values())
        assert (int(m[1]), int(m[3]), int(m[4])) == (len(cls), n_gap, sum(c == "filled" for c in cls.values()))
    res = figures.gap_map(sample_store, View(level=2, group="rural"))
    assert res.alt_text.startswith("Of 80 provinces, ")
    assert not res.alt_text.endswith("covers 0 of them.")   # rural water points fill some provinces


def test_level2_map_payload_is_reasonable(sample_store) -> None:
    res = figures.gap_map(sample_store, View(level=2))
    assert len(res.fig.to_json()) < MAX_MAP_JSON
    geom = figures.map_geometry(sample_store, 2)
    assert geom is figures.map_geometry(sample_store, 2)  # built once per store version and level
    assert geom.nbytes <= figures.MAP_BYTES_FLOOR
    full = figures.map_geometry(sample_store, 2, full=True)
    count = lambda g: sum(len(json.dumps(f["geometry"])) for f in g.geojson["features"])  # noqa: E731
    assert count(full) >= count(geom)


def test_five_thousand_areas_fit_the_payload_budget() -> None:
    n, vertices = 5000, 80
    side = int(np.ceil(np.sqrt(n)))
    rng = np.random.default_rng(0)
    ang = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    polys = []
    for i in range(n):
        cx, cy = 117 + (i % side) * 0.1, 5 + (i // side) * 0.1
        r = 0.045 * (1 + 0.1 * rng.standard_normal(vertices))
        polys.append(shapely.Polygon(np.c_[cx + r * np.cos(ang), cy + r * np.sin(ang)]))
    gdf = gpd.GeoDataFrame({"code": [f"A{i}" for i in range(n)], "name": [f"Area {i}" for i in range(n)]},
                           geometry=polys, crs=4326)
    geom = figures._build_geometry(gdf, full=False)
    assert len(geom.geojson["features"]) == n      # simplification loses no area
    assert geom.nbytes <= figures.MAP_BYTES_CEILING
    text = json.dumps(geom.geojson, separators=(",", ":"))
    assert len(text) == pytest.approx(geom.nbytes, rel=0.01)
    assert geom.tolerance > 0 and not re.search(rf"\.\d{{{geom.decimals + 1},}}", text)


# --- a national map: fast, light, and the same to the eye ----------------------------------------

# Together these views hold every class and every kind of hover line of the sample (asserted below).
HOVER_VIEWS = [
    View(level=2, indicator="4.1.2", group="disability"),        # hidden in a total, filled, missing
    View(level=1, indicator="8.5.2", group="disability", as_of=2016),   # suppressed, outcome gap
    View(level=1, indicator="1.2.1", group="disability"),        # stale
    View(level=1, indicator="3.1.2", group="women"),             # not applicable
    View(level=2, group="rural"),                                # citizen values and producers
]


def _expected_hover(store, view: View, res: figures.ChartResult) -> dict[str, str]:
    """The per-cell hover text (``figures._hover_cell``, still used by the matrix) of each area."""
    producer = res.data.set_index("area_code")["official_producer"]
    cells = store.coverage(level=view.level, as_of=view.as_of, window=view.window, indicators=[view.indicator],
                           groups=[view.group])
    unit = figures._unit(store, view.indicator)
    return {r["area_code"]: figures._hover_cell(store, r, view, unit=unit, official_producer=producer[r["area_code"]],
                                                head=r["area_name"]) for r in cells.to_dict("records")}


@pytest.mark.parametrize("lang", ["en", "fr", "es", "ar"])
def test_map_hover_is_the_per_cell_text(sample_store, lang: str) -> None:
    """Hover texts are shipped as one template per trace plus per-area values; what the browser
    assembles is, area by area, exactly the text of the per-cell function, in every language."""
    seen: set[str] = set()
    for base in HOVER_VIEWS:
        view = base.replace(lang=lang)
        res = figures.gap_map(sample_store, view)
        assert map_hover(res) == _expected_hover(sample_store, view, res)
        d = res.data
        seen |= set(expected_classes(sample_store, view).values())
        seen |= {"total_only"} if (d["official_latest_year"].isna() & d["total_latest_year"].notna()).any() else set()
        seen |= {"citizen_suppressed"} if (d["cgd_suppressed"] & (d["cgd_status"] != "none")).any() else set()
        seen |= {"citizen_value"} if (~d["cgd_suppressed"] & (d["cgd_status"] != "none")).any() else set()
        seen |= {"outcome_gap"} if d["outcome_gap"].notna().any() else set()
        seen |= {"producers"} if (d["official_producer"].ne("") & d["citizen_producer"].ne("")).any() else set()
    assert seen >= set(pal.STATUS_ORDER) | {"total_only", "citizen_suppressed", "citizen_value", "outcome_gap",
                                            "producers"}


def test_map_hover_of_stale_citizen_data_and_marked_up_names(tiny_store) -> None:
    areas = """
        code,name,level,parent_code
        XX,Testland,0,
        R1,Region One,1,XX
        P1,Province One,2,R1
        P2,<i>Two</i> & Co,2,R1
        P3,Province Three,2,R1
    """
    store = tiny_store("""
        kind,     indicator, area_code, period, value, n
        official, 6.1.1,     P1,        2023,   50,    100
        citizen,  6.1.1,     P2,        2015,   40,    30
        citizen,  6.1.1,     P3,        2023,   45,    3
    """, areas=areas)
    view = View(level=2, group="all", indicator="6.1.1")
    res = figures.gap_map(store, view)
    shown, expected = map_hover(res), _expected_hover(store, view, res)
    assert shown == expected
    assert i18n.t("hover.citizen_stale") in shown["P2"] and "&lt;i&gt;Two&lt;/i&gt; &amp; Co" in shown["P2"]
    assert "fewer than 5" in shown["P3"]


def test_hover_text_that_looks_like_a_plotly_field_is_shipped_whole() -> None:
    """Constant text containing ``%{`` (a producer's name, say) would be read by plotly as a
    field: such areas get their finished text instead of a template."""
    lines = figures._HoverLines(2)
    lines.slots = {"v": np.array(["1", "2"], dtype=object)}
    lines.add(["Made by %{odd} people: " + figures._slot("v")], 0)
    _, templates = lines.groups()
    fields = lines.trace_fields(templates[0], np.arange(2), lead=["A", "B"])
    assert hover_texts(fields) == ["Made by %{odd} people: 1", "Made by %{odd} people: 2"]
    assert fields["hovertemplate"] == "%{customdata[1]}<extra></extra>"


TRICKY_VALUES = [0.0, -0.0, 0.04, -0.04, 0.05, 0.15, 0.25, 2.5, 3.5, 41.85, 41.849999, 45.25, -45.25, 99.95, 99.96,
                 100.0, 1234.55, 1234.56, -0.5, 0.5, 1.5, 2.675, 1e7 + 0.05, 123456789.25, 2e15, 1 / 3, None,
                 float("nan"), 7, 12345]


@pytest.mark.parametrize("lang", ["en", "fr", "es", "ar"])
def test_many_values_are_formatted_as_one_by_one(lang: str) -> None:
    """Maps format each distinct rounded value once; the text equals i18n's for every value,
    rounding ties, negative zero, large numbers and missing values included (twice: cached)."""
    rng = np.random.default_rng(1)
    values = TRICKY_VALUES + [round(float(x), int(d)) for x, d in zip(rng.uniform(-100, 100, 300),
                                                                     rng.integers(0, 5, 300), strict=True)]
    values += list(rng.uniform(0, 1, 100))
    cases = {("value", "percent"): lambda v: i18n.format_value(v, "percent", lang),
             ("value", "days"): lambda v: i18n.format_value(v, "days", lang),
             ("value", ""): lambda v: i18n.format_value(v, "", lang),
             ("percent", ""): lambda v: i18n.format_percent(v, lang),
             ("count", ""): lambda v: i18n.format_number(v, lang, decimals=0),
             ("points", ""): lambda v: i18n.format_points(v, lang)}
    for (kind, unit), one in cases.items():
        expected = [one(v) for v in values]
        for _ in range(2):
            assert figures._format_many(values, kind, lang, unit).tolist() == expected, (kind, unit)
    years = [2016, 2016.0, 1999.7, None, float("nan"), 2024]
    assert figures._format_years(years, lang).tolist() == [i18n.format_year(y, lang) for y in years]


def test_classes_at_once_are_the_classes_one_by_one(sample_store) -> None:
    cells = sample_store.coverage(level=2, as_of=2024, window=5)
    assert figures.cell_classes(cells).tolist() == [figures.cell_class(r) for r in cells.to_dict("records")]
    scores = [0.0, 0.1999, 0.2, 0.4, 0.5999, 0.6, 0.8, 1.0, 1.2, -0.1, None, float("nan")]
    assert figures._score_classes(pd.Series(scores)).tolist() == [figures._score_class(x) for x in scores]


def test_map_producers_and_datasets(sample_store) -> None:
    """The dataset behind each area's official figure is the newest at or before the as-of year
    (the group's own, or the total it is hidden in), and producers are looked up per dataset."""
    paths: set[str] = set()
    for ind, group in (("6.1.1", "rural"), ("8.5.2", "disability"), ("6.1.1", "all")):
        res = figures.gap_map(sample_store, View(level=2, indicator=ind, group=group))
        facts = sample_store.query("SELECT area_code, group_id, year, dataset_id FROM official_facts "
                                   "WHERE level = 2 AND indicator = $ind AND year <= 2024", {"ind": ind})
        newest = (facts.sort_values(["area_code", "group_id", "year", "dataset_id"],
                                    ascending=[True, True, False, True])
                  .drop_duplicates(["area_code", "group_id"]).set_index(["area_code", "group_id"])["dataset_id"])
        for r in res.data.to_dict("records"):
            if not pd.isna(r["official_latest_year"]):
                want, path = newest.get((r["area_code"], group), ""), "own"
            elif not pd.isna(r["total_latest_year"]):
                want, path = newest.get((r["area_code"], "all"), ""), "total"
            else:
                want, path = "", "none"
            paths.add(path)
            assert r["official_dataset"] == want, (ind, group, r["area_code"])
            assert r["official_producer"] == figures._producers(sample_store, want)
            assert r["citizen_producer"] == figures._producers(sample_store, r["cgd_datasets"])
            paths |= {"citizen"} if WATER_PRODUCER in r["citizen_producer"] else set()
            paths |= {"official"} if OFFICIAL_PRODUCER in r["official_producer"] else set()
    assert paths == {"own", "total", "none", "citizen", "official"}


@pytest.mark.parametrize("view", [View(level=2, group="rural"), View(level=1, metric="gap", group="all", lang="ar"),
                                  View(level=2, indicator="8.5.2", group="disability", contrast=True)])
def test_map_traces_by_class(sample_store, view: View) -> None:
    """Areas of a class may span several traces (one per hover template); they share the class's
    legend group, are drawn next to each other and have one legend entry, so a click on the
    legend still shows or hides the whole class. The spec is valid plotly (it is built unvalidated)."""
    import plotly.graph_objects as go

    res = figures.gap_map(sample_store, view)
    data = res.fig.to_dict()["data"]
    groups = [t["legendgroup"] for t in data if t["type"] == "choropleth"]
    assert len(groups) >= len(set(groups))
    runs = [g for i, g in enumerate(groups) if i == 0 or groups[i - 1] != g]
    assert len(runs) == len(set(runs)), "the traces of a class are contiguous"
    entries = [t["legendgroup"] for t in data if t.get("showlegend") and t["type"] == "scattergeo"
               and t["lat"] == [None]]
    assert sorted(entries) == sorted(set(groups))
    for t in data:
        if t["type"] == "choropleth":
            assert not t["showlegend"] and t["hovertemplate"].endswith("<extra></extra>")
            assert len(t["customdata"]) == len(t["locations"]) == len(t["z"])
            assert {f["id"] for f in t["geojson"]["features"]} == set(t["locations"])
    go.Figure(res.fig.to_dict())    # raises on any property plotly does not know


def test_map_payload_is_light_and_geometry_shared(sample_store) -> None:
    """Display coordinates carry at most ``decimals`` digits; the cached geometry is shared by the
    figures (not copied) and never changed by building, serialising or pickling them."""
    import pickle

    geom = figures.map_geometry(sample_store, 2)
    before = json.dumps(geom.geojson)
    assert geom.decimals == figures.COORD_DECIMALS and not re.search(r"\.\d{5,}", before)
    res = figures.gap_map(sample_store, View(level=2, group="rural"))
    payload = res.fig.to_json()
    spec = json.loads(payload)
    shapes = [json.dumps(t["geojson"]) for t in spec["data"] if t["type"] == "choropleth"]
    assert shapes and not any(re.search(r"\.\d{5,}", g) for g in shapes)
    assert "hovertext" not in payload.split('"geojson"')[0]   # templates, not one string per area
    feats = [f for t in res.fig.to_dict()["data"] if t["type"] == "choropleth" for f in t["geojson"]["features"]]
    assert all(f is geom.features[f["id"]] for f in feats)
    again = pickle.loads(pickle.dumps(res))  # noqa: S301 -- our own object, pickled as st.cache_data does
    assert json.loads(again.fig.to_json()) == spec and again.data.equals(res.data)
    assert json.dumps(geom.geojson) == before


def test_coordinates_are_rounded_to_the_tolerance() -> None:
    """Rounding moves a vertex by at most half the simplification tolerance."""
    assert figures._coord_decimals(0.0) == figures.COORD_DECIMALS
    assert figures._coord_decimals(0.0005) == 4
    assert figures._coord_decimals(0.001) == figures._coord_decimals(0.005) == 3
    assert figures._coord_decimals(0.2) == figures.COORD_DECIMALS_MIN
    for tol in figures.SIMPLIFY_TOLERANCES[1:]:
        assert 10.0 ** -figures._coord_decimals(tol) <= tol


# --- suppressed is neither missing nor zero -----------------------------------------------------

def test_suppressed_official_figure_is_shown_as_suppressed(sample_store) -> None:
    view = View(level=1, indicator="8.5.2", as_of=2016)
    res = figures.gap_map(sample_store, view)
    row = res.data.set_index("area_code").loc["PH-15"]
    assert row["class"] == i18n.t("status.suppressed.label") and bool(row["official_suppressed"])
    assert np.isnan(row["official_value"])
    sup = next(t for t in choropleths(res) if t["legendgroup"] == "suppressed")
    assert sup["locations"] == ["PH-15"] and "suppressed" in hover_texts(sup)[0]

    res = figures.group_comparison(sample_store, View(area="PH-15", indicator="8.5.2", as_of=2016))
    data = res.data.set_index("group")
    assert bool(data.loc["disability", "official_suppressed"]) and np.isnan(data.loc["disability", "official_value"])
    bars = traces(res.fig, "bar")
    sup_bar = next(b for b in bars if "Suppressed" in b["name"])
    assert len(vals(sup_bar["x"])) == 1 and "suppressed" in sup_bar["text"][0]
    assert sup_bar["marker"]["pattern"]["shape"] == pal.STATUS_STYLES["suppressed"].pattern
    official = next(b for b in bars if b["name"] == i18n.t("legend.official"))
    assert 0 not in vals(official["x"])   # no zero bar stands in for a suppressed value
    assert len(vals(official["x"])) == int((~data["official_suppressed"] & data["official_latest_year"].notna()).sum())


def test_suppressed_citizen_figure_is_shown_as_suppressed(sample_store) -> None:
    res = figures.gap_map(sample_store, View(level=2, indicator="1.3.1"))
    row = res.data.set_index("area_code").loc["PH-BTN"]
    assert bool(row["cgd_suppressed"]) and np.isnan(row["cgd_value"])
    hover = map_hover(res)["PH-BTN"]
    assert "Citizen data: suppressed" in hover and "fewer than 5" in hover


def test_zero_is_a_value(tiny_store) -> None:
    store = tiny_store("""
        kind,     indicator, area_code, period, value, n,   disability_status
        official, 6.1.1,     R1,        2023,   0,     100, PD
        official, 6.1.1,     R1,        2023,   40,    900,
    """)
    res = figures.group_comparison(store, View(area="R1", indicator="6.1.1"))
    official = next(b for b in traces(res.fig, "bar") if b["name"] == i18n.t("legend.official"))
    assert vals(official["x"]) == [0.0]
    labels = [t for t in traces(res.fig, "scatter") if t.get("mode") == "text" and "0.0%" in str(t.get("text"))]
    assert labels


# --- coverage matrix ----------------------------------------------------------------------------

def test_matrix_has_goal_coloured_labels_symbols_and_full_titles(sample_store) -> None:
    res = figures.coverage_matrix(sample_store, View())
    d = res.fig.to_dict()
    hm = traces(res.fig, "heatmap")[0]
    ticks = d["layout"]["yaxis"]["ticktext"]
    goals = sample_store.indicators().set_index("code")["goal"]
    codes = [re.search(r"■</span> (\S+) ", t)[1] for t in ticks]
    assert codes == list(sample_store.indicators()["code"])
    for code, tick in zip(codes, ticks, strict=True):
        assert f"color:{pal.GOAL_COLORS[int(goals[code])]}" in tick
    cells = [c for row in hm["text"] for c in row]
    assert {c.rstrip(pal.CITIZEN_SYMBOL) for c in cells} <= SYMBOLS
    assert any(c.endswith(pal.CITIZEN_SYMBOL) for c in cells)
    hover = [h for row in hm["customdata"] for h in row]
    assert any("Proportion of population using safely managed drinking water services" in h for h in hover)
    # the discrete colour scale is the palette, in order
    scale = [c for _, c in hm["colorscale"]][::2]
    assert scale == [pal.STATUS_STYLES[k].color for k in pal.STATUS_ORDER]
    assert res.data["indicator"].nunique() == len(codes)


def test_matrix_cells_match_the_coverage_rule(sample_store) -> None:
    res = figures.coverage_matrix(sample_store, View(area="PH-05", level=1))
    hm = traces(res.fig, "heatmap")[0]
    cells = sample_store.coverage(level=1, as_of=2024, window=5, areas=["PH-05"])
    by = {(r["indicator"], r["group"]): r for r in cells.to_dict("records")}
    ind_order = list(sample_store.indicators()["code"])
    groups = list(sample_store.groups()["group_id"])
    for i, ind in enumerate(ind_order):
        for j, g in enumerate(groups):
            r = by[(ind, g)]
            cls = figures.cell_class(r)
            assert hm["z"][i][j] == pytest.approx(pal.STATUS_ORDER.index(cls) + 0.5)
            assert hm["text"][i][j].endswith(pal.CITIZEN_SYMBOL) == (r["cgd_status"] == "present" and
                                                                   cls != "not_applicable")


def test_matrix_sorts_by_gaps(sample_store) -> None:
    res = figures.coverage_matrix(sample_store, View(level=2), axis="area", sort="gap")
    blind_words = {i18n.t(f"status.{k}.label") for k in ("stale", "aggregate_only", "missing")}
    rows = list(dict.fromkeys(res.data["area_code"]))   # the table lists rows in the figure's order
    per_area = res.data.assign(b=res.data["class"].isin(blind_words)).groupby("area_code")["b"].sum()
    counts = [int(per_area[a]) for a in rows]
    assert len(rows) == 80 and counts == sorted(counts, reverse=True) and counts[0] > counts[-1]
    names = sample_store.areas(level=2).set_index("code")["name"]
    short = {a: figures._shorten(n, figures.ROW_LABEL_CHARS) for a, n in names.items()}
    assert list(res.fig.layout.yaxis.ticktext) == [short[a] for a in rows]
    by_name = figures.coverage_matrix(sample_store, View(level=2), axis="area", sort="code")
    assert list(by_name.fig.layout.yaxis.ticktext) == [short[a] for a in names.sort_values().index]


# --- group comparison and time series -----------------------------------------------------------

def test_group_comparison_official_and_citizen_side_by_side(sample_store) -> None:
    res = figures.group_comparison(sample_store, View(area="PH-05"))
    cit = [t for t in traces(res.fig, "scatter") if t.get("marker", {}).get("symbol") == pal.CITIZEN_MARKER]
    assert cit and "Citizen data" in cit[0]["name"] and all("citizen data" in x for x in cit[0]["text"])
    official = next(b for b in traces(res.fig, "bar") if b["name"] == i18n.t("legend.official"))
    assert set(vals(official["y"])).isdisjoint(vals(cit[0]["y"]))   # never drawn on top of each other
    assert OFFICIAL_PRODUCER in official["customdata"][0] and WATER_PRODUCER in cit[0]["customdata"][0]
    off = sample_store.facts(indicator="6.1.1", area_code="PH-05")
    total = off[(off["group_id"] == "all") & (off["year"] <= 2024)].sort_values("year").iloc[-1]
    assert any(s.get("x0") == pytest.approx(total["value"]) for s in res.fig.to_dict()["layout"]["shapes"])
    assert f"Everyone: {total['value']:.1f}% ({total['year']})" in json.dumps(
        res.fig.to_dict()["layout"]["annotations"], ensure_ascii=False)
    m = re.search(r"(\d+) of (\d+) groups have an official figure, (\d+) are suppressed, and citizen data speaks "
                  r"for (\d+)", res.alt_text)
    d = res.data
    has = d["official_latest_year"].notna() & ~d["official_suppressed"]
    assert (int(m[1]), int(m[2]), int(m[3]), int(m[4])) == (
        int(has.sum()), len(d), int((d["official_latest_year"].notna() & d["official_suppressed"]).sum()),
        int((d["cgd_status"] != "none").sum()))


def test_time_series_bands_series_limit_and_disagreement(sample_store) -> None:
    res = figures.time_series(sample_store, View(area="PH-05", group="rural"))
    sc = traces(res.fig, "scatter")
    bands = [t for t in sc if t.get("fill") == "toself"]
    lines = [t for t in sc if t.get("mode") == "lines+markers"]
    assert bands and len(lines) <= figures.MAX_SERIES
    total = next(t for t in lines if t["legendgroup"] == "all")
    assert total["line"]["color"] == pal.TOTAL_COLOR
    assert total["line"]["width"] > max(t["line"]["width"] for t in lines if t is not total)
    cit = [t for t in sc if t.get("marker", {}).get("symbol") == pal.CITIZEN_MARKER]
    assert cit and all("Citizen data" in t["name"] for t in cit)
    # expected disagreements, from the facts: same group and year, apart by more than the combined
    # uncertainty (the rule of the coverage cells' cgd_margin: official bounds, citizen sampling margin)
    from data_layers.quality import disagreement_margin

    off = sample_store.facts(indicator="6.1.1", area_code="PH-05").set_index(["group_id", "year"])
    cgd = sample_store.facts(indicator="6.1.1", area_code="PH-05", kind="citizen")

    def beyond(r) -> bool:
        o = off.loc[(r.group_id, r.year)]
        m = disagreement_margin(lower=o["lower"], upper=o["upper"], citizen_value=r.value, n=r.n, unit="percent")
        return m is not None and abs(r.value - o["value"]) > m

    expected = sorted(int(r.year) for r in cgd.itertuples()
                      if (r.group_id, r.year) in off.index and not pd.isna(r.value) and beyond(r))
    assert expected, "the sample should hold at least one disagreement here"
    ring = [t for t in sc if t.get("name") == i18n.t("legend.disagree")]
    assert ring and sorted(vals(ring[0]["x"])) == expected
    flagged = res.data[res.data["disagrees"]]
    assert sorted(flagged["year"]) == expected and set(flagged["source_kind"]) == {"citizen"}
    one = len(expected) == 1  # the message takes the plural form of its count
    assert f"{len(expected)} citizen {'figure disagrees' if one else 'figures disagree'}" in res.alt_text


def test_time_series_never_exceeds_six_series(sample_store) -> None:
    counts = sample_store.query("SELECT indicator, count(DISTINCT group_id) AS n FROM official_facts "
                                "WHERE area_code = 'PHL' GROUP BY indicator ORDER BY n DESC, indicator LIMIT 3")
    assert counts["n"].iloc[0] > figures.MAX_SERIES   # the sample has more groups than a chart may show
    for ind in counts["indicator"]:
        res = figures.time_series(sample_store, View(area="PHL", indicator=ind))
        lines = [t for t in traces(res.fig, "scatter") if t.get("mode") == "lines+markers"]
        assert len(lines) <= figures.MAX_SERIES, ind


def test_time_series_no_bands_without_bounds(tiny_store) -> None:
    store = tiny_store("""
        kind,     indicator, area_code, period, value, n
        official, 6.1.1,     R1,        2020,   40,    900
        official, 6.1.1,     R1,        2022,   42,    900
    """)
    res = figures.time_series(store, View(area="R1", indicator="6.1.1"))
    assert not [t for t in traces(res.fig, "scatter") if t.get("fill") == "toself"]
    assert len(res.data) == 2


def test_empty_selection_says_so(tiny_store) -> None:
    store = tiny_store("")
    res = figures.time_series(store, View(area="R1", indicator="6.1.1"))
    assert res.empty and res.alt_text == i18n.t("alt.empty")
    assert i18n.t("alt.empty") in json.dumps(res.fig.to_dict()["layout"]["annotations"])
    # with nothing measured, the other charts still say so in words (every cell is a gap)
    res = figures.group_comparison(store, View(area="R1", indicator="6.1.1"))
    assert "0 of 10 groups have an official figure" in res.alt_text
    res = figures.gap_map(store, View(level=2, group="all"))
    assert res.alt_text.startswith("Of 3 provinces, 3 have no current official figure")


# --- every chart ------------------------------------------------------------------------------

def _font_sizes(node: Any, path: str = "") -> Iterator[tuple[str, float]]:
    if isinstance(node, dict):
        for k, v in node.items():
            p = f"{path}.{k}"
            if k == "size" and "font" in path.rsplit(".", 1)[-1] and isinstance(v, int | float):
                yield p, v
            yield from _font_sizes(v, p)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _font_sizes(v, f"{path}[{i}]")


@pytest.mark.parametrize("name", list(figures.CHARTS))
@pytest.mark.parametrize("view", [View(area="PH-05"), View(level=2, group="rural", lang="fr", contrast=True)])
def test_every_chart_stands_on_its_own(sample_store, name: str, view: View) -> None:
    spec = figures.CHARTS[name]
    assert spec.name == name and i18n.has_key(spec.title_key) and i18n.has_key(spec.help_key)
    res = spec.build(sample_store, view)
    assert res.name == name
    prefix = i18n.t("source.line", view.lang, sources="").strip()
    assert res.title and res.subtitle and res.source.startswith(prefix) and res.alt_text
    assert "SDG indicators of the Philippines" in res.source
    assert not res.data.empty
    layout = res.fig.to_dict()["layout"]
    assert res.title in layout["title"]["text"] or res.title.replace("&", "&amp;") in layout["title"]["text"]
    assert layout["title"]["subtitle"]["text"] == res.subtitle
    assert i18n.t("describe.as_of", view.lang, year="2024", window="5") in res.subtitle
    sizes = list(_font_sizes(res.fig.to_dict()))
    assert sizes and all(s >= LEGIBLE_PX for _, s in sizes), [x for x in sizes if x[1] < LEGIBLE_PX]
    assert layout["font"]["size"] >= (20 if view.contrast else 16)
    for colour in (layout["font"]["color"], layout["legend"]["font"]["color"]):
        assert pal.contrast_ratio(colour, pal.BACKGROUND) >= pal.WCAG_AA_TEXT
    if view.lang == "fr":
        assert layout["separators"][0] == ","


def test_chart_registry_names() -> None:
    assert set(figures.CHARTS) == {"gap-map", "coverage-matrix", "area-matrix", "group-comparison", "time-series",
                                   "overview", "hidden-groups"}
    with pytest.raises(KeyError):
        figures.build("pie-chart", None, View())


def test_overview_alt_text_agrees_with_the_data(sample_store) -> None:
    res = figures.overview_bars(sample_store, View(level=2))
    allrow = res.data.iloc[0]
    assert allrow["group"] == "all_groups"
    cells = sample_store.coverage(level=2, as_of=2024, window=5)
    app = cells[cells["headline"] != "not_applicable"]
    assert allrow["cells"] == len(app) and allrow["covered"] == (app["headline"] == "covered").sum()
    assert f"Of {len(app)} indicator" in res.alt_text
    assert i18n.format_percent(allrow["share_covered"]) in res.alt_text
    # groups are ordered from least official coverage
    shares = list(res.data["share_covered"].iloc[1:])
    assert shares == sorted(shares)
    assert f"least official coverage is {res.data.iloc[1]['group_label']}" in res.alt_text
    bars = traces(res.fig, "bar")
    assert [b["marker"]["color"] for b in bars] == [pal.HEADLINE_STYLES[k].color for k in
                                                   ("covered", "filled", "blind_spot")]


def test_plotly_config_is_offline() -> None:
    cfg = figures.plotly_config()
    assert cfg["topojsonURL"] == "/app/static/topojson/"
    assert figures.topojson_available()
    assert figures.kaleido_topojson_url().startswith("file:///") and figures.kaleido_topojson_url().endswith("/")


def test_names_from_data_are_escaped(tiny_store) -> None:
    """Area and dataset names are data: markup in them is shown as text, never interpreted."""
    areas = """
        code,name,level,parent_code
        XX,Testland,0,
        R1,<b>Bold</b> & Co,1,XX
        R2,Region Two,1,XX
    """
    store = tiny_store("""
        kind,     indicator, area_code, period, value, n
        official, 6.1.1,     R1,        2023,   50,    100
    """, areas=areas)
    res = figures.gap_map(store, View(level=1, group="all"))
    hover = " ".join(map_hover(res).values())
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in hover and "<b>Bold</b>" not in hover
    res = figures.coverage_matrix(store, View(level=1), axis="area")
    assert "&lt;b&gt;Bold" in " ".join(res.fig.layout.yaxis.ticktext)


def test_map_hover_shows_an_unsigned_difference_when_polarity_is_unknown(tiny_store) -> None:
    """An indicator whose polarity is not set shows "group minus total", never better or worse off."""
    store = tiny_store("""
        kind,     indicator, area_code, period, sex, value
        official, 9.9.9,     P1,        2023,   ,    50
        official, 9.9.9,     P1,        2023,   F,   44
    """, indicators="code,higher_is_better,not_applicable\n9.9.9,,\n")
    view = View(level=2, group="women", indicator="9.9.9")
    res = figures.gap_map(store, view)
    shown, expected = map_hover(res), _expected_hover(store, view, res)
    assert shown == expected
    assert "Group minus total" in shown["P1"] and "worse off" not in shown["P1"]


def test_citizen_points_wait_behind_their_legend_entry_on_a_slide(sample_store) -> None:
    """On the page the water points are drawn; on a slide the filled areas carry the message and the
    points are one legend click away (they covered exactly the areas they fill)."""
    base = View(level=2, group="rural", indicator="6.1.1")
    page = figures.gap_map(sample_store, base).fig.to_dict()["data"]
    slide = figures.gap_map(sample_store, base.replace(present=True)).fig.to_dict()["data"]
    points = [tr for tr in page if tr.get("type") == "scattergeo" and tr.get("legendgroup", "").startswith("cgd-")]
    on_slide = [tr for tr in slide if tr.get("type") == "scattergeo" and tr.get("legendgroup", "").startswith("cgd-")]
    assert points and all(tr.get("visible", True) is True for tr in points)
    assert on_slide and all(tr.get("visible") == "legendonly" for tr in on_slide)


# --- who is hidden in totals ----------------------------------------------------------------------

HIDDEN_OBS = """
    kind,     indicator, area_code, period, value, n,   sex, disability_status
    official, 6.1.1,     P1,        2023,   50,    900,    ,
    official, 6.1.1,     P1,        2023,   52,    400, F,
    citizen,  6.1.1,     P2,        2023,   30,    200,    , PD
"""


def test_hidden_groups_question_counts_hidden_missing_and_filled_cells(tiny_store) -> None:
    """Two indicators x three provinces: 6.1.1 has a total at P1 (groups hidden in it) and a figure
    for women there; P2 and P3 and all of 1.2.1 have nothing official; citizen data at P2 speaks
    for persons with disabilities."""
    store = tiny_store(HIDDEN_OBS)
    frame = figures.hidden_groups_question(store, View(level=2, as_of=2024)).frame.set_index("group")
    assert frame.loc["disability"].to_dict() == {"aggregate_only": 1, "missing": 5, "filled": 1, "cells": 6}
    assert frame.loc["women"].to_dict() == {"aggregate_only": 0, "missing": 5, "filled": 0, "cells": 6}
    assert frame.loc["rural", "aggregate_only"] == 1 and frame.loc["rural", "filled"] == 0
    # most often hidden first; ties in the order of their codes
    hidden = list(frame["aggregate_only"])
    assert hidden == sorted(hidden, reverse=True)
    top = frame[frame["aggregate_only"] == 1].index
    assert list(top) == sorted(top)
    # an as-of year before every figure: nothing hidden, everything missing
    early = figures.hidden_groups_question(store, View(level=2, as_of=2020)).frame
    assert (early["aggregate_only"] == 0).all() and (early["missing"] == early["cells"]).all()


def test_hidden_groups_drawing_shows_the_counts_and_names_every_tied_group(tiny_store) -> None:
    store = tiny_store(HIDDEN_OBS)
    res = figures.build("hidden-groups", store, View(level=2, as_of=2024))
    spec = res.fig.to_dict()
    bars = [tr for tr in spec["data"] if tr["type"] == "bar"]
    assert [b["marker"]["color"] for b in bars] == [pal.STATUS_STYLES[k].color for k in
                                                   ("aggregate_only", "missing", "filled")]
    assert [b["name"] for b in bars] == [figures.class_label(k, "en") for k in ("aggregate_only", "missing", "filled")]
    labels = list(res.data["group_label"])
    assert vals(bars[0]["y"]) == labels and vals(bars[0]["x"]) == list(res.data["aggregate_only"])
    assert vals(bars[2]["x"]) == list(res.data["filled"])
    tied = res.data.loc[res.data["aggregate_only"] == 1, "group_label"]
    assert len(tied) > 1 and "a tie" in res.alt_text
    assert all(name in res.alt_text for name in tied)
    assert "Women and girls" not in res.alt_text.split("):")[1]
    fr = figures.build("hidden-groups", store, View(level=2, as_of=2024, lang="fr"))
    assert fr.title != res.title and "à égalité" in fr.alt_text


def test_hidden_groups_without_official_data_are_all_missing(tiny_store) -> None:
    res = figures.build("hidden-groups", tiny_store(""), View(level=2))
    assert not res.data.empty
    assert (res.data["aggregate_only"] == 0).all() and (res.data["missing"] == res.data["cells"]).all()
