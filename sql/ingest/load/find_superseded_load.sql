-- The live load --supersedes names: by its path, its file name or its bytes.
SELECT load_id, file_name, table_name FROM raw.load_log
WHERE status = 'loaded' AND (source_file = $p OR file_name = $n OR source_sha256 = $s)
ORDER BY load_id DESC
