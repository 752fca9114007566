-- KPI scorecard: 12315 hotline counts per reporting unit for 电话接通率 (reports/kpi.py).
--   calls_offered         calls offered in unit-months that also report calls_answered (the denominator)
--   calls_answered        calls answered (any attempt)
--   calls_offered_all     all calls offered (also months without an answered count)
--   calls_answered_first  answered at the first attempt (shown for information; the index uses it)
-- Needs the registered view report_unit_map(region_code, unit_code).
-- Parameters: $prefix (scope, on region_code), $start, $end (month window, dates).
SELECT coalesce(u.unit_code, h.region_code)                                                  AS unit_code,
       sum(CASE WHEN h.calls_answered IS NOT NULL THEN h.calls_offered ELSE 0 END)           AS calls_offered,
       sum(coalesce(h.calls_answered, 0))                                                    AS calls_answered,
       sum(h.calls_offered)                                                                  AS calls_offered_all,
       sum(h.calls_answered_first)                                                           AS calls_answered_first,
       count(*)                                                                              AS unit_months
FROM clean.hotline_stats h
LEFT JOIN report_unit_map u ON u.region_code = h.region_code
WHERE h.region_code LIKE ($prefix || '%')
  AND h.month >= CAST($start AS DATE) AND h.month < CAST($end AS DATE)
GROUP BY coalesce(u.unit_code, h.region_code);
