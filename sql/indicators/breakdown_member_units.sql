-- Drill-down: the units of ind_breakdown_members, in the order the record CSVs are written.
SELECT DISTINCT m.unit FROM ind_breakdown_members m ORDER BY m.unit;
