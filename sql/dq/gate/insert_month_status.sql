-- the gate's verdict on one month, with its look-back month as read in the same transaction
INSERT INTO dq.month_status (table_name, partition_key, run_id, gated_at, staging_rows, staging_fingerprint, outcome,
                             context_partition, context_rows, context_fingerprint)
VALUES ($table, $partition, $run, $now, $rows, $fingerprint, $outcome,
        $context_partition, $context_rows, $context_fingerprint)
