-- batch_view.sql for a source in file order without rejects: the record number is its rowid + 1.
CREATE OR REPLACE TEMP VIEW _batch AS SELECT {columns}, rowid + 1 AS _row FROM {source}
