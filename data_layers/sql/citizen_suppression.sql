-- One round of complementary suppression over the citizen facts (DESIGN.md, "Privacy defaults"):
-- no shown figure may let a reader work out a suppressed one. The store runs this round again on
-- its own result until a round suppresses nothing more (each round only adds suppressions, so it
-- ends), because hiding a figure for one rule can expose another figure to the other rule.
-- Inputs (views): citizen_round (the facts so far, columns of citizen_facts.sql), areas,
-- group_catalogue. Families are taken within one indicator, year and verdict (figures of usable
-- and not-usable datasets are never pooled, so neither can be worked out from the other):
-- * areas: a parent area whose figure is shown, and exactly one child (area whose parent it is)
--   with a suppressed figure: the smallest shown child (fewest respondents, then code) is
--   suppressed too; with no shown child, the parent is.
-- * groups of one area: the area's total (group `all`) shown and exactly one group on a dimension
--   suppressed while another group on it is shown (women/men): the smallest shown one is
--   suppressed too. A lone group on its dimension cannot be worked out from the total alone.
WITH f AS (
    SELECT
        c.indicator,
        c.area_code,
        c.group_id,
        c.year,
        c.usable,
        c.n,
        c.suppressed,
        a.parent_code,
        g.dimension
    FROM citizen_round AS c
    JOIN areas AS a
        ON a.code = c.area_code
    JOIN group_catalogue AS g
        ON g.group_id = c.group_id
),
area_fam AS (
    SELECT
        indicator,
        area_code,
        group_id,
        year,
        usable,
        suppressed,
        parent_code,
        sum(CASE WHEN suppressed THEN 1 ELSE 0 END)
            OVER (PARTITION BY indicator, group_id, year, usable, parent_code) AS n_sup,
        count(*) OVER (PARTITION BY indicator, group_id, year, usable, parent_code) AS n_kids,
        row_number() OVER (
            PARTITION BY indicator, group_id, year, usable, parent_code
            ORDER BY CASE WHEN suppressed THEN 1 ELSE 0 END ASC NULLS LAST, n ASC NULLS LAST,
                area_code ASC NULLS LAST
        ) AS rk
    FROM f
    WHERE parent_code IS NOT NULL
),
area_hit AS (
    SELECT k.*
    FROM area_fam AS k
    JOIN citizen_round AS p
        ON p.indicator = k.indicator AND p.group_id = k.group_id AND p.year = k.year
        AND p.usable = k.usable AND p.area_code = k.parent_code AND NOT p.suppressed
    WHERE k.n_sup = 1
),
grp_fam AS (
    SELECT
        indicator,
        area_code,
        group_id,
        year,
        usable,
        suppressed,
        sum(CASE WHEN suppressed THEN 1 ELSE 0 END)
            OVER (PARTITION BY indicator, area_code, year, usable, dimension) AS n_sup,
        count(*) OVER (PARTITION BY indicator, area_code, year, usable, dimension) AS n_kids,
        row_number() OVER (
            PARTITION BY indicator, area_code, year, usable, dimension
            ORDER BY CASE WHEN suppressed THEN 1 ELSE 0 END ASC NULLS LAST, n ASC NULLS LAST,
                group_id ASC NULLS LAST
        ) AS rk
    FROM f
    WHERE dimension <> '_T'
),
grp_hit AS (
    SELECT k.*
    FROM grp_fam AS k
    JOIN citizen_round AS p
        ON p.indicator = k.indicator AND p.group_id = 'all' AND p.year = k.year
        AND p.usable = k.usable AND p.area_code = k.area_code AND NOT p.suppressed
    WHERE k.n_sup = 1 AND k.n_kids > 1
),
hide AS (
    SELECT indicator, area_code, group_id, year, usable FROM area_hit WHERE rk = 1 AND NOT suppressed
    UNION
    SELECT indicator, parent_code AS area_code, group_id, year, usable FROM area_hit WHERE n_kids = 1
    UNION
    SELECT indicator, area_code, group_id, year, usable FROM grp_hit WHERE rk = 1 AND NOT suppressed
)
SELECT
    c.indicator,
    c.area_code,
    c.level,
    c.group_id,
    c.year,
    c.usable,
    CASE WHEN h.indicator IS NULL THEN c.value END AS value,
    c.n,
    c.suppressed OR h.indicator IS NOT NULL AS suppressed,
    CASE WHEN h.indicator IS NOT NULL AND NOT c.suppressed THEN 'complementary' ELSE c.suppression END
        AS suppression,
    c.datasets,
    c.reason,
    c.unit
FROM citizen_round AS c
LEFT JOIN hide AS h
    ON h.indicator = c.indicator AND h.area_code = c.area_code AND h.group_id = c.group_id
    AND h.year = c.year AND h.usable = c.usable
