-- Ranked index report / drill-down / dashboard (reports/index_report.py): every node's stored score,
-- rank, Monte-Carlo 5–95% rank interval and grade for the regions of one scope in the given periods
-- (the report period and the period its rank change is measured against).
-- Parameters: $scope (CN | 32 | 3204), $period, $previous.
SELECT scope, period, region_code, node_id, level, score, rank, rank_low, rank_high, rank_median, grade,
       spec_version, computed_at
FROM mart.index_scores
WHERE scope = $scope AND period IN ($period, $previous)
ORDER BY period, node_id, rank, region_code;
