"""The coverage facts, built by DuckDB (the default) or by Apache Spark: one seam, one layout.

The facts are the portable queries of ``data_layers/sql`` (DESIGN.md, "Portability of the coverage
queries"). Either engine reads the same inputs, the store's catalogue tables (made by
:class:`~data_layers.store.GapStore`, so the Python-derived ones such as the age bands and the area
ancestors are computed once, in one place) and the observations' parquet files, and writes the facts
in the layout the dashboard reads::

    OUT/manifest.json                       fingerprint of the store they were built from, k_min, SQL digest
    OUT/official/<indicator file>.parquet   one file per indicator (store._shard_file), fully ordered
    OUT/citizen/<indicator file>.parquet

``OUT`` defaults to the store's own ``facts`` folder, where the dashboard finds them without
rebuilding; nothing above the facts knows which engine built them.

On Spark each ``sql/<name>.sql`` becomes a temporary view of that name, computed after the views
it reads: another ``.sql`` file of the same name first (so a new query file is picked up by name,
never listed here), else a table of the store handed over from DuckDB, else the observations,
which Spark reads from the parquet files (local paths or any URI Spark reads). The DuckDB text is
transpiled with sqlglot (``arg_max`` becomes ``max_by``, ``$k_min`` a named parameter ``:k_min``,
bound and never pasted).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import schema, settings, storage
from .facts import (
    _FACTS_ORDER,
    FACTS,
    SQL_DIR,
    SUPPRESSION_MAX_ROUNDS,
    _facts_sql_digest,
    _shard_file,
    _strip_comments,
    _write_shards,
)
from .store import GapStore

ROUND_VIEW = "citizen_round"  # the citizen facts of the current suppression round, as sql/citizen_suppression.sql reads them

log = logging.getLogger(__name__)

ENGINES = ("duckdb", "spark")
# Relations the facts queries read that are not tables of the store: Spark reads them from the
# observations' parquet files (the one input too large to pass through the driver).
OBSERVATION_VIEWS = ("observations", "part_observations")
# Shuffle partitions per local core: Spark's default of 200 costs seconds of task overhead on one
# machine for nothing; adaptive execution coalesces further.
LOCAL_SHUFFLE_PARTITIONS_PER_CORE = 4
# The shard file of an indicator in Spark SQL: the same name as store._shard_file (a test holds
# them equal on awkward codes; the build checks every file it wrote against it too).
_SPARK_SHARD = ("concat(substring(regexp_replace(indicator, '[^0-9A-Za-z._-]', '_'), 1, 40), '-', "
                "substring(sha2(indicator, 256), 1, 8), '.parquet')")
_STAGING = "_spark-staging"


class FactsError(Exception):
    """A facts build that cannot run (missing engine, unknown input or parameter): the message says why."""


@dataclass
class FactsResult:
    """What a build wrote: files and rows per kind (``official``, ``citizen``), and its times."""

    engine: str
    out: str
    files: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    startup_seconds: float = 0.0  # Spark's session start (JVM and context), apart from the build

    def summary(self) -> str:
        parts = ", ".join(f"{self.rows[k]} {k} facts in {self.files[k]} files" for k in self.files)
        start = f" (+ {self.startup_seconds:.1f} s Spark start-up)" if self.startup_seconds else ""
        return f"{parts or 'no facts'} written to {self.out} by {self.engine} in {self.seconds:.1f} s{start}"


# --- the inputs: one implementation, the store's ------------------------------------------------

class FactsInputs(GapStore):
    """A store opened for the inputs of its facts only (no facts are read or built on opening).

    The catalogue tables, ``areas``, ``area_ancestors`` and the age bands of ``group_codes`` are
    made by the store's own code, so every engine reads exactly the same inputs.
    """

    def __init__(self, data_dir: str | Path | None = None) -> None:
        super().__init__(data_dir, rebuild_facts=False)

    def refresh(self) -> None:
        # the fingerprint first: a change during the build makes the written facts look stale, not fresh
        self.version = storage.fingerprint(self.data_dir)
        with self._lock:
            self._load_inputs()

    def build_in_memory(self) -> None:
        """The store's own facts build (``GapStore._build_facts``), in memory: tables named after the queries."""
        self._build_facts(self.version)

    def arrow(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        """A query's result as an Arrow table (no row cap: facts and catalogue tables, not user queries)."""
        cur = self._con.cursor()
        try:
            return cur.sql(sql, params=params or None).to_arrow_table()
        finally:
            cur.close()

    def has_relation(self, name: str) -> bool:
        cur = self._con.cursor()
        try:
            return cur.execute("SELECT count(*) FROM (SELECT table_name AS name FROM duckdb_tables() UNION ALL "
                               "SELECT view_name FROM duckdb_views() WHERE NOT internal) WHERE name = $n",
                               {"n": name}).fetchall()[0][0] > 0
        finally:
            cur.close()

    def observation_files(self) -> list[Path]:
        return [d / "observations.parquet" for d in storage.dataset_dirs(self.data_dir)]


def query_text(name: str) -> str:
    """The text of ``sql/<name>.sql`` without comment lines (read each time: files are small, and new ones appear)."""
    return _strip_comments((SQL_DIR / f"{name}.sql").read_text(encoding="utf-8"))


def query_params(name: str, sql: str, inputs: GapStore) -> dict[str, Any]:
    """Values of the ``$name`` parameters a facts query uses, as the store binds them."""
    known = {"k_min": inputs.k_min}
    wanted = sorted(set(re.findall(r"\$([A-Za-z_]\w*)", sql)))
    unknown = [p for p in wanted if p not in known]
    if unknown:
        raise FactsError(f"sql/{name}.sql uses parameter(s) {', '.join('$' + p for p in unknown)} that the facts "
                         f"build does not bind (known: {', '.join('$' + k for k in known)})")
    return {p: known[p] for p in wanted}


def referenced_relations(sql: str) -> list[str]:
    """Tables and views a query reads (its own CTEs excluded), in order of first mention."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    seen: dict[str, None] = {}
    for t in tree.find_all(exp.Table):
        if t.name not in ctes:
            seen.setdefault(t.name, None)
    return list(seen)


def to_spark_sql(sql: str) -> str:
    """DuckDB text to Spark SQL (``arg_max`` -> ``max_by``, ``$p`` -> ``:p``); unsupported constructs raise."""
    import sqlglot
    from sqlglot.errors import ErrorLevel

    return sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE)[0]


def facts_queries() -> list[str]:
    """The ``.sql`` files a facts build runs: the facts tables and, by name, every query they read."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        for ref in referenced_relations(query_text(name)):
            if (SQL_DIR / f"{ref}.sql").is_file():
                visit(ref)
        order.append(name)

    for name in FACTS:
        visit(name)
    return order


# --- the writer: one layout for every engine -------------------------------------------------

def _manifest(inputs: GapStore, shards: dict[str, dict[str, Any]]) -> bytes:
    """The manifest the store checks before reusing facts (see GapStore._facts_fingerprint): the
    store's fingerprint, k_min, the SQL digest and the digest of the datasets' quality verdicts.

    No part files are listed: the store's next incremental build recomputes them and re-merges
    every indicator once.
    """
    return json.dumps({"fingerprint": inputs.version, "k_min": inputs.k_min, "sql": _facts_sql_digest(),
                       "verdicts": inputs._verdicts_digest(), "parts": {}, "shards": shards},
                      indent=1, sort_keys=True).encode() + b"\n"


def _is_local(out: str) -> bool:
    return "://" not in out or out.startswith("file://")


def _local(out: str) -> Path:
    return Path(out.removeprefix("file://")) if out.startswith("file://") else Path(out)


def _default_out(data_dir: Path) -> str:
    return str(data_dir / "facts")


@contextmanager
def _store_lock_if_own(data_dir: Path, out: str) -> Iterator[None]:
    """Hold the store's lock while writing into its own facts folder (readers and imports wait)."""
    own = _is_local(out) and _local(out).resolve() == (data_dir / "facts").resolve()
    if own and settings.get("read_only"):
        raise FactsError("the store is read-only (GAPLENS_READ_ONLY): write the facts elsewhere with --out")
    with storage.store_lock(data_dir) if own else nullcontext():
        yield


# --- DuckDB ----------------------------------------------------------------------------------

def _build_duckdb(data_dir: Path, out: str, result: FactsResult) -> None:
    if not _is_local(out):
        raise FactsError(f"--out {out}: the DuckDB engine writes to a local folder (Spark writes to URIs)")
    target = _local(out)
    if target.resolve() == (data_dir / "facts").resolve():
        # the store's own build: incremental (per-dataset parts, only changed indicators merged)
        store = GapStore(data_dir)
        try:
            shards = store._manifest().get("shards", {})
            for name, kind in FACTS.items():
                result.files[kind] = len(shards.get(name, {}))
                result.rows[kind] = int(store.query(f"SELECT count(*) AS n FROM {name}")["n"].iloc[0])
        finally:
            store.close()
        return
    inputs = FactsInputs(data_dir)
    try:
        inputs.build_in_memory()
        with _store_lock_if_own(data_dir, out):
            shards: dict[str, dict[str, Any]] = {}
            for name, kind in FACTS.items():
                table = inputs.arrow(f"SELECT * FROM {name} {_FACTS_ORDER[name]}")
                codes = sorted(set(table.column("indicator").to_pylist()) - {None})
                shards[name] = {ind: {"file": _shard_file(ind), "parts": []} for ind in codes}
                kind_dir = target / kind
                kind_dir.mkdir(parents=True, exist_ok=True)
                _write_shards(table, kind_dir, shards[name])
                _remove_others(kind_dir, {s["file"] for s in shards[name].values()})
                result.files[kind], result.rows[kind] = len(codes), table.num_rows
            storage.atomic_write_bytes(target / "manifest.json", _manifest(inputs, shards))
    finally:
        inputs.close()


def _remove_others(kind_dir: Path, keep: set[str]) -> None:
    """Facts files of indicators no longer in the store (a rebuild over an older folder)."""
    for old in kind_dir.iterdir():
        if old.name not in keep and old.suffix == ".parquet":
            old.unlink(missing_ok=True)


# --- Spark -----------------------------------------------------------------------------------

def spark_session(master: str | None = None, *, app_name: str = "gaplens-facts") -> Any:
    """A Spark session: ``master`` if given, else the one spark-submit set, else local on every core.

    Local sessions bind to 127.0.0.1 without a web UI (no outside network, no port to clash), and
    use few shuffle partitions (Spark's default of 200 is tuned for clusters).
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:
        raise FactsError("the Spark engine needs PySpark: pip install -r requirements-spark.txt") from e
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        raise FactsError("the Spark engine needs Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless)")
    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ  # started by spark-submit: its master and conf rule
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    local = (master or ("" if under_submit else "local")).startswith("local")
    if local:
        m = re.fullmatch(r"local\[(\d+)\]", master or "")
        cores = int(m.group(1)) if m else (os.cpu_count() or 2)
        builder = (builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.shuffle.partitions", str(cores * LOCAL_SHUFFLE_PARTITIONS_PER_CORE)))
    spark = (builder.config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
             .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
             .getOrCreate())
    spark.sparkContext.setLogLevel("WARN")
    return spark


class SparkFacts:
    """The facts queries as Spark temporary views over one store's inputs.

    :meth:`view` runs ``sql/<name>.sql`` after the relations it reads: another query file of
    that name (computed once, kept in memory because the merge reads it twice), the observations
    (read by Spark from the parquet files), or a table of the store (handed over from DuckDB).
    """

    def __init__(self, spark: Any, inputs: FactsInputs, *, data_uri: str | None = None) -> None:
        self.spark = spark
        self.inputs = inputs
        self._views: dict[str, Any] = {}
        self._persisted: list[Any] = []
        files = inputs.observation_files()
        if data_uri:
            uris = [f"{data_uri.rstrip('/')}/{p.relative_to(inputs.data_dir).as_posix()}" for p in files]
        else:
            uris = [p.resolve().as_uri() for p in files]
        if uris:
            obs = spark.read.option("mergeSchema", "true").parquet(*uris)
        else:  # no dataset yet: typed and empty, as the store's own empty table
            import pandas as pd

            empty = pd.DataFrame({c: pd.Series(dtype=object) for c in schema.names(schema.OBSERVATIONS)})
            obs = spark.createDataFrame(storage.to_table(empty, schema.OBSERVATIONS))
        for name in OBSERVATION_VIEWS:
            obs.createOrReplaceTempView(name)
            self._views[name] = obs

    def view(self, name: str, *, _stack: tuple[str, ...] = ()) -> Any:
        """The result of ``sql/<name>.sql`` on Spark, registered as the temporary view ``name``."""
        if name in self._views:
            return self._views[name]
        if name in _stack:
            raise FactsError(f"sql/{name}.sql reads itself through {' -> '.join((*_stack, name))}")
        sql = query_text(name)
        for ref in referenced_relations(sql):
            self._ensure(ref, reader=name, stack=(*_stack, name))
        params = query_params(name, sql, self.inputs)
        df = self.spark.sql(to_spark_sql(sql), args=params or None)
        df.createOrReplaceTempView(name)
        self._views[name] = df
        return df

    def _complementary(self, facts: Any, *, stack: tuple[str, ...]) -> Any:
        """Complementary suppression on Spark as the store does it (GapStore._merge_sql): the round
        in ``sql/citizen_suppression.sql`` run on its own result until it hides nothing more."""
        sql = query_text("citizen_suppression")
        for ref in referenced_relations(sql):
            if ref != ROUND_VIEW:
                self._ensure(ref, reader="citizen_suppression", stack=stack)
        step = to_spark_sql(sql)
        current = facts.localCheckpoint()  # eager: each round reads data, never a growing plan
        current.createOrReplaceTempView(ROUND_VIEW)
        hidden = current.filter("suppressed").count()
        for _ in range(SUPPRESSION_MAX_ROUNDS):
            # the new round's plan is bound to the previous round's data when it is analysed, so
            # pointing the view at it afterwards is safe
            nxt = self.spark.sql(step).localCheckpoint()
            now = nxt.filter("suppressed").count()
            nxt.createOrReplaceTempView(ROUND_VIEW)
            current = nxt
            if now == hidden:
                return current
            hidden = now
        raise FactsError("complementary suppression did not settle")

    def _ensure(self, ref: str, *, reader: str, stack: tuple[str, ...]) -> None:
        if ref in self._views:
            return
        if (SQL_DIR / f"{ref}.sql").is_file():
            df = self.view(ref, _stack=stack).persist()
            df.createOrReplaceTempView(ref)
            self._views[ref] = df
            self._persisted.append(df)
        elif self.inputs.has_relation(ref):
            df = self.spark.createDataFrame(self.inputs.arrow(f'SELECT * FROM "{ref}"'))
            df.createOrReplaceTempView(ref)
            self._views[ref] = df
        else:
            raise FactsError(f"sql/{reader}.sql reads {ref!r}: neither a query file in {SQL_DIR} nor a table of the store")

    def write(self, out: str, result: FactsResult) -> None:
        """Write every facts table in the store's layout, each indicator's file written once, fully ordered.

        Spark writes one folder per indicator file (``partitionBy``), each from one task, so each
        holds one file sorted as the store sorts; the files are then renamed into place through
        Hadoop's file system API (local, HDFS, S3 alike), and the manifest is written last.
        """
        jvm = self.spark._jvm
        conf = self.spark.sparkContext._jsc.hadoopConfiguration()
        hpath = jvm.org.apache.hadoop.fs.Path
        root = hpath(out)
        fs = root.getFileSystem(conf)
        if fs.getScheme() == "file":  # no .crc files beside the facts
            fs = fs.getRaw()
        staging = hpath(root, f"{_STAGING}-{uuid.uuid4().hex[:12]}")
        shards: dict[str, dict[str, Any]] = {}
        try:
            for name, kind in FACTS.items():
                df = self.view(name)
                if name == "citizen_facts":  # as GapStore._merge_sql: the merged facts, then the rounds
                    df = self._complementary(df, stack=(name,))
                order = _FACTS_ORDER[name].removeprefix("ORDER BY ")
                df.createOrReplaceTempView(f"_{name}_out")
                ordered = self.spark.sql(f"SELECT *, {_SPARK_SHARD} AS _shard FROM _{name}_out "
                                         f"DISTRIBUTE BY _shard SORT BY _shard ASC, {order}")
                stage = hpath(staging, kind)
                t0 = time.perf_counter()
                ordered.write.mode("overwrite").option("compression", "zstd").partitionBy("_shard").parquet(stage.toString())
                t1 = time.perf_counter()
                shards[name] = self._publish(fs, hpath, stage, hpath(root, kind), kind, result)
                log.debug("%s: computed and written in %.2f s, moved into place in %.2f s", name, t1 - t0,
                          time.perf_counter() - t1)
            self._put(fs, hpath, hpath(root, "manifest.json"),
                      _manifest(self.inputs, shards))
        finally:
            fs.delete(staging, True)

    def _publish(self, fs: Any, hpath: Any, stage: Any, target: Any, kind: str, result: FactsResult) -> dict[str, Any]:
        """Move each staged indicator file to its place; the manifest entries of the files written."""
        rows = 0
        found: dict[str, str] = {}
        if fs.exists(stage):
            staged = self.spark.read.parquet(stage.toString())
            for r in staged.groupBy("_shard", "indicator").count().collect():
                found[r["indicator"]] = r["_shard"]
                rows += r["count"]
        shards = {ind: {"file": _shard_file(ind), "parts": []} for ind in sorted(found)}
        wrong = [ind for ind in found if found[ind] != shards[ind]["file"]]
        if wrong or len(set(found.values())) != len(found):
            raise FactsError(f"Spark named the {kind} facts files differently from the store for {wrong[:5]}")
        fs.mkdirs(target)
        for ind, sh in shards.items():
            files = [s.getPath() for s in fs.listStatus(hpath(stage, f"_shard={sh['file']}"))
                     if s.getPath().getName().endswith(".parquet")]
            if len(files) != 1:
                raise FactsError(f"Spark wrote {len(files)} files for indicator {ind!r} (expected one)")
            dest = hpath(target, sh["file"])
            fs.delete(dest, False)
            if not fs.rename(files[0], dest):
                raise FactsError(f"could not move {files[0].toString()} to {dest.toString()}")
        keep = {sh["file"] for sh in shards.values()}
        for s in fs.listStatus(target):
            if s.getPath().getName().endswith(".parquet") and s.getPath().getName() not in keep:
                fs.delete(s.getPath(), False)
        result.files[kind], result.rows[kind] = len(shards), rows
        return shards

    @staticmethod
    def _put(fs: Any, hpath: Any, path: Any, data: bytes) -> None:
        """Write a small file atomically where the file system renames atomically (local, HDFS)."""
        tmp = hpath(path.getParent(), f".{path.getName()}.{uuid.uuid4().hex[:8]}.tmp")
        stream = fs.create(tmp, True)
        try:
            stream.write(bytearray(data))
        finally:
            stream.close()
        fs.delete(path, False)
        if not fs.rename(tmp, path):
            raise FactsError(f"could not write {path.toString()}")

    def close(self) -> None:
        """Free the cached intermediate results and drop the views (the session stays, for reuse)."""
        for df in self._persisted:
            df.unpersist()
        for name in list(self._views) + [f"_{n}_out" for n in FACTS]:
            self.spark.catalog.dropTempView(name)
        self._views.clear()
        self._persisted.clear()


# --- the seam --------------------------------------------------------------------------------

def build_facts(data_dir: str | Path | None = None, out: str | Path | None = None, *, engine: str = "duckdb",
                spark_master: str | None = None, spark: Any = None, data_uri: str | None = None) -> FactsResult:
    """Build a store's coverage facts with ``engine`` and write them to ``out``.

    Parameters
    ----------
    data_dir
        The store (as this process sees it): catalogues, areas and dataset metadata are read here.
    out
        Where the facts go (default: the store's own ``facts`` folder). Spark accepts any URI it
        writes (``hdfs://``, ``s3a://``); DuckDB a local folder.
    engine
        ``duckdb`` or ``spark``.
    spark_master, spark
        A Spark master URL for a new session, or a session to reuse (tests share one).
    data_uri
        The store as Spark's executors see it (``s3a://bucket/store``): observations are read
        there; default the local ``data_dir``.

    Examples
    --------
    >>> build_facts("sample_data", "/tmp/facts", engine="spark", spark_master="local[2]")  # doctest: +SKIP
    """
    if engine not in ENGINES:
        raise FactsError(f"engine {engine!r}: expected one of {', '.join(ENGINES)}")
    root = settings.data_dir(data_dir).resolve()
    if not root.is_dir():
        raise FactsError(f"data directory {root} does not exist")
    out_s = str(out) if out is not None else _default_out(root)
    result = FactsResult(engine=engine, out=out_s)
    t0 = time.perf_counter()
    if engine == "duckdb":
        _build_duckdb(root, out_s, result)
    else:
        if spark is None:
            spark = spark_session(spark_master)
            result.startup_seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        inputs = FactsInputs(root)
        try:
            engine_ = SparkFacts(spark, inputs, data_uri=data_uri)
            try:
                with _store_lock_if_own(root, out_s):
                    engine_.write(out_s, result)
            finally:
                engine_.close()
        finally:
            inputs.close()
        t0 = t1
    result.seconds = time.perf_counter() - t0
    log.info("%s", result.summary())
    return result


# --- command line ----------------------------------------------------------------------------

def register(sub: argparse._SubParsersAction) -> None:
    """``python -m data_layers facts``."""
    from .cli import _common

    p = sub.add_parser("facts", help="build the coverage facts with DuckDB (default) or Apache Spark",
                       description="Build the coverage facts from a store's parquet files and write them in the "
                                   "layout the dashboard reads (OUT/official, OUT/citizen, OUT/manifest.json). "
                                   "Both engines write the same files. Spark needs requirements-spark.txt and "
                                   "Java 17; on a cluster run it through spark-submit (README).")
    _common(p)
    p.add_argument("--engine", choices=ENGINES, default="duckdb")
    p.add_argument("--spark-master", metavar="URL", help="Spark master (default: spark-submit's, else local[*])")
    p.add_argument("--data-uri", metavar="URI", help="the store as Spark's executors see it (default: --data-dir)")
    p.add_argument("--out", metavar="DIR", help="facts folder or URI (default: the store's own facts folder)")
    p.set_defaults(func=cmd_facts)


def cmd_facts(args: argparse.Namespace) -> int:
    from .cli import EXIT_OK, UsageError

    if args.engine == "duckdb" and (args.spark_master or args.data_uri):
        raise UsageError("--spark-master and --data-uri go with --engine spark")
    try:
        result = build_facts(args.data_dir, args.out, engine=args.engine, spark_master=args.spark_master,
                             data_uri=args.data_uri)
    except (FactsError, storage.StoreError) as e:
        raise UsageError(str(e)) from e
    print(result.summary())
    return EXIT_OK
