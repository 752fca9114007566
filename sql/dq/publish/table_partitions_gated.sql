-- The {gated} part of table_partitions.sql once the gate has run: the partitions it judged.
UNION SELECT partition_key FROM dq.month_status WHERE table_name = $table_name
