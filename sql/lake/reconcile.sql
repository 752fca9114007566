-- The lake warehouse's reconciliation per table: staged = clean + quarantined, after both passes.
SELECT (SELECT count(*) FROM staging.{table}) AS staged,
       (SELECT count(*) FROM clean.{table}) AS clean,
       (SELECT count(*) FROM dq.quarantine WHERE table_name = '{table}') AS quarantined
