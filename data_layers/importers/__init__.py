"""Bring your own data: official SDG files, citizen data and boundaries into a GapLens store.

Validation first, then one atomic write. Every problem is reported with file, row, column and
value; a file with errors is refused whole unless ``accept_partial`` (then the valid rows are
stored and the rejected ones recorded, with reasons, in the dataset's ``rejected.csv``). Nothing
here raises on bad input: the answer is always a :class:`Report`.

Examples
--------
>>> from data_layers.importers import validate, import_file                # doctest: +SKIP
>>> validate("indicator_1-1-1.csv", "official", area="ARM").status         # doctest: +SKIP
'accepted'
>>> import_file("wpdx.csv", "citizen", "my_store", mapping="wpdx.toml",    # doctest: +SKIP
...             metadata="wpdx.yaml").rows_stored
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .. import settings, storage, tidy
from ..schema import DIMENSION_NAMES, dim_column
from .mapping import Mapper, MappingError, load_mapping_file, save_mapping
from .meta import MetadataError, clean_metadata, dataset_meta, load_metadata
from .report import ACCEPTED, INTERNAL, NO_DATA, PARTIAL, REFUSED, UNCHANGED, Problem, Report

log = logging.getLogger(__name__)

KINDS = ("official", "citizen", "boundaries")
Progress = Callable[[str, float], None]
DATASET_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
# What a new release is compared on: one figure per key (the importer refuses duplicate keys).
CHANGE_KEY = ["indicator", "series", "area_code", "period_label", "unit", "other_dims",
              *[dim_column(d) for d in DIMENSION_NAMES]]
CHANGE_FIGURE = ["value", "suppressed", "lower", "upper", "n"]

__all__ = ["KINDS", "Problem", "Report", "import_file", "save_mapping", "validate"]


class _RefusedError(Exception):
    """Raised inside :func:`_run` once the report holds the reason a file is refused."""


def slug(text: str) -> str:
    """A dataset id from a file name: lowercase letters, digits and hyphens."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (s or "dataset")[:60].strip("-")


def validate(path: str | Path, kind: str, data_dir: str | Path | None = None, **options: Any) -> Report:
    """Check a file as :func:`import_file` would, writing nothing."""
    options.pop("dry_run", None)
    return import_file(path, kind, data_dir, dry_run=True, **options)


def import_file(path: str | Path, kind: str, data_dir: str | Path | None = None, *,
                dataset_id: str | None = None, fmt: str | None = None,
                mapping: str | Path | dict[str, Any] | None = None,
                metadata: str | Path | dict[str, Any] | None = None,
                level: int | None = None, code_field: str | None = None, name_field: str | None = None,
                parent_field: str | None = None, replace_level: bool = False,
                accept_partial: bool = False, dry_run: bool = False,
                indicator: str | None = None, area: str | None = None, encoding: str | None = None,
                sheet: str | int | None = None, columns: dict[str, Any] | None = None,
                source_name: str | None = None, progress: Progress | None = None,
                geo_level: int | None = None, geo_scheme: str | None = None) -> Report:
    """Validate ``path`` and, if it is accepted and not ``dry_run``, store it atomically.

    Parameters
    ----------
    kind
        ``official``, ``citizen`` or ``boundaries``.
    dataset_id
        Id in the store. Giving the id of an existing dataset replaces it with this release (the
        report counts what changed); without it the id comes from the file name.
    fmt
        Force a format instead of detecting it (see ``official.FORMATS``, ``citizen.FORMATS``).
    mapping
        Extra labels, columns, areas and citizen column roles (a TOML/YAML/JSON file or a dict).
    metadata
        Dataset provenance and quality (a YAML/JSON file or a dict), see :mod:`.meta`.
    level, code_field, name_field, parent_field
        For boundaries: the admin level and the fields holding code, name and parent code.
    replace_level
        For boundaries: the file replaces every area of the level (default: merged by code).
    accept_partial
        Store the valid rows of a file with row errors; the rejected rows go to ``rejected.csv``.
    indicator, area
        The indicator / area of a file that does not say (Open SDG files name neither inside); a
        file's own area codes are looked up inside ``area``.
    geo_level, geo_scheme
        Official files: the admin level of the file's area codes, and their code scheme
        (``official.areas.SCHEMES``; by default the one the format declares).
    columns
        Column roles of a citizen file (as the mapping's ``[citizen]`` table; these win).
    source_name
        The name to report and to read hints from (an uploaded file's original name).
    progress
        Called with (stage, fraction done) as the import goes.
    """
    path = Path(path)
    report = Report(file=source_name or path.name, kind=kind, dry_run=dry_run)
    tick = progress or (lambda stage, frac: None)
    try:
        _run(path, kind, report, data_dir=data_dir, dataset_id=dataset_id, fmt=fmt, mapping=mapping,
             metadata=metadata, level=level, code_field=code_field, name_field=name_field,
             parent_field=parent_field, replace_level=replace_level, accept_partial=accept_partial, dry_run=dry_run, indicator=indicator,
             area=area, encoding=encoding, sheet=sheet, columns=columns, source_name=source_name or path.name,
             tick=tick, geo_level=geo_level, geo_scheme=geo_scheme)
    except _RefusedError:
        report.status = REFUSED
    except storage.StoreError as e:  # the store refused the write (disk full, busy): nothing written
        report.error(str(e), code="store")
        report.status = REFUSED
    except Exception as e:  # the last line of defence: a bug must still give a report, never a traceback
        log.error("unexpected failure importing %s: %s: %s", path, type(e).__name__, e)
        log.debug("details", exc_info=True)  # the traceback only with --debug
        report.error(f"unexpected error ({type(e).__name__}: {e}); nothing was written", code=INTERNAL)
        report.status = REFUSED
    if not report.status:
        report.status = REFUSED
    tick("done", 1.0)
    return report


def _run(path: Path, kind: str, report: Report, *, data_dir: str | Path | None, dataset_id: str | None,
         fmt: str | None, mapping: Any, metadata: Any, level: int | None, code_field: str | None,
         name_field: str | None, parent_field: str | None, replace_level: bool, accept_partial: bool, dry_run: bool,
         indicator: str | None, area: str | None, encoding: str | None, sheet: Any, columns: dict[str, Any] | None,
         source_name: str, tick: Progress, geo_level: int | None = None, geo_scheme: str | None = None) -> None:
    if kind not in KINDS:
        report.error(f"unknown kind {kind!r} (known: {', '.join(KINDS)})", code="kind")
        raise _RefusedError
    store_dir = settings.data_dir(data_dir)
    if not store_dir.is_dir():
        report.error(f"no store at {store_dir} (create one with `python -m data_layers sample --out DIR`)", code="store")
        raise _RefusedError
    if not dry_run and settings.get("read_only"):
        report.error("the store is read-only (GAPLENS_READ_ONLY): imports are disabled", code="read_only")
        raise _RefusedError
    tick("reading", 0.05)
    if kind != "boundaries" and _binary_head(path, report):
        raise _RefusedError
    try:
        report.sha256 = storage.sha256_file(path)
    except OSError as e:
        report.error(f"cannot read the file: {e.strerror or e}", code="unreadable")
        raise _RefusedError from e
    try:
        user_map = mapping if isinstance(mapping, dict) else (load_mapping_file(mapping) if mapping else {})
    except MappingError as e:
        report.error(str(e), code="mapping")
        raise _RefusedError from e
    mapper = Mapper(store_dir, user_map)

    if kind == "boundaries":
        from .boundaries import import_boundaries

        import_boundaries(path, report, store_dir, level=level, code_field=code_field, name_field=name_field,
                          parent_field=parent_field, dry_run=dry_run, tick=tick, replace_level=replace_level)
        return

    try:
        raw_meta = load_metadata(metadata)
    except MetadataError as e:
        report.error(str(e), code="metadata")
        raise _RefusedError from e
    meta = clean_metadata(raw_meta, report)
    explicit_id = dataset_id or meta.get("dataset_id")
    ds_id = explicit_id or slug(Path(source_name).stem)
    if not DATASET_ID.match(ds_id):
        report.error(f"dataset id {ds_id!r}: use lowercase letters, digits, '.', '_' or '-' (at most 80)",
                     value=ds_id, code="dataset_id")
        raise _RefusedError
    report.dataset_id = ds_id
    for b in storage.broken_datasets(store_dir):
        report.warn(f"the store's {b.text()}: it is skipped until repaired or removed "
                    "(`python -m data_layers check` lists every problem)", code="broken_dataset")
    existing = {m.get("dataset_id"): m for m in storage.read_dataset_meta(store_dir)}
    same_file = [i for i, m in existing.items() if m.get("sha256") == report.sha256]
    if same_file and not dry_run:
        report.dataset_id = same_file[0]
        report.status = UNCHANGED
        report.info(f"this exact file (SHA-256 {report.sha256[:12]}…) is already dataset {same_file[0]}: nothing to do")
        return
    if same_file:
        report.info(f"this exact file is already dataset {same_file[0]}: importing it again changes nothing")

    tick("checking", 0.15)
    if kind == "official":
        from .official import parse_official

        result = parse_official(path, report, mapper, fmt=fmt, indicator=indicator, area=area, encoding=encoding,
                                sheet=sheet, source_name=source_name, geo_level=geo_level, geo_scheme=geo_scheme)
        obs = None if result is None else result.observations
        apart = None if result is None else result.kept_apart
    else:
        from .citizen import parse_citizen

        result = parse_citizen(path, report, mapper, meta, fmt=fmt, indicator=indicator, encoding=encoding,
                               sheet=sheet, source_name=source_name, roles=columns)
        obs = None if result is None else result.observations
        apart = None
    tick("checking", 0.6)
    report.rows_rejected = len(report.rejected_rows)
    report.rows_valid = max(report.rows_read - report.rows_rejected, 0)

    if obs is None or report.has_file_errors:
        raise _RefusedError
    if report.n_errors and not accept_partial:
        report.info(f"{report.rows_rejected} row(s) have errors: correct them, or import the valid rows only "
                    "with --accept-partial (the rejected rows are then recorded with their reasons)")
        raise _RefusedError
    if obs.empty and report.n_errors:
        report.info("no valid row to store")
        raise _RefusedError
    if obs.empty:
        report.status = NO_DATA
        report.info("the file holds no figure (e.g. an Open SDG placeholder for a non-statistical indicator)")
        return
    if ds_id in existing and not explicit_id:
        report.error(f"a dataset {ds_id!r} already exists (from {existing[ds_id].get('source_file')!r}): give "
                     f"--dataset-id {ds_id} to replace it with this release, or another id to keep both",
                     value=ds_id, code="dataset_exists")
        raise _RefusedError

    report.status = PARTIAL if report.n_errors else ACCEPTED
    report.rows_stored = len(obs)
    if ds_id in existing:
        report.changes = _changes(store_dir / "datasets" / ds_id / "observations.parquet", obs)
        report.info(f"a new release of dataset {ds_id}: it replaces the previous one")
    if dry_run:
        return

    tick("writing", 0.7)
    source_kind = "official" if kind == "official" else "citizen"
    # the sequence number makes every observation key of the store unique (obs_key = seq x 10^9 +
    # row): it is taken under the store lock and used in the same hold, so two imports at once
    # can never share it
    with storage.store_lock(store_dir):
        _write_locked(store_dir, obs, report, meta, ds_id, source_kind, source_name, apart, tick)
    tick("refreshing", 0.9)
    refresh_facts(store_dir, report)


def _write_locked(store_dir: Path, obs: pd.DataFrame, report: Report, meta: dict[str, Any], ds_id: str,
                  source_kind: str, source_name: str, apart: pd.DataFrame | None, tick: Progress) -> None:
    """Number, finish and write one accepted dataset; the caller holds the store lock."""
    seq = storage.next_seq(store_dir)
    keep = [c for c in obs.columns if not c.startswith("_")]
    tidy_obs = tidy.finish(obs[keep], dataset_id=ds_id, source_kind=source_kind, seq=seq)
    notes = _notes(report)
    entry = dataset_meta(meta, dataset_id=ds_id, source_kind=source_kind, seq=seq, source_file=source_name,
                         sha256=report.sha256, fmt=report.format, rows_read=report.rows_read,
                         rows_stored=len(tidy_obs), rows_rejected=report.rows_rejected, notes=notes)
    extra: dict[str, bytes] = {}
    if report.n_errors:
        extra["rejected.csv"] = _rejected_csv(report)
    if apart is not None and not apart.empty:
        cols = [c for c in apart.columns if not c.startswith("_") or c in ("_row", "_area_raw", "_area_name")]
        extra["kept_apart.csv"] = apart[cols].rename(columns={"_row": "row", "_area_raw": "source_area",
                                                              "_area_name": "source_area_name"}).to_csv(
            index=False, lineterminator="\n").encode("utf-8")
    from ..catalogue import add_missing

    added = add_missing(store_dir, sorted(set(tidy_obs["indicator"])))
    if added:
        report.info(f"indicators added to the store's catalogue (official titles; polarity unknown until set in "
                    f"indicators.csv): {', '.join(added)}")
    log.info("writing dataset %s (%d observations)", ds_id, len(tidy_obs))
    storage.sweep_leftovers(store_dir)  # the caller holds the store lock
    tick("storing", 0.8)  # the atomic write itself: staging folder, then one rename
    storage.write_dataset(store_dir, entry, tidy_obs, extra_files=extra)


def _binary_head(path: Path, report: Report) -> bool:
    """Refuse a binary file (zeros, random bytes, UTF-16) from its first bytes, before it is hashed
    or read whole: a 1 GB file of zeros is refused in milliseconds."""
    from .reading import SNIFF_BYTES, binary_problem, sniff_kind

    try:
        with open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
    except OSError:
        return False  # the hash below reports why the file cannot be read
    kind = sniff_kind(head)
    if kind not in ("binary", "utf16"):
        return False
    report.error(binary_problem(kind), code=kind)
    return True


def refresh_store(data_dir: Path) -> str:
    """Rebuild the derived facts after a write (the pages' cache keys on the new fingerprint).

    Returns ``""``, or why the facts could not be written to disk (the store then built them in
    memory, and the next open of the store tries again).
    """
    from .. import facts

    return facts.refresh(data_dir)


def refresh_facts(data_dir: Path, report: Report) -> None:
    """Refresh after a committed write, and say truthfully when the facts lag behind: the data
    is stored either way (never "nothing written" once it is), and the facts catch up on the
    next open of the store."""
    try:
        problem = refresh_store(data_dir)
    except Exception as e:  # the write is committed: any failure here is reported, not raised
        log.error("facts refresh of %s failed after a committed write: %s: %s", data_dir, type(e).__name__, e)
        problem = f"{type(e).__name__}: {storage._short(e)}"
    if problem:
        report.warn(f"the data is stored, but updating the derived facts failed ({problem}); they are rebuilt "
                    "the next time the store is opened (any command or the dashboard)", code="facts_pending")


def _notes(report: Report) -> str:
    parts = [f"format {report.format}"]
    if report.encoding:
        parts.append(f"encoding {report.encoding}")
    if report.dropped_columns:
        by_reason: dict[str, list[str]] = {}
        for c, why in report.dropped_columns.items():
            kind = ("personal identifiers dropped" if why.startswith("personal identifier") else
                    "record identifiers not stored" if why.startswith("record identifier") else "other columns not stored")
            by_reason.setdefault(kind, []).append(c)
        parts += [f"{kind}: {', '.join(cols)}" for kind, cols in by_reason.items()]
    if report.rows_rejected:
        parts.append(f"{report.rows_rejected} rows rejected (see rejected.csv)")
    if report.rows_skipped:
        parts.append(f"{report.rows_skipped} rows without a figure not stored")
    if report.rows_kept_apart:
        parts.append(f"{report.rows_kept_apart} rows kept apart (see kept_apart.csv)")
    return ". ".join(parts) + "."


def _rejected_csv(report: Report) -> bytes:
    rows = [{"row": p.row, "column": p.column, "value": p.value, "reason": p.message}
            for p in report.problems if p.severity == "error"]
    buf = io.StringIO()
    pd.DataFrame(rows, columns=["row", "column", "value", "reason"]).to_csv(buf, index=False, lineterminator="\n")
    hidden = report.n_errors - len(rows)
    if hidden > 0:
        buf.write(f"# {hidden} more problems beyond the error cap ({report.cap})\n")
    return buf.getvalue().encode("utf-8")


def _changes(old_path: Path, new: pd.DataFrame) -> dict[str, int]:
    """Figures added, removed, changed and unchanged between two releases of a dataset.

    One hash join in DuckDB over the key and figure columns only: the previous release is read
    straight from its parquet file, so the comparison costs about as much as reading both releases
    (it was the slowest step of re-importing a large release, a Python call per cell).
    """
    new = tidy.finish(new[[c for c in new.columns if not c.startswith("_")]], dataset_id="new",
                      source_kind="official", seq=0)[CHANGE_KEY + CHANGE_FIGURE]
    return storage.release_changes(old_path, new, key=CHANGE_KEY, figure=CHANGE_FIGURE)


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_tree_hash(data_dir: str | Path) -> str:
    """Hash of every committed file of a store (hidden staging/temporary names ignored)."""
    root = Path(data_dir)
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not p.is_file():
            continue
        h.update(str(rel).encode())
        h.update(storage.sha256_file(p).encode())
    return h.hexdigest()

