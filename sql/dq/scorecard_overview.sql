-- Data-quality report overview (DESIGN §5.7): per table and partition, the latest gate run —
-- rows checked (staged), clean, quarantined (>= 1 error), flagged (>= 1 warning, still clean),
-- violations (row × rule results) — and whether staged = clean + quarantined.
-- Bound parameters: $tables VARCHAR[] (tables to show), $months VARCHAR[] of partition keys (NULL = all).
SELECT table_name, partition_key AS month, rows_staged, rows_clean, rows_quarantined, rows_flagged, violations,
       rows_staged = rows_clean + rows_quarantined AS reconciled,
       rows_quarantined / nullif(rows_staged, 0) AS error_share,
       rows_flagged / nullif(rows_staged, 0) AS flag_share,
       run_id, checked_at
FROM dq.runs
WHERE list_contains($tables, table_name)
  AND ($months IS NULL OR list_contains($months, partition_key))
ORDER BY list_position($tables, table_name), partition_key
