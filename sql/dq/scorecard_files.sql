-- Reconciliation per delivered file (DESIGN §3: nothing is silently dropped): for the partitions asked
-- for, rows of each loaded file in staging, in clean and in quarantine (staged = clean + quarantined),
-- and the rows the loader rejected before staging (raw.rejects: unreadable or untypable fields).
-- Template identifier: {table} (data_quality/scorecard.py whitelist). Bound parameters: $t table,
-- $months VARCHAR[] (NULL = every partition the gate has run on).
WITH checked AS (
    SELECT DISTINCT partition_key FROM dq.runs
    WHERE table_name = $t AND ($months IS NULL OR list_contains($months, partition_key))
), staged AS (
    SELECT load_id, any_value(source_file) AS source_file, list_sort(list(DISTINCT partition_key)) AS months,
           count(*) AS staged
    FROM staging.{table} WHERE partition_key IN (SELECT partition_key FROM checked)
    GROUP BY load_id
), clean AS (
    SELECT load_id, count(*) AS clean FROM clean.{table}
    WHERE partition_key IN (SELECT partition_key FROM checked) GROUP BY load_id
), quarantined AS (
    SELECT CAST(split_part(row_ref, ':', 1) AS BIGINT) AS load_id, count(*) AS quarantined
    FROM dq.quarantine
    WHERE table_name = $t AND partition_key IN (SELECT partition_key FROM checked) GROUP BY ALL
), rejected AS (
    SELECT load_id, count(*) AS rejected FROM raw.rejects
    WHERE table_name = $t AND partition_key IN (SELECT partition_key FROM checked) GROUP BY load_id
)
SELECT $t AS table_name, s.load_id, regexp_extract(s.source_file, '[^/\\]+$') AS file_name, s.months,
       s.staged, coalesce(c.clean, 0) AS clean, coalesce(q.quarantined, 0) AS quarantined,
       s.staged = coalesce(c.clean, 0) + coalesce(q.quarantined, 0) AS reconciled,
       coalesce(j.rejected, 0) AS rejected
FROM staged s
LEFT JOIN clean c USING (load_id)
LEFT JOIN quarantined q USING (load_id)
LEFT JOIN rejected j USING (load_id)
ORDER BY s.months[1], file_name, s.load_id
