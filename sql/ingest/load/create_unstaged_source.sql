-- Only the raw rows the typed insert did not stage go through the typed query again.
CREATE OR REPLACE TEMP VIEW _staging_source AS
SELECT * FROM raw.{table} r WHERE partition_key IN (SELECT partition_key FROM _staging_partitions) AND NOT EXISTS (
    SELECT 1 FROM staging.{table} s WHERE s.load_id = r.load_id AND s.source_row = r.source_row)
