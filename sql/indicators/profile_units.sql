-- One profile per unit of the scope from ind_profile_rows (profile_rows.sql): the unit's own row,
-- else the sum of its 'part' rows. A sum is NULL when any part lacks the figure (never a silent
-- undercount); annual_report_rate of a sum is the market-entity-weighted mean of the parts.
-- profile_basis: own | sum; profile_rows: rows used.
CREATE OR REPLACE TEMP TABLE ind_unit_profiles AS
SELECT unit_code, 'own' AS profile_basis, 1 AS profile_rows,
       CAST(population AS DOUBLE) AS population,
       CAST(market_entities AS DOUBLE) AS market_entities,
       CAST(service_stations AS DOUBLE) AS service_stations,
       CAST(consumer_org_branches AS DOUBLE) AS consumer_org_branches,
       CAST(protection_staff AS DOUBLE) AS protection_staff,
       CAST(protection_funding_10k_yuan AS DOUBLE) AS protection_funding_10k_yuan,
       CAST(special_equipment_units AS DOUBLE) AS special_equipment_units,
       CAST(special_equipment_accidents AS DOUBLE) AS special_equipment_accidents,
       CAST(annual_report_rate AS DOUBLE) AS annual_report_rate,
       CAST(inspected_businesses AS DOUBLE) AS inspected_businesses,
       CAST(inspected_price_licence_ok AS DOUBLE) AS inspected_price_licence_ok,
       CAST(online_shops AS DOUBLE) AS online_shops,
       CAST(online_shops_emark AS DOUBLE) AS online_shops_emark
FROM ind_profile_rows
WHERE role = 'own'
UNION ALL
SELECT unit_code, 'sum', COUNT(*),
       CASE WHEN COUNT(population) = COUNT(*) THEN CAST(SUM(population) AS DOUBLE) END,
       CASE WHEN COUNT(market_entities) = COUNT(*) THEN CAST(SUM(market_entities) AS DOUBLE) END,
       CASE WHEN COUNT(service_stations) = COUNT(*) THEN CAST(SUM(service_stations) AS DOUBLE) END,
       CASE WHEN COUNT(consumer_org_branches) = COUNT(*) THEN CAST(SUM(consumer_org_branches) AS DOUBLE) END,
       CASE WHEN COUNT(protection_staff) = COUNT(*) THEN CAST(SUM(protection_staff) AS DOUBLE) END,
       CASE WHEN COUNT(protection_funding_10k_yuan) = COUNT(*) THEN CAST(SUM(protection_funding_10k_yuan) AS DOUBLE) END,
       CASE WHEN COUNT(special_equipment_units) = COUNT(*) THEN CAST(SUM(special_equipment_units) AS DOUBLE) END,
       CASE WHEN COUNT(special_equipment_accidents) = COUNT(*) THEN CAST(SUM(special_equipment_accidents) AS DOUBLE) END,
       CASE WHEN COUNT(annual_report_rate * market_entities) = COUNT(*) AND SUM(market_entities) > 0
            THEN CAST(SUM(annual_report_rate * market_entities) AS DOUBLE) / SUM(market_entities) END,
       CASE WHEN COUNT(inspected_businesses) = COUNT(*) THEN CAST(SUM(inspected_businesses) AS DOUBLE) END,
       CASE WHEN COUNT(inspected_price_licence_ok) = COUNT(*) THEN CAST(SUM(inspected_price_licence_ok) AS DOUBLE) END,
       CASE WHEN COUNT(online_shops) = COUNT(*) THEN CAST(SUM(online_shops) AS DOUBLE) END,
       CASE WHEN COUNT(online_shops_emark) = COUNT(*) THEN CAST(SUM(online_shops_emark) AS DOUBLE) END
FROM ind_profile_rows
WHERE role = 'part'
GROUP BY unit_code;
