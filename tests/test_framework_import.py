"""SDG framework titles: import from the open-sdg/sdg-translations layout, titles per language,
visible English fallback, indicator codes checked against the framework, and the CLI.

The real files live in the maintainers' ``../shared/data/sdg_framework`` (they are not copied into
the project); tests that need them skip with a reason when that folder is absent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
import yaml

from data_layers import framework, storage
from data_layers.store import GapStore

ROOT = Path(__file__).resolve().parents[1]
SHARED_FRAMEWORK = Path(os.environ.get("GAPLENS_SDG_FRAMEWORK", ROOT.parent / "shared" / "data" / "sdg_framework"))
APP_LANGS = ("en", "fr", "es", "ar")

needs_framework = pytest.mark.skipif(
    not (SHARED_FRAMEWORK / "en" / "global_indicators.yml").is_file(),
    reason=f"SDG framework files not found at {SHARED_FRAMEWORK} (the maintainers' shared folder; set GAPLENS_SDG_FRAMEWORK)")


def _yaml(lang: str, kind: str) -> dict[str, str]:
    return yaml.safe_load((SHARED_FRAMEWORK / lang / framework.FILES[kind]).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample store with the four app languages imported (module scope: the import
    parses seven YAML files per language, done once)."""
    data = tmp_path_factory.mktemp("store") / "data"
    shutil.copytree(ROOT / "sample_data", data)
    if (SHARED_FRAMEWORK / "en").is_dir():
        framework.import_framework(SHARED_FRAMEWORK, data, langs=APP_LANGS)
    return data


@needs_framework
def test_import_writes_every_title_of_each_language(imported: Path) -> None:
    df = pd.read_csv(imported / framework.FRAMEWORK_FILE, dtype=str, keep_default_na=False)
    assert list(df.columns) == list(framework.COLUMNS)
    assert set(df["lang"]) == set(APP_LANGS)
    for lang in APP_LANGS:
        sub = df[df["lang"] == lang]
        for kind in framework.KINDS:
            expected = {k for k in _yaml(lang, kind) if k.endswith("-title")}
            assert (sub["kind"] == kind).sum() == len(expected), (lang, kind)
    # codes use dots, letters kept (5.b.1, 6.a), never the file's dashes
    codes = set(df["code"])
    assert {"6", "6.1", "6.a", "5.b.1", "17.8.1"} <= codes
    assert not any("-" in c for c in codes)
    assert (df["title"].str.strip() != "").all()


@needs_framework
def test_titles_come_in_the_requested_language(imported: Path) -> None:
    for lang in APP_LANGS:
        want = unicodedata.normalize("NFC", " ".join(_yaml(lang, "indicator")["6-1-1-title"].split()))
        assert framework.title("6.1.1", lang, imported) == (want, False)
        goal_short = unicodedata.normalize("NFC", _yaml(lang, "goal")["6-short"].strip())
        assert framework.title("6", lang, imported, short=True) == (goal_short, False)
    fr, _ = framework.title("5.b.1", "fr", imported)
    en, _ = framework.title("5.b.1", "en", imported)
    assert fr != en and "téléphone" in fr  # composed accents (NFC), whatever the file used
    # Arabic titles are Arabic script
    ar, _ = framework.title("6", "ar", imported)
    assert any("\u0600" <= ch <= "\u06ff" for ch in ar)


@needs_framework
def test_title_accepts_a_store_as_well_as_a_folder(imported: Path) -> None:
    store = GapStore(imported, rebuild_facts=False)
    try:
        assert framework.title("6.1.1", "es", store) == framework.title("6.1.1", "es", imported)
    finally:
        store.close()


@needs_framework
def test_missing_language_falls_back_to_english_visibly(tmp_path: Path) -> None:
    framework.import_framework(SHARED_FRAMEWORK, tmp_path, langs=["en", "fr"])
    text, fallback = framework.title("6.1.1", "es", tmp_path)
    assert fallback
    assert text.endswith(framework.FALLBACK_MARK)
    assert framework.strip_mark(text) == framework.title("6.1.1", "en", tmp_path)[0]
    assert framework.title("6.1.1", "fr", tmp_path)[1] is False


def test_without_any_import_titles_come_from_the_shipped_framework(tmp_path: Path) -> None:
    """No framework imported: every language the interface speaks shows the official title shipped
    with the project (not English marked "(EN)"); a national code lives only in the catalogue; an
    unknown code shows the code, never a blank."""
    shipped = pd.read_csv(framework.SHIPPED_FILE, dtype=str, keep_default_na=False)
    for lang in APP_LANGS:
        row = shipped[(shipped["code"] == "6.1.1") & (shipped["lang"] == lang)].iloc[0]
        assert framework.title("6.1.1", lang, tmp_path) == (row["title"], False)
    catalogue = storage.read_catalogue(tmp_path, "indicators")
    national = catalogue.iloc[[0]].assign(code="6.1.1.a", title="Ma mesure nationale")
    storage.write_catalogue(tmp_path, "indicators", pd.concat([catalogue, national], ignore_index=True))
    assert framework.title("6.1.1.a", "en", tmp_path) == ("Ma mesure nationale", False)
    assert framework.title("6.1.1.a", "ar", tmp_path) == ("Ma mesure nationale" + framework.FALLBACK_MARK, True)
    assert framework.title("99.9.9", "fr", tmp_path) == ("99.9.9", True)


def test_shipped_titles_equal_a_fresh_parse_of_the_source() -> None:
    """data_layers/sdg_framework/framework_titles.csv is derived, not edited (its PROVENANCE.md)."""
    if not (SHARED_FRAMEWORK / "en").is_dir():
        pytest.skip("../shared/data/sdg_framework is absent: nothing to compare the shipped table with")
    shipped = pd.read_csv(framework.SHIPPED_FILE, dtype=str, keep_default_na=False)
    fresh = framework.read_framework(SHARED_FRAMEWORK)
    pd.testing.assert_frame_equal(shipped.reset_index(drop=True), fresh.reset_index(drop=True), check_dtype=False)
    assert set(shipped["lang"]) == {"en", "fr", "es", "ar", "ru", "sw", "zh-Hans"}


@needs_framework
def test_every_catalogue_indicator_has_a_non_blank_title_in_every_language(imported: Path) -> None:
    codes = storage.read_catalogue(imported, "indicators")["code"]
    for code in codes:
        for lang in APP_LANGS:
            text, fallback = framework.title(code, lang, imported)
            assert text.strip() and text != code, (code, lang)
            assert not fallback, (code, lang)  # the sample's 18 indicators all exist in the framework


@needs_framework
def test_unknown_and_national_codes_are_reported(imported: Path, tmp_path: Path) -> None:
    store = GapStore(imported, rebuild_facts=False)
    try:
        assert framework.unknown_codes(store) == ([], [])
    finally:
        store.close()
    # a catalogue naming a retired code and a national one
    data = tmp_path / "d"
    data.mkdir()
    shutil.copy(imported / framework.FRAMEWORK_FILE, data / framework.FRAMEWORK_FILE)
    cat = storage.read_catalogue(data, "indicators")
    extra = cat.iloc[[0, 0]].copy()
    extra["code"] = ["17.99.1", "6.1.1.a"]
    storage.write_catalogue(data, "indicators", pd.concat([cat, extra], ignore_index=True))
    assert framework.unknown_codes(data) == (["17.99.1"], ["6.1.1.a"])


def _tiny_framework(root: Path, lang: str = "fr", **overrides: str) -> Path:
    folder = root / lang
    folder.mkdir(parents=True)
    goals = {"6-title": "Eau titre", "6-short": "Eau"}
    targets = {"6-1-title": "Cible 6.1", "6-a-title": "Cible 6.a"}
    indicators = {"6-1-1-title": "Indicateur\n  6.1.1"}
    for name, data in (("goal", goals), ("target", targets), ("indicator", indicators)):
        text = overrides.get(name) or yaml.safe_dump(data, allow_unicode=True)
        (folder / framework.FILES[name]).write_text(text, encoding="utf-8")
    return root


def test_import_of_a_small_folder_normalises_codes_and_spaces(tmp_path: Path) -> None:
    src = _tiny_framework(tmp_path / "fw")
    report = framework.import_framework(src, tmp_path)
    assert report.counts == {"fr": {"goal": 1, "target": 2, "indicator": 1}}
    assert framework.title("6.a", "fr", tmp_path) == ("Cible 6.a", False)
    assert framework.title("6.1.1", "fr", tmp_path) == ("Indicateur 6.1.1", False)


def test_reimport_of_one_language_keeps_the_others(tmp_path: Path) -> None:
    framework.import_framework(_tiny_framework(tmp_path / "a", "fr"), tmp_path)
    framework.import_framework(_tiny_framework(tmp_path / "b", "es"), tmp_path)
    assert set(framework.load_titles(tmp_path)["lang"]) == {"fr", "es"}
    new = _tiny_framework(tmp_path / "c", "fr", goal=yaml.safe_dump({"6-title": "Nouveau titre"}))
    framework.import_framework(new, tmp_path)
    assert framework.title("6", "fr", tmp_path) == ("Nouveau titre", False)
    assert framework.title("6", "es", tmp_path) == ("Eau titre", False)


@pytest.mark.parametrize(("override", "fragment"), [
    ({"indicator": "6-1-1-name: x\n"}, "is not like"),
    ({"indicator": "6-1-title: x\n"}, "is not a indicator code"),
    ({"goal": "- just\n- a list\n"}, "expected a mapping"),
    ({"target": "6-1-title: [1, 2]\n"}, "expected text"),
    ({"goal": "6-title: 'unclosed\n"}, "not valid YAML"),
])
def test_bad_folders_are_refused_whole_and_write_nothing(tmp_path: Path, override: dict[str, str], fragment: str) -> None:
    framework.import_framework(_tiny_framework(tmp_path / "good", "es"), tmp_path)
    before = (tmp_path / framework.FRAMEWORK_FILE).read_bytes()
    with pytest.raises(framework.FrameworkError) as err:
        framework.import_framework(_tiny_framework(tmp_path / "bad", "fr", **override), tmp_path)
    assert any(fragment in p for p in err.value.problems), err.value.problems
    assert (tmp_path / framework.FRAMEWORK_FILE).read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    src = _tiny_framework(tmp_path / "fw")
    (src / "fr" / framework.FILES["goal"]).write_bytes("6-title: Énergie\n".encode("latin-1"))
    with pytest.raises(framework.FrameworkError) as err:
        framework.import_framework(src, tmp_path)
    assert any("not UTF-8" in p for p in err.value.problems)
    assert not (tmp_path / framework.FRAMEWORK_FILE).exists()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "data_layers", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120, check=False)


def test_cli_import_framework(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    res = _cli("import", "framework", str(_tiny_framework(tmp_path / "fw")), "--data-dir", str(data))
    assert res.returncode == 0, res.stderr
    assert "fr: 1 goals, 2 targets, 1 indicators" in res.stdout
    assert framework.title("6", "fr", data) == ("Eau titre", False)


def test_cli_refuses_a_bad_folder_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    src = _tiny_framework(tmp_path / "fw", indicator="6-1-1-name: x\n")
    res = _cli("import", "framework", str(src), "--data-dir", str(data))
    assert res.returncode == 2
    assert "6-1-1-name" in res.stderr and "Traceback" not in res.stderr
    assert not (data / framework.FRAMEWORK_FILE).exists()
    res = _cli("import", "framework", str(tmp_path / "nowhere"), "--data-dir", str(data))
    assert res.returncode == 2 and "not a folder" in res.stderr


@needs_framework
def test_cli_reports_codes_unknown_to_the_framework(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    cat = storage.read_catalogue(data, "indicators")
    extra = cat.iloc[[0]].copy()
    extra["code"] = ["17.99.1"]
    storage.write_catalogue(data, "indicators", pd.concat([cat, extra], ignore_index=True))
    res = _cli("import", "framework", str(SHARED_FRAMEWORK), "--lang", "en", "--data-dir", str(data))
    assert res.returncode == 0, res.stderr
    assert "17.99.1" in res.stderr and "not in the framework" in res.stderr


@needs_framework
def test_dashboard_full_titles_come_from_the_framework(imported: Path, tmp_path: Path) -> None:
    """The pages' full indicator titles (hover, matrix axis) are the framework's in the chosen
    language; a store without imported titles shows the shipped framework's, unmarked."""
    from data_layers import views

    store = GapStore(imported, rebuild_facts=False)
    try:
        fr = views.indicator_title(store, "6.1.1", "fr", full=True)
        assert fr == framework.title("6.1.1", "fr", imported)[0] and "eau potable" in fr
        assert views.indicator_label(store, "6.1.1", "ar", full=True).startswith(framework.title("6.1.1", "ar", imported)[0])
    finally:
        store.close()
    bare = tmp_path / "bare"
    shutil.copytree(imported, bare, ignore=shutil.ignore_patterns(framework.FRAMEWORK_FILE, "boundaries"))
    store = GapStore(bare, rebuild_facts=False)
    try:  # no import: the shipped framework speaks Spanish too, unmarked
        es = views.indicator_title(store, "6.1.1", "es", full=True)
        assert not es.endswith(framework.FALLBACK_MARK) and es == framework.title("6.1.1", "es", bare)[0]
        assert views.indicator_title(store, "6.1.1", "en", full=True) == framework.title("6.1.1", "en", bare)[0]
    finally:
        store.close()
