-- staging.<table> in the lake's warehouse: every partition step's staging rows, read from the lake
-- (hive layout region=<R>/period=<P>; the row keeps its own partition_key, so the hive columns go).
CREATE OR REPLACE VIEW staging.{table} AS
SELECT * EXCLUDE (region, period)
FROM read_parquet({files}, hive_partitioning = true, union_by_name = true)
