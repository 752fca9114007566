-- Every partition of one contract table (the placeholder table, checked against the contract) that the
-- warehouse knows of: loaded into raw, staged, or with rows the loader rejected, plus the partitions the gate
-- judged (the placeholder gated: the text of table_partitions_gated.sql, or nothing before the gate has ever
-- run). data_quality.publishability.unsettled_partitions judges which of them are stale or never gated.
-- Parameters: $table_name.
SELECT partition_key FROM raw.{table}
UNION SELECT partition_key FROM staging.{table}
UNION SELECT partition_key FROM raw.rejects WHERE table_name = $table_name AND partition_key IS NOT NULL
{gated}
