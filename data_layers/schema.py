"""The one tidy schema every source is normalised into, declared once.

Each table is a tuple of :class:`Column` (name, Arrow type, meaning). Importers validate against
these, the store writes with these exact types (no ``TIMESTAMP_NS``, unsigned or ``HUGEINT``, so
that Spark reads the files unchanged), and ``docs/data-model.md`` is rendered from them (a test
fails when the document and the code disagree).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from . import vocabulary

TOTAL = "_T"
"""SDMX code meaning "no breakdown on this dimension"."""

MULTI = "_MULTI"
"""``disagg_dim`` of an observation broken down by two or more dimensions at once."""


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    meaning: str
    nullable: bool = True


# Disaggregation axes, named as in the SDMX SDG data structure (national ones last). Each becomes
# one text column of the observation tables, holding an SDMX code or ``_T``.
DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("SEX", "Sex: F, M or _T."),
    ("AGE", "Age band in SDMX notation (Y15T24, Y_GE60, ...)."),
    ("URBANISATION", "U urban, R rural."),
    ("DISABILITY_STATUS", "PD persons with disabilities, PWD_NO without."),
    ("INCOME_WEALTH_QUANTILE", "Q1..Q5 quintiles, B40 bottom 40 %."),
    ("EDUCATION_LEV", "ISCED 2011 level."),
    ("MIGRATORY_STATUS", "MS_MIG migrants, MS_IDP displaced, MS_REF refugees."),
    ("ETHNICITY", "National ethnicity code."),
    ("INDIGENOUS_STATUS", "IND indigenous peoples (national dimension)."),
    ("SETTLEMENT_TYPE", "INF informal settlement (national dimension)."),
)
DIMENSION_NAMES: tuple[str, ...] = tuple(d for d, _ in DIMENSIONS)


def dim_column(dimension: str) -> str:
    """Column name of a dimension in the observation tables (``SEX`` -> ``sex``)."""
    return dimension.lower()


_OBS_HEAD = (
    Column("obs_key", pa.int64(), "Unique, stable row key: dataset sequence x 10^9 + row number.", False),
    Column("dataset_id", pa.string(), "Dataset the row came from (see datasets).", False),
    Column("source_kind", pa.string(), "`official` or `citizen`.", False),
    Column("indicator", pa.string(), "SDG indicator code, e.g. `1.2.1` or national `1.2.1.a`.", False),
    Column("series", pa.string(), "UN series code under the indicator, or empty.", False),
    Column("area_code", pa.string(), "Area the value describes (areas.code).", False),
    Column("period", pa.int32(), "Reference year (the last year of a multi-year period).", False),
    Column("period_label", pa.string(), "Period as written in the source (`2004/05`, `2000 Q1`).", False),
)
_OBS_DIMS = tuple(
    Column(dim_column(d), pa.string(), f"{d}: {m} `_T` = total.", False) for d, m in DIMENSIONS
)
_OBS_TAIL = (
    Column("other_dims", pa.string(), "Source breakdowns with no SDMX dimension, `KEY=VALUE;...` sorted; empty if none.", False),
    Column("disagg_dim", pa.string(), "Derived at import: `_T` for a total, the one dimension broken down, or `_MULTI`.", False),
    Column("disagg_code", pa.string(), "Derived at import: the code on `disagg_dim` (`_T` for totals).", False),
    Column("value", pa.float64(), "The figure; null when suppressed or not available. Zero is a value."),
    Column("lower", pa.float64(), "Lower bound of the confidence interval, if published."),
    Column("upper", pa.float64(), "Upper bound of the confidence interval, if published."),
    Column("n", pa.int64(), "Sample size or number of respondents / points behind the value."),
    Column("unit", pa.string(), "Unit of measure (`percent`, `items per 100 m`, ...).", False),
    Column("obs_status", pa.string(), "SDMX observation status: A normal, E estimated, C confidential, M missing.", False),
    Column("suppressed", pa.bool_(), "True when the value must not be shown (small n, confidential, censored `<5`).", False),
    Column("source", pa.string(), "Source as written by the producer (survey, register...).", False),
    Column("footnote", pa.string(), "Producer's footnote.", False),
    Column("lat", pa.float64(), "Latitude (WGS84) of a citizen point about a place; null otherwise."),
    Column("lon", pa.float64(), "Longitude (WGS84) of a citizen point about a place; null otherwise."),
    Column("is_point", pa.bool_(), "True when the row is one point (a water point, a household) rather than an area aggregate.", False),
)
OBSERVATIONS: tuple[Column, ...] = _OBS_HEAD + _OBS_DIMS + _OBS_TAIL

AREAS: tuple[Column, ...] = (
    Column("code", pa.string(), "ISO 3166-1 alpha-3 for countries, ISO 3166-2 or the office's code below.", False),
    Column("name", pa.string(), "Name in the producer's language.", False),
    Column("level", pa.int32(), "0 country, 1 region, 2 province, ...", False),
    Column("parent_code", pa.string(), "Code of the enclosing area one level up; null at level 0."),
    Column("geometry", pa.binary(), "Polygon or MultiPolygon, WKB, EPSG:4326 (GeoParquet 1.1).", False),
)

INDICATORS: tuple[Column, ...] = (
    Column("code", pa.string(), "Indicator code (`6.1.1`).", False),
    Column("goal", pa.int32(), "Goal number 1-17.", False),
    Column("target", pa.string(), "Target code (`6.1`).", False),
    Column("series", pa.string(), "Main UN series code, informative.", False),
    Column("title", pa.string(), "Official title from the global indicator framework.", False),
    Column("short_title", pa.string(), "A few words for axes and legends.", False),
    Column("unit", pa.string(), "Unit of the main series.", False),
    Column("higher_is_better", pa.bool_(), "Polarity: true when a higher value is better (signs the outcome gap)."),
    Column("survey_based", pa.bool_(), "True when official figures come from sample surveys (bounds expected).", False),
    Column("not_applicable", pa.string(), "Group ids (`|`-separated) the indicator does not apply to.", False),
)

GROUPS: tuple[Column, ...] = (
    Column("group_id", pa.string(), "Short id used in URLs and the CLI (`disability`).", False),
    Column("label", pa.string(), "Name shown to people.", False),
    Column("dimension", pa.string(), "SDMX dimension that defines the group (`_T` for the total).", False),
    Column("codes", pa.string(), "`|`-separated codes on that dimension, preferred first.", False),
    Column("description", pa.string(), "Help text.", False),
)

DIMENSION_LABELS: tuple[Column, ...] = (
    Column("dimension", pa.string(), "SDMX dimension (`SEX`).", False),
    Column("source_label", pa.string(), "Label as found in a source, compared case-insensitively after trimming.", False),
    Column("code", pa.string(), "SDMX code it means (`F`).", False),
)

DATASETS: tuple[Column, ...] = (
    Column("dataset_id", pa.string(), "Short id, unique in the store.", False),
    Column("seq", pa.int64(), "Import sequence number (orders datasets; part of obs_key).", False),
    Column("source_kind", pa.string(), "`official` or `citizen`.", False),
    Column("title", pa.string(), "Title.", False),
    Column("producer", pa.string(), "Who collected or published the data.", False),
    Column("licence", pa.string(), "Licence of the data.", False),
    Column("method", pa.string(), "How the data were collected.", False),
    Column("sampling", pa.string(), "Sampling design, in words.", False),
    Column("collection_start", pa.string(), "First day of collection, ISO date.", False),
    Column("collection_end", pa.string(), "Last day of collection, ISO date.", False),
    Column("imported_at", pa.string(), "When it was imported, ISO 8601 UTC.", False),
    Column("source_file", pa.string(), "File name it was imported from.", False),
    Column("sha256", pa.string(), "SHA-256 of the source file (re-import of the same file is a no-op).", False),
    Column("format", pa.string(), "Detected source format.", False),
    Column("rows_read", pa.int64(), "Data rows in the source file.", False),
    Column("rows_stored", pa.int64(), "Observations stored.", False),
    Column("rows_rejected", pa.int64(), "Rows refused (only with --accept-partial).", False),
    Column("point_kind", pa.string(), "`none`, `place` (points may be drawn) or `people` (shown only aggregated).", False),
    Column("k_min", pa.int64(), "Small-cell threshold: aggregates of fewer respondents are suppressed.", False),
    Column("consent", pa.string(), "How informed consent was obtained (citizen data).", False),
    Column("url", pa.string(), "Where the data or its documentation lives.", False),
    Column("gateway_ethics", pa.bool_(), "Quality gateway: consent and anonymisation in place."),
    Column("gateway_transparency", pa.bool_(), "Quality gateway: method and licence published."),
    Column("gateway_need", pa.bool_(), "Quality gateway: fills an official gap."),
    Column("score_relevance", pa.int32(), "Quality score 0-3."),
    Column("score_methods", pa.int32(), "Quality score 0-3."),
    Column("score_coverage", pa.int32(), "Quality score 0-3."),
    Column("score_timeliness", pa.int32(), "Quality score 0-3."),
    Column("score_data_journey", pa.int32(), "Quality score 0-3 (data-journey awareness)."),
    Column("score_qa", pa.int32(), "Quality score 0-3 (quality assurance)."),
    Column("notes", pa.string(), "What the importer dropped or changed (identifier columns, ...).", False),
    # the participation record (DESIGN.md, "Citizen-data quality"; Copenhagen Framework on Citizen Data)
    Column("initiator", pa.string(), "Participation: who initiated the data (organisation or community).", False),
    Column("initiator_kind", pa.string(), "Participation: `citizens`, `civil_society`, `official`, `academic`, "
           "`private` or `other`.", False),
    Column("citizen_stages", pa.string(), "Participation: `|`-separated stages of the data value chain citizens took "
           "part in: `design`, `collection`, `analysis`, `dissemination`, `use`.", False),
    Column("group_membership", pa.string(), "Participation: how membership of the group was established: "
           "`self_identified`, `assigned`, `mixed` or `not_applicable` (places, not people).", False),
    Column("contact", pa.string(), "Participation: who to contact about the data (a role or public address, not a "
           "private person's details).", False),
    Column("checksums", pa.string(), "SHA-256 of each file in the dataset's folder, recorded when it was written "
           "(`name=hex` pairs separated by `;`); `python -m data_layers check` verifies them."),
)

# Vocabularies of the participation record, declared once (importers validate against them; the
# pages translate each code as ``participation.<field>.<code>``).
INITIATOR_KINDS: tuple[str, ...] = ("citizens", "civil_society", "official", "academic", "private", "other")
CITIZEN_STAGES: tuple[str, ...] = ("design", "collection", "analysis", "dissemination", "use")
GROUP_MEMBERSHIP: tuple[str, ...] = ("self_identified", "assigned", "mixed", "not_applicable")

QUALITY_SCORES: tuple[str, ...] = (
    "score_relevance", "score_methods", "score_coverage",
    "score_timeliness", "score_data_journey", "score_qa",
)
GATEWAYS: tuple[str, ...] = ("gateway_ethics", "gateway_transparency", "gateway_need")

OFFICIAL_FACTS: tuple[Column, ...] = (
    Column("indicator", pa.string(), "Indicator code.", False),
    Column("series", pa.string(), "Series code under the indicator (empty when the source names none).", False),
    Column("unit", pa.string(), "Unit of the figure: a value and its total always share series and unit.", False),
    Column("area_code", pa.string(), "Area code.", False),
    Column("level", pa.int32(), "Admin level of the area.", False),
    Column("group_id", pa.string(), "Group (`all` = official total).", False),
    Column("year", pa.int32(), "Reference year.", False),
    Column("value", pa.float64(), "Chosen figure for that year (null if suppressed)."),
    Column("lower", pa.float64(), "Lower bound."),
    Column("upper", pa.float64(), "Upper bound."),
    Column("n", pa.int64(), "Sample size."),
    Column("suppressed", pa.bool_(), "Suppressed: measured, not shown.", False),
    Column("dataset_id", pa.string(), "Dataset of the chosen figure.", False),
    Column("total_value", pa.float64(),
           "Official total (group `all`) in the same area, year, series and unit, for the outcome gap; null if suppressed."),
)

CITIZEN_FACTS: tuple[Column, ...] = (
    Column("indicator", pa.string(), "Indicator code.", False),
    Column("area_code", pa.string(), "Area code (points counted in every area that contains them).", False),
    Column("level", pa.int32(), "Admin level of the area.", False),
    Column("group_id", pa.string(), "Group.", False),
    Column("year", pa.int32(), "Reference year.", False),
    Column("usable", pa.bool_(), "True for the figure of datasets whose quality verdict is usable (evidence that "
           "counts); datasets of other verdicts make a separate row, never pooled with them.", False),
    Column("value", pa.float64(), "n-weighted mean of the rows not suppressed at source (null if suppressed)."),
    Column("n", pa.int64(), "Respondents or points behind the figure (rows suppressed at source excluded); when "
           "none stand behind it, the respondents reported.", False),
    Column("suppressed", pa.bool_(), "Not shown: see `suppression`.", False),
    Column("suppression", pa.string(), "Empty when shown; `small` (fewer than k respondents behind it), `source` "
           "(suppressed by its producer) or `complementary` (hidden so that no suppressed figure can be worked out "
           "from its parent area, sibling areas or the area's other groups).", False),
    Column("datasets", pa.string(), "Comma-separated dataset ids, sorted.", False),
    Column("reason", pa.string(), "Why the datasets' verdict is not usable (`gateway_need`, `score_methods=0`, "
           "`mean=1.33`, `not_assessed`, `gateway_unknown`); empty when usable.", False),
    Column("unit", pa.string(), "Unit of measure of the rows behind the figure; empty when they mix units.", False),
)

REGISTER: tuple[Column, ...] = (
    Column("entry_id", pa.string(), "`E0001`, `E0002`, ...: given when the entry is added.", False),
    Column("presented_on", pa.string(), "Day the evidence was presented, ISO date (`2026-03-12`): the cell's `raised_on`.", False),
    Column("place", pa.string(), "Where: the meeting or forum and the town.", False),
    Column("presented_to", pa.string(), "To whom: the statistics office, ministry or committee (`PSA`).", False),
    Column("presented_by", pa.string(), "Who presented (organisation).", False),
    Column("indicator", pa.string(), "Indicator the evidence concerns; empty = every indicator shown.", False),
    Column("area_code", pa.string(), "Area it concerns; empty = every area shown.", False),
    Column("group_id", pa.string(), "Group it concerns; empty = every group shown (a whole brief names only an area).", False),
    Column("official_response", pa.string(), "The official response, in the presenter's words (plain text).", False),
    Column("commitments", pa.string(), "Commitments made, if any (plain text).", False),
    Column("follow_up_on", pa.string(), "Agreed follow-up date, ISO date; empty if none.", False),
    Column("recorded_at", pa.string(), "When the entry was recorded, ISO 8601 UTC.", False),
)

TABLES: dict[str, tuple[tuple[Column, ...], str, str]] = {
    # name: (columns, where it lives, what it is for)
    "areas": (AREAS, "`areas/level_<N>.parquet` (GeoParquet)", "Places with boundaries, one file per admin level."),
    "observations": (OBSERVATIONS, "`datasets/<id>/observations.parquet`",
                     "Official and citizen observations in one tidy shape, one file per dataset."),
    "datasets": (DATASETS, "`datasets/<id>/dataset.json`", "The dataset catalogue with provenance and quality."),
    "indicators": (INDICATORS, "`indicators.csv`", "The indicator catalogue (editable)."),
    "groups": (GROUPS, "`groups.csv`", "Leave-no-one-behind groups (editable, extend freely)."),
    "dimension_labels": (DIMENSION_LABELS, "`dimension_labels.csv`",
                         "Source label -> SDMX code mapping used by importers (editable)."),
    "register": (REGISTER, "`register.csv` (editable text; written atomically under the store lock)",
                 "The evidence register: where the evidence was presented, to whom, the official response and "
                 "commitments; tied to cells (empty indicator, area or group = all)."),
    "official_facts": (OFFICIAL_FACTS, "`facts/official/<indicator>.parquet` (derived)",
                       "One official figure per indicator x area x group x year; after a write, the indicators "
                       "the changed datasets hold are merged again from per-dataset parts (`facts/parts/`)."),
    "citizen_facts": (CITIZEN_FACTS, "`facts/citizen/<indicator>.parquet` (derived)",
                      "Citizen figures aggregated per indicator x area x group x year; after a write, the "
                      "indicators the changed datasets hold are merged again from per-dataset parts."),
}

# The columns of the coverage table returned by the engine and the `gaps` command.
CELL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("indicator", "Indicator code."),
    ("area_code", "Area code."),
    ("area_name", "Area name."),
    ("level", "Admin level."),
    ("group", "Group id."),
    ("status", "current, stale, aggregate_only, missing or not_applicable."),
    ("official_latest_year", "Year of the newest official figure for the group at or before the as-of year (any series)."),
    ("official_value", "The newest figure of the shown series and unit; empty when suppressed or when only another series has one."),
    ("official_suppressed", "True when that figure exists but is suppressed."),
    ("total_latest_year", "Year of the newest official total for the area (any series)."),
    ("total_value", "The newest total of the shown series and unit."),
    ("cgd_status", "none, present (within the window) or stale."),
    ("cgd_latest_year", "Year of the newest citizen figure."),
    ("cgd_value", "Citizen figure: n-weighted mean over the window's years of evidence that counts (else the figure "
                  "described by cgd_reason); empty when suppressed."),
    ("cgd_suppressed", "True when the citizen figure is not shown: fewer than k respondents behind it, suppressed at "
                       "source, or hidden so that no suppressed figure can be worked out (complementary)."),
    ("cgd_n", "Respondents or points behind the citizen figure."),
    ("cgd_datasets", "Citizen datasets behind it, comma-separated."),
    ("cgd_reason", "Why the citizen data shown does not count (empty when it counts or there is none): suppressed, "
                   "not_usable or stale."),
    ("cgd_reason_detail", "For suppressed: small, source or complementary; for not_usable: the verdict's reason "
                          "(gateway_need, score_methods=0, mean=1.33, not_assessed, gateway_unknown)."),
    ("cgd_diff", "Citizen minus official figure, where both exist in the same unit."),
    ("cgd_margin", "Their combined 95 % uncertainty (official bounds; citizen sampling margin for percentages)."),
    ("cgd_disagrees", "True when the difference exceeds that margin; empty when it cannot be judged."),
    ("outcome_gap", "Group minus total in the latest year of the window with both (same series and unit), signed so "
                    "that positive = group worse off; empty when the indicator's polarity is unknown."),
    ("outcome_gap_year", "Year of that comparison."),
    ("group_minus_total", "The same difference unsigned (group minus total), shown when the polarity is unknown."),
    ("series", "Series of the shown values: the indicator's headline series unless another was chosen."),
    ("unit", "Unit of the shown values."),
    ("official_value_year", "Year of official_value (the shown series' newest figure for the group)."),
    ("headline", "covered, filled (official gap, citizen evidence that counts), blind_spot or not_applicable."),
    ("parts_status", "For an intersectional group: the status of each one-dimension group it narrows, `women=current; "
                     "rural=current` (so a cell can say that both parts are measured but the intersection is not); "
                     "empty for one-dimension groups."),
    ("parent_gaps", "For an intersectional group: its value minus each parent group's, `women=-4.2; rural=-1.5`, in "
                    "the latest year of the window where both exist (same series and unit; unsigned); empty when none."),
    ("raised_on", "Latest day the cell was raised (evidence register entries concerning it), ISO date; empty if never."),
    ("closed_since_raised", "True when the cell was raised and now has an official figure (any series, at or before "
                            "the as-of year) whose reference period ends after that day (its year is the raised year "
                            "or later); false when raised and not; empty when never raised."),
)

# the words of the coverage table live in one module (re-exported here for older callers)
STATUSES, CGD_STATUSES, HEADLINES = vocabulary.STATUSES, vocabulary.CGD_STATUSES, vocabulary.HEADLINES


def arrow_schema(columns: tuple[Column, ...]) -> pa.Schema:
    """Arrow schema for a table declared above."""
    return pa.schema([pa.field(c.name, c.type, nullable=c.nullable) for c in columns])


def names(columns: tuple[Column, ...]) -> list[str]:
    return [c.name for c in columns]
