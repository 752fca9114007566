INSERT INTO raw.rejects (load_id, table_name, source_file, source_sha256, source_id, source_row,
                         partition_key, stage, fields, reason, raw_line, loaded_at)
SELECT load_id, '{table}', source_file, source_sha256, source_id, source_row, partition_key, 'type',
       array_to_string(list_transform(_bad_values, lambda v: split_part(v, '=', 1)), ', '),
       'cannot parse ' || array_to_string(list_transform(_bad_values,
           -- the value shown has personal numbers masked (a phone in a wrong column)
           lambda v: split_part(v, '=', 1) || ' ''' || substr(pii_mask_numbers(substr(v, strpos(v, '=') + 1)), 1, 60) || ''''), ', '),
       NULL, loaded_at
FROM ({typed}) WHERE len(_bad_values) > 0
