INSERT INTO raw.{table} ({columns}, load_id, source_file, source_sha256, source_id, source_row, partition_key, loaded_at)
SELECT {columns}, $load_id, $file, $sha, $source, _row, partition_key, $now FROM _placed
WHERE partition_key IS NOT NULL AND _row NOT IN (SELECT _row FROM _dups)
