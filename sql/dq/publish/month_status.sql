-- the last gate's record of the months and tables asked (data_quality.publishability.read_states).
-- Every column, read by name: a warehouse opened read-only and not gated since the look-back columns
-- (context_*) were added has not got them, and its rows count as written before them.
SELECT *
FROM dq.month_status
WHERE partition_key IN (SELECT unnest($partitions::VARCHAR[])) AND table_name IN (SELECT unnest($tables::VARCHAR[]))
