-- A profile's value mappings: (column, delivered value, value it maps to).
CREATE OR REPLACE TEMP TABLE _profile_values (column_name VARCHAR, delivered VARCHAR, mapped VARCHAR)
