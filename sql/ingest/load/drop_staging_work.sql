DROP VIEW IF EXISTS _staging_source; DROP TABLE IF EXISTS _staging_partitions
