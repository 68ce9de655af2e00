-- Citizen figures per indicator x area x group x year.
-- Inputs (views): observations, group_codes, area_ancestors; parameter $k_min.
-- Area aggregates count for their own area; points (assigned by point-in-polygon at import to the
-- finest area) count in every area that contains them, at every level. The value is the
-- n-weighted mean of the rows that are not suppressed; fewer than $k_min respondents, or
-- suppression at source on every row, makes the cell suppressed (a third state, never zero).
-- For speed with a million points the sums are built in steps that only add up partial sums (so
-- the result is the same): per finest area and dataset first, then rolled up to every enclosing
-- area, then per cell, where the sorted list of datasets is a plain string_agg over distinct rows.
WITH own AS (
    SELECT
        indicator,
        area_code,
        disagg_dim,
        disagg_code,
        period,
        dataset_id,
        is_point,
        sum(CASE WHEN suppressed THEN NULL ELSE value * COALESCE(n, 1) END) AS weighted_sum,
        sum(CASE WHEN suppressed THEN NULL ELSE COALESCE(n, 1) END) AS weight,
        sum(COALESCE(n, 1)) AS n,
        min(CASE WHEN suppressed THEN 1 ELSE 0 END) AS all_suppressed
    FROM observations
    WHERE source_kind = 'citizen' AND (value IS NOT NULL OR suppressed)
    GROUP BY indicator, area_code, disagg_dim, disagg_code, period, dataset_id, is_point
),
per_dataset AS (
    SELECT
        o.indicator,
        x.ancestor_code AS area_code,
        CAST(x.ancestor_level AS INTEGER) AS level,
        g.group_id,
        o.period AS year,
        o.dataset_id,
        sum(o.weighted_sum) AS weighted_sum,
        sum(o.weight) AS weight,
        sum(o.n) AS n,
        min(o.all_suppressed) AS all_suppressed
    FROM own AS o
    JOIN area_ancestors AS x
        ON x.area_code = o.area_code
    JOIN group_codes AS g
        ON o.disagg_dim = g.dimension AND o.disagg_code = g.code
    WHERE o.is_point OR x.ancestor_code = o.area_code
    GROUP BY o.indicator, x.ancestor_code, x.ancestor_level, g.group_id, o.period, o.dataset_id
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
        sum(n) AS n,
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
    CAST(n AS BIGINT) AS n,
    (n < $k_min OR all_suppressed = 1) AS suppressed,
    datasets
FROM grouped
