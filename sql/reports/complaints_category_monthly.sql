-- 12315 analysis report: monthly counts per unit × category (key-category trends and surge tests).
-- The caller widens the window to the surge baseline (12 months before the period).
-- Needs the registered view report_unit_map(region_code, unit_code).
-- Parameters: $prefix (scope, on handling_region_code), $start, $end (received_at window).
SELECT coalesce(u.unit_code, c.handling_region_code)                           AS unit_code,
       c.object_type,
       c.category,
       CAST(date_trunc('month', c.received_at) AS DATE)                        AS month,
       count(*)                                                                 AS n
FROM clean.complaints c
LEFT JOIN report_unit_map u ON u.region_code = c.handling_region_code
WHERE c.handling_region_code LIKE ($prefix || '%')
  AND c.received_at >= $start AND c.received_at < $end
  AND c.record_type IN ('投诉', '举报')
GROUP BY coalesce(u.unit_code, c.handling_region_code), c.object_type, c.category,
         CAST(date_trunc('month', c.received_at) AS DATE);
