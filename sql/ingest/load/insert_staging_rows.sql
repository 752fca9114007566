INSERT INTO staging.{table} ({columns}) SELECT {columns} FROM ({typed}) WHERE len(_bad_values) = 0
