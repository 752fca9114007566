-- 12315 analysis report: the mix of records by one dimension at a time (long form).
-- dimension = record_type | channel | object_type | category | problem_type; value NULL = not given.
-- category rows carry their object_type (商品 / 服务) in parent.
-- Parameters: $prefix (scope, on handling_region_code), $start, $end (received_at window).
WITH r AS (
    SELECT * FROM clean.complaints c
    WHERE c.handling_region_code LIKE ($prefix || '%')
      AND c.received_at >= $start AND c.received_at < $end
)
SELECT 'record_type' AS dimension, CAST(NULL AS VARCHAR) AS parent, record_type AS value, count(*) AS n,
       sum(CASE WHEN is_online THEN 1 ELSE 0 END) AS n_online,
       CAST(sum(amount_disputed) AS DOUBLE) AS amount_disputed, CAST(sum(amount_recovered) AS DOUBLE) AS amount_recovered
FROM r GROUP BY record_type
UNION ALL
SELECT 'channel', NULL, channel, count(*), sum(CASE WHEN is_online THEN 1 ELSE 0 END),
       CAST(sum(amount_disputed) AS DOUBLE), CAST(sum(amount_recovered) AS DOUBLE)
FROM r GROUP BY channel
UNION ALL
SELECT 'object_type', NULL, object_type, count(*), sum(CASE WHEN is_online THEN 1 ELSE 0 END),
       CAST(sum(amount_disputed) AS DOUBLE), CAST(sum(amount_recovered) AS DOUBLE)
FROM r GROUP BY object_type
UNION ALL
SELECT 'category', object_type, category, count(*), sum(CASE WHEN is_online THEN 1 ELSE 0 END),
       CAST(sum(amount_disputed) AS DOUBLE), CAST(sum(amount_recovered) AS DOUBLE)
FROM r GROUP BY object_type, category
UNION ALL
SELECT 'problem_type', NULL, problem_type, count(*), sum(CASE WHEN is_online THEN 1 ELSE 0 END),
       CAST(sum(amount_disputed) AS DOUBLE), CAST(sum(amount_recovered) AS DOUBLE)
FROM r GROUP BY problem_type;
