-- Drill-down: the region-profile rows of one unit for the period's year (ind_profile_rows), with
-- their role: own (the value), part (summed into the value), NULL (shown, not used).
-- Parameters: $region_code.
SELECT region_code, year, role, population, market_entities, service_stations, consumer_org_branches,
       protection_staff, protection_funding_10k_yuan, special_equipment_units, special_equipment_accidents,
       annual_report_rate
FROM ind_profile_rows
WHERE unit_code = $region_code
ORDER BY region_code;
