-- Drill-down record CSVs: every record id of one unit ($unit) of ind_breakdown_members, in the order
-- of the lists (sort_on, sort_id), with in_numerator; read in chunks and written out as they come (never
-- held). One unit at a time: one sort of every member (20M at scope CN) ran out of DuckDB's 1.2 GB beside
-- the members table, one unit's (4.8M) takes 2 s (BENCHMARKS.md, issue 12). Parameters: $unit.
SELECT m.unit, m.sort_id AS record_id, m.in_numerator
FROM ind_breakdown_members m
WHERE m.unit = $unit
ORDER BY m.sort_on, m.sort_id;
