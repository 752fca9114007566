-- KPI scorecard: 12315 消费维权服务站 per reporting unit, from ind_unit_profiles (built by
-- sql/indicators/profile_rows.sql and profile_units.sql for the period's year with ind_region_units =
-- the report's unit map): the unit's own profile row, else the sum of its parts — the rule of the index
-- indicator service_stations_per_10k_entities. Counts rounded to whole numbers (profiles are integers).
-- Parameters: none.
SELECT unit_code,
       CAST(round(service_stations) AS BIGINT) AS service_stations,
       CAST(round(market_entities) AS BIGINT)  AS market_entities
FROM ind_unit_profiles
WHERE service_stations IS NOT NULL AND market_entities IS NOT NULL;
