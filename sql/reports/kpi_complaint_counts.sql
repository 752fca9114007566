-- KPI scorecard (DESIGN §5.5): the counts behind the 12315 KPIs per reporting unit.
-- Sums of the per-record 0/1 flags of ind_complaint_records, built by
-- sql/indicators/complaints_records.sql (received_at in the period; decisions, closures and outcomes
-- counted up to the data cut-off) — the rules of the index indicators closure_rate,
-- mediation_success_rate, satisfaction_rate, complaint_to_case_rate and report_substantiation_rate,
-- so the scorecard and the index never define a KPI twice. handling_unit is the bureau of
-- handling_region_code (ind_region_units = the report's unit map: sql/reports/kpi_units.sql).
-- The formulas (which count over which) and targets live in reports/kpi.py (KPIS); this file only counts.
--   closed / closure_due          办结率: accepted 投诉 closed / accepted 投诉 whose handling period
--                                 (45 working days after acceptance) has ended by the cut-off, or closed
--   in_progress                   accepted 投诉 still within that period (在办: in neither count)
--   mediation_success / _ended    有效投诉调解成功率: closed accepted 投诉 with 达成调解协议 / 协商和解成功
--                                 / closed accepted 投诉 with a mediation result
--   satisfied / callbacks         满意率: rated 满意 or 基本满意 / rated 满意, 基本满意 or 不满意 (any type)
--   callbacks_of_closed / closed_items  回访率: closed records (any type) with a callback / closed records
--   cases_filed / complaints_and_reports  诉转案率 (投诉 + 举报 with the case flag given)
--   complaint_cases / complaints_case_known, report_cases / reports_case_known: the same per record type
--   reports_substantiated / reports_checked  举报查实率: 举报 found true / 举报 with a finding
-- Parameters: none (the period, cut-off and limits were bound when ind_complaint_records was built).
SELECT handling_unit                                                                          AS unit_code,
       count(*)                                                                               AS records,
       sum(closure_rate__num)                                                                 AS closed,
       sum(closure_rate__den)                                                                 AS closure_due,
       sum(CASE WHEN record_type = '投诉' AND accept_decision = '受理' AND closure_rate__den = 0
                THEN 1 ELSE 0 END)                                                            AS in_progress,
       sum(mediation_success_rate__num)                                                       AS mediation_success,
       sum(mediation_success_rate__den)                                                       AS mediation_ended,
       sum(satisfaction_rate__num)                                                            AS satisfied,
       sum(satisfaction_rate__den)                                                            AS callbacks,
       sum(CASE WHEN closed_on IS NOT NULL THEN satisfaction_rate__den ELSE 0 END)            AS callbacks_of_closed,
       sum(CASE WHEN closed_on IS NOT NULL THEN 1 ELSE 0 END)                                 AS closed_items,
       sum(complaint_to_case_rate__num)                                                       AS cases_filed,
       sum(complaint_to_case_rate__den)                                                       AS complaints_and_reports,
       sum(CASE WHEN record_type = '投诉' THEN complaint_to_case_rate__num ELSE 0 END)         AS complaint_cases,
       sum(CASE WHEN record_type = '投诉' THEN complaint_to_case_rate__den ELSE 0 END)         AS complaints_case_known,
       sum(CASE WHEN record_type = '举报' THEN complaint_to_case_rate__num ELSE 0 END)         AS report_cases,
       sum(CASE WHEN record_type = '举报' THEN complaint_to_case_rate__den ELSE 0 END)         AS reports_case_known,
       sum(report_substantiation_rate__num)                                                   AS reports_substantiated,
       sum(report_substantiation_rate__den)                                                   AS reports_checked
FROM ind_complaint_records
WHERE handling_unit IS NOT NULL
GROUP BY handling_unit;
