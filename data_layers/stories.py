"""Presentation stories: ordered slides, each one view with a title and a caption the presenter writes.

A story is small JSON, kept in the store as ``stories/<name>.json`` (written atomically) and
carried in a URL either by its name (``?present=1&story=sample``: found among the stored stories)
or whole (``story=z.<base64url of zlib-compressed JSON>``), so a link still works on a machine
that does not hold the file. Nothing here is unpickled or evaluated: a story is parsed as JSON
and every field is checked (page slug, filter keys and values, text lengths) before use; a bad
file is refused with a message naming the file, the slide and the field.

Shape of a story file::

    {"name": "sample", "title": "Water and disability in the Philippines", "lang": "en",
     "slides": [{"page": "gap_map", "chart": "gap-map", "title": "...", "caption": "...",
                 "filters": {"indicator": "6.1.1", "group": "disability", "level": "2"}}]}
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import views

log = logging.getLogger(__name__)

STORIES_DIR = "stories"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
"""A story's name: also its file name, so no dots, slashes or capitals (one spelling per file)."""
INLINE_PREFIX = "z."
"""Marks a whole story carried in the URL; a page slug never contains a dot, so no ambiguity."""
MAX_TITLE_CHARS = 140     # a slide title is one line on a projector
MAX_CAPTION_CHARS = 600   # about three lines of large type beside the chart
MAX_FILE_BYTES = 200_000  # a story of 30 slides is ~10 kB; anything far larger is not a story
MAX_INLINE_CHARS = 6000   # browsers and proxies accept URLs of 8 kB; keep room for the rest
MAX_INFLATED_BYTES = 100_000  # a compressed URL story never inflates beyond this (no zip bomb)

DEFAULT_CHARTS: dict[str, str] = {
    "overview": "overview",
    "gap_map": "gap-map",
    "coverage_matrix": "coverage-matrix",
    "area_profile": "group-comparison",
}
"""The one chart a slide of each page shows when the story does not name one; pages without an
entry (citizen data, about) are shown as their page in large type."""


class StoryError(ValueError):
    """A story file or link that cannot be used; the message names where and what."""


@dataclass(frozen=True)
class Slide:
    """One step: a page, the filters it shows, its one chart, and the presenter's words."""

    page: str
    filters: tuple[tuple[str, str], ...] = ()
    chart: str = ""
    title: str = ""
    caption: str = ""

    @property
    def item(self) -> str:
        """The compact story item (``gap_map~indicator=6.1.1~group=women``) the view steps through."""
        return views.STORY_PARAM_SEP.join([self.page, *(f"{k}={v}" for k, v in self.filters)])

    @property
    def chart_name(self) -> str:
        """The chart this slide shows: its own, else the page's main chart, else none."""
        return self.chart or DEFAULT_CHARTS.get(self.page, "")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"page": self.page}
        if self.chart:
            out["chart"] = self.chart
        if self.title:
            out["title"] = self.title
        if self.caption:
            out["caption"] = self.caption
        if self.filters:
            out["filters"] = dict(self.filters)
        return out


@dataclass(frozen=True)
class Story:
    """An ordered list of slides with a name and a title."""

    name: str = ""
    title: str = ""
    lang: str = ""
    slides: tuple[Slide, ...] = field(default_factory=tuple)

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(s.item for s in self.slides)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "title": self.title}
        if self.lang:
            out["lang"] = self.lang
        out["slides"] = [s.to_dict() for s in self.slides]
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"


# --- building and checking ------------------------------------------------------------------------

def _text(value: Any, limit: int, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise StoryError(f"{where}: expected text, found {type(value).__name__} {value!r:.60}")
    text = " ".join(value.split())
    if len(text) > limit:
        raise StoryError(f"{where}: {len(text)} characters, at most {limit} fit on a slide")
    return text


def slide_from_dict(d: Any, where: str = "slide") -> Slide:
    """A checked slide from its JSON object (``StoryError`` naming the field otherwise)."""
    if not isinstance(d, dict):
        raise StoryError(f"{where}: expected an object with a 'page', found {type(d).__name__}")
    unknown = set(d) - {"page", "chart", "title", "caption", "filters"}
    if unknown:
        raise StoryError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    page = d.get("page")
    if not isinstance(page, str) or not views.story_item(page.replace("-", "_")):
        raise StoryError(f"{where}, field 'page': not a page name: {page!r:.60}")
    page = page.replace("-", "_")
    filters = d.get("filters") or {}
    if not isinstance(filters, dict):
        raise StoryError(f"{where}, field 'filters': expected an object of filter = value")
    pairs: list[tuple[str, str]] = []
    for key in views.STORY_KEYS:  # a fixed order: the same slide always gives the same link
        if key in filters:
            pairs.append((key, str(filters[key])))
    bad = [k for k in filters if k not in views.STORY_KEYS]
    if bad:
        raise StoryError(f"{where}, field 'filters': {bad[0]!r:.40} is not a filter "
                         f"(allowed: {', '.join(views.STORY_KEYS)})")
    item = views.STORY_PARAM_SEP.join([page, *(f"{k}={v}" for k, v in pairs)])
    if views.story_item(item) is None:
        k, v = next(((k, v) for k, v in pairs if views.story_item(f"{page}~{k}={v}") is None), ("", ""))
        raise StoryError(f"{where}, filter {k!r}: value {v!r:.60} is not a plain code")
    chart = d.get("chart") or ""
    if chart:
        from .figures import CHARTS

        if chart not in CHARTS:
            raise StoryError(f"{where}, field 'chart': unknown chart {chart!r:.40} (known: {', '.join(CHARTS)})")
    return Slide(page=page, filters=tuple(pairs), chart=chart,
                 title=_text(d.get("title"), MAX_TITLE_CHARS, f"{where}, field 'title'"),
                 caption=_text(d.get("caption"), MAX_CAPTION_CHARS, f"{where}, field 'caption'"))


def from_dict(d: Any, where: str = "story") -> Story:
    """A checked story from its JSON object."""
    if not isinstance(d, dict):
        raise StoryError(f"{where}: expected a JSON object with 'slides'")
    name = d.get("name") or ""
    if name and (not isinstance(name, str) or not NAME_RE.match(name)):
        raise StoryError(f"{where}, field 'name': {name!r:.60} is not a story name "
                         "(lower-case letters, digits, - and _, at most 40)")
    slides = d.get("slides")
    if not isinstance(slides, list) or not slides:
        raise StoryError(f"{where}, field 'slides': expected a non-empty list of slides")
    if len(slides) > views.MAX_STORY_ITEMS:
        raise StoryError(f"{where}: {len(slides)} slides, at most {views.MAX_STORY_ITEMS}")
    lang = d.get("lang") or ""
    return Story(name=name, title=_text(d.get("title"), MAX_TITLE_CHARS, f"{where}, field 'title'"),
                 lang=lang if isinstance(lang, str) and len(lang) <= 5 else "",
                 slides=tuple(slide_from_dict(s, f"{where}, slide {i + 1}") for i, s in enumerate(slides)))


def from_json(text: str | bytes, where: str = "story") -> Story:
    if len(text) > MAX_FILE_BYTES:
        raise StoryError(f"{where}: {len(text)} bytes, a story is at most {MAX_FILE_BYTES}")
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise StoryError(f"{where}: not JSON ({e})") from e
    return from_dict(data, where)


def from_items(items: tuple[str, ...]) -> Story:
    """A story from the compact items of an older link (no titles or captions)."""
    slides = []
    for item in items:
        parsed = views.story_item(item)
        if parsed is None:
            continue
        slug, overrides = parsed
        slides.append(Slide(page=slug.replace("-", "_"), filters=tuple(overrides.items())))
    return Story(slides=tuple(slides))


# --- the store --------------------------------------------------------------------------------------

def path(data_dir: Path, name: str) -> Path:
    if not NAME_RE.match(name or ""):
        raise StoryError(f"{name!r:.60} is not a story name (lower-case letters, digits, - and _, at most 40)")
    return Path(data_dir) / STORIES_DIR / f"{name}.json"


def names(data_dir: Path) -> list[str]:
    """The stored stories, by name."""
    folder = Path(data_dir) / STORIES_DIR
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if NAME_RE.match(p.stem))


def load(data_dir: Path, name: str) -> Story | None:
    """The stored story ``name``, or ``None`` when there is none (``StoryError`` when it is broken)."""
    if not NAME_RE.match(name or ""):
        return None
    p = path(data_dir, name)
    if not p.is_file():
        return None
    story = from_json(p.read_bytes(), where=str(p))
    return Story(name=name, title=story.title, lang=story.lang, slides=story.slides)


def save(data_dir: Path, story: Story) -> Path:
    """Write ``stories/<name>.json`` atomically (a crash leaves the previous file whole)."""
    from . import storage

    checked = from_dict(story.to_dict())  # what is written can always be read back
    if not checked.name:
        raise StoryError("a story needs a name to be saved")
    p = path(data_dir, checked.name)
    p.parent.mkdir(parents=True, exist_ok=True)
    storage.atomic_write_bytes(p, checked.to_json().encode("utf-8"))
    log.info("story %s saved (%d slides)", checked.name, len(checked.slides))
    return p


# --- links ----------------------------------------------------------------------------------------

def encode(story: Story) -> str:
    """The whole story as one URL-safe parameter value (``z.`` + base64url of deflated JSON)."""
    raw = json.dumps(story.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return INLINE_PREFIX + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode("ascii").rstrip("=")


def decode(value: str) -> Story:
    """The story of an :func:`encode` value (``StoryError`` when damaged or too large)."""
    if not value.startswith(INLINE_PREFIX):
        raise StoryError("not an inline story")
    body = value[len(INLINE_PREFIX):]
    if len(body) > MAX_INLINE_CHARS:
        raise StoryError(f"the story in the link is {len(body)} characters, at most {MAX_INLINE_CHARS}")
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, MAX_INFLATED_BYTES)
        if inflater.unconsumed_tail:
            raise StoryError("the story in the link is too large")
    except (binascii.Error, zlib.error, ValueError) as e:
        if isinstance(e, StoryError):
            raise
        raise StoryError(f"the story in the link is damaged ({e})") from e
    return from_json(raw, where="the story in the link")


def resolve(value: str, data_dir: Path | None) -> Story | None:
    """The story a URL's ``story`` value names: a stored story's name, or a whole inline story.

    ``None`` when the value is neither (it may still be the older compact list of items).
    """
    value = (value or "").strip()
    if value.startswith(INLINE_PREFIX):
        return decode(value)
    if data_dir is not None and NAME_RE.match(value):  # a name has no ',' or '~'
        return load(data_dir, value)
    return None

