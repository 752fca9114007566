-- Lock-on analysis of the five key categories (issue 10 point 6): sampling batches of the period and of the
-- same period a year before, per reporting unit, product category and product name.
-- Needs the registered view report_unit_map(region_code, unit_code).
-- Parameters: $prefix, $start, $end (this period), $prev_start, $prev_end (the same period last year).
SELECT CASE WHEN s.sampled_on >= CAST($start AS DATE) AND s.sampled_on < CAST($end AS DATE) THEN 'cur' ELSE 'prev' END AS which,
       coalesce(u.unit_code, s.region_code)                                   AS unit_code,
       s.product_category, s.product_name,
       sum(CASE WHEN s.result IN ('合格', '不合格') THEN 1 ELSE 0 END)       AS tested,
       sum(CASE WHEN s.result = '不合格' THEN 1 ELSE 0 END)                  AS failed
FROM clean.sampling_results s
LEFT JOIN report_unit_map u ON u.region_code = s.region_code
WHERE s.region_code LIKE ($prefix || '%')
  AND ((s.sampled_on >= CAST($start AS DATE) AND s.sampled_on < CAST($end AS DATE))
    OR (s.sampled_on >= CAST($prev_start AS DATE) AND s.sampled_on < CAST($prev_end AS DATE)))
GROUP BY ALL;
