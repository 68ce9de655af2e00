-- The coverage status of every (indicator, area, group) cell at one admin level, seen from the
-- as-of year $as_of with a freshness window of $window years (DESIGN.md, "The core rule").
-- Inputs (views): indicator_catalogue, areas, group_catalogue, indicator_exclusions,
-- official_facts, citizen_facts. Observations dated after $as_of are invisible; a cell at level L
-- is judged only from facts attached to areas of level L.
WITH
cell AS (
    SELECT
        i.code AS indicator,
        i.sort_order AS indicator_order,
        i.higher_is_better,
        a.code AS area_code,
        a.name AS area_name,
        a.level,
        g.group_id,
        g.group_order
    FROM indicator_catalogue AS i
    CROSS JOIN areas AS a
    CROSS JOIN group_catalogue AS g
    WHERE a.level = $level
),
visible AS (
    SELECT indicator, area_code, group_id, year, value, suppressed, total_value
    FROM official_facts
    WHERE level = $level AND year <= $as_of
),
off_latest AS (
    SELECT indicator, area_code, group_id, max(year) AS year
    FROM visible
    GROUP BY indicator, area_code, group_id
),
off AS (
    SELECT v.indicator, v.area_code, v.group_id, v.year, v.value, v.suppressed
    FROM visible AS v
    JOIN off_latest AS l
        ON v.indicator = l.indicator AND v.area_code = l.area_code
        AND v.group_id = l.group_id AND v.year = l.year
),
gap_latest AS (
    SELECT indicator, area_code, group_id, max(year) AS year
    FROM visible
    WHERE year >= $as_of - $window AND value IS NOT NULL AND total_value IS NOT NULL
        AND group_id <> 'all'
    GROUP BY indicator, area_code, group_id
),
gap AS (
    SELECT v.indicator, v.area_code, v.group_id, v.year, v.value - v.total_value AS diff
    FROM visible AS v
    JOIN gap_latest AS l
        ON v.indicator = l.indicator AND v.area_code = l.area_code
        AND v.group_id = l.group_id AND v.year = l.year
),
cgd_visible AS (
    SELECT indicator, area_code, group_id, year, value, n, suppressed, datasets
    FROM citizen_facts
    WHERE level = $level AND year <= $as_of
),
cgd_latest AS (
    SELECT indicator, area_code, group_id, max(year) AS year
    FROM cgd_visible
    GROUP BY indicator, area_code, group_id
),
cgd AS (
    SELECT c.indicator, c.area_code, c.group_id, c.year, c.value, c.n, c.suppressed, c.datasets
    FROM cgd_visible AS c
    JOIN cgd_latest AS l
        ON c.indicator = l.indicator AND c.area_code = l.area_code
        AND c.group_id = l.group_id AND c.year = l.year
),
judged AS (
    SELECT
        cell.indicator,
        cell.indicator_order,
        cell.area_code,
        cell.area_name,
        cell.level,
        cell.group_id,
        cell.group_order,
        CASE
            WHEN na.group_id IS NOT NULL THEN 'not_applicable'
            WHEN off.year >= $as_of - $window THEN 'current'
            WHEN off.year IS NOT NULL THEN 'stale'
            WHEN tot.year IS NOT NULL THEN 'aggregate_only'
            ELSE 'missing'
        END AS status,
        off.year AS official_latest_year,
        off.value AS official_value,
        COALESCE(off.suppressed, FALSE) AS official_suppressed,
        tot.year AS total_latest_year,
        tot.value AS total_value,
        CASE
            WHEN cgd.year IS NULL THEN 'none'
            WHEN cgd.year >= $as_of - $window THEN 'present'
            ELSE 'stale'
        END AS cgd_status,
        cgd.year AS cgd_latest_year,
        cgd.value AS cgd_value,
        COALESCE(cgd.suppressed, FALSE) AS cgd_suppressed,
        cgd.n AS cgd_n,
        cgd.datasets AS cgd_datasets,
        CASE
            WHEN cell.higher_is_better THEN -gap.diff
            WHEN NOT cell.higher_is_better THEN gap.diff
        END AS outcome_gap,
        gap.year AS outcome_gap_year
    FROM cell
    LEFT JOIN indicator_exclusions AS na
        ON na.indicator = cell.indicator AND na.group_id = cell.group_id
    LEFT JOIN off
        ON off.indicator = cell.indicator AND off.area_code = cell.area_code
        AND off.group_id = cell.group_id
    LEFT JOIN off AS tot
        ON tot.indicator = cell.indicator AND tot.area_code = cell.area_code
        AND tot.group_id = 'all'
    LEFT JOIN cgd
        ON cgd.indicator = cell.indicator AND cgd.area_code = cell.area_code
        AND cgd.group_id = cell.group_id
    LEFT JOIN gap
        ON gap.indicator = cell.indicator AND gap.area_code = cell.area_code
        AND gap.group_id = cell.group_id
)
SELECT
    indicator,
    area_code,
    area_name,
    level,
    group_id AS "group",
    status,
    official_latest_year,
    official_value,
    official_suppressed,
    total_latest_year,
    total_value,
    cgd_status,
    cgd_latest_year,
    cgd_value,
    cgd_suppressed,
    cgd_n,
    cgd_datasets,
    outcome_gap,
    outcome_gap_year,
    CASE
        WHEN status = 'not_applicable' THEN 'not_applicable'
        WHEN status = 'current' THEN 'covered'
        WHEN cgd_status = 'present' THEN 'filled'
        ELSE 'blind_spot'
    END AS headline,
    indicator_order,
    group_order
FROM judged
