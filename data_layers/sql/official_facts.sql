-- One official figure per indicator x area x group x year (the facts the dashboard queries).
-- Inputs (views): observations, areas, group_codes.
-- An observation belongs to a group when it is broken down on exactly the group's dimension with
-- one of its codes (disagg_dim/disagg_code, derived at import); the official total is group `all`.
-- Ties cannot happen: `pick` is unique per (observation, group) and prefers the group's first code,
-- then the newest dataset. `total_value` (same indicator, area and year) is precomputed for the
-- outcome gap.
-- Speed at national scale (10 million rows): the winner of each key is found in one aggregation
-- over the few columns the choice needs; its other columns are then fetched by `obs_key` (unique in
-- the store, the low 15 digits of `pick`), so the wide rows are neither materialised nor aggregated.
WITH best AS (
    SELECT
        o.indicator,
        o.area_code,
        g.group_id,
        o.period,
        max(CAST(1000 - g.priority AS BIGINT) * 1000000000000000 + o.obs_key) AS pick
    FROM observations AS o
    JOIN group_codes AS g
        ON o.disagg_dim = g.dimension AND o.disagg_code = g.code
    WHERE o.source_kind = 'official' AND (o.value IS NOT NULL OR o.suppressed)
    GROUP BY o.indicator, o.area_code, g.group_id, o.period
),
chosen AS (
    SELECT
        b.indicator,
        b.area_code,
        b.group_id,
        b.period,
        o.value,
        o.lower,
        o.upper,
        o.n,
        o.suppressed,
        o.dataset_id
    FROM best AS b
    JOIN observations AS o
        ON o.obs_key = b.pick % 1000000000000000
    WHERE o.source_kind = 'official'
)
SELECT
    c.indicator,
    c.area_code,
    a.level,
    c.group_id,
    c.period AS year,
    CASE WHEN c.suppressed THEN NULL ELSE c.value END AS value,
    c.lower,
    c.upper,
    c.n,
    c.suppressed,
    c.dataset_id,
    CASE WHEN t.suppressed THEN NULL ELSE t.value END AS total_value
FROM chosen AS c
JOIN areas AS a
    ON a.code = c.area_code
LEFT JOIN chosen AS t
    ON t.group_id = 'all' AND t.indicator = c.indicator AND t.area_code = c.area_code
    AND t.period = c.period
