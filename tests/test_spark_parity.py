"""The coverage facts on Apache Spark are the facts on DuckDB: same files, same rows, same order.

Input: the benchmark generator's store at tens of thousands of rows (every status: current, stale,
hidden in a total, missing; several series per indicator; suppressed small cells; revisions
across datasets; intersections; citizen points and area aggregates), plus hand-written datasets
for the edges of the rule: ties between datasets and between a group's codes, age bands inside a
group's interval, citizen cells at and under ``k_min``, a cell with enough respondents but a zero
weight (Spark's ANSI mode raises on a division by zero unless the query guards it), rows
suppressed at source, and indicator codes a file system mangles. Values are compared after normalising types to text, row order included.

Every query the facts build runs (``facts_engine.facts_queries()``, found from the ``.sql``
files themselves) is also compared on its own, so a new query file is covered as soon as the
facts read it. Spark runs ``local[2]`` in one session for the whole test session. Where Java or
PySpark is missing the tests skip with the reason, except in CI, which installs both.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from support import SAMPLE_DIR, _typed_observations, dataset_meta, read_inline_csv

from benchmarks import synth
from data_layers import facts_engine, storage, tidy
from data_layers.facts import FACTS, _shard_file, _strip_comments, load_sql
from data_layers.store import GapStore

pytestmark = [pytest.mark.spark, pytest.mark.slow]

# tens of thousands of rows, generated in about a second (synth.SCALES["tiny"] has 3,800)
PARITY_SCALE = synth.Scale("parity", 30_000, 6_000, 2_000, 24, 6, 1)

# The edges of the rule, on areas of the generated store: {L2} a province cell, {L1} its province,
# {L2B} another cell of that province. Sequences after the generator's, so these datasets are newest.
EDGE_DATASETS = """
kind,     dataset,  indicator,      area_code, period, sex, age,    income_wealth_quantile, value, n,  suppressed, is_point
official, edge-old, 1.2.1,          {L2},      2022,   F,   ,       ,                       41.5,  90, false,      false
official, edge-new, 1.2.1,          {L2},      2022,   F,   ,       ,                       40.5,  90, true,       false
official, edge-new, 1.2.1,          {L2},      2022,   ,    ,       B40,                    30.0,  80, false,      false
official, edge-new, 1.2.1,          {L2},      2022,   ,    ,       Q1,                     25.0,  80, false,      false
official, edge-new, 1.2.1,          {L2},      2023,   ,    Y15T19, ,                       12.0,  50, false,      false
official, edge-new, 1.2.1,          {L2},      2023,   ,    Y18T24, ,                       13.0,  50, false,      false
official, edge-new, 1.2.1,          {L2},      2023,   ,    Y15T29, ,                       14.0,  50, false,      false
official, edge-new, 1.2.1,          {L2},      2023,   ,    ,       ,                       ,      50, false,      false
official, edge-new, 9.z/é ü,        {L1},      2020,   ,    ,       ,                       7.25,  10, false,      false
official, edge-new, 9.z/é ü,        {L1},      2020,   F,   ,       ,                       7.5,   10, false,      false
official, edge-new, 17.99.1.national-extension-with-a-very-long-code, {L1}, 2021, , , ,   3.0,   10, false,      false
citizen,  edge-cgd, 1.2.1,          {L2},      2022,   ,    ,       ,                       60.0,  4,  false,      false
citizen,  edge-cgd, 1.2.1,          {L2B},     2022,   ,    ,       ,                       61.0,  5,  false,      false
citizen,  edge-cgd, 1.2.1,          {L2},      2022,   F,   ,       ,                       62.0,  0,  false,      false
citizen,  edge-cgd, 1.2.1,          {L2},      2022,   F,   ,       ,                       ,      9,  true,       false
citizen,  edge-cgd, 1.2.1,          {L2},      2022,   M,   ,       ,                       ,      9,  true,       false
citizen,  edge-cgd, 1.2.1,          {L2},      2023,   ,    ,       ,                       ,      ,   false,      false
citizen,  edge-cgd, 6.1.1,          {L2},      2023,   ,    ,       ,                       1.0,   ,   false,      true
citizen,  edge-cgd, 6.1.1,          {L2},      2023,   ,    ,       ,                       0.0,   ,   false,      true
citizen,  edge-cgd, 6.1.1,          {L2B},     2023,   ,    ,       ,                       1.0,   ,   false,      true
"""


def _spark_missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed (pip install -r requirements-spark.txt)"
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "Java is not installed (Debian: apt-get install openjdk-17-jre-headless)"
    return None


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for the whole test session (starting one takes about 10 s)."""
    reason = _spark_missing()
    if reason:
        if os.environ.get("CI"):  # CI installs Java and PySpark: a skip there would hide a broken parity
            pytest.fail(reason)
        pytest.skip(reason)
    session = facts_engine.spark_session("local[2]")
    yield session
    session.stop()


def _edge_areas(data_dir: Path) -> dict[str, str]:
    areas = pd.read_parquet(data_dir / "areas" / "level_2.parquet", columns=["code", "parent_code"])
    province = areas["parent_code"].iloc[0]
    cells = areas.loc[areas["parent_code"] == province, "code"].tolist()
    return {"L2": cells[0], "L2B": cells[1], "L1": province}


def _add_edge_datasets(data_dir: Path) -> None:
    text = EDGE_DATASETS.format(**_edge_areas(data_dir))
    obs = read_inline_csv(text)
    first = max(json.loads((d / "dataset.json").read_text())["seq"] for d in storage.dataset_dirs(data_dir)) + 1
    for seq, ds in enumerate(dict.fromkeys(obs["dataset"]), start=first):
        part = obs[obs["dataset"] == ds]
        kind = part["kind"].iloc[0]
        rows = _typed_observations(part.drop(columns=["dataset", "kind"]))
        storage.write_dataset(data_dir, dataset_meta(ds, kind, seq, rows_stored=len(rows)),
                              tidy.finish(rows, dataset_id=ds, source_kind=kind, seq=seq))


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The generated store with the edge datasets, and a copy of the committed sample."""
    root = tmp_path_factory.mktemp("spark-parity")
    synth.generate(root / "synthetic", PARITY_SCALE)
    _add_edge_datasets(root / "synthetic")
    shutil.copytree(SAMPLE_DIR, root / "sample", ignore=shutil.ignore_patterns("boundaries", "facts"))
    return {"synthetic": root / "synthetic", "sample": root / "sample"}


def _normalised(df: pd.DataFrame) -> pd.DataFrame:
    """Values as text, every missing value alike (engines differ in integer width and NULL dtypes)."""
    return df.astype(str).replace({"<NA>": "", "nan": "", "None": "", "NaT": ""}).reset_index(drop=True)


def _assert_same_frames(duck: pd.DataFrame, spark: pd.DataFrame, what: str) -> None:
    assert list(duck.columns) == list(spark.columns), f"{what}: columns differ"
    assert len(duck) == len(spark), f"{what}: {len(duck)} rows on DuckDB, {len(spark)} on Spark"
    a, b = _normalised(duck), _normalised(spark)
    if not a.equals(b):
        diff = (a.fillna("") != b.fillna("")).any(axis=1)
        pytest.fail(f"{what}: {int(diff.sum())} rows differ, first:\n{a[diff].head(3).T}\n{b[diff].head(3).T}")


@pytest.mark.parametrize("store_name", ["synthetic", "sample"])
def test_facts_files_are_identical_on_both_engines(stores, engines, spark, tmp_path, store_name):
    data_dir = stores[store_name]
    duck = facts_engine.build_facts(data_dir, tmp_path / "duckdb", engine="duckdb")
    if store_name == "synthetic":  # the engine the per-query test uses: its parts are computed once
        sprk = facts_engine.FactsResult("spark", str(tmp_path / "spark"))
        engines[1].write(sprk.out, sprk)
    else:
        sprk = facts_engine.build_facts(data_dir, str(tmp_path / "spark"), engine="spark", spark=spark)
    files = sorted(p.relative_to(tmp_path / "duckdb") for p in (tmp_path / "duckdb").rglob("*.parquet"))
    assert files == sorted(p.relative_to(tmp_path / "spark") for p in (tmp_path / "spark").rglob("*.parquet"))
    assert {str(f.parent) for f in files} == set(FACTS.values()), "both kinds of facts written"
    assert duck.rows == sprk.rows and duck.files == sprk.files
    if store_name == "synthetic":
        assert sum(duck.rows.values()) > 20_000, "tens of thousands of facts compared"
        # the zero-weight cell reached the guarded division (NULLIF), on Spark too: no ANSI error, no value
        cgd = pd.read_parquet(tmp_path / "spark" / "citizen" / _shard_file("1.2.1"))
        zero = cgd[(cgd["area_code"] == _edge_areas(data_dir)["L2"]) & (cgd["group_id"] == "women") & (cgd["year"] == 2022)]
        citizen = pd.concat(pd.read_parquet(f) for f in (tmp_path / "spark" / "citizen").glob("*.parquet"))
        assert (citizen["suppression"] == "complementary").any(), "complementary suppression runs on Spark too"
        # k counts the respondents behind the figure shown (none here): the cell is suppressed, on both engines
        assert zero[["n", "suppressed"]].values.tolist() == [[9, True]] and zero["value"].isna().all()
    for f in files:
        _assert_same_frames(pd.read_parquet(tmp_path / "duckdb" / f), pd.read_parquet(tmp_path / "spark" / f), str(f))
    manifests = [json.loads((tmp_path / e / "manifest.json").read_text()) for e in ("duckdb", "spark")]
    assert manifests[0] == manifests[1]
    assert not [p.name for p in (tmp_path / "spark").rglob("*") if "staging" in p.name or p.suffix == ".crc"]


@pytest.fixture(scope="module")
def engines(stores, spark):
    """The synthetic store's inputs with the facts built in DuckDB, and the same queries as Spark views."""
    duck = facts_engine.FactsInputs(stores["synthetic"])
    duck.build_in_memory()
    sprk_inputs = facts_engine.FactsInputs(stores["synthetic"])
    sprk = facts_engine.SparkFacts(spark, sprk_inputs)
    yield duck, sprk
    sprk.close()
    sprk_inputs.close()
    duck.close()


@pytest.mark.parametrize("query", facts_engine.facts_queries())
def test_each_facts_query_gives_the_same_rows(engines, query):
    """Each query's own result, ordered by every column on both sides (parts have no order of their own)."""
    duck, sprk = engines
    sql = _strip_comments(load_sql(query))
    d = duck.arrow(f"SELECT * FROM ({sql}) ORDER BY ALL ASC NULLS LAST",
                   facts_engine.query_params(query, sql, duck)).to_pandas(types_mapper=pd.ArrowDtype)
    df = sprk.view(query)
    s = df.orderBy(*[df[c].asc_nulls_last() for c in df.columns]).toArrow().to_pandas(types_mapper=pd.ArrowDtype)
    assert len(d) > 0, f"{query}: the input exercises the query"
    _assert_same_frames(d, s, f"sql/{query}.sql")


def test_facts_queries_cover_every_query_the_facts_read():
    names = facts_engine.facts_queries()
    assert set(FACTS) <= set(names)
    for name in names:
        for ref in facts_engine.referenced_relations(_strip_comments(load_sql(name))):
            if (facts_engine.SQL_DIR / f"{ref}.sql").is_file():
                assert ref in names[: names.index(name)], f"{ref} is computed before {name}, which reads it"


def test_spark_names_facts_files_as_the_store_does(spark):
    codes = ["1.2.1", "9.z/é ü", "x" * 60, "a:b*c?d", "11.b.1.ÄÖ"]
    rows = spark.createDataFrame([(c,) for c in codes], "indicator string")
    rows.createOrReplaceTempView("_codes")
    got = [r["f"] for r in spark.sql(f"SELECT {facts_engine._SPARK_SHARD} AS f FROM _codes").collect()]
    spark.catalog.dropTempView("_codes")
    assert got == [_shard_file(c) for c in codes]


def test_dashboard_reads_spark_facts_without_rebuilding(stores, spark, tmp_path):
    """Facts written by Spark into a store's own facts folder are used as they are."""
    data_dir = tmp_path / "store"
    shutil.copytree(stores["sample"], data_dir)
    facts_engine.build_facts(data_dir, engine="spark", spark=spark)
    manifest = (data_dir / "facts" / "manifest.json").read_bytes()
    files = {p: p.stat().st_mtime_ns for p in (data_dir / "facts").rglob("*.parquet")}
    store = GapStore(data_dir)
    try:
        cells = store.coverage(level=1, as_of=2024, window=5)
    finally:
        store.close()
    assert (data_dir / "facts" / "manifest.json").read_bytes() == manifest
    assert {p: p.stat().st_mtime_ns for p in (data_dir / "facts").rglob("*.parquet")} == files
    reference = GapStore(stores["sample"], rebuild_facts=False)
    try:
        expected = reference.coverage(level=1, as_of=2024, window=5)
    finally:
        reference.close()
    _assert_same_frames(expected, cells, "coverage at level 1")


def test_a_new_query_file_is_picked_up(stores, spark, tmp_path, monkeypatch):
    """A query file the facts read by name is run on Spark without being listed anywhere."""
    import re

    sql_dir = tmp_path / "sql"
    shutil.copytree(facts_engine.SQL_DIR, sql_dir)
    (sql_dir / "citizen_parts_checked.sql").write_text("-- a new step\nSELECT * FROM citizen_parts WHERE n >= 0\n")
    facts_sql = (sql_dir / "citizen_facts.sql").read_text(encoding="utf-8")
    changed = re.sub(r"\bcitizen_parts\b(?!\.sql)", "citizen_parts_checked", facts_sql)
    assert changed != facts_sql, "citizen_facts.sql reads citizen_parts"
    (sql_dir / "citizen_facts.sql").write_text(changed, encoding="utf-8")
    monkeypatch.setattr(facts_engine, "SQL_DIR", sql_dir)
    names = facts_engine.facts_queries()
    assert names.index("citizen_parts") < names.index("citizen_parts_checked") < names.index("citizen_facts")
    inputs = facts_engine.FactsInputs(stores["sample"])
    engine = facts_engine.SparkFacts(spark, inputs)
    try:
        got = engine.view("citizen_facts").count()
        assert "citizen_parts_checked" in {t.name for t in spark.catalog.listTables()}
    finally:
        engine.close()
        inputs.close()
    reference = facts_engine.FactsInputs(stores["sample"])
    try:
        reference.build_in_memory()
        assert got == reference.arrow("SELECT count(*) AS n FROM citizen_facts").column("n")[0].as_py() > 0
    finally:
        reference.close()
