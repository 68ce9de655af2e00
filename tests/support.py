"""Test helpers importable from any test module (``from support import cell``).

They live outside ``conftest.py`` because ``tests/browser/conftest.py`` shadows a plain
``import conftest``; the fixtures that use them stay in ``conftest.py``.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import shapely

from data_layers import schema
from data_layers.store import GapStore

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "sample_data"
SHARED_DIR = ROOT.parent / "shared"

# A small hierarchy: one country, two regions, three provinces (nested squares).
DEFAULT_AREAS = """
code,name,level,parent_code
XX,Testland,0,
R1,Region One,1,XX
R2,Region Two,1,XX
P1,Province One,2,R1
P2,Province Two,2,R1
P3,Province Three,2,R2
"""

# Two indicators of opposite polarity; the group catalogue is the package default.
DEFAULT_INDICATORS = """
code,higher_is_better,not_applicable
1.2.1,false,
6.1.1,true,
"""

_OBS_TYPES = {"period": "int", "value": "float", "lower": "float", "upper": "float", "n": "Int64",
              "lat": "float", "lon": "float", "suppressed": "bool", "is_point": "bool"}
_TRUE = {"true", "1", "yes", "y"}


def read_inline_csv(text: str) -> pd.DataFrame:
    """CSV text as a frame of trimmed strings (so inline tables may be aligned with spaces)."""
    df = pd.read_csv(io.StringIO(text.strip()), dtype=str, keep_default_na=False, skipinitialspace=True)
    df.columns = [c.strip() for c in df.columns]
    return df.apply(lambda col: col.str.strip())


def nested_squares(areas: pd.DataFrame) -> list[Any]:
    """A square per area, children splitting their parent's square into vertical strips."""
    codes = set(areas["code"])
    children: dict[str, list[str]] = {}
    roots: list[str] = []
    for r in areas.itertuples():
        if r.parent_code and r.parent_code in codes:
            children.setdefault(r.parent_code, []).append(r.code)
        else:
            roots.append(r.code)
    boxes: dict[str, tuple[float, float, float, float]] = {}

    def place(code: str, box: tuple[float, float, float, float]) -> None:
        boxes[code] = box
        kids = children.get(code, [])
        x0, y0, x1, y1 = box
        width = (x1 - x0) / max(len(kids), 1)
        for i, kid in enumerate(kids):
            place(kid, (x0 + i * width, y0, x0 + (i + 1) * width, y1))

    for i, code in enumerate(roots):
        place(code, (10.0 * i, 0.0, 10.0 * i + 8.0, 8.0))
    return [shapely.box(*boxes[c]) for c in areas["code"]]


def _indicator_catalogue(text: str) -> pd.DataFrame:
    """An indicators.csv from a few columns; the rest get neutral defaults."""
    given = read_inline_csv(text)
    rows = []
    for r in given.to_dict("records"):
        code = r["code"]
        parts = code.split(".")
        rows.append({
            "code": code, "goal": r.get("goal") or parts[0], "target": r.get("target") or ".".join(parts[:2]),
            "series": r.get("series", ""), "title": r.get("title") or f"Indicator {code}",
            "short_title": r.get("short_title") or f"Ind {code}", "unit": r.get("unit") or "percent",
            "higher_is_better": r.get("higher_is_better", ""), "survey_based": r.get("survey_based") or "true",
            "not_applicable": r.get("not_applicable", ""),
        })
    return pd.DataFrame(rows, columns=schema.names(schema.INDICATORS))


def _typed_observations(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col, kind in _OBS_TYPES.items():
        if col not in out:
            continue
        s = out[col].replace("", None)
        if kind == "int":
            out[col] = s.astype(int)
        elif kind == "float":
            out[col] = pd.to_numeric(s, errors="raise").astype("float64")
        elif kind == "Int64":
            out[col] = pd.to_numeric(s, errors="raise").astype("Int64")
        else:
            out[col] = s.fillna("false").str.lower().isin(_TRUE)
    return out


# A passing quality assessment (DESIGN.md: every gateway passed, mean above 1.5, no zero): tiny
# stores give it to their citizen datasets unless a test says otherwise, so that rules other than
# the verdict can be tested on evidence that counts.
USABLE_ASSESSMENT: dict[str, Any] = {
    "gateway_ethics": True, "gateway_transparency": True, "gateway_need": True,
    "score_relevance": 2, "score_methods": 2, "score_coverage": 2, "score_timeliness": 2,
    "score_data_journey": 2, "score_qa": 2,
}


def dataset_meta(dataset_id: str, kind: str, seq: int, **extra: Any) -> dict[str, Any]:
    """Complete dataset.json content for a test dataset."""
    meta: dict[str, Any] = {c.name: "" for c in schema.DATASETS}
    meta.update({c: None for c in schema.GATEWAYS + schema.QUALITY_SCORES})
    meta.update({"dataset_id": dataset_id, "seq": seq, "source_kind": kind, "title": f"Test {dataset_id}",
                 "producer": "tests", "licence": "CC0 1.0", "imported_at": "2025-01-01T00:00:00+00:00",
                 "rows_rejected": 0, "point_kind": "place" if kind == "citizen" else "none", "k_min": 5})
    meta.update(extra)
    return meta


TinyStore = Callable[..., GapStore]


def cell(cells: pd.DataFrame, indicator: str, area: str, group: str) -> dict[str, Any]:
    """The one row of a coverage table for (indicator, area, group), as a dict."""
    hit = cells[(cells["indicator"] == indicator) & (cells["area_code"] == area) & (cells["group"] == group)]
    assert len(hit) == 1, f"expected one cell for {indicator} {area} {group}, found {len(hit)}"
    return hit.iloc[0].to_dict()




# --- a store carrying hostile text and one broken dataset (issue 13) ---------------------------------

HOSTILE_IMAGE_HOST = "evil.example"
HOSTILE = {
    "title": "**bold** ![pixel](http://evil.example/pixel.png) <img src=x onerror=alert(1)> [link](http://evil.example)",
    "producer": '=HYPERLINK("http://evil.example","click") ![p](http://evil.example/p2.png)',
    "licence": "<script>alert(1)</script> :red[red]",
    "method": ":red[red] $x^2$ ![m](http://evil.example/m.png)",
}
# what must never reach a Markdown element raw (escaped forms are fine)
HOSTILE_MARKERS = ("**bold**", "![", "<img", "<script", "[link](", ":red[", "$x^2$", "http://evil.example")
BROKEN_DATASET = "beach-litter-2024"


def make_hostile_store(data_dir: Path, tmp: Path) -> None:
    """Turn a copy of the sample into the store of the reliability check: a dataset whose metadata
    is Markdown/HTML/KaTeX with remote images, a citizen dataset, an area, a group and an indicator
    named the same way, and one dataset whose observations file is truncated."""
    import json

    import geopandas as gpd

    from data_layers import storage
    from data_layers.importers import import_file

    csv = tmp / "hostile.csv"
    csv.write_text("indicator,area_code,period,value\n6.1.1,PH-05,2023,50\n", encoding="utf-8")
    report = import_file(csv, "official", data_dir, dataset_id="hostile", metadata=dict(HOSTILE))
    assert report.status == "accepted", report.to_text()
    meta_path = data_dir / "datasets" / "water-points-2024" / "dataset.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.update(HOSTILE, notes=HOSTILE["method"], url="javascript:alert(1)")
    meta_path.write_text(json.dumps(meta, indent=1), encoding="utf-8")
    areas = gpd.read_parquet(data_dir / "areas" / "level_1.parquet")
    areas.loc[areas["code"] == "PH-05", "name"] = "![a](http://evil.example/a.png) **Bicol**"
    storage.write_areas(data_dir, 1, areas)
    groups = storage.read_catalogue(data_dir, "groups")
    groups.loc[groups["group_id"] == "women", "label"] = "<img src=x> :red[women] $w$"
    storage.write_catalogue(data_dir, "groups", groups)
    inds = storage.read_catalogue(data_dir, "indicators")
    for col in ("short_title", "title"):
        inds.loc[inds["code"] == "6.1.1", col] = "[water](http://evil.example) ![i](http://evil.example/i.png)"
    storage.write_catalogue(data_dir, "indicators", inds)
    victim = data_dir / "datasets" / BROKEN_DATASET / "observations.parquet"
    with open(victim, "r+b") as f:
        f.truncate(victim.stat().st_size // 2)
