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


def dataset_dirs(data_dir: Path) -> list[Path]:
    """Committed dataset folders (hidden staging folders are ignored)."""
    root = datasets_dir(data_dir)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and (p / "dataset.json").is_file())


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


def next_seq(data_dir: Path) -> int:
    seqs = [int(m.get("seq", 0)) for m in read_dataset_meta(data_dir)]
    return max(seqs, default=0) + 1


@locked
def write_dataset(data_dir: Path, meta: dict[str, Any], observations: pd.DataFrame,
                  extra_files: dict[str, bytes] | None = None) -> Path:
    """Store one dataset atomically, replacing any dataset with the same id.

    ``observations`` must already be in the tidy schema (``schema.OBSERVATIONS``); ``meta`` has
    the keys of ``schema.DATASETS``. ``extra_files`` (plain names -> bytes, e.g. an importer's
    ``rejected.csv``) are written into the same staging folder, so they commit with the dataset.
    """
    dataset_id = meta["dataset_id"]
    check_dataset_id(dataset_id)
    root = datasets_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    recover(data_dir)
    staging = root / f".staging-{dataset_id}-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        table = to_table(observations, schema.OBSERVATIONS)
        pq.write_table(table, staging / "observations.parquet", compression="zstd")
        clean = {c.name: meta.get(c.name) for c in schema.DATASETS}
        (staging / "dataset.json").write_text(json.dumps(clean, indent=1, sort_keys=True, default=str) + "\n",
                                              encoding="utf-8")
        for name, data in (extra_files or {}).items():
            if name in ("observations.parquet", "dataset.json") or "/" in name or "\\" in name or name.startswith("."):
                raise StoreError(f"invalid extra file name {name!r}")
            (staging / name).write_bytes(data)
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
    atomic_write_bytes(data_dir / CATALOGUE_FILES[name], df.to_csv(index=False, lineterminator="\n").encode())


@locked
def copy_default_catalogues(data_dir: Path, names: Iterable[str] = CATALOGUE_FILES) -> None:
    for name in names:
        src = DEFAULT_TABLES_DIR / CATALOGUE_FILES[name]
        atomic_write_bytes(data_dir / CATALOGUE_FILES[name], src.read_bytes())
