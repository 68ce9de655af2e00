"""Groups as the coverage rule sees them: one dimension, or an intersection of several.

A group of ``groups.csv`` names one dimension (``SEX``, codes ``F``) or, for an intersectional
group (DESIGN.md, "Intersectional groups"), several dimensions joined by ``+`` with one code list
per dimension in the same order, also joined by ``+``: rural women are ``SEX+URBANISATION`` with
codes ``F+R``; indigenous youth ``INDIGENOUS_STATUS+AGE`` with ``IND+Y15T24|Y15T19|Y20T24`` (``|``
still separates the alternatives of one dimension, preferred first). An observation counts for an
intersection only when it is broken down on exactly those dimensions, with one of the codes of
each (age bands as intervals on the AGE part), every other dimension total.

The store turns each group into rows of ``group_codes`` (``group_id, dimension, code, priority``)
that the facts queries join on: for an intersection, ``dimension`` and ``code`` are the dimensions
and codes of one combination joined by ``+`` in schema order (``SEX+URBANISATION`` / ``F+R``), which
is how the queries key an observation broken down on several dimensions.

>>> parse_groups(pd.DataFrame({"group_id": ["rw"], "dimension": ["URBANISATION+SEX"],
...                            "codes": ["R+F"]}))["rw"]
(Part(dimension='SEX', codes=('F',)), Part(dimension='URBANISATION', codes=('R',)))
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pandas as pd

from .schema import DIMENSION_NAMES, TOTAL

DIM_SEP = "+"  # joins the dimensions of an intersection, and their code lists
CODE_SEP = "|"  # separates the alternative codes of one dimension, preferred first
MAX_PARTS = 3  # intersections of up to three dimensions (rural women with disabilities)
MAX_PRIORITY = 999  # official_parts.sql ranks codes by 1000 - priority


class GroupError(ValueError):
    """A group of groups.csv the rule cannot read (the message names row, column and value)."""


@dataclass(frozen=True)
class Part:
    """One dimension of a group with its codes, preferred first."""

    dimension: str
    codes: tuple[str, ...]


def is_intersection(dimension: str) -> bool:
    """True for a group declared on several dimensions (``SEX+URBANISATION``)."""
    return DIM_SEP in str(dimension)


def parse_groups(grp: pd.DataFrame, *, source: str = "groups.csv") -> dict[str, tuple[Part, ...]]:
    """The parts of every intersectional group, in schema order; one-dimension groups are left out
    (the store keeps their reading exactly as it always was)."""
    out: dict[str, tuple[Part, ...]] = {}
    for row, g in enumerate(grp.itertuples(index=False), start=2):  # row 1 is the header
        if not is_intersection(g.dimension):
            continue
        where = f"{source} row {row} (group {g.group_id!r})"
        dims = [d.strip().upper() for d in str(g.dimension).split(DIM_SEP)]
        lists = [c for c in str(g.codes).split(DIM_SEP)]
        if len(dims) != len(lists):
            raise GroupError(f"{where}, column codes: {g.codes!r} has {len(lists)} code list(s) for the "
                             f"{len(dims)} dimensions {g.dimension!r} (write them in the same order, joined by "
                             f"'{DIM_SEP}', e.g. F+R for SEX+URBANISATION)")
        if len(dims) > MAX_PARTS:
            raise GroupError(f"{where}, column dimension: {g.dimension!r} crosses {len(dims)} dimensions "
                             f"(at most {MAX_PARTS})")
        unknown = [d for d in dims if d not in DIMENSION_NAMES]
        if unknown:
            raise GroupError(f"{where}, column dimension: {unknown[0]!r} is not a dimension of the schema "
                             f"(known: {', '.join(DIMENSION_NAMES)})")
        if len(set(dims)) != len(dims):
            raise GroupError(f"{where}, column dimension: {g.dimension!r} names a dimension twice")
        parts = []
        for d, codes in zip(dims, lists, strict=True):
            cs = tuple(c.strip() for c in codes.split(CODE_SEP) if c.strip())
            if not cs or TOTAL in cs:
                raise GroupError(f"{where}, column codes: the {d} part {codes!r} needs at least one code "
                                 f"other than {TOTAL}")
            parts.append(Part(d, cs))
        parts.sort(key=lambda p: DIMENSION_NAMES.index(p.dimension))
        out[str(g.group_id)] = tuple(parts)
    return out


def canonical(parts: tuple[Part, ...]) -> tuple[str, str]:
    """``(dimension, codes)`` written in schema order (``SEX+URBANISATION``, ``F+R``)."""
    return (DIM_SEP.join(p.dimension for p in parts),
            DIM_SEP.join(CODE_SEP.join(p.codes) for p in parts))


def combinations(group_id: str, parts: tuple[Part, ...]) -> list[tuple[str, str, str, int]]:
    """``group_codes`` rows of an intersection: every combination of its parts' codes.

    Preference (the ``priority``, DESIGN.md "Ties": the group's first code wins): the AGE part
    varies slowest, then the other parts in schema order, each preferred code first. The age part
    comes first so that age bands found in the data (appended after its declared codes) never
    change the priority of a combination already ranked.
    """
    order = sorted(range(len(parts)), key=lambda i: (parts[i].dimension != "AGE", i))
    dim_key = DIM_SEP.join(p.dimension for p in parts)
    rows = []
    for rank, combo in enumerate(itertools.product(*(parts[i].codes for i in order))):
        codes = dict(zip(order, combo, strict=True))
        rows.append((group_id, dim_key, DIM_SEP.join(codes[i] for i in range(len(parts))), rank))
    if rows and rows[-1][3] > MAX_PRIORITY:
        raise GroupError(f"group {group_id!r}: {len(rows)} code combinations (at most {MAX_PRIORITY + 1})")
    return rows


def parents(grp: pd.DataFrame, parts_of: dict[str, tuple[Part, ...]]) -> pd.DataFrame:
    """``group_id, parent_id, part_order``: for each part of an intersection, the one-dimension group
    it narrows (women and rural people for rural women).

    A one-dimension group is the parent of a part when it is defined on the same dimension with the
    same preferred (first) code; the first such group in table order wins. A part without such a
    group has no parent row (its cells then name only the parents that exist).
    """
    singles = [(str(g.group_id), str(g.dimension).strip().upper(),
                next((c.strip() for c in str(g.codes).split(CODE_SEP) if c.strip()), ""))
               for g in grp.itertuples(index=False) if not is_intersection(g.dimension)]
    rows = []
    for gid, parts in parts_of.items():
        for i, p in enumerate(parts):
            match = next((sid for sid, dim, first in singles if dim == p.dimension and first == p.codes[0]), None)
            if match is not None:
                rows.append((gid, match, i))
    return pd.DataFrame(rows, columns=["group_id", "parent_id", "part_order"]).astype(
        {"group_id": "str", "parent_id": "str", "part_order": "int64"})
