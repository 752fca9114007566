-- Drill-down tables of one complaint-based indicator for every unit at once, step 2 of 2: the rows kept
-- (ind_breakdown_kept, complaints_breakdown_kept.sql) with the median working days to close of each.
-- Same numbers and order as reports.drilldown.group_records over the unit's records.
-- The median is taken for the rows kept only (a join back to the members per table), and from counts:
-- DuckDB's median() keeps every value of every group in memory and cannot spill it. Over GROUPING SETS
-- that ran out of the 1.2 GB limit at 10M records; over the seven kept-row joins at 20M (BENCHMARKS.md,
-- issue 12). Working days are whole numbers, so per kept row the members are counted per value (an
-- ordinary, spillable aggregate, a few hundred values per row) and the median is read off the running
-- count: the values at 0-based places floor((n-1)/2) and floor(n/2), averaged — median()'s answer. The
-- value at place i is the first whose running count exceeds i, and upto > floor((n-1)/2) <=> 2*upto > n-1,
-- upto > floor(n/2) <=> 2*upto > n.
WITH hist AS (  -- per table, the members of each kept row (an equi-join on the table's keys, NULL = NULL)
              -- counted per working-days value
    SELECT k.unit, k.gid, k.left_out, k.place, m.wd_to_close AS days, count(*) AS members
    FROM ind_breakdown_kept k JOIN ind_breakdown_members m
      ON m.unit = k.unit AND m.object_type IS NOT DISTINCT FROM k.object_type
     AND m.category IS NOT DISTINCT FROM k.category
    WHERE k.gid = 127 AND m.wd_to_close IS NOT NULL
    GROUP BY ALL
    UNION ALL
    SELECT k.unit, k.gid, k.left_out, k.place, m.wd_to_close, count(*)
    FROM ind_breakdown_kept k JOIN ind_breakdown_members m ON m.unit = k.unit AND m.problem_type IS NOT DISTINCT FROM k.problem_type
    WHERE k.gid = 447 AND m.wd_to_close IS NOT NULL
    GROUP BY ALL
    UNION ALL
    SELECT k.unit, k.gid, k.left_out, k.place, m.wd_to_close, count(*)
    FROM ind_breakdown_kept k JOIN ind_breakdown_members m
      ON m.unit = k.unit AND m.respondent_name IS NOT DISTINCT FROM k.respondent_name
     AND m.respondent_uscc IS NOT DISTINCT FROM k.respondent_uscc
    WHERE k.gid = 463 AND m.wd_to_close IS NOT NULL
    GROUP BY ALL
    UNION ALL
    SELECT k.unit, k.gid, k.left_out, k.place, m.wd_to_close, count(*)
    FROM ind_breakdown_kept k JOIN ind_breakdown_members m ON m.unit = k.unit AND m.record_type IS NOT DISTINCT FROM k.record_type
    WHERE k.gid = 503 AND m.wd_to_close IS NOT NULL
    GROUP BY ALL
    UNION ALL
    SELECT k.unit, k.gid, k.left_out, k.place, m.wd_to_close, count(*)
    FROM ind_breakdown_kept k JOIN ind_breakdown_members m ON m.unit = k.unit AND m.channel IS NOT DISTINCT FROM k.channel
    WHERE k.gid = 507 AND m.wd_to_close IS NOT NULL
    GROUP BY ALL
    UNION ALL
    SELECT k.unit, k.gid, k.left_out, k.place, m.wd_to_close, count(*)
    FROM ind_breakdown_kept k JOIN ind_breakdown_members m ON m.unit = k.unit AND m.entry_unit_id IS NOT DISTINCT FROM k.entry_unit_id
    WHERE k.gid = 509 AND m.wd_to_close IS NOT NULL
    GROUP BY ALL
    UNION ALL
    SELECT k.unit, k.gid, k.left_out, k.place, m.wd_to_close, count(*)
    FROM ind_breakdown_kept k JOIN ind_breakdown_members m ON m.unit = k.unit AND m.platform_name IS NOT DISTINCT FROM k.platform_name
    WHERE k.gid = 510 AND m.wd_to_close IS NOT NULL
    GROUP BY ALL
), running AS (
    SELECT h.unit, h.gid, h.left_out, h.place, h.days,
           sum(h.members) OVER (PARTITION BY h.unit, h.gid, h.left_out, h.place ORDER BY h.days
                                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS upto,
           sum(h.members) OVER (PARTITION BY h.unit, h.gid, h.left_out, h.place) AS n
    FROM hist h
), medians AS (
    SELECT r.unit, r.gid, r.left_out, r.place,
           (min(CASE WHEN 2 * r.upto > r.n - 1 THEN r.days END)
            + min(CASE WHEN 2 * r.upto > r.n THEN r.days END)) / 2.0 AS median_wd_to_close
    FROM running r
    GROUP BY r.unit, r.gid, r.left_out, r.place
)
SELECT k.unit, k.gid, k.object_type, k.category, k.problem_type, k.respondent_name, k.respondent_uscc,
       k.record_type, k.channel, k.entry_unit_id, k.platform_name, k.records, k.in_numerator, k.n_numerator,
       md.median_wd_to_close, k.amount_disputed, k.amount_recovered, k.left_out, k.frame_records,
       k.frame_numerator, k.place
FROM ind_breakdown_kept k
LEFT JOIN medians md ON md.unit = k.unit AND md.gid = k.gid AND md.left_out = k.left_out AND md.place = k.place
ORDER BY k.unit, k.gid, k.left_out, k.place;
