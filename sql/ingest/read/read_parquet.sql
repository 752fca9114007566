-- The Parquet file into _pq: each mapped column as text (expr_parquet_column.sql) and its record number.
-- $path stays on a line of its own: the column list holds delivered names, which could hold "--".
CREATE OR REPLACE TEMP TABLE _pq AS SELECT {columns}, file_row_number + 1 AS _row
FROM read_parquet($path, file_row_number=true)
