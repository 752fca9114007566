-- 12315 analysis report: online records (is_online) by e-commerce platform, largest first.
-- platform_name NULL = online purchase without a platform named.
-- Parameters: $prefix (scope, on handling_region_code), $start, $end (received_at window), $top.
SELECT c.platform_name,
       count(*)                                                                 AS n,
       sum(CASE WHEN c.record_type = '投诉' THEN 1 ELSE 0 END)                  AS n_complaints,
       CAST(sum(c.amount_disputed) AS DOUBLE)                                   AS amount_disputed,
       CAST(sum(c.amount_recovered) AS DOUBLE)                                  AS amount_recovered
FROM clean.complaints c
WHERE c.handling_region_code LIKE ($prefix || '%')
  AND c.received_at >= $start AND c.received_at < $end
  AND c.is_online
GROUP BY c.platform_name
ORDER BY n DESC, c.platform_name
LIMIT $top;
