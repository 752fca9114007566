-- Drill-down tables of one complaint-based indicator, step 1 of 2: the rows kept, as a work table
-- (ind_breakdown_kept) that complaints_breakdown_tables.sql reads. Per unit and grouping (table) of
-- ind_breakdown_members (complaints_breakdown_members.sql): the records, records in the numerator and the
-- money disputed / recovered per key, the top $top per unit and table (most records first, then the keys
-- ascending, a missing key written （空）), with the size of the table's frame (frame_records, and how many
-- of its records have in_numerator, frame_numerator) for the shares. The platform table leaves out records
-- without a platform (their groups come back marked left_out, to tell "no platform at all").
-- gid: GROUPING() bits of (object_type, category, problem_type, respondent_name, respondent_uscc,
-- record_type, channel, entry_unit_id, platform_name), 1 = not a key of the table (510: the platform table).
-- A table, not a CTE: the second step joins these few thousand rows to every member seven times, and with
-- a CTE DuckDB could not tell which side is small — at 10M records that join ran out of 800 MB, from a
-- table it takes 5 s (BENCHMARKS.md, issue 12). Parameters: $top.
CREATE OR REPLACE TEMP TABLE ind_breakdown_kept AS
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
)
SELECT * FROM w WHERE w.left_out OR w.place <= $top;
