-- Drill-down, every unit at once: the 12315 records behind one complaint-based indicator
-- ($indicator_id) for every unit of the scope, as a work table the drill-down's grouped tables,
-- first records and record lists are read from (reports.drilldown.batch_breakdowns). Same
-- membership as complaints_breakdown.sql (which lists one unit's): a record is in when it is in the
-- indicator's denominator (per-10k rates: in its numerator), attributed to the unit the indicator
-- uses (market_unit for business-conduct indicators, handling_unit otherwise); in_numerator as
-- there. sort_on / sort_id give the order of complaints_breakdown.sql (received_on, record_id).
-- Kept in DuckDB (spilled to disk beyond its memory limit) so Python never holds the records.
-- Parameters: $indicator_id.
CREATE OR REPLACE TEMP TABLE ind_breakdown_members AS
SELECT (CASE WHEN $indicator_id IN ('safety_complaints_per_10k_residents', 'complaints_per_10k_entities',
                                    'fraud_false_ad_share', 'substantiated_reports_per_10k_entities',
                                    'business_settled_share')
             THEN r.market_unit ELSE r.handling_unit END) AS unit,
       r.received_on AS sort_on, r.record_id AS sort_id,
       r.record_id, r.record_type, r.received_on, r.decided_on, r.closed_on, r.channel, r.accept_decision,
       r.object_type, r.category, r.problem_type, r.respondent_name, r.respondent_uscc,
       r.handling_region_code, r.market_region_code, r.entry_unit_id, r.is_online, r.platform_name,
       r.amount_disputed, r.amount_recovered, r.mediation_result, r.settled_by_business, r.case_filed,
       r.report_substantiated, r.satisfaction, r.wd_to_decision, r.wd_to_close,
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
       END) = 1;
