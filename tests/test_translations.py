"""Translations are complete and consistent, pages route their text through ``t()``, and numbers,
percentages and dates follow the locale.

Fails when an English key has no French, Spanish or Arabic entry, when a translation's
``{placeholders}`` differ from the English ones, when a catalogue carries a key English no longer
has, or when a page passes a literal English sentence straight to a Streamlit display call.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from data_layers import i18n

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "data_layers" / "locales"
TRANSLATED = tuple(lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT_LANG)
#: proper names that are the same in every language and may appear literally
BRAND_WORDS = frozenset({"GapLens"})


def _raw(lang: str) -> dict[str, object]:
    """The file as written (not i18n's cleaned view, which drops empty entries)."""
    path = LOCALES / f"{lang}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    return data or {}


def test_english_catalogue_exists_and_is_well_formed() -> None:
    en = _raw("en")
    assert len(en) > 20, "data_layers/locales/en.yaml is missing or nearly empty"
    bad = [k for k in en if not i18n.valid_key(str(k))]
    assert not bad, f"keys must be dotted lowercase paths: {bad[:10]}"
    not_text = [k for k, v in en.items() if not isinstance(v, str) or not v.strip()]
    assert not not_text, f"English entries must be non-empty text: {not_text[:10]}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_english_key_has_a_translation(lang: str) -> None:
    en, other = _raw("en"), _raw(lang)
    missing = sorted(k for k in en if not isinstance(other.get(k), str) or not str(other.get(k)).strip())
    assert not missing, f"{len(missing)} key(s) of en.yaml have no {lang} entry in {lang}.yaml: {missing[:20]}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_no_stale_keys(lang: str) -> None:
    """A key English dropped or renamed is dead text in the other catalogues."""
    en, other = _raw("en"), _raw(lang)
    stale = sorted(k for k in other if k not in en)
    assert not stale, f"{lang}.yaml has keys that en.yaml no longer has: {stale[:20]}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_placeholders_match_english(lang: str) -> None:
    en, other = _raw("en"), _raw(lang)
    diff = {k: (sorted(i18n.placeholders(en[k])), sorted(i18n.placeholders(str(other[k]))))
            for k in en if k in other and i18n.placeholders(en[k]) != i18n.placeholders(str(other[k]))}
    assert not diff, f"{lang}: placeholders differ from English (en, {lang}): {dict(list(diff.items())[:10])}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_are_not_english_copies(lang: str) -> None:
    """A sentence left in English is not a translation (short labels, codes and names may match)."""
    en, other = _raw("en"), _raw(lang)
    def words(text: str) -> list[str]:
        return re.findall(r"[A-Za-z]{3,}", re.sub(r"\{[^}]*\}|<[^>]*>", " ", text))

    copies = [k for k in en if other.get(k) == en[k] and len(words(en[k])) >= 4]
    assert not copies, f"{lang}: these sentences are identical to English: {copies[:10]}"


#: format and standard names that stay in Latin script in Arabic text
LATIN_NAMES = BRAND_WORDS | {"CSV", "XLSX", "PNG", "SVG", "PDF", "SDMX", "URL", "ISO", "WCAG", "A4", "Letter", "n"}


def test_arabic_is_in_arabic_script() -> None:
    """Arabic messages with words read in Arabic script (placeholders and tags aside)."""
    latin_only = []
    for key, value in _raw("ar").items():
        text = re.sub(r"\{[^}]*\}|<[^>]*>", " ", str(value))
        latin = set(re.findall(r"[A-Za-z]{2,}", text)) - LATIN_NAMES
        if latin and not re.search(r"[\u0600-\u06ff]", text):
            latin_only.append(key)
    assert not latin_only, f"ar.yaml entries without Arabic script: {latin_only[:10]}"


def test_t_uses_the_language_and_fills_placeholders() -> None:
    en = _raw("en")
    key = next(k for k, v in en.items() if i18n.placeholders(v))
    kwargs = {name: "⟨X⟩" for name in i18n.placeholders(en[key])}
    texts = {lang: i18n.t(key, lang, **kwargs) for lang in i18n.LANGUAGES}
    assert all("⟨X⟩" in s and "{" not in s for s in texts.values()), texts
    assert len(set(texts.values())) == len(texts), f"{key} reads the same in two languages: {texts}"


# --- pages route their text through t() ---------------------------------------------------------

#: Streamlit calls whose first argument (or these keywords) a person reads
DISPLAY_CALLS = frozenset({
    "title", "header", "subheader", "markdown", "caption", "text", "write", "info", "warning", "error",
    "success", "toast", "button", "download_button", "link_button", "page_link", "selectbox", "multiselect",
    "radio", "checkbox", "toggle", "slider", "select_slider", "number_input", "text_input", "text_area",
    "date_input", "file_uploader", "expander", "popover", "metric", "tabs", "form_submit_button",
    "set_page_config", "Page", "status", "spinner", "segmented_control", "pills", "dialog",
})
LABEL_KEYWORDS = frozenset({"label", "help", "placeholder", "page_title", "title", "body", "value_label", "caption"})
_TAG = re.compile(r"<[^>]*>|&[a-z]+;|&#\d+;")
_WORD = re.compile(r"[^\W\d_]{2,}")


def _readable(text: str) -> bool:
    """True when literal text contains words a person reads (outside HTML tags, CSS, entities)."""
    stripped = _TAG.sub(" ", text)
    if re.fullmatch(r"\s*[.#@:\w-]+\s*\{.*\}\s*", stripped, flags=re.S):
        return False  # a CSS rule
    words = [w for w in _WORD.findall(stripped) if w not in BRAND_WORDS]
    return bool(words)


def _literal_text(node: ast.AST) -> str | None:
    """Readable literal text of an argument, or None when it is computed (t(), a variable...)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if i18n.valid_key(node.value):
            return None  # a message key handed to a helper that calls t() (checked below)
        return node.value if _readable(node.value) else None
    if isinstance(node, ast.JoinedStr):
        lit = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
        return lit if _readable(lit) else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_text(node.left) or _literal_text(node.right)
    if isinstance(node, ast.List | ast.Tuple):  # st.tabs(["Map", "Table"])
        for elt in node.elts:
            found = _literal_text(elt)
            if found:
                return found
    return None


def _ui_sources() -> list[Path]:
    files = sorted((ROOT / "app_pages").glob("*.py"))
    if (ROOT / "dashboard.py").is_file():
        files.append(ROOT / "dashboard.py")
    return files


def literal_ui_strings(path: Path) -> list[str]:
    """``file:line: text`` for every literal sentence passed to a Streamlit display call."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name not in DISPLAY_CALLS:
            continue
        if isinstance(func, ast.Name) and name not in {"Page"}:
            continue  # a local function that happens to be called `title`
        args = list(node.args[:1]) + [k.value for k in node.keywords if k.arg in LABEL_KEYWORDS]
        for arg in args:
            text = _literal_text(arg)
            if text:
                where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                found.append(f"{where}:{node.lineno}: {name}({text.strip()[:60]!r})")
    return found


def test_the_heuristic_catches_literals_and_spares_t_calls(tmp_path: Path) -> None:
    src = tmp_path / "page.py"
    src.write_text(
        "import streamlit as st\n"
        "st.title('Coverage of groups')\n"                       # caught
        "st.sidebar.selectbox(label=f'Pick a {x}', options=[])\n"  # caught
        "st.tabs(['Map', t('tab.table', lang)])\n"               # caught (Map)
        "st.header(t('page.title', lang))\n"                     # fine
        "st.markdown(f'<div class=\"x\">{t(\"k\", lang)}</div>', unsafe_allow_html=True)\n"  # fine
        "st.markdown('---')\n"                                   # fine
        "st.caption(f'{a} · {b}')\n"                             # fine
        "st.markdown('<style>.st-key-x {color: red}</style>', unsafe_allow_html=True)\n",  # fine
        encoding="utf-8")
    hits = [h.split(": ", 1)[1] for h in literal_ui_strings(src)]
    assert hits == ["title('Coverage of groups')", "selectbox('Pick a')", "tabs('Map')"]


def test_pages_pass_no_literal_sentences_to_streamlit() -> None:
    files = _ui_sources()
    if not files:
        pytest.skip("no pages yet (app_pages/*.py, dashboard.py)")
    hits = [h for f in files for h in literal_ui_strings(f)]
    assert not hits, "user-facing literals outside t():\n" + "\n".join(hits[:30])


def _t_keys_used(path: Path) -> set[str]:
    keys: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and ((isinstance(node.func, ast.Name) and node.func.id in {"t", "_"})
                     or (isinstance(node.func, ast.Attribute) and node.func.attr == "t"))):
            keys.add(node.args[0].value)
    return keys


def _page_key_constants(path: Path) -> set[str]:
    """String constants of a page that look like message keys of a known prefix (``ui.x.y``)."""
    prefixes = {k.split(".", 1)[0] for k in _raw("en")}
    return {n.value for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and i18n.valid_key(n.value)
            and n.value.split(".", 1)[0] in prefixes and not n.value.endswith((".py", ".csv", ".yaml", "_", "."))}


def test_every_literal_key_passed_to_t_exists_in_english() -> None:
    """A typo in a key shows the raw key to users; literal keys are checked here."""
    sources = _ui_sources() + sorted((ROOT / "data_layers").rglob("*.py"))
    en = _raw("en")
    used = {(k, p) for p in sources for k in _t_keys_used(p)}
    used |= {(k, p) for p in _ui_sources() for k in _page_key_constants(p)}
    unknown = sorted({f"{k} ({p.relative_to(ROOT)})" for k, p in used if i18n.valid_key(k) and k not in en})
    assert not unknown, f"t() keys missing from en.yaml: {unknown[:20]}"


# --- locale formatting -----------------------------------------------------------------------------

def test_numbers_and_percentages_follow_the_locale() -> None:
    # Babel's own CLDR data is the reference; these are its outputs for the four languages
    assert i18n.format_percent(0.125, "en", decimals=1) == "12.5%"
    assert i18n.format_percent(0.125, "fr", decimals=1) == "12,5\u00a0%"
    assert i18n.format_percent(0.125, "es", decimals=1) == "12,5\u00a0%"
    assert i18n.format_number(1234567.5, "fr") == "1\u202f234\u202f567,5"
    assert i18n.format_number(1234567.5, "es") == "1.234.567,5"
    assert i18n.format_number(1234567.5, "en") == "1,234,567.5"
    from babel.numbers import format_decimal, format_percent

    assert i18n.format_number(1234567.5, "ar") == format_decimal(1234567.5, format="#,##0.0", locale="ar")
    assert i18n.format_percent(0.125, "ar", decimals=1) == format_percent(0.125, format="#,##0.0%", locale="ar")
    samples = {lang: (i18n.format_percent(0.125, lang, decimals=1), i18n.format_number(1234567.5, lang))
               for lang in i18n.LANGUAGES}
    assert len(set(samples.values())) >= 3, samples
    assert i18n.format_year(2024, "fr") == "2024"  # a year has no thousands separator


def test_dates_follow_the_locale() -> None:
    from babel.dates import format_date

    day = dt.date(2024, 3, 5)
    texts = {lang: format_date(day, format="long", locale=i18n.babel_locale(lang)) for lang in i18n.LANGUAGES}
    assert texts["fr"] == "5 mars 2024"
    assert texts["es"] == "5 de marzo de 2024"
    assert "مارس" in texts["ar"]
    assert len(set(texts.values())) == len(texts)
    assert {lang: i18n.format_date(day, lang) for lang in i18n.LANGUAGES} == texts
    assert i18n.format_date("2024-03-05T10:00:00Z", "fr") == "5 mars 2024"
    assert i18n.format_date("spring 2023", "fr") == "spring 2023"  # not a date: shown as given
    assert i18n.format_date(None, "es") == "–"


# --- catalogue texts (group labels, indicator short titles) ------------------------------------

CATALOGUE_FIELDS = {"groups.csv": "label", "indicators.csv": "short_title"}


def _default_rows() -> list[tuple[dict[str, str], str]]:
    import pandas as pd

    rows = []
    for name, field in CATALOGUE_FIELDS.items():
        df = pd.read_csv(ROOT / "data_layers" / "tables" / name, dtype=str, keep_default_na=False)
        rows += [(r, field) for r in df.to_dict("records")]
    return rows


def test_default_catalogue_texts_are_in_the_message_catalogue() -> None:
    """Each default group label and indicator short title has a message key whose English text is
    the table's, so that it is translated like every other string (and drift is caught here)."""
    en = _raw("en")
    wrong = []
    for row, field in _default_rows():
        key = i18n.catalogue_key(row, field)
        if key is None or en.get(key) != row[field]:
            wrong.append(f"{key}: en.yaml has {en.get(key)!r}, the table {row[field]!r}")
    assert not wrong, "catalogue texts out of step with data_layers/tables:\n" + "\n".join(wrong)


def test_catalogue_text_translates_only_the_default_english() -> None:
    row, field = next((r, f) for r, f in _default_rows() if r.get("group_id") == "women")
    assert i18n.catalogue_text(row, field, "fr") == _raw("fr")[i18n.catalogue_key(row, field)]
    assert i18n.catalogue_text(row, field, "en") == row[field]
    edited = {**row, field: "Women and girls (edited by the office)"}
    assert i18n.catalogue_text(edited, field, "fr") == edited[field]  # no stale translation
    own = {**row, f"{field}_fr": "Femmes (colonne du catalogue)"}
    assert i18n.catalogue_text(own, field, "fr") == "Femmes (colonne du catalogue)"
