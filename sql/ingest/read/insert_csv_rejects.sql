-- A batch of the recovery reader's rejects (Arrow, registered as _rej_arrow: csv_reader._REJ_ARROW).
INSERT INTO _read_rejects SELECT * FROM _rej_arrow
