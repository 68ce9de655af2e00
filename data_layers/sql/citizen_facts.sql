-- Citizen figures per indicator x area x group x year x verdict, merged from the datasets' sums
-- (citizen_parts.sql). Inputs (views): citizen_parts; parameter $k_min.
-- Datasets whose verdict is usable and the others are never pooled: `usable` is part of the key,
-- so only evidence that counts can make a cell "filled" (DESIGN.md, "Citizen evidence that
-- counts"), while the rest is still there to be shown with its reason.
-- The value is the n-weighted mean of the rows that are not suppressed at source. It is shown only
-- when at least k respondents stand behind it (`weight`: rows suppressed at source do not count),
-- k being the largest threshold of the datasets involved and never below $k_min. `suppression`
-- says why a figure is not shown: `small` (fewer than k respondents behind it) or `source` (every
-- row suppressed by its producer although k or more took part); `complementary` is added after
-- this step (citizen_suppression.sql). `n` is the number of respondents behind the figure, or,
-- when nothing stands behind it (every row suppressed at source), the respondents reported.
-- `datasets` is the sorted list of the datasets behind the figure (one part row per dataset, so a
-- plain ordered string_agg); `reason` the verdict's reason (empty when usable), the first in
-- dataset order when several not-usable datasets meet; `unit` the unit of measure, empty when the
-- rows behind the figure use several (then it is compared with no official figure).
WITH grouped AS (
    SELECT
        indicator,
        area_code,
        level,
        group_id,
        year,
        usable,
        sum(weighted_sum) AS weighted_sum,
        sum(weight) AS weight,
        sum(n) AS n_all,
        greatest(max(k_min), $k_min) AS k_min,
        min(reason) AS reason,
        string_agg(dataset_id, ',' ORDER BY dataset_id ASC NULLS LAST) AS datasets,
        CASE WHEN min(unit_lo) = max(unit_hi) THEN min(unit_lo) ELSE '' END AS unit
    FROM citizen_parts
    GROUP BY indicator, area_code, level, group_id, year, usable
),
judged AS (
    SELECT
        *,
        CASE
            WHEN weight >= k_min THEN ''
            WHEN weight = 0 AND n_all >= k_min THEN 'source'
            ELSE 'small'
        END AS suppression
    FROM grouped
)
SELECT
    indicator,
    area_code,
    level,
    group_id,
    year,
    usable,
    CASE WHEN suppression = '' THEN weighted_sum / NULLIF(weight, 0) END AS value,
    CAST(CASE WHEN weight > 0 THEN weight ELSE n_all END AS BIGINT) AS n,
    suppression <> '' AS suppressed,
    suppression,
    datasets,
    reason,
    unit
FROM judged
