-- Each dataset's citizen sums per indicator x area x group x year: the first stage of the
-- citizen facts, computed once per dataset (when it is imported) and kept beside the facts; the
-- merge (citizen_facts.sql) only adds them up, because sums add.
-- Inputs (views): part_observations (one or more datasets), group_codes, area_ancestors.
-- Area aggregates count for their own area; points (assigned by point-in-polygon at import to the
-- finest area) count in every area that contains them, at every level. Suppressed rows add to `n`
-- but not to the value; `all_suppressed` remembers suppression at source on every row.
-- For speed with a million points the sums are built per finest area first, then rolled up to
-- every enclosing area.
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
    FROM part_observations
    WHERE source_kind = 'citizen' AND (value IS NOT NULL OR suppressed)
    GROUP BY indicator, area_code, disagg_dim, disagg_code, period, dataset_id, is_point
)
SELECT
    o.indicator,
    x.ancestor_code AS area_code,
    CAST(x.ancestor_level AS INTEGER) AS level,
    g.group_id,
    o.period AS year,
    o.dataset_id,
    sum(o.weighted_sum) AS weighted_sum,
    sum(o.weight) AS weight,
    CAST(sum(o.n) AS BIGINT) AS n,
    min(o.all_suppressed) AS all_suppressed
FROM own AS o
JOIN area_ancestors AS x
    ON x.area_code = o.area_code
JOIN group_codes AS g
    ON o.disagg_dim = g.dimension AND o.disagg_code = g.code
WHERE o.is_point OR x.ancestor_code = o.area_code
GROUP BY o.indicator, x.ancestor_code, x.ancestor_level, g.group_id, o.period, o.dataset_id
