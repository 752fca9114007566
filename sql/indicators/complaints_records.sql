-- 12315 records behind the complaint-based indicators: one row per record of clean.complaints
-- RECEIVED in the period (date basis of every complaint-based indicator: CAST(received_at AS DATE)
-- between $period_start and $period_end, i.e. the cohort of records registered in the period;
-- decisions, closures and outcomes are counted whenever they happened up to the data cut-off
-- $as_of), attributed to a unit of the scope in two ways:
--   handling_unit  the unit of handling_region_code (the bureau): handling performance indicators
--   market_unit    the unit of respondent_region_code, or handling_region_code when the respondent's
--                  code is missing: indicators of business conduct in the region (安全度 / 诚信度)
-- Records attributed to neither unit are left out.
--
-- Working days (Order No. 20): "decided within N working days of receipt" means
-- workday_ordinal(decision day) - workday_ordinal(receipt day) <= N, the day of receipt not counted
-- (期间开始之日不计算在内), on the calendar_days table (Chinese calendar with 调休 make-up days).
-- Limits come in as parameters ($accept_limit_wd = 7, $report_check_limit_wd = 15), not literals.
--
-- Columns <indicator_id>__den / __num are 1 when the record is in the indicator's denominator /
-- numerator, else 0 (per-10k rates have only __num: their denominator is a region profile).
-- "Closed complaint" (办结投诉) throughout = record_type 投诉, accept_decision 受理, closed_at present:
-- a complaint not accepted ends with the decision and never enters mediation.
-- Parameters: $period_start, $period_end, $as_of (DATE), $accept_limit_wd, $report_check_limit_wd,
-- $mediation_limit_wd (Order No. 20 Art. 21: mediation ends within 45 working days of acceptance).
CREATE OR REPLACE TEMP TABLE ind_complaint_records AS
WITH c AS (
    SELECT c.record_id, c.record_type, c.channel, c.accept_decision, c.entry_unit_id,
           c.handling_region_code,
           COALESCE(NULLIF(c.respondent_region_code, ''), c.handling_region_code) AS market_region_code,
           c.respondent_name, c.respondent_uscc, c.object_type, c.category, c.problem_type,
           c.is_online, c.platform_name,
           CAST(c.amount_disputed AS DOUBLE) AS amount_disputed,
           CAST(c.amount_recovered AS DOUBLE) AS amount_recovered,
           c.mediation_result, c.settled_by_business, c.case_filed, c.report_substantiated, c.satisfaction,
           CAST(c.received_at AS DATE) AS received_on,
           CAST(c.accepted_at AS DATE) AS decided_on,
           CAST(c.closed_at AS DATE) AS closed_on
    FROM clean.complaints c
    WHERE CAST(c.received_at AS DATE) BETWEEN $period_start AND $period_end
), t AS (
    SELECT c.*,
           hu.unit_code AS handling_unit,
           mu.unit_code AS market_unit,
           kd.workday_ordinal - kr.workday_ordinal AS wd_to_decision,
           kc.workday_ordinal - kr.workday_ordinal AS wd_to_close,
           ka.workday_ordinal - kr.workday_ordinal AS wd_to_as_of,
           ka.workday_ordinal - kd.workday_ordinal AS wd_decision_to_as_of,
           CASE WHEN c.record_type = '投诉' AND c.accept_decision = '受理' AND c.closed_on IS NOT NULL
                THEN 1 ELSE 0 END AS is_closed_complaint
    FROM c
    LEFT JOIN ind_region_units hu ON hu.region_code = c.handling_region_code
    LEFT JOIN ind_region_units mu ON mu.region_code = c.market_region_code
    LEFT JOIN calendar_days kr ON kr.day = c.received_on
    LEFT JOIN calendar_days kd ON kd.day = c.decided_on
    LEFT JOIN calendar_days kc ON kc.day = c.closed_on
    LEFT JOIN calendar_days ka ON ka.day = $as_of
    WHERE hu.unit_code IS NOT NULL OR mu.unit_code IS NOT NULL
)
SELECT t.*,
    -- safety_complaints_per_10k_residents (market_unit): complaints on safety problems
    CASE WHEN record_type = '投诉' AND problem_type IN ('安全', '食品安全', '人身权利') THEN 1 ELSE 0 END
        AS safety_complaints_per_10k_residents__num,
    -- complaints_per_10k_entities (market_unit): every complaint
    CASE WHEN record_type = '投诉' THEN 1 ELSE 0 END AS complaints_per_10k_entities__num,
    -- fraud_false_ad_share (market_unit): complaints with a problem type; fraud / advertising ones
    CASE WHEN record_type = '投诉' AND problem_type IS NOT NULL THEN 1 ELSE 0 END AS fraud_false_ad_share__den,
    CASE WHEN record_type = '投诉' AND problem_type IN ('广告', '虚假宣传', '欺诈') THEN 1 ELSE 0 END
        AS fraud_false_ad_share__num,
    -- substantiated_reports_per_10k_entities (market_unit): reports found true
    CASE WHEN record_type = '举报' AND report_substantiated = TRUE THEN 1 ELSE 0 END
        AS substantiated_reports_per_10k_entities__num,
    -- business_settled_share (market_unit): complaints with the ODR flag; settled by the business
    CASE WHEN record_type = '投诉' AND settled_by_business IS NOT NULL THEN 1 ELSE 0 END AS business_settled_share__den,
    CASE WHEN record_type = '投诉' AND settled_by_business = TRUE THEN 1 ELSE 0 END AS business_settled_share__num,
    -- online_channel_share (handling_unit): records of any type with a channel; online ones
    CASE WHEN channel IS NOT NULL THEN 1 ELSE 0 END AS online_channel_share__den,
    CASE WHEN channel IN ('互联网', '微信', 'APP') THEN 1 ELSE 0 END AS online_channel_share__num,
    -- acceptance_within_7wd_rate (handling_unit): complaints due = decided, or undecided with the
    -- limit passed at $as_of; on time = decided within the limit
    CASE WHEN record_type = '投诉'
              AND ((decided_on IS NOT NULL AND wd_to_decision >= 0)
                   OR (decided_on IS NULL AND wd_to_as_of > $accept_limit_wd))
         THEN 1 ELSE 0 END AS acceptance_within_7wd_rate__den,
    CASE WHEN record_type = '投诉' AND decided_on IS NOT NULL
              AND wd_to_decision >= 0 AND wd_to_decision <= $accept_limit_wd
         THEN 1 ELSE 0 END AS acceptance_within_7wd_rate__num,
    -- median_working_days_to_close (handling_unit): closed complaints with a countable span
    CASE WHEN is_closed_complaint = 1 AND wd_to_close >= 0 THEN 1 ELSE 0 END AS median_working_days_to_close__den,
    -- closure_rate (handling_unit): accepted complaints whose handling period has ended by $as_of —
    -- closed, or accepted more than $mediation_limit_wd working days before the cut-off (no decision
    -- date: received more than accept + mediation limits before it); still within it = 在办, left out
    CASE WHEN record_type = '投诉' AND accept_decision = '受理'
              AND (is_closed_complaint = 1
                   OR (decided_on IS NOT NULL AND wd_decision_to_as_of > $mediation_limit_wd)
                   OR (decided_on IS NULL AND wd_to_as_of > $accept_limit_wd + $mediation_limit_wd))
         THEN 1 ELSE 0 END AS closure_rate__den,
    is_closed_complaint AS closure_rate__num,
    -- mediation_success_rate (handling_unit): closed complaints with a mediation result; successful ones
    CASE WHEN is_closed_complaint = 1 AND mediation_result IS NOT NULL THEN 1 ELSE 0 END AS mediation_success_rate__den,
    CASE WHEN is_closed_complaint = 1 AND mediation_result IN ('达成调解协议', '协商和解成功') THEN 1 ELSE 0 END
        AS mediation_success_rate__num,
    -- satisfaction_rate (handling_unit): records of any type with a callback; rated 满意 / 基本满意
    CASE WHEN satisfaction IN ('满意', '基本满意', '不满意') THEN 1 ELSE 0 END AS satisfaction_rate__den,
    CASE WHEN satisfaction IN ('满意', '基本满意') THEN 1 ELSE 0 END AS satisfaction_rate__num,
    -- money_recovery_ratio (handling_unit): closed complaints with an amount disputed > 0
    CASE WHEN is_closed_complaint = 1 AND amount_disputed > 0 THEN 1 ELSE 0 END AS money_recovery_ratio__den,
    CASE WHEN is_closed_complaint = 1 AND amount_disputed > 0 THEN COALESCE(amount_recovered, 0) ELSE 0 END
        AS money_recovery_ratio__recovered,
    CASE WHEN is_closed_complaint = 1 AND amount_disputed > 0 THEN amount_disputed ELSE 0 END
        AS money_recovery_ratio__disputed,
    -- complaint_to_case_rate (handling_unit): complaints and reports with the flag; case filed
    CASE WHEN record_type IN ('投诉', '举报') AND case_filed IS NOT NULL THEN 1 ELSE 0 END AS complaint_to_case_rate__den,
    CASE WHEN record_type IN ('投诉', '举报') AND case_filed = TRUE THEN 1 ELSE 0 END AS complaint_to_case_rate__num,
    -- report_checked_within_15wd_rate (handling_unit): reports due = checked (accepted_at = the 核查
    -- decision), or unchecked with the limit passed at $as_of; on time = checked within the limit
    CASE WHEN record_type = '举报'
              AND ((decided_on IS NOT NULL AND wd_to_decision >= 0)
                   OR (decided_on IS NULL AND wd_to_as_of > $report_check_limit_wd))
         THEN 1 ELSE 0 END AS report_checked_within_15wd_rate__den,
    CASE WHEN record_type = '举报' AND decided_on IS NOT NULL
              AND wd_to_decision >= 0 AND wd_to_decision <= $report_check_limit_wd
         THEN 1 ELSE 0 END AS report_checked_within_15wd_rate__num,
    -- report_substantiation_rate (handling_unit): reports with a finding; found true
    CASE WHEN record_type = '举报' AND report_substantiated IS NOT NULL THEN 1 ELSE 0 END
        AS report_substantiation_rate__den,
    CASE WHEN record_type = '举报' AND report_substantiated = TRUE THEN 1 ELSE 0 END
        AS report_substantiation_rate__num
FROM t;
