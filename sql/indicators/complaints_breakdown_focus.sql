-- Drill-down record lists of the complaint-based indicators, step 2 of 2: the records whose keys step 1 kept
-- (ind_breakdown_focus_keys, complaints_breakdown_focus_keys.sql: the first of the records that matter per
-- indicator and unit, and n_focus, how many there are) as masked summaries — id, date received, type,
-- category, problem type, status, working days to decision / closure, respondent (a business) and the
-- first 2 × $excerpt_chars characters of the complaint text (诉求内容; Python folds its white space and
-- cuts it to $excerpt_chars). Staging masked the complainant's
-- name and every phone and ID number in the text already; phone and ID numbers are masked again here
-- (pii_mask_numbers, sql/macros/codes.sql: defence in depth), on the whole text BEFORE it is cut, so a
-- cut never leaves part of a number. The complainant's identity is never selected. Streamed by indicator,
-- then in unit order (reports.drilldown: the first rows go on the page, the rest into the unit's XLSX).
-- One query for every indicator: the text is read from clean.complaints once (BENCHMARKS.md, issue 12).
-- Parameters: $excerpt_chars.
SELECT k.indicator_id, k.unit, k.n_focus, r.record_id AS id, r.received_on AS day, r.record_type AS kind,
       r.object_type, r.category, r.problem_type AS problem,
       CASE WHEN r.closed_on IS NOT NULL THEN 'closed'
            WHEN r.accept_decision = '不予受理' THEN 'not_accepted'
            WHEN r.decided_on IS NULL THEN 'undecided'
            ELSE 'open' END AS status,
       r.wd_to_decision AS days_first, r.wd_to_close AS days_second,
       r.respondent_name AS party,
       substr(pii_mask_numbers(c.content), 1, 2 * $excerpt_chars) AS excerpt
FROM ind_breakdown_focus_keys k
JOIN ind_complaint_records r ON r.record_id = k.sort_id AND r.received_on = k.sort_on
LEFT JOIN clean.complaints c ON c.record_id = k.sort_id AND CAST(c.received_at AS DATE) = k.sort_on
ORDER BY k.indicator_id, k.unit, k.sort_on, k.sort_id;
