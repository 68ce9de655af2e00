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
-- Citizen evidence that counts (DESIGN.md): citizen facts of usable datasets, within the window,
-- shown (not suppressed). The cell's citizen figure is then the n-weighted mean over every year of
-- the window with such a figure (`n` their respondents added up, the latest year reported, the
-- datasets of all those years); each yearly figure already passed the small-cell and
-- complementary rules, so the mean reveals nothing they hide. Citizen data that does not count
-- is still shown, with `cgd_reason`: `suppressed` (usable data in the window, none shown; detail
-- small / source / complementary), `not_usable` (only datasets whose verdict is not usable in the
-- window; their own window figure, detail the verdict's reason) or `stale` (only older data;
-- its newest figure). It never makes a cell "filled".
-- Official and citizen side by side: where the cell has both an official figure and a citizen
-- figure in the same unit, `cgd_diff` = citizen minus official and `cgd_margin` their combined
-- 95 % uncertainty: the official half-interval (upper - lower) / 2 when bounds are published, and
-- for percentages the citizen sampling margin 1.96 * sqrt(p(1-p) / (n + 4)) with the Agresti-Coull
-- p = (x + 2) / (n + 4) (never zero at 0 % or 100 %), added in quadrature. `cgd_disagrees` is true
-- when |diff| exceeds that margin; unknown (NULL) when the citizen margin cannot be known (not a
-- percentage) or nothing is compared.
-- Intersections (DESIGN.md, "Intersectional groups"; group_parents: each part's one-dimension group):
-- `parts_status` gives each parent group's status in the cell's area (`women=current; rural=current`),
-- judged by the same precedence, so a cell can say that its parts are measured but it is not;
-- `parent_gaps` the intersection's value minus each parent's (same series and unit, the latest
-- year of the window with both). Parents are read even when $groups names only the intersection.
-- The evidence register (evidence_register; an empty indicator, area or group matches all):
-- `raised_on` is the latest day an entry concerning the cell was presented; `closed_since_raised`
-- is true when the cell now has an official figure (any series, at or before $as_of) whose
-- reference year is the raised year or later (the period ends after the day it was raised).
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
    SELECT indicator, series, unit, area_code, group_id, year, value, lower, upper, suppressed, total_value
    FROM official_facts
    WHERE level = $level AND year <= $as_of
        AND ($indicators IS NULL OR list_contains($indicators, indicator))
        AND ($groups IS NULL OR list_contains($groups, group_id) OR group_id = 'all'
            OR group_id IN (SELECT parent_id FROM group_parents WHERE list_contains($groups, group_id)))
        AND ($areas IS NULL OR list_contains($areas, area_code))
),
visible AS (
    SELECT v.indicator, v.area_code, v.group_id, v.year, v.value, v.lower, v.upper, v.unit, v.suppressed, v.total_value
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
        CASE WHEN arg_max(suppressed OR value IS NULL, year) THEN NULL ELSE arg_max(value, year) END AS value,
        CASE WHEN arg_max(suppressed OR lower IS NULL, year) THEN NULL ELSE arg_max(lower, year) END AS lower,
        CASE WHEN arg_max(suppressed OR upper IS NULL, year) THEN NULL ELSE arg_max(upper, year) END AS upper,
        arg_max(unit, year) AS unit
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
parts AS (
    SELECT
        ia.indicator,
        ia.area_code,
        gp.group_id,
        string_agg(concat(gp.parent_id, '=', CASE
            WHEN na.group_id IS NOT NULL THEN 'not_applicable'
            WHEN ps.year >= $as_of - $window THEN 'current'
            WHEN ps.year IS NOT NULL THEN 'stale'
            WHEN ia.total_latest_year IS NOT NULL THEN 'aggregate_only'
            ELSE 'missing'
        END), '; ' ORDER BY gp.part_order ASC NULLS LAST) AS parts_status
    FROM ind_area AS ia
    JOIN group_parents AS gp
        ON $groups IS NULL OR list_contains($groups, gp.group_id)
    LEFT JOIN indicator_exclusions AS na
        ON na.indicator = ia.indicator AND na.group_id = gp.parent_id
    LEFT JOIN seen AS ps
        ON ps.indicator = ia.indicator AND ps.area_code = ia.area_code AND ps.group_id = gp.parent_id
    GROUP BY ia.indicator, ia.area_code, gp.group_id
),
parent_gap AS (
    SELECT
        v.indicator,
        v.area_code,
        gp.group_id,
        gp.parent_id,
        gp.part_order,
        arg_max(v.value - w.value, v.year) AS diff
    FROM visible AS v
    JOIN group_parents AS gp
        ON gp.group_id = v.group_id
    JOIN visible AS w
        ON w.indicator = v.indicator AND w.area_code = v.area_code AND w.year = v.year AND w.group_id = gp.parent_id
    WHERE v.year >= $as_of - $window AND v.value IS NOT NULL AND w.value IS NOT NULL
    GROUP BY v.indicator, v.area_code, gp.group_id, gp.parent_id, gp.part_order
),
parent_gaps AS (
    SELECT
        indicator,
        area_code,
        group_id,
        string_agg(concat(parent_id, '=', CAST(round(diff, 3) AS VARCHAR)), '; '
            ORDER BY part_order ASC NULLS LAST) AS parent_gaps
    FROM parent_gap
    GROUP BY indicator, area_code, group_id
),
raised AS (
    SELECT
        ia.indicator,
        ia.area_code,
        ig.group_id,
        max(r.presented_on) AS raised_on
    FROM evidence_register AS r
    JOIN ind_area AS ia
        ON (r.indicator = '' OR r.indicator = ia.indicator) AND (r.area_code = '' OR r.area_code = ia.area_code)
    JOIN ind_grp AS ig
        ON ig.indicator = ia.indicator AND (r.group_id = '' OR r.group_id = ig.group_id)
    GROUP BY ia.indicator, ia.area_code, ig.group_id
),
cgd_seen AS (
    SELECT
        indicator,
        area_code,
        group_id,
        year,
        usable,
        value,
        n,
        suppressed,
        suppression,
        datasets,
        reason,
        unit,
        year >= $as_of - $window AS in_window
    FROM citizen_facts
    WHERE level = $level AND year <= $as_of
        AND ($indicators IS NULL OR list_contains($indicators, indicator))
        AND ($groups IS NULL OR list_contains($groups, group_id))
        AND ($areas IS NULL OR list_contains($areas, area_code))
),
cgd_win AS (
    SELECT
        indicator,
        area_code,
        group_id,
        usable,
        max(year) AS year,
        sum(value * n) / NULLIF(sum(n), 0) AS value,
        sum(n) AS n,
        array_to_string(list_sort(list_distinct(flatten(list(string_split(datasets, ','))))), ',') AS datasets,
        min(reason) AS reason,
        CASE WHEN min(unit) = max(unit) THEN min(unit) ELSE '' END AS unit
    FROM cgd_seen
    WHERE in_window AND NOT suppressed
    GROUP BY indicator, area_code, group_id, usable
),
cgd_last AS (
    SELECT
        indicator,
        area_code,
        group_id,
        max(CASE WHEN in_window AND usable THEN 1 ELSE 0 END) AS usable_in_window,
        max(CASE WHEN in_window THEN 1 ELSE 0 END) AS any_in_window,
        arg_max(year, rank_key) AS year,
        arg_max(suppressed, rank_key) AS suppressed,
        CASE WHEN arg_max(suppressed, rank_key) THEN NULL ELSE arg_max(value, rank_key) END AS value,
        arg_max(n, rank_key) AS n,
        arg_max(suppression, rank_key) AS suppression,
        arg_max(datasets, rank_key) AS datasets,
        arg_max(reason, rank_key) AS reason,
        arg_max(unit, rank_key) AS unit
    FROM (
        -- usable before not usable, the window before older years, then the newest year: unique
        -- per cell, because facts hold one row per cell, year and verdict
        SELECT
            *,
            (CASE WHEN in_window THEN 2 ELSE 0 END + CASE WHEN usable THEN 1 ELSE 0 END) * 100000 + year AS rank_key
        FROM cgd_seen
    ) AS ranked
    GROUP BY indicator, area_code, group_id
),
cgd AS (
    SELECT
        l.indicator,
        l.area_code,
        l.group_id,
        CASE WHEN l.any_in_window = 1 THEN 'present' ELSE 'stale' END AS status,
        CASE
            WHEN u.year IS NOT NULL THEN NULL
            WHEN l.usable_in_window = 1 THEN 'suppressed'
            WHEN l.any_in_window = 1 THEN 'not_usable'
            ELSE 'stale'
        END AS reason,
        CASE
            WHEN u.year IS NOT NULL THEN NULL
            WHEN l.usable_in_window = 1 THEN l.suppression
            WHEN l.any_in_window = 1 THEN l.reason
            ELSE ''
        END AS reason_detail,
        CASE WHEN u.year IS NOT NULL THEN u.year WHEN x.year IS NOT NULL AND l.usable_in_window = 0 AND l.any_in_window = 1
            THEN x.year ELSE l.year END AS year,
        CASE WHEN u.year IS NOT NULL THEN u.value WHEN x.year IS NOT NULL AND l.usable_in_window = 0 AND l.any_in_window = 1
            THEN x.value ELSE l.value END AS value,
        CASE WHEN u.year IS NOT NULL THEN u.n WHEN x.year IS NOT NULL AND l.usable_in_window = 0 AND l.any_in_window = 1
            THEN x.n ELSE l.n END AS n,
        CASE WHEN u.year IS NOT NULL THEN FALSE WHEN x.year IS NOT NULL AND l.usable_in_window = 0 AND l.any_in_window = 1
            THEN FALSE ELSE l.suppressed END AS suppressed,
        CASE WHEN u.year IS NOT NULL THEN u.datasets WHEN x.year IS NOT NULL AND l.usable_in_window = 0
            AND l.any_in_window = 1 THEN x.datasets ELSE l.datasets END AS datasets,
        CASE WHEN u.year IS NOT NULL THEN u.unit WHEN x.year IS NOT NULL AND l.usable_in_window = 0
            AND l.any_in_window = 1 THEN x.unit ELSE l.unit END AS unit
    FROM cgd_last AS l
    LEFT JOIN cgd_win AS u
        ON u.indicator = l.indicator AND u.area_code = l.area_code AND u.group_id = l.group_id AND u.usable
    LEFT JOIN cgd_win AS x
        ON x.indicator = l.indicator AND x.area_code = l.area_code AND x.group_id = l.group_id AND NOT x.usable
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
        COALESCE(cgd.status, 'none') AS cgd_status,
        cgd.year AS cgd_latest_year,
        cgd.value AS cgd_value,
        COALESCE(cgd.suppressed, FALSE) AS cgd_suppressed,
        cgd.n AS cgd_n,
        cgd.datasets AS cgd_datasets,
        COALESCE(cgd.reason, '') AS cgd_reason,
        COALESCE(cgd.reason_detail, '') AS cgd_reason_detail,
        CASE WHEN lower(trim(cgd.unit)) = lower(trim(off.unit)) THEN cgd.value - off.value END AS cgd_diff,
        CASE
            WHEN lower(trim(cgd.unit)) <> lower(trim(off.unit)) OR cgd.value IS NULL OR off.value IS NULL THEN NULL
            WHEN lower(trim(cgd.unit)) NOT IN ('percent', '%', 'per cent', 'pct') THEN NULL
            ELSE sqrt(
                power(COALESCE(off.upper - off.lower, 0) / NULLIF(2.0, 0), 2)
                + power(196.0 * sqrt(
                    ((cgd.value / NULLIF(100.0, 0)) * cgd.n + 2) / NULLIF(cgd.n + 4, 0)
                    * (1 - ((cgd.value / NULLIF(100.0, 0)) * cgd.n + 2) / NULLIF(cgd.n + 4, 0))
                    / NULLIF(cgd.n + 4, 0)), 2))
        END AS cgd_margin,
        CASE
            WHEN ig.higher_is_better THEN -gap.diff
            WHEN NOT ig.higher_is_better THEN gap.diff
        END AS outcome_gap,
        gap.year AS outcome_gap_year,
        gap.diff AS group_minus_total,
        sp.series,
        sp.unit,
        pa.parts_status,
        pg.parent_gaps,
        rs.raised_on,
        CASE
            WHEN rs.raised_on IS NULL THEN NULL
            ELSE COALESCE(seen.year >= CAST(substr(rs.raised_on, 1, 4) AS INTEGER), FALSE)
        END AS closed_since_raised
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
    LEFT JOIN parts AS pa
        ON pa.indicator = ia.indicator AND pa.area_code = ia.area_code AND pa.group_id = ig.group_id
    LEFT JOIN parent_gaps AS pg
        ON pg.indicator = ia.indicator AND pg.area_code = ia.area_code AND pg.group_id = ig.group_id
    LEFT JOIN raised AS rs
        ON rs.indicator = ia.indicator AND rs.area_code = ia.area_code AND rs.group_id = ig.group_id
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
    cgd_reason,
    cgd_reason_detail,
    cgd_diff,
    cgd_margin,
    CASE WHEN cgd_margin IS NOT NULL THEN abs(cgd_diff) > cgd_margin END AS cgd_disagrees,
    outcome_gap,
    outcome_gap_year,
    group_minus_total,
    series,
    unit,
    official_value_year,
    CASE
        WHEN status = 'not_applicable' THEN 'not_applicable'
        WHEN status = 'current' THEN 'covered'
        WHEN cgd_status = 'present' AND cgd_reason = '' THEN 'filled'
        ELSE 'blind_spot'
    END AS headline,
    COALESCE(parts_status, '') AS parts_status,
    COALESCE(parent_gaps, '') AS parent_gaps,
    raised_on,
    closed_since_raised,
    indicator_order,
    area_order,
    group_order
FROM judged
