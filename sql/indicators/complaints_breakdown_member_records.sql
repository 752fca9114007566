-- Drill-down: the members of one complaint-based indicator (ind_breakdown_members, narrow:
-- complaints_breakdown_members.sql) with every column of their records, as a view for the readers of
-- whole records — the first records per unit (breakdown_members_head*.sql) and one unit's records
-- (breakdown_unit_records.sql). A view, not a copy: those readers take a few rows per unit, and the join
-- back on (record_id, received_on), a key of the clean records (CMP-DUP-001 quarantines an id repeated
-- within a month; received_on fixes the month), is made for those rows only. Columns in the order the
-- record lists and tests read.
CREATE OR REPLACE TEMP VIEW ind_breakdown_member_records AS
SELECT m.unit, m.sort_on, m.sort_id,
       r.record_id, r.record_type, r.received_on, r.decided_on, r.closed_on, r.channel, r.accept_decision,
       r.object_type, r.category, r.problem_type, r.respondent_name, r.respondent_uscc,
       r.handling_region_code, r.market_region_code, r.entry_unit_id, r.is_online, r.platform_name,
       r.amount_disputed, r.amount_recovered, r.mediation_result, r.settled_by_business, r.case_filed,
       r.report_substantiated, r.satisfaction, r.wd_to_decision, r.wd_to_close,
       m.in_numerator, m.in_focus
FROM ind_breakdown_members m
JOIN ind_complaint_records r ON r.record_id = m.sort_id AND r.received_on = m.sort_on;
