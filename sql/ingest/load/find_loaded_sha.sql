-- The latest live or replaced load of the same bytes, and the load that replaced it (if any).
SELECT l.load_id, l.loaded_at, l.status, s.load_id, s.file_name, s.loaded_at
FROM raw.load_log l LEFT JOIN raw.load_log s ON s.load_id = l.superseded_by
WHERE l.source_sha256 = $s AND l.status IN ('loaded', 'replaced') ORDER BY l.load_id DESC LIMIT 1
