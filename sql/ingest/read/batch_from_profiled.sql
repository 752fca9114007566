-- _batch becomes a view over the profiled copy.
CREATE OR REPLACE TEMP VIEW _batch AS SELECT * FROM _profiled
