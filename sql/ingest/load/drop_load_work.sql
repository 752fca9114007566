-- Whatever a load left behind (the readers' temp tables included), whether it finished or not.
DROP VIEW IF EXISTS _placed; DROP VIEW IF EXISTS _batch; DROP VIEW IF EXISTS _csv_numbered;
DROP TABLE IF EXISTS _csv; DROP TABLE IF EXISTS _xlsx; DROP TABLE IF EXISTS _pq; DROP TABLE IF EXISTS _read_rejects;
DROP TABLE IF EXISTS _dups; DROP TABLE IF EXISTS _profiled; DROP TABLE IF EXISTS _profile_values;
DROP TABLE IF EXISTS _placement
