-- 地区基础概况 raw.region_profiles -> typed rows
-- Reads _staging_source (ingestion.loader.build_staging): raw.region_profiles rows of the partitions being staged.
-- _bad_values lists field=value for every non-empty delivered value that did not parse; such rows
-- become rejects (see complaints.sql).
WITH typed AS (
SELECT
    cei_code(region_code)           AS region_code,
    cei_int(year)                   AS year,
    cei_int(population)             AS population,
    cei_int(market_entities)        AS market_entities,
    cei_int(service_stations)       AS service_stations,
    cei_int(consumer_org_branches)  AS consumer_org_branches,
    cei_int(protection_staff)       AS protection_staff,
    cei_double(protection_funding_10k_yuan) AS protection_funding_10k_yuan,
    cei_int(special_equipment_units) AS special_equipment_units,
    cei_int(special_equipment_accidents) AS special_equipment_accidents,
    cei_double(annual_report_rate)  AS annual_report_rate,
    cei_int(inspected_businesses)   AS inspected_businesses,
    cei_int(inspected_price_licence_ok) AS inspected_price_licence_ok,
    cei_int(online_shops)           AS online_shops,
    cei_int(online_shops_emark)     AS online_shops_emark,
    load_id, source_file, source_sha256, source_id, source_row, partition_key, loaded_at,
    year AS _raw_year,
    population AS _raw_population,
    market_entities AS _raw_market_entities,
    service_stations AS _raw_service_stations,
    consumer_org_branches AS _raw_consumer_org_branches,
    protection_staff AS _raw_protection_staff,
    protection_funding_10k_yuan AS _raw_protection_funding_10k_yuan,
    special_equipment_units AS _raw_special_equipment_units,
    special_equipment_accidents AS _raw_special_equipment_accidents,
    annual_report_rate AS _raw_annual_report_rate,
    inspected_businesses AS _raw_inspected_businesses,
    inspected_price_licence_ok AS _raw_inspected_price_licence_ok,
    online_shops AS _raw_online_shops,
    online_shops_emark AS _raw_online_shops_emark
FROM _staging_source
)
SELECT * EXCLUDE (_raw_year, _raw_population, _raw_market_entities, _raw_service_stations, _raw_consumer_org_branches, _raw_protection_staff, _raw_protection_funding_10k_yuan, _raw_special_equipment_units, _raw_special_equipment_accidents, _raw_annual_report_rate, _raw_inspected_businesses, _raw_inspected_price_licence_ok, _raw_online_shops, _raw_online_shops_emark),
    list_filter([
        CASE WHEN cei_text(_raw_year) IS NOT NULL AND year IS NULL THEN 'year=' || _raw_year END,
        CASE WHEN cei_text(_raw_population) IS NOT NULL AND population IS NULL THEN 'population=' || _raw_population END,
        CASE WHEN cei_text(_raw_market_entities) IS NOT NULL AND market_entities IS NULL THEN 'market_entities=' || _raw_market_entities END,
        CASE WHEN cei_text(_raw_service_stations) IS NOT NULL AND service_stations IS NULL THEN 'service_stations=' || _raw_service_stations END,
        CASE WHEN cei_text(_raw_consumer_org_branches) IS NOT NULL AND consumer_org_branches IS NULL THEN 'consumer_org_branches=' || _raw_consumer_org_branches END,
        CASE WHEN cei_text(_raw_protection_staff) IS NOT NULL AND protection_staff IS NULL THEN 'protection_staff=' || _raw_protection_staff END,
        CASE WHEN cei_text(_raw_protection_funding_10k_yuan) IS NOT NULL AND protection_funding_10k_yuan IS NULL THEN 'protection_funding_10k_yuan=' || _raw_protection_funding_10k_yuan END,
        CASE WHEN cei_text(_raw_special_equipment_units) IS NOT NULL AND special_equipment_units IS NULL THEN 'special_equipment_units=' || _raw_special_equipment_units END,
        CASE WHEN cei_text(_raw_special_equipment_accidents) IS NOT NULL AND special_equipment_accidents IS NULL THEN 'special_equipment_accidents=' || _raw_special_equipment_accidents END,
        CASE WHEN cei_text(_raw_annual_report_rate) IS NOT NULL AND annual_report_rate IS NULL THEN 'annual_report_rate=' || _raw_annual_report_rate END,
        CASE WHEN cei_text(_raw_inspected_businesses) IS NOT NULL AND inspected_businesses IS NULL THEN 'inspected_businesses=' || _raw_inspected_businesses END,
        CASE WHEN cei_text(_raw_inspected_price_licence_ok) IS NOT NULL AND inspected_price_licence_ok IS NULL THEN 'inspected_price_licence_ok=' || _raw_inspected_price_licence_ok END,
        CASE WHEN cei_text(_raw_online_shops) IS NOT NULL AND online_shops IS NULL THEN 'online_shops=' || _raw_online_shops END,
        CASE WHEN cei_text(_raw_online_shops_emark) IS NOT NULL AND online_shops_emark IS NULL THEN 'online_shops_emark=' || _raw_online_shops_emark END
    ], lambda f: f IS NOT NULL) AS _bad_values
FROM typed
