-- Value mappings as (column_name, delivered, mapped) rows (executemany).
INSERT INTO _profile_values VALUES (?, ?, ?)
