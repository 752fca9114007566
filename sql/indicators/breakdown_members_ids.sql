-- Drill-down record CSVs: every record id of ind_breakdown_members per unit, in the order of
-- the lists (sort_on, sort_id), with in_numerator; read in chunks and written out as they come (never held).
SELECT m.unit, m.sort_id AS record_id, m.in_numerator
FROM ind_breakdown_members m
ORDER BY m.unit, m.sort_on, m.sort_id;
