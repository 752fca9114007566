-- Periods with stored index scores for one scope (rows of the index page / build_reports check).
-- Parameters: $scope, $period.
SELECT count(*) AS n_rows, count(DISTINCT region_code) AS n_regions
FROM mart.index_scores
WHERE scope = $scope AND period = $period;
