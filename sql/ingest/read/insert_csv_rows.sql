-- A batch of the recovery reader's rows (Arrow, registered as _csv_arrow: csv_reader._CSV_ARROW).
INSERT INTO _csv SELECT * FROM _csv_arrow
