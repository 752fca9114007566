-- The raw rows of the partitions being rebuilt: what the typed query (sql/staging/<table>.sql) reads.
CREATE OR REPLACE TEMP VIEW _staging_source AS
SELECT * FROM raw.{table} WHERE partition_key IN (SELECT partition_key FROM _staging_partitions)
