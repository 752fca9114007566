-- the staging rows the rulebook runs on: the context partitions
CREATE OR REPLACE TEMP VIEW _dq_scope AS
SELECT * FROM staging.{table} WHERE partition_key IN (SELECT partition_key FROM _dq_context)
