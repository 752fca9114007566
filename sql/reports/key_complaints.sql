-- Lock-on analysis of the five key categories (issue 10 point 6): complaints and reports (投诉, 举报) of the
-- period and of the same period a year before, per reporting unit, category, problem type and online flag.
-- Needs the registered view report_unit_map(region_code, unit_code).
-- Parameters: $prefix, $start, $end (this period), $prev_start, $prev_end (the same period last year).
WITH c AS (
    SELECT CASE WHEN received_at >= CAST($start AS TIMESTAMP) AND received_at < CAST($end AS TIMESTAMP) THEN 'cur'
                ELSE 'prev' END                                    AS which,
           coalesce(u.unit_code, c.handling_region_code)          AS unit_code,
           c.category, c.problem_type, coalesce(c.is_online, false) AS is_online
    FROM clean.complaints c
    LEFT JOIN report_unit_map u ON u.region_code = c.handling_region_code
    WHERE c.handling_region_code LIKE ($prefix || '%')
      AND c.record_type IN ('投诉', '举报')
      AND ((c.received_at >= CAST($start AS TIMESTAMP) AND c.received_at < CAST($end AS TIMESTAMP))
        OR (c.received_at >= CAST($prev_start AS TIMESTAMP) AND c.received_at < CAST($prev_end AS TIMESTAMP)))
)
SELECT which, unit_code, category, problem_type, is_online, count(*) AS n
FROM c
GROUP BY ALL;
