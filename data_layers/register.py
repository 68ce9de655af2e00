"""The evidence register: where GapLens's evidence was presented, and what happened next.

One small CSV in the store (``register.csv``, columns :data:`schema.REGISTER`), so that anyone can
read it with any tool. Each entry is tied to cells: an indicator, an area and a group, any of them
empty meaning "all" (an entry naming only an area records a whole brief about it). Entries are
added, never edited in place by the dashboard: :func:`add` reads the register, validates the new
entry, and writes the whole file again atomically (temporary file, then rename), under the store's
lock, so two writers (two browser sessions, or the CLI beside the app) never lose each other's
entry and a crash mid-write leaves the previous register intact.

A cell's ``raised_on`` is the latest ``presented_on`` of the entries that concern it;
``closed_since_raised`` is decided by ``sql/cells.sql`` (see docs/data-model.md).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from . import schema, settings, storage

log = logging.getLogger(__name__)

FILE = "register.csv"
MAX_TEXT_CHARS = 2000  # a meeting's official response in the presenter's words; longer is a document
MAX_ENTRIES = 100_000  # a register is a log of meetings; beyond this something is feeding it in a loop
COLUMNS: list[str] = schema.names(schema.REGISTER)
REQUIRED = ("presented_on", "presented_to")
DATE_FIELDS = ("presented_on", "follow_up_on")
CELL_FIELDS = ("indicator", "area_code", "group_id")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class RegisterError(ValueError):
    """An entry that cannot be added (the message names the field and the value)."""


def path(data_dir: Path) -> Path:
    return Path(data_dir) / FILE


def empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="str") for c in COLUMNS})


def read(data_dir: Path) -> pd.DataFrame:
    """Every entry (all columns text, empty = not given), oldest first; an empty frame when none."""
    p = path(data_dir)
    if not p.is_file():
        return empty()
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise storage.StoreError(f"{p}: missing column(s) {missing}; expected {COLUMNS}")
    return df[COLUMNS].astype(str)


def to_csv(df: pd.DataFrame) -> bytes:
    """The register as CSV bytes (the file format, and the export)."""
    buf = io.StringIO()
    df[COLUMNS].to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def _date(field: str, value: str, problems: list[str]) -> str:
    if not value:
        return ""
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        problems.append(f"{field}: {value!r} is not a date (write YYYY-MM-DD, e.g. 2026-03-12)")
        return value


def validate(entry: Mapping[str, Any], *, known: Mapping[str, set[str]] | None = None) -> tuple[dict[str, str], list[str]]:
    """The entry cleaned to text (trimmed, dates in ISO form) and its problems (empty when valid).

    ``known`` maps ``indicator``, ``area_code`` and ``group_id`` to the codes the store knows, so a
    typing mistake never ties an entry to no cell.
    """
    problems: list[str] = []
    unknown = sorted(set(entry) - set(COLUMNS) - {"entry_id", "recorded_at"})
    if unknown:
        problems.append(f"unknown field(s) {unknown} (fields: {', '.join(COLUMNS[1:-1])})")
    clean: dict[str, str] = {}
    for c in COLUMNS:
        v = entry.get(c)
        text = "" if v is None or pd.isna(v) else str(v).strip()
        if _CONTROL.search(text):
            problems.append(f"{c}: control characters are not allowed")
            text = _CONTROL.sub("", text)
        if len(text) > MAX_TEXT_CHARS:
            problems.append(f"{c}: {len(text)} characters (at most {MAX_TEXT_CHARS})")
        clean[c] = text
    for c in REQUIRED:
        if not clean[c]:
            problems.append(f"{c}: required")
    for c in DATE_FIELDS:
        clean[c] = _date(c, clean[c], problems)
    if not any(clean[c] for c in CELL_FIELDS):
        problems.append("name at least one of indicator, area_code or group_id (the cells the evidence concerns)")
    for c in CELL_FIELDS:
        if known is not None and clean[c] and clean[c] not in known.get(c, set()):
            problems.append(f"{c}: {clean[c]!r} is not in the store")
    if clean["presented_on"] and clean["follow_up_on"] and not problems and clean["follow_up_on"] < clean["presented_on"]:
        problems.append(f"follow_up_on: {clean['follow_up_on']} is before presented_on {clean['presented_on']}")
    return clean, problems


def add(data_dir: Path, entry: Mapping[str, Any], *, known: Mapping[str, set[str]] | None = None,
        now: str | None = None) -> dict[str, str]:
    """Validate one entry and append it to the register (atomically, under the store's lock).

    Returns the stored row, with its new ``entry_id`` (``E0001``, ``E0002``, ...) and
    ``recorded_at``. Refused in read-only mode and when the entry is invalid (nothing is written).
    """
    if settings.get("read_only"):
        raise RegisterError("the store is read-only (GAPLENS_READ_ONLY): the register can be read, not written")
    clean, problems = validate(entry, known=known)
    if problems:
        raise RegisterError("; ".join(problems))
    data_dir = Path(data_dir)
    with storage.store_lock(data_dir):
        df = read(data_dir)
        if len(df) >= MAX_ENTRIES:
            raise RegisterError(f"the register holds {len(df)} entries (at most {MAX_ENTRIES})")
        nums = [int(m[1]) for m in (re.fullmatch(r"E(\d+)", str(x)) for x in df["entry_id"]) if m]
        clean["entry_id"] = f"E{max(nums, default=0) + 1:04d}"
        clean["recorded_at"] = now or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        out = pd.concat([df, pd.DataFrame([clean])[COLUMNS]], ignore_index=True)
        storage.atomic_write_bytes(path(data_dir), to_csv(out))
    log.info("register entry %s added to %s", clean["entry_id"], data_dir)
    return clean


def write_all(data_dir: Path, entries: list[Mapping[str, Any]]) -> None:
    """Replace the register with ``entries`` (the sample generator; ids and times as given)."""
    rows = []
    for e in entries:
        clean, problems = validate(e)
        if problems:
            raise RegisterError(f"entry {e.get('entry_id')!r}: " + "; ".join(problems))
        clean["entry_id"], clean["recorded_at"] = str(e["entry_id"]), str(e["recorded_at"])
        rows.append(clean)
    with storage.store_lock(Path(data_dir)):
        storage.atomic_write_bytes(path(data_dir), to_csv(pd.DataFrame(rows, columns=COLUMNS)))


def concerning(df: pd.DataFrame, *, indicator: str | None = None, area_code: str | None = None,
               group: str | None = None) -> pd.DataFrame:
    """Entries that concern a cell, or any cell of what is shown (``None`` = any): an entry's empty
    field matches everything. Newest first."""
    keep = pd.Series(True, index=df.index)
    for col, want in (("indicator", indicator), ("area_code", area_code), ("group_id", group)):
        if want is not None:
            keep &= df[col].eq("") | df[col].eq(str(want))
    return df[keep].sort_values(["presented_on", "entry_id"], ascending=[False, False], kind="stable")
