SELECT (SELECT count(*) FROM _placement) + (SELECT count(*) FROM _read_rejects)
