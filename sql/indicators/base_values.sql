-- Pooled scope values of a base period (the spec's methods.normalisation.base_period), per indicator:
-- the base of goalposts written as multiples of it (index_model.resolve_goalposts). scope_value is the
-- same on every row of an indicator (indicators/compute.py _pooled), MAX just picks it.
-- Parameters: $scope, $period.
SELECT indicator_id, MAX(scope_value) AS base_value
FROM mart.indicator_values
WHERE scope = $scope AND period = $period
GROUP BY indicator_id
