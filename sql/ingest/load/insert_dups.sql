-- Records already in raw from another live delivery, same key and same delivered content.
INSERT INTO _dups
WITH cand AS (SELECT r.* FROM raw.{table} r SEMI JOIN _batch b ON {batch_key_match}
              WHERE r.load_id NOT IN (SELECT unnest($gone::BIGINT[])))
SELECT p._row, min(r.load_id), arg_min(r.source_row, r.load_id)
FROM _placed p JOIN cand r ON {key_match}
WHERE p.partition_key IS NOT NULL AND {placed_content} = {raw_content}
GROUP BY p._row
