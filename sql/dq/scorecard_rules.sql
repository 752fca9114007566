-- Rule results for the data-quality report (DESIGN §5.7): every rule of the table (0 where it found
-- nothing) with its GB/T 36344 dimension, severity, basis and descriptions, the violations
-- (row × rule results), the distinct rows reported, and — for error rules — the quarantined rows it
-- is a reason for (a row quarantined by two rules counts for both).
-- Bound parameters: $t table, $months VARCHAR[] of partition keys (NULL = every checked partition),
-- $rows BIGINT: rows checked in those partitions (denominator of the rate).
WITH res AS (
    SELECT rule_id, count(*) AS violations, count(DISTINCT row_ref) AS rows
    FROM dq.rule_results
    WHERE table_name = $t AND ($months IS NULL OR list_contains($months, partition_key))
    GROUP BY rule_id
), quar AS (
    SELECT rule_id, count(*) AS quarantined
    FROM (SELECT unnest(rule_ids) AS rule_id FROM dq.quarantine
          WHERE table_name = $t AND ($months IS NULL OR list_contains($months, partition_key)))
    GROUP BY rule_id
)
SELECT q.rule_id, q.table_name, q.family, q.dimension, q.dimension_zh, q.severity, q.basis,
       q.description_zh, q.description_en,
       coalesce(r.violations, 0) AS violations, coalesce(r.rows, 0) AS rows,
       coalesce(r.rows, 0) / nullif($rows, 0) AS rate,
       coalesce(u.quarantined, 0) AS quarantined
FROM dq.rules q
LEFT JOIN res r USING (rule_id)
LEFT JOIN quar u USING (rule_id)
WHERE q.table_name = $t
ORDER BY coalesce(r.rows, 0) DESC, q.severity = 'error' DESC, q.rule_id
