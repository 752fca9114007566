-- Entry-unit data-quality scorecard (DESIGN §3 "A DQ scorecard ranks entry units by error rate per
-- dimension, month over month"; 谁录入谁负责: the unit that entered a row answers for it).
--
-- One row per month × unit × dimension (the GB/T 36344-2018 dimensions the table's rules use, plus
-- 'all' for the row as a whole):
--   rows_entered  rows the unit entered that month (staging: the denominator of every rate)
--   rows_error    of those, rows with at least one `error` result in the dimension (quarantined rows for 'all')
--   rows_warn     rows with at least one `warn` result in the dimension
--   error_rate, warn_rate = rows_error / rows_entered, rows_warn / rows_entered
--   rank          1 = lowest error rate among the units that month (ties share the best rank: RANK());
--                 NULL for rows without a unit (they cannot be attributed; CMP-REQ-002 reports them)
--   units_ranked  how many units were ranked that month
--   prev_*        the same unit and dimension in the month before (NULL if it entered nothing then
--                 or that month was not checked); error_rate_change = error_rate - prev_error_rate
--                 (negative = better), rank_change = prev_rank - rank (positive = moved up)
--
-- Template identifiers, filled by data_quality/scorecard.py from fixed whitelists (never input):
--   {table} the contract table, {unit} its unit column, {region} its region-code column.
-- Bound parameters:
--   $t        table name (as stored in dq.*)
--   $months   VARCHAR[] of partition keys to report, NULL = every checked partition
--   $context  VARCHAR[] = $months plus the partition before each (for the month-over-month change), NULL = all
--   $prefix   region-code prefix of the scope ('' = everything). A unit's rows without a region code
--             count for it when the unit has rows in the scope.
WITH checked AS (      -- partitions the gate has run on (dq.runs holds the latest run per partition)
    SELECT DISTINCT partition_key AS month FROM dq.runs
    WHERE table_name = $t AND ($context IS NULL OR list_contains($context, partition_key))
), base AS (
    SELECT s.partition_key AS month, s."{unit}" AS unit_id, s."{region}" AS region_code,
           CAST(s.load_id AS VARCHAR) || ':' || CAST(s.source_row AS VARCHAR) AS row_ref
    FROM staging.{table} s
    WHERE s.partition_key IN (SELECT month FROM checked)
), scoped_units AS (
    SELECT DISTINCT unit_id FROM base WHERE starts_with(region_code, $prefix) AND unit_id IS NOT NULL
), scoped AS (
    SELECT * FROM base
    WHERE $prefix = '' OR starts_with(region_code, $prefix)
       OR (region_code IS NULL AND unit_id IN (SELECT unit_id FROM scoped_units))
), hits AS (           -- one row per (row, dimension, severity) with a result
    SELECT DISTINCT partition_key AS month, row_ref, dimension, severity
    FROM dq.rule_results
    WHERE table_name = $t AND partition_key IN (SELECT month FROM checked)
), dims AS (
    SELECT DISTINCT dimension FROM dq.rules WHERE table_name = $t
    UNION ALL SELECT 'all'
), entered AS (
    SELECT month, unit_id, count(*) AS rows_entered FROM scoped GROUP BY ALL
), counted AS (
    SELECT s.month, s.unit_id, d.dimension,
           count(DISTINCT s.row_ref) FILTER (WHERE h.severity = 'error') AS rows_error,
           count(DISTINCT s.row_ref) FILTER (WHERE h.severity = 'warn') AS rows_warn
    FROM scoped s
    JOIN hits h ON h.month = s.month AND h.row_ref = s.row_ref
    JOIN dims d ON d.dimension = h.dimension OR d.dimension = 'all'
    GROUP BY ALL
), scored AS (
    SELECT e.month, e.unit_id, d.dimension, e.rows_entered,
           coalesce(c.rows_error, 0) AS rows_error,
           coalesce(c.rows_warn, 0) AS rows_warn,
           coalesce(c.rows_error, 0) / e.rows_entered AS error_rate,
           coalesce(c.rows_warn, 0) / e.rows_entered AS warn_rate
    FROM entered e
    CROSS JOIN dims d
    LEFT JOIN counted c
      ON c.month = e.month AND c.unit_id IS NOT DISTINCT FROM e.unit_id AND c.dimension = d.dimension
), ranked AS (
    SELECT *,
           CASE WHEN unit_id IS NOT NULL
                THEN rank() OVER (PARTITION BY month, dimension, unit_id IS NULL ORDER BY error_rate) END AS rank,
           count(unit_id) OVER (PARTITION BY month, dimension) AS units_ranked,
           CASE WHEN length(month) = 7 THEN strftime(CAST(month || '-01' AS DATE) - INTERVAL 1 MONTH, '%Y-%m')
                WHEN length(month) = 4 THEN CAST(CAST(month AS INTEGER) - 1 AS VARCHAR) END AS prev_month
    FROM scored
)
SELECT $t AS table_name, r.month, r.unit_id, r.dimension, r.rows_entered, r.rows_error, r.rows_warn,
       r.error_rate, r.warn_rate, r.rank, r.units_ranked,
       r.prev_month, p.rows_entered AS prev_rows_entered, p.error_rate AS prev_error_rate,
       r.error_rate - p.error_rate AS error_rate_change,
       p.rank AS prev_rank, p.rank - r.rank AS rank_change
FROM ranked r
LEFT JOIN ranked p
  ON p.month = r.prev_month AND p.unit_id IS NOT DISTINCT FROM r.unit_id AND p.dimension = r.dimension
WHERE $months IS NULL OR list_contains($months, r.month)
ORDER BY r.month, r.dimension = 'all' DESC, r.dimension, r.unit_id IS NULL, r.rank, r.unit_id
