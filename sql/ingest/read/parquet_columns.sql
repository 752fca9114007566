-- The leaf column names of a Parquet file, in file order (its "header").
SELECT name FROM parquet_schema($path) WHERE num_children IS NULL OR num_children = 0
