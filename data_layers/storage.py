"""The on-disk layout of a GapLens store, and its only writers.

A store is a folder::

    areas/level_<N>.parquet           GeoParquet, one file per admin level
    datasets/<id>/observations.parquet
    datasets/<id>/dataset.json        provenance and quality of that dataset
    indicators.csv groups.csv dimension_labels.csv   editable catalogues
    facts/official/<indicator>.parquet, facts/citizen/<indicator>.parquet, facts/manifest.json
                                      derived; after a write, re-merged for the changed indicators
    facts/parts/<kind>-<dataset>-<digest>.parquet    per-dataset first stage (a cache)

Every write is atomic: a dataset is written to a hidden sibling folder and renamed into place
(``os.replace`` of a directory is atomic on POSIX), single files go through a temporary file and
``os.replace``. Readers ignore names starting with a dot, so a crash at any moment leaves the
previous store intact and readable. Writers and the facts build take the store's lock
(``store_lock``), so two imports at once (two browser sessions, or the CLI beside the app) run one
after the other.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import schema
from .settings import PACKAGE_DIR

log = logging.getLogger(__name__)

LOCK_FILE = ".gaplens.lock"  # hidden: readers ignore it
LOCK_TIMEOUT_S = 300.0  # a large import takes minutes; waiting longer means something is stuck
_thread_locks: dict[Path, threading.RLock] = {}
_thread_locks_guard = threading.Lock()
_held: dict[Path, int] = {}
F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def store_lock(data_dir: Path, *, timeout: float | None = None) -> Iterator[None]:
    """Exclusive lock over a store's writes and facts builds, across threads and processes.

    Re-entrant in the thread that holds it (an import writes, then refreshes the facts). The
    cross-process part is ``filelock`` on ``<store>/.gaplens.lock``; it is taken only by the
    outermost holder, because a second OS lock on the same file from one process would wait for
    itself.
    """
    from filelock import FileLock, Timeout

    timeout = LOCK_TIMEOUT_S if timeout is None else timeout
    root = Path(data_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    with _thread_locks_guard:
        rlock = _thread_locks.setdefault(root, threading.RLock())
    if not rlock.acquire(timeout=timeout):
        raise StoreError(f"the store {root} is busy (another import in this process); try again later")
    try:
        if _held.get(root, 0):
            _held[root] += 1
            try:
                yield
            finally:
                _held[root] -= 1
            return
        try:
            os_lock = FileLock(root / LOCK_FILE, timeout=timeout, thread_local=False)
            os_lock.acquire()
        except Timeout as e:
            raise StoreError(f"the store {root} is busy (another import is running); try again later") from e
        _held[root] = 1
        try:
            yield
        finally:
            _held[root] = 0
            os_lock.release()
    finally:
        rlock.release()


def locked(fn: F) -> F:
    """Run a writer ``fn(data_dir, ...)`` under the store's lock."""
    @wraps(fn)
    def wrapper(data_dir: Path, *args: Any, **kwargs: Any) -> Any:
        with store_lock(data_dir):
            return fn(data_dir, *args, **kwargs)
    return wrapper  # type: ignore[return-value]

CATALOGUE_FILES = {
    "indicators": "indicators.csv",
    "groups": "groups.csv",
    "dimension_labels": "dimension_labels.csv",
}
DEFAULT_TABLES_DIR = PACKAGE_DIR / "tables"


class StoreError(Exception):
    """A store operation that cannot be done (the message says why)."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


MB = 1 << 20


def free_bytes(path: Path) -> int:
    """Free bytes on the file system holding ``path`` (its nearest existing parent)."""
    p = Path(path).resolve()
    while not p.exists() and p != p.parent:
        p = p.parent
    return shutil.disk_usage(p).free


def estimate_bytes(frame: Any = None, extra_files: dict[str, bytes] | None = None) -> int:
    """A generous guess of the bytes a write takes: compressed parquet is far smaller than the
    frame in memory, so half of that is an upper bound in practice."""
    size = sum(len(b) for b in (extra_files or {}).values())
    if frame is not None:
        try:
            size += int(frame.memory_usage(index=False, deep=False).sum()) // 2
        except (AttributeError, TypeError, ValueError):
            size += 0
    return size


def ensure_free_space(data_dir: Path, needed: int = 0) -> None:
    """Refuse a write (:class:`StoreError`, nothing written) that would leave the disk nearly full.

    A write needs room for its own files plus the ``min_free_mb`` reserve (setting), which covers
    the facts refresh after it: with a full disk the dataset would commit and its facts fail.
    """
    from . import settings

    reserve = int(settings.get("min_free_mb")) * MB
    try:
        free = free_bytes(Path(data_dir))
    except OSError as e:
        log.warning("cannot measure free space under %s: %s", data_dir, e)
        return
    if free - needed < reserve:
        raise StoreError(f"not enough free disk space for this write: {free / MB:.0f} MB free, about "
                         f"{needed / MB:.0f} MB needed plus a reserve of {reserve / MB:.0f} MB "
                         "(setting GAPLENS_MIN_FREE_MB); free some space and try again. Nothing was written.")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file so that readers see either the old or the new content, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_table(path: Path, table: pa.Table) -> None:
    """Write a parquet file atomically (temporary file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def to_table(df: pd.DataFrame, columns: tuple[schema.Column, ...]) -> pa.Table:
    """Cast a frame to a declared table schema (exact types: Spark-readable, no nanoseconds)."""
    missing = [c.name for c in columns if c.name not in df.columns]
    if missing:
        raise StoreError(f"missing columns {missing}")
    return pa.Table.from_pandas(df[schema.names(columns)], schema=schema.arrow_schema(columns),
                                preserve_index=False)


# --- layout ------------------------------------------------------------------------------------

def datasets_dir(data_dir: Path) -> Path:
    return data_dir / "datasets"


def committed_dataset_dirs(data_dir: Path) -> list[Path]:
    """Every committed dataset folder, sound or not (hidden staging folders are ignored)."""
    root = datasets_dir(data_dir)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and (p / "dataset.json").is_file())


def dataset_dirs(data_dir: Path) -> list[Path]:
    """Committed dataset folders that can be read (a broken one is skipped and logged, see
    :func:`broken_datasets`): one corrupt file never takes the whole store down."""
    return [d for d in committed_dataset_dirs(data_dir) if dataset_problem(d) is None]


@dataclass(frozen=True)
class Broken:
    """A dataset the store skips: which one, which file, and why."""

    dataset_id: str
    file: str
    reason: str

    def text(self) -> str:
        return f"dataset {self.dataset_id}: {self.file}: {self.reason}"


_health_cache: dict[tuple[str, int, int, int, int], Broken | None] = {}
_health_guard = threading.Lock()
HEALTH_CACHE_MAX = 4096  # entries; each is a few hundred bytes, and a store rarely holds this many datasets


def dataset_problem(d: Path) -> Broken | None:
    """Why dataset folder ``d`` cannot be read, or ``None``: a quick check, done on every open.

    ``dataset.json`` must be a JSON object naming the folder, and ``observations.parquet`` must
    have a readable parquet footer (a truncated or half-copied file has none). Remembered per file
    size and modification time, so the dashboard's frequent fingerprint does not re-read footers.
    ``python -m data_layers check`` goes further (checksums, every row).
    """
    meta_path, obs_path = d / "dataset.json", d / "observations.parquet"
    try:
        ms, os_ = meta_path.stat(), obs_path.stat()
    except OSError as e:
        missing = obs_path.name if meta_path.exists() else meta_path.name
        return Broken(d.name, missing, f"cannot be read ({e.strerror or e})")
    key = (str(d), ms.st_mtime_ns, ms.st_size, os_.st_mtime_ns, os_.st_size)
    with _health_guard:
        if key in _health_cache:
            return _health_cache[key]
    problem = _quick_problem(d)
    if problem is not None:
        log.error("skipping broken %s", problem.text())
    with _health_guard:
        if len(_health_cache) >= HEALTH_CACHE_MAX:
            _health_cache.clear()
        _health_cache[key] = problem
    return problem


def _quick_problem(d: Path) -> Broken | None:
    problem = meta_problem(d)
    if problem is not None:
        return problem
    try:
        pq.read_metadata(d / "observations.parquet")
    except (OSError, pa.ArrowException) as e:
        return Broken(d.name, "observations.parquet", f"not a readable parquet file ({_short(e)})")
    return None


def meta_problem(d: Path) -> Broken | None:
    """Why ``d/dataset.json`` is not a usable catalogue entry, or ``None``."""
    try:
        meta = json.loads((d / "dataset.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return Broken(d.name, "dataset.json", f"not readable JSON ({_short(e)})")
    if not isinstance(meta, dict):
        return Broken(d.name, "dataset.json", "not a JSON object")
    if meta.get("dataset_id") != d.name:
        return Broken(d.name, "dataset.json", f"names dataset {meta.get('dataset_id')!r}, not its folder {d.name!r}")
    if not isinstance(meta.get("seq"), int) or isinstance(meta.get("seq"), bool):
        return Broken(d.name, "dataset.json", f"sequence number {meta.get('seq')!r} is not a whole number")
    return None


def _short(e: BaseException) -> str:
    """An exception in one line, without the folder it happened in (no server path on a page)."""
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return text[:200]


def broken_datasets(data_dir: Path) -> list[Broken]:
    """The committed datasets that the store skips, with the file and the reason."""
    found = [dataset_problem(d) for d in committed_dataset_dirs(data_dir)]
    root = datasets_dir(data_dir)
    if root.is_dir():  # a folder without its dataset.json (deleted or never committed by us)
        found += [Broken(p.name, "dataset.json", "missing") for p in sorted(root.iterdir())
                  if p.is_dir() and not p.name.startswith(".") and not (p / "dataset.json").exists()]
    return [b for b in found if b is not None]


def area_files(data_dir: Path) -> list[Path]:
    root = data_dir / "areas"
    return sorted(root.glob("level_*.parquet")) if root.is_dir() else []


def catalogue_path(data_dir: Path, name: str) -> Path:
    """A catalogue CSV of the store, falling back to the package's defaults."""
    p = data_dir / CATALOGUE_FILES[name]
    return p if p.is_file() else DEFAULT_TABLES_DIR / CATALOGUE_FILES[name]


def read_catalogue(data_dir: Path, name: str) -> pd.DataFrame:
    df = pd.read_csv(catalogue_path(data_dir, name), dtype=str, keep_default_na=False)
    return df


def read_dataset_meta(data_dir: Path) -> list[dict[str, Any]]:
    """Catalogue entries of the readable datasets (broken ones are skipped, see :func:`dataset_dirs`)."""
    return [json.loads((d / "dataset.json").read_text(encoding="utf-8")) for d in dataset_dirs(data_dir)]


def fingerprint(data_dir: Path) -> str:
    """Content fingerprint of everything the facts derive from.

    Uses dataset.json files (which carry each dataset's source hash, sequence and row count),
    the areas files and the catalogues, so a fresh clone with new mtimes is still "fresh".
    """
    h = hashlib.sha256()
    for d in dataset_dirs(data_dir):
        h.update(d.name.encode())
        h.update((d / "dataset.json").read_bytes())
    h.update(areas_digest(data_dir).encode())
    for name in CATALOGUE_FILES:
        h.update(catalogue_path(data_dir, name).read_bytes())
    register = data_dir / "register.csv"  # the evidence register: cells show it (data_layers/register.py)
    if register.is_file():
        h.update(b"register\0" + register.read_bytes())
    return h.hexdigest()


def areas_digest(data_dir: Path) -> str:
    """Content digest of the area files (the citizen facts depend on which area holds which)."""
    h = hashlib.sha256()
    for p in area_files(data_dir):
        h.update(p.name.encode())
        h.update(sha256_file(p).encode())
    return h.hexdigest()


def recover(data_dir: Path) -> None:
    """Finish or roll back a replacement interrupted between its two renames."""
    root = datasets_dir(data_dir)
    if not root.is_dir():
        return
    for old in root.glob(".old-*"):
        target = root / old.name[len(".old-"):]
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(old, target)
            log.warning("restored dataset %s after an interrupted replacement", target.name)


LEFTOVER_DIRS = (".staging-", ".trash-")  # a dataset's hidden folders, alive only inside the store lock


def sweep_leftovers(data_dir: Path) -> int:
    """Remove what killed writers left behind: staging and trash folders of datasets, temporary
    files of areas, catalogues and facts. Call it holding :func:`store_lock`: every writer creates
    and removes these inside the lock, so none of them can belong to a live import. Returns how
    many were removed (readers ignore hidden names, so this only frees space)."""
    data_dir = Path(data_dir)
    removed = 0
    root = datasets_dir(data_dir)
    for p in (root.iterdir() if root.is_dir() else ()):
        if p.is_dir() and p.name.startswith(LEFTOVER_DIRS):
            shutil.rmtree(p, ignore_errors=True)
            removed += 1
    folders = [data_dir / "areas", data_dir / "facts", *(data_dir / "facts" / k for k in ("official", "citizen", "parts"))]
    for folder in folders:
        for p in (folder.iterdir() if folder.is_dir() else ()):
            if p.is_file() and p.name.startswith(".") and p.name != LOCK_FILE:
                p.unlink(missing_ok=True)
                removed += 1
    for p in data_dir.iterdir() if data_dir.is_dir() else ():
        if p.is_file() and p.name.startswith(".") and p.name != LOCK_FILE and (".csv." in p.name or ".json." in p.name):
            p.unlink(missing_ok=True)
            removed += 1
    if removed:
        log.info("removed %d leftover(s) of interrupted writes from %s", removed, data_dir)
    return removed


def next_seq(data_dir: Path) -> int:
    """The next dataset sequence number. Call it under :func:`store_lock` and write in the same
    hold: two imports that read it before either wrote would share it (and their observation keys).
    Broken datasets count too, so a repaired one never collides."""
    seqs = [0]
    for d in committed_dataset_dirs(data_dir):
        try:
            seq = json.loads((d / "dataset.json").read_text(encoding="utf-8")).get("seq")
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            continue
        if isinstance(seq, int) and not isinstance(seq, bool):
            seqs.append(seq)
    return max(seqs) + 1


CHECKSUM_SEP, CHECKSUM_EQ = ";", "="


def format_checksums(sums: dict[str, str]) -> str:
    """``{name: sha256}`` as stored in ``dataset.json`` (``name=hex;name=hex``, sorted)."""
    return CHECKSUM_SEP.join(f"{name}{CHECKSUM_EQ}{digest}" for name, digest in sorted(sums.items()))


def parse_checksums(text: Any) -> dict[str, str]:
    """The ``checksums`` field of ``dataset.json`` back as ``{name: sha256}`` (empty when absent)."""
    if not isinstance(text, str):
        return {}
    out = {}
    for pair in text.split(CHECKSUM_SEP):
        name, _, digest = pair.partition(CHECKSUM_EQ)
        if name.strip() and digest.strip():
            out[name.strip()] = digest.strip()
    return out


@locked
def write_dataset(data_dir: Path, meta: dict[str, Any], observations: pd.DataFrame,
                  extra_files: dict[str, bytes] | None = None) -> Path:
    """Store one dataset atomically, replacing any dataset with the same id.

    ``observations`` must already be in the tidy schema (``schema.OBSERVATIONS``); ``meta`` has
    the keys of ``schema.DATASETS``. ``extra_files`` (plain names -> bytes, e.g. an importer's
    ``rejected.csv``) are written into the same staging folder, so they commit with the dataset.
    The SHA-256 of every file written is recorded in ``dataset.json`` (``checksums``). Refused
    (nothing written) when another dataset holds the same sequence number, or when the disk
    lacks room (:func:`ensure_free_space`).
    """
    dataset_id = meta["dataset_id"]
    check_dataset_id(dataset_id)
    seq = meta.get("seq")
    clash = [m.get("dataset_id") for m in read_dataset_meta(data_dir)
             if m.get("seq") == seq and m.get("dataset_id") != dataset_id]
    if seq is not None and clash:
        raise StoreError(f"sequence number {seq} is already dataset {clash[0]!r}'s: take it with next_seq "
                         "under the store lock")
    ensure_free_space(data_dir, estimate_bytes(observations, extra_files))
    root = datasets_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    recover(data_dir)
    staging = root / f".staging-{dataset_id}-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        table = to_table(observations, schema.OBSERVATIONS)
        pq.write_table(table, staging / "observations.parquet", compression="zstd")
        for name, data in (extra_files or {}).items():
            if name in ("observations.parquet", "dataset.json") or "/" in name or "\\" in name or name.startswith("."):
                raise StoreError(f"invalid extra file name {name!r}")
            (staging / name).write_bytes(data)
        clean = {c.name: meta.get(c.name) for c in schema.DATASETS}
        clean["checksums"] = format_checksums({p.name: sha256_file(p) for p in staging.iterdir() if p.is_file()})
        (staging / "dataset.json").write_text(json.dumps(clean, indent=1, sort_keys=True, default=str) + "\n",
                                              encoding="utf-8")
        target = root / dataset_id
        if target.exists():
            old = root / f".old-{dataset_id}"
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
        _fsync_dir(root)
        return target
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        recover(data_dir)  # failed between the two renames: put the old version back now
        raise


def check_dataset_id(dataset_id: str) -> None:
    """Refuse ids that are not one plain folder name (hidden, empty, or with a path separator)."""
    if not dataset_id or dataset_id.startswith(".") or "/" in dataset_id or "\\" in dataset_id:
        raise StoreError(f"invalid dataset id {dataset_id!r}")


@locked
def remove_dataset(data_dir: Path, dataset_id: str) -> None:
    check_dataset_id(dataset_id)
    target = datasets_dir(data_dir) / dataset_id
    if not (target / "dataset.json").is_file():
        raise StoreError(f"no dataset {dataset_id!r} in {data_dir}")
    trash = datasets_dir(data_dir) / f".trash-{dataset_id}-{uuid.uuid4().hex}"
    os.replace(target, trash)
    shutil.rmtree(trash, ignore_errors=True)


@locked
def write_areas(data_dir: Path, level: int, gdf: Any) -> Path:
    """Store the areas of one admin level as GeoParquet (EPSG:4326), atomically."""
    path = data_dir / "areas" / f"level_{level}.parquet"
    ensure_free_space(data_dir, estimate_bytes(gdf))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    out = gdf[["code", "name", "level", "parent_code", "geometry"]].copy()
    out["level"] = out["level"].astype("int32")
    out["parent_code"] = out["parent_code"].astype("str")  # all-null at level 0 would be Arrow type null
    try:
        out.to_crs(4326).to_parquet(tmp, index=False, compression="zstd", schema_version="1.1.0")
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


@locked
def write_catalogue(data_dir: Path, name: str, df: pd.DataFrame) -> None:
    ensure_free_space(data_dir, estimate_bytes(df))
    atomic_write_bytes(data_dir / CATALOGUE_FILES[name], df.to_csv(index=False, lineterminator="\n").encode())


@locked
def copy_default_catalogues(data_dir: Path, names: Iterable[str] = CATALOGUE_FILES) -> None:
    ensure_free_space(data_dir)
    for name in names:
        src = DEFAULT_TABLES_DIR / CATALOGUE_FILES[name]
        atomic_write_bytes(data_dir / CATALOGUE_FILES[name], src.read_bytes())


def release_changes(old_path: Path, new: pd.DataFrame, *, key: list[str], figure: list[str]) -> dict[str, int]:
    """Figures added, removed, changed and unchanged between a stored release and a new one.

    One hash join in DuckDB over the ``key`` and ``figure`` columns only, the previous release read
    straight from its parquet file. Returns ``{}`` (and logs why) when the comparison fails.
    """
    import duckdb

    def text(cols: list[str]) -> str:
        return " || chr(31) || ".join(f"coalesce(CAST(\"{c}\" AS VARCHAR), '')" for c in cols)

    con = duckdb.connect()
    try:
        con.register("new_release", new)
        cols = ", ".join(f'"{c}"' for c in key + figure)
        con.register("old_release", con.read_parquet(str(old_path)).select(cols))
        k, f = text(key), text(figure)
        row = con.execute(
            f"WITH a AS (SELECT {k} AS k, min({f}) AS f FROM old_release GROUP BY 1), "
            f"b AS (SELECT {k} AS k, min({f}) AS f FROM new_release GROUP BY 1) "
            "SELECT count(*) FILTER (WHERE a.k IS NULL), count(*) FILTER (WHERE b.k IS NULL), "
            "count(*) FILTER (WHERE a.k IS NOT NULL AND b.k IS NOT NULL AND a.f <> b.f), "
            "count(*) FILTER (WHERE a.k IS NOT NULL AND b.k IS NOT NULL AND a.f = b.f) "
            "FROM a FULL OUTER JOIN b ON a.k = b.k").fetchone()
    except (duckdb.Error, OSError) as e:
        log.warning("cannot compare with the previous release: %s", e)
        return {}
    finally:
        con.close()
    return {"added": int(row[0]), "removed": int(row[1]), "changed": int(row[2]), "unchanged": int(row[3])}
