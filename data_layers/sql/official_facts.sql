-- One official figure per indicator x area x group x year (the facts the dashboard queries),
-- merged from the datasets' own winners (official_parts.sql).
-- Inputs (views): official_parts, areas.
-- `pick` is a total order (unique per observation and group), so the store-wide winner of a key is
-- the part row with the largest pick. `total_value` (same indicator, area and year) is
-- precomputed for the outcome gap.
WITH best AS (
    SELECT
        indicator,
        area_code,
        group_id,
        year,
        max(pick) AS pick
    FROM official_parts
    GROUP BY indicator, area_code, group_id, year
),
chosen AS (
    SELECT
        p.indicator,
        p.area_code,
        p.group_id,
        p.year,
        p.value,
        p.lower,
        p.upper,
        p.n,
        p.suppressed,
        p.dataset_id,
        p.unit
    FROM best AS b
    JOIN official_parts AS p
        ON p.pick = b.pick AND p.group_id = b.group_id
)
SELECT
    c.indicator,
    c.area_code,
    a.level,
    c.group_id,
    c.year,
    CASE WHEN c.suppressed THEN NULL ELSE c.value END AS value,
    c.lower,
    c.upper,
    c.n,
    c.suppressed,
    c.dataset_id,
    c.unit,
    CASE WHEN t.suppressed THEN NULL ELSE t.value END AS total_value
FROM chosen AS c
JOIN areas AS a
    ON a.code = c.area_code
LEFT JOIN chosen AS t
    ON t.group_id = 'all' AND t.indicator = c.indicator AND t.area_code = c.area_code
    AND t.year = c.year
