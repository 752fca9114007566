SELECT * FROM clean.{table}
