"""The one translation function of GapLens, with message catalogues kept as data.

Every user-facing string of the pages, figures and exports goes through :func:`t`. Catalogues
are flat YAML files, ``data_layers/locales/<lang>.yaml`` (``nav.overview: Overview``), so a
language is added by adding a file, not by changing code. English is complete; a key missing in
another language falls back to English (counted by :func:`missing_keys`), and a key missing
everywhere shows the key itself, never a blank. Numbers, percentages and years are formatted
for the locale with Babel.

Indicator, goal and group titles are data too: they come from the store's catalogues (see
:func:`catalogue_text`), not from these files.
"""

from __future__ import annotations

import json
import logging
import math
import re
import string
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DEFAULT_LANG = "en"
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "es": "Español", "ar": "العربية"}
RTL_LANGUAGES = frozenset({"ar"})
_BABEL_LOCALE = {"en": "en", "fr": "fr", "es": "es", "ar": "ar"}
_KEY_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_\-]+)+$")


class _Default(dict):
    """Leaves an unknown ``{placeholder}`` as written instead of raising (a missing argument
    must not crash a page; the test suite checks every placeholder is supplied)."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The flat message catalogue of one language (empty when the file does not exist)."""
    path = LOCALES_DIR / f"{lang}.yaml"
    if lang not in LANGUAGES or not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a catalogue must be a mapping of keys to strings")
    out: dict[str, str] = {}
    for key, value in data.items():
        if value is None or value == "":
            continue  # placeholder entry awaiting translation: fall back to English
        out[str(key)] = str(value)
    return out


def reload() -> None:
    """Forget cached catalogues (after a translator edits a file)."""
    catalogue.cache_clear()


def normalise_lang(lang: str | None) -> str:
    """A supported language code for ``lang`` (``fr-CA`` -> ``fr``), else English."""
    if not lang:
        return DEFAULT_LANG
    code = str(lang).strip().replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANG


def t(key: str, lang: str = DEFAULT_LANG, **kwargs: Any) -> str:
    """Translate ``key`` into ``lang`` and fill its ``{placeholders}`` from ``kwargs``.

    Falls back to English, then to the key itself (logged), so a page never shows a blank.
    """
    lang = normalise_lang(lang)
    text = catalogue(lang).get(key)
    if text is None:
        text = catalogue(DEFAULT_LANG).get(key)
        if text is None:
            log.warning("no message for key %r", key)
            text = key
    if kwargs:
        text = _plurals(text, lang, kwargs)
        text = string.Formatter().vformat(text, (), _Default(kwargs))
    return text


# ICU-style plural choices inside a message: "{n, plural, one {# figure} other {# figures}}"; the
# branch is chosen by the language's CLDR plural rules (Arabic has six forms), ``=N`` branches win,
# and ``#`` is the number written as the language writes numbers ("3,026", "3 026", "٣٬٠٢٦").
_PLURAL = re.compile(r"\{(\w+), plural,((?:\s*=?\w+ \{[^{}]*\})+)\s*\}")
_BRANCH = re.compile(r"(=?\w+) \{([^{}]*)\}")


def _plurals(text: str, lang: str, kwargs: dict[str, Any]) -> str:
    if ", plural," not in text:
        return text

    def choose(m: re.Match) -> str:
        branches = dict(_BRANCH.findall(m.group(2)))
        value = kwargs.get(m.group(1))
        try:
            n = float(value)
        except (TypeError, ValueError):
            return branches.get("other", "").replace("#", str(value))
        exact = f"={int(n)}" if n == int(n) else ""
        form = branches.get(exact) or branches.get(plural_form(n, lang)) or branches.get("other", "")
        return form.replace("#", format_number(n, lang, decimals=0 if n == int(n) else 1))

    return _PLURAL.sub(choose, text)


def plural_form(n: float, lang: str = DEFAULT_LANG) -> str:
    """The CLDR plural category of ``n`` in ``lang`` (``one``, ``few``, ``other``...)."""
    from babel import Locale

    return Locale.parse(babel_locale(lang)).plural_form(abs(n))


def has_key(key: str, lang: str = DEFAULT_LANG) -> bool:
    return key in catalogue(normalise_lang(lang))


def missing_keys(lang: str) -> list[str]:
    """English keys with no entry in ``lang`` (these show in English)."""
    own = catalogue(lang)
    return sorted(k for k in catalogue(DEFAULT_LANG) if k not in own)


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a message expects (for tests that compare languages), plural choices included."""
    names = set(_PLURAL_NAMES.findall(text))
    rest = _PLURAL.sub("", text)
    return names | {name for _, name, _, _ in string.Formatter().parse(rest) if name}


_PLURAL_NAMES = re.compile(r"\{(\w+), plural,")


def is_rtl(lang: str) -> bool:
    """True for right-to-left languages (Arabic)."""
    return normalise_lang(lang) in RTL_LANGUAGES


def direction(lang: str) -> str:
    """``rtl`` or ``ltr``, for an HTML ``dir`` attribute."""
    return "rtl" if is_rtl(lang) else "ltr"


def page_attributes_html(lang: str) -> str:
    """A script giving ``<html>`` the page's ``lang`` and ``dir`` (Streamlit always says
    ``lang="en"``): screen readers choose their voice and reading direction from it (WCAG 3.1.1).
    Render with ``st.html(..., unsafe_allow_javascript=True)``; it writes two attributes, nothing else."""
    code = normalise_lang(lang)
    return (f"<script>document.documentElement.lang = {json.dumps(code)};"
            f" document.documentElement.dir = {json.dumps(direction(code))};</script>")


# --- locale formatting --------------------------------------------------------------------------

def babel_locale(lang: str) -> str:
    return _BABEL_LOCALE[normalise_lang(lang)]


def _with_decimals(pattern: str, decimals: int) -> str:
    """A Babel number pattern with exactly ``decimals`` fraction digits."""
    frac = ("." + "0" * decimals) if decimals > 0 else ""
    parts = pattern.split(";")
    return ";".join(re.sub(r"0(?:\.[0#]+)?(?=[^0-9#.,]*$)", "0" + frac, p, count=1) for p in parts)


def format_number(value: float | int | None, lang: str = DEFAULT_LANG, *, decimals: int = 1) -> str:
    """A number in the locale's notation (``1,234.5``, ``1 234,5``); ``–`` when absent."""
    if value is None or _isnan(value):
        return "–"
    from babel.numbers import format_decimal

    return format_decimal(round(float(value), decimals), format=_with_decimals("#,##0", decimals),
                          locale=babel_locale(lang))


def format_list(items: list[str], lang: str = DEFAULT_LANG) -> str:
    """``a, b and c`` as the language joins a list (a headline naming every group of a tie)."""
    from babel.lists import format_list as babel_list

    items = [str(x) for x in items]
    return babel_list(items, locale=babel_locale(lang)) if items else ""


def format_percent(share: float | None, lang: str = DEFAULT_LANG, *, decimals: int = 0) -> str:
    """A share 0..1 as a percentage in the locale's notation (``52 %`` in French)."""
    if share is None or _isnan(share):
        return "–"
    return _percent(float(share), babel_locale(lang), decimals)


@lru_cache(maxsize=8192)
def _percent(share: float, locale: str, decimals: int) -> str:
    """Cached: maps format the same few values for hundreds of points."""
    from babel import Locale
    from babel.numbers import format_percent as _fp

    loc = Locale.parse(locale)
    pattern = _with_decimals(loc.percent_formats[None].pattern, decimals)
    return _fp(share, format=pattern, locale=loc)


def format_value(value: float | None, unit: str | None, lang: str = DEFAULT_LANG, *, decimals: int = 1) -> str:
    """An indicator value with its unit: percent units as percentages, others as number + unit."""
    if value is None or _isnan(value):
        return "–"
    if (unit or "").strip().lower() in ("percent", "%", "pc", "pct"):
        return format_percent(float(value) / 100, lang, decimals=decimals)
    text = format_number(value, lang, decimals=decimals)
    return f"{text} {unit}" if unit else text


def format_year(year: int | float | None, lang: str = DEFAULT_LANG) -> str:
    """A year without thousands separator, in the locale's digits."""
    if year is None or _isnan(year):
        return "–"
    return _year(int(year), babel_locale(lang))


@lru_cache(maxsize=1024)
def _year(year: int, locale: str) -> str:
    from babel.numbers import format_decimal

    return format_decimal(year, format="0", locale=locale)


def format_date(value: Any, lang: str = DEFAULT_LANG, *, length: str = "long") -> str:
    """A date in the locale's words (``5 mars 2024``, ``5 de marzo de 2024``); ``–`` when absent.

    Takes a date, a datetime or ISO text (``2024-03-05``, ``2024-03-05T10:00:00Z``); text that is
    not a full date (``2024``, ``spring 2023``) is returned unchanged rather than guessed.
    ``length`` is Babel's ``short``, ``medium``, ``long`` or ``full``.
    """
    import datetime as dt

    if value is None or (not isinstance(value, str | dt.date) and _isnan(value)):
        return "–"
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    else:
        text = str(value).strip()
        if not text:
            return "–"
        try:
            day = dt.date.fromisoformat(text[:10])
        except ValueError:
            return text
    from babel.dates import format_date as _fd

    return _fd(day, format=length, locale=babel_locale(lang))


def format_points(diff: float | None, lang: str = DEFAULT_LANG, *, decimals: int = 1) -> str:
    """A signed difference in percentage points (``+12.3``)."""
    if diff is None or _isnan(diff):
        return "–"
    sign = "+" if diff > 0 else ("−" if diff < 0 else "±")
    return sign + format_number(abs(diff), lang, decimals=decimals)


def _isnan(x: Any) -> bool:
    """True for NaN, pandas NA and NaT-like values (no pandas import needed here)."""
    if x is None:
        return True
    if isinstance(x, int | str):
        return False
    try:
        return math.isnan(float(x))
    except (TypeError, ValueError):
        return type(x).__name__ in ("NAType", "NaTType")


# --- catalogue data (titles that are data, not code) ------------------------------------------

def catalogue_text(row: Mapping[str, Any], field: str, lang: str = DEFAULT_LANG) -> str:
    """A title from a store catalogue row in ``lang``: ``<field>_<lang>`` when the catalogue has
    it (imported from the SDG framework), else the message catalogue's translation of the
    default English text (:func:`catalogue_key`), else the English ``field``; never blank."""
    lang = normalise_lang(lang)
    value = row.get(f"{field}_{lang}")
    if value is not None and not _isnan(value) and str(value).strip():
        return str(value)
    value = row.get(field)
    if value is not None and not _isnan(value) and str(value).strip():
        key = catalogue_key(row, field)
        # translated only while the store's English text is the one the translation was made from
        if key and lang != DEFAULT_LANG and catalogue(DEFAULT_LANG).get(key) == str(value) and key in catalogue(lang):
            return catalogue(lang)[key]
        return str(value)
    return str(row.get("code") or row.get("group_id") or "")


def catalogue_key(row: Mapping[str, Any], field: str) -> str | None:
    """Message key translating a default catalogue text: ``catalogue.group.women.label``,
    ``catalogue.indicator.6-1-1.short_title`` (None for rows that are neither)."""
    gid, code = row.get("group_id"), row.get("code")
    if isinstance(gid, str) and gid:
        key = f"catalogue.group.{gid.lower()}.{field}"
    elif isinstance(code, str) and code:
        key = f"catalogue.indicator.{code.lower().replace('.', '-')}.{field}"
    else:
        return None
    return key if valid_key(key) else None


def valid_key(key: str) -> bool:
    """Keys are dotted lowercase paths (``status.current.label``)."""
    return bool(_KEY_RE.match(key))
