-- Sampling report: batches and failures per product line (product_category x product_name), the unit a
-- bureau targets in its next plan (issue 10 point 5). failed = result 不合格; tested = 合格 + 不合格.
-- Parameters: $prefix (scope, on region_code), $start, $end (sampled_on window, dates).
SELECT product_category, product_name,
       count(*)                                                                       AS n,
       sum(CASE WHEN result IN ('合格', '不合格') THEN 1 ELSE 0 END)                  AS tested,
       sum(CASE WHEN result = '不合格' THEN 1 ELSE 0 END)                             AS failed,
       sum(CASE WHEN result = '不合格' AND failed_safety_item THEN 1 ELSE 0 END)       AS failed_safety,
       sum(CASE WHEN result = '不合格' AND failed_label_item THEN 1 ELSE 0 END)        AS failed_label,
       count(DISTINCT CASE WHEN result = '不合格' THEN manufacturer_uscc END)          AS failed_manufacturers
FROM clean.sampling_results
WHERE region_code LIKE ($prefix || '%')
  AND sampled_on >= CAST($start AS DATE) AND sampled_on < CAST($end AS DATE)
GROUP BY product_category, product_name;
