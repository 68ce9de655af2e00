"""GapLens data layer: the tidy schema, the store, the coverage engine, importers and exports.

Imports no Streamlit (a test proves it); :mod:`data_layers.cache` is the one thin adapter that
does, for the dashboard.
"""

from .schema import CELL_COLUMNS, STATUSES
from .store import GapStore, QueryError

__all__ = ["CELL_COLUMNS", "STATUSES", "GapStore", "QueryError"]
__version__ = "0.1.0"
