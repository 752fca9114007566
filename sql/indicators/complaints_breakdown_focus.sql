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
-- lists are capped: reports.drilldown.LIST_ROWS); n_focus counts them all. Parameters: $excerpt_chars, $max_rows.
SELECT m.unit, m.n_focus, m.record_id AS id, m.received_on AS day, m.record_type AS kind, m.object_type, m.category,
       m.problem_type AS problem,
       CASE WHEN m.closed_on IS NOT NULL THEN 'closed'
            WHEN m.accept_decision = '不予受理' THEN 'not_accepted'
            WHEN m.decided_on IS NULL THEN 'undecided'
            ELSE 'open' END AS status,
       m.wd_to_decision AS days_first, m.wd_to_close AS days_second,
       m.respondent_name AS party,
       substr(pii_mask_numbers(c.content), 1, 2 * $excerpt_chars) AS excerpt
FROM (SELECT *, row_number() OVER (PARTITION BY unit ORDER BY sort_on, sort_id) AS row_in_unit,
             count(*) OVER (PARTITION BY unit) AS n_focus
      FROM ind_breakdown_members WHERE in_focus = 1) m
LEFT JOIN clean.complaints c ON c.record_id = m.record_id AND CAST(c.received_at AS DATE) = m.received_on
WHERE m.row_in_unit <= $max_rows
ORDER BY m.unit, m.sort_on, m.sort_id;
