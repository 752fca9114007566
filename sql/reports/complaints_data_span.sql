-- First and last month with any 12315 record in the scope (surge baselines never reach before the data).
-- Parameters: $prefix (scope, on handling_region_code).
SELECT CAST(date_trunc('month', min(c.received_at)) AS DATE) AS first_month,
       CAST(date_trunc('month', max(c.received_at)) AS DATE) AS last_month,
       count(*)                                              AS n
FROM clean.complaints c
WHERE c.handling_region_code LIKE ($prefix || '%');
