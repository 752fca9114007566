-- per delivered file: rows staged, clean and quarantined (staged = clean + quarantined)
SELECT s.source_file, count(*) AS staged,
       count(*) FILTER (WHERE c.source_row IS NOT NULL) AS clean,
       count(*) FILTER (WHERE q.row_ref IS NOT NULL) AS quarantined
FROM staging.{table} s
LEFT JOIN clean.{table} c ON c.load_id = s.load_id AND c.source_row = s.source_row
LEFT JOIN (SELECT row_ref FROM dq.quarantine WHERE table_name = $table) q
       ON q.row_ref = CAST(s.load_id AS VARCHAR) || ':' || CAST(s.source_row AS VARCHAR)
GROUP BY 1 ORDER BY 1
