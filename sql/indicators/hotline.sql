-- Hotline indicator (12315热线话务统计) per unit of the scope, straight from clean.hotline_stats.
-- Date basis: month (the first day of the month) between $period_start and $period_end.
-- Unit: region_code of the call-centre unit. Call centres are usually prefecture-level
-- (region_code = a prefecture code), so in a prefecture scope (units = counties) they map to no
-- county and the indicator is NULL for every county; a provincial centre (320000) maps to no
-- prefecture of scope 32 either. Unit-months lacking calls_offered or calls_answered_first are left out.
-- Parameters: $period_start, $period_end.
WITH h AS (
    SELECT u.unit_code,
           SUM(h.calls_answered_first) AS calls_answered_first,
           SUM(h.calls_offered) AS calls_offered
    FROM clean.hotline_stats h
    JOIN ind_region_units u ON u.region_code = h.region_code
    WHERE h.month BETWEEN $period_start AND $period_end
      AND h.calls_offered IS NOT NULL AND h.calls_answered_first IS NOT NULL
    GROUP BY u.unit_code
)

-- @indicator hotline_first_answer_rate
-- @kind share
-- @region hotline: region_code of the call-centre unit
-- @date month in the period
-- @numerator calls answered at the first attempt (sum of calls_answered_first)
-- @denominator calls offered (sum of calls_offered); record_count = calls offered
-- @zh 12315热线首次接通率 = 首次接通量 ÷ 呼入量（目标95%）
-- @en Hotline first-attempt answer rate: calls answered at the first attempt / calls offered (target 95%)
SELECT 'hotline_first_answer_rate' AS indicator_id, s.unit_code AS region_code,
       CAST(COALESCE(h.calls_answered_first, 0) AS DOUBLE) AS numerator,
       CAST(COALESCE(h.calls_offered, 0) AS DOUBLE) AS denominator,
       CASE WHEN h.calls_offered > 0 THEN CAST(h.calls_answered_first AS DOUBLE) / h.calls_offered END AS value,
       COALESCE(h.calls_offered, 0) AS record_count
FROM ind_scope_units s LEFT JOIN h ON h.unit_code = s.unit_code;
