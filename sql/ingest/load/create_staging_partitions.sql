CREATE OR REPLACE TEMP TABLE _staging_partitions AS SELECT unnest($p::VARCHAR[]) AS partition_key
