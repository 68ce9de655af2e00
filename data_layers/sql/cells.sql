-- The coverage status of every (indicator, area, group) cell at one admin level, seen from the
-- as-of year $as_of with a freshness window of $window years (DESIGN.md, "The core rule").
-- Inputs (views): indicator_catalogue, areas (with area_order, the rank of its code), group_catalogue,
-- indicator_exclusions, official_facts, citizen_facts, headline_series (the series and unit each
-- indicator shows by default) and series_options (every series and unit the facts hold).
-- Series: a cell's status counts an official figure of any series of the indicator; every value
-- shown (the figure, the total, the outcome gap) comes from one series and unit: the headline
-- one, or the one named in $series ('indicator|series|unit', NULL = headline everywhere). Observations dated after $as_of are invisible; a cell at level L
-- is judged only from facts attached to areas of level L.
-- Optional filters $indicators, $groups, $areas (lists, NULL = all) are applied inside every step,
-- so one click (one indicator x group) reads only its own facts instead of judging the whole level;
-- official totals (group `all`) are always read, because `aggregate_only` needs them.
-- The newest fact of a cell is taken with arg_max over the year: facts hold one row per cell and
-- year, so there are no ties. arg_max skips a NULL value in DuckDB but not in Spark (max_by), so a
-- value is taken only when the newest row's own (never NULL) "suppressed or empty" flag is false.
WITH
ind_grp AS (
    SELECT
        i.code AS indicator,
        i.sort_order AS indicator_order,
        i.higher_is_better,
        g.group_id,
        g.group_order,
        na.group_id IS NOT NULL AS excluded
    FROM indicator_catalogue AS i
    CROSS JOIN group_catalogue AS g
    LEFT JOIN indicator_exclusions AS na
        ON na.indicator = i.code AND na.group_id = g.group_id
    WHERE ($indicators IS NULL OR list_contains($indicators, i.code))
        AND ($groups IS NULL OR list_contains($groups, g.group_id))
),
series_pick AS (
    SELECT indicator, series, unit
    FROM headline_series
    WHERE $series IS NULL
        OR NOT list_contains($series_indicators, indicator)
    UNION ALL
    SELECT indicator, series, unit
    FROM series_options
    WHERE $series IS NOT NULL
        AND list_contains($series, concat(indicator, '|', series, '|', unit))
),
visible_all AS (
    SELECT indicator, series, unit, area_code, group_id, year, value, suppressed, total_value
    FROM official_facts
    WHERE level = $level AND year <= $as_of
        AND ($indicators IS NULL OR list_contains($indicators, indicator))
        AND ($groups IS NULL OR list_contains($groups, group_id) OR group_id = 'all')
        AND ($areas IS NULL OR list_contains($areas, area_code))
),
visible AS (
    SELECT v.indicator, v.area_code, v.group_id, v.year, v.value, v.suppressed, v.total_value
    FROM visible_all AS v
    JOIN series_pick AS p
        ON p.indicator = v.indicator AND p.series = v.series AND p.unit = v.unit
),
seen AS (
    SELECT indicator, area_code, group_id, max(year) AS year
    FROM visible_all
    GROUP BY indicator, area_code, group_id
),
off AS (
    SELECT
        indicator,
        area_code,
        group_id,
        max(year) AS year,
        arg_max(suppressed, year) AS suppressed,
        CASE WHEN arg_max(suppressed OR value IS NULL, year) THEN NULL ELSE arg_max(value, year) END AS value
    FROM visible
    GROUP BY indicator, area_code, group_id
),
tot AS (
    SELECT s.indicator, s.area_code, s.year, o.value
    FROM seen AS s
    LEFT JOIN off AS o
        ON o.indicator = s.indicator AND o.area_code = s.area_code AND o.group_id = s.group_id
    WHERE s.group_id = 'all'
),
ind_area AS (
    SELECT
        i.indicator,
        a.code AS area_code,
        a.name AS area_name,
        a.level,
        a.area_order,
        tot.year AS total_latest_year,
        tot.value AS total_value
    FROM (SELECT DISTINCT indicator FROM ind_grp) AS i
    CROSS JOIN areas AS a
    LEFT JOIN tot
        ON tot.indicator = i.indicator AND tot.area_code = a.code
    WHERE a.level = $level
        AND ($areas IS NULL OR list_contains($areas, a.code))
),
gap AS (
    SELECT indicator, area_code, group_id, max(year) AS year, arg_max(value - total_value, year) AS diff
    FROM visible
    WHERE year >= $as_of - $window AND value IS NOT NULL AND total_value IS NOT NULL
        AND group_id <> 'all'
    GROUP BY indicator, area_code, group_id
),
cgd AS (
    SELECT
        indicator,
        area_code,
        group_id,
        max(year) AS year,
        arg_max(suppressed, year) AS suppressed,
        CASE WHEN arg_max(suppressed OR value IS NULL, year) THEN NULL ELSE arg_max(value, year) END AS value,
        arg_max(n, year) AS n,
        arg_max(datasets, year) AS datasets
    FROM citizen_facts
    WHERE level = $level AND year <= $as_of
        AND ($indicators IS NULL OR list_contains($indicators, indicator))
        AND ($groups IS NULL OR list_contains($groups, group_id))
        AND ($areas IS NULL OR list_contains($areas, area_code))
    GROUP BY indicator, area_code, group_id
),
judged AS (
    SELECT
        ia.indicator,
        ig.indicator_order,
        ia.area_code,
        ia.area_name,
        ia.level,
        ia.area_order,
        ig.group_id,
        ig.group_order,
        CASE
            WHEN ig.excluded THEN 'not_applicable'
            WHEN seen.year >= $as_of - $window THEN 'current'
            WHEN seen.year IS NOT NULL THEN 'stale'
            WHEN ia.total_latest_year IS NOT NULL THEN 'aggregate_only'
            ELSE 'missing'
        END AS status,
        seen.year AS official_latest_year,
        off.value AS official_value,
        off.year AS official_value_year,
        COALESCE(off.suppressed, FALSE) AS official_suppressed,
        ia.total_latest_year,
        ia.total_value,
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
            WHEN ig.higher_is_better THEN -gap.diff
            WHEN NOT ig.higher_is_better THEN gap.diff
        END AS outcome_gap,
        gap.year AS outcome_gap_year,
        gap.diff AS group_minus_total,
        sp.series,
        sp.unit
    FROM ind_area AS ia
    JOIN ind_grp AS ig
        ON ig.indicator = ia.indicator
    LEFT JOIN series_pick AS sp
        ON sp.indicator = ia.indicator
    LEFT JOIN seen
        ON seen.indicator = ia.indicator AND seen.area_code = ia.area_code AND seen.group_id = ig.group_id
    LEFT JOIN off
        ON off.indicator = ia.indicator AND off.area_code = ia.area_code AND off.group_id = ig.group_id
    LEFT JOIN cgd
        ON cgd.indicator = ia.indicator AND cgd.area_code = ia.area_code AND cgd.group_id = ig.group_id
    LEFT JOIN gap
        ON gap.indicator = ia.indicator AND gap.area_code = ia.area_code AND gap.group_id = ig.group_id
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
    group_minus_total,
    series,
    unit,
    official_value_year,
    CASE
        WHEN status = 'not_applicable' THEN 'not_applicable'
        WHEN status = 'current' THEN 'covered'
        WHEN cgd_status = 'present' THEN 'filled'
        ELSE 'blind_spot'
    END AS headline,
    indicator_order,
    area_order,
    group_order
FROM judged
