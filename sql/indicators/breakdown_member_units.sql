-- Drill-down: the units of ind_breakdown_members with their member rows, in the order the record CSVs are
-- written (reports.drilldown.unit_ranges groups them into runs for breakdown_members_ids.sql).
SELECT m.unit, count(*) AS members FROM ind_breakdown_members m GROUP BY m.unit ORDER BY m.unit;
