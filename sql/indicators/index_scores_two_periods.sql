-- Index scores of a period and the one before it (for rank changes in the ranking table).
SELECT * FROM mart.index_scores WHERE scope = $scope AND period IN ($period, $previous)
