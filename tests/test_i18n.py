"""The translation function: English fallback, placeholders, locale formatting with Babel, and
every key the figures and views use exists in English."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from data_layers import figures, i18n, views
from data_layers import palette as pal

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def tmp_locales(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Catalogues written by the test, so fallback is tested independently of translation progress."""
    (tmp_path / "en.yaml").write_text(
        "greet.hello: \"Hello, {name}!\"\nonly.english: \"Only in English\"\nboth.keys: \"Both\"\n", encoding="utf-8")
    (tmp_path / "fr.yaml").write_text("greet.hello: \"Bonjour, {name} !\"\nboth.keys: \"Les deux\"\n"
                                      "only.english: \"\"\n", encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.reload()
    yield tmp_path
    i18n.reload()


def test_translation_and_fallback_to_english(tmp_locales: Path) -> None:
    assert i18n.t("greet.hello", "fr", name="Ana") == "Bonjour, Ana !"
    assert i18n.t("greet.hello", "en", name="Ana") == "Hello, Ana!"
    # an empty entry is a placeholder awaiting translation: English shows, not a blank
    assert i18n.t("only.english", "fr") == "Only in English"
    # Spanish has no file at all
    assert i18n.t("both.keys", "es") == "Both"
    assert i18n.missing_keys("fr") == ["only.english"]
    assert i18n.missing_keys("es") == ["both.keys", "greet.hello", "only.english"]


def test_unknown_key_shows_the_key_never_blank(tmp_locales: Path) -> None:
    assert i18n.t("no.such.key", "fr") == "no.such.key"


def test_placeholders(tmp_locales: Path) -> None:
    # a placeholder the caller forgot stays visible instead of crashing the page
    assert i18n.t("greet.hello", "en") == "Hello, {name}!"
    assert i18n.placeholders("Of {n} {areas}, {k}") == {"n", "areas", "k"}


def test_language_codes() -> None:
    assert set(i18n.LANGUAGES) == {"en", "fr", "es", "ar"}
    assert i18n.normalise_lang("fr-CA") == "fr"
    assert i18n.normalise_lang("es_MX") == "es"
    assert i18n.normalise_lang("de") == "en"
    assert i18n.normalise_lang(None) == "en"
    assert i18n.is_rtl("ar") and not i18n.is_rtl("fr")
    assert i18n.direction("ar") == "rtl"


@pytest.mark.parametrize(("lang", "number", "percent", "year"), [
    ("en", "1,234.5", "52.3%", "2024"),
    ("fr", "1\u202f234,5", "52,3\u00a0%", "2024"),
    ("es", "1.234,5", "52,3\u00a0%", "2024"),
])
def test_babel_formatting_per_locale(lang: str, number: str, percent: str, year: str) -> None:
    assert i18n.format_number(1234.5, lang) == number
    assert i18n.format_percent(0.523, lang, decimals=1) == percent
    assert i18n.format_year(2024, lang) == year
    assert i18n.format_value(52.3, "percent", lang, decimals=1) == percent


def test_formatting_missing_zero_and_units() -> None:
    assert i18n.format_number(None) == "–"
    assert i18n.format_number(float("nan")) == "–"
    assert i18n.format_number(0) == "0.0"  # zero is a value, not missing
    assert i18n.format_percent(0.0) == "0%"
    assert i18n.format_value(12.0, "items per 100 m") == "12.0 items per 100 m"
    assert i18n.format_points(12.34) == "+12.3"
    assert i18n.format_points(-2.0) == "−2.0"
    assert i18n.format_number(1234567, "en", decimals=0) == "1,234,567"


def test_catalogue_text_prefers_translated_column() -> None:
    row = {"code": "6.1.1", "title": "Safe water", "title_fr": "Eau potable", "title_es": ""}
    assert i18n.catalogue_text(row, "title", "fr") == "Eau potable"
    assert i18n.catalogue_text(row, "title", "es") == "Safe water"  # blank translation falls back
    assert i18n.catalogue_text({"code": "6.1.1"}, "title", "en") == "6.1.1"  # never blank


def _literal_keys(path: Path) -> set[str]:
    """First arguments of ``t(...)``/``i18n.t(...)`` calls that are string literals."""
    keys = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            if name == "t":
                keys.add(node.args[0].value)
    return keys


def test_every_key_used_by_figures_and_views_exists_in_english() -> None:
    en = i18n.catalogue("en")
    used = set()
    charts = sorted(str(p.relative_to(ROOT / "data_layers")) for p in (ROOT / "data_layers" / "charts").glob("*.py"))
    for mod in ("figures.py", "views.py", *charts):  # the charts moved from figures.py to data_layers/charts/
        used |= _literal_keys(ROOT / "data_layers" / mod)
    assert len(used) > 40
    # keys built at run time
    used |= {s.label_key for s in pal.STATUS_STYLES.values()} | {s.help_key for s in pal.STATUS_STYLES.values()}
    used |= {s.label_key for s in pal.HEADLINE_STYLES.values()} | {s.help_key for s in pal.HEADLINE_STYLES.values()}
    used |= {f"metric.{m}.label" for m in views.METRICS} | {f"metric.{m}.help" for m in views.METRICS}
    used |= {f"fig.map.{m}.title" for m in views.METRICS}
    used |= {f"alt.map.{m}" for m in views.METRICS}
    used |= {f"param.{f}" for f in views.View.__dataclass_fields__}
    used |= {spec.title_key for spec in figures.CHARTS.values()} | {spec.help_key for spec in figures.CHARTS.values()}
    used |= {f"level.{lv}.{form}" for lv in (0, 1, 2, "other") for form in ("plural", "singular")}
    missing = sorted(k for k in used if k not in en)
    assert not missing, missing


def test_english_placeholders_are_filled_by_the_code() -> None:
    """Rendering a figure in English leaves no ``{placeholder}`` visible (spot check on real text)."""
    text = i18n.t("alt.map.status", "en", n_areas=3, areas="regions", n_gap=2, group="Women", indicator="X",
                  n_filled=1)
    assert "{" not in text and "Of 3 regions, 2" in text


@pytest.mark.parametrize(("lang", "n", "expected"), [
    ("en", 1, "1 error"), ("en", 3026, "3,026 errors"),
    ("fr", 1, "1 erreur"), ("fr", 3026, "3\u202f026 erreurs"),
    ("es", 1, "1 error"), ("es", 2, "2 errores"),
    ("ar", 1, "خطأ واحد"), ("ar", 2, "خطآن"), ("ar", 5, "أخطاء"), ("ar", 11, "خطأً"),
])
def test_counts_take_the_plural_form_and_number_format_of_the_language(lang: str, n: int, expected: str) -> None:
    """'1 citizen figures', '1 errors' and '3026' beside '3,026' came from plain {n} placeholders."""
    from data_layers import i18n

    text = i18n.t("ui.import.problems", lang, errors=n, warnings=0)
    assert expected.replace("\u202f", " ") in text.replace("\u202f", " ").replace("\xa0", " ")


def test_plural_placeholders_are_compared_across_languages() -> None:
    from data_layers import i18n

    msg = "{n, plural, one {# figure} other {# figures}} for {area}"
    assert i18n.placeholders(msg) == {"n", "area"}
    for lang in ("fr", "es", "ar"):
        assert i18n.placeholders(i18n.catalogue(lang)["alt.series"]) == i18n.placeholders(i18n.catalogue("en")["alt.series"])
