-- Drill-down, every unit at once: the 12315 records behind one complaint-based indicator
-- ($indicator_id) for every unit of the scope, as a work table the drill-down's grouped tables,
-- first records and record lists are read from (reports.drilldown.batch_breakdowns; one unit's records
-- for indicators.breakdown, breakdown_unit_records.sql). A record is in when it is in the
-- indicator's denominator (per-10k rates: in its numerator), attributed to the unit the indicator
-- uses (market_unit for business-conduct indicators, handling_unit otherwise); in_numerator = 1 when it
-- also counts in the numerator (NULL for the median and the money ratio, whose contribution is
-- wd_to_close / the amounts). sort_on / sort_id give the order of the lists (received_on, record_id).
--
-- in_focus = 1 marks the records that matter to someone acting on the value (the record list of the
-- drill-down shows these): the records of what went wrong.
--   per-10k counts of complaints / reports (lower is better)    every record counted
--   fraud_false_ad_share (lower is better)                       the records in the numerator
--   shares of what went right (higher is better)                 the records NOT in the numerator:
--       closure_rate: the complaints still open; acceptance / report-check rates: the ones decided late
--       or still undecided; mediation: failed mediations; satisfaction: 不满意; settled share: not
--       settled by the business; online share: records through other channels; case rate: no case
--   median_working_days_to_close                                 closures slower than the unit's median
--   money_recovery_ratio                                         complaints recovering less than disputed
-- tests/test_drilldown_facts.py checks every indicator has a rule and that shares follow the direction
-- of the index spec. Kept in DuckDB (spilled to disk beyond its memory limit): Python never holds the
-- records. Narrow: only the columns the grouped tables, the record CSVs and in_focus read; the lists'
-- other columns come from ind_complaint_records by (sort_id, sort_on) = (record_id, received_on), a key
-- of the clean records, for the few rows shown (complaints_breakdown_member_records.sql). A copy of every
-- column per indicator was a third of the drill-down's time at 10M records (BENCHMARKS.md, issue 12).
-- Parameters: $indicator_id.
CREATE OR REPLACE TEMP TABLE ind_breakdown_members AS
WITH m AS (
SELECT (CASE WHEN $indicator_id IN ('safety_complaints_per_10k_residents', 'complaints_per_10k_entities',
                                    'fraud_false_ad_share', 'substantiated_reports_per_10k_entities',
                                    'business_settled_share')
             THEN r.market_unit ELSE r.handling_unit END) AS unit,
       r.received_on AS sort_on, r.record_id AS sort_id,
       r.record_type, r.channel, r.object_type, r.category, r.problem_type, r.respondent_name,
       r.respondent_uscc, r.entry_unit_id, r.platform_name, r.amount_disputed, r.amount_recovered, r.wd_to_close,
       CASE $indicator_id
           WHEN 'safety_complaints_per_10k_residents' THEN r.safety_complaints_per_10k_residents__num
           WHEN 'complaints_per_10k_entities' THEN r.complaints_per_10k_entities__num
           WHEN 'fraud_false_ad_share' THEN r.fraud_false_ad_share__num
           WHEN 'substantiated_reports_per_10k_entities' THEN r.substantiated_reports_per_10k_entities__num
           WHEN 'business_settled_share' THEN r.business_settled_share__num
           WHEN 'online_channel_share' THEN r.online_channel_share__num
           WHEN 'acceptance_within_7wd_rate' THEN r.acceptance_within_7wd_rate__num
           WHEN 'closure_rate' THEN r.closure_rate__num
           WHEN 'mediation_success_rate' THEN r.mediation_success_rate__num
           WHEN 'satisfaction_rate' THEN r.satisfaction_rate__num
           WHEN 'complaint_to_case_rate' THEN r.complaint_to_case_rate__num
           WHEN 'report_checked_within_15wd_rate' THEN r.report_checked_within_15wd_rate__num
           WHEN 'report_substantiation_rate' THEN r.report_substantiation_rate__num
       END AS in_numerator
FROM ind_complaint_records r
WHERE (CASE WHEN $indicator_id IN ('safety_complaints_per_10k_residents', 'complaints_per_10k_entities',
                                   'fraud_false_ad_share', 'substantiated_reports_per_10k_entities',
                                   'business_settled_share')
            THEN r.market_unit ELSE r.handling_unit END) IS NOT NULL
  AND (CASE $indicator_id
           WHEN 'safety_complaints_per_10k_residents' THEN r.safety_complaints_per_10k_residents__num
           WHEN 'complaints_per_10k_entities' THEN r.complaints_per_10k_entities__num
           WHEN 'fraud_false_ad_share' THEN r.fraud_false_ad_share__den
           WHEN 'substantiated_reports_per_10k_entities' THEN r.substantiated_reports_per_10k_entities__num
           WHEN 'business_settled_share' THEN r.business_settled_share__den
           WHEN 'online_channel_share' THEN r.online_channel_share__den
           WHEN 'acceptance_within_7wd_rate' THEN r.acceptance_within_7wd_rate__den
           WHEN 'median_working_days_to_close' THEN r.median_working_days_to_close__den
           WHEN 'closure_rate' THEN r.closure_rate__den
           WHEN 'mediation_success_rate' THEN r.mediation_success_rate__den
           WHEN 'satisfaction_rate' THEN r.satisfaction_rate__den
           WHEN 'money_recovery_ratio' THEN r.money_recovery_ratio__den
           WHEN 'complaint_to_case_rate' THEN r.complaint_to_case_rate__den
           WHEN 'report_checked_within_15wd_rate' THEN r.report_checked_within_15wd_rate__den
           WHEN 'report_substantiation_rate' THEN r.report_substantiation_rate__den
       END) = 1
), med AS (  -- the unit's median days to close (the value of median_working_days_to_close)
    SELECT m.unit, median(m.wd_to_close) AS unit_median
    FROM m
    WHERE $indicator_id = 'median_working_days_to_close'
    GROUP BY m.unit
)
SELECT m.*,
       CASE $indicator_id
           WHEN 'safety_complaints_per_10k_residents' THEN 1
           WHEN 'complaints_per_10k_entities' THEN 1
           WHEN 'substantiated_reports_per_10k_entities' THEN 1
           WHEN 'fraud_false_ad_share' THEN m.in_numerator
           WHEN 'business_settled_share' THEN 1 - m.in_numerator
           WHEN 'online_channel_share' THEN 1 - m.in_numerator
           WHEN 'acceptance_within_7wd_rate' THEN 1 - m.in_numerator
           WHEN 'closure_rate' THEN 1 - m.in_numerator
           WHEN 'mediation_success_rate' THEN 1 - m.in_numerator
           WHEN 'satisfaction_rate' THEN 1 - m.in_numerator
           WHEN 'complaint_to_case_rate' THEN 1 - m.in_numerator
           WHEN 'report_checked_within_15wd_rate' THEN 1 - m.in_numerator
           WHEN 'report_substantiation_rate' THEN 1 - m.in_numerator
           WHEN 'median_working_days_to_close' THEN CASE WHEN m.wd_to_close > med.unit_median THEN 1 ELSE 0 END
           WHEN 'money_recovery_ratio' THEN CASE WHEN coalesce(m.amount_recovered, 0) < m.amount_disputed THEN 1 ELSE 0 END
       END AS in_focus
FROM m
LEFT JOIN med ON med.unit = m.unit;
