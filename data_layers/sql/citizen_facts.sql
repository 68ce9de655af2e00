-- Citizen figures per indicator x area x group x year, merged from the datasets' sums
-- (citizen_parts.sql). Inputs (views): citizen_parts; parameter $k_min.
-- The value is the n-weighted mean of the rows that are not suppressed; fewer than $k_min
-- respondents, or suppression at source on every row, makes the cell suppressed (a third state,
-- never zero). `datasets` is the sorted list of the datasets behind the cell (one part row per
-- dataset, so a plain ordered string_agg).
WITH grouped AS (
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
    FROM citizen_parts
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
