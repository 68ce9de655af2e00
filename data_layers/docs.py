"""Render the reference documents from the declarations in the code, so that they cannot drift.

``python -m data_layers.docs`` writes ``docs/data-model.md`` (from :data:`schema.TABLES`,
:data:`schema.CELL_COLUMNS` and the status vocabulary) and ``docs/settings.md`` (from
:data:`settings.SETTINGS`), and refreshes the generated blocks of ``README.md`` (settings table)
and ``sample_data/README.md`` (citizen datasets, edge cases). ``--check`` writes nothing and exits
1 when a file is out of date; the tests compare the committed files with these renderings.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa

from . import schema, settings, storage
from .settings import PROJECT_DIR

log = logging.getLogger(__name__)

DOCS_DIR = PROJECT_DIR / "docs"
DATA_MODEL = DOCS_DIR / "data-model.md"
SETTINGS_DOC = DOCS_DIR / "settings.md"
README = PROJECT_DIR / "README.md"
SAMPLE_README = PROJECT_DIR / "sample_data" / "README.md"
REGENERATE = "python -m data_layers.docs"

# Arrow type -> (name used in the docs, DuckDB type, Spark type): the stored parquet types.
TYPE_NAMES: dict[pa.DataType, tuple[str, str, str]] = {
    pa.string(): ("string", "VARCHAR", "STRING"),
    pa.int64(): ("int64", "BIGINT", "BIGINT"),
    pa.int32(): ("int32", "INTEGER", "INT"),
    pa.float64(): ("double", "DOUBLE", "DOUBLE"),
    pa.bool_(): ("bool", "BOOLEAN", "BOOLEAN"),
    pa.binary(): ("binary", "BLOB", "BINARY"),
}

STATUS_MEANINGS: dict[str, str] = {
    "current": "An official figure for this group in this area dated within [as-of − window, as-of].",
    "stale": "Official figures for this group exist, but the newest is older than as-of − window.",
    "aggregate_only": "No official figure for this group, but an official total for the area exists "
                      "(dated at or before the as-of year, of any age): the group is hidden inside it.",
    "missing": "No official observation of the indicator for this area at all.",
    "not_applicable": "The group is not relevant to the indicator (the indicator catalogue's `not_applicable`).",
}
CGD_MEANINGS: dict[str, str] = {
    "none": "No citizen figure for the cell at or before the as-of year.",
    "present": "A citizen figure dated within the window.",
    "stale": "Citizen figures exist, but the newest is older than the window.",
}
HEADLINE_MEANINGS: dict[str, str] = {
    "covered": "The office has a current figure for the group (status `current`).",
    "filled": "Official gap (stale, hidden in a total or missing), but citizen evidence that counts: filled by "
              "citizen data.",
    "blind_spot": "Neither a current official figure nor citizen evidence that counts.",
    "not_applicable": "The group is not relevant to the indicator.",
}
AREA_SCORE_COLUMNS: dict[str, str] = {
    "area_code": "Area code.",
    "area_name": "Area name.",
    "level": "Admin level.",
    "applicable": "Cells whose status is not `not_applicable`.",
    "n_current": "Cells with status `current`.",
    "n_stale": "Cells with status `stale`.",
    "n_aggregate_only": "Cells with status `aggregate_only`.",
    "n_missing": "Cells with status `missing`.",
    "n_filled": "Cells whose headline is `filled` (official gap, citizen data present).",
    "n_blind_spot": "Cells whose headline is `blind_spot`.",
    "gap_score": "(stale + aggregate_only + missing) / applicable; empty when nothing is applicable.",
    "blind_spot_score": "blind spots / applicable; empty when nothing is applicable.",
}


INTERSECTIONS_DOC: tuple[str, ...] = (
    "**Intersectional groups** (rural women, women with disabilities, indigenous youth) are rows of the same "
    "table whose `dimension` joins two or three dimensions with `+` and whose `codes` give one code list per "
    "dimension in the same order, also joined by `+` (`|` still separates the alternatives of one dimension, "
    "preferred first). Only an observation broken down on exactly those dimensions, with one of the codes of "
    "each and every other dimension total, covers the group: a figure for women, or for rural people, never "
    "covers rural women, and a figure for rural women covers neither women nor rural people. Age bands are "
    "intervals on the AGE part too (indigenous youth are covered by `Y18T24` with `IND`). Official "
    "cross-tabulations and citizen records are judged by the same rule. Among several matching "
    "combinations the age part's codes rank first, then the other parts' in schema order.",
    "",
    "Each part's **parent group** is the one-dimension group on the same dimension with the same preferred "
    "code (women and rural people for rural women). An intersection is not applicable to an indicator where "
    "a parent is not. Its cells carry `parts_status` (each parent's status in the same area: \"women: "
    "current; rural people: current; rural women: not measured\") and `parent_gaps` (its value minus each "
    "parent's). The sample adds:",
)
REGISTER_DOC: tuple[str, ...] = (
    "## The evidence register", "",
    "`register.csv` records where GapLens's evidence was presented and what followed (columns above). An entry "
    "concerns every cell whose indicator, area and group match its own, an empty field matching all (an "
    "entry naming only an area records a whole brief about it). It is written only by "
    "`data_layers.register.add` (the CLI's `register add`, the dashboard's form): the file is read, the entry "
    "validated and the whole file written again atomically under the store's lock, so concurrent writers "
    "never lose an entry and a crash leaves the previous register. Read-only mode refuses writes. Free text "
    "is shown as plain text, never as Markdown or HTML.",
    "",
    "A cell's **`raised_on`** is the latest `presented_on` of the entries concerning it. "
    "**`closed_since_raised`** is true when the cell now has an official figure for its group (any series, "
    "dated at or before the as-of year) whose reference year is the year it was raised or later: the "
    "reference period ends after the day it was raised, so the figure was not available then. The "
    "dashboard shows it as \"gap closed since raised\" with both dates.",
    "",
)


def _cell(text: object) -> str:
    """Text made safe for one markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def type_name(t: pa.DataType) -> str:
    """Name of a stored type as written in the docs (``string``, ``int64``, ...)."""
    return TYPE_NAMES[t][0]


def _generated_note() -> str:
    return f"<!-- Generated by `{REGENERATE}` from the code's declarations: edit those, not this file. -->"


def render_data_model() -> str:
    """``docs/data-model.md``: every table, the coverage cells and the vocabulary."""
    out = [
        "# GapLens data model",
        "",
        _generated_note(),
        "",
        "A GapLens store is one folder (default `sample_data/`; `GAPLENS_DATA_DIR` or `--data-dir` choose "
        "another). Everything in it is plain parquet, GeoParquet, JSON or CSV, readable by any tool:",
        "",
        "```",
        "areas/level_<N>.parquet            GeoParquet, one file per admin level (0 country, 1 region, 2 province)",
        "datasets/<id>/observations.parquet official or citizen observations of one dataset",
        "datasets/<id>/dataset.json         provenance and quality of that dataset, and the SHA-256 of its files",
        "sample.json                        only in a generated sample: the SHA-256 of every file it wrote",
        "indicators.csv groups.csv dimension_labels.csv   editable catalogues",
        "register.csv                       the evidence register (where the evidence was presented, and what followed)",
        "facts/official/<indicator>.parquet, facts/citizen/<indicator>.parquet, facts/manifest.json",
        "                                   derived; after a write, re-merged for the changed datasets' indicators",
        "facts/parts/                       per-dataset first stage of the facts (a cache, never committed)",
        "```",
        "",
        "Writes go only through `data_layers.storage` and are atomic (a hidden staging folder or "
        "temporary file, then a rename), so names starting with a dot are never data. The facts are "
        "rebuilt whenever the store's content fingerprint changes (`facts/manifest.json`): each dataset's part "
        "is computed once, and only the indicators a changed dataset holds are merged again. Writers and "
        "the facts build take the store's lock (`.gaplens.lock`), so two imports run one after the other; "
        "a dataset's sequence number (part of every observation key) is taken under that lock. A dataset "
        "whose `dataset.json` or parquet footer cannot be read is skipped (and logged) instead of failing the "
        "store, and a facts file that cannot be read is rebuilt; `python -m data_layers check` verifies every "
        "file against its checksum and names each broken dataset and file. `sample --out DIR` regenerates only "
        "an empty folder or an untouched sample (its `sample.json` still matches), unless `--force`.",
        "",
        "**Types** are the stored parquet (Arrow) types, chosen so that DuckDB and Apache Spark read the "
        "files unchanged (no nanosecond timestamps, unsigned integers, UUID, INTERVAL or HUGEINT). "
        "CSV catalogues are read as text; their types say how the engine interprets them.",
        "",
    ]
    out += _table(["type", "DuckDB", "Spark"], [(f"`{n}`", d, s) for n, d, s in TYPE_NAMES.values()])
    out += ["", "**Required** = the value is never null (an empty text `\"\"` may still be allowed).", "",
            "## Tables", ""]
    for name, (columns, where, purpose) in schema.TABLES.items():
        out += [f"### {name}", "", f"- **Where:** {where}", f"- **What for:** {purpose}", ""]
        out += _table(["column", "type", "meaning", "required"],
                      [(f"`{c.name}`", f"`{type_name(c.type)}`", c.meaning, "no" if c.nullable else "yes")
                       for c in columns])
        out.append("")
    out += [
        "## Dimensions and groups", "",
        "Each SDMX dimension is one text column of `observations` (lower case), holding an SDMX code "
        "or `_T` (total). An observation broken down by exactly one dimension speaks for the groups "
        "defined on that dimension (`disagg_dim`/`disagg_code`).", "",
    ]
    out += _table(["dimension", "column", "codes"],
                  [(f"`{d}`", f"`{schema.dim_column(d)}`", m) for d, m in schema.DIMENSIONS])
    groups = pd.read_csv(storage.DEFAULT_TABLES_DIR / storage.CATALOGUE_FILES["groups"], dtype=str,
                         keep_default_na=False)
    out += ["", "The default groups (`groups.csv`; extend it freely):", ""]
    out += _table(["group_id", "label", "dimension", "codes"],
                  [(f"`{g.group_id}`", g.label, f"`{g.dimension}`", f"`{g.codes}`") for g in groups.itertuples()])
    from .sample import INTERSECTION_GROUPS  # geopandas-heavy; only needed here

    out += ["", *INTERSECTIONS_DOC, ""]
    out += _table(["group_id", "label", "dimension", "codes"],
                  [(f"`{g['group_id']}`", g["label"], f"`{g['dimension']}`", f"`{g['codes']}`")
                   for g in INTERSECTION_GROUPS])
    out += ["", *REGISTER_DOC]
    out += [
        "", "## Coverage cells", "",
        "`GapStore.coverage(level=, as_of=, window=)` and `python -m data_layers gaps` return one row per "
        "(indicator, area, group) at one admin level, with these columns:", "",
    ]
    out += _table(["column", "meaning"], [(f"`{n}`", m) for n, m in schema.CELL_COLUMNS])
    out += ["", "`GapStore.area_scores(...)` summarises the cells per area:", ""]
    out += _table(["column", "meaning"], [(f"`{n}`", m) for n, m in AREA_SCORE_COLUMNS.items()])
    out += [
        "", "## Vocabulary", "",
        "Coverage status of a cell (precedence: not_applicable, current, stale, aggregate_only, "
        "missing). Observations dated after the as-of year are invisible; a cell at level L is judged "
        "only from observations of areas at level L. A suppressed official figure counts as coverage "
        "but is shown as suppressed, never as a number.", "",
    ]
    out += _table(["status", "meaning"], [(f"`{s}`", STATUS_MEANINGS[s]) for s in schema.STATUSES])
    out += ["", "Citizen-data overlay (`cgd_status`):", ""]
    out += _table(["cgd_status", "meaning"], [(f"`{s}`", CGD_MEANINGS[s]) for s in schema.CGD_STATUSES])
    out += ["", "Headline class drawn on maps (`headline`):", ""]
    out += _table(["headline", "meaning"], [(f"`{s}`", HEADLINE_MEANINGS[s]) for s in schema.HEADLINES])
    out += [
        "",
        "**Outcome gap** = group value − total value in the latest year within the window where both "
        "exist, signed by the indicator's polarity so that a positive number means the group is worse "
        "off. **Gap score** = (stale + aggregate_only + missing) / applicable cells; **blind-spot score** "
        "= cells with neither a current official figure nor citizen evidence that counts / applicable cells.",
        "",
        "**Citizen evidence that counts** (what makes a cell `filled`): citizen figures for the cell "
        "within the window, from datasets whose quality verdict is `usable`, shown (not suppressed). "
        "The cell's citizen figure is the n-weighted mean over every year of the window that has such a "
        "figure (`cgd_n` their respondents added up, `cgd_latest_year` the newest, `cgd_datasets` all of "
        "them). Datasets of another verdict are never pooled with usable ones; their figure is still shown, "
        "with `cgd_reason` `not_usable`. A suppressed figure (`cgd_reason` `suppressed`: `small`, fewer "
        "than k respondents behind the figure itself, rows suppressed at source not counting; `source`; "
        "`complementary`, hidden so that no suppressed figure can be worked out from its parent area, "
        "sibling areas or the other groups of the area) and older data (`stale`) never fill a cell.",
        "",
        "**Official and citizen side by side**: where a cell has both figures in the same unit, "
        "`cgd_diff` is citizen minus official and `cgd_margin` their combined 95 % uncertainty (half the "
        "official interval when bounds are published; for percentages the Agresti–Coull sampling margin "
        "1.96 √(p(1−p)/(n+4)) of the citizen figure, p = (x+2)/(n+4); added in quadrature). "
        "`cgd_disagrees` is true when |cgd_diff| exceeds it, empty when it cannot be judged.",
        "",
    ]
    return "\n".join(out)


def _default_text(s: settings.Setting) -> str:
    """A setting's default as shown to people (paths relative to the project, not this machine)."""
    d = s.default
    if isinstance(d, str) and d.startswith(str(PROJECT_DIR)):
        rel = Path(d).relative_to(PROJECT_DIR).as_posix()
        return f"`{rel}/`"
    if isinstance(d, bool):
        return f"`{str(d).lower()}`"
    if isinstance(d, int):
        return f"`{d}`"
    return f"`{d}`"


def render_settings_table() -> str:
    """The settings as one markdown table (setting, environment variable, default, meaning)."""
    return "\n".join(_table(["setting", "environment variable", "default", "meaning"],
                            [(f"`{s.name}`", f"`{s.env}`", _default_text(s), s.help) for s in settings.SETTINGS]))


def render_settings() -> str:
    """``docs/settings.md``."""
    return "\n".join([
        "# GapLens settings", "", _generated_note(), "",
        "Every setting has a default and an environment variable. The command line's options (for "
        "example `--data-dir`, `--as-of`, `--window`) win over the environment for that command. "
        "Boolean variables accept `1`, `true`, `yes` or `on`.", "",
        render_settings_table(), "",
        "Example: serve a read-only dashboard of your own store:", "",
        "```sh",
        "GAPLENS_DATA_DIR=/srv/gaplens-data GAPLENS_READ_ONLY=1 make run",
        "```", "",
    ])


def _sample_datasets_block() -> str:
    """Citizen datasets of the sample store (id, producer, kind of points, method)."""
    metas = [m for m in storage.read_dataset_meta(PROJECT_DIR / "sample_data") if m.get("source_kind") == "citizen"]
    kinds = {"none": "area aggregates", "place": "points (places: may be drawn)",
             "people": "area aggregates about people (never drawn as points)"}
    rows = [(f"`{m['dataset_id']}`", m.get("producer", ""), kinds.get(m.get("point_kind", ""), m.get("point_kind", "")),
             m.get("method", "")) for m in metas]
    return "\n".join(_table(["dataset", "producer", "kind", "method"], rows))


def _edge_cases_block() -> str:
    from .sample import EDGE_CASES  # geopandas-heavy; only needed here

    return "\n".join(f"- **`{k}`**: {v}" for k, v in EDGE_CASES.items())


# name of a generated block -> (file it lives in, renderer)
BLOCKS: dict[str, tuple[Path, Callable[[], str]]] = {
    "settings": (README, render_settings_table),
    "sample-datasets": (SAMPLE_README, _sample_datasets_block),
    "edge-cases": (SAMPLE_README, _edge_cases_block),
}


def block_markers(name: str) -> tuple[str, str]:
    return (f"<!-- begin generated {name}: {REGENERATE} -->", f"<!-- end generated {name} -->")


def replace_block(text: str, name: str, body: str) -> str:
    """``text`` with the generated block ``name`` replaced by ``body`` (unchanged if no markers)."""
    begin, end = block_markers(name)
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        return text
    return text[: i + len(begin)] + "\n" + body + "\n" + text[j:]


def rendered_files() -> dict[Path, str]:
    """Every generated file (or file with generated blocks) and the content it should have."""
    files = {DATA_MODEL: render_data_model(), SETTINGS_DOC: render_settings()}
    for name, (path, render) in BLOCKS.items():
        current = files.get(path) or (path.read_text(encoding="utf-8") if path.is_file() else None)
        if current is not None:
            files[path] = replace_block(current, name, render())
    return files


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"{REGENERATE}", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path, text in rendered_files().items():
        old = path.read_text(encoding="utf-8") if path.is_file() else None
        if old == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'out of date' if args.check else 'wrote'}: {path.relative_to(PROJECT_DIR)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
