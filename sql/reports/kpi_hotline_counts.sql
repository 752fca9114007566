-- KPI scorecard: 12315 hotline counts per reporting unit for 电话首次接通率 (reports/kpi.py).
-- Same rows as the index indicator hotline_first_answer_rate (sql/indicators/hotline.sql): unit-months
-- reporting both calls_offered and calls_answered_first; here attributed to the report's bureaus.
--   calls_offered         calls offered (the denominator)
--   calls_answered_first  calls answered at the first attempt (the numerator; a call answered only when
--                         the caller tried again is not in it)
--   calls_answered        calls answered at any attempt, where reported (shown for information)
--   unit_months           hotline rows counted
-- Needs the registered view report_unit_map(region_code, unit_code).
-- Parameters: $prefix (scope, on region_code), $start, $end (month window, dates).
SELECT coalesce(u.unit_code, h.region_code)                                                  AS unit_code,
       sum(h.calls_offered)                                                                  AS calls_offered,
       sum(h.calls_answered_first)                                                           AS calls_answered_first,
       sum(coalesce(h.calls_answered, 0))                                                    AS calls_answered,
       count(*)                                                                              AS unit_months
FROM clean.hotline_stats h
LEFT JOIN report_unit_map u ON u.region_code = h.region_code
WHERE h.region_code LIKE ($prefix || '%')
  AND h.month >= CAST($start AS DATE) AND h.month < CAST($end AS DATE)
  AND h.calls_offered IS NOT NULL AND h.calls_answered_first IS NOT NULL
GROUP BY coalesce(u.unit_code, h.region_code);
