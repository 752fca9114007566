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
-- lists are capped: reports.drilldown.LIST_ROWS); n_focus counts them all. They are picked by min_by's
-- bounded heap per unit (the row ids of the members table), not by a window over every in-focus row:
-- at 10M records the window sorted every column of ~4M rows per indicator (BENCHMARKS.md, issue 12).
-- Parameters: $excerpt_chars, $max_rows.
WITH firsts AS (
    SELECT unit, count(*) AS n_focus, min_by(rowid, (sort_on, sort_id), $max_rows) AS rows
    FROM ind_breakdown_members WHERE in_focus = 1
    GROUP BY unit
), picked AS (
    SELECT f.unit, f.n_focus, unnest(f.rows) AS member_row FROM firsts f
), m AS (
    SELECT p.n_focus, b.*
    FROM picked p JOIN ind_breakdown_members b ON b.rowid = p.member_row
)
SELECT m.unit, m.n_focus, m.record_id AS id, m.received_on AS day, m.record_type AS kind, m.object_type, m.category,
       m.problem_type AS problem,
       CASE WHEN m.closed_on IS NOT NULL THEN 'closed'
            WHEN m.accept_decision = '不予受理' THEN 'not_accepted'
            WHEN m.decided_on IS NULL THEN 'undecided'
            ELSE 'open' END AS status,
       m.wd_to_decision AS days_first, m.wd_to_close AS days_second,
       m.respondent_name AS party,
       substr(pii_mask_numbers(c.content), 1, 2 * $excerpt_chars) AS excerpt
FROM m
LEFT JOIN clean.complaints c ON c.record_id = m.record_id AND CAST(c.received_at AS DATE) = m.received_on
ORDER BY m.unit, m.sort_on, m.sort_id;
