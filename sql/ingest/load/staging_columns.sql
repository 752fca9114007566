SELECT column_name FROM duckdb_columns() WHERE schema_name = 'staging' AND table_name = $t ORDER BY column_index
