"""Keep the translated message catalogues in step with ``data_layers/locales/en.yaml``.

Rewrites ``fr.yaml``, ``es.yaml`` and ``ar.yaml`` in the order and with the section comments of
the English file, so that a translator reads the same layout in every language, optionally merging
new translations from a scratch file first. Keys English no longer has are dropped (and listed);
keys still to translate are listed, and ``--check`` exits 1 when there are any::

    python tools/sync_locales.py                       # reorder, report what is missing
    python tools/sync_locales.py --merge fr new-fr.yaml --merge es new-es.yaml
    python tools/sync_locales.py --check               # as the tests see it
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "data_layers" / "locales"
LANGS = {"fr": "French", "es": "Spanish", "ar": "Arabic"}
_KEY_LINE = re.compile(r"^([A-Za-z0-9_.\-]+):")
HEADER = """# GapLens messages, {name}. Same keys, order and sections as en.yaml (kept so by
# tools/sync_locales.py); keep every {{placeholder}} exactly as in English. tests/test_translations.py
# fails when an English key has no entry here.
"""


def _load(path: Path) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    return {str(k): str(v) for k, v in (data or {}).items() if v is not None and str(v).strip()}


def render(lang: str, messages: dict[str, str]) -> tuple[str, list[str], list[str]]:
    """The catalogue text for ``lang`` in English order; also the missing and stale keys."""
    en_lines = (LOCALES / "en.yaml").read_text(encoding="utf-8").splitlines()
    en_keys: list[str] = []
    out = [HEADER.format(name=LANGS[lang])]
    missing: list[str] = []
    started = False
    for line in en_lines:
        if line.startswith("# ---") or (not line.strip() and started):
            out.append(line)
            continue
        m = _KEY_LINE.match(line)
        if not m:
            continue  # English's own header comment
        started = True
        key = m.group(1)
        en_keys.append(key)
        if key in messages:
            out.append(f"{key}: {json.dumps(messages[key], ensure_ascii=False)}")
        else:
            missing.append(key)
    stale = sorted(k for k in messages if k not in set(en_keys))
    text = "\n".join(out).rstrip("\n") + "\n"
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text, missing, stale


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--merge", nargs=2, action="append", metavar=("LANG", "FILE"), default=[],
                    help="merge the translations of FILE (flat YAML) into LANG first")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 when anything is missing or stale")
    args = ap.parse_args(argv)
    extra: dict[str, dict[str, str]] = {}
    for lang, file in args.merge:
        if lang not in LANGS:
            ap.error(f"unknown language {lang!r} (one of {', '.join(LANGS)})")
        extra.setdefault(lang, {}).update(_load(Path(file)))
    bad = False
    for lang in LANGS:
        path = LOCALES / f"{lang}.yaml"
        messages = {**_load(path), **extra.get(lang, {})}
        text, missing, stale = render(lang, messages)
        if not args.check:
            path.write_text(text, encoding="utf-8")
        print(f"{lang}: {len(messages) - len(stale)} translated, {len(missing)} missing, {len(stale)} stale")
        for key in missing:
            print(f"  missing {key}")
        for key in stale:
            print(f"  stale   {key}" + ("" if args.check else " (dropped)"))
        bad |= bool(missing or stale)
    return 1 if (args.check and bad) else 0


if __name__ == "__main__":
    sys.exit(main())
