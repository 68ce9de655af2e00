"""Command line: ``python -m data_layers <command>``.

Exit status: 0 success, 2 bad arguments or bad data (the message says what and where), 1 an
unexpected error. Expected failures never print a traceback (``--debug`` shows one).
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from . import settings, storage
from .store import QueryError

log = logging.getLogger("data_layers")

EXIT_OK, EXIT_UNEXPECTED, EXIT_BAD = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or bad data: reported in one message, exit status 2."""


Registrar = Callable[[argparse._SubParsersAction], None]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", metavar="DIR", default=None,
                   help="store folder (default: $GAPLENS_DATA_DIR, else sample_data/)")


def open_store(args: argparse.Namespace, *, rebuild_facts: bool = True):
    from .store import GapStore

    try:
        return GapStore(args.data_dir, rebuild_facts=rebuild_facts)
    except storage.StoreError as e:
        raise UsageError(str(e)) from e


def write_frame(df: pd.DataFrame, fmt: str, out: str) -> None:
    """Write a table as csv, json or parquet to a file, or to standard output with ``-``.

    CSV text cells that a spreadsheet would read as a formula get a leading quote (see
    :func:`data_layers.exports.tables.neutralise`); JSON and parquet keep the values as stored.
    """
    if fmt == "parquet":
        if out == "-":
            buf = io.BytesIO()
            df.to_parquet(buf, index=False)
            sys.stdout.buffer.write(buf.getvalue())
        else:
            df.to_parquet(out, index=False)
        return
    if fmt == "csv":  # opened in a spreadsheet: formula-like text neutralised as in the downloads
        from .exports.tables import neutralise_frame

        text = neutralise_frame(df).to_csv(index=False)
    else:
        text = df.to_json(orient="records", indent=1) + "\n"
    if out == "-":
        sys.stdout.write(text)
    else:
        Path(out).write_text(text, encoding="utf-8")


# --- commands --------------------------------------------------------------------------------------

def cmd_sample(args: argparse.Namespace) -> int:
    from . import sample

    out = Path(args.out)
    why = sample.not_the_sample(out)
    if settings.get("read_only") and why is None and out.is_dir() and any(out.iterdir()):
        why = "the store is read-only (GAPLENS_READ_ONLY)"
    if settings.get("read_only") and why:
        raise UsageError(f"sample --out {out}: refused, {why}; nothing was written (read-only mode: --force "
                         "does not apply)")
    if why and not args.force:
        raise UsageError(f"sample --out {out}: refused, {why}. Regenerating would replace that store's datasets, "
                         "areas and catalogues; give --force to do so, or choose an empty folder. Nothing was written.")
    store = sample.generate(out)
    n = store.observation_count()
    print(f"sample written to {args.out}: {len(store.datasets())} datasets, {n} observations")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from . import catalogue

    if settings.get("read_only"):
        raise UsageError("the store is read-only (GAPLENS_READ_ONLY): no new store is made")
    try:
        counts = catalogue.init_store(Path(args.dir), world=args.world)
    except catalogue.InitError as e:
        raise UsageError(str(e)) from e
    world = f", {counts['areas']} countries at level 0" if args.world else " (no areas yet: import boundaries, or init --world)"
    print(f"empty store made in {args.dir}: {counts['indicators']} indicators, {counts['groups']} groups{world}")
    return EXIT_OK


def cmd_gaps(args: argparse.Namespace) -> int:
    store = open_store(args)
    levels = store.levels()
    if args.level not in levels:
        raise UsageError(f"--level {args.level}: no areas at that level in {store.data_dir} (levels: {levels})")
    lo, hi = 1900, 2100
    if not lo <= args.as_of <= hi:
        raise UsageError(f"--as-of {args.as_of}: expected a year between {lo} and {hi}")
    if not 0 <= args.window <= 100:
        raise UsageError(f"--window {args.window}: expected 0 to 100 years")
    known_ind = set(store.indicators()["code"])
    for code in args.indicator or ():
        if code not in known_ind:
            raise UsageError(f"--indicator {code!r}: not in the indicator catalogue "
                             f"({len(known_ind)} indicators; see `python -m data_layers indicators`)")
    known_groups = list(store.groups()["group_id"])
    for g in args.group or ():
        if g not in known_groups:
            raise UsageError(f"--group {g!r}: unknown group (known: {', '.join(known_groups)})")
    series: dict[str, str] = {}
    for choice in args.series or ():
        ind, sep, name = choice.partition("=")
        if not sep or ind not in known_ind:
            raise UsageError(f"--series {choice!r}: expected INDICATOR=SERIES (or INDICATOR=SERIES|UNIT) with an "
                             "indicator of the catalogue, e.g. --series 11.3.1=EN_LND_CNSPOP")
        series[ind] = name
    try:
        df = store.coverage(level=args.level, as_of=args.as_of, window=args.window,
                            indicators=args.indicator, groups=args.group, series=series or None)
    except QueryError as e:
        raise UsageError(str(e)) from e
    write_frame(df, args.format, args.out)
    if args.out != "-":
        print(f"{len(df)} cells written to {args.out}", file=sys.stderr)
    return EXIT_OK


def cmd_datasets(args: argparse.Namespace) -> int:
    if args.action == "remove":
        if not args.id:
            raise UsageError("datasets remove: give the dataset id")
        if settings.get("read_only"):
            raise UsageError("the store is read-only (GAPLENS_READ_ONLY)")
        store = open_store(args)
        try:
            storage.remove_dataset(store.data_dir, args.id)
        except storage.StoreError as e:
            raise UsageError(str(e)) from e
        store.refresh()
        print(f"dataset {args.id} removed from {store.data_dir}")
        return EXIT_OK
    store = open_store(args, rebuild_facts=False)
    df = store.datasets()
    cols = ["dataset_id", "source_kind", "title", "producer", "licence", "collection_start", "collection_end",
            "rows_stored", "imported_at", "sha256", "verdict"]
    if args.format == "table":
        with pd.option_context("display.max_colwidth", 40, "display.width", 200):
            print(df[cols].to_string(index=False))
    else:
        write_frame(df, args.format, "-")
    return EXIT_OK


def cmd_series(args: argparse.Namespace) -> int:
    store = open_store(args, rebuild_facts=False)
    df = store.series_options(indicator=args.indicator)
    if args.format == "table":
        print(df.to_string(index=False) if len(df) else "no official figures in this store")
    else:
        write_frame(df, args.format, "-")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from . import health

    result = health.check_store(settings.data_dir(args.data_dir))
    for line in health.report_lines(result):
        print(line)
    return EXIT_OK if result.sound else EXIT_BAD


def cmd_indicators(args: argparse.Namespace) -> int:
    store = open_store(args, rebuild_facts=False)
    df = store.indicators()[["code", "short_title", "unit", "higher_is_better", "not_applicable", "title"]]
    with pd.option_context("display.max_colwidth", 70, "display.width", 220):
        print(df.to_string(index=False))
    return EXIT_OK


# `register add` options: flag -> register column (one declarative table; --help lists them)
REGISTER_FLAGS: tuple[tuple[str, str, str], ...] = (
    ("--presented-on", "presented_on", "day the evidence was presented, YYYY-MM-DD (required)"),
    ("--to", "presented_to", "to whom: the office, ministry or committee, e.g. PSA (required)"),
    ("--place", "place", "where: the meeting or forum and the town"),
    ("--by", "presented_by", "who presented (organisation)"),
    ("--indicator", "indicator", "indicator code the evidence concerns (empty: every indicator shown)"),
    ("--area", "area_code", "area code it concerns (empty: every area shown)"),
    ("--group", "group_id", "group id it concerns (empty: every group shown)"),
    ("--response", "official_response", "the official response, in the presenter's words"),
    ("--commitments", "commitments", "commitments made, if any"),
    ("--follow-up", "follow_up_on", "agreed follow-up date, YYYY-MM-DD"),
)


def cmd_register(args: argparse.Namespace) -> int:
    from . import register

    if args.action == "add":
        store = open_store(args, rebuild_facts=False)
        known = {"indicator": set(store.indicators()["code"]), "area_code": set(store.areas()["code"]),
                 "group_id": set(store.groups()["group_id"])}
        entry = {col: getattr(args, col) for _, col, _ in REGISTER_FLAGS}
        try:
            row = register.add(store.data_dir, entry, known=known)
        except (register.RegisterError, storage.StoreError) as e:
            raise UsageError(f"register add: {e}") from e
        print(f"register entry {row['entry_id']} added to {store.data_dir}")
        return EXIT_OK
    data_dir = settings.data_dir(args.data_dir).resolve()
    if not data_dir.is_dir():
        raise UsageError(f"data directory {data_dir} does not exist")
    try:
        df = register.read(data_dir)
    except storage.StoreError as e:
        raise UsageError(str(e)) from e
    if args.format == "table":
        with pd.option_context("display.max_colwidth", 40, "display.width", 200):
            cols = ["entry_id", "presented_on", "presented_to", "indicator", "area_code", "group_id", "follow_up_on"]
            print(df[cols].to_string(index=False) if len(df) else "the evidence register is empty")
    else:
        write_frame(df, args.format, args.out)
    return EXIT_OK


def build_parser(registrars: Sequence[Registrar] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m data_layers",
        description="GapLens data layer: sample data, coverage gaps, datasets, imports and exports.",
        epilog="Settings (environment): " + "; ".join(f"{s.env}: {s.help}" for s in settings.SETTINGS))
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("sample", help="regenerate the sample data (same content every time)",
                       description="Regenerate the Philippine sample store (synthetic, illustrative values).")
    p.add_argument("--out", default=str(settings.DEFAULT_DATA_DIR), metavar="DIR",
                   help="target folder: empty, new, or an untouched sample (see sample.json)")
    p.add_argument("--force", action="store_true",
                   help="replace whatever store DIR holds (refused without it when DIR is not the sample)")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("init", help="make an empty store (the full SDG indicator catalogue; --world for countries)",
                       description="Make an empty, valid store in DIR (a new or empty folder): the global "
                                   "indicator framework with official titles in seven languages, the groups and "
                                   "label tables, and with --world the world's countries at level 0 "
                                   "(Natural Earth, ISO 3166-1 alpha-3).")
    p.add_argument("dir", metavar="DIR", help="a new or empty folder")
    p.add_argument("--world", action="store_true", help="add the world's countries as level 0")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("gaps", help="coverage status of every indicator x area x group cell",
                       description="One row per (indicator, area, group) cell at one admin level.")
    _common(p)
    p.add_argument("--level", type=int, default=1, help="admin level (0 country, 1 region, 2 province)")
    p.add_argument("--as-of", type=int, default=settings.get("as_of"), metavar="YEAR",
                   help="as-of year; later observations are invisible")
    p.add_argument("--window", type=int, default=settings.get("window"), metavar="YEARS",
                   help="freshness window in years")
    p.add_argument("--indicator", action="append", metavar="CODE", help="only this indicator (repeatable)")
    p.add_argument("--group", action="append", metavar="ID", help="only this group (repeatable)")
    p.add_argument("--series", action="append", metavar="IND=SERIES",
                   help="show this series' values for an indicator with several (repeatable; default: the "
                        "headline series; `python -m data_layers series` lists them)")
    p.add_argument("--format", choices=("csv", "json", "parquet"), default="csv")
    p.add_argument("--out", default="-", metavar="FILE", help="output file, - for standard output")
    p.set_defaults(func=cmd_gaps)

    p = sub.add_parser("datasets", help="the dataset catalogue with provenance; `datasets remove ID`",
                       description="List datasets, or remove one with `datasets remove ID`.")
    _common(p)
    p.add_argument("action", nargs="?", choices=("list", "remove"), default="list")
    p.add_argument("id", nargs="?", help="dataset id (with remove)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(func=cmd_datasets)

    p = sub.add_parser("series", help="the series and units of each indicator's official figures",
                       description="Every series and unit the official facts hold, with the headline one each "
                                   "indicator shows by default (set it in indicators.csv's series column).")
    _common(p)
    p.add_argument("--indicator", metavar="CODE", help="only this indicator")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.set_defaults(func=cmd_series)

    p = sub.add_parser("check", help="verify every file of the store; name each broken dataset and file",
                       description="Health check: every dataset file against the checksums in its dataset.json "
                                   "(older datasets read whole), sequence numbers unique, areas, catalogues and "
                                   "facts readable. Writes nothing. Exit status 0 sound, 2 problems found.")
    _common(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("indicators", help="the indicator catalogue",
                       description="List the indicators of the store's catalogue.")
    _common(p)
    p.set_defaults(func=cmd_indicators)

    p = sub.add_parser("register", help="the evidence register: `register list`, `register add ...`",
                       description="Where the evidence was presented, to whom, the official response and "
                                   "commitments. `register list` shows or exports it (--format csv is the "
                                   "export); `register add` records one entry, tied to cells by --indicator, "
                                   "--area and --group (an empty one means all: --area alone records a whole "
                                   "brief). Refused in read-only mode.")
    _common(p)
    p.add_argument("action", choices=("list", "add"), help="list the entries, or add one")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="with list")
    p.add_argument("--out", default="-", metavar="FILE", help="with list --format csv/json: output file, - for "
                                                              "standard output")
    for flag, col, text in REGISTER_FLAGS:
        p.add_argument(flag, dest=col, default="", metavar="TEXT", help=f"with add: {text}")
    p.set_defaults(func=cmd_register)

    for register in registrars:
        register(sub)
    return parser


def _registrars() -> list[Registrar]:
    """Commands that live with their subpackage (imports, exports)."""
    import importlib

    found: list[Registrar] = []
    # data_layers.framework comes after the importers: it adds `import framework` to their `import`
    for module in ("data_layers.importers.cli", "data_layers.exports.cli", "data_layers.framework", "data_layers.facts_engine"):
        try:
            found.append(importlib.import_module(module).register)
        except ModuleNotFoundError as e:  # e.g. exports without kaleido: the core still runs
            log.debug("commands of %s unavailable: %s", module, e)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings.check_all()  # a mistyped variable is named here, before any default is read
    except settings.SettingError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD
    parser = build_parser(_registrars())
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or EXIT_OK)
    except (UsageError, settings.SettingError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_UNEXPECTED
    except Exception as e:  # the last line of defence: no traceback for users, exit 1
        if args.debug:
            raise
        print(f"unexpected error: {type(e).__name__}: {e} (run with --debug for details)", file=sys.stderr)
        return EXIT_UNEXPECTED
