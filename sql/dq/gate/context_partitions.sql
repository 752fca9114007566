-- the partitions gated plus the month before each (a view cannot hold parameters: a temp table does)
CREATE OR REPLACE TEMP TABLE _dq_context AS SELECT unnest($partitions::VARCHAR[]) AS partition_key
