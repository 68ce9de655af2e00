-- Citizen figures per indicator x area x group x year.
-- Inputs (views): observations, areas, group_codes, area_ancestors; parameter $k_min.
-- Area aggregates count for their own area; points (assigned by point-in-polygon at import to the
-- finest area) count in every area that contains them, at every level. The value is the
-- n-weighted mean of the rows that are not suppressed; fewer than $k_min respondents, or
-- suppression at source on every row, makes the cell suppressed (a third state, never zero).
WITH placed AS (
    SELECT
        o.indicator,
        x.ancestor_code AS area_code,
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
grouped AS (
    SELECT
        p.indicator,
        p.area_code,
        g.group_id,
        p.period AS year,
        sum(CASE WHEN p.suppressed THEN NULL ELSE p.value * p.n END) AS weighted_sum,
        sum(CASE WHEN p.suppressed THEN NULL ELSE p.n END) AS weight,
        CAST(sum(p.n) AS BIGINT) AS n,
        min(CASE WHEN p.suppressed THEN 1 ELSE 0 END) AS all_suppressed,
        string_agg(DISTINCT p.dataset_id, ',' ORDER BY p.dataset_id ASC NULLS LAST) AS datasets
    FROM placed AS p
    JOIN group_codes AS g
        ON p.disagg_dim = g.dimension AND p.disagg_code = g.code
    GROUP BY p.indicator, p.area_code, g.group_id, p.period
)
SELECT
    gr.indicator,
    gr.area_code,
    a.level,
    gr.group_id,
    gr.year,
    CASE
        WHEN gr.n < $k_min OR gr.all_suppressed = 1 THEN NULL
        ELSE gr.weighted_sum / NULLIF(gr.weight, 0)
    END AS value,
    gr.n,
    (gr.n < $k_min OR gr.all_suppressed = 1) AS suppressed,
    gr.datasets
FROM grouped AS gr
JOIN areas AS a
    ON a.code = gr.area_code
