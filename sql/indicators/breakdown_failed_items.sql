-- Drill-down "failed items" table of a sampling indicator: the failed-item text of the batches of
-- ind_breakdown_members that have one (failed batches only, a small share of the batches), per unit in the
-- order of the lists (sort_on, sort_id); split into items and counted in Python (indicators.breakdown).
SELECT m.unit, m.sample_id, m.failed_items
FROM ind_breakdown_members m
WHERE m.failed_items IS NOT NULL
ORDER BY m.unit, m.sort_on, m.sort_id;
