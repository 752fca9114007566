-- _batch with a profile's value mappings, date formats and defaults applied (profiles.apply_to_batch):
-- columns from expr_named.sql, joins from join_profile_values.sql; every value is a parameter.
CREATE OR REPLACE TEMP TABLE _profiled AS SELECT {columns}, b._row FROM _batch b {joins} ORDER BY b._row
