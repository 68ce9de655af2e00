"""Personal identifiers in citizen files: what is recognised, from column names and from contents.

DESIGN.md (Privacy defaults): personal identifiers never reach the store. A citizen file's columns
are judged on three kinds of evidence, each listed in one table below (docs/importing.md shows the
same list, and a test checks that every kind is documented):

- the **header**, split into words (``m_username`` -> ``m``, ``username``; ``PhoneNumber`` ->
  ``phone``, ``number``), so that ``automobile`` is not a mobile phone and ``m_imei`` is an IMEI;
- an **HXL hashtag** (``#contact+phone``), when the file has a hashtag row;
- a **sample of the cells** (the first :data:`SAMPLE_CELLS` non-empty ones): e-mail addresses, phone
  numbers written as phone numbers (``+254 712 345 678``, ``0712345678``), IMEI numbers (15 digits
  with a valid check digit), device ids (``imei:...``, ``collect:...``) and personal names (a word of
  the given-names table, or a flag with a name appended such as ``Y-Romy``).

Record identifiers (``_id``, ``_uuid``, ``instanceID``) are not personal and are judged apart: they
are never stored either, but a bare sequential number is never called a phone number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from ..settings import PACKAGE_DIR

SAMPLE_CELLS = 2000        # cells looked at per column: enough to see a pattern, fast on any file
VALUE_SHARE = 0.2          # a fifth of the sampled cells of one kind makes the column that kind
MIN_NAME_CELLS = 3         # ... or, for personal names, this many cells (a few volunteers' names in a flag column)
GIVEN_NAMES_FILE = PACKAGE_DIR / "tables" / "given_names.csv"

# Words of a header that say it names a place, an organisation or a thing, not a person ("site_name").
PLACE_WORDS = re.compile(r"(country|area|province|region|district|municipalit|city|town|village|barangay|community|site|"
                         r"place|location|facility|school|clinic|hospital|station|water_?point|beach|project|org|"
                         r"agency|partner|file|form|indicator|series|geo|admin|adm\d|state|county|ward|zone|settlement|"
                         r"camp|river|lake|source|installer|company|unit|team|sector|species|product|item|crop|center|"
                         r"centre|street_?name|road|loc)")
RECORD_ID = re.compile(r"(^|_)id$|^_?uuid$|^_?index$|instanceid|^key$|^_?version|_xform_id|^_status$|^formhub|"
                       r"_validation_status$|^meta_|^_parent|^_submission__|^reviewstate$|^attachments(present|expected)$|"
                       r"^edits$")


def words(header: str) -> str:
    """A header as lowercase words joined by ``_`` (camelCase split, separators and group paths kept as ``_``)."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(header).replace("\ufeff", ""))
    return re.sub(r"[^0-9a-z]+", "_", text.casefold()).strip("_")


# --- what the cells hold -------------------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)
_PHONE = re.compile(r"^(?:\+|00(?=[1-9]))\d{7,14}$|^0[1-9]\d{7,10}$")  # international or trunk-0 national form
_PHONE_CHARS = re.compile(r"^\+?[\d\s\-().]{8,22}$")
_DEVICE = re.compile(r"^(?:imei|imsi|esn|meid|collect|android_?id|mac|uuid_device|deviceid)[:=]\s*\S{6,}$", re.I)
_FLAG_NOTE = re.compile(r"^(?:y|yes|n|no|ok|oui|non|si|sí|x|true|false|checked|verified)\s*[-–:/,(]+\s*"
                        r"(?P<note>[^\d()]{2,40}?)\)?$", re.I)
_ROMAN = re.compile(r"[IVX]+")  # "Mark II": a model, not a surname


def _luhn(digits: str) -> bool:
    total = 0
    for k, ch in enumerate(reversed(digits)):
        d = int(ch)
        if k % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_email(cell: str) -> bool:
    return bool(_EMAIL.match(cell))


def is_phone(cell: str) -> bool:
    """A phone number as people write one: with ``+``/``00``, a national trunk ``0``, or phone punctuation.
    A bare number without those (a record id, a count, a timestamp) is not one."""
    if not _PHONE_CHARS.match(cell) or re.fullmatch(r"\d+\.\d+", cell):
        return False
    compact = re.sub(r"[\s\-().]", "", cell)
    if _PHONE.match(compact):
        return True
    punctuated = bool(re.search(r"\d[\s\-]\d|\(\d", cell))
    return punctuated and compact.isdigit() and 9 <= len(compact) <= 13 and not compact.startswith(("19", "20"))


def is_device_id(cell: str) -> bool:
    """An IMEI (15 digits with a valid Luhn check digit) or a device id written as ``imei:...``/``collect:...``."""
    if _DEVICE.match(cell):
        return True
    return len(cell) == 15 and cell.isdigit() and cell[0] != "0" and _luhn(cell)


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """The given-names table (case-folded): common first names of the regions GapLens serves."""
    table = pd.read_csv(GIVEN_NAMES_FILE, dtype=str, keep_default_na=False, comment="#")
    return frozenset(n.strip().casefold() for n in table["name"] if n.strip())


def is_person_name(cell: str) -> bool:
    """One to four capitalised words, one of them a given name (``Laura M``, ``Romy``), or a yes/no flag with
    a name or initials appended (``Y-Romy``, ``Y (JK)``)."""
    m = _FLAG_NOTE.match(cell)
    if m:
        note = m["note"].strip()
        return bool(re.fullmatch(r"[A-Z]{2,3}", note)) or is_person_name(note)
    parts = cell.split()
    if not 1 <= len(parts) <= 3 or any(ch.isdigit() for ch in cell):
        return False
    # a given name first, then surnames or initials: "Laura M", "Maria Santos" (not "India Mark II", "Mark II")
    if parts[0].strip(".,").casefold() not in given_names() or not parts[0][:1].isupper():
        return False
    return all(re.fullmatch(r"[A-Z][a-zà-ÿ'\-]+|[A-Z]\.?", p.strip(",")) and not _ROMAN.fullmatch(p)
               for p in parts[1:])


# --- the table --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IdentifierKind:
    """One kind of personal identifier and the evidence that finds it."""

    why: str                                  # said in the report ("a phone number")
    header: re.Pattern[str] | None            # searched in the header's words (``words()``)
    hxl: tuple[str, ...] = ()                 # HXL hashtags (with attributes) that declare it
    cells: Callable[[str], bool] | None = None  # a test of one cell
    cell_words: str = ""                      # how the report says the cells showed it
    examples: str = ""                        # for the documentation


def _w(rx: str) -> re.Pattern[str]:
    """A header pattern on whole words at the header's end: ``mobile_no`` and ``respondent_phone`` match,
    ``automobile`` and ``user_type`` (a type, not a user) do not."""
    return re.compile(rf"(?:^|_)(?:{rx})$")


IDENTIFIER_KINDS: tuple[IdentifierKind, ...] = (
    IdentifierKind("an e-mail address", _w(r"e_?mail|email_?address|courriel|correo"), ("#contact+email",), is_email,
                   "its cells are e-mail addresses", "email, E-mail, respondent_email; cells a@b.org"),
    IdentifierKind("a phone number", _w(r"phone|phone_?(?:no|number|num)|telephone|tel|msisdn|whatsapp|cellphone|"
                                        r"cell_?(?:no|number|phone)|mobile_?(?:no|number|num|phone)|contact_?(?:no|number)|"
                                        r"telefono|t[eé]l[eé]phone|simu"),
                   ("#contact+phone",), is_phone, "its cells are phone numbers",
                   "phone, PhoneNumber, mobile_no, whatsapp; cells +254 712 345 678, 0712345678"),
    IdentifierKind("a device identifier", _w(r"imei|imsi|device_?id|deviceid|android_?id|sim_?serial|subscriber_?id|"
                                             r"phonenumber_?device|mac_?address|advertising_?id"),
                   ("#meta+device",), is_device_id, "its cells are IMEI numbers or device ids",
                   "imei, m_imei, deviceid, simserial; cells 490154203237518, collect:Xy12ab34"),
    IdentifierKind("who filled in the form (a username)",
                   _w(r"username|user_?name|user|login|submitted_?by|submitter(?:_?id|_?name)?|enumerator|"
                      r"interviewer|surveyor|data_?collector|observer|recorder|recorded_?by|reporter|"
                      r"verified_?by|checked_?by|reviewed_?by|created_?by|edited_?by|volunteer"),
                   ("#meta+username", "#contact+username"), None, "",
                   "username, m_username, _submitted_by, enumerator, verified_by"),
    IdentifierKind("a person's name",
                   _w(r"nombre|nom|prenom|pr[eé]nom|apellidos?|jina|surname|full_?name|fullname|first_?name|firstname|"
                      r"last_?name|lastname|given_?name|family_?name|respondent|household_?head|head_?of_?household|"
                      r"contact_?person|informant|beneficiary"),
                   ("#contact+name", "#beneficiary+name", "#respondent+name"), is_person_name,
                   "its cells hold people's names",
                   "name (but not site_name), first_name, surname; cells Laura M, Y-Romy"),
    IdentifierKind("an ID number", _w(r"national_?id|id_?(?:number|no|num|card)|passport|nin|ssn|social_?security|"
                                      r"voter_?id|philsys|birth_?cert(?:ificate)?|drivers?_?licen[cs]e|tax_?id|tin"),
                   ("#meta+national_id",), None, "", "national_id, passport, id_number, ssn"),
    IdentifierKind("free text that may name people",
                   _w(r"comments?|remarks?|notes?|free_?text|other_?specify|other|describe|explain|observations?|"
                      r"feedback|tags|story|testimon\w*|description"),
                   ("#description", "#meta+notes", "#x_notes"), None, "",
                   "comment, notes, other_specify, _tags"),
    IdentifierKind("a photo, recording or signature",
                   _w(r"photos?|images?|pictures?|signature|audio|video|attachments?|media|photo_?(?:lnk|link|url)"),
                   (), None, "", "photo, photo_lnk, _attachments, signature"),
    IdentifierKind("an address", _w(r"address|street|house_?(?:no|number)|postcode|post_?code|zip_?code|zip"),
                   ("#contact+address",), None, "", "address, street, postcode"),
    IdentifierKind("a date of birth", _w(r"birth_?date|date_?of_?birth|dob|birthday"), (), None, "",
                   "dob, date_of_birth"),
)

# a header word "name" names a person unless another word says it names a place or a thing
_NAME_WORD = re.compile(r"(?:^|_)names?(?:$|_)")


def _hxl_parts(tag: str) -> tuple[str, set[str]]:
    base, *attrs = tag.casefold().replace(" ", "").split("+")
    return base, set(attrs)


def hxl_matches(tag: str, pattern: str) -> bool:
    """Whether an HXL tag (``#contact+phone+mobile``) has the pattern's hashtag and every one of its attributes."""
    base, attrs = _hxl_parts(tag)
    pbase, pattrs = _hxl_parts(pattern)
    return base == pbase and pattrs <= attrs


def reason_from_header(header: str, tag: str | None = None) -> str | None:
    """Why a column's header (or its HXL hashtag) names personal data, or None."""
    w = words(header)
    last = words(re.split(r"[/\-:.]", str(header))[-1])
    if tag:
        for kind in IDENTIFIER_KINDS:
            if any(hxl_matches(tag, p) for p in kind.hxl):
                return kind.why
    for part in dict.fromkeys((w, last)):
        if _NAME_WORD.search(part) and not PLACE_WORDS.search(part):
            return "a person's name"
    for kind in IDENTIFIER_KINDS:
        if kind.header is not None and (kind.header.search(w) or kind.header.search(last)):
            return kind.why
    return None


def reason_from_cells(values: pd.Series, header: str = "") -> str | None:
    """Why a sample of a column's cells shows personal data, or None."""
    cells = pd.Series(values, dtype=object).map(lambda v: "" if v is None else str(v).strip())
    cells = cells[cells != ""].head(SAMPLE_CELLS)
    if cells.empty:
        return None
    distinct = pd.unique(cells)
    counts = cells.value_counts()
    place_header = bool(PLACE_WORDS.search(words(header))) or bool(RECORD_ID.search(words(header)))
    for kind in IDENTIFIER_KINDS:
        if kind.cells is None or (kind.cells is is_person_name and place_header):
            continue
        hit = sum(int(counts[u]) for u in distinct if kind.cells(u))
        if hit / len(cells) >= VALUE_SHARE or (kind.cells is is_person_name and hit >= MIN_NAME_CELLS):
            return kind.cell_words
    return None


def reason(header: str, values: pd.Series | None = None, *, tag: str | None = None) -> str | None:
    """Why a column holds personal data (header, HXL tag, then cells), or None."""
    return reason_from_header(header, tag) or (reason_from_cells(values, header) if values is not None else None)


def is_record_id(header: str) -> bool:
    return bool(RECORD_ID.search(words(header)))
