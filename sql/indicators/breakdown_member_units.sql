-- Drill-down: the members of ind_breakdown_members per unit and day of the lists' order (sort_on; a missing
-- day as 9999-12-31, where the lists' order puts it: last), in that order — reports.drilldown.member_runs cuts
-- them into runs for breakdown_members_ids.sql. Per day, not per unit: at 44M records one province's members of
-- an indicator counting every record (online_channel_share) were too many to sort in DuckDB's 1.2 GB at once.
SELECT m.unit, coalesce(m.sort_on, DATE '9999-12-31') AS sort_day, count(*) AS members
FROM ind_breakdown_members m
GROUP BY m.unit, coalesce(m.sort_on, DATE '9999-12-31')
ORDER BY m.unit, sort_day;
