-- Each dataset's citizen sums per indicator x area x group x year: the first stage of the
-- citizen facts, computed once per dataset (when it is imported or its assessment changes) and
-- kept beside the facts; the merge (citizen_facts.sql) only adds them up, because sums add.
-- Inputs (views): part_observations (one or more datasets), group_codes, area_ancestors,
-- dataset_verdicts (dataset_id, usable, reason, k_min: the quality verdict of data_layers/quality.py
-- and the dataset's small-cell threshold, never below the store's).
-- Area aggregates count for their own area; points (assigned by point-in-polygon at import to the
-- finest area) count in every area that contains them, at every level.
-- `weight` counts the respondents behind the figure that can be shown: rows suppressed at source
-- add to `n` but neither to the value nor to `weight` (DESIGN.md, small cells).
-- Ties (DESIGN.md): among one dataset's area aggregates for the same area, group and year, a figure
-- that can be shown (at least k respondents behind it) beats a suppressed one, then the group's
-- first code wins (row_number over a total order: the code is unique within the partition).
-- Points are records, not competing figures: every point of the group counts.
-- Records broken down on several dimensions are keyed as in official_parts.sql (`SEX+URBANISATION` /
-- `F+R`), so they count for the intersectional group on exactly those dimensions.
-- For speed with a million points the sums are built per finest area first, then rolled up to
-- every enclosing area.
WITH keyed AS (
    SELECT
        o.indicator,
        o.area_code,
        o.period,
        o.dataset_id,
        o.is_point,
        o.suppressed,
        o.value,
        o.n,
        o.unit,
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
    WHERE o.source_kind = 'citizen' AND (o.value IS NOT NULL OR o.suppressed)
),
own AS (
    SELECT
        indicator,
        area_code,
        group_dim AS disagg_dim,
        group_code AS disagg_code,
        period,
        dataset_id,
        is_point,
        sum(CASE WHEN suppressed THEN NULL ELSE value * COALESCE(n, 1) END) AS weighted_sum,
        sum(CASE WHEN suppressed THEN 0 ELSE COALESCE(n, 1) END) AS weight,
        sum(COALESCE(n, 1)) AS n,
        min(unit) AS unit_lo,
        max(unit) AS unit_hi
    FROM keyed
    GROUP BY indicator, area_code, group_dim, group_code, period, dataset_id, is_point
),
coded AS (
    SELECT
        o.indicator,
        o.area_code,
        o.period,
        o.dataset_id,
        o.is_point,
        o.weighted_sum,
        o.weight,
        o.n,
        o.unit_lo,
        o.unit_hi,
        g.group_id,
        v.usable,
        v.reason,
        v.k_min,
        row_number() OVER (
            PARTITION BY o.dataset_id, o.indicator, o.area_code, g.group_id, o.period, o.is_point
            ORDER BY CASE WHEN o.weight >= v.k_min THEN 0 ELSE 1 END ASC NULLS LAST,
                g.priority ASC NULLS LAST,
                o.disagg_code ASC NULLS LAST
        ) AS pick
    FROM own AS o
    JOIN group_codes AS g
        ON o.disagg_dim = g.dimension AND o.disagg_code = g.code
    JOIN dataset_verdicts AS v
        ON v.dataset_id = o.dataset_id
)
SELECT
    o.indicator,
    x.ancestor_code AS area_code,
    CAST(x.ancestor_level AS INTEGER) AS level,
    o.group_id,
    o.period AS year,
    o.dataset_id,
    o.usable,
    o.reason,
    CAST(o.k_min AS BIGINT) AS k_min,
    sum(o.weighted_sum) AS weighted_sum,
    CAST(sum(o.weight) AS BIGINT) AS weight,
    CAST(sum(o.n) AS BIGINT) AS n,
    min(o.unit_lo) AS unit_lo,
    max(o.unit_hi) AS unit_hi
FROM coded AS o
JOIN area_ancestors AS x
    ON x.area_code = o.area_code
WHERE (o.is_point OR x.ancestor_code = o.area_code) AND (o.is_point OR o.pick = 1)
GROUP BY o.indicator, x.ancestor_code, x.ancestor_level, o.group_id, o.period, o.dataset_id, o.usable, o.reason,
    o.k_min
