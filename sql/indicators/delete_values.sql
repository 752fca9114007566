-- Remove the rows of one (scope, period) before they are written again (same transaction).
DELETE FROM mart.indicator_values WHERE scope = $scope AND period = $period;
