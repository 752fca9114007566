-- Narrative analysis (issue 10 point 1): 12315 records of the period and of the period it is compared
-- with, by one dimension at a time (long form). period_tag = 'cur' | 'prev'; dimension = total |
-- record_type | category | problem_type | online (value 'online' / 'offline'); value NULL = not given.
-- category rows carry their object_type (商品 / 服务) in parent.
-- Parameters: $prefix (scope, on handling_region_code), $start, $end (this period, received_at window),
--             $prev_start, $prev_end (the period compared with).
WITH r AS (
    SELECT CASE WHEN c.received_at >= $start AND c.received_at < $end THEN 'cur' ELSE 'prev' END AS period_tag,
           c.record_type, c.category, c.object_type, c.problem_type, c.is_online,
           c.amount_disputed, c.amount_recovered
    FROM clean.complaints c
    WHERE c.handling_region_code LIKE ($prefix || '%')
      AND ((c.received_at >= $start AND c.received_at < $end)
           OR (c.received_at >= $prev_start AND c.received_at < $prev_end))
), d AS (
    SELECT 'total' AS dimension, CAST(NULL AS VARCHAR) AS parent, CAST(NULL AS VARCHAR) AS value, * FROM r
    UNION ALL
    SELECT 'record_type', NULL, record_type, * FROM r
    UNION ALL
    SELECT 'category', object_type, category, * FROM r WHERE record_type IN ('投诉', '举报')
    UNION ALL
    SELECT 'problem_type', NULL, problem_type, * FROM r WHERE record_type IN ('投诉', '举报')
    UNION ALL
    SELECT 'category_problem', category, problem_type, * FROM r WHERE record_type IN ('投诉', '举报')
)
SELECT period_tag, dimension, parent, value,
       count(*)                                                   AS n,
       sum(CASE WHEN is_online THEN 1 ELSE 0 END)                 AS n_online,
       sum(CASE WHEN record_type IN ('投诉', '举报') THEN 1 ELSE 0 END) AS n_complaints_reports,
       CAST(coalesce(sum(amount_disputed), 0) AS DOUBLE)          AS amount_disputed,
       CAST(coalesce(sum(amount_recovered), 0) AS DOUBLE)         AS amount_recovered
FROM d
GROUP BY period_tag, dimension, parent, value
ORDER BY period_tag, dimension, n DESC, value;
