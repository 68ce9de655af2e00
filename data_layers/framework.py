"""SDG framework titles (goals, targets, indicators) in several languages.

The UN's official titles are imported from a folder laid out like open-sdg/sdg-translations
(``<lang>/global_goals.yml``, ``global_targets.yml``, ``global_indicators.yml`` with keys such
as ``6-title``, ``6-short``, ``6-1-title``, ``6-b-1-title``) into one small store table,
``framework_titles.csv`` (columns ``kind, code, lang, title, short``; codes with dots), written
atomically. :func:`title` then answers "what is indicator 6.1.1 called in French?", falling back
to English *visibly* (a marker) when a language lacks a title, and never to a blank.

The framework is revised over the years (2020 comprehensive review and later refinements), so a
data file can name an indicator that no longer exists: :func:`unknown_codes` reports catalogue
and observed indicator codes that the imported framework does not know.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from . import settings, storage

log = logging.getLogger(__name__)

FRAMEWORK_FILE = "framework_titles.csv"
#: the UN's official titles in seven languages, shipped with the project (see its PROVENANCE.md):
#: a store that imported no framework of its own shows these
SHIPPED_FILE = Path(__file__).resolve().parent / "sdg_framework" / FRAMEWORK_FILE
COLUMNS = ("kind", "code", "lang", "title", "short")
KINDS = ("goal", "target", "indicator")
#: file of each kind inside a language folder, as in open-sdg/sdg-translations
FILES = {"goal": "global_goals.yml", "target": "global_targets.yml", "indicator": "global_indicators.yml"}
#: number of code parts of each kind (6 / 6.1 / 6.1.1); longer codes are national indicators
PARTS = {"goal": 1, "target": 2, "indicator": 3}
FALLBACK_LANG = "en"
#: appended to a title shown in English because the requested language has none, so that a
#: reader (and a screen reader) knows the text is not in the page's language
FALLBACK_MARK = " (EN)"
#: a YAML file larger than this is refused: the real files are about 100 KB, and a multi-MB
#: "title" file is a mistake or an attack on memory
MAX_FILE_BYTES = 5_000_000
_KEY = re.compile(r"^(?P<code>[0-9]{1,2}(?:[-.](?:[0-9]{1,2}|[a-z])){0,2})-(?P<field>title|short)$")
_LANG = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")


class FrameworkError(Exception):
    """A framework folder that cannot be imported; ``problems`` lists every reason found."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


@dataclass
class ImportReport:
    """What an import wrote, and which indicator codes of the store the framework does not know."""

    path: Path
    rows: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # lang -> kind -> titles
    unknown: list[str] = field(default_factory=list)
    national: list[str] = field(default_factory=list)


# --- reading a framework folder ----------------------------------------------------------------

def _load_yaml(path: Path, problems: list[str]) -> dict[str, Any]:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        problems.append(f"{path}: {size} bytes, larger than the {MAX_FILE_BYTES} bytes a title file can be")
        return {}
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    except UnicodeDecodeError as e:
        problems.append(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})")
        return {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problems.append(f"{path}{where}: not valid YAML ({getattr(e, 'problem', None) or e})")
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a mapping of keys like '6-1-1-title' to titles, got {type(data).__name__}")
        return {}
    return data


def _parse_file(path: Path, kind: str, lang: str, problems: list[str]) -> list[dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for key, value in _load_yaml(path, problems).items():
        m = _KEY.match(str(key))
        if not m:
            problems.append(f"{path}: key {key!r} is not like '6-title', '6-short', '6-1-title' or '6-1-1-title'")
            continue
        code = m["code"].replace("-", ".")
        if len(code.split(".")) != PARTS[kind]:
            problems.append(f"{path}: key {key!r} is not a {kind} code")
            continue
        if m["field"] == "short" and kind != "goal":
            problems.append(f"{path}: key {key!r}: only goals have short titles")
            continue
        if not isinstance(value, str):
            problems.append(f"{path}: key {key!r}: expected text, got {type(value).__name__}")
            continue
        text = unicodedata.normalize("NFC", " ".join(value.split()))  # some files use decomposed accents
        row = rows.setdefault(code, {"kind": kind, "code": code, "lang": lang, "title": "", "short": ""})
        if text:
            row[m["field"]] = text
    return [r for r in rows.values() if r["title"] or r["short"]]


def read_framework(src: str | Path, langs: Iterable[str] | None = None) -> pd.DataFrame:
    """Parse a framework folder into rows of ``COLUMNS``; raise :class:`FrameworkError` if bad.

    Every problem is collected (up to the error cap) before refusing, so one run tells the whole
    story. A language folder may lack a file (its titles then fall back to English).
    """
    root = Path(src)
    if not root.is_dir():
        raise FrameworkError(f"{root}: not a folder (expected <lang>/global_goals.yml, ... inside)")
    wanted = set(langs) if langs else None
    problems: list[str] = []
    rows: list[dict[str, str]] = []
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    found_langs: list[str] = []
    for folder in folders:
        lang = folder.name
        if wanted is not None and lang not in wanted:
            continue
        if not any((folder / f).is_file() for f in FILES.values()):
            continue
        if not _LANG.match(lang):
            problems.append(f"{folder}: folder name {lang!r} is not a language tag such as 'fr' or 'zh-Hans'")
            continue
        found_langs.append(lang)
        for kind, fname in FILES.items():
            path = folder / fname
            if path.is_file():
                rows.extend(_parse_file(path, kind, lang, problems))
            else:
                log.warning("%s: no %s; %s titles in %s will fall back to English", folder, fname, kind, lang)
    if wanted is not None:
        problems.extend(f"{root}: no titles for the requested language {lang!r}" for lang in sorted(wanted - set(found_langs)))
    if not found_langs and not problems:
        problems.append(f"{root}: no language folder with {', '.join(FILES.values())} inside")
    cap = int(settings.get("error_cap"))
    if problems:
        shown = problems[:cap]
        more = f" (and {len(problems) - cap} more)" if len(problems) > cap else ""
        raise FrameworkError(f"{root}: {len(problems)} problem(s), nothing imported{more}", shown)
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    return _sorted(df)


def _code_key(code: str) -> tuple:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in code.split("."))


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    order = sorted(range(len(df)), key=lambda i: (df["lang"].iat[i], KINDS.index(df["kind"].iat[i]), _code_key(df["code"].iat[i])))
    return df.iloc[order].reset_index(drop=True)


# --- the store table -----------------------------------------------------------------------------

def framework_path(data_dir: str | Path | None = None) -> Path:
    """The store's own titles file (written by ``import framework``)."""
    return settings.data_dir(data_dir) / FRAMEWORK_FILE


def titles_path(data_dir: str | Path | None = None) -> Path:
    """The titles a store shows: its own imported framework, else the shipped one."""
    own = framework_path(data_dir)
    return own if own.is_file() else SHIPPED_FILE


def write_titles(data_dir: str | Path | None, df: pd.DataFrame) -> Path:
    """Write the titles table atomically (readers see the old or the new file, never half)."""
    path = framework_path(data_dir)
    out = _sorted(df[list(COLUMNS)].fillna(""))
    storage.atomic_write_bytes(path, out.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return path


@lru_cache(maxsize=8)
def _read_titles(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    del mtime_ns, size  # only part of the cache key: a rewritten file is read again
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


def load_titles(data_dir: str | Path | None = None) -> pd.DataFrame:
    """The framework titles a store shows (its own import, else the shipped framework)."""
    path = titles_path(data_dir)
    try:
        st = path.stat()
    except FileNotFoundError:
        return pd.DataFrame(columns=list(COLUMNS), dtype=str)
    return _read_titles(str(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=8)
def _index(path: str, mtime_ns: int, size: int) -> dict[tuple[str, str], tuple[str, str]]:
    df = _read_titles(path, mtime_ns, size)
    return {(r.code, r.lang): (r.title, r.short) for r in df.itertuples(index=False)}


def _title_index(data_dir: Path) -> dict[tuple[str, str], tuple[str, str]]:
    path = titles_path(data_dir)
    try:
        st = path.stat()
    except FileNotFoundError:
        return {}
    return _index(str(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=8)
def _catalogue(path: str, mtime_ns: int) -> dict[str, tuple[str, str]]:
    del mtime_ns
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return {r.code: (r.title, r.short_title) for r in df.itertuples(index=False)}


def _catalogue_titles(data_dir: Path) -> dict[str, tuple[str, str]]:
    path = storage.catalogue_path(data_dir, "indicators")
    return _catalogue(str(path), path.stat().st_mtime_ns)


def _data_dir(store_or_data_dir: Any) -> Path:
    """Accept a GapStore, a folder, or None (the configured store)."""
    if store_or_data_dir is not None and hasattr(store_or_data_dir, "data_dir"):
        return Path(store_or_data_dir.data_dir)
    return settings.data_dir(store_or_data_dir)


def title(code: str, lang: str, store_or_data_dir: Any = None, *, short: bool = False) -> tuple[str, bool]:
    """Title of a goal (``"6"``), target (``"6.1"``) or indicator (``"6.1.1"``) in ``lang``.

    Returns ``(text, is_fallback)``. When the language has no title, the English one is returned
    with :data:`FALLBACK_MARK` appended and ``is_fallback`` true (a reader sees that the text is
    in English). English comes from the framework, else from the store's indicator catalogue
    (national indicators such as ``1.2.1.a`` live only there). Unknown codes return the code
    itself, marked as a fallback: never a blank. ``short`` asks for a goal's short name
    ("Clean water and sanitation"); other kinds have none and give their title.
    """
    code = str(code).strip()
    data_dir = _data_dir(store_or_data_dir)
    index = _title_index(data_dir)

    def lookup(lg: str) -> str:
        t, s = index.get((code, lg), ("", ""))
        return (s or t) if short else t

    text = lookup(lang)
    if text:
        return text, False
    english = lookup(FALLBACK_LANG)
    if not english:
        try:
            cat_title, cat_short = _catalogue_titles(data_dir).get(code, ("", ""))
        except FileNotFoundError:
            cat_title = cat_short = ""
        english = (cat_short or cat_title) if short else cat_title
    if english:
        if lang == FALLBACK_LANG:
            return english, False
        return english + FALLBACK_MARK, True
    return code, True


def strip_mark(text: str) -> str:
    """A title without the fallback marker (for sorting or matching)."""
    return text[: -len(FALLBACK_MARK)] if text.endswith(FALLBACK_MARK) else text


def languages(store_or_data_dir: Any = None) -> list[str]:
    """Languages with imported titles."""
    df = load_titles(_data_dir(store_or_data_dir))
    return sorted(df["lang"].unique().tolist())


# --- validation of indicator codes ---------------------------------------------------------------

def unknown_codes(store_or_data_dir: Any = None) -> tuple[list[str], list[str]]:
    """Indicator codes of the store that the imported (English) framework does not know.

    Looks at the catalogue and, when a GapStore is given, at the codes of its observations.
    Returns ``(unknown, national)``: ``national`` are codes with more than three parts whose
    global parent exists (``1.2.1.a`` under ``1.2.1``): expected, listed for information only.
    Empty lists when no framework was imported (there is nothing to check against).
    """
    data_dir = _data_dir(store_or_data_dir)
    titles = load_titles(data_dir)
    known = set(titles.loc[titles["kind"] == "indicator", "code"])
    if not known:
        return [], []
    codes = set(storage.read_catalogue(data_dir, "indicators")["code"])
    if hasattr(store_or_data_dir, "observed_indicators"):
        from .store import QueryError

        try:
            codes |= set(store_or_data_dir.observed_indicators())
        except QueryError as e:  # an empty store has no observations view; the catalogue suffices
            log.debug("no observed indicator codes: %s", e)
    unknown, national = [], []
    for code in sorted(codes, key=_code_key):
        if code in known:
            continue
        parts = code.split(".")
        if len(parts) > PARTS["indicator"] and ".".join(parts[:3]) in known:
            national.append(code)
        else:
            unknown.append(code)
    return unknown, national


# --- import ----------------------------------------------------------------------------------------

def import_framework(src: str | Path, data_dir: str | Path | None = None, *,
                     langs: Iterable[str] | None = None) -> ImportReport:
    """Import a framework folder into the store, replacing the titles of the languages it holds.

    Titles of other languages already in the store are kept, so languages can be added one at a
    time. Nothing is written when the folder has any problem.
    """
    target = settings.data_dir(data_dir)
    if not target.is_dir():
        raise FrameworkError(f"data directory {target} does not exist")
    if settings.get("read_only"):
        raise FrameworkError("the store is read-only (GAPLENS_READ_ONLY)")
    new = read_framework(src, langs)
    own = framework_path(target)  # the store's own titles: the shipped ones are a default, not merged in
    old = _read_titles(str(own), *_stamp(own)) if own.is_file() else pd.DataFrame(columns=list(COLUMNS), dtype=str)
    keep = old[~old["lang"].isin(set(new["lang"]))]
    merged = pd.concat([keep, new], ignore_index=True) if len(keep) else new
    path = write_titles(target, merged)
    counts: dict[str, dict[str, int]] = {}
    for (lang, kind), n in new.groupby(["lang", "kind"]).size().items():
        counts.setdefault(lang, {})[kind] = int(n)
    unknown, national = unknown_codes(target)
    return ImportReport(path=path, rows=len(merged), counts=counts, unknown=unknown, national=national)


# --- command line ----------------------------------------------------------------------------------

def cmd_import_framework(args: argparse.Namespace) -> int:
    """``python -m data_layers import framework DIR``: print what was imported and what is unknown."""
    from .cli import EXIT_OK, UsageError

    try:
        report = import_framework(args.dir, args.data_dir, langs=getattr(args, "lang", None))
    except FrameworkError as e:
        detail = "".join(f"\n  {p}" for p in e.problems)
        raise UsageError(f"{e}{detail}") from e
    for lang, kinds in sorted(report.counts.items()):
        print(f"{lang}: " + ", ".join(f"{kinds.get(k, 0)} {k}s" for k in KINDS))
    print(f"{report.rows} titles in {report.path}")
    if report.unknown:
        print(f"warning: {len(report.unknown)} indicator code(s) of the store are not in the framework "
              f"(renamed or retired?): {', '.join(report.unknown)}", file=sys.stderr)
    if report.national:
        print(f"{len(report.national)} national indicator(s) under global ones: {', '.join(report.national)}")
    return EXIT_OK


def add_framework_parser(import_sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``framework`` under an existing ``import`` command's sub-commands."""
    p = import_sub.add_parser(
        "framework", help="SDG goal, target and indicator titles in several languages",
        description="Import the UN's SDG framework titles from a folder laid out as <lang>/global_goals.yml, "
                    "global_targets.yml, global_indicators.yml (keys like 6-title, 6-short, 6-1-title, 6-1-1-title). "
                    "Replaces the titles of the languages found; keeps the others.")
    p.add_argument("dir", metavar="DIR", help="folder with one sub-folder per language (en, fr, es, ar, ...)")
    p.add_argument("--lang", action="append", metavar="LANG", help="import only this language (repeatable)")
    p.add_argument("--data-dir", metavar="DIR", default=None,
                   help="store folder (default: $GAPLENS_DATA_DIR, else sample_data/)")
    p.set_defaults(func=cmd_import_framework)
    return p


def register(subparsers: argparse._SubParsersAction) -> None:
    """Register ``import framework`` when no other module provides the ``import`` command."""
    if "import" in subparsers.choices:
        imp = subparsers.choices["import"]
        subs = [a for a in imp._actions if isinstance(a, argparse._SubParsersAction)]
        if subs and "framework" not in subs[0].choices:
            add_framework_parser(subs[0])
        return
    p = subparsers.add_parser("import", help="import data into the store",
                              description="Import data into the store.")
    sub = p.add_subparsers(dest="import_kind", required=True, metavar="KIND")
    add_framework_parser(sub)

