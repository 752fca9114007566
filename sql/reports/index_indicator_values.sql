-- Ranked index report (XLSX indicator sheet) and drill-down: the stored L3 indicator values behind the
-- index of one scope and period, with numerator, denominator, record count and the small-count flag.
-- Parameters: $scope, $period.
SELECT region_code, indicator_id, numerator, denominator, value, raw_value, record_count, min_records,
       small_count, treatment, scope_value, spec_version
FROM mart.indicator_values
WHERE scope = $scope AND period = $period
ORDER BY indicator_id, region_code;
