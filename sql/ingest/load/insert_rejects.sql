-- The file's read rejects, its records without a partition and its repeated records. Records that
-- could not be read or placed count against the month the file delivers (NULL when it is not known).
INSERT INTO raw.rejects
SELECT $load_id, $t, $file, $sha, $source, _row, $month, 'read', fields, reason, raw_line, $now FROM _read_rejects
UNION ALL
SELECT $load_id, $t, $file, $sha, $source, _row, $month, 'read', '{month_column}', _place_reason,
       CAST(to_json(struct_pack({columns})) AS VARCHAR), $now
FROM _batch JOIN (SELECT _row, _place_reason FROM _placement WHERE partition_key IS NULL) USING (_row)
UNION ALL
SELECT $load_id, $t, $file, $sha, $source, p._row, p.partition_key, 'duplicate', '{key}',
       'already loaded from ' || coalesce(l.file_name, 'load ' || d.first_load) || ', row ' || d.first_row
           || ' (load ' || d.first_load || '): same record, same content',
       CAST(to_json(struct_pack({placed_columns})) AS VARCHAR), $now
FROM _dups d JOIN _placed p USING (_row) LEFT JOIN raw.load_log l ON l.load_id = d.first_load
