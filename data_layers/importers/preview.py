"""What a file looks like before it is imported: columns, a few example values, detected format.

The Import page builds its column-mapping form from a :class:`Preview`. Examples of columns that
hold personal identifiers are never shown (the page may be on a shared screen).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .report import Report

MAX_EXAMPLES = 3      # example values shown per column in the mapping form
MAX_LABELS = 60       # distinct labels offered for recoding a figure column (yes/no/...); more is not a label list
MAX_EXAMPLE_CHARS = 40


@dataclass
class Preview:
    kind: str
    format: str = ""
    encoding: str = ""
    delimiter: str = ""
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    examples: dict[str, list[str]] = field(default_factory=dict)
    labels: dict[str, list[str]] = field(default_factory=dict)
    personal: dict[str, str] = field(default_factory=dict)      # column -> why it is personal data
    suggested: dict[str, str] = field(default_factory=dict)     # citizen role -> column
    numeric: dict[str, bool] = field(default_factory=dict)      # column -> every non-empty cell is a number
    hxl: dict[str, str] = field(default_factory=dict)           # column -> its HXL hashtag (a hashtag row was found)
    report: Report | None = None

    @property
    def ok(self) -> bool:
        return self.report is not None and not self.report.has_file_errors and bool(self.columns)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_EXAMPLE_CHARS else text[: MAX_EXAMPLE_CHARS - 1] + "…"


def preview(path: str | Path, kind: str, *, encoding: str | None = None, sheet: Any = None,
            source_name: str | None = None) -> Preview:
    """Read enough of a file to draw the mapping form (never raises on bad input)."""
    path = Path(path)
    report = Report(file=source_name or path.name, kind=kind)
    out = Preview(kind=kind, report=report)
    try:
        if kind == "boundaries":
            out.columns = boundary_fields(path, report)
            return out
        from . import citizen, official
        from .reading import read_table

        if kind == "citizen" and path.suffix.lower() in (".geojson", ".json"):
            table = citizen.read_geojson_points(path, report)
        else:
            table = read_table(path, report, encoding=encoding, sheet=sheet,
                               duplicates="keep" if kind == "citizen" else "refuse")
        if table is None:
            return out
        df = table.frame
        out.columns = list(df.columns)
        out.rows = len(df)
        out.encoding, out.delimiter = report.encoding, report.delimiter
        if kind == "official":
            out.format = official.detect_format(out.columns, path) or ""
        else:
            out.format = citizen.detect_format(out.columns, path)
        from .values import classify

        for c in out.columns:
            cells = pd.Series(df[c].to_numpy(dtype=object)).astype(object)
            distinct = [str(u) for u in pd.unique(cells[cells.map(lambda x: str(x).strip() != "")])]
            tag = table.extra.get("hxl", {}).get(c)
            why = (citizen.pii_reason(c, tag) or citizen.pii_in_values(cells, c)) if kind == "citizen" else None
            if why:
                out.personal[c] = why
                out.examples[c] = []
            else:
                out.examples[c] = [_clip(x) for x in distinct[:MAX_EXAMPLES]]
                if len(distinct) <= MAX_LABELS:
                    out.labels[c] = distinct
            out.numeric[c] = bool(distinct) and all(classify(x).kind in ("number", "na", "censored") for x in distinct[:500])
        if kind == "citizen":
            lat, lon, geo = citizen._geo_columns(out.columns, out.format)
            found = {"lat": lat, "lon": lon, "geopoint": geo,
                     "period": citizen._find(out.columns, citizen.PERIOD_NAMES),
                     "area": None if (lat or geo) else citizen._find(out.columns, citizen.AREA_NAMES),
                     "value": citizen._find(out.columns, ("value",)), "n": citizen._find(out.columns, ("n", "respondents"))}
            # an HXL hashtag row says the roles outright (#geo+lat, #adm1+code, #date): it wins over names
            hxl = citizen.hxl_roles(table.extra.get("hxl", {}))
            found.update({k: v for k, v in hxl.items() if k in found or k == "country"})
            if found.get("lat") or found.get("geopoint"):
                found["area"] = None
            out.suggested = {k: v for k, v in found.items() if v and v not in out.personal}
            out.hxl = dict(table.extra.get("hxl", {}))
    except Exception as e:  # the preview is a convenience: a failure is a reported problem, not a crash
        report.error(f"cannot preview the file ({type(e).__name__}: {e})", code="internal")
    return out


def boundary_fields(path: Path, report: Report) -> list[str]:
    """Attribute fields of a boundaries file (GeoJSON, GeoPackage, zipped Shapefile, GeoParquet)."""
    try:
        if path.suffix.lower() in (".parquet", ".geoparquet"):
            import pyarrow.parquet as pq

            names = pq.read_schema(path).names
            return [n for n in names if n not in ("geometry", "__index_level_0__")]
        import pyogrio

        target = f"zip://{path.resolve()}" if path.suffix.lower() == ".zip" else str(path)
        info = pyogrio.read_info(target)
        return [str(f) for f in np.asarray(info["fields"]).tolist()]
    except Exception as e:  # pyogrio/GDAL and pyarrow raise many types for broken files
        report.error(f"cannot read the fields of the file ({type(e).__name__}: {e})", code="unreadable")
        return []
