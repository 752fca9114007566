-- The current state of one table's months, for the publishing guard and the gate's record.
-- {table} is a contract table name (checked against ingestion.schema.TABLES before formatting).
-- Per partition: staging rows and their content fingerprint (order-free: bit_xor of row hashes;
-- staging rows are unique by load_id, source_row), rows rejected while typing them,
-- and whether staging was built from the raw deliveries now there (same loads on both sides).
-- Rejects here are the records of the month that could not be read, placed or typed (stages "read",
-- attributed to the month their file delivers, and "type"): duplicates of records already loaded
-- are not a fault of the month. Only type rejects are rebuilt from raw, so only they take part in
-- built_from_raw.
WITH asked AS (SELECT unnest($partitions::VARCHAR[]) AS partition_key),
stg AS (
    SELECT partition_key, count(*) AS staging_rows, bit_xor(hash(s)) AS staging_fingerprint,
           list(DISTINCT load_id) AS loads
    FROM staging.{table} s WHERE partition_key IN (SELECT partition_key FROM asked) GROUP BY ALL),
rej AS (
    SELECT partition_key, count(*) AS rejected, list(DISTINCT load_id) FILTER (WHERE stage = 'type') AS loads
    FROM raw.rejects WHERE table_name = $table AND stage IN ('type', 'read')
      AND partition_key IN (SELECT partition_key FROM asked) GROUP BY ALL),
rw AS (
    SELECT partition_key, list(DISTINCT load_id) AS loads
    FROM raw.{table} WHERE partition_key IN (SELECT partition_key FROM asked) GROUP BY ALL)
SELECT partition_key,
       coalesce(stg.staging_rows, 0) AS staging_rows,
       stg.staging_fingerprint,
       coalesce(rej.rejected, 0) AS rejected,
       list_sort(coalesce(rw.loads, [])) = list_sort(list_distinct(list_concat(coalesce(stg.loads, []), coalesce(rej.loads, []))))
           AS built_from_raw
FROM stg FULL JOIN rej USING (partition_key) FULL JOIN rw USING (partition_key)
ORDER BY partition_key
