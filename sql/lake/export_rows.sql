-- What a partition step writes to the lake, per kind of file: {source} is one of the step's own
-- tables (its private DuckDB file); one Parquet file per partition it holds rows of.
SELECT * FROM ({source}) WHERE partition_key IS NOT DISTINCT FROM $partition
