-- Drill-down record CSVs: every record id of the units $first_unit .. $last_unit of ind_breakdown_members
-- (a run of consecutive units, reports.drilldown.unit_ranges), unit by unit in the order of the lists
-- (sort_on, sort_id), with in_numerator; read in chunks and written out as they come (never held). Runs
-- of units, not all at once: one sort of every member (20M at scope CN) ran out of DuckDB's 1.2 GB beside
-- the members table, one unit's (4.8M) takes 2 s; and not one query per unit either: each query scans the
-- whole members table, 31 times per indicator at scope CN (BENCHMARKS.md, issue 12).
-- Parameters: $first_unit, $last_unit.
SELECT m.unit, m.sort_id AS record_id, m.in_numerator
FROM ind_breakdown_members m
WHERE m.unit BETWEEN $first_unit AND $last_unit
ORDER BY m.unit, m.sort_on, m.sort_id;
