-- whether schema $schema has table $table (any table, when $table is NULL)
SELECT count(*) FROM duckdb_tables() WHERE schema_name = $schema AND ($table IS NULL OR table_name = $table)
