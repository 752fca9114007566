-- Drill-down tables of one complaint-based indicator for every unit at once, from
-- ind_breakdown_members (complaints_breakdown_members.sql): per unit and grouping (table) the
-- records, records in the numerator, the median working days to close and the money disputed /
-- recovered per key, the top $top per unit and table (most records first, then the keys ascending,
-- a missing key written （空）), with the size of the table's frame (frame_records, and how many of
-- its records have in_numerator, frame_numerator) for the shares. Same numbers and order as
-- reports.drilldown.group_records over the unit's records; the platform table leaves out records
-- without a platform (their groups come back marked left_out, to tell "no platform at all").
-- gid: GROUPING() bits of (object_type, category, problem_type, respondent_name, respondent_uscc,
-- record_type, channel, entry_unit_id, platform_name), 1 = not a key of the table (510: the platform table).
-- The median is taken for the rows kept only (a join back to the members per table): a median over every
-- group of GROUPING SETS keeps each group's values in memory, and DuckDB cannot spill it — at 10M records
-- the respondent groups of the per-10k indicator ran out of the 1.2 GB limit (BENCHMARKS.md, issue 12).
-- Parameters: $top.
WITH g AS (
    SELECT m.unit,
           GROUPING(m.object_type, m.category, m.problem_type, m.respondent_name, m.respondent_uscc,
                    m.record_type, m.channel, m.entry_unit_id, m.platform_name) AS gid,
           m.object_type, m.category, m.problem_type, m.respondent_name, m.respondent_uscc,
           m.record_type, m.channel, m.entry_unit_id, m.platform_name,
           count(*)                                   AS records,
           sum(m.in_numerator)                        AS in_numerator,
           count(m.in_numerator)                      AS n_numerator,
           sum(m.amount_disputed)                     AS amount_disputed,
           sum(m.amount_recovered)                    AS amount_recovered
    FROM ind_breakdown_members m
    GROUP BY GROUPING SETS ((m.unit, m.object_type, m.category), (m.unit, m.problem_type),
                            (m.unit, m.respondent_name, m.respondent_uscc), (m.unit, m.record_type),
                            (m.unit, m.channel), (m.unit, m.entry_unit_id), (m.unit, m.platform_name))
), v AS (
    SELECT g.*,
           (g.gid = 510 AND (g.platform_name IS NULL OR g.platform_name = '')) AS left_out
    FROM g
), w AS (
    SELECT v.*,
           sum(v.records) OVER (PARTITION BY v.unit, v.gid, v.left_out)     AS frame_records,
           sum(v.n_numerator) OVER (PARTITION BY v.unit, v.gid, v.left_out) AS frame_numerator,
           row_number() OVER (PARTITION BY v.unit, v.gid, v.left_out
                              ORDER BY v.records DESC,
                                       coalesce(v.object_type, '（空）'), coalesce(v.category, '（空）'),
                                       coalesce(v.problem_type, '（空）'), coalesce(v.respondent_name, '（空）'),
                                       coalesce(v.respondent_uscc, '（空）'), coalesce(v.record_type, '（空）'),
                                       coalesce(v.channel, '（空）'), coalesce(v.entry_unit_id, '（空）'),
                                       coalesce(v.platform_name, '（空）')) AS place
    FROM v
), kept AS (
    SELECT * FROM w WHERE w.left_out OR w.place <= $top
), medians AS (  -- per table, the members of each kept row: an equi-join on the table's keys (NULL = NULL)
    SELECT k.unit, k.gid, k.left_out, k.place, median(m.wd_to_close) AS median_wd_to_close
    FROM kept k JOIN ind_breakdown_members m
      ON m.unit = k.unit AND m.object_type IS NOT DISTINCT FROM k.object_type
     AND m.category IS NOT DISTINCT FROM k.category
    WHERE k.gid = 127
    GROUP BY ALL
    UNION ALL
    SELECT k.unit, k.gid, k.left_out, k.place, median(m.wd_to_close)
    FROM kept k JOIN ind_breakdown_members m ON m.unit = k.unit AND m.problem_type IS NOT DISTINCT FROM k.problem_type
    WHERE k.gid = 447
    GROUP BY ALL
    UNION ALL
    SELECT k.unit, k.gid, k.left_out, k.place, median(m.wd_to_close)
    FROM kept k JOIN ind_breakdown_members m
      ON m.unit = k.unit AND m.respondent_name IS NOT DISTINCT FROM k.respondent_name
     AND m.respondent_uscc IS NOT DISTINCT FROM k.respondent_uscc
    WHERE k.gid = 463
    GROUP BY ALL
    UNION ALL
    SELECT k.unit, k.gid, k.left_out, k.place, median(m.wd_to_close)
    FROM kept k JOIN ind_breakdown_members m ON m.unit = k.unit AND m.record_type IS NOT DISTINCT FROM k.record_type
    WHERE k.gid = 503
    GROUP BY ALL
    UNION ALL
    SELECT k.unit, k.gid, k.left_out, k.place, median(m.wd_to_close)
    FROM kept k JOIN ind_breakdown_members m ON m.unit = k.unit AND m.channel IS NOT DISTINCT FROM k.channel
    WHERE k.gid = 507
    GROUP BY ALL
    UNION ALL
    SELECT k.unit, k.gid, k.left_out, k.place, median(m.wd_to_close)
    FROM kept k JOIN ind_breakdown_members m ON m.unit = k.unit AND m.entry_unit_id IS NOT DISTINCT FROM k.entry_unit_id
    WHERE k.gid = 509
    GROUP BY ALL
    UNION ALL
    SELECT k.unit, k.gid, k.left_out, k.place, median(m.wd_to_close)
    FROM kept k JOIN ind_breakdown_members m ON m.unit = k.unit AND m.platform_name IS NOT DISTINCT FROM k.platform_name
    WHERE k.gid = 510
    GROUP BY ALL
)
SELECT k.unit, k.gid, k.object_type, k.category, k.problem_type, k.respondent_name, k.respondent_uscc,
       k.record_type, k.channel, k.entry_unit_id, k.platform_name, k.records, k.in_numerator, k.n_numerator,
       md.median_wd_to_close, k.amount_disputed, k.amount_recovered, k.left_out, k.frame_records,
       k.frame_numerator, k.place
FROM kept k
JOIN medians md ON md.unit = k.unit AND md.gid = k.gid AND md.left_out = k.left_out AND md.place = k.place
ORDER BY k.unit, k.gid, k.left_out, k.place;
