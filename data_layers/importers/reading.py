"""Bytes to a table of text cells, refusing what is not a readable table.

Real files arrive as UTF-8 (with or without a byte-order mark), Windows-1252 or Latin-1, with CRLF
line endings, commas, semicolons or tabs, quoted fields holding commas, duplicate or empty
headers, and sometimes as something else entirely (a binary, a UTF-16 export, a 20 000-column
accident). Everything found is reported; nothing here raises on bad input.
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .report import Report

log = logging.getLogger(__name__)

MAX_COLUMNS = 1000          # the widest real SDG export (wide, 60 years x dimensions) stays far below this
MAX_FIELD_CHARS = 1 << 20   # one cell of 1 MB is already a broken quote, not data
MAX_CONTROL_SHARE = 0.001   # text files hold almost no control characters; random bytes hold ~10 %
MAX_XLSX_UNPACKED = 512 << 20  # a workbook that unpacks to more than 512 MB is a zip bomb, not survey data
MAX_XLSX_CELLS = 3_000_000  # streamed at ~1 M cells/s: a bigger sheet belongs in a CSV (Excel's own row limit is 1 M)
SNIFF_BYTES = 1 << 16       # bytes looked at to tell text from binary before reading a whole file
SNIFF_LINES = 50            # lines read to choose the delimiter
DELIMITERS = (",", ";", "\t", "|")
REFUSE, KEEP = "refuse", "keep"  # what finish_header does with repeated headers holding different data
HXL_TAG = re.compile(r"^#[a-z][a-z0-9_]*(?:\s*\+\s*[a-z][a-z0-9_]*)*$", re.I)  # an HXL hashtag with attributes
ENCODING_NAMES = {"utf_8": "UTF-8", "utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "cp1252": "Windows-1252",
                  "latin_1": "Latin-1 (ISO-8859-1)", "latin-1": "Latin-1 (ISO-8859-1)", "ascii": "ASCII"}
# Legacy single-byte encodings charset-normalizer may choose between. Unrestricted, it calls a
# Spanish Windows-1252 file "cp1250" on a handful of accented letters; the issue names these two.
LEGACY_ENCODINGS = ["cp1252", "latin_1"]

_MAGIC = (
    (b"PK\x03\x04", "zip"),
    (b"\xd0\xcf\x11\xe0", "ole2"),       # legacy .xls / .doc
    (b"%PDF", "pdf"),
    (b"PAR1", "parquet"),
    (b"\x1f\x8b", "gzip"),
    (b"SQLite format 3", "sqlite"),      # GeoPackage
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
)


@dataclass
class Table:
    """A table of text cells read from a file (every cell a ``str``, empty when blank)."""

    frame: pd.DataFrame
    rows: np.ndarray                 # source row number of each frame row (header = row 1)
    encoding: str = ""
    delimiter: str = ""
    line_endings: str = ""
    header_row: int = 1
    extra: dict = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)


def sniff_kind(raw: bytes) -> str:
    """``zip``, ``pdf``, ``parquet``... for known binary signatures, ``utf16`` or ``binary``, else ``text``."""
    for magic, kind in _MAGIC:
        if raw.startswith(magic):
            return kind
    head = raw[:65536]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf16"
    if b"\x00" in head:
        # UTF-16 without a BOM: every other byte of ASCII text is NUL, the bytes between are not
        # (a file of zeros, or any binary, has NULs in both halves)
        even, odd = head[0::2], head[1::2]
        nul_even, nul_odd = even.count(0) / max(len(even), 1), odd.count(0) / max(len(odd), 1)
        if len(head) >= 4 and ((nul_even > 0.4 and nul_odd < 0.1) or (nul_odd > 0.4 and nul_even < 0.1)):
            return "utf16"
        return "binary"
    return "text"


def decode(raw: bytes, report: Report, *, encoding: str | None = None) -> str | None:
    """Text of ``raw``: forced ``encoding``, else UTF-8 (BOM or not), else Windows-1252 / Latin-1."""
    if encoding:
        try:
            text = raw.decode(encoding)
        except (LookupError, UnicodeDecodeError) as e:
            report.error(f"cannot decode the file as {encoding}: {e}", code="encoding")
            return None
        report.encoding = ENCODING_NAMES.get(encoding.lower(), encoding)
        return text.removeprefix("\ufeff")
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            text = raw[3:].decode("utf-8")
        except UnicodeDecodeError as e:
            report.error(f"starts with a UTF-8 byte-order mark but is not UTF-8 (byte {e.start + 3}); "
                         "save it again as UTF-8", code="encoding")
            return None
        report.encoding = "UTF-8 with BOM"
        return text
    try:
        text = raw.decode("utf-8")
        report.encoding = "UTF-8" if any(b > 127 for b in raw[:1 << 16]) or not raw.isascii() else "ASCII (UTF-8)"
        return text
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw, cp_isolation=LEGACY_ENCODINGS).best()
    name = best.encoding if best is not None else "latin_1"
    try:
        text = raw.decode(name)
    except (LookupError, UnicodeDecodeError):
        name, text = "latin_1", raw.decode("latin_1")  # every byte is a Latin-1 character
    report.encoding = ENCODING_NAMES.get(name, name)
    report.info(f"the file is not UTF-8: read as {report.encoding} (say otherwise with --encoding)")
    return text


def looks_like_garbage(text: str) -> bool:
    """True when the text has the control characters of random or binary bytes."""
    sample = text[: 1 << 16]
    if not sample:
        return False
    controls = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\r\n") or 0x7F <= ord(ch) < 0xA0)
    return controls / len(sample) > MAX_CONTROL_SHARE


def line_endings(text: str) -> str:
    crlf = text.count("\r\n")
    lf = text.count("\n") - crlf
    cr = text.count("\r") - crlf
    kinds = [name for name, n in (("CRLF", crlf), ("LF", lf), ("CR", cr)) if n]
    return "+".join(kinds) if kinds else ""


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same number (> 1) of fields."""
    lines = text.splitlines()[:SNIFF_LINES]
    best, best_score = ",", (-1.0, 0)
    for d in DELIMITERS:
        try:
            rows = [r for r in csv.reader(lines, delimiter=d) if any(c.strip() for c in r)]
        except csv.Error:
            continue
        if not rows:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        share = sum(1 for r in rows if len(r) == width) / len(rows)
        score = (share, width)
        if score > best_score:
            best, best_score = d, score
    return best


def read_bytes(path: Path, report: Report) -> bytes | None:
    """The file's bytes; a binary file (zeros, random data, UTF-16) is recognised from its first
    :data:`SNIFF_BYTES` and only those are returned, so a 1 GB binary is never read whole."""
    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
            if sniff_kind(head) in ("binary", "utf16"):
                return head
            raw = head + f.read()
    except OSError as e:
        report.error(f"cannot read the file: {e.strerror or e}", code="unreadable")
        return None
    if not raw.strip():
        report.error("the file is empty", code="empty")
        return None
    return raw


def binary_problem(kind: str) -> str:
    return {
        "utf16": "the file is UTF-16 encoded (a spreadsheet's 'Unicode text'): save it as CSV UTF-8",
        "binary": "the file is binary, not text (not a CSV)",
        "ole2": "an old Excel .xls workbook: save it as .xlsx or CSV",
        "pdf": "a PDF document, not a table",
        "gzip": "a gzip-compressed file: unpack it first",
        "png": "an image, not a table", "jpeg": "an image, not a table",
        "zip": "a ZIP archive, not a CSV (an Excel workbook must end in .xlsx)",
        "parquet": "a Parquet file, but its name does not end in .parquet",
        "sqlite": "a SQLite database or GeoPackage, not a table of figures",
    }.get(kind, f"not a text table ({kind})")


def read_csv_text(text: str, report: Report, *, delimiter: str | None = None,
                  duplicates: str = REFUSE) -> Table | None:
    """Parse CSV text into a :class:`Table`, reporting header and row-shape problems."""
    report.line_endings = line_endings(text)
    body = text.lstrip("\r\n")
    skipped = text[: len(text) - len(body)].replace("\r\n", "\n").count("\n") + \
        text[: len(text) - len(body)].replace("\r\n", "").count("\r")
    if skipped:
        report.info(f"{skipped} blank line(s) before the header ignored")
        text = body
    delim = delimiter or sniff_delimiter(text)
    report.delimiter = delim
    csv.field_size_limit(MAX_FIELD_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        header = next(reader, None)
    except csv.Error as e:
        report.error(f"the header cannot be read as CSV: {e}", row=1, code="csv")
        return None
    if header is None:
        report.error("the file has no header line", code="empty")
        return None
    if len(header) > MAX_COLUMNS:
        report.error(f"the header has {len(header)} columns, more than the {MAX_COLUMNS} any SDG table needs: "
                     "is this really a table of figures?", row=1, code="too_wide")
        return None
    width = len(header)
    fast = _fast_frame(text, delim, width)
    if fast is not None:
        frame, rownums = fast
        blank, short = frame.attrs.pop("blank", 0), frame.attrs.pop("short", 0)
    else:
        frame, rownums, blank, short = _slow_frame(reader, width, report)
    if blank:
        report.info(f"{blank} blank line(s) ignored")
    if short:
        report.info(f"{short} row(s) had fewer fields than the header; the missing cells were read as blank")
    return finish_header(header, frame, np.asarray(rownums, dtype=np.int64) + skipped, report, duplicates=duplicates)


def _fast_frame(text: str, delim: str, width: int) -> tuple[pd.DataFrame, np.ndarray] | None:
    """pandas' C parser for a well-formed file (fast); None sends the file to the row-by-row reader,
    which reports each broken row."""
    try:
        df = pd.read_csv(io.StringIO(text), sep=delim, header=0, dtype=object, keep_default_na=False,
                         na_filter=False, skip_blank_lines=False, engine="c", quotechar='"', doublequote=True,
                         low_memory=False)
    except (pd.errors.ParserError, ValueError, csv.Error, OverflowError) as e:
        log.debug("fast CSV parse failed (%s): reading row by row", e)
        return None
    if df.shape[1] != width:
        return None
    df.columns = [f"c{i}" for i in range(width)]
    rows = np.arange(2, len(df) + 2, dtype=np.int64)
    # a short row (and a blank line) has nothing in its last field: only those rows need a closer look
    open_end = df.iloc[:, -1].isna().to_numpy() if width and len(df) else np.zeros(len(df), dtype=bool)
    short = blank = 0
    if open_end.any():
        tail = df[open_end]
        empty_tail = tail.isna().all(axis=1).to_numpy()
        short = int((~empty_tail).sum())
        df = df.fillna("")
    first = df.iloc[:, 0].to_numpy(dtype=object) if width else np.zeros(0, dtype=object)
    maybe_blank = np.flatnonzero(first == "")
    empty = np.zeros(len(df), dtype=bool)
    if len(maybe_blank):
        empty[maybe_blank] = (df.iloc[maybe_blank] == "").all(axis=1).to_numpy()
    blank = int(empty.sum())
    if blank:
        df, rows = df[~empty].reset_index(drop=True), rows[~empty]
    df.attrs.update(blank=blank, short=max(short - 0, 0))
    return df, rows


def _slow_frame(reader: Any, width: int, report: Report) -> tuple[pd.DataFrame, list[int], int, int]:
    cells: list[list[str]] = []
    rownums: list[int] = []
    blank = short = 0
    row_no = 1
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            report.error(f"unreadable CSV after this row ({e}): an unclosed quote?", row=row_no, code="csv")
            break
        row_no += 1
        if not rec or not any(c.strip() for c in rec):
            blank += 1
            continue
        if len(rec) > width:
            extra = rec[width:]
            if any(c.strip() for c in extra):
                report.error(f"{len(rec)} fields but the header has {width}", row=row_no,
                             value=next(c for c in extra if c.strip()), code="ragged")
                continue
            rec = rec[:width]
        elif len(rec) < width:
            short += 1
            rec = rec + [""] * (width - len(rec))
        cells.append(rec)
        rownums.append(row_no)
    frame = pd.DataFrame(cells, columns=[f"c{i}" for i in range(width)], dtype=object) if cells else \
        pd.DataFrame({f"c{i}": pd.Series([], dtype=object) for i in range(width)})
    return frame, rownums, blank, short


#: a label column of SDMX-CSV (``Sex`` after ``SEX``) is renamed ``Sex (label of SEX)``
LABEL_SUFFIX = "(label of "
SDMX_CORE = frozenset({"REF_AREA", "TIME_PERIOD", "OBS_VALUE"})


def hxl_tags(cells: list[str]) -> list[str] | None:
    """The cells of an HXL hashtag row (``#adm1+code``, ``#geo+lat``, empty), or None if it is not one.

    HXL (the Humanitarian Exchange Language) puts a row of hashtags under the header; every non-empty
    cell of it is a hashtag with optional ``+attributes``, and at least two are present (one ``#...``
    cell alone may be data).
    """
    texts = [str(c).strip() for c in cells]
    tagged = [t for t in texts if t]
    if len(tagged) < min(2, len(texts)) or not all(HXL_TAG.match(t) for t in tagged):
        return None
    return [t.casefold().replace(" ", "") for t in texts]


def finish_header(header: list[str], frame: pd.DataFrame, rows: np.ndarray, report: Report, *,
                  duplicates: str = REFUSE) -> Table | None:
    """Clean the header: trim, drop empty columns, set aside an HXL hashtag row, and refuse duplicate
    headers with different data (or, with ``duplicates="keep"``, keep them under ``NAME (column N)``
    and list them in ``extra["ambiguous"]``)."""
    names = [str(h).replace("\ufeff", "").strip() for h in header]
    frame = frame.copy()
    frame.columns = range(len(names))
    tags: list[str] | None = None
    if len(frame):
        tags = hxl_tags([str(v) for v in frame.iloc[0].tolist()])
        if tags is not None:
            report.info(f"row {int(rows[0])} is an HXL hashtag row ({', '.join(t for t in tags if t)[:120]}): "
                        "not data; its tags propose the column roles")
            frame, rows = frame.iloc[1:].reset_index(drop=True), np.asarray(rows)[1:]
    keep: list[int] = []
    final: list[str] = []
    seen: dict[str, int] = {}
    ambiguous: dict[str, list[str]] = {}
    sdmx = bool(SDMX_CORE & set(names))  # label columns (Sex after SEX) exist only in SDMX-CSV
    for i, name in enumerate(names):
        if not name:
            col = pd.Series(frame[i].to_numpy(dtype=object), dtype=object).map(lambda v: str(v).strip())
            empty = bool((col == "").all()) if len(frame) else True
            if empty:
                report.info(f"empty column {i + 1} (no header, no data) ignored")
                continue
            report.error(f"column {i + 1} holds data but has no header: name it", row=1, column=f"#{i + 1}",
                         value=next(v for v in col if v), code="empty_header")
            continue
        prev = names[i - 1] if i else ""
        if (sdmx and prev and name != prev and name.casefold() == prev.casefold()
                and re.fullmatch(r"[A-Z0-9_]+", prev)):
            # SDMX-CSV with labels: each code column (SEX) is followed by its label column (Sex)
            name = f"{name} {LABEL_SUFFIX}{prev})"  # noqa: PLW2901 - the label column's new name
        key = name.casefold()
        if key in seen:
            j = seen[key]
            if len(frame) == 0 or frame[i].equals(frame[j]):
                report.info(f"column {name!r} appears twice with the same data: the copy was ignored")
                continue
            if duplicates == KEEP:
                kept = f"{name} (column {i + 1})"
                ambiguous.setdefault(key, [names[j]]).append(kept)
                keep.append(i)
                final.append(kept)
                continue
            report.error(f"the header {name!r} appears twice (columns {j + 1} and {i + 1}) with different data: "
                         "rename one", row=1, column=name, code="duplicate_header")
            continue
        seen[key] = i
        keep.append(i)
        final.append(name)
    out = frame[keep].copy()
    out.columns = final
    out = out.fillna("").astype(object)
    extra: dict[str, Any] = {}
    if tags is not None:
        extra["hxl"] = {final[k]: tags[i] for k, i in enumerate(keep) if i < len(tags) and tags[i]}
    if ambiguous:
        extra["ambiguous"] = ambiguous
    return Table(frame=out.reset_index(drop=True), rows=np.asarray(rows), extra=extra)


def read_xlsx(path: Path, report: Report, *, sheet: str | int | None = None,  # noqa: PLR0911
              duplicates: str = REFUSE) -> Table | None:
    """The first (or named) sheet of a workbook as text cells; the sheet's row numbers are kept.

    The sheet is streamed (openpyxl's read-only mode: one row at a time, never the whole XML tree)
    and refused past :data:`MAX_XLSX_CELLS` cells, counted as they are read: a small workbook can
    declare millions of cells, and reading them whole held the importer for minutes.
    """
    try:
        with zipfile.ZipFile(path) as z:
            unpacked = sum(i.file_size for i in z.infolist())
            if unpacked > MAX_XLSX_UNPACKED:
                report.error(f"the workbook unpacks to {unpacked >> 20} MB: refused as a zip bomb", code="zip_bomb")
                return None
            if "xl/workbook.xml" not in z.namelist():
                report.error("a ZIP archive but not an Excel workbook (no xl/workbook.xml)", code="not_xlsx")
                return None
    except (zipfile.BadZipFile, OSError) as e:
        report.error(f"not a valid Excel workbook (.xlsx): {e}", code="not_xlsx")
        return None
    cells = stream_xlsx(path, report, sheet=sheet)
    if cells is None:
        return None
    report.encoding = "XLSX (UTF-8 XML)"
    width = max((len(r) for r in cells), default=0)
    raw = pd.DataFrame([list(r) + [None] * (width - len(r)) for r in cells], dtype=object)
    raw = raw.dropna(how="all")
    if raw.empty:
        report.error("the sheet is empty", code="empty")
        return None
    raw = raw.dropna(how="all", axis=1) if raw.shape[1] > MAX_COLUMNS else raw
    if raw.shape[1] > MAX_COLUMNS:
        report.error(f"the sheet has {raw.shape[1]} columns, more than {MAX_COLUMNS}", code="too_wide")
        return None
    header_idx = raw.index[0]
    header = ["" if pd.isna(v) else _cell_text(v) for v in raw.loc[header_idx]]
    body = raw.drop(index=header_idx)
    body = body.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else _cell_text(v))
    body = body[(body != "").any(axis=1)]
    rows = body.index.to_numpy(dtype=np.int64) + 1  # frame index 0 = sheet row 1
    return finish_header(header, body.reset_index(drop=True), rows, report, duplicates=duplicates)


def stream_xlsx(path: Path, report: Report, *, sheet: str | int | None = None,
                max_rows: int | None = None, max_cells: int = MAX_XLSX_CELLS) -> list[tuple] | None:
    """The rows of one sheet (tuples of cell values, row 1 first), streamed with a cell budget.

    ``max_rows`` stops early without complaint (a preview); more than ``max_cells`` cells is
    refused with a message saying how to cut the file. ``None`` when refused (the report says why).
    """
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises KeyError, ValueError, TypeError, zipfile errors... for broken files
        report.error(f"cannot read the workbook: {type(e).__name__}: {e}", code="not_xlsx")
        return None
    try:
        names = wb.sheetnames
        if sheet is None or sheet == 0:
            name = names[0] if names else None
        elif isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in names):
            idx = int(sheet)
            name = names[idx] if 0 <= idx < len(names) else None
        else:
            name = sheet if sheet in names else None
        if name is None:
            report.error(f"no sheet {sheet!r} in the workbook (sheets: {', '.join(names[:20])})", code="not_xlsx")
            return None
        ws = wb[name]
        declared = (ws.max_row or 0) * (ws.max_column or 0)  # from the sheet's <dimension>, may be absent or false
        if declared > max_cells and max_rows is None:
            report.error(f"the sheet declares {ws.max_row} rows x {ws.max_column} columns = {declared:,} cells, more "
                         f"than {max_cells:,}: split it or save it as CSV", code="too_big")
            return None
        out: list[tuple] = []
        seen = 0
        for row in ws.iter_rows(values_only=True):
            seen += len(row)
            if seen > max_cells:
                if max_rows is not None:
                    break
                report.error(f"the sheet holds more than {max_cells:,} cells (read up to row {len(out)}): split it "
                             "or save it as CSV", code="too_big")
                return None
            out.append(row)
            if max_rows is not None and len(out) >= max_rows:
                break
        return out
    except Exception as e:  # a damaged sheet XML surfaces while streaming
        report.error(f"cannot read the workbook: {type(e).__name__}: {e}", code="not_xlsx")
        return None
    finally:
        wb.close()


def _cell_text(v: object) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, pd.Timestamp | datetime.datetime | datetime.date | datetime.time):
        return v.isoformat()
    return str(v).strip()


def read_parquet_table(path: Path, report: Report) -> pd.DataFrame | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as e:
        report.error(f"not a readable Parquet file: {e}", code="not_parquet")
        return None
    if table.num_columns > MAX_COLUMNS:
        report.error(f"{table.num_columns} columns, more than {MAX_COLUMNS}", code="too_wide")
        return None
    report.encoding = "Parquet"
    return table.to_pandas()


def read_table(path: Path, report: Report, *, encoding: str | None = None, sheet: str | int | None = None,  # noqa: PLR0911
               raw: bytes | None = None, duplicates: str = REFUSE) -> Table | None:
    """Read a CSV/TSV or XLSX file into a :class:`Table`, or report why not (never raises on bad input).

    ``duplicates="keep"`` keeps repeated (or case-colliding) headers with different data under
    ``NAME (column N)`` and lists them in ``Table.extra["ambiguous"]``, for a caller that knows which
    columns it needs (a citizen mapping); the default refuses them.
    """
    path = Path(path)
    raw = raw if raw is not None else read_bytes(path, report)
    if raw is None:
        return None
    kind = sniff_kind(raw)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        if kind != "zip":
            report.error("the name ends in .xlsx but the file is not an Excel workbook (not a ZIP archive)",
                         code="not_xlsx")
            return None
        return read_xlsx(path, report, sheet=sheet, duplicates=duplicates)
    if kind != "text":
        report.error(binary_problem(kind), code=kind)
        return None
    text = decode(raw, report, encoding=encoding)
    if text is None:
        return None
    if looks_like_garbage(text):
        report.error("the file is full of control characters: binary data or a broken encoding, not a CSV",
                     code="binary")
        return None
    if not text.strip():
        report.error("the file is empty", code="empty")
        return None
    return read_csv_text(text, report, duplicates=duplicates)
