-- The same feed's live deliveries of the same declared period (the ones this load replaces).
SELECT load_id, source_file FROM raw.load_log WHERE status = 'loaded' AND table_name = $t
AND source_id = $source AND declared_period = $period AND load_id <> $load_id ORDER BY load_id
