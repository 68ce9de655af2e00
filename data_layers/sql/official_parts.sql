-- Each dataset's own best official figure per indicator x series x unit x area x group x year: the first stage of
-- the facts, computed once per dataset (when it is imported) and kept beside the facts, so a
-- refresh after an import reads only the new dataset's rows (see official_facts.sql for the merge).
-- Inputs (views): part_observations (one or more datasets), group_codes.
-- An observation belongs to a group when it is broken down on exactly the group's dimension with
-- one of its codes (disagg_dim/disagg_code, derived at import); the official total is group `all`.
-- An observation broken down on several dimensions (disagg_dim `_MULTI`, no breakdown outside the
-- schema in other_dims) is keyed by its dimensions and codes joined by '+' in schema order
-- (`SEX+URBANISATION` / `F+R`): it belongs to an intersectional group on exactly those dimensions
-- (group_codes holds each combination of the group's codes so). Every other row keeps its
-- disagg_dim/disagg_code, so one-dimension groups are judged exactly as before.
-- `pick` orders the candidates (DESIGN.md, "Ties"): a shown figure beats a suppressed one, then the
-- group's first code wins, then the newest row (obs_key = dataset sequence x 10^9 + row, unique in
-- the store). It is unique per (observation, group), so it is a
-- total order and the store-wide winner is the largest of the datasets' winners.
-- Speed (10 million rows): the winner is found in one aggregation over the few columns the choice
-- needs; its other columns are then fetched by `obs_key` (the low 15 digits of `pick`), so the
-- wide rows are neither materialised nor aggregated.
-- Facts are kept per series and unit (11.3.1 has three series): a value and the total it is
-- compared with always come from the same series and unit; coverage counts any series.
WITH keyed AS (
    SELECT
        o.dataset_id,
        o.indicator,
        o.series,
        o.unit,
        o.area_code,
        o.period,
        o.suppressed,
        o.value,
        o.obs_key,
        CASE WHEN o.disagg_dim <> '_MULTI' OR o.other_dims <> '' THEN o.disagg_dim ELSE concat_ws('+',
            CASE WHEN o.sex <> '_T' THEN 'SEX' END,
            CASE WHEN o.age <> '_T' THEN 'AGE' END,
            CASE WHEN o.urbanisation <> '_T' THEN 'URBANISATION' END,
            CASE WHEN o.disability_status <> '_T' THEN 'DISABILITY_STATUS' END,
            CASE WHEN o.income_wealth_quantile <> '_T' THEN 'INCOME_WEALTH_QUANTILE' END,
            CASE WHEN o.education_lev <> '_T' THEN 'EDUCATION_LEV' END,
            CASE WHEN o.migratory_status <> '_T' THEN 'MIGRATORY_STATUS' END,
            CASE WHEN o.ethnicity <> '_T' THEN 'ETHNICITY' END,
            CASE WHEN o.indigenous_status <> '_T' THEN 'INDIGENOUS_STATUS' END,
            CASE WHEN o.settlement_type <> '_T' THEN 'SETTLEMENT_TYPE' END) END AS group_dim,
        CASE WHEN o.disagg_dim <> '_MULTI' OR o.other_dims <> '' THEN o.disagg_code ELSE concat_ws('+',
            CASE WHEN o.sex <> '_T' THEN o.sex END,
            CASE WHEN o.age <> '_T' THEN o.age END,
            CASE WHEN o.urbanisation <> '_T' THEN o.urbanisation END,
            CASE WHEN o.disability_status <> '_T' THEN o.disability_status END,
            CASE WHEN o.income_wealth_quantile <> '_T' THEN o.income_wealth_quantile END,
            CASE WHEN o.education_lev <> '_T' THEN o.education_lev END,
            CASE WHEN o.migratory_status <> '_T' THEN o.migratory_status END,
            CASE WHEN o.ethnicity <> '_T' THEN o.ethnicity END,
            CASE WHEN o.indigenous_status <> '_T' THEN o.indigenous_status END,
            CASE WHEN o.settlement_type <> '_T' THEN o.settlement_type END) END AS group_code
    FROM part_observations AS o
    WHERE o.source_kind = 'official' AND (o.value IS NOT NULL OR o.suppressed)
),
best AS (
    SELECT
        o.dataset_id,
        o.indicator,
        o.series,
        o.unit,
        o.area_code,
        g.group_id,
        o.period,
        max(CAST(CASE WHEN o.suppressed OR o.value IS NULL THEN 0 ELSE 2 END AS BIGINT) * 1000000000000000000
            + CAST(1000 - g.priority AS BIGINT) * 1000000000000000 + o.obs_key) AS pick
    FROM keyed AS o
    JOIN group_codes AS g
        ON o.group_dim = g.dimension AND o.group_code = g.code
    GROUP BY o.dataset_id, o.indicator, o.series, o.unit, o.area_code, g.group_id, o.period
)
SELECT
    b.indicator,
    b.series,
    b.unit,
    b.area_code,
    b.group_id,
    b.period AS year,
    b.pick,
    o.value,
    o.lower,
    o.upper,
    o.n,
    o.suppressed,
    o.dataset_id
FROM best AS b
JOIN part_observations AS o
    ON o.obs_key = b.pick % 1000000000000000
WHERE o.source_kind = 'official'
