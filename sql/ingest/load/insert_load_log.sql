INSERT INTO raw.load_log (load_id, source_file, file_name, source_sha256, table_name, source_id, file_format,
                          encoding, header_map, partitions, rows_read, rows_raw, rows_staged, rows_rejected, rows_replaced,
                          status, message, loaded_at, declared_period)
VALUES ($id, $file, $name, $sha, $table, $source, $fmt, $enc, $hmap, $parts,
        $read, $raw, $staged, $rejected, $replaced, $status, $msg, $now, $period)
