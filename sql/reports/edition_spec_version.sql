-- An edition's record (reports.editions.edition_record): the index specification version the period's
-- scores were computed with. Parameters: $scope, $period.
SELECT min(spec_version) AS spec_version
FROM mart.index_scores
WHERE scope = $scope AND period = $period
