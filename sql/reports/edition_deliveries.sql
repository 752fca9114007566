-- An edition's record (reports.editions.edition_record): every delivery in force (loaded, not superseded by a
-- later delivery of the same file) with the partitions it filled, oldest load first.
SELECT table_name, file_name, source_sha256, loaded_at, partitions
FROM raw.load_log
WHERE status = 'loaded' AND superseded_by IS NULL
ORDER BY loaded_at, load_id
