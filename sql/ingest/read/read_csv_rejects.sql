-- DuckDB's reject errors of read_csv.sql -> _read_rejects, one row per rejected record.
-- DuckDB numbers records in `line` counting the header as 1, so record number = line - 1.
CREATE OR REPLACE TEMP TABLE _read_rejects AS
           SELECT line - 1 AS _row,
                  -- a short record yields one error per missing field; the first one says it all
                  arg_min(column_name, coalesce(column_idx, 0)) AS fields,
                  arg_min(error_type || ': ' || error_message, coalesce(column_idx, 0)) AS reason,
                  any_value(csv_line) AS raw_line
           FROM _csv_reject_errors GROUP BY line
