"""``GapStore``: the one object that owns DuckDB.

It opens an in-memory DuckDB with views over the store's parquet files and small tables for the
catalogues, keeps the derived facts fresh (rebuilt when the store's content fingerprint changes),
and answers every question the pages, the CLI and the exports ask. Every query runs on its own
cursor (DuckDB 2 refuses concurrent use of one connection), with bound parameters, a row cap and
a time limit.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from . import groups, register, schema, settings, storage
from .facts import (  # noqa: F401  (moved there; re-exported for callers of the old names)
    FACT_KEYS,
    FACTS,
    FULL_SORT_MAX_ROWS,
    PART_KINDS,
    SQL_DIR,
    SUPPRESSION_MAX_ROUNDS,
    FactsBuilder,
    _drop_relation,
    _facts_sql_digest,
    _part_sql,
    _readable_parquet,
    _sql_list,
    _sql_path,
    _strip_comments,
    load_sql,
)

log = logging.getLogger(__name__)

ALLOCATOR_FLUSH_THRESHOLD = "16MB"  # see GapStore.__init__


class QueryError(Exception):
    """A query that failed, ran too long or returned too many rows."""


class GapStore(FactsBuilder):
    """Read and query a GapLens store.

    Parameters
    ----------
    data_dir
        The store folder; ``None`` means the configured one (``GAPLENS_DATA_DIR`` or the sample).
    rebuild_facts
        When the facts are stale: ``True`` rebuilds them on disk (if writable), ``False`` builds
        them in memory only (read-only deployments, validation runs).

    Examples
    --------
    >>> store = GapStore()                                     # doctest: +SKIP
    >>> store.coverage(level=1, as_of=2024, window=5).status.value_counts()   # doctest: +SKIP
    """

    def __init__(self, data_dir: str | Path | None = None, *, rebuild_facts: bool = True) -> None:
        self.data_dir = settings.data_dir(data_dir).resolve()
        if not self.data_dir.is_dir():
            raise storage.StoreError(f"data directory {self.data_dir} does not exist")
        self.max_rows: int = settings.get("max_rows")
        self.timeout_s: float = float(settings.get("query_timeout_s"))
        self.k_min: int = settings.get("k_min")
        self._rebuild = rebuild_facts
        self._con = duckdb.connect(":memory:")
        # Hand memory back to the OS soon after a large query: one store serves a dashboard for
        # hours, and by default the allocator keeps each query's peak (benchmarks/RESULTS.md: peak
        # RSS of a full 5,000-area coverage table ~0.87 GB instead of ~1.05 GB).
        self._con.execute(f"SET allocator_flush_threshold = '{ALLOCATOR_FLUSH_THRESHOLD}'")
        self._con.execute("SET allocator_background_threads = true")
        # keep parquet footers between queries (a click opens every indicator's facts file); files
        # are replaced by rename, so a changed file has a new modification time and is read again
        self._con.execute("SET parquet_metadata_cache = true")
        self._lock = threading.Lock()
        self.version = ""
        self._sort_sizes: dict[str, int] = {}
        self._new_parts: dict[str, set[str]] = {}  # part files computed by the running facts build
        self._verdict_rows: dict[str, str] = {}  # dataset -> its verdict row, part of its part's digest
        self.broken: list[storage.Broken] = []  # datasets skipped because a file is unreadable
        self.facts_pending = False  # facts built in memory because writing them failed: retried later
        self.facts_error = ""
        self._group_parts: dict[str, tuple[groups.Part, ...]] = {}  # intersectional groups, by id
        self.refresh()

    # --- set-up --------------------------------------------------------------------------------

    def refresh(self) -> None:
        """(Re)read the store: catalogues, views, and facts if the content changed."""
        writable = self._writable()
        with self._lock, (storage.store_lock(self.data_dir) if writable else contextlib.nullcontext()):
            if writable:
                storage.recover(self.data_dir)
                storage.sweep_leftovers(self.data_dir)  # we hold the lock: no live import owns them
            self._load_inputs()
            self.broken = storage.broken_datasets(self.data_dir)
            fp = storage.fingerprint(self.data_dir)
            self.facts_pending = False
            if self._facts_fingerprint(repair=writable) != fp:
                self._build_facts_safely(fp, writable)
            else:
                shards = self._manifest()["shards"]
                for name, kind in FACTS.items():
                    files = [str(self.data_dir / "facts" / kind / sh["file"]) for sh in shards[name].values()]
                    if files:
                        _drop_relation(self._con, name, unless="VIEW")
                        self._con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM "
                                          f"read_parquet({_sql_list(files)})")
                    else:
                        self._empty_facts(name, kind)
            self._series_tables()
            self.version = fp

    def _load_inputs(self) -> None:
        """The inputs of the facts queries (catalogues, areas, observations), which any facts engine reads."""
        self._load_catalogues()
        self._create_views()
        self._age_band_codes()
        n = self._con.execute("SELECT (SELECT count(*) FROM areas), (SELECT count(*) FROM group_catalogue)").fetchall()[0]
        self._sort_sizes = {"n_areas": int(n[0]) + 1, "n_groups": int(n[1]) + 1}

    def _series_tables(self) -> None:
        """Which series and units the facts hold per indicator, and the headline one of each."""
        sql = _strip_comments(load_sql("series_options"))
        self._con.execute(f"CREATE OR REPLACE TABLE series_options AS {sql}")
        self._con.execute("CREATE OR REPLACE VIEW headline_series AS SELECT indicator, series, unit "
                          "FROM series_options WHERE headline")

    def _writable(self) -> bool:
        return self._rebuild and not settings.get("read_only") and _can_write(self.data_dir)

    def _load_catalogues(self) -> None:
        con = self._con
        ind = storage.read_catalogue(self.data_dir, "indicators")
        ind["goal"] = ind["goal"].astype("int32")
        ind["higher_is_better"] = ind["higher_is_better"].str.lower().map({"true": True, "false": False})
        ind["survey_based"] = ind["survey_based"].str.lower().eq("true")
        ind["sort_order"] = _indicator_order(ind["code"])
        grp = storage.read_catalogue(self.data_dir, "groups")
        grp["group_order"] = range(len(grp))
        try:  # intersections (DESIGN.md, "Intersectional groups"): data_layers/groups.py
            self._group_parts = groups.parse_groups(grp, source=str(storage.catalogue_path(self.data_dir, "groups")))
        except groups.GroupError as e:
            raise storage.StoreError(str(e)) from e
        for gid, parts in self._group_parts.items():
            grp.loc[grp["group_id"] == gid, ["dimension", "codes"]] = groups.canonical(parts)
        grp["n_dims"] = [len(self._group_parts.get(g, ())) or 1 for g in grp["group_id"]]
        codes = [(g.group_id, g.dimension, c.strip(), i)
                 for g in grp.itertuples() if g.group_id not in self._group_parts
                 for i, c in enumerate(g.codes.split("|")) if c.strip()]
        codes += [row for gid, parts in self._group_parts.items() for row in groups.combinations(gid, parts)]
        gcodes = pd.DataFrame(codes, columns=["group_id", "dimension", "code", "priority"])
        excl = [(r.code, g.strip()) for r in ind.itertuples() for g in r.not_applicable.split("|") if g.strip()]
        parents = groups.parents(grp, self._group_parts)
        # an intersection is not applicable where one of the groups it narrows is not (rural women
        # for an indicator about people where "women" is excluded, or beach litter)
        inherited = [(ind, child) for ind, gid in excl for child in parents.loc[parents["parent_id"] == gid, "group_id"]]
        excl += [x for x in dict.fromkeys(inherited) if x not in set(excl)]
        exclusions = pd.DataFrame(excl, columns=["indicator", "group_id"])
        labels = storage.read_catalogue(self.data_dir, "dimension_labels")
        meta = storage.read_dataset_meta(self.data_dir)
        datasets = pd.DataFrame([{c.name: m.get(c.name) for c in schema.DATASETS} for m in meta],
                                columns=schema.names(schema.DATASETS))
        tables = {
            "indicator_catalogue": ind, "group_catalogue": grp, "group_codes": gcodes,
            "indicator_exclusions": exclusions, "dimension_labels": labels, "datasets": datasets,
            "dataset_verdicts": self._dataset_verdicts(datasets),
            "group_parents": parents,
            "evidence_register": register.read(self.data_dir),
        }
        for name, df in tables.items():
            con.register("_tmp", df)
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _tmp")
            con.unregister("_tmp")

    def _dataset_verdicts(self, datasets: pd.DataFrame) -> pd.DataFrame:
        """Per dataset: is its verdict usable, why not, and its small-cell threshold (never below
        the store's). The citizen facts are built from this, so a changed assessment refreshes them
        like an import does (it is part of each part's digest)."""
        from .quality import verdicts

        v = verdicts(datasets) if len(datasets) else datasets.assign(verdict=[], verdict_reason=[])
        k = pd.to_numeric(v["k_min"], errors="coerce").fillna(self.k_min).clip(lower=self.k_min)
        out = pd.DataFrame({"dataset_id": v["dataset_id"].astype(str), "usable": v["verdict"].eq("usable").astype(bool),
                            "reason": v["verdict_reason"].fillna("").astype(str), "k_min": k.astype("int64")})
        self._verdict_rows = {r.dataset_id: f"{r.usable}|{r.reason}|{r.k_min}" for r in out.itertuples()}
        return out

    def _create_views(self) -> None:
        con = self._con
        areas = [str(p) for p in storage.area_files(self.data_dir)]
        if areas:
            con.execute("CREATE OR REPLACE TABLE areas AS SELECT code, name, CAST(level AS INTEGER) AS level, "
                        "parent_code, CAST(row_number() OVER (ORDER BY code ASC NULLS LAST) AS BIGINT) AS area_order "
                        "FROM read_parquet(?, union_by_name = true)", [areas])
        else:
            con.execute("CREATE OR REPLACE TABLE areas (code VARCHAR, name VARCHAR, level INTEGER, "
                        "parent_code VARCHAR, area_order BIGINT)")
        # ancestors (self included) let points count in every enclosing area
        a = con.execute("SELECT code, level, parent_code FROM areas").fetchall()
        parent = {c: p for c, _, p in a}
        level = {c: lvl for c, lvl, _ in a}
        rows = []
        for code in parent:
            cur, seen = code, set()
            while cur is not None and cur in parent and cur not in seen:
                seen.add(cur)
                rows.append((code, cur, level[cur]))
                cur = parent[cur]
        anc = pd.DataFrame(rows, columns=["area_code", "ancestor_code", "ancestor_level"])
        con.register("_tmp", anc)
        con.execute("CREATE OR REPLACE TABLE area_ancestors AS SELECT * FROM _tmp")
        con.unregister("_tmp")
        files = [str(d / "observations.parquet") for d in storage.dataset_dirs(self.data_dir)]
        _drop_relation(con, "observations", unless="VIEW" if files else "TABLE")  # a view over files, or an empty table
        if files:
            con.execute("CREATE OR REPLACE VIEW observations AS SELECT * FROM "
                        f"read_parquet({_sql_list(files)}, union_by_name = true)")
        else:
            cols = ", ".join(f"{c.name} {_duck_type(c)}" for c in schema.OBSERVATIONS)
            con.execute(f"CREATE OR REPLACE TABLE observations ({cols})")

    def _age_band_codes(self) -> None:
        """Add to ``group_codes`` every age band the data hold that lies inside an age group's interval.

        DESIGN.md: youth (15-24) is covered by 15-19, 16-24 or 18-24 (not 15-29 or 15+). The group's
        own codes keep their order of preference; bands found in the data come after them, widest
        first. The rule depends only on the group definition and the band, so a dataset's facts
        part stays valid when other datasets bring new bands.
        """
        from . import ages

        gcodes = self._con.execute("SELECT group_id, dimension, code, priority FROM group_codes").df()
        age_groups = gcodes[gcodes["dimension"] == "AGE"]
        crossed = {gid: parts for gid, parts in self._group_parts.items() if any(p.dimension == "AGE" for p in parts)}
        if age_groups.empty and not crossed:
            return
        seen = [r[0] for r in self._con.execute("SELECT DISTINCT age FROM observations WHERE age <> '_T'").fetchall()]
        self._intersection_age_bands(crossed, seen)
        if age_groups.empty:
            return
        extra = []
        for gid, codes in age_groups.groupby("group_id", sort=False):
            span = ages.hull(codes["code"])
            if span is None:
                continue
            own = set(codes["code"])
            inside = [c for c in seen if c not in own and ages.inside(c, span)]
            inside.sort(key=lambda c: (-(ages.interval(c)[1] - ages.interval(c)[0]), ages.interval(c)[0], c))
            start = int(codes["priority"].max()) + 1
            extra += [(gid, "AGE", c, start + i) for i, c in enumerate(inside)]
        if extra:
            df = pd.DataFrame(extra, columns=["group_id", "dimension", "code", "priority"])
            self._con.register("_tmp", df)
            self._con.execute("INSERT INTO group_codes SELECT * FROM _tmp")
            self._con.unregister("_tmp")

    def _intersection_age_bands(self, crossed: dict[str, tuple[groups.Part, ...]], seen: list[str]) -> None:
        """The same interval rule on the AGE part of intersections (indigenous youth: IND + 15-24):
        bands found in the data inside the part's interval join its codes, widest first, and the
        group's combinations are written again (the age part ranks slowest, so declared
        combinations keep their priority)."""
        from . import ages

        rows = []
        for gid, parts in crossed.items():
            new_parts = []
            for part in parts:
                span = ages.hull(part.codes) if part.dimension == "AGE" else None
                if span is not None:
                    inside = [c for c in seen if c not in part.codes and ages.inside(c, span)]
                    inside.sort(key=lambda c: (-(ages.interval(c)[1] - ages.interval(c)[0]), ages.interval(c)[0], c))
                    part = groups.Part(part.dimension, part.codes + tuple(inside))  # noqa: PLW2901 (widened)
                new_parts.append(part)
            if tuple(new_parts) != parts:
                rows += groups.combinations(gid, tuple(new_parts))
        if rows:
            df = pd.DataFrame(rows, columns=["group_id", "dimension", "code", "priority"])
            self._con.register("_tmp", df)
            self._con.execute("DELETE FROM group_codes WHERE list_contains(?, group_id)",
                              [sorted(set(df["group_id"]))])
            self._con.execute("INSERT INTO group_codes SELECT * FROM _tmp")
            self._con.unregister("_tmp")

    # --- querying ------------------------------------------------------------------------------

    def query(self, sql: str, params: dict[str, Any] | Sequence[Any] | None = None) -> pd.DataFrame:
        """Run one read query on its own cursor: bound parameters, row cap, time limit.

        A query that fails because a file it reads is gone (another process removed a dataset or
        replaced a facts shard since the views were made) is run again once on the refreshed
        store, so a reader sees the old data or the new one, never an error.
        """
        try:
            return self._query(sql, params)
        except QueryError as e:
            if not isinstance(e.__cause__, duckdb.IOException) or not self._refreshed_after_change():
                raise
            log.info("the store changed under a query (%s); ran it again on the refreshed store", e)
            return self._query(sql, params)

    def _refreshed_after_change(self) -> bool:
        """Refresh when the store's content changed since it was read; whether it had changed."""
        try:
            changed = storage.fingerprint(self.data_dir) != self.version
        except OSError:
            return False
        if changed:
            self.refresh()
        return changed

    def _query(self, sql: str, params: dict[str, Any] | Sequence[Any] | None) -> pd.DataFrame:
        cur = self._con.cursor()
        timer = threading.Timer(self.timeout_s, cur.interrupt)
        timer.start()
        try:
            rel = cur.sql(sql, params=params or None)
            if all(str(t) in _ARROW_TYPES for t in rel.types) and len(set(rel.columns)) == len(rel.columns):
                # Arrow hands text to pandas without one Python object per value: ~5x cheaper than
                # fetch_df on large results (the coverage table of a level with thousands of areas)
                df = _arrow_frame(rel.to_arrow_reader(_ARROW_BATCH_ROWS), self.max_rows)
            else:  # same relation (bound once), DuckDB's own pandas conversion, capped past max_rows
                df = rel.limit(self.max_rows + 1).df()
        except duckdb.InterruptException as e:
            raise QueryError(f"query interrupted after {self.timeout_s:.0f} s") from e
        except duckdb.Error as e:
            raise QueryError(str(e)) from e
        finally:
            timer.cancel()
            cur.close()
        if df is None or len(df) > self.max_rows:
            raise QueryError(f"query returned more than {self.max_rows} rows (setting max_rows)")
        return df

    def coverage(self, *, level: int, as_of: int, window: int,
                 indicators: Sequence[str] | None = None, groups: Sequence[str] | None = None,
                 areas: Sequence[str] | None = None, headline: str | None = None,
                 series: Mapping[str, str] | None = None) -> pd.DataFrame:
        """One row per (indicator, area, group) cell at ``level`` with its coverage status.

        Columns are ``schema.CELL_COLUMNS``. Filters are optional lists (bound, never pasted);
        ``headline`` keeps the cells of one headline class (e.g. ``filled``) without handing the
        whole level to pandas (990,000 cells at national scale). ``series`` maps an indicator to
        the series whose values to show (``"SERIES"`` or ``"SERIES|unit"``; see
        :meth:`series_options`); other indicators show their headline series.
        """
        sql, params = self._cells_sql(level=level, as_of=as_of, window=window, indicators=indicators,
                                      groups=groups, areas=areas, series=series)
        # one integer sort key (indicator, area code, group order): sorting on three keys with text
        # costs ~3x more at 990,000 cells, and its output converts to pandas ~7x slower
        params |= self._sort_sizes | {"headline": headline}
        return self.query(f"SELECT * EXCLUDE (indicator_order, area_order, group_order) FROM ({sql}) "
                          "WHERE ($headline IS NULL OR headline = $headline) ORDER BY "
                          "(indicator_order * $n_areas + area_order) * $n_groups + group_order ASC NULLS LAST", params)

    def area_scores(self, *, level: int, as_of: int, window: int,
                    indicators: Sequence[str] | None = None,
                    groups: Sequence[str] | None = None) -> pd.DataFrame:
        """Gap and blind-spot score of every area at ``level`` over the chosen cells."""
        sql, params = self._cells_sql(level=level, as_of=as_of, window=window, indicators=indicators,
                                      groups=groups, areas=None, series=None)
        return self.query(f"WITH cells AS ({sql}) {_strip_comments(load_sql('area_scores'))}", params)

    def _cells_sql(self, *, level: int, as_of: int, window: int, indicators: Sequence[str] | None,
                   groups: Sequence[str] | None, areas: Sequence[str] | None,
                   series: Mapping[str, str] | None = None) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"level": int(level), "as_of": int(as_of), "window": int(window)}
        # the filters are applied inside cells.sql (NULL = no filter), so a click reads only its facts
        for key, values in (("indicators", indicators), ("groups", groups), ("areas", areas)):
            params[key] = [str(v) for v in values] if values else None
        picks = self._series_picks(series) if series else []
        params["series"] = picks or None
        params["series_indicators"] = [p.split("|", 1)[0] for p in picks] or None
        return _strip_comments(load_sql("cells")), params

    def series_options(self, *, indicator: str | None = None) -> pd.DataFrame:
        """The series and units the official facts hold (``indicator, series, unit, n_facts, headline``)."""
        return self.query("SELECT * FROM series_options WHERE ($ind IS NULL OR indicator = $ind) "
                          "ORDER BY indicator ASC NULLS LAST, headline DESC NULLS LAST, series ASC NULLS LAST, "
                          "unit ASC NULLS LAST", {"ind": indicator})

    def _series_picks(self, series: Mapping[str, str]) -> list[str]:
        """``indicator|series|unit`` keys for a choice of series; unknown choices are refused."""
        opts = self.series_options()
        picks = []
        for ind, choice in series.items():
            name, _, unit = str(choice).partition("|")
            rows = opts[(opts["indicator"] == ind) & (opts["series"] == name) & ((opts["unit"] == unit) | (unit == ""))]
            if rows.empty:
                known = ", ".join(f"{r.series or '(unnamed)'}|{r.unit}" for r in opts[opts["indicator"] == ind].itertuples())
                raise QueryError(f"series {choice!r} is not a series of indicator {ind} (known: {known or 'none'})")
            best = rows.sort_values(["headline", "n_facts"], ascending=[False, False], kind="stable").iloc[0]
            picks.append(f"{ind}|{best['series']}|{best['unit']}")
        return picks

    # --- catalogues ----------------------------------------------------------------------------

    def indicators(self) -> pd.DataFrame:
        return self.query("SELECT * FROM indicator_catalogue ORDER BY sort_order ASC NULLS LAST")

    def groups(self) -> pd.DataFrame:
        return self.query("SELECT * FROM group_catalogue ORDER BY group_order ASC NULLS LAST")

    def register(self) -> pd.DataFrame:
        """The evidence register as read at the last refresh (``schema.REGISTER``), oldest first."""
        return self.query("SELECT * FROM evidence_register ORDER BY presented_on ASC NULLS LAST, "
                          "entry_id ASC NULLS LAST")

    def dimension_labels(self) -> pd.DataFrame:
        return self.query("SELECT * FROM dimension_labels")

    def datasets(self, *, source_kind: str | None = None) -> pd.DataFrame:
        """The dataset catalogue with provenance, quality and a usability verdict."""
        df = self.query("SELECT * FROM datasets WHERE ($kind IS NULL OR source_kind = $kind) "
                        "ORDER BY source_kind ASC NULLS LAST, dataset_id ASC NULLS LAST", {"kind": source_kind})
        from .quality import verdicts
        return verdicts(df)

    def levels(self) -> list[int]:
        return [int(x) for x in self.query("SELECT DISTINCT level FROM areas ORDER BY level ASC NULLS LAST")["level"]]

    def areas(self, *, level: int | None = None) -> pd.DataFrame:
        """Areas without geometry (code, name, level, parent_code)."""
        return self.query("SELECT code, name, level, parent_code FROM areas WHERE ($level IS NULL OR level = $level) "
                          "ORDER BY level ASC NULLS LAST, code ASC NULLS LAST", {"level": level})

    def geometries(self, *, level: int) -> Any:
        """Areas of one level as a GeoDataFrame (full resolution), read with geopandas."""
        import geopandas as gpd

        path = self.data_dir / "areas" / f"level_{int(level)}.parquet"
        if not path.is_file():
            return gpd.GeoDataFrame({"code": [], "name": [], "level": [], "parent_code": []},
                                    geometry=[], crs=4326)
        return gpd.read_parquet(path)

    def years(self) -> tuple[int, int]:
        row = self.query("SELECT min(period) AS lo, max(period) AS hi FROM observations")
        lo, hi = row["lo"].iloc[0], row["hi"].iloc[0]
        if pd.isna(lo):
            return (settings.get("as_of") - 10, settings.get("as_of"))
        return int(lo), int(hi)

    def facts(self, *, indicator: str, area_code: str, kind: str = "official",
              series: str | None = None) -> pd.DataFrame:
        """All yearly facts of one indicator in one area, every group (for time series).

        Official facts come from one series and unit: the headline one, or ``series``
        (``"SERIES"`` or ``"SERIES|unit"``), so a chart never mixes two series.
        """
        if kind != "official":
            return self.query("SELECT * FROM citizen_facts WHERE indicator = $ind AND area_code = $area "
                              "ORDER BY group_id ASC NULLS LAST, year ASC NULLS LAST",
                              {"ind": indicator, "area": area_code})
        pick = self._series_picks({indicator: series})[0] if series is not None else None
        return self.query("SELECT f.* FROM official_facts AS f JOIN (SELECT indicator, series, unit FROM series_options "
                          "WHERE indicator = $ind AND (CASE WHEN $pick IS NULL THEN headline "
                          "ELSE concat(indicator, '|', series, '|', unit) = $pick END)) AS s "
                          "ON s.indicator = f.indicator AND s.series = f.series AND s.unit = f.unit "
                          "WHERE f.indicator = $ind AND f.area_code = $area "
                          "ORDER BY f.group_id ASC NULLS LAST, f.year ASC NULLS LAST",
                          {"ind": indicator, "area": area_code, "pick": pick})

    def observations(self, *, indicator: str | None = None, area_code: str | None = None,
                     source_kind: str | None = None, dataset_id: str | None = None,
                     limit: int = 100_000) -> pd.DataFrame:
        """Raw observations matching the filters (bounded)."""
        return self.query(
            "SELECT * FROM observations WHERE ($ind IS NULL OR indicator = $ind) "
            "AND ($area IS NULL OR area_code = $area) AND ($kind IS NULL OR source_kind = $kind) "
            "AND ($ds IS NULL OR dataset_id = $ds) "
            "ORDER BY obs_key ASC NULLS LAST LIMIT $limit",
            {"ind": indicator, "area": area_code, "kind": source_kind, "ds": dataset_id, "limit": int(limit)})

    def citizen_points(self, *, indicator: str | None = None, as_of: int | None = None) -> pd.DataFrame:
        """Points of place-type citizen datasets only (people-type points are never returned)."""
        return self.query(
            "SELECT o.dataset_id, d.title, d.producer, o.indicator, o.area_code, o.period, o.value, "
            "o.lat, o.lon FROM observations AS o JOIN datasets AS d ON d.dataset_id = o.dataset_id "
            "WHERE o.source_kind = 'citizen' AND o.is_point AND d.point_kind = 'place' "
            "AND o.lat IS NOT NULL AND ($ind IS NULL OR o.indicator = $ind) "
            "AND ($as_of IS NULL OR o.period <= $as_of) "
            "ORDER BY o.obs_key ASC NULLS LAST",
            {"ind": indicator, "as_of": as_of})

    def observation_count(self) -> int:
        """How many observations the store holds (every dataset, both kinds)."""
        return int(self.query("SELECT count(*) AS n FROM observations")["n"].iloc[0])

    def observed_indicators(self) -> list[str]:
        """Distinct indicator codes of the observations (codes outside the catalogue included)."""
        return [str(x) for x in self.query("SELECT DISTINCT indicator FROM observations")["indicator"].dropna()]

    def official_dataset_ids(self, *, areas: Sequence[str], as_of: int, indicator: str | None = None) -> list[str]:
        """Datasets behind the official facts of ``areas`` dated at or before ``as_of`` (sorted)."""
        if not areas:
            return []
        df = self.query("SELECT DISTINCT dataset_id FROM official_facts WHERE list_contains($codes, area_code) "
                        "AND year <= $as_of AND ($ind IS NULL OR indicator = $ind) ORDER BY dataset_id ASC NULLS LAST",
                        {"codes": list(areas), "as_of": as_of, "ind": indicator})
        return [str(x) for x in df["dataset_id"]]

    def newest_official_datasets(self, *, indicators: Sequence[str] | None, groups: Sequence[str] | None,
                                 level: int, as_of: int, areas: Sequence[str] | None = None) -> pd.DataFrame:
        """Dataset of the newest official figure (at or before ``as_of``) per indicator x area x group
        (on a tie in year, the first dataset id), chosen in DuckDB rather than sorted in pandas."""
        return self.query(
            "SELECT indicator, area_code, group_id, max(year) AS year, "
            "arg_min(dataset_id, struct_pack(y := -year, d := dataset_id)) AS dataset_id FROM official_facts "
            "WHERE level = $level AND year <= $as_of "
            "AND ($no_ind OR list_contains($ind, indicator)) AND ($no_grp OR list_contains($grp, group_id)) "
            "AND ($no_area OR list_contains($area, area_code)) "
            "GROUP BY indicator, area_code, group_id ORDER BY indicator, area_code, group_id",
            {"level": int(level), "as_of": int(as_of),
             "no_ind": not indicators, "ind": list(indicators or [""]),
             "no_grp": not groups, "grp": list(groups or [""]),
             "no_area": not areas, "area": list(areas or [""])})

    def close(self) -> None:
        self._con.close()


# Result types the Arrow path converts exactly as DuckDB's fetch_df would (anything else, e.g.
# DECIMAL, HUGEINT, dates or lists, takes fetch_df itself).
_ARROW_TYPES = frozenset({"BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER",
                          "UBIGINT", "FLOAT", "DOUBLE", "VARCHAR"})
_ARROW_BATCH_ROWS = 1 << 17  # rows per Arrow batch while counting towards max_rows


def _masked_dtypes() -> dict[Any, Any]:
    import pyarrow as pa

    return {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
            pa.int64(): pd.Int64Dtype(), pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
            pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype(), pa.bool_(): pd.BooleanDtype()}


def _arrow_frame(reader: Any, max_rows: int) -> pd.DataFrame | None:
    """A result read as Arrow batches, as the same DataFrame ``fetch_df`` gives; ``None`` past ``max_rows``.

    ``fetch_df`` chooses dtypes by content, and so does this: integer and boolean columns holding a
    NULL become pandas' masked dtypes (``Int32``, ``boolean``), text columns holding only NULLs
    (or no rows) become ``object``; everything else converts as Arrow does by default.
    """
    import pyarrow as pa

    batches = []
    rows = 0
    for batch in reader:
        rows += batch.num_rows
        if rows > max_rows:
            return None
        batches.append(batch)
    table = pa.Table.from_batches(batches, schema=reader.schema)
    del batches
    masked = _masked_dtypes()
    special: dict[str, pd.Series] = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_string(col.type) and col.null_count == len(col):
            special[name] = pd.Series([None] * len(col), dtype=object)
        elif col.null_count and col.type in masked:
            special[name] = col.to_pandas(types_mapper=masked.get)
    # self_destruct frees each Arrow column once converted, so a large result is not held twice
    df = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    for name, values in special.items():
        df[name] = values
    return df


def _can_write(path: Path) -> bool:
    import os

    return os.access(path, os.W_OK)


def _duck_type(c: schema.Column) -> str:
    import pyarrow as pa

    return {pa.string(): "VARCHAR", pa.int64(): "BIGINT", pa.int32(): "INTEGER", pa.float64(): "DOUBLE",
            pa.bool_(): "BOOLEAN", pa.binary(): "BLOB"}[c.type]


def _indicator_order(codes: pd.Series) -> list[int]:
    """Natural order of indicator codes (1.2.1 < 1.10.1 < 2.1.1; letters after numbers)."""
    def key(code: str) -> tuple:
        return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in code.split("."))
    order = sorted(range(len(codes)), key=lambda i: key(codes.iloc[i]))
    rank = [0] * len(codes)
    for r, i in enumerate(order):
        rank[i] = r
    return rank
