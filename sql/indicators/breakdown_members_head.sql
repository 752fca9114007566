-- Drill-down: the first $record_limit records per unit of ind_breakdown_member_records (in the order of
-- the lists: sort_on, sort_id) and how many there are in all (records_in_unit): the page lists these, the
-- record CSV lists every one (breakdown_members_ids.sql). Parameters: $record_limit.
SELECT *
FROM (SELECT m.*,
             row_number() OVER (PARTITION BY m.unit ORDER BY m.sort_on, m.sort_id) AS place,
             count(*) OVER (PARTITION BY m.unit)                                AS records_in_unit
      FROM ind_breakdown_member_records m) h
WHERE h.place <= $record_limit
ORDER BY h.unit, h.place;
