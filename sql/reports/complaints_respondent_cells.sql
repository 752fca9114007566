-- 12315 analysis report: respondents with at least one complaint or report, per month of the tested
-- window — the size of the respondent family for the Benjamini–Hochberg adjustment (reports/surges.py).
-- Same respondent key and filters as complaints_respondent_monthly.sql.
-- Parameters: $prefix, $test_start, $end.
SELECT CAST(date_trunc('month', c.received_at) AS DATE)                                         AS month,
       count(DISTINCT coalesce(nullif(trim(c.respondent_uscc), ''), 'name:' || trim(c.respondent_name))) AS respondents
FROM clean.complaints c
WHERE c.handling_region_code LIKE ($prefix || '%')
  AND c.received_at >= $test_start AND c.received_at < $end
  AND c.record_type IN ('投诉', '举报')
  AND coalesce(nullif(trim(c.respondent_uscc), ''), nullif(trim(c.respondent_name), '')) IS NOT NULL
GROUP BY CAST(date_trunc('month', c.received_at) AS DATE);
