-- Periods with stored indicator values for a scope (to find a base period when the stated one is absent).
-- Parameters: $scope.
SELECT DISTINCT period FROM mart.indicator_values WHERE scope = $scope ORDER BY period
