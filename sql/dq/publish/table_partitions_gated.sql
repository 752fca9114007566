-- table_partitions.sql's gated part once the gate has run: the partitions it judged.
UNION SELECT partition_key FROM dq.month_status WHERE table_name = $table_name
