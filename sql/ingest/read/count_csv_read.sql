-- (rows read, records rejected) by read_csv.sql, held to the independent record count.
SELECT (SELECT count(*) FROM _csv), (SELECT count(*) FROM _read_rejects)
