-- _batch (readers._finish_batch): every canonical column in schema order, absent optional ones as
-- NULL (expr_absent_column.sql), and the source's record number. A view, not a copy: at a million
-- rows every extra copy costs seconds and hundreds of MB.
CREATE OR REPLACE TEMP VIEW _batch AS SELECT {columns}, _row AS _row FROM {source}
