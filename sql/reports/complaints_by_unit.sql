-- 12315 analysis report: volumes and money per reporting unit (the scope's bureaus).
-- Needs the registered view report_unit_map(region_code, unit_code) (reports/scope.py); codes not in
-- the map stay their own unit.
-- Parameters: $prefix (scope, on handling_region_code), $start, $end (received_at window).
SELECT coalesce(u.unit_code, c.handling_region_code)                           AS unit_code,
       count(*)                                                                 AS n,
       sum(CASE WHEN c.record_type = '投诉' THEN 1 ELSE 0 END)                  AS n_complaints,
       sum(CASE WHEN c.record_type = '举报' THEN 1 ELSE 0 END)                  AS n_reports,
       sum(CASE WHEN c.record_type = '咨询' THEN 1 ELSE 0 END)                  AS n_consultations,
       sum(CASE WHEN c.is_online THEN 1 ELSE 0 END)                             AS n_online,
       CAST(sum(c.amount_disputed) AS DOUBLE)                                   AS amount_disputed,
       CAST(sum(c.amount_recovered) AS DOUBLE)                                  AS amount_recovered
FROM clean.complaints c
LEFT JOIN report_unit_map u ON u.region_code = c.handling_region_code
WHERE c.handling_region_code LIKE ($prefix || '%')
  AND c.received_at >= $start AND c.received_at < $end
GROUP BY coalesce(u.unit_code, c.handling_region_code)
ORDER BY n DESC;
