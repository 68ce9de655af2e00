"""The facts builder: derived ``official_facts`` and ``citizen_facts`` from a store's observations.

Facts are built in two stages (``sql/*_parts.sql`` per dataset, then a merge per indicator) and
kept on disk under ``facts/`` next to a manifest, so a refresh after an import reads only the new
dataset's rows. :class:`FactsBuilder` is the part of ``GapStore`` that does it, over the store's
DuckDB connection; :func:`refresh` is what importers call after a committed write. A second engine
(e.g. Spark) replaces this module behind the same boundary: it reads ``sql/*.sql`` and the same
parquet layout, and writes the same files.
"""


import hashlib
import json
import logging
import re
import time
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from . import storage

log = logging.getLogger("data_layers.store")

SQL_DIR = Path(__file__).resolve().parent / "sql"
FACTS = {"official_facts": "official", "citizen_facts": "citizen"}  # view -> facts/<kind>/<indicator>.parquet
PART_KINDS = ("official", "citizen")  # facts/parts/<kind>-<dataset>-<digest>.parquet, see _build_facts
SUPPRESSION_MAX_ROUNDS = 1000  # complementary suppression ends far sooner (each round only adds); a guard
FULL_SORT_MAX_ROWS = 250_000  # facts merged from more part rows are sorted by indicator only

@cache
def load_sql(name: str) -> str:
    """Text of a portable query kept in ``data_layers/sql/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


# a total order of each facts table, so a rebuild writes the same bytes (official facts are per series)
_FACTS_ORDER = {
    "official_facts": "ORDER BY indicator ASC NULLS LAST, area_code ASC NULLS LAST, group_id ASC NULLS LAST, "
                      "year ASC NULLS LAST, series ASC NULLS LAST, unit ASC NULLS LAST",
    "citizen_facts": "ORDER BY indicator ASC NULLS LAST, area_code ASC NULLS LAST, group_id ASC NULLS LAST, "
                     "year ASC NULLS LAST, usable DESC NULLS LAST",
}


FACT_KEYS = {"official_facts": ("indicator", "series", "unit", "area_code", "group_id", "year"),
             "citizen_facts": ("indicator", "area_code", "group_id", "year", "usable")}
"""One fact per key: a second row for a key would draw two values for one year of one area."""


def _unique_facts(con: Any, table: Any, name: str) -> Any:
    """``table`` (Arrow) with one row per key of :data:`FACT_KEYS`: never store duplicate facts.

    Duplicates cannot come from a sound store (observation keys are unique because each dataset's
    sequence is taken under the store lock), but a store written before that, or by hand, can hold
    two datasets with one sequence. Then the newest-named dataset's row is kept and the problem is
    logged (``python -m data_layers check`` names the datasets).
    """
    if table.num_rows == 0:
        return table
    key = list(FACT_KEYS[name])
    keys = table.group_by(key).aggregate([])
    if keys.num_rows == table.num_rows:
        return table
    log.error("%s: %d duplicate fact key(s) (datasets sharing a sequence number); keeping one row per key",
              name, table.num_rows - keys.num_rows)
    tie = "dataset_id DESC NULLS LAST, " if "dataset_id" in table.column_names else ""
    cur = con.cursor()
    try:
        cur.register("_facts_in", table)
        return cur.sql(
            f"SELECT * FROM _facts_in QUALIFY row_number() OVER (PARTITION BY {', '.join(key)} "
            f"ORDER BY {tie}value DESC NULLS LAST) = 1 {_FACTS_ORDER[name]}").to_arrow_table()
    finally:
        cur.close()


def _shard_file(indicator: str) -> str:
    """File name of one indicator's facts: readable, and unique even for codes a file system mangles."""
    safe = re.sub(r"[^0-9A-Za-z._-]", "_", indicator)[:40]
    return f"{safe}-{hashlib.sha256(indicator.encode()).hexdigest()[:8]}.parquet"


def _write_shards(table: Any, shard_dir: Path, shards: dict[str, dict[str, Any]]) -> None:
    """Split a merged table (sorted by indicator) into one parquet file per indicator, atomically each."""
    import numpy as np

    if table.num_rows == 0:
        return
    codes = table.column("indicator").combine_chunks().dictionary_encode()
    idx = codes.indices.to_numpy(zero_copy_only=False)
    starts = np.concatenate([[0], np.flatnonzero(np.diff(idx)) + 1])
    ends = np.concatenate([starts[1:], [len(idx)]])
    jobs = []
    for start, end in zip(starts, ends, strict=True):
        ind = codes.dictionary[int(idx[start])].as_py()
        jobs.append((table.slice(int(start), int(end - start)), shard_dir / shards[ind]["file"]))
    _write_parquet_files(jobs)


def _write_parquet_files(jobs: Iterable[tuple[Any, Path]], **options: Any) -> None:
    """Write Arrow tables (or functions making them, called in the writer) to parquet files, each
    atomically, on all cores: pyarrow and DuckDB release the GIL."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.parquet as pq

    def write(job: tuple[Any, Path]) -> None:
        table, target = job
        table = table() if callable(table) else table
        tmp = target.with_name(f".{target.name}.tmp")
        pq.write_table(table, tmp, compression="zstd", **options)
        tmp.replace(target)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(write, jobs))


def _indicators_in(part: Path) -> list[str]:
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    values = pc.unique(pq.read_table(part, columns=["indicator"])["indicator"]).to_pylist()
    return sorted(v for v in values if v is not None)


def _part_sql(kind: str) -> str:
    return _strip_comments(load_sql(f"{kind}_parts"))


@cache
def _facts_sql_digest() -> str:
    """Digest of the queries the facts derive from: facts built by other code are rebuilt."""
    names = [f"{k}_parts" for k in PART_KINDS] + list(FACTS) + ["citizen_suppression"]
    return hashlib.sha256("\0".join(load_sql(n) for n in names).encode()).hexdigest()[:16]

def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))

def _drop_relation(con: duckdb.DuckDBPyConnection, name: str, *, unless: str) -> None:
    """Drop ``name`` if it exists as another kind than ``unless`` (``VIEW`` or ``TABLE``): a store whose
    last dataset was removed turns views over files into typed empty tables, and the next import turns
    them back. A relation of the same kind is left to ``CREATE OR REPLACE``, which swaps it in one
    step, so a reader in another thread never finds it missing."""
    rows = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()
    row = rows[0] if rows else None  # fetchall: an unfinished result would block the next con.sql
    if row and (row[0] == "VIEW") != (unless == "VIEW"):
        con.execute(f"DROP {'VIEW' if row[0] == 'VIEW' else 'TABLE'} {name}")
def _readable_parquet(path: Path) -> bool:
    """True when ``path`` is a parquet file whose footer can be read (a truncated file's cannot)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pq.read_metadata(path)
    except (OSError, pa.ArrowException):
        return False
    return True

def _sql_path(p: Path) -> str:
    """A path quoted for COPY ... TO (DuckDB binds no parameters in COPY or view definitions)."""
    return str(p).replace("'", "''")


def _sql_list(paths: list[str]) -> str:
    """A quoted list literal of file paths the store found itself (views cannot take parameters)."""
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def refresh(data_dir: str | Path) -> str:
    """Bring the facts of the store at ``data_dir`` up to date after a write.

    Returns ``""``, or why the facts could not be written to disk (they were then built in memory,
    and the next open of the store tries again).
    """
    from .store import GapStore

    store = GapStore(data_dir)
    try:
        return store.facts_error if store.facts_pending else ""
    finally:
        store.close()


class FactsBuilder:
    """Building and reusing the facts of a store; mixed into ``GapStore``, which provides the
    DuckDB connection (``_con``), ``data_dir``, ``k_min``, ``_writable`` and the catalogue tables."""

    _con: Any
    data_dir: Path
    k_min: int
    _new_parts: dict[str, set[str]]
    _verdict_rows: dict[str, str]
    facts_error: str
    facts_pending: bool

    def _writable(self) -> bool:  # provided by GapStore
        raise NotImplementedError

    def _build_facts_safely(self, fp: str, writable: bool) -> None:
        """Build the facts on disk; if that fails (a full disk, an unreadable part), build them in
        memory so that the store still serves, and leave the on-disk facts stale: the next open
        (or, in the dashboard, ``cache.FACTS_RETRY_S`` later) tries again."""
        if not writable:
            self._build_facts(fp, in_memory=True)
            return
        try:
            storage.ensure_free_space(self.data_dir)
            self._build_facts(fp)
            self.facts_error = ""
            return
        except (OSError, duckdb.Error, storage.StoreError, ValueError) as e:
            self.facts_error = storage._short(e)
            log.error("facts of %s could not be written (%s); built in memory instead, retried on the next open",
                      self.data_dir, self.facts_error)
        for kind in PART_KINDS:  # a part that broke the merge is recomputed next time
            self._con.execute(f"DROP TABLE IF EXISTS new_{kind}_parts")
        self._new_parts = {}
        self._build_facts(fp, in_memory=True)
        self.facts_pending = True

    def _verdicts_digest(self) -> str:
        """Digest of every dataset's verdict row: facts built under another quality rule are rebuilt."""
        return hashlib.sha256(json.dumps(self._verdict_rows, sort_keys=True).encode()).hexdigest()[:16]

    def _manifest(self) -> dict[str, Any]:
        try:
            m = json.loads((self.data_dir / "facts" / "manifest.json").read_text())
        except (OSError, ValueError):
            return {}
        return m if isinstance(m, dict) else {}

    def _facts_fingerprint(self, *, repair: bool = False) -> str | None:
        """The fingerprint the facts on disk were built from, or ``None`` when they must be rebuilt:
        another query or threshold, a file missing, or a file whose parquet footer is unreadable
        (deleted when ``repair``, so the rebuild writes it again)."""
        m = self._manifest()
        if m.get("k_min") != self.k_min or m.get("sql") != _facts_sql_digest() or m.get("verdicts") != self._verdicts_digest():
            return None
        sound = True
        for name, kind in FACTS.items():
            shards = m.get("shards", {}).get(name)
            if not isinstance(shards, dict):
                return None
            for sh in shards.values():
                path = self.data_dir / "facts" / kind / str(sh.get("file") if isinstance(sh, dict) else "")
                if not _readable_parquet(path):
                    log.warning("facts file %s/%s is missing or unreadable: rebuilding the facts", kind, path.name)
                    sound = False
                    if repair:
                        try:
                            path.unlink(missing_ok=True)
                        except OSError as e:  # e.g. a folder in its place: the rebuild reports it
                            log.warning("cannot remove %s: %s", path.name, e)
        return m.get("fingerprint") if sound else None

    def _build_facts(self, fp: str, *, in_memory: bool = False) -> None:
        """Precompute the facts in two stages: per-dataset parts, then a merge per indicator.

        Parts (``sql/*_parts.sql``) depend on one dataset only; the merged facts are kept as one
        file per indicator. On disk both are reused while what they derive from is unchanged, so
        a refresh after an import reads only the new dataset's rows and re-merges only the
        indicators that dataset touches (benchmarks/RESULTS.md). Read-only stores build
        everything in memory.
        """
        t0 = time.perf_counter()
        con = self._con
        if in_memory or not self._writable():
            con.execute("CREATE OR REPLACE VIEW part_observations AS SELECT * FROM observations")
            for kind in PART_KINDS:
                _drop_relation(con, f"{kind}_parts", unless="TABLE")
                con.execute(f"CREATE OR REPLACE TABLE {kind}_parts AS {_part_sql(kind)}")
            for name in FACTS:
                sql = self._merge_sql(name)
                table = con.sql(f"SELECT * FROM ({sql}) {_FACTS_ORDER[name]}",
                                params={"k_min": self.k_min} if "$k_min" in sql else None).to_arrow_table()
                con.register("_facts_tmp", _unique_facts(con, table, name))
                _drop_relation(con, name, unless="TABLE")
                con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _facts_tmp")
                con.unregister("_facts_tmp")
                con.execute("DROP TABLE IF EXISTS citizen_round")
            log.info("facts built in memory in %.2f s", time.perf_counter() - t0)
            return
        facts_dir = self.data_dir / "facts"
        facts_dir.mkdir(exist_ok=True)
        for legacy in FACTS:  # one file per fact table, before facts were kept per indicator
            (facts_dir / f"{legacy}.parquet").unlink(missing_ok=True)
        old = self._manifest()
        reusable = old.get("sql") == _facts_sql_digest() and old.get("k_min") == self.k_min
        parts, n_parts = self._build_parts(facts_dir / "parts", old.get("parts", {}) if reusable else {})
        t1 = time.perf_counter()
        shards: dict[str, dict[str, Any]] = {}
        merged = 0
        try:
            for name, kind in FACTS.items():
                before = old.get("shards", {}).get(name, {}) if reusable else {}
                shards[name], n = self._merge_shards(name, kind, parts[kind], before)
                merged += n
                con.execute(f"DROP TABLE IF EXISTS new_{kind}_parts")  # memory back before the next merge
        finally:
            for kind in self._new_parts:
                con.execute(f"DROP TABLE IF EXISTS new_{kind}_parts")
            self._new_parts = {}
        storage.atomic_write_bytes(facts_dir / "manifest.json", json.dumps(
            {"fingerprint": fp, "k_min": self.k_min, "sql": _facts_sql_digest(), "verdicts": self._verdicts_digest(),
             "parts": {p.name: inds for kind_parts in parts.values() for p, inds in kind_parts},
             "shards": shards}, indent=1, sort_keys=True).encode() + b"\n")
        log.info("facts built in %.2f s: %d dataset part(s) computed in %.2f s, %d indicator file(s) merged "
                 "in %.2f s", time.perf_counter() - t0, n_parts, t1 - t0, merged, time.perf_counter() - t1)

    def _build_parts(self, parts_dir: Path, known: dict[str, list[str]]
                     ) -> tuple[dict[str, list[tuple[Path, list[str]]]], int]:
        """Each dataset's part file (computed if new or changed) with the indicators it holds.

        A part's file name carries a digest of what it derives from (the dataset's metadata, which
        holds its content hash and sequence; the group codes; the areas, for citizen points; the
        SQL), so a stale part is never reused. Returns the parts per kind and how many were computed.
        """
        parts_dir.mkdir(exist_ok=True)
        groups = storage.catalogue_path(self.data_dir, "groups").read_bytes()
        areas = storage.areas_digest(self.data_dir).encode()
        out: dict[str, list[tuple[Path, list[str]]]] = {kind: [] for kind in PART_KINDS}
        missing: dict[str, dict[str, Path]] = {kind: {} for kind in PART_KINDS}
        for d in storage.dataset_dirs(self.data_dir):
            meta = (d / "dataset.json").read_bytes()
            kind = json.loads(meta).get("source_kind")
            if kind not in out:
                continue
            verdict = self._verdict_rows.get(d.name, "").encode() if kind == "citizen" else b""
            key = hashlib.sha256(b"\0".join([meta, groups, areas, _part_sql(kind).encode(), verdict])).hexdigest()[:16]
            target = parts_dir / f"{kind}-{d.name}-{key}.parquet"
            if target.is_file() and not _readable_parquet(target):
                log.warning("facts part %s is unreadable: computing it again", target.name)
                target.unlink(missing_ok=True)
                known.pop(target.name, None)
            if not target.is_file():
                missing[kind][d.name] = target
            out[kind].append((target, known.get(target.name)))
        computed = 0
        for kind, targets in missing.items():
            if targets:  # all new datasets of a kind in one query (grouped by dataset), then split
                computed += len(targets)
                self._write_parts(kind, targets)
        for kind, kind_parts in out.items():
            out[kind] = [(p, inds if isinstance(inds, list) else _indicators_in(p)) for p, inds in kind_parts]
        keep = {p.name for kind_parts in out.values() for p, _ in kind_parts}
        for old in parts_dir.iterdir():
            if old.name not in keep:
                old.unlink(missing_ok=True)
        return out, computed

    def _write_parts(self, kind: str, targets: dict[str, Path]) -> None:
        """Compute the parts of the given datasets (id -> part file) and write one file each.

        All new datasets of a kind go through one query into the table ``new_<kind>_parts``, which
        the merge then reads instead of the files just written (dropped after the build).
        """
        files = [str(storage.datasets_dir(self.data_dir) / ds / "observations.parquet") for ds in targets]
        self._con.execute("CREATE OR REPLACE VIEW part_observations AS SELECT * FROM "
                          f"read_parquet({_sql_list(files)}, union_by_name = true)")
        self._con.execute(f"CREATE OR REPLACE TABLE new_{kind}_parts AS {_part_sql(kind)}")
        def part(ds: str) -> Any:
            cur = self._con.cursor()
            try:
                return cur.sql(f"SELECT * FROM new_{kind}_parts WHERE dataset_id = $ds", params={"ds": ds}).to_arrow_table()
            finally:
                cur.close()

        # one dataset's part in memory per writer at a time; without dictionaries: 2x faster to write, as small
        _write_parquet_files((((lambda ds=ds: part(ds)), target) for ds, target in targets.items()), use_dictionary=False)
        self._new_parts[kind] = {t.name for t in targets.values()}

    def _merge_shards(self, name: str, kind: str, parts: list[tuple[Path, list[str]]],
                      before: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Write the merged facts of every indicator whose parts changed; point the view at all.

        Returns the manifest entry (indicator -> file and the parts it came from) and how many
        indicator files were written.
        """
        import pyarrow.parquet as pq

        con = self._con
        shard_dir = self.data_dir / "facts" / kind
        shard_dir.mkdir(exist_ok=True)
        deps: dict[str, list[str]] = {}
        for path, inds in parts:
            for ind in inds:
                deps.setdefault(ind, []).append(path.name)
        shards = {ind: {"file": _shard_file(ind), "parts": sorted(names)} for ind, names in sorted(deps.items())}
        todo = [ind for ind, sh in shards.items()
                if before.get(ind) != sh or not (shard_dir / sh["file"]).is_file()]
        if todo:
            new = self._new_parts.get(kind, set())
            files = sorted({str(p) for p, inds in parts if set(inds) & set(todo) and p.name not in new})
            sources = [f"SELECT * FROM new_{kind}_parts"] if new else []
            sources += [f"SELECT * FROM read_parquet({_sql_list(files)})"] if files else []
            _drop_relation(con, f"{kind}_parts", unless="VIEW")
            con.execute(f"CREATE OR REPLACE VIEW {kind}_parts AS {' UNION ALL BY NAME '.join(sources)}")
            sql = _strip_comments(load_sql(name))
            params: dict[str, Any] = {"k_min": self.k_min} if "$k_min" in sql else {}
            if len(todo) < len(shards):  # a few indicators: the others' rows are dropped early
                sql = f"SELECT * FROM ({sql}) WHERE list_contains($todo, indicator)"
                params["todo"] = todo
            if name == "citizen_facts":  # materialised with its parameters (complementary suppression)
                sql, params = self._merge_sql(name, sql, params), {}
            cur = self._con.cursor()
            try:
                # a full sort costs ~0.5 s per million rows: only small stores (the committed sample)
                # are sorted completely, so their files are byte-stable; large ones by indicator only
                rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
                if new:
                    rows += con.execute(f"SELECT count(*) FROM new_{kind}_parts").fetchall()[0][0]
                order = _FACTS_ORDER[name] if rows <= FULL_SORT_MAX_ROWS else "ORDER BY indicator ASC NULLS LAST"
                table = cur.sql(f"SELECT * FROM ({sql}) {order}", params=params or None).to_arrow_table()
                table = _unique_facts(con, table, name)
            finally:
                cur.close()
                con.execute("DROP TABLE IF EXISTS citizen_round")
            _write_shards(table, shard_dir, shards)
        keep = {sh["file"] for sh in shards.values()}
        for old in shard_dir.iterdir():
            if old.name not in keep:
                old.unlink(missing_ok=True)
        files = [str(shard_dir / sh["file"]) for sh in shards.values()]
        if files:
            _drop_relation(con, name, unless="VIEW")
            con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({_sql_list(files)})")
        else:
            self._empty_facts(name, kind)
        return shards, len(todo)

    def _merge_sql(self, name: str, sql: str | None = None, params: dict[str, Any] | None = None) -> str:
        """The query of one merged facts table; for the citizen facts, the merge is materialised
        and complementary suppression (``sql/citizen_suppression.sql``) run on it until a round
        hides nothing more, so every page, export and brief reads the same protected figures."""
        sql = sql if sql is not None else _strip_comments(load_sql(name))
        if name != "citizen_facts":
            return sql
        con = self._con
        params = params if params is not None else ({"k_min": self.k_min} if "$k_min" in sql else {})
        con.execute(f"CREATE OR REPLACE TABLE citizen_round AS {sql}", params or None)
        step = _strip_comments(load_sql("citizen_suppression"))
        count = "SELECT count(*) FILTER (WHERE suppressed) FROM citizen_round"
        hidden = con.execute(count).fetchall()[0][0]
        for _ in range(SUPPRESSION_MAX_ROUNDS):
            con.execute(f"CREATE OR REPLACE TABLE citizen_next AS {step}")
            con.execute("DROP TABLE citizen_round")
            con.execute("ALTER TABLE citizen_next RENAME TO citizen_round")
            now = con.execute(count).fetchall()[0][0]
            if now == hidden:
                break
            log.info("complementary suppression: %d more citizen figure(s) hidden", now - hidden)
            hidden = now
        else:
            raise RuntimeError("complementary suppression did not settle")  # cannot happen: rounds only add
        return "SELECT * FROM citizen_round"

    def _empty_facts(self, name: str, kind: str) -> None:
        """Typed, empty facts (no dataset of this kind): the merge over no parts."""
        con = self._con
        con.execute("CREATE OR REPLACE VIEW part_observations AS SELECT * FROM observations LIMIT 0")
        _drop_relation(con, f"{kind}_parts", unless="TABLE")
        con.execute(f"CREATE OR REPLACE TABLE {kind}_parts AS {_part_sql(kind)}")
        sql = _strip_comments(load_sql(name))
        _drop_relation(con, name, unless="TABLE")
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}", {"k_min": self.k_min} if "$k_min" in sql else {})
