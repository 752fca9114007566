-- The stored indicator values of a scope and period, long form: what the index model reads.
SELECT region_code, indicator_id, value
FROM mart.indicator_values
WHERE scope = $scope AND period = $period
