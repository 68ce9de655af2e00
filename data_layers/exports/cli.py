"""``python -m data_layers export brief|chart``: meeting packs and single charts from the command line.

``export brief --area PH-05 --area PH-ALB --out pack/`` writes one PDF per area, named by its
code (``--level 2`` for every province); ``export brief --indicator 6.1.1 --level 2 --out pack/``
writes one brief per indicator across the areas of a level (``indicator-6.1.1.pdf``); ``export chart gap-map --format svg --out map.svg``
writes one dashboard chart with the same decoration as the download buttons; ``export chart
--list`` names the charts. Exit status as the other commands: 0 done, 2 bad arguments (the
message says which), 1 unexpected.

Heavy imports (figures, kaleido, Playwright) happen inside the commands, so that registering the
commands never fails and ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path
from typing import Any

from .. import settings
from ..cli import EXIT_OK, UsageError, open_store
from ..interface import StoreAPI
from .formats import EXPORT_FORMATS

log = logging.getLogger(__name__)

CHART_FORMATS = tuple(EXPORT_FORMATS)  # the registry of exports/formats.py
PAPERS = ("a4", "letter")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``export`` with its ``brief`` and ``chart`` subcommands."""
    from ..cli import _common

    p = sub.add_parser("export", help="evidence briefs (PDF) and chart exports (PNG, SVG, PDF, CSV, XLSX)",
                       description="Export evidence briefs and dashboard charts that stand on their own.")
    esub = p.add_subparsers(dest="export_command", required=True, metavar="WHAT")

    b = esub.add_parser("brief", help="one evidence brief (PDF) per area or per indicator",
                        description="Write a one- or two-page evidence brief per area (CODE.pdf) or per "
                                    "indicator across the areas of a level (indicator-CODE.pdf).")
    _common(b)
    b.add_argument("--area", action="append", metavar="CODE", help="area code (repeatable)")
    b.add_argument("--indicator", action="append", metavar="CODE",
                   help="indicator code (repeatable): its brief across the areas of --level")
    b.add_argument("--level", type=int, metavar="N",
                   help="with --indicator: the level compared (default: the dashboard's); alone: every area of it")
    b.add_argument("--paper", choices=PAPERS, default="a4", help="paper size (default a4)")
    b.add_argument("--lang", default="en", metavar="L", help="language: en, fr, es or ar")
    b.add_argument("--as-of", type=int, default=settings.get("as_of"), metavar="YEAR", help="as-of year")
    b.add_argument("--window", type=int, default=settings.get("window"), metavar="YEARS", help="freshness window")
    b.add_argument("--out", required=True, metavar="DIR", help="folder for the PDFs (created if needed)")
    b.set_defaults(func=cmd_brief)

    c = esub.add_parser("chart", help="one dashboard chart as PNG, SVG, PDF, CSV or XLSX",
                        description="Export one of the dashboard's charts (list them with --list).")
    _common(c)
    c.add_argument("name", nargs="?", metavar="NAME", help="chart name (see --list)")
    c.add_argument("--list", action="store_true", help="list the chart names and exit")
    c.add_argument("--indicator", metavar="CODE")
    c.add_argument("--group", metavar="ID")
    c.add_argument("--level", type=int, metavar="N")
    c.add_argument("--area", metavar="CODE")
    c.add_argument("--as-of", type=int, metavar="YEAR")
    c.add_argument("--window", type=int, metavar="YEARS")
    c.add_argument("--lang", default="en", metavar="L", help="language: en, fr, es or ar")
    c.add_argument("--format", choices=CHART_FORMATS, default=None,
                   help="output format (default: from the --out file's extension)")
    c.add_argument("--out", metavar="FILE", help="output file")
    c.set_defaults(func=cmd_chart)


def _lang(value: str) -> str:
    from ..i18n import LANGUAGES

    lang = (value or "en").strip().lower()
    if lang not in LANGUAGES:
        raise UsageError(f"--lang {value!r}: expected one of {', '.join(LANGUAGES)}")
    return lang


def _check_years(as_of: int | None, window: int | None) -> None:
    from ..views import AS_OF_RANGE, WINDOW_RANGE

    if as_of is not None and not AS_OF_RANGE[0] <= as_of <= AS_OF_RANGE[1]:
        raise UsageError(f"--as-of {as_of}: expected a year between {AS_OF_RANGE[0]} and {AS_OF_RANGE[1]}")
    if window is not None and not WINDOW_RANGE[0] <= window <= WINDOW_RANGE[1]:
        raise UsageError(f"--window {window}: expected {WINDOW_RANGE[0]} to {WINDOW_RANGE[1]} years")


def _area_codes(store: StoreAPI, wanted: list[str] | None, level: int | None) -> list[str]:
    """The areas asked for by ``--area`` (checked, with suggestions) or ``--level``."""
    areas = store.areas()
    if level is not None:
        if level not in store.levels():
            raise UsageError(f"--level {level}: no areas at that level (levels: {store.levels()})")
        return list(areas.loc[areas["level"] == level, "code"])
    known = set(areas["code"])
    unknown = [c for c in wanted or [] if c not in known]
    if unknown:
        import difflib

        near = sorted({m for c in unknown for m in difflib.get_close_matches(c, known, n=3, cutoff=0.6)})
        hint = f"did you mean {', '.join(near)}?" if near else f"e.g. {', '.join(sorted(known)[:5])}"
        raise UsageError(f"--area {', '.join(unknown)}: unknown area code(s) in {store.data_dir} "
                         f"({hint}; codes are listed by `python -m data_layers gaps`)")
    return list(dict.fromkeys(wanted or []))


def _indicator_jobs(store: StoreAPI, wanted: list[str], level: int | None) -> list[tuple[str, dict[str, Any]]]:
    """(file stem, make_brief arguments) of one brief per indicator across ``level``."""
    from ..views import DEFAULT_LEVEL

    known = list(store.indicators()["code"])
    unknown = [c for c in wanted if c not in known]
    if unknown:
        import difflib

        near = sorted({m for c in unknown for m in difflib.get_close_matches(c, known, n=3, cutoff=0.6)})
        hint = f"did you mean {', '.join(near)}?" if near else f"e.g. {', '.join(known[:5])}"
        raise UsageError(f"--indicator {', '.join(unknown)}: unknown indicator code(s) ({hint}; "
                         "codes are listed by `python -m data_layers indicators`)")
    level = DEFAULT_LEVEL if level is None else level
    if level not in store.levels():
        raise UsageError(f"--level {level}: no areas at that level (levels: {store.levels()})")
    return [(f"indicator-{code}", {"indicator": code, "level": level}) for code in dict.fromkeys(wanted)]


def cmd_brief(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .brief import PdfPrinter, make_brief

    lang = _lang(args.lang)
    _check_years(args.as_of, args.window)
    if args.indicator:
        if args.area:
            raise UsageError("give either --area or --indicator, not both")
        store = open_store(args)
        jobs = _indicator_jobs(store, args.indicator, args.level)
    else:
        if args.area and args.level is not None:
            raise UsageError("give either --area (repeatable) or --level, not both")
        if not args.area and args.level is None:
            raise UsageError("give --area CODE (repeatable), --level N, or --indicator CODE")
        store = open_store(args)
        jobs = [(code, {"area": code}) for code in _area_codes(store, args.area, args.level)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with PdfPrinter() as printer:
        bar = tqdm(jobs, desc="briefs", unit="brief", file=sys.stderr, disable=len(jobs) < 2)
        for name, subject in bar:
            bar.set_postfix_str(name)
            pdf = make_brief(store, **subject, paper=args.paper, lang=lang, as_of=args.as_of,
                             window=args.window, printer=printer)
            path = out / f"{_SAFE_NAME.sub('_', name)}.pdf"
            tmp = path.with_suffix(".pdf.tmp")
            tmp.write_bytes(pdf)
            tmp.replace(path)
            written.append(path)
    for path in written if len(written) <= 10 else written[:3]:
        print(path)
    print(f"{len(written)} brief(s) written to {out}", file=sys.stderr)
    return EXIT_OK


def chart_specs() -> dict[str, Any]:
    """The dashboard's chart registry (name -> ChartSpec)."""
    from ..figures import CHARTS

    return CHARTS


def cmd_chart(args: argparse.Namespace) -> int:
    from ..i18n import t

    lang = _lang(args.lang)
    specs = chart_specs()
    if args.list:
        for name, spec in specs.items():
            print(f"{name:<20} {t(spec.title_key, lang)}")
        return EXIT_OK
    if not args.name:
        raise UsageError("give a chart NAME (see `python -m data_layers export chart --list`)")
    if args.name not in specs:
        raise UsageError(f"unknown chart {args.name!r} (known: {', '.join(specs)})")
    if not args.out:
        raise UsageError("give --out FILE")
    out = Path(args.out)
    fmt = args.format or out.suffix.lstrip(".").lower()
    if fmt not in CHART_FORMATS:
        raise UsageError(f"--format: give one of {', '.join(CHART_FORMATS)} (or an --out file ending in one)")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: folder {out.parent} does not exist")
    _check_years(args.as_of, args.window)
    store = open_store(args)
    view = build_view(store, args, lang)
    data = export_chart(store, args.name, view, fmt, lang)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    print(f"{args.name} written to {out} ({fmt}, {len(data):,} bytes)", file=sys.stderr)
    return EXIT_OK


def build_view(store: StoreAPI, args: argparse.Namespace, lang: str) -> Any:
    """A validated View from the command's filters; a refused value is a usage error."""
    from ..views import View

    params = {"lang": lang}
    for name in ("indicator", "group", "level", "area", "as_of", "window"):
        value = getattr(args, name, None)
        if value is not None:
            params[name] = str(value)
    view, notices = View.from_params(params, store=store)
    if notices:
        raise UsageError("; ".join(notices))
    return view


def export_chart(store: StoreAPI, name: str, view: Any, fmt: str, lang: str) -> bytes:
    """Bytes of one chart in one format (``exports/formats.py``): the decorated figure, or its data with sources."""
    from .formats import export

    spec = chart_specs()[name]
    return export(spec.build(store, view), store, view, fmt, lang)


def table_context(store: StoreAPI, result: Any, view: Any, lang: str) -> dict[str, Any]:
    """Sources, filters in words and the coverage rule for an XLSX download of a chart's data."""
    from ..i18n import t
    from ..views import describe

    return {"sources": sources_frame(store, result.data, lang), "filters": {
        t("export.filters.view", lang): describe(view, store, lang),
        t("export.filters.as_of", lang): str(view.as_of),
        t("export.filters.window", lang): str(view.window),
        t("export.filters.source", lang): str(getattr(result, "source", "") or ""),
    }, "rule_text": t("export.rule_text", lang, as_of=view.as_of, start=view.as_of - view.window, window=view.window),
        "lang": lang, "title": str(getattr(result, "title", "") or "")}


DATASET_ID_COLUMNS = ("dataset_id", "cgd_datasets", "datasets", "official_datasets")


def sources_frame(store: StoreAPI, data: Any, lang: str = "en") -> Any:
    """The datasets behind a table: the official ones and every citizen dataset it names.

    Coverage cells do not name their official dataset, so all official datasets are listed;
    citizen datasets are listed when the table names them (or all, when it names none).
    """
    from ..i18n import t

    ds = store.datasets()
    named: set[str] = set()
    for col in DATASET_ID_COLUMNS:
        if data is not None and col in getattr(data, "columns", ()):
            for v in data[col].dropna():
                named.update(x.strip() for x in str(v).split(",") if x.strip())
    keep = (ds["source_kind"] == "official") | ds["dataset_id"].isin(named) if named else ds["dataset_id"].notna()
    ds = ds[keep]
    kind = ds["source_kind"].map({"citizen": t("export.citizen_data", lang),
                                  "official": t("export.official_data", lang)}).fillna(ds["source_kind"])
    cols = ["dataset_id", "title", "producer", "licence", "collection_start", "collection_end", "url", "verdict"]
    out = ds[[c for c in cols if c in ds.columns]].copy()
    out.insert(1, "kind", kind)
    return out.reset_index(drop=True)
