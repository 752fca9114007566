-- clean rows of these partitions whose staging row is gone (a re-delivery replaced it); the count
-- is the clean rows removed
DELETE FROM clean.{table} c WHERE partition_key IN (SELECT unnest($partitions::VARCHAR[]))
    AND NOT EXISTS (SELECT 1 FROM staging.{table} s WHERE s.load_id = c.load_id AND s.source_row = c.source_row)
