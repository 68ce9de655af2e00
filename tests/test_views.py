"""The view in the URL: round trip, validation against the store with visible notices, stories,
and no code execution from a parameter."""

from __future__ import annotations

import ast
import builtins
import pickle
from pathlib import Path

import pytest

from data_layers import views
from data_layers.views import View

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_make_an_empty_link(sample_store) -> None:
    v = View()
    assert v.indicator == "6.1.1" and v.group == "disability" and v.level == 1
    assert v.as_of == 2024 and v.window == 5 and v.metric == "status" and v.lang == "en"
    assert v.to_params() == {}
    again, notices = View.from_params({}, store=sample_store)
    assert again == v and notices == []


def test_round_trip_of_every_field(sample_store) -> None:
    story = ("overview", views.encode_story_item("gap-map", View(indicator="6.2.1", group="women", level=2)))
    v = View(goal=6, indicator="6.2.1", group="women", level=2, as_of=2020, window=3, area="PH-05",
             metric="gap", sort="gap", lang="fr", present=True, contrast=True, story=story, step=1)
    params = v.to_params()
    assert all(isinstance(x, str) for x in params.values())
    back, notices = View.from_params(params, store=sample_store)
    assert notices == []
    assert back == v
    # views are hashable (they key caches) and replace() keeps them immutable
    assert hash(back) == hash(v)
    assert v.replace(group="rural").group == "rural" and v.group == "women"


def test_only_non_default_values_are_written() -> None:
    assert View(group="rural").to_params() == {"group": "rural"}
    assert View(indicator=None).to_params() == {"indicator": "all"}
    assert View(present=True).to_params() == {"present": "1"}


def test_list_values_from_the_url_are_accepted(sample_store) -> None:
    v, notices = View.from_params({"group": ["women", "men"], "level": ["2"]}, store=sample_store)
    assert (v.group, v.level, notices) == ("women", 2, [])


BAD = {
    "indicator": "9.9.9",
    "group": "martians",
    "level": "7",
    "as_of": "20x4",
    "window": "0",
    "area": "<script>alert(1)</script>",
    "metric": "pie",
    "sort": "random",
    "present": "maybe",
    "goal": "18",
    "story": "overview,../../etc/passwd",
    "step": "4",
}


def test_every_invalid_parameter_falls_back_with_a_notice(sample_store) -> None:
    v, notices = View.from_params(BAD, store=sample_store)
    d = View()
    assert (v.indicator, v.group, v.level, v.as_of, v.window, v.area, v.metric, v.sort, v.present, v.goal,
            v.story, v.step) == (d.indicator, d.group, d.level, d.as_of, d.window, None, d.metric, d.sort,
                                 False, None, (), 0)
    assert len(notices) == len(BAD)
    text = " ".join(notices)
    for word in ("indicator", "group", "admin level", "as-of year", "freshness window", "area", "map measure",
                 "sort order", "presentation mode", "goal", "presentation sequence", "presentation step"):
        assert word in text, word
    # the user's value is quoted but made harmless
    assert "<script>" not in text and "?script?" in text
    assert "9.9.9" in text and "Safe drinking water" not in text  # fallback named by code, not by the bad value


def test_notices_follow_the_chosen_language(sample_store) -> None:
    _, notices = View.from_params({"lang": "xx", "group": "martians"}, store=sample_store)
    assert len(notices) == 2 and all(n.strip() for n in notices)
    v, notices = View.from_params({"lang": "ar"}, store=sample_store)
    assert v.lang == "ar" and v.is_rtl and notices == []


def test_indicator_outside_the_goal_is_refused(sample_store) -> None:
    v, notices = View.from_params({"goal": "5", "indicator": "6.1.1"}, store=sample_store)
    assert v.goal == 5 and v.indicator in {"5.2.1", "5.b.1"}
    assert len(notices) == 1 and "6.1.1" in notices[0]
    v, notices = View.from_params({"goal": "5"}, store=sample_store)  # no indicator given: the goal's first
    assert v.indicator == "5.2.1" and notices == []


def test_no_eval_no_pickle(sample_store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_eval, real_exec = builtins.eval, builtins.exec

    def guard(real):
        def check(*a, **k):
            # libraries may eval their own constant code (namedtuple does); never a URL value
            if any("pwned" in str(x) or "import os" in str(x) for x in a):
                raise AssertionError("a URL parameter reached eval/exec")
            return real(*a, **k)
        return check

    def refuse(*_a, **_k):
        raise AssertionError("a URL parameter reached pickle")

    monkeypatch.setattr(builtins, "eval", guard(real_eval))
    monkeypatch.setattr(builtins, "exec", guard(real_exec))
    monkeypatch.setattr(pickle, "loads", refuse)
    marker = tmp_path / "pwned"
    payloads = {k: f"__import__('os').system('touch {marker}')" for k in BAD}
    payloads["as_of"] = "2024; import os"
    payloads["story"] = "overview~indicator=__import__('os')"
    v, notices = View.from_params(payloads, store=sample_store)
    assert not marker.exists()
    assert v.indicator == View().indicator and len(notices) == len(payloads)
    tree = ast.parse((ROOT / "data_layers" / "views.py").read_text(encoding="utf-8"))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)
                for a in n.names} | {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not imported & {"pickle", "marshal", "shelve", "dill", "ast"}
    calls = [n.func for n in ast.walk(tree) if isinstance(n, ast.Call)]
    builtin_calls = {f.id for f in calls if isinstance(f, ast.Name)}
    method_calls = {f.attr for f in calls if isinstance(f, ast.Attribute)}
    assert not builtin_calls & {"eval", "exec", "__import__", "compile"}
    assert not method_calls & {"literal_eval", "loads", "load", "unsafe_load"}


def test_huge_values_are_refused_cheaply(sample_store) -> None:
    v, notices = View.from_params({"story": "overview," * 10_000, "area": "X" * 100_000}, store=sample_store)
    assert v.story == () and v.area is None and len(notices) == 2
    assert all(len(n) < 300 for n in notices)


def test_story_items_and_steps(sample_store) -> None:
    item = views.encode_story_item("gap-map", View(indicator="6.2.1", group="women", level=2, lang="fr"))
    assert item == "gap-map~indicator=6.2.1~group=women~level=2"  # the language belongs to the whole story
    assert views.story_item(item) == ("gap-map", {"indicator": "6.2.1", "group": "women", "level": "2"})
    for bad in ("Gap Map", "gap-map~lang=fr", "gap-map~indicator", "gap-map~group=a b", "gap-map~group=x~group=y"):
        assert views.story_item(bad) is None, bad
    with pytest.raises(ValueError, match="slug"):
        views.encode_story_item("../x")
    base = View(lang="fr", present=True, story=("overview", item, "area-profile~area=PH-05"))
    slug, stepped, notices = views.story_step(base, store=sample_store, step=1)
    assert slug == "gap-map" and notices == []
    assert (stepped.indicator, stepped.group, stepped.level, stepped.lang, stepped.present, stepped.step) == (
        "6.2.1", "women", 2, "fr", True, 1)
    assert stepped.story == base.story
    slug, stepped, _ = views.story_step(base.replace(step=2), store=sample_store)
    assert (slug, stepped.area) == ("area-profile", "PH-05")
    # an item naming an unknown code is validated like any URL value
    slug, stepped, notices = views.story_step(View(story=("gap-map~group=martians",)), store=sample_store)
    assert slug == "gap-map" and stepped.group == "disability" and len(notices) == 1


def test_describe_states_the_filters_in_words(sample_store) -> None:
    text = views.describe(View(), sample_store, "en")
    assert text == "Persons with disabilities · Safe drinking water (6.1.1) · regions · as of 2024, 5-year window"
    text = views.describe(View(group="rural", indicator=None, goal=6, level=2, as_of=2019, window=3),
                          sample_store, "en")
    assert text == "Rural people · Goal 6 · provinces · as of 2019, 3-year window"
    assert "Bicol (Region V)" in views.describe(View(area="PH-05"), sample_store, "en")
    assert views.level_label(5, "en") == "areas at level 5"


def test_catalogue_lookups(sample_store) -> None:
    assert views.home_area(sample_store) == "PHL"
    assert views.indicator_label(sample_store, "6.1.1", "en") == "Safe drinking water (6.1.1)"
    assert views.indicator_title(sample_store, "6.1.1", "en", full=True).startswith("Proportion of population")
    assert views.group_label(sample_store, "disability", "en") == "Persons with disabilities"
    assert views.area_name(sample_store, "PH-05") == "Bicol (Region V)"
    assert views.is_missing(None) and views.is_missing(float("nan")) and not views.is_missing(0)
