-- Drill-down of one unit (indicators.breakdown): the records of ind_breakdown_member_records
-- (complaints_ or sampling_breakdown_members.sql, built for every unit) of unit $region_code, in the
-- order of the lists — the membership is defined once, in the members files. The work columns
-- (unit, sort_on, sort_id) are dropped by the caller. Parameters: $region_code.
SELECT m.*
FROM ind_breakdown_member_records m
WHERE m.unit = $region_code
ORDER BY m.sort_on, m.sort_id;
