-- Citizen figures per indicator x area x group x year.
-- Inputs (views): observations, group_codes, area_ancestors; parameter $k_min.
-- Area aggregates count for their own area; points (assigned by point-in-polygon at import to the
-- finest area) count in every area that contains them, at every level. The value is the
-- n-weighted mean of the rows that are not suppressed; fewer than $k_min respondents, or
-- suppression at source on every row, makes the cell suppressed (a third state, never zero).
-- Two steps for speed: sums per dataset first, then per cell, so the sorted list of datasets is a
-- plain string_agg over distinct rows (a DISTINCT aggregate costs an extra pass over every point).
WITH placed AS (
    SELECT
        o.indicator,
        x.ancestor_code AS area_code,
        CAST(x.ancestor_level AS INTEGER) AS level,
        o.period,
        o.value,
        COALESCE(o.n, 1) AS n,
        o.suppressed,
        o.dataset_id,
        o.disagg_dim,
        o.disagg_code
    FROM observations AS o
    JOIN area_ancestors AS x
        ON x.area_code = o.area_code
    WHERE o.source_kind = 'citizen'
        AND (o.is_point OR x.ancestor_code = o.area_code)
        AND (o.value IS NOT NULL OR o.suppressed)
),
per_dataset AS (
    SELECT
        p.indicator,
        p.area_code,
        p.level,
        g.group_id,
        p.period AS year,
        p.dataset_id,
        sum(CASE WHEN p.suppressed THEN NULL ELSE p.value * p.n END) AS weighted_sum,
        sum(CASE WHEN p.suppressed THEN NULL ELSE p.n END) AS weight,
        CAST(sum(p.n) AS BIGINT) AS n,
        min(CASE WHEN p.suppressed THEN 1 ELSE 0 END) AS all_suppressed
    FROM placed AS p
    JOIN group_codes AS g
        ON p.disagg_dim = g.dimension AND p.disagg_code = g.code
    GROUP BY p.indicator, p.area_code, p.level, g.group_id, p.period, p.dataset_id
),
grouped AS (
    SELECT
        indicator,
        area_code,
        level,
        group_id,
        year,
        sum(weighted_sum) AS weighted_sum,
        sum(weight) AS weight,
        CAST(sum(n) AS BIGINT) AS n,
        min(all_suppressed) AS all_suppressed,
        string_agg(dataset_id, ',' ORDER BY dataset_id ASC NULLS LAST) AS datasets
    FROM per_dataset
    GROUP BY indicator, area_code, level, group_id, year
)
SELECT
    indicator,
    area_code,
    level,
    group_id,
    year,
    CASE
        WHEN n < $k_min OR all_suppressed = 1 THEN NULL
        ELSE weighted_sum / NULLIF(weight, 0)
    END AS value,
    n,
    (n < $k_min OR all_suppressed = 1) AS suppressed,
    datasets
FROM grouped
