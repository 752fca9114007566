-- The live deliveries of one feed that declared one period (a newer version may be among them).
SELECT load_id, file_name FROM raw.load_log WHERE status = 'loaded' AND source_id = $s
AND declared_period = $p
