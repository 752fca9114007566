-- Drill-down: the call-centre unit-months behind the hotline indicator of one unit (same filters
-- as hotline.sql). Parameters: $period_start, $period_end, $region_code.
SELECT h.unit_id, h.region_code, h.month, h.calls_offered, h.calls_answered_first, h.calls_answered
FROM clean.hotline_stats h
JOIN ind_region_units u ON u.region_code = h.region_code
WHERE u.unit_code = $region_code
  AND h.month BETWEEN $period_start AND $period_end
  AND h.calls_offered IS NOT NULL AND h.calls_answered_first IS NOT NULL
ORDER BY h.unit_id, h.month;
