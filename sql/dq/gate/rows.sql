-- the staging rows of the asked partitions, with their identity as the engine reports it
CREATE OR REPLACE TEMP TABLE _dq_rows AS
SELECT CAST(load_id AS VARCHAR) || ':' || CAST(source_row AS VARCHAR) AS row_ref, *
FROM staging.{table} WHERE partition_key IN (SELECT unnest($partitions::VARCHAR[]))
