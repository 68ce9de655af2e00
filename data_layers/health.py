"""The store's health check: ``python -m data_layers check [--data-dir DIR]``.

Opening a store only checks what is cheap (every ``dataset.json`` parses, every parquet footer
reads) and skips a broken dataset; this check goes through everything, so an operator learns which
file of which dataset to restore or remove:

- every dataset file against the SHA-256 recorded in its ``dataset.json`` when it was written
  (``checksums``); a dataset written before checksums were recorded is read whole instead (every
  row of its parquet, its JSON, its CSV side files);
- no two datasets sharing a sequence number (their observation keys would collide);
- every area file and catalogue readable;
- the derived facts readable (a broken one rebuilds itself on the next open, but is reported).

Nothing here writes. Exit status 0 for a sound store, 2 with one line per problem otherwise.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from . import schema, storage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finding:
    """One problem: what it belongs to (a dataset id, ``areas``, ``catalogue``, ``facts``), the
    file relative to the store, and why."""

    owner: str
    file: str
    reason: str

    def text(self) -> str:
        what = f"dataset {self.owner}" if self.owner not in NON_DATASET_OWNERS else self.owner
        return f"{what}: {self.file}: {self.reason}"


NON_DATASET_OWNERS = frozenset({"areas", "catalogue", "facts (derived; rebuilt on the next open)"})
FACTS_OWNER = "facts (derived; rebuilt on the next open)"


@dataclass
class Health:
    """The outcome of :func:`check_store`."""

    data_dir: Path
    findings: list[Finding]
    datasets: int = 0
    verified_by_checksum: int = 0

    @property
    def sound(self) -> bool:
        return not self.findings

    def broken_datasets(self) -> list[str]:
        return sorted({f.owner for f in self.findings if f.owner not in NON_DATASET_OWNERS})


def _read_parquet_whole(path: Path) -> None:
    pq.read_table(path)


def _read_text(path: Path) -> None:
    path.read_bytes().decode("utf-8")


# How a dataset's files are read when no checksum vouches for them (by file name suffix)
READERS: dict[str, Callable[[Path], None]] = {
    ".parquet": _read_parquet_whole,
    ".csv": _read_text,
    ".json": lambda p: json.loads(p.read_text(encoding="utf-8")),
}


def check_store(data_dir: Path) -> Health:
    """Check every file of the store at ``data_dir`` (see the module docstring)."""
    data_dir = Path(data_dir)
    health = Health(data_dir, [])
    if not data_dir.is_dir():
        health.findings.append(Finding("catalogue", str(data_dir), "no such folder"))
        return health
    _check_datasets(data_dir, health)
    _check_areas(data_dir, health)
    _check_catalogues(data_dir, health)
    _check_facts(data_dir, health)
    return health


def _check_datasets(data_dir: Path, health: Health) -> None:
    root = storage.datasets_dir(data_dir)
    if not root.is_dir():
        return
    seqs: dict[int, str] = {}
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        health.datasets += 1
        rel = f"datasets/{d.name}"
        if not (d / "dataset.json").is_file():
            health.findings.append(Finding(d.name, f"{rel}/dataset.json", "missing"))
            continue
        problem = storage.meta_problem(d)
        if problem is not None:
            health.findings.append(Finding(d.name, f"{rel}/{problem.file}", problem.reason))
            continue
        meta = json.loads((d / "dataset.json").read_text(encoding="utf-8"))
        other = seqs.setdefault(meta["seq"], d.name)
        if other != d.name:
            health.findings.append(Finding(d.name, f"{rel}/dataset.json", f"sequence number {meta['seq']} is also "
                                           f"dataset {other}'s: their observation keys collide"))
        sums = storage.parse_checksums(meta.get("checksums"))
        if not (d / "observations.parquet").is_file():
            health.findings.append(Finding(d.name, f"{rel}/observations.parquet", "missing"))
            continue
        if sums:
            before = len(health.findings)
            for name, digest in sums.items():
                path = d / name
                if "/" in name or name.startswith(".") or not path.is_file():
                    health.findings.append(Finding(d.name, f"{rel}/{name}", "missing (listed in its checksums)"))
                elif storage.sha256_file(path) != digest:
                    health.findings.append(Finding(d.name, f"{rel}/{name}",
                                                   "checksum mismatch: changed or damaged since it was written"))
            if "observations.parquet" not in sums:
                health.findings.append(Finding(d.name, f"{rel}/observations.parquet", "has no recorded checksum"))
            if len(health.findings) == before:
                health.verified_by_checksum += 1
            unlisted = [p for p in d.iterdir() if p.is_file() and not p.name.startswith(".")
                        and p.name != "dataset.json" and p.name not in sums]
            for p in unlisted:
                _read_whole(d.name, f"{rel}/{p.name}", p, health)
        else:  # written before checksums were recorded: read every file whole
            for p in sorted(d.iterdir()):
                if p.is_file() and not p.name.startswith(".") and p.name != "dataset.json":
                    _read_whole(d.name, f"{rel}/{p.name}", p, health)
        _check_columns(d, rel, health)


def _read_whole(owner: str, rel: str, path: Path, health: Health) -> None:
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        return
    try:
        reader(path)
    except (OSError, UnicodeDecodeError, ValueError, pa.ArrowException) as e:
        health.findings.append(Finding(owner, rel, f"unreadable ({storage._short(e)})"))


def _check_columns(d: Path, rel: str, health: Health) -> None:
    try:
        names = set(pq.read_schema(d / "observations.parquet").names)
    except (OSError, pa.ArrowException) as e:
        health.findings.append(Finding(d.name, f"{rel}/observations.parquet", f"unreadable ({storage._short(e)})"))
        return
    missing = [c for c in schema.names(schema.OBSERVATIONS) if c not in names]
    if missing:
        health.findings.append(Finding(d.name, f"{rel}/observations.parquet", f"lacks columns {missing[:5]}"))


def _check_areas(data_dir: Path, health: Health) -> None:
    for p in storage.area_files(data_dir):
        try:
            table = pq.read_table(p)
        except (OSError, pa.ArrowException) as e:
            health.findings.append(Finding("areas", f"areas/{p.name}", f"unreadable ({storage._short(e)})"))
            continue
        missing = [c for c in ("code", "name", "level", "parent_code", "geometry") if c not in table.column_names]
        if missing:
            health.findings.append(Finding("areas", f"areas/{p.name}", f"lacks columns {missing}"))


def _check_catalogues(data_dir: Path, health: Health) -> None:
    import pandas as pd

    columns = {"indicators": schema.INDICATORS, "groups": schema.GROUPS, "dimension_labels": schema.DIMENSION_LABELS}
    for name, file in storage.CATALOGUE_FILES.items():
        path = data_dir / file
        if not path.is_file():
            continue  # the package's defaults stand in
        try:
            df = storage.read_catalogue(data_dir, name)
        except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError) as e:
            health.findings.append(Finding("catalogue", file, f"unreadable ({storage._short(e)})"))
            continue
        need = [c.name for c in columns[name] if not c.nullable]
        missing = [c for c in need if c not in df.columns]
        if missing:
            health.findings.append(Finding("catalogue", file, f"lacks columns {missing}"))


def _check_facts(data_dir: Path, health: Health) -> None:
    facts = data_dir / "facts"
    if not facts.is_dir():
        return
    manifest = facts / "manifest.json"
    if manifest.is_file():
        try:
            json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as e:
            health.findings.append(Finding(FACTS_OWNER, "facts/manifest.json", f"unreadable ({storage._short(e)})"))
    for p in sorted(facts.rglob("*.parquet")):
        if any(part.startswith(".") for part in p.relative_to(facts).parts):
            continue
        try:
            pq.read_metadata(p)
        except (OSError, pa.ArrowException) as e:
            health.findings.append(Finding(FACTS_OWNER, p.relative_to(data_dir).as_posix(),
                                           f"unreadable ({storage._short(e)})"))


def report_lines(health: Health) -> list[str]:
    """What ``check`` prints: one line per problem, then a summary."""
    lines = [f"BROKEN {f.text()}" for f in health.findings]
    if health.sound:
        lines.append(f"store sound: {health.datasets} dataset(s), {health.verified_by_checksum} verified by "
                     f"checksum, the others read whole; areas, catalogues and facts readable ({health.data_dir})")
    else:
        ids = health.broken_datasets()
        lines.append(f"{len(health.findings)} problem(s) in {health.data_dir}"
                     + (f"; broken dataset(s): {', '.join(ids)} (restore the file, re-import the dataset, or "
                        "remove it with `python -m data_layers datasets remove ID`)" if ids else ""))
    return lines
