-- Drill-down: the first records per unit of ind_breakdown_member_records when the record CSVs were just
-- streamed (breakdown_members_ids.sql, which gave their ids: the registered frame
-- ind_breakdown_head_frame(unit, record_id)) — the rows of breakdown_members_head.sql without
-- sorting the members a second time; records_in_unit comes from the stream as well.
SELECT m.*
FROM ind_breakdown_member_records m
JOIN ind_breakdown_head_frame h ON h.unit = m.unit AND h.record_id = m.sort_id
ORDER BY m.unit, m.sort_on, m.sort_id;
