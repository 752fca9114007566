-- mart.index_scores is replaced per (scope, period) in one transaction (with insert_index_scores.sql).
DELETE FROM mart.index_scores WHERE scope = $scope AND period = $period
