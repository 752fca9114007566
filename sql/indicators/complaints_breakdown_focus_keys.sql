-- Drill-down record lists of a complaint-based indicator ($indicator_id), step 1 of 2: the keys of the
-- records that matter (in_focus = 1, see complaints_breakdown_members.sql) that its lists show — the first
-- $max_rows of every unit in the order of the lists (sort_on, sort_id), with how many there are in the unit
-- (n_focus) — added to ind_breakdown_focus_keys (complaints_breakdown_focus_keys_ddl.sql). The window sorts
-- the narrow members' three keys only. Step 2 (complaints_breakdown_focus.sql) joins the columns shown and the
-- complaint text for every indicator at once: joined per indicator, the text column of every clean complaint
-- was read once per indicator, 2.8 of the 5.8 s each list took at 10M records (BENCHMARKS.md, issue 12).
-- Parameters: $indicator_id, $max_rows.
INSERT INTO ind_breakdown_focus_keys (indicator_id, unit, n_focus, sort_on, sort_id)
SELECT $indicator_id, f.unit, f.n_focus, f.sort_on, f.sort_id
FROM (SELECT unit, sort_on, sort_id,
             row_number() OVER (PARTITION BY unit ORDER BY sort_on, sort_id) AS row_in_unit,
             count(*) OVER (PARTITION BY unit) AS n_focus
      FROM ind_breakdown_members WHERE in_focus = 1) f
WHERE f.row_in_unit <= $max_rows;
