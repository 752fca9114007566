-- The reject tables read_csv.sql fills (gone before the next file, or before the line-by-line reader).
DROP TABLE IF EXISTS _csv_reject_errors; DROP TABLE IF EXISTS _csv_reject_scans
