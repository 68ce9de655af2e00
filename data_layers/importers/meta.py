"""Dataset metadata (provenance, privacy, quality) from a small YAML/JSON file or options.

A metadata file holds the keys of the dataset catalogue (``schema.DATASETS``)::

    title: Community water-point monitoring
    producer: Tubig Watch
    licence: CC BY 4.0
    method: Volunteers visit each water point
    sampling: Census of communal water points
    collection_start: 2023-01-10
    collection_end: 2024-10-31
    consent: Not applicable (places, not people)
    point_kind: place            # place (points may be drawn) | people (shown only aggregated) | none
    k_min: 5
    quality:                     # or score_relevance: 3, ... at the top level
      relevance: 3
      methods: 2
      coverage: 2
      timeliness: 3
      data_journey: 2
      qa: 2
    gateway:
      ethics: true
      transparency: true
      need: true
    participation:               # or initiator: ..., at the top level (all optional)
      initiator: Barangay water committees
      initiator_kind: citizens   # citizens | civil_society | official | academic | private | other
      stages: [design, collection, use]   # or "design|collection|use"
      group_membership: not_applicable    # self_identified | assigned | mixed | not_applicable
      contact: data@tubigwatch.example
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from .. import schema, settings
from .report import Report

POINT_KINDS = ("none", "place", "people")
TEXT_KEYS = ("title", "producer", "licence", "method", "sampling", "consent", "url", "dataset_id", "initiator",
             "contact")
CHOICE_KEYS = {"initiator_kind": schema.INITIATOR_KINDS, "group_membership": schema.GROUP_MEMBERSHIP}
DATE_KEYS = ("collection_start", "collection_end")
MAX_META_BYTES = 1 << 20  # a metadata file is a few lines
ALIASES = {"license": "licence", "methodology": "method", "start": "collection_start", "end": "collection_end",
           "points": "point_kind", "k": "k_min", "consent_basis": "consent", "stages": "citizen_stages", "initiated_by": "initiator",
           "membership": "group_membership"}


class MetadataError(Exception):
    """A metadata file that cannot be used."""


def load_metadata(source: str | Path | dict[str, Any] | None) -> dict[str, Any]:
    """A metadata dict from a YAML/JSON file, a dict, or nothing."""
    if source is None:
        return {}
    if isinstance(source, dict):
        return dict(source)
    p = Path(source)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise MetadataError(f"{p.name}: cannot read the metadata file ({e.strerror or e})") from e
    if len(raw) > MAX_META_BYTES:
        raise MetadataError(f"{p.name}: a metadata file of {len(raw)} bytes is too large")
    try:
        text = raw.decode("utf-8-sig")
        if p.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except (UnicodeDecodeError, ValueError) as e:
        raise MetadataError(f"{p.name}: not valid UTF-8 YAML/JSON: {e}") from e
    except Exception as e:  # yaml.YAMLError (yaml imported lazily)
        if type(e).__module__.startswith("yaml"):
            raise MetadataError(f"{p.name}: not valid YAML: {e}") from e
        raise
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MetadataError(f"{p.name}: expected keys such as title, producer, licence, point_kind")
    return data


def clean_metadata(raw: dict[str, Any], report: Report) -> dict[str, Any]:
    """Checked catalogue fields (wrong ones reported as file problems, unknown keys as warnings)."""
    out: dict[str, Any] = {}
    data = {ALIASES.get(str(k).lower(), str(k).lower()): v for k, v in raw.items()}
    for k in ("quality", "gateway", "participation"):
        nested = data.pop(k, None)
        if nested is None:
            continue
        if not isinstance(nested, dict):
            report.error(f"metadata {k!r} must be a table of names and values", column=k, code="metadata")
            continue
        prefix = {"quality": "score_", "gateway": "gateway_", "participation": ""}[k]
        for name, v in nested.items():
            key = str(name).lower()
            data[prefix + (ALIASES.get(key, key) if k == "participation" else key)] = v
    for k, v in data.items():
        if k in TEXT_KEYS:
            out[k] = "" if v is None else str(v).strip()
        elif k in DATE_KEYS:
            text = v.isoformat() if isinstance(v, dt.date) else str(v).strip()
            try:
                dt.date.fromisoformat(text[:10])
            except ValueError:
                report.error("expected an ISO date (2024-03-31)", column=k, value=text, code="metadata")
                continue
            out[k] = text[:10]
        elif k in CHOICE_KEYS:
            code = "" if v is None else str(v).strip().lower().replace("-", "_").replace(" ", "_")
            if code and code not in CHOICE_KEYS[k]:
                report.error(f"{k} must be one of {', '.join(CHOICE_KEYS[k])}", column=k, value=v, code="metadata")
                continue
            out[k] = code
        elif k == "citizen_stages":
            items = v if isinstance(v, list) else str(v or "").replace(",", "|").split("|")
            stages = [str(x).strip().lower() for x in items if str(x).strip()]
            wrong = [x for x in stages if x not in schema.CITIZEN_STAGES]
            if wrong:
                report.error(f"citizen_stages are among {', '.join(schema.CITIZEN_STAGES)}", column=k,
                             value=", ".join(wrong), code="metadata")
                continue
            out[k] = "|".join(x for x in schema.CITIZEN_STAGES if x in stages)  # value-chain order
        elif k == "point_kind":
            if str(v).lower() not in POINT_KINDS:
                report.error(f"point_kind must be one of {', '.join(POINT_KINDS)}", column=k, value=v, code="metadata")
                continue
            out[k] = str(v).lower()
        elif k == "k_min":
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                report.error("k_min must be a whole number of respondents, 1 or more", column=k, value=v, code="metadata")
                continue
            out[k] = v
        elif k in schema.QUALITY_SCORES:
            if v is None:
                continue
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 3:
                report.error("a quality score is a whole number from 0 to 3", column=k, value=v, code="metadata")
                continue
            out[k] = v
        elif k in schema.GATEWAYS:
            if v is None:
                continue
            if not isinstance(v, bool):
                report.error("a gateway check is true or false", column=k, value=v, code="metadata")
                continue
            out[k] = v
        else:
            report.warn("unknown metadata key: ignored", column=k, value=v, code="metadata")
    return out


def dataset_meta(meta: dict[str, Any], *, dataset_id: str, source_kind: str, seq: int, source_file: str, sha256: str,
                 fmt: str, rows_read: int, rows_stored: int, rows_rejected: int, notes: str,
                 imported_at: str | None = None) -> dict[str, Any]:
    """A complete catalogue entry (every ``schema.DATASETS`` key)."""
    out: dict[str, Any] = {c.name: None for c in schema.DATASETS}
    for c in schema.DATASETS:
        if c.type == pa.string() and not c.nullable:
            out[c.name] = ""
    out.update({k: v for k, v in meta.items() if k in out})
    out.update({
        "dataset_id": dataset_id, "seq": seq, "source_kind": source_kind, "source_file": source_file,
        "sha256": sha256, "format": fmt, "rows_read": rows_read, "rows_stored": rows_stored,
        "rows_rejected": rows_rejected, "notes": notes,
        "imported_at": imported_at or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
    })
    if not out.get("title"):
        out["title"] = Path(source_file).stem
    out["point_kind"] = out.get("point_kind") or "none"
    if out.get("k_min") is None:
        out["k_min"] = int(settings.get("k_min"))
    return out
