"""``StoreAPI``: the queries the app asks of a store, as a typed interface.

Pages, figures, exports and the CLI depend on this ``Protocol``, not on DuckDB: ``GapStore``
(``store.py``) implements it over DuckDB and parquet, and a second engine (e.g. Spark over the
same parquet and the same ``sql/*.sql``) plugs in by implementing the same methods. The methods
return pandas frames whose columns are declared in ``schema.py``; filters are keyword-only and
bound as parameters, never pasted into SQL.

``tests/test_architecture.py`` checks that ``GapStore`` has every method listed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pandas as pd


@runtime_checkable
class StoreAPI(Protocol):
    """What the dashboard, the exports and the CLI read from a GapLens store."""

    data_dir: Path
    version: str
    k_min: int

    # --- coverage (the core rule of DESIGN.md) --------------------------------------------------
    def coverage(self, *, level: int, as_of: int, window: int,
                 indicators: Sequence[str] | None = None, groups: Sequence[str] | None = None,
                 areas: Sequence[str] | None = None, headline: str | None = None,
                 series: Mapping[str, str] | None = None) -> pd.DataFrame:
        """One row per (indicator, area, group) cell: ``schema.CELL_COLUMNS``."""
        ...

    def area_scores(self, *, level: int, as_of: int, window: int,
                    indicators: Sequence[str] | None = None,
                    groups: Sequence[str] | None = None) -> pd.DataFrame:
        """Gap and blind-spot score of every area at ``level``."""
        ...

    def series_options(self, *, indicator: str | None = None) -> pd.DataFrame:
        """The series and units the official facts hold, with the headline one of each indicator."""
        ...

    # --- catalogues -----------------------------------------------------------------------------
    def indicators(self) -> pd.DataFrame: ...
    def groups(self) -> pd.DataFrame: ...
    def register(self) -> pd.DataFrame: ...
    def dimension_labels(self) -> pd.DataFrame: ...
    def datasets(self, *, source_kind: str | None = None) -> pd.DataFrame: ...
    def levels(self) -> list[int]: ...
    def areas(self, *, level: int | None = None) -> pd.DataFrame: ...
    def geometries(self, *, level: int) -> Any: ...
    def years(self) -> tuple[int, int]: ...

    # --- facts and observations -----------------------------------------------------------------
    def facts(self, *, indicator: str, area_code: str, kind: str = "official",
              series: str | None = None) -> pd.DataFrame: ...

    def observations(self, *, indicator: str | None = None, area_code: str | None = None,
                     source_kind: str | None = None, dataset_id: str | None = None,
                     limit: int = 100_000) -> pd.DataFrame: ...

    def citizen_points(self, *, indicator: str | None = None, as_of: int | None = None) -> pd.DataFrame: ...
    def observation_count(self) -> int: ...
    def observed_indicators(self) -> list[str]: ...
    def official_dataset_ids(self, *, areas: Sequence[str], as_of: int,
                             indicator: str | None = None) -> list[str]: ...
    def newest_official_datasets(self, *, indicators: Sequence[str] | None, groups: Sequence[str] | None,
                                 level: int, as_of: int, areas: Sequence[str] | None = None) -> pd.DataFrame: ...

    # --- escape hatch and lifecycle -------------------------------------------------------------
    def query(self, sql: str, params: dict[str, Any] | Sequence[Any] | None = None) -> pd.DataFrame:
        """One bounded, parameterised read query (the store's own SQL files use it)."""
        ...

    def refresh(self) -> None: ...
    def close(self) -> None: ...


STORE_METHODS: tuple[str, ...] = tuple(
    name for name, value in vars(StoreAPI).items() if callable(value) and not name.startswith("_"))
"""The method names of the interface (a test checks that GapStore has each)."""
