-- The rules failing most per entry unit (data-quality report, DESIGN §5.7), with example record ids.
--
-- One row per unit × rule with a result in the partitions asked for, the unit's top $n rules only
-- (most rows first; errors before warnings on a tie, then rule id):
--   rows          distinct rows of the unit the rule reported
--   rows_entered  rows the unit entered in those partitions (so rows / rows_entered is the rule's rate)
--   examples      up to $examples record ids (record_key: 登记编号 / 样品编号 / unit|month ...), smallest
--                 first; a row without a record id is named by its delivered file and row number.
-- Only identifiers: never complainant data, never the free text (staging holds none of it anyway,
-- and detail strings are left out on purpose).
--
-- Template identifiers (data_quality/scorecard.py, fixed whitelists): {table}, {unit}, {region}.
-- Bound parameters: $t table, $months VARCHAR[] (NULL = every checked partition), $prefix scope
-- prefix ('' = all), $one_unit (TRUE: only $unit, NULL-safe), $unit, $n, $examples.
WITH checked AS (
    SELECT DISTINCT partition_key AS month FROM dq.runs
    WHERE table_name = $t AND ($months IS NULL OR list_contains($months, partition_key))
), base AS (
    SELECT s.partition_key AS month, s."{unit}" AS unit_id, s."{region}" AS region_code,
           CAST(s.load_id AS VARCHAR) || ':' || CAST(s.source_row AS VARCHAR) AS row_ref
    FROM staging.{table} s
    WHERE s.partition_key IN (SELECT month FROM checked)
      AND (NOT $one_unit OR s."{unit}" IS NOT DISTINCT FROM $unit)
), scoped_units AS (
    SELECT DISTINCT unit_id FROM base WHERE starts_with(region_code, $prefix) AND unit_id IS NOT NULL
), scoped AS (
    SELECT * FROM base
    WHERE $prefix = '' OR starts_with(region_code, $prefix)
       OR (region_code IS NULL AND unit_id IN (SELECT unit_id FROM scoped_units))
), entered AS (
    SELECT unit_id, count(*) AS rows_entered FROM scoped GROUP BY ALL
), found AS (
    SELECT s.unit_id, r.rule_id, any_value(r.severity) AS severity, any_value(r.dimension) AS dimension,
           count(DISTINCT r.row_ref) AS rows,
           array_slice(list_sort(list_distinct(list(
               coalesce(r.record_key, regexp_extract(r.source_file, '[^/\\]+$') || '#' || CAST(r.source_row AS VARCHAR))))),
               1, $examples) AS examples
    FROM dq.rule_results r
    JOIN scoped s ON s.month = r.partition_key AND s.row_ref = r.row_ref
    WHERE r.table_name = $t
    GROUP BY ALL
), ranked AS (
    SELECT f.*, e.rows_entered,
           row_number() OVER (PARTITION BY f.unit_id
                              ORDER BY f.rows DESC, f.severity = 'error' DESC, f.rule_id) AS place
    FROM found f JOIN entered e ON e.unit_id IS NOT DISTINCT FROM f.unit_id
)
SELECT $t AS table_name, r.unit_id, r.place, r.rule_id, r.severity, r.dimension, q.dimension_zh,
       q.description_zh, q.description_en, q.basis, r.rows, r.rows_entered, r.rows / r.rows_entered AS rate,
       r.examples
FROM ranked r
LEFT JOIN dq.rules q ON q.rule_id = r.rule_id
WHERE r.place <= $n
ORDER BY r.unit_id IS NULL, r.unit_id, r.place
