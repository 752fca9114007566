-- 12315 analysis report: monthly counts per respondent (被投诉/举报方) for the surge test.
-- A respondent is its USCC, or its name when no USCC was given. Only respondents with at least
-- $min_count records in some month of the tested window [$test_start, $end) are returned, with their
-- whole history from $start (the baseline). Complaints and reports only (consultations name no
-- respondent reliably). No personal data: complainant columns are not read.
-- Parameters: $prefix, $start, $test_start, $end, $min_count.
WITH r AS (
    SELECT coalesce(nullif(trim(c.respondent_uscc), ''), 'name:' || trim(c.respondent_name)) AS respondent_key,
           c.respondent_name,
           nullif(trim(c.respondent_uscc), '')                                 AS respondent_uscc,
           CAST(date_trunc('month', c.received_at) AS DATE)                    AS month
    FROM clean.complaints c
    WHERE c.handling_region_code LIKE ($prefix || '%')
      AND c.received_at >= $start AND c.received_at < $end
      AND c.record_type IN ('投诉', '举报')
      AND coalesce(nullif(trim(c.respondent_uscc), ''), nullif(trim(c.respondent_name), '')) IS NOT NULL
), monthly AS (
    SELECT respondent_key, month, count(*) AS n, max(respondent_name) AS respondent_name,
           max(respondent_uscc) AS respondent_uscc
    FROM r GROUP BY respondent_key, month
), candidates AS (
    SELECT respondent_key FROM monthly
    WHERE month >= CAST($test_start AS DATE)
    GROUP BY respondent_key HAVING max(n) >= $min_count
)
SELECT m.respondent_key, m.month, m.n, m.respondent_name, m.respondent_uscc
FROM monthly m JOIN candidates USING (respondent_key)
ORDER BY m.respondent_key, m.month;
