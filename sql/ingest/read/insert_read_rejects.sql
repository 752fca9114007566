-- Rejects as (_row, fields, reason, raw_line) rows (executemany).
INSERT INTO _read_rejects VALUES (?, ?, ?, ?)
