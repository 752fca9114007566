-- Drill-down record lists of a complaint-based indicator: the records that matter (in_focus = 1, see
-- complaints_breakdown_members.sql) of every unit, as masked summaries — id, date received, type,
-- category, problem type, status, working days to decision / closure, respondent (a business) and the
-- first 2 × $excerpt_chars characters of the complaint text (诉求内容; Python folds its white space and
-- cuts it to $excerpt_chars). Staging masked the complainant's
-- name and every phone and ID number in the text already; phone and ID numbers are masked again here
-- (pii_mask_numbers, sql/macros/codes.sql: defence in depth), on the whole text BEFORE it is cut, so a
-- cut never leaves part of a number. The complainant's identity is never selected. Streamed in unit
-- order (reports.drilldown: the first rows go on the page, the first $max_rows into the unit's XLSX).
-- Only the first $max_rows of a unit are read and masked (the
-- lists are capped: reports.drilldown.LIST_ROWS); n_focus counts them all. The window sorts the narrow
-- members' three keys only; the columns shown are joined from ind_complaint_records for the rows kept
-- (a window over every column of every member was 80 s of the drill-down at 10M records: BENCHMARKS.md,
-- issue 12). Parameters: $excerpt_chars, $max_rows.
SELECT m.unit, m.n_focus, r.record_id AS id, r.received_on AS day, r.record_type AS kind, r.object_type, r.category,
       r.problem_type AS problem,
       CASE WHEN r.closed_on IS NOT NULL THEN 'closed'
            WHEN r.accept_decision = '不予受理' THEN 'not_accepted'
            WHEN r.decided_on IS NULL THEN 'undecided'
            ELSE 'open' END AS status,
       r.wd_to_decision AS days_first, r.wd_to_close AS days_second,
       r.respondent_name AS party,
       substr(pii_mask_numbers(c.content), 1, 2 * $excerpt_chars) AS excerpt
FROM (SELECT f.unit, f.sort_on, f.sort_id, f.n_focus
      FROM (SELECT unit, sort_on, sort_id,
                   row_number() OVER (PARTITION BY unit ORDER BY sort_on, sort_id) AS row_in_unit,
                   count(*) OVER (PARTITION BY unit) AS n_focus
            FROM ind_breakdown_members WHERE in_focus = 1) f
      WHERE f.row_in_unit <= $max_rows) m
JOIN ind_complaint_records r ON r.record_id = m.sort_id AND r.received_on = m.sort_on
LEFT JOIN clean.complaints c ON c.record_id = m.sort_id AND CAST(c.received_at AS DATE) = m.sort_on
ORDER BY m.unit, m.sort_on, m.sort_id;
