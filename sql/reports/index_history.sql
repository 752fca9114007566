-- Dashboard trends (reports/dashboard.py): composite and dimension (level 0 and 1) scores and ranks of
-- every period stored for one scope.
-- Parameters: $scope.
SELECT period, region_code, node_id, level, score, rank, rank_low, rank_high, spec_version
FROM mart.index_scores
WHERE scope = $scope AND level <= 1
ORDER BY period, node_id, rank, region_code;
