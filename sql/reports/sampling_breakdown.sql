-- Sampling report (DESIGN §5.6): batches and failures by one dimension at a time (long form).
-- dimension = product_category | venue_type | channel ('online' / 'offline' from is_online) | unit.
-- failed = result 不合格; passed = result 合格; failed_safety / failed_label = failed batches with the
-- safety / labelling flag; failed_both = both flags.
-- Needs the registered view report_unit_map(region_code, unit_code).
-- Parameters: $prefix (scope, on region_code), $start, $end (sampled_on window, dates).
WITH r AS (
    SELECT s.*, coalesce(u.unit_code, s.region_code) AS unit_code
    FROM clean.sampling_results s
    LEFT JOIN report_unit_map u ON u.region_code = s.region_code
    WHERE s.region_code LIKE ($prefix || '%')
      AND s.sampled_on >= CAST($start AS DATE) AND s.sampled_on < CAST($end AS DATE)
), d AS (
    SELECT 'product_category' AS dimension, product_category AS value, * FROM r
    UNION ALL
    SELECT 'venue_type', venue_type, * FROM r
    UNION ALL
    SELECT 'channel', CASE WHEN is_online THEN 'online' WHEN NOT is_online THEN 'offline' END, * FROM r
    UNION ALL
    SELECT 'unit', unit_code, * FROM r
)
SELECT dimension, value,
       count(*)                                                                       AS n,
       sum(CASE WHEN result = '合格' THEN 1 ELSE 0 END)                               AS passed,
       sum(CASE WHEN result = '不合格' THEN 1 ELSE 0 END)                             AS failed,
       sum(CASE WHEN result = '不合格' AND failed_safety_item THEN 1 ELSE 0 END)       AS failed_safety,
       sum(CASE WHEN result = '不合格' AND failed_label_item THEN 1 ELSE 0 END)        AS failed_label,
       sum(CASE WHEN result = '不合格' AND failed_safety_item AND failed_label_item THEN 1 ELSE 0 END) AS failed_both
FROM d
GROUP BY dimension, value;
