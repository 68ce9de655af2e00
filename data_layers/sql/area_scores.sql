-- Gap and blind-spot scores per area, from the coverage cells (a CTE named `cells`).
-- Gap score = (stale + aggregate_only + missing) / applicable cells;
-- blind-spot score = cells with neither a current official figure nor citizen evidence that counts /
-- applicable cells. NULLIF keeps an area whose cells are all not applicable from dividing by zero.
SELECT
    area_code,
    area_name,
    level,
    SUM(CASE WHEN status <> 'not_applicable' THEN 1 ELSE 0 END) AS applicable,
    SUM(CASE WHEN status = 'current' THEN 1 ELSE 0 END) AS n_current,
    SUM(CASE WHEN status = 'stale' THEN 1 ELSE 0 END) AS n_stale,
    SUM(CASE WHEN status = 'aggregate_only' THEN 1 ELSE 0 END) AS n_aggregate_only,
    SUM(CASE WHEN status = 'missing' THEN 1 ELSE 0 END) AS n_missing,
    SUM(CASE WHEN headline = 'filled' THEN 1 ELSE 0 END) AS n_filled,
    SUM(CASE WHEN headline = 'blind_spot' THEN 1 ELSE 0 END) AS n_blind_spot,
    SUM(CASE WHEN status IN ('stale', 'aggregate_only', 'missing') THEN 1 ELSE 0 END) * 1.0
        / NULLIF(SUM(CASE WHEN status <> 'not_applicable' THEN 1 ELSE 0 END), 0) AS gap_score,
    SUM(CASE WHEN headline = 'blind_spot' THEN 1 ELSE 0 END) * 1.0
        / NULLIF(SUM(CASE WHEN status <> 'not_applicable' THEN 1 ELSE 0 END), 0) AS blind_spot_score
FROM cells
GROUP BY area_code, area_name, level
ORDER BY blind_spot_score DESC NULLS LAST, gap_score DESC NULLS LAST, area_code ASC NULLS LAST
