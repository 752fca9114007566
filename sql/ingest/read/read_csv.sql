-- The delivered CSV (UTF-8) into _csv with DuckDB's strict reader (ingestion.csv_reader).
-- All text, explicit columns, no sniffing: a late odd value can't abort the load, and malformed
-- records land in _csv_reject_errors with their record number. Strict mode stays on: without it
-- DuckDB silently drops extra fields and mangles stray quotes.
CREATE OR REPLACE TEMP TABLE _csv AS SELECT * FROM read_csv($path, header=true, columns=$columns,
    auto_detect=false, delim=',', quote='"', escape='"', store_rejects=true, all_varchar=true,
    rejects_table='_csv_reject_errors', rejects_scan='_csv_reject_scans')
