"""What a chart's downloads are called and what travels with its data.

* :func:`file_stem`: a file named after what it shows (``6.1.1-rural-provinces-2024-gap-map``),
  so that ten downloads in a report folder can be told apart without opening them.
* :func:`numeric_frame`: the chart's data as a spreadsheet should hold it: readable headers,
  status codes in words, suppressed values spelled out, and every number a number (the page's
  table formats numbers as text for reading; a spreadsheet needs them as numbers).
* :func:`csv_metadata` and :func:`data_package`: a CSV's sidecar (title, filters as shown, sources,
  licence, column types) and a zipped Frictionless Data Package of the whole view: the data, a
  ``datapackage.json`` with its schema, sources and licences, and a README.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from ..tables import flag_pairs
from .tables import neutralise, table_csv

_SLUG_RE = re.compile(r"[^a-z0-9.]+")
MAX_STEM_CHARS = 90  # file names stay readable in a file manager and within every OS limit


def slug(text: Any) -> str:
    """``Persons with disabilities`` -> ``persons-with-disabilities`` (ASCII, for file names)."""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii").lower()
    return _SLUG_RE.sub("-", plain).strip("-.")


def file_stem(view: Any, chart: str, *, level_word: str = "") -> str:
    """A download's name from the view it shows: indicator (or goal), group, level, year, chart.

    ``level_word`` is the level in English plural (``provinces``); the area's code replaces it
    when the view is about one area.
    """
    what = view.indicator or (f"goal-{view.goal}" if view.goal else "all-indicators")
    where = view.area or level_word or f"level-{view.level}"
    parts = [what, view.group, where, str(view.as_of), chart]
    stem = "-".join(p for p in (slug(x) for x in parts) if p)
    return stem[:MAX_STEM_CHARS].rstrip("-.") or "gaplens"


def numeric_frame(df: pd.DataFrame, *, headers: Mapping[str, str], words: Mapping[str, Callable[[Any], str]],
                  suppressed_word: str, yes: str, no: str) -> pd.DataFrame:
    """The data as a spreadsheet holds it: numbers stay numbers, suppressed values are the word
    ``suppressed_word`` (never a number), missing stays empty, booleans and codes become words.

    ``headers`` maps raw column names to readable ones; ``words`` maps a column to a function
    turning its codes into words (status columns).
    """
    if df is None or df.empty:
        return pd.DataFrame()
    out = df.copy().reset_index(drop=True)
    pairs = flag_pairs([str(c) for c in out.columns])
    flags = {f for _, f in pairs}
    for value_col, flag_col in pairs:
        mask = out[flag_col].fillna(False).astype(bool).to_numpy()
        col = out[value_col].astype(object)
        col[mask] = suppressed_word
        out[value_col] = col
    for col in out.columns:
        name = str(col)
        if name in flags:
            continue
        s = out[col]
        if pd.api.types.is_bool_dtype(s):
            out[col] = pd.Series([None if pd.isna(x) else (yes if x else no) for x in s], dtype=object)
        elif name in words:
            out[col] = pd.Series([None if x is None or (not isinstance(x, str) and pd.isna(x)) else words[name](x)
                                  for x in s], dtype=object)
    out = out.drop(columns=[c for c in out.columns if str(c) in flags])
    seen: dict[str, int] = {}
    names = []
    for c in out.columns:
        label = headers.get(str(c), str(c))
        seen[label] = seen.get(label, 0) + 1
        names.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    out.columns = names
    return out


def _field_type(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "boolean"
    if pd.api.types.is_integer_dtype(s):
        return "integer"
    if pd.api.types.is_numeric_dtype(s):
        return "number"
    values = [x for x in s if x is not None and not (isinstance(x, float) and pd.isna(x))]
    if values and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in values):
        return "number"
    return "string"


def schema(df: pd.DataFrame) -> dict[str, Any]:
    """A Frictionless Table Schema of ``df`` (a column mixing numbers and ``suppressed`` is a
    string column whose ``missingValues`` would hide the word, so it is declared as string)."""
    return {"fields": [{"name": str(c), "type": _field_type(df[c])} for c in df.columns],
            "missingValues": [""]}


def csv_metadata(*, title: str, filters: str, sources: pd.DataFrame | None, rule: str, frame: pd.DataFrame,
                 file_name: str, licence_note: str) -> dict[str, Any]:
    """The CSV's sidecar: what the file shows, for whom, as of when, from which data, and its columns."""
    src = [] if sources is None else [{str(k): ("" if pd.isna(v) else str(v)) for k, v in r.items()}
                                     for r in sources.to_dict("records")]
    return {"file": file_name, "title": title, "filters": filters, "coverage_rule": rule,
            "sources": src, "licence_note": licence_note, "schema": schema(frame)}


def data_package(*, name: str, title: str, filters: str, frame: pd.DataFrame, sources: pd.DataFrame | None,
                 rule: str, licence_note: str, readme: str, extra: Mapping[str, bytes] | None = None) -> bytes:
    """A zipped Frictionless Data Package: ``data/<name>.csv``, ``datapackage.json``, ``README.md``.

    Sources carry their own licences (each dataset's licence as imported); the package adds no
    licence of its own beyond what the sources allow, and says so.
    """
    pkg_name = slug(name) or "gaplens-view"
    src_rows = [] if sources is None else sources.to_dict("records")
    licences = sorted({str(r.get("licence") or r.get("Licence") or "").strip() for r in src_rows} - {""})
    descriptor = {
        "profile": "tabular-data-package",
        "name": pkg_name,
        "title": title,
        "description": filters,
        "licenses": [{"name": lic, "title": lic} for lic in licences],
        "sources": [{"title": str(r.get("title") or r.get("Title") or ""),
                     **({"path": str(r["url"])} if r.get("url") else {})} for r in src_rows],
        "resources": [{
            "name": pkg_name, "path": f"data/{pkg_name}.csv", "profile": "tabular-data-resource",
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8-sig",
            "schema": schema(frame)}],
        "gaplens": {"filters_as_shown": filters, "coverage_rule": rule, "licence_note": licence_note},
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"data/{pkg_name}.csv", table_csv(frame))
        z.writestr("datapackage.json", json.dumps(descriptor, ensure_ascii=False, indent=2, default=str))
        z.writestr("README.md", readme)
        for path, data in (extra or {}).items():
            z.writestr(path, data)
    return buf.getvalue()


def readme_text(*, title: str, filters: str, sources_line: str, rule: str, licence_note: str) -> str:
    """The package's README: plain text (Markdown-safe: every imported value is neutralised)."""
    lines = [f"# {neutralise(title)}", "", neutralise(filters), "", neutralise(sources_line), "",
             neutralise(rule), "", neutralise(licence_note), ""]
    return "\n".join(str(x) for x in lines)
