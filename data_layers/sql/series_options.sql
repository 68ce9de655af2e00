-- Every series and unit the official facts hold per indicator, with how many facts each has, and
-- which one the indicator shows by default (`headline`, exactly one per indicator): the series the
-- indicator catalogue names, else the one with most facts; ties by series code, then unit, so
-- the choice never depends on row order.
-- Inputs (views): official_facts, indicator_catalogue.
WITH opts AS (
    SELECT indicator, series, unit, count(*) AS n_facts
    FROM official_facts
    GROUP BY indicator, series, unit
),
ranked AS (
    SELECT
        o.indicator,
        o.series,
        o.unit,
        o.n_facts,
        row_number() OVER (
            PARTITION BY o.indicator
            ORDER BY CASE WHEN o.series = i.series THEN 0 ELSE 1 END ASC NULLS LAST,
                o.n_facts DESC NULLS LAST, o.series ASC NULLS LAST, o.unit ASC NULLS LAST
        ) AS rank_in_indicator
    FROM opts AS o
    LEFT JOIN indicator_catalogue AS i
        ON i.code = o.indicator
)
SELECT
    indicator,
    series,
    unit,
    CAST(n_facts AS BIGINT) AS n_facts,
    rank_in_indicator = 1 AS headline
FROM ranked
