"""What an import found: problems with file, row, column and value, counts, and what changed.

Every importer fills one :class:`Report`. Problems are collected up to the ``error_cap`` setting
(the rest are counted, so the report can say "and 1 234 more"); the report renders as text for
the CLI and the Import page, and as JSON for ``--report-json``.

Row numbers are those a person sees in a spreadsheet: the header is row 1, the first data row is
row 2 (for XLSX, the sheet's row number; for GeoJSON, the feature number starting at 1).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from .. import settings

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITIES = (ERROR, WARNING, INFO)
INTERNAL = "internal"  # problem code of an unexpected failure (a bug, not bad input): exit status 1
FILE_ERROR = "file_error"  # counter key: errors about the whole file, which --accept-partial cannot set aside
# Problems that concern the whole file even when they name a row (the header, an unreadable tail).
FILE_LEVEL_CODES = frozenset({"too_wide", "empty_header", "duplicate_header", "format", "csv", INTERNAL})

# Statuses of a finished run, and the exit status each gives on the command line.
ACCEPTED = "accepted"          # stored (or would be, with --dry-run)
PARTIAL = "accepted_partial"   # stored without the rejected rows (--accept-partial)
UNCHANGED = "unchanged"        # the same file was imported before: nothing to do
NO_DATA = "no_data"            # a valid file that holds no figure (an Open SDG placeholder)
REFUSED = "refused"            # problems: nothing written
EXIT_CODES = {ACCEPTED: 0, PARTIAL: 0, UNCHANGED: 0, NO_DATA: 0, REFUSED: 2}

MAX_VALUE_CHARS = 80  # a value quoted in a message is cut here: reports stay readable and never carry a whole free-text cell


def _clip(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth saying) about one place of one file."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: str
    severity: str = ERROR
    code: str = ""  # short machine-readable kind, e.g. ``unmapped_label``

    def where(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.value is not None:
            parts.append(f"value {self.value!r}")
        return ", ".join(parts)

    def text(self) -> str:
        return f"{self.where()}: {self.message}"


@dataclass
class Report:
    """The outcome of validating or importing one file."""

    file: str
    kind: str
    format: str = ""
    encoding: str = ""
    delimiter: str = ""
    line_endings: str = ""
    sha256: str = ""
    dataset_id: str = ""
    status: str = ""
    dry_run: bool = False
    rows_read: int = 0
    rows_valid: int = 0
    rows_rejected: int = 0
    rows_stored: int = 0
    rows_skipped: int = 0          # rows without a figure ("..", empty): not observations, reported
    rows_kept_apart: int = 0       # regional aggregates (M49 regions): stored beside, never on maps
    rows_filtered: int = 0         # rows a citizen mapping's [citizen.where] set aside (not errors)
    points_assigned: int = 0
    dropped_columns: dict[str, str] = field(default_factory=dict)   # column -> why it was not stored
    changes: dict[str, int] = field(default_factory=dict)           # added / removed / changed / same
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)                # problems per severity, beyond the cap too
    cap: int = field(default_factory=lambda: int(settings.get("error_cap")))
    rejected_rows: set[int] = field(default_factory=set)
    # problems counted per kind (severity, code, message), beyond the cap too: a report says how
    # many rows each kind touches, and the cap applies per kind so that one kind never hides another
    kinds: Counter = field(default_factory=Counter)
    _seen: set[tuple[Any, ...]] = field(default_factory=set, repr=False)

    # --- collecting ------------------------------------------------------------------------------

    def add(self, message: str, *, row: int | None = None, column: str | None = None, value: Any = None,
            severity: str = ERROR, code: str = "") -> None:
        """Record a problem; beyond the cap it is only counted (the file is still read to the end).

        One problem is recorded once per row: a wide file repeats a row's label in every year
        column, and a reader wants one line per row, not one per cell.
        """
        if row is not None:
            key = (severity, int(row), code, message)
            if key in self._seen:
                return
            self._seen.add(key)
        kind = (severity, code, message)
        self.kinds[kind] += 1
        self.counts[severity] += 1
        if severity == ERROR and code in FILE_LEVEL_CODES:
            self.counts[FILE_ERROR] += 1
        elif severity == ERROR and row is not None:
            self.rejected_rows.add(int(row))
        elif severity == ERROR:
            self.counts[FILE_ERROR] += 1
        if code == INTERNAL:
            self.counts[INTERNAL] += 1
        if self.kinds[kind] <= self.cap:
            self.problems.append(Problem(self.file, None if row is None else int(row), column, _clip(value),
                                         message, severity, code))

    def error(self, message: str, **kw: Any) -> None:
        self.add(message, severity=ERROR, **kw)

    def warn(self, message: str, **kw: Any) -> None:
        self.add(message, severity=WARNING, **kw)

    def info(self, message: str) -> None:
        self.notes.append(message)

    def drop_column(self, column: str, reason: str) -> None:
        self.dropped_columns[column] = reason

    # --- reading ---------------------------------------------------------------------------------

    @property
    def n_errors(self) -> int:
        return self.counts[ERROR]

    @property
    def n_warnings(self) -> int:
        return self.counts[WARNING]

    @property
    def file_errors(self) -> list[Problem]:
        """Errors about the whole file (no row): these refuse it even with --accept-partial."""
        return [p for p in self.problems if p.severity == ERROR and p.row is None]

    @property
    def has_file_errors(self) -> bool:
        return self.counts[FILE_ERROR] > 0

    @property
    def accepted(self) -> bool:
        return self.status in (ACCEPTED, PARTIAL, UNCHANGED, NO_DATA)

    @property
    def exit_code(self) -> int:
        if self.counts[INTERNAL]:
            return 1
        return EXIT_CODES.get(self.status, 1)

    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == WARNING]

    def reasons_by_row(self) -> dict[int, list[Problem]]:
        out: dict[int, list[Problem]] = {}
        for p in self.problems:
            if p.severity == ERROR and p.row is not None:
                out.setdefault(p.row, []).append(p)
        return out

    # --- rendering -------------------------------------------------------------------------------

    def summary(self) -> str:
        """One line: what happened to the file."""
        what = {
            ACCEPTED: "would be imported" if self.dry_run else "imported",
            PARTIAL: "would be imported in part" if self.dry_run else "imported in part",
            UNCHANGED: ("unchanged (the store already holds exactly these areas)" if self.kind == "boundaries"
                        else "unchanged (this exact file was imported before)"),
            NO_DATA: "no data (the file holds no figure; nothing stored)",
            REFUSED: "refused (nothing written)",
        }.get(self.status, self.status or "validated")
        ds = f" as dataset {self.dataset_id}" if self.dataset_id and self.status in (ACCEPTED, PARTIAL) else ""
        return f"{self.file}: {what}{ds}"

    def to_text(self, *, max_problems: int | None = None) -> str:
        lines = [self.summary()]
        detected = [f"kind {self.kind}"]
        if self.format:
            detected.append(f"format {self.format}")
        if self.encoding:
            detected.append(f"encoding {self.encoding}")
        if self.delimiter:
            detected.append(f"delimiter {_delimiter_name(self.delimiter)}")
        if self.line_endings:
            detected.append(f"line endings {self.line_endings}")
        lines.append("  " + ", ".join(detected))
        counts = [f"rows read {self.rows_read}", f"valid {self.rows_valid}", f"rejected {self.rows_rejected}"]
        if self.status in (ACCEPTED, PARTIAL):
            what = "areas" if self.kind == "boundaries" else "observations"
            counts.append(f"{what} {'to store' if self.dry_run else 'stored'} {self.rows_stored}")
        if self.rows_skipped:
            counts.append(f"without a figure {self.rows_skipped}")
        if self.rows_kept_apart:
            counts.append(f"regional aggregates kept apart {self.rows_kept_apart}")
        if self.rows_filtered:
            counts.append(f"set aside by the mapping's filter {self.rows_filtered}")
        if self.points_assigned:
            counts.append(f"points assigned to areas {self.points_assigned}")
        lines.append("  " + ", ".join(counts))
        if self.changes:
            title = "changes to the level" if self.kind == "boundaries" else "changes from the previous release"
            lines.append(f"  {title}: " + ", ".join(f"{k} {v}" for k, v in self.changes.items()))
        if self.dropped_columns:
            lines.append("  columns not stored:")
            lines += [f"    {c}: {why}" for c, why in self.dropped_columns.items()]
        if self.notes:
            lines.append("  notes:")
            lines += [f"    {n}" for n in self.notes]
        for severity, title in ((ERROR, "errors"), (WARNING, "warnings")):
            total = self.counts[severity]
            if not total:
                continue
            groups = self.grouped(severity)
            lines.append(f"  {title} ({total}{f', {len(groups)} kinds' if len(groups) > 1 else ''}):")
            for (_, _, message), items in groups.items():
                n = self.kinds[(severity, items[0].code, message)]
                if len(groups) > 1 or n > 1:
                    lines.append(f"    {message} [{n} {'row' if n == 1 else 'rows'}]:" if items[0].row is not None
                                 else f"    {message} [{n}]:")
                    shown = items if max_problems is None else items[:max_problems]
                    lines += [f"      {p.where()}" for p in shown]
                    if n > len(shown):
                        lines.append(f"      … and {n - len(shown)} more")
                else:
                    lines.append(f"    {items[0].text()}")
        return "\n".join(lines)

    def grouped(self, severity: str) -> dict[tuple[str, str, str], list[Problem]]:
        """Kept problems of one severity by kind (code and message), kinds in order of first sight."""
        out: dict[tuple[str, str, str], list[Problem]] = {}
        for p in self.problems:
            if p.severity == severity:
                out.setdefault((severity, p.code, p.message), []).append(p)
        return out

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items()
             if k not in ("problems", "counts", "rejected_rows", "cap", "kinds", "_seen")}
        d["kinds"] = [{"severity": s, "code": c, "message": m, "rows": n} for (s, c, m), n in self.kinds.items()]
        d["problems"] = [asdict(p) for p in self.problems]
        d["counts"] = {s: self.counts[s] for s in SEVERITIES}
        d["exit_code"] = self.exit_code
        d["summary"] = self.summary()
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False, default=str) + "\n"

    def problems_frame(self):  # -> pandas.DataFrame (lazy import keeps this module light)
        import pandas as pd

        cols = ["severity", "file", "row", "column", "value", "message", "code"]
        return pd.DataFrame([asdict(p) for p in self.problems], columns=cols)


#: the command line's options as report messages name them, and the Import page control (its
#: locale key) that does the same: one message text, and each surface names its own controls
PAGE_CONTROLS: dict[str, str] = {
    "--indicator CODE": "ui.import.indicator", "--indicator": "ui.import.indicator",
    "--area CODE": "ui.import.area", "--area": "ui.import.area",
    "--geo-level N": "ui.import.geo_level", "--geo-level": "ui.import.geo_level",
    "--accept-partial": "ui.import.accept_partial",
    "--dataset-id": "ui.import.dataset_id",
    "--format": "ui.import.format",
}
_PAGE_TOKENS = re.compile("|".join(re.escape(k) for k in sorted(PAGE_CONTROLS, key=len, reverse=True)))


def page_words(message: str, label: Callable[[str], str]) -> str:
    """``message`` with each command-line option replaced by the page control's label in quotes."""
    return _PAGE_TOKENS.sub(lambda m: f"“{label(PAGE_CONTROLS[m.group(0)])}”", message)


def _delimiter_name(d: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(d, repr(d))
