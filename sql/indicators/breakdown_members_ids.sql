-- Drill-down record CSVs: every record id of ind_breakdown_members from ($first_unit, $first_day) to ($last_unit,
-- $last_day) in the order of the lists (unit, sort_on, sort_id; a missing day counts as 9999-12-31, last), with
-- in_numerator; read in chunks and written out as they come (never held). A run of consecutive (unit, day)
-- pieces of at most CSV_SORT_ROWS members (reports.drilldown.member_runs), not all at once: one sort of every
-- member (20M at scope CN) ran out of DuckDB's 1.2 GB beside the members table, and at 44M so did one province's
-- (BENCHMARKS.md, issue 12); and not one query per unit either: each query scans the whole members table.
-- Parameters: $first_unit, $first_day, $last_unit, $last_day.
SELECT m.unit, m.sort_id AS record_id, m.in_numerator
FROM ind_breakdown_members m
WHERE (m.unit > $first_unit OR (m.unit = $first_unit AND coalesce(m.sort_on, DATE '9999-12-31') >= $first_day))
  AND (m.unit < $last_unit OR (m.unit = $last_unit AND coalesce(m.sort_on, DATE '9999-12-31') <= $last_day))
ORDER BY m.unit, m.sort_on, m.sort_id;
