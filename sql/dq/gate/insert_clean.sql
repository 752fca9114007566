-- every other row, with the warn rules it hit; by name: a column added to staging later sits after
-- dq_flags in an older clean table
INSERT INTO clean.{table} BY NAME
SELECT r.* EXCLUDE (row_ref), w.flags AS dq_flags
FROM _dq_rows r
LEFT JOIN (SELECT row_ref, list_sort(list(DISTINCT rule_id)) AS flags FROM _dq_found
           WHERE severity = 'warn' GROUP BY row_ref) w USING (row_ref)
WHERE r.row_ref NOT IN (SELECT row_ref FROM _dq_found WHERE severity = 'error')
