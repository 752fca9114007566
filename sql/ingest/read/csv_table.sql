-- The recovery reader's _csv: every mapped column as text (expr_text_column.sql each) and the record number.
CREATE OR REPLACE TEMP TABLE _csv ({columns}, _row BIGINT)
