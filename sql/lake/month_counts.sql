-- Per partition of one table in the lake's warehouse: staged, quarantined (both passes) and rejected
-- rows (records that could not be read, placed or typed: stages read and type, as the gate counts them),
-- for the gate's month checks (error share, reject share).
WITH s AS (SELECT partition_key, count(*) AS staged FROM staging.{table} GROUP BY partition_key),
q AS (SELECT partition_key, count(*) AS quarantined FROM dq.quarantine WHERE table_name = '{table}'
      GROUP BY partition_key),
r AS (SELECT partition_key, count(*) AS rejected FROM raw.rejects
      WHERE table_name = '{table}' AND stage IN ('type', 'read') AND partition_key IS NOT NULL GROUP BY partition_key)
SELECT partition_key, coalesce(s.staged, 0), coalesce(q.quarantined, 0), coalesce(r.rejected, 0)
FROM s FULL JOIN q USING (partition_key) FULL JOIN r USING (partition_key)
ORDER BY partition_key
