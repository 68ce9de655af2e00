"""Architecture rules that keep GapLens portable: the core runs without Streamlit, settings are
documented, the coverage SQL stays in the portable subset of DESIGN.md, and the stored parquet
types are ones Apache Spark reads."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from sqlglot.errors import ErrorLevel
from sqlglot.tokens import Token, TokenType

from data_layers import docs, settings

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "data_layers"
SQL_FILES = sorted((PACKAGE / "sql").glob("*.sql"))
CACHE_ADAPTER = "data_layers.cache"  # the one module allowed to import Streamlit
STREAMLIT_IMPORT = re.compile(r"^\s*(import streamlit|from streamlit)", re.MULTILINE)

IMPORT_EVERYTHING_WITHOUT_STREAMLIT = f"""
import importlib, pkgutil, sys
sys.modules["streamlit"] = None  # any import of streamlit now raises ImportError
import data_layers
names = []
for m in pkgutil.walk_packages(data_layers.__path__, "data_layers.",
                               onerror=lambda name: (_ for _ in ()).throw(ImportError(name))):
    if m.name == {CACHE_ADAPTER!r} or m.name.endswith("__main__"):
        continue
    importlib.import_module(m.name)
    names.append(m.name)
print(len(names), ",".join(sorted(names)))
"""


def test_core_imports_without_streamlit():
    r = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING_WITHOUT_STREAMLIT], cwd=ROOT,
                       capture_output=True, text=True, timeout=180, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    count, names = r.stdout.strip().split(" ", 1)
    assert int(count) >= 10, names
    for core in ("data_layers.store", "data_layers.storage", "data_layers.cli", "data_layers.sample", "data_layers.docs"):
        assert core in names.split(",")


def test_at_most_one_module_imports_streamlit():
    importers = sorted(str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py")
                       if STREAMLIT_IMPORT.search(p.read_text(encoding="utf-8")))
    assert len(importers) <= 1, importers
    assert importers in ([], ["data_layers/cache.py"])


def test_every_setting_is_documented():
    settings_doc = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for s in settings.SETTINGS:
        for text, where in ((settings_doc, "docs/settings.md"), (readme, "README.md")):
            assert f"`{s.name}`" in text and f"`{s.env}`" in text, f"{s.name} not documented in {where}"
            assert docs._cell(s.help) in text, f"help of {s.name} out of date in {where}"


def test_generated_docs_are_up_to_date():
    stale = [str(p.relative_to(ROOT)) for p, text in docs.rendered_files().items()
             if not p.is_file() or p.read_text(encoding="utf-8") != text]
    assert not stale, f"out of date: {stale}; run `make docs`"


def test_readme_quick_start_has_exactly_two_commands_and_ci_runs_the_test_one():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"^#+ *quick start", line, re.IGNORECASE))
    commands, in_code = [], False
    for line in lines[start + 1:]:
        if re.match(r"^#+ ", line) and not in_code:
            break
        if line.startswith("```"):
            in_code = not in_code
        elif in_code and line.strip():
            commands.append(line.strip().removeprefix("$ "))
    assert commands == ["make run", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.MULTILINE) and "set -euo pipefail" in ci
    assert (ROOT / ".ci" / "run").stat().st_mode & 0o111


# --- the portable SQL subset ----------------------------------------------------------------------

def tokens(sql: str) -> list[Token]:
    return [t for t in sqlglot.tokenize(sql, read="duckdb") if t.token_type != TokenType.SEMICOLON]


def order_by_items(toks: list[Token]) -> list[list[Token]]:
    """The items of every ORDER BY (nested ones too), split at its own top-level commas.

    Token-based, so string literals such as ``','`` stay whole.
    """
    stop = {TokenType.LIMIT, TokenType.OFFSET, TokenType.UNION, TokenType.EXCEPT, TokenType.INTERSECT}
    items: list[list[Token]] = []
    for start, tok in enumerate(toks):
        if tok.token_type != TokenType.ORDER_BY:
            continue
        depth, item = 0, []
        for t in toks[start + 1:]:
            kind = t.token_type
            if kind == TokenType.R_PAREN and depth == 0:
                break
            if depth == 0 and kind in stop:
                break
            if depth == 0 and kind == TokenType.COMMA:
                items.append(item)
                item = []
                continue
            depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(kind, 0)
            item.append(t)
        if item:
            items.append(item)
    return items


def nulls_explicit(item: list[Token]) -> bool:
    """True when the item itself (not a nested call inside it) says NULLS FIRST or NULLS LAST."""
    depth, words = 0, []
    for t in item:
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(t.token_type, 0)
        if depth == 0:
            words.append(t.text.upper())
    return any(a == "NULLS" and b in ("FIRST", "LAST") for a, b in itertools.pairwise(words))


def _text(item: list[Token]) -> str:
    return " ".join(t.text for t in item)


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.name)
def test_sql_transpiles_to_spark(path):
    sql = path.read_text(encoding="utf-8")
    out = sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE)
    assert len(out) == 1 and out[0].strip()


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.name)
def test_sql_orders_nulls_explicitly(path):
    items = order_by_items(tokens(path.read_text(encoding="utf-8")))
    for item in items:
        assert nulls_explicit(item), f"{path.name}: ORDER BY item without NULLS FIRST/LAST: {_text(item)}"


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.name)
def test_sql_divides_only_through_nullif(path):
    toks = tokens(path.read_text(encoding="utf-8"))
    for k, t in enumerate(toks):
        if t.token_type == TokenType.SLASH:
            nxt = toks[k + 1].text.upper() if k + 1 < len(toks) else ""
            assert nxt == "NULLIF", f"{path.name}: division not guarded by NULLIF near line {t.line}"


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.name)
def test_sql_names_views_not_files(path):
    sql = path.read_text(encoding="utf-8").lower()
    for forbidden in ("read_parquet(", "read_csv", ".parquet'", ".csv'", "glob("):
        assert forbidden not in sql, f"{path.name} reads a file path ({forbidden})"


def test_portability_checks_catch_violations():
    """The checks above are not vacuous: they flag a bad query, nested ORDER BYs included."""
    bad = "SELECT a / b FROM t ORDER BY a ASC, string_agg(x, ',' ORDER BY x NULLS LAST) DESC, c NULLS FIRST"
    toks = tokens(bad)
    items = order_by_items(toks)
    assert [_text(i) for i in items] == ["a ASC", "string_agg ( x , , ORDER BY x NULLS LAST ) DESC",
                                         "c NULLS FIRST", "x NULLS LAST"]
    assert [nulls_explicit(i) for i in items] == [False, False, True, True]
    slash = next(k for k, t in enumerate(toks) if t.token_type == TokenType.SLASH)
    assert toks[slash + 1].text.upper() != "NULLIF"


# --- stored types that Spark reads ----------------------------------------------------------------

def _forbidden(t: pa.DataType) -> str | None:
    """Why a stored type would trouble Spark (None when fine)."""
    if pa.types.is_timestamp(t) and t.unit == "ns":
        return "TIMESTAMP_NS"
    if pa.types.is_unsigned_integer(t):
        return "unsigned integer"
    if pa.types.is_duration(t) or pa.types.is_interval(t):
        return "INTERVAL"
    if pa.types.is_decimal(t) and t.precision > 38:
        return "HUGEINT-sized decimal"
    if pa.types.is_null(t):
        return "null type (a column with no values)"
    if isinstance(t, pa.ExtensionType) and "uuid" in t.extension_name.lower():
        return "UUID"
    if pa.types.is_fixed_size_binary(t) and t.byte_width == 16:
        return "UUID-like fixed binary(16)"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _forbidden(t.value_type)
    if pa.types.is_struct(t):
        return next((r for r in (_forbidden(t.field(i).type) for i in range(t.num_fields)) if r), None)
    return None


def test_stored_parquet_types_are_spark_readable(sample_dir):
    files = sorted(sample_dir.rglob("*.parquet"))
    assert len(files) >= 3 + 7 + 2
    for path in files:
        for field in pq.read_schema(path):
            why = _forbidden(field.type)
            assert why is None, f"{path.relative_to(sample_dir)}: column {field.name} is {why}"
        for col in pq.ParquetFile(path).schema:
            logical = str(col.logical_type)
            assert "UUID" not in logical and "Interval" not in logical, (path.name, col.name, logical)
            assert not re.search(r"Int\(bitWidth=\d+, isSigned=false\)", logical), (path.name, col.name, logical)
            assert not re.search(r"Timestamp\(.*timeUnit=nanoseconds", logical), (path.name, col.name, logical)
            assert col.physical_type != "INT96", (path.name, col.name)


def test_type_check_is_not_vacuous():
    assert _forbidden(pa.timestamp("ns")) and _forbidden(pa.uint32()) and _forbidden(pa.null())
    assert _forbidden(pa.duration("s")) and _forbidden(pa.decimal128(38, 0)) is None
    assert _forbidden(pa.string()) is None and _forbidden(pa.timestamp("us", tz="UTC")) is None
