"""``python -m data_layers import ...`` and ``python -m data_layers validate ...``.

Exit status: 0 accepted (also "unchanged" and "no data"), 2 refused (the report names file, row,
column and value), 1 unexpected. A progress bar is drawn on a terminal only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .. import settings
from ..cli import UsageError
from . import KINDS, import_file, validate
from .report import Report

PROGRESS_STAGES = {"reading": "reading", "checking": "checking", "writing": "writing", "storing": "storing",
                   "refreshing": "updating facts", "done": "done"}


class _Bar:
    """A tqdm bar on a terminal; nothing otherwise (logs and pipes stay clean)."""

    def __init__(self, enabled: bool) -> None:
        self.bar: Any = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=100, unit="%", file=sys.stderr, leave=False,
                            bar_format="{desc:<16}{bar}| {n:.0f}%")

    def __call__(self, stage: str, fraction: float) -> None:
        if self.bar is None:
            return
        self.bar.set_description_str(PROGRESS_STAGES.get(stage, stage))
        self.bar.update(max(0.0, fraction * 100 - self.bar.n))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", metavar="DIR", default=None,
                   help="store folder (default: $GAPLENS_DATA_DIR, else sample_data/)")
    p.add_argument("--dataset-id", metavar="ID", help="id in the store; the id of an existing dataset replaces it "
                   "with this release (default: from the file name)")
    p.add_argument("--format", dest="fmt", metavar="F", help="force a format instead of detecting it "
                   "(official: un_long, un_wide, open_sdg, sdmx, canonical; citizen: kobo, odk, csv, geojson)")
    p.add_argument("--mapping", metavar="FILE", help="mapping file (TOML/YAML/JSON): columns, labels, areas, "
                   "citizen column roles")
    p.add_argument("--metadata", metavar="FILE", help="dataset metadata (YAML/JSON): title, producer, licence, "
                   "method, point_kind, quality...")
    p.add_argument("--indicator", metavar="CODE", help="the SDG indicator of a file that does not say (e.g. 1.2.1)")
    p.add_argument("--area", metavar="CODE", help="the country or area the file is about (e.g. ARM): rows without "
                   "an area code belong to it, and the file's own codes are looked up inside it")
    p.add_argument("--geo-level", type=int, metavar="N", help="official: the admin level the file's area codes "
                   "are at, when a code could mean areas of several levels")
    p.add_argument("--geo-scheme", metavar="S", help="official: the code scheme of the file's area column: m49 "
                   "(UN M49 or ISO alpha-3, countries only), country (ISO alpha-3, others are aggregates), store "
                   "(the store's own codes), name (area names). Default: declared by the format")
    p.add_argument("--encoding", metavar="NAME", help="force a text encoding (default: detected)")
    p.add_argument("--sheet", metavar="NAME", help="sheet of an XLSX workbook (default: the first)")
    p.add_argument("--level", type=int, metavar="N", help="boundaries: admin level (0 countries, 1 regions, ...)")
    p.add_argument("--code-field", metavar="F", help="boundaries: field holding the area code")
    p.add_argument("--name-field", metavar="F", help="boundaries: field holding the area name")
    p.add_argument("--parent-field", metavar="F", help="boundaries: field holding the parent area's code")
    p.add_argument("--replace-level", action="store_true",
                   help="boundaries: the file replaces every area of the level (default: merged by area code)")
    p.add_argument("--accept-partial", action="store_true",
                   help="store the valid rows of a file with row errors; rejected rows go to rejected.csv")
    p.add_argument("--report-json", metavar="FILE", help="also write the report as JSON to FILE")


def _kwargs(args: argparse.Namespace) -> dict[str, Any]:
    return {"dataset_id": args.dataset_id, "fmt": args.fmt, "mapping": args.mapping, "metadata": args.metadata,
            "level": args.level, "code_field": args.code_field, "name_field": args.name_field,
            "parent_field": args.parent_field, "replace_level": args.replace_level,
            "accept_partial": args.accept_partial, "indicator": args.indicator,
            "area": args.area, "encoding": args.encoding, "sheet": args.sheet,
            "geo_level": args.geo_level, "geo_scheme": args.geo_scheme}


def _finish(report: Report, args: argparse.Namespace) -> int:
    print(report.to_text(max_problems=5))
    if args.report_json:
        Path(args.report_json).write_text(report.to_json(), encoding="utf-8")
    if report.exit_code == 2:
        first = report.errors()[:1]
        where = first[0].text() if first else report.summary()
        print(f"error: refused: {where}", file=sys.stderr)
    elif report.exit_code == 1:
        print("error: unexpected failure (see the report; run with --debug for details)", file=sys.stderr)
    return report.exit_code


def cmd_import(args: argparse.Namespace) -> int:
    if settings.get("read_only") and not args.dry_run:
        raise UsageError("the store is read-only (GAPLENS_READ_ONLY): imports are disabled")
    bar = _Bar(sys.stderr.isatty())
    try:
        report = import_file(args.file, args.kind, args.data_dir, dry_run=args.dry_run, progress=bar,
                             **_kwargs(args))
    finally:
        bar.close()
    return _finish(report, args)


def cmd_validate(args: argparse.Namespace) -> int:
    report = validate(args.file, args.kind, args.data_dir, **_kwargs(args))
    return _finish(report, args)


KIND_HELP = {
    "official": "official SDG statistics: UN SDG database/portal CSV, Open SDG CSV, SDMX-CSV, GapLens CSV/Parquet",
    "citizen": "citizen-generated data: CSV/XLSX with a mapping, KoboToolbox, ODK Central, GeoJSON points",
    "boundaries": "areas of one admin level: GeoJSON, GeoPackage, zipped Shapefile, GeoParquet",
}


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``import official|citizen|boundaries FILE`` and ``validate FILE --kind K`` to the main parser.

    ``import`` has one sub-command per kind, so other modules can add theirs (``import framework``).
    """
    p = sub.add_parser("import", help="import an official, citizen or boundaries file (validated first)",
                       description="Validate a file and, if accepted, store it atomically. Exit status 0 accepted "
                                   "(or unchanged, or no data), 2 refused (nothing written), 1 unexpected.")
    kinds = p.add_subparsers(dest="import_kind", required=True, metavar="KIND")
    for kind in KINDS:
        q = kinds.add_parser(kind, help=KIND_HELP[kind], description=f"Import {KIND_HELP[kind]}.")
        q.add_argument("file", metavar="FILE", help="the file to import")
        _options(q)
        q.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
        q.set_defaults(func=cmd_import, kind=kind)

    p = sub.add_parser("validate", help="check a file as import would, writing nothing",
                       description="Report every problem of a file (file, row, column, value); writes nothing.")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--kind", required=True, choices=KINDS)
    _options(p)
    p.set_defaults(func=cmd_validate)
