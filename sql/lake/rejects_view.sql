-- raw.rejects in the lake's warehouse: every step's rejected records (read, type, duplicate), from the lake.
CREATE OR REPLACE VIEW raw.rejects AS
SELECT * EXCLUDE (region, period)
FROM read_parquet({files}, hive_partitioning = true, union_by_name = true)
