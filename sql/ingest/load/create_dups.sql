CREATE OR REPLACE TEMP TABLE _dups (_row BIGINT, first_load BIGINT, first_row BIGINT)
