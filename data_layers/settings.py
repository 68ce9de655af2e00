"""Settings as one declarative table (after datasette's ``SETTINGS``).

Every setting has a default, an environment variable and help text; the About page, the CLI's
``--help`` and ``docs/settings.md`` render from this table, and a test fails when one is
undocumented.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
DEFAULT_DATA_DIR = PROJECT_DIR / "sample_data"


TRUE_WORDS = frozenset({"1", "true", "yes", "y", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "off"})
"""Spellings of a switch, case-insensitive. Anything else is refused: a mistyped ``GAPLENS_READ_ONLY``
must never leave a public server writable."""


class SettingError(ValueError):
    """An environment variable holds a value its setting cannot take (the message names it)."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    env: str
    help: str

    def value(self) -> Any:
        """The environment's value parsed strictly; :class:`SettingError` names the variable."""
        raw = os.environ.get(self.env)
        if raw is None or raw.strip() == "":
            return self.default
        word = raw.strip()
        if isinstance(self.default, bool):
            if word.lower() in TRUE_WORDS:
                return True
            if word.lower() in FALSE_WORDS:
                return False
            raise SettingError(f"{self.env}={raw!r}: expected one of {', '.join(sorted(TRUE_WORDS))} "
                               f"(on) or {', '.join(sorted(FALSE_WORDS))} (off)")
        if isinstance(self.default, int):
            try:
                number = int(word)
            except ValueError:
                raise SettingError(f"{self.env}={raw!r}: expected a whole number "
                                   f"(default {self.default})") from None
            if number < 0:
                raise SettingError(f"{self.env}={raw!r}: expected a number of at least 0")
            return number
        return raw


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", str(DEFAULT_DATA_DIR), "GAPLENS_DATA_DIR",
            "Folder holding the store (areas, datasets, catalogues, facts). The CLI's --data-dir wins."),
    Setting("as_of", 2024, "GAPLENS_AS_OF",
            "Default as-of year: observations dated after it are invisible."),
    Setting("window", 5, "GAPLENS_WINDOW",
            "Default freshness window in years: an official figure dated within [as-of - window, as-of] is current."),
    Setting("k_min", 5, "GAPLENS_K_MIN",
            "Small-cell threshold: a citizen aggregate of fewer respondents is shown as suppressed."),
    Setting("max_rows", 2_000_000, "GAPLENS_MAX_ROWS",
            "Row cap of any one query, so that a runaway query cannot exhaust memory."),
    Setting("query_timeout_s", 30, "GAPLENS_QUERY_TIMEOUT_S",
            "Seconds after which a query is interrupted."),
    Setting("read_only", False, "GAPLENS_READ_ONLY",
            "Disable imports and removals (for public deployments). On: 1, true, yes, y, on; off: 0, false, no, "
            "n, off (any case); anything else is refused with an error naming the variable."),
    Setting("max_upload_mb", 200, "GAPLENS_MAX_UPLOAD_MB",
            "Largest file the Import page accepts, in megabytes."),
    Setting("min_free_mb", 100, "GAPLENS_MIN_FREE_MB",
            "Free disk space (MB) every write leaves for the facts refresh after it; a write that would "
            "leave less is refused, nothing written."),
    Setting("error_cap", 200, "GAPLENS_ERROR_CAP",
            "Problems an importer collects before it stops reading a bad file."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str) -> Any:
    """Current value of a setting (environment first, then the default).

    Raises :class:`SettingError` (naming the variable) when the environment holds a bad value.
    """
    return _BY_NAME[name].value()


def check_all() -> None:
    """Parse every setting once, so that a bad value is reported at start, not mid-way."""
    for s in SETTINGS:
        s.value()


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: an explicit override, else ``GAPLENS_DATA_DIR``, else ``sample_data/``."""
    return Path(override) if override else Path(get("data_dir"))
