-- An empty _read_rejects for a reader that fills it itself (or has none to report).
CREATE OR REPLACE TEMP TABLE _read_rejects (_row BIGINT, fields VARCHAR, reason VARCHAR, raw_line VARCHAR)
