-- The Great Expectations batch of one month (assets/quality.py): at most $rows staged rows of the
-- partition $p, the whole month when it has fewer — a bounded sample, so the GX check's memory does not
-- grow with the data (issue 12). The rows chosen are those with the smallest hash of their row
-- reference (load_id, source_row): the same rows on every run of the same staging, spread over the
-- month's files. GX is the second opinion: the gate's SQL rules (data_quality.engine) check every row.
-- Template identifier: {table} (ingestion.sqlfiles.known_table whitelist).
SELECT *
FROM (SELECT * FROM staging.{table}
      WHERE partition_key = $p
      ORDER BY hash(load_id, source_row), load_id, source_row
      LIMIT $rows) s
ORDER BY s.load_id, s.source_row;
