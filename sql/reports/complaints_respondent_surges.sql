-- 12315 analysis report: the respondent (被投诉/举报方) surge test, whole in DuckDB (reports/surges.py
-- states the method; issue 12: what Python holds must not grow with the records). A respondent is its
-- USCC, or its name when no USCC was given; complaints and reports only (consultations name no
-- respondent reliably); complainant columns are not read.
--
-- One row per surge (q <= $fdr_q, count >= $min_count, count >= $min_ratio x the baseline mean), the
-- strongest first, each with the family's counts (`tested` = Benjamini-Hochberg's m, `untested_history`)
-- and the respondent's monthly counts from $start (`history`, for the figure); when nothing surges, one
-- row whose respondent_key is NULL carries the counts alone.
--
-- Family (as the pandas version did): every candidate respondent (>= $min_count records in some month of
-- [$test_start, $end)) x every month of $testable, plus every respondent with >= 1 record in a month of
-- $testable (candidates counted twice: conservative). Cells other than the candidate cells enter BH with
-- p = 1, so q_i = min(1, min over ranks j >= i of p_(j) * m / j) over the candidate cells alone.
-- p = P(X >= x), X ~ Binomial(x + S, 1 / (k + 1)): cei_binom_sf is scipy.stats.binom.sf registered by
-- reports.surges.binom_sf_udf for the duration of the query.
-- Parameters: $prefix, $start, $test_start, $end, $first (first month of the data), $testable (DATE[]:
-- the tested months with enough history), $baseline_months, $min_count, $min_ratio, $fdr_q.
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
), monthly AS MATERIALIZED (
    SELECT respondent_key, month, count(*) AS n, max(respondent_name) AS respondent_name,
           max(respondent_uscc) AS respondent_uscc
    FROM r GROUP BY respondent_key, month
), candidates AS (
    SELECT respondent_key FROM monthly
    WHERE month >= CAST($test_start AS DATE)
    GROUP BY respondent_key HAVING max(n) >= $min_count
), family AS (
    SELECT (SELECT count(*) FROM candidates) * len(CAST($testable AS DATE[]))
           + (SELECT count(*) FROM monthly WHERE list_contains(CAST($testable AS DATE[]), month)) AS m,
           (SELECT count(*) FROM monthly
            WHERE month >= CAST($test_start AS DATE) AND n >= $min_count
              AND NOT list_contains(CAST($testable AS DATE[]), month))                          AS untested
), cells AS (
    -- k = observed months among the $baseline_months before the tested month
    SELECT t.respondent_key, t.month, t.n AS count,
           least($baseline_months, greatest(0, datediff('month', CAST($first AS DATE), t.month))) AS k
    FROM monthly t
    WHERE t.month >= CAST($test_start AS DATE) AND t.n >= $min_count
      AND list_contains(CAST($testable AS DATE[]), t.month)
), based AS (
    SELECT c.respondent_key, c.month, c.count, c.k, CAST(coalesce(sum(b.n), 0) AS BIGINT) AS s
    FROM cells c
    LEFT JOIN monthly b
      ON b.respondent_key = c.respondent_key AND b.month < c.month
     AND b.month >= CAST(c.month - to_months(CAST(c.k AS INTEGER)) AS DATE)
    GROUP BY c.respondent_key, c.month, c.count, c.k
), scored AS (
    SELECT *, cei_binom_sf(count, count + s, 1.0 / (k + 1)) AS p_value FROM based
), adjusted AS (
    SELECT *, least(1.0, min(p_value * family.m / rank) OVER (ORDER BY rank DESC ROWS UNBOUNDED PRECEDING)) AS q_value
    FROM (SELECT *, row_number() OVER (ORDER BY p_value) AS rank FROM scored), family
), flagged AS (
    SELECT a.respondent_key, a.month, a.count, a.k AS baseline_months, a.s AS baseline_sum,
           a.s / a.k AS expected,
           CASE WHEN a.s > 0 THEN a.count / (a.s / a.k) ELSE CAST('inf' AS DOUBLE) END AS ratio,
           a.p_value, a.q_value
    FROM adjusted a
    WHERE a.q_value <= $fdr_q AND a.count >= $min_count AND a.count >= $min_ratio * (a.s / a.k)
), named AS (
    -- the name and USCC of the respondent's latest month (as the report showed them before)
    SELECT f.*, arg_max_null(m.respondent_name, m.month) AS respondent_name,
           arg_max_null(m.respondent_uscc, m.month) AS respondent_uscc,
           list(struct_pack(month := m.month, n := m.n) ORDER BY m.month) AS history
    FROM flagged f JOIN monthly m USING (respondent_key)
    GROUP BY ALL
)
SELECT greatest(family.m, (SELECT count(*) FROM cells)) AS tested, family.untested AS untested_history, named.*
FROM family LEFT JOIN named ON TRUE
ORDER BY named.p_value, named.count DESC, named.month, named.respondent_key;
