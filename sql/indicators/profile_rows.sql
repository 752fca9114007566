-- Region-profile rows (clean.region_profiles) of the period's year ($year) for the units of the
-- scope, each marked with whether it enters the unit's profile:
--   own    the unit's own row (region_code = unit_code) — preferred whenever it exists: the
--          generator and yearbooks publish prefecture (and province) figures of their own;
--   part   when the unit has no own row, the rows of the codes mapped to it that are not covered
--          by a coarser row of the same unit (a county row is left out when its prefecture's row
--          is there; a prefecture row when its province's row is there): summed in profile_units.sql.
-- Rows of other codes of the unit are kept with used = 0 (they explain the value in the drill-down).
-- Parameters: $year.
CREATE OR REPLACE TEMP TABLE ind_profile_rows AS
WITH p AS (
    SELECT u.unit_code, r.region_code, r.year, r.population, r.market_entities, r.service_stations,
           r.consumer_org_branches, r.protection_staff, r.protection_funding_10k_yuan,
           r.special_equipment_units, r.special_equipment_accidents, r.annual_report_rate,
           r.inspected_businesses, r.inspected_price_licence_ok, r.online_shops, r.online_shops_emark
    FROM clean.region_profiles r
    JOIN ind_region_units u ON u.region_code = r.region_code
    WHERE r.year = $year
), own AS (
    SELECT DISTINCT unit_code FROM p WHERE region_code = unit_code
)
SELECT p.*,
       CASE WHEN p.region_code = p.unit_code THEN 'own'
            WHEN p.unit_code NOT IN (SELECT unit_code FROM own)
                 AND NOT EXISTS (SELECT 1 FROM p q
                                 WHERE q.unit_code = p.unit_code AND q.region_code <> p.region_code
                                   AND (q.region_code = substr(p.region_code, 1, 4) || '00'
                                        OR q.region_code = substr(p.region_code, 1, 2) || '0000'))
            THEN 'part'
       END AS role
FROM p;
