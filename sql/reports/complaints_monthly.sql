-- 12315 analysis report (DESIGN §5.4): records per month and record type within a scope.
-- Parameters: $prefix  region-code prefix of the scope ('' = the nation), matched on handling_region_code
--             $start, $end  received_at window [start, end)
SELECT CAST(date_trunc('month', c.received_at) AS DATE)                        AS month,
       c.record_type,
       count(*)                                                                 AS n,
       sum(CASE WHEN c.is_online THEN 1 ELSE 0 END)                             AS n_online,
       CAST(sum(c.amount_disputed) AS DOUBLE)                                   AS amount_disputed,
       CAST(sum(c.amount_recovered) AS DOUBLE)                                  AS amount_recovered
FROM clean.complaints c
WHERE c.handling_region_code LIKE ($prefix || '%')
  AND c.received_at >= $start AND c.received_at < $end
GROUP BY CAST(date_trunc('month', c.received_at) AS DATE), c.record_type
ORDER BY month, record_type;
