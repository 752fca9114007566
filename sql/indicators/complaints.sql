-- Complaint-based indicators (12315 投诉 / 举报 / 咨询) per unit of the scope, from the record table
-- ind_complaint_records (sql/indicators/complaints_records.sql: period filter, unit attribution,
-- working days and the 0/1 numerator / denominator flags of every indicator).
-- Output rows: indicator_id, region_code, numerator, denominator, value, record_count — one row
-- per indicator and unit of ind_scope_units (value NULL when nothing to divide), plus one row with
-- region_code NULL for median_working_days_to_close: the median over all the scope's records
-- (the shrinkage target; for ratios the pooled value is computed from the unit rows).
-- Per-10k rates: value NULL when the unit has no 12315 record at all in the period (no data, not
-- zero), or its profile lacks the denominator; they are NOT annualised (a quarter's count per 10k).
-- Each indicator's block starts with its definition (@-tags are read by indicators/definitions.py
-- into the methodology table; keep them in step with the SQL below them).
WITH h AS (
    SELECT handling_unit AS unit_code,
           SUM(online_channel_share__den) AS online_channel_share__den,
           SUM(online_channel_share__num) AS online_channel_share__num,
           SUM(acceptance_within_7wd_rate__den) AS acceptance_within_7wd_rate__den,
           SUM(acceptance_within_7wd_rate__num) AS acceptance_within_7wd_rate__num,
           SUM(median_working_days_to_close__den) AS median_working_days_to_close__den,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY CASE WHEN median_working_days_to_close__den = 1 THEN wd_to_close END
           ) AS median_working_days_to_close__value,
           SUM(closure_rate__den) AS closure_rate__den,
           SUM(closure_rate__num) AS closure_rate__num,
           SUM(mediation_success_rate__den) AS mediation_success_rate__den,
           SUM(mediation_success_rate__num) AS mediation_success_rate__num,
           SUM(satisfaction_rate__den) AS satisfaction_rate__den,
           SUM(satisfaction_rate__num) AS satisfaction_rate__num,
           SUM(money_recovery_ratio__den) AS money_recovery_ratio__den,
           SUM(money_recovery_ratio__recovered) AS money_recovery_ratio__recovered,
           SUM(money_recovery_ratio__disputed) AS money_recovery_ratio__disputed,
           SUM(complaint_to_case_rate__den) AS complaint_to_case_rate__den,
           SUM(complaint_to_case_rate__num) AS complaint_to_case_rate__num,
           SUM(report_checked_within_15wd_rate__den) AS report_checked_within_15wd_rate__den,
           SUM(report_checked_within_15wd_rate__num) AS report_checked_within_15wd_rate__num,
           SUM(report_substantiation_rate__den) AS report_substantiation_rate__den,
           SUM(report_substantiation_rate__num) AS report_substantiation_rate__num
    FROM ind_complaint_records
    WHERE handling_unit IS NOT NULL
    GROUP BY handling_unit
), m AS (
    SELECT market_unit AS unit_code,
           COUNT(*) AS records,
           SUM(safety_complaints_per_10k_residents__num) AS safety_complaints_per_10k_residents__num,
           SUM(complaints_per_10k_entities__num) AS complaints_per_10k_entities__num,
           SUM(fraud_false_ad_share__den) AS fraud_false_ad_share__den,
           SUM(fraud_false_ad_share__num) AS fraud_false_ad_share__num,
           SUM(substantiated_reports_per_10k_entities__num) AS substantiated_reports_per_10k_entities__num,
           SUM(business_settled_share__den) AS business_settled_share__den,
           SUM(business_settled_share__num) AS business_settled_share__num
    FROM ind_complaint_records
    WHERE market_unit IS NOT NULL
    GROUP BY market_unit
), u AS (
    SELECT s.unit_code, p.population, p.market_entities
    FROM ind_scope_units s
    LEFT JOIN ind_unit_profiles p ON p.unit_code = s.unit_code
)

-- @indicator safety_complaints_per_10k_residents
-- @kind per10k
-- @scale 10000
-- @region market: respondent_region_code (handling_region_code when missing)
-- @date received_at in the period
-- @numerator 投诉 with problem_type 安全 / 食品安全 / 人身权利 (count)
-- @denominator population (常住人口) of the unit's region profile for the period's year
-- @zh 每万人消费安全类投诉量 = 问题类别为安全、食品安全、人身权利的投诉件数 × 10000 ÷ 常住人口（按被投诉方所在地归属）
-- @en Safety-related complaints (problem type 安全 / 食品安全 / 人身权利) x 10,000 / resident population,
--     attributed to the respondent's region; record_count = complaints counted
SELECT 'safety_complaints_per_10k_residents' AS indicator_id, u.unit_code AS region_code,
       CAST(m.safety_complaints_per_10k_residents__num AS DOUBLE) AS numerator,
       CAST(u.population AS DOUBLE) AS denominator,
       CASE WHEN m.records > 0 AND u.population > 0
            THEN m.safety_complaints_per_10k_residents__num * 10000.0 / u.population END AS value,
       COALESCE(m.safety_complaints_per_10k_residents__num, 0) AS record_count
FROM u LEFT JOIN m ON m.unit_code = u.unit_code

UNION ALL
-- @indicator complaints_per_10k_entities
-- @kind per10k
-- @scale 10000
-- @region market: respondent_region_code (handling_region_code when missing)
-- @date received_at in the period
-- @numerator 投诉 (count, all complaints whatever the acceptance decision)
-- @denominator market_entities (市场主体) of the unit's region profile for the period's year
-- @zh 每万户市场主体投诉量 = 投诉件数 × 10000 ÷ 市场主体数量（按被投诉方所在地归属）
-- @en Complaints against businesses of the region x 10,000 / market entities; record_count = complaints
SELECT 'complaints_per_10k_entities', u.unit_code,
       CAST(m.complaints_per_10k_entities__num AS DOUBLE),
       CAST(u.market_entities AS DOUBLE),
       CASE WHEN m.records > 0 AND u.market_entities > 0
            THEN m.complaints_per_10k_entities__num * 10000.0 / u.market_entities END,
       COALESCE(m.complaints_per_10k_entities__num, 0)
FROM u LEFT JOIN m ON m.unit_code = u.unit_code

UNION ALL
-- @indicator fraud_false_ad_share
-- @kind share
-- @region market: respondent_region_code (handling_region_code when missing)
-- @date received_at in the period
-- @numerator 投诉 with problem_type 广告 / 虚假宣传 / 欺诈
-- @denominator 投诉 with a problem_type
-- @zh 欺诈及虚假宣传类投诉占比 = 问题类别为广告、虚假宣传、欺诈的投诉 ÷ 有问题类别的投诉
-- @en Share of complaints on fraud / false advertising (广告 / 虚假宣传 / 欺诈) among complaints with a problem type
SELECT 'fraud_false_ad_share', u.unit_code,
       CAST(COALESCE(m.fraud_false_ad_share__num, 0) AS DOUBLE),
       CAST(COALESCE(m.fraud_false_ad_share__den, 0) AS DOUBLE),
       CASE WHEN m.fraud_false_ad_share__den > 0
            THEN CAST(m.fraud_false_ad_share__num AS DOUBLE) / m.fraud_false_ad_share__den END,
       COALESCE(m.fraud_false_ad_share__den, 0)
FROM u LEFT JOIN m ON m.unit_code = u.unit_code

UNION ALL
-- @indicator substantiated_reports_per_10k_entities
-- @kind per10k
-- @scale 10000
-- @region market: respondent_region_code (handling_region_code when missing)
-- @date received_at in the period (the finding counted whenever made up to the cut-off)
-- @numerator 举报 with report_substantiated = true (count)
-- @denominator market_entities of the unit's region profile for the period's year
-- @zh 每万户市场主体举报查实数 = 查实的举报件数 × 10000 ÷ 市场主体数量（按被举报方所在地归属）
-- @en Substantiated reports x 10,000 / market entities; record_count = substantiated reports
SELECT 'substantiated_reports_per_10k_entities', u.unit_code,
       CAST(m.substantiated_reports_per_10k_entities__num AS DOUBLE),
       CAST(u.market_entities AS DOUBLE),
       CASE WHEN m.records > 0 AND u.market_entities > 0
            THEN m.substantiated_reports_per_10k_entities__num * 10000.0 / u.market_entities END,
       COALESCE(m.substantiated_reports_per_10k_entities__num, 0)
FROM u LEFT JOIN m ON m.unit_code = u.unit_code

UNION ALL
-- @indicator business_settled_share
-- @kind share
-- @region market: respondent_region_code (handling_region_code when missing)
-- @date received_at in the period
-- @numerator 投诉 with settled_by_business = true (ODR / 绿色通道)
-- @denominator 投诉 with settled_by_business given
-- @zh 经营者主动和解率 = 经营者通过ODR/绿色通道直接和解的投诉 ÷ 投诉
-- @en Share of complaints settled directly by the business (ODR / green channel)
SELECT 'business_settled_share', u.unit_code,
       CAST(COALESCE(m.business_settled_share__num, 0) AS DOUBLE),
       CAST(COALESCE(m.business_settled_share__den, 0) AS DOUBLE),
       CASE WHEN m.business_settled_share__den > 0
            THEN CAST(m.business_settled_share__num AS DOUBLE) / m.business_settled_share__den END,
       COALESCE(m.business_settled_share__den, 0)
FROM u LEFT JOIN m ON m.unit_code = u.unit_code

UNION ALL
-- @indicator online_channel_share
-- @kind share
-- @region handling: handling_region_code
-- @date received_at in the period
-- @numerator records (投诉 / 举报 / 咨询) received via 互联网 / 微信 / APP
-- @denominator records of any type with a channel
-- @zh 网络渠道登记占比 = 经互联网、微信、APP登记的诉求 ÷ 有登记渠道的全部诉求（投诉、举报、咨询）
-- @en Share of records (all types) registered online (互联网 / 微信 / APP) among records with a channel
SELECT 'online_channel_share', u.unit_code,
       CAST(COALESCE(h.online_channel_share__num, 0) AS DOUBLE),
       CAST(COALESCE(h.online_channel_share__den, 0) AS DOUBLE),
       CASE WHEN h.online_channel_share__den > 0
            THEN CAST(h.online_channel_share__num AS DOUBLE) / h.online_channel_share__den END,
       COALESCE(h.online_channel_share__den, 0)
FROM u LEFT JOIN h ON h.unit_code = u.unit_code

UNION ALL
-- @indicator acceptance_within_7wd_rate
-- @kind share
-- @region handling: handling_region_code
-- @date received_at in the period; the decision (accepted_at) counted up to the cut-off
-- @numerator 投诉 whose accept / not-accept decision (accepted_at) came within 7 working days of receipt
-- @denominator 投诉 due: decided, or still undecided when 7 working days had passed at the cut-off
-- @zh 7个工作日内作出受理决定率 = 自登记之日起7个工作日内作出受理或不予受理决定的投诉 ÷ 应作出决定的投诉
--     （已决定的，或截至数据截止日已超过7个工作日仍未决定的；《市场监督管理投诉举报处理暂行办法》第十四条）
-- @en Complaints whose acceptance decision was made within 7 working days of receipt (Order No. 20 Art. 14;
--     Chinese working days with 调休) / complaints due (decided, or undecided past the limit at the cut-off)
SELECT 'acceptance_within_7wd_rate', u.unit_code,
       CAST(COALESCE(h.acceptance_within_7wd_rate__num, 0) AS DOUBLE),
       CAST(COALESCE(h.acceptance_within_7wd_rate__den, 0) AS DOUBLE),
       CASE WHEN h.acceptance_within_7wd_rate__den > 0
            THEN CAST(h.acceptance_within_7wd_rate__num AS DOUBLE) / h.acceptance_within_7wd_rate__den END,
       COALESCE(h.acceptance_within_7wd_rate__den, 0)
FROM u LEFT JOIN h ON h.unit_code = u.unit_code

UNION ALL
-- @indicator median_working_days_to_close
-- @kind median
-- @region handling: handling_region_code
-- @date received_at in the period; closure counted up to the cut-off
-- @numerator (none: the value is a median; numerator is NULL)
-- @denominator closed complaints (投诉, 受理, closed_at present)
-- @zh 投诉办结用时中位数（工作日）= 已办结受理投诉自登记至办结的工作日数的中位数
-- @en Median working days from receipt (received_at) to closure (closed_at) over closed accepted complaints
--     (PERCENTILE_CONT 0.5, i.e. the mean of the two middle values for an even count)
SELECT 'median_working_days_to_close', u.unit_code,
       CAST(NULL AS DOUBLE),
       CAST(COALESCE(h.median_working_days_to_close__den, 0) AS DOUBLE),
       CAST(h.median_working_days_to_close__value AS DOUBLE),
       COALESCE(h.median_working_days_to_close__den, 0)
FROM u LEFT JOIN h ON h.unit_code = u.unit_code

UNION ALL
-- the scope-wide median (region_code NULL): target of the small-count shrinkage
SELECT 'median_working_days_to_close', CAST(NULL AS VARCHAR),
       CAST(NULL AS DOUBLE),
       CAST(COUNT(*) AS DOUBLE),
       CAST(percentile_cont(0.5) WITHIN GROUP (ORDER BY wd_to_close) AS DOUBLE),
       COUNT(*)
FROM ind_complaint_records
WHERE handling_unit IS NOT NULL AND median_working_days_to_close__den = 1

UNION ALL
-- @indicator closure_rate
-- @kind share
-- @region handling: handling_region_code
-- @date received_at in the period; closure counted up to the cut-off
-- @numerator accepted complaints with closed_at present (办结)
-- @denominator 投诉 with accept_decision 受理 whose handling period has ended by the cut-off: closed, or
--     accepted more than 45 working days before it (Order No. 20 Art. 21); the others are 在办, not counted
-- @zh 投诉办结率 = 已办结的受理投诉 ÷ 处理期限已届满（或已办结）的受理投诉；截止日仍在法定处理期限内的投诉为“在办”，
--     不计入（常工商消〔2018〕1号“办结率100%”）
-- @en Closure rate: accepted complaints closed / accepted complaints whose handling period (45 working days
--     after acceptance) has ended by the cut-off, or that are closed; those still within it are in progress
SELECT 'closure_rate', u.unit_code,
       CAST(COALESCE(h.closure_rate__num, 0) AS DOUBLE),
       CAST(COALESCE(h.closure_rate__den, 0) AS DOUBLE),
       CASE WHEN h.closure_rate__den > 0 THEN CAST(h.closure_rate__num AS DOUBLE) / h.closure_rate__den END,
       COALESCE(h.closure_rate__den, 0)
FROM u LEFT JOIN h ON h.unit_code = u.unit_code

UNION ALL
-- @indicator mediation_success_rate
-- @kind share
-- @region handling: handling_region_code
-- @date received_at in the period
-- @numerator closed complaints with mediation_result 达成调解协议 / 协商和解成功
-- @denominator closed complaints (投诉, 受理, closed_at present) with a mediation_result
-- @zh 投诉调解成功率 =（达成调解协议 + 协商和解成功）÷ 有调解结果的已办结投诉
-- @en Mediation success: closed complaints with 达成调解协议 or 协商和解成功 / closed complaints with a mediation result
SELECT 'mediation_success_rate', u.unit_code,
       CAST(COALESCE(h.mediation_success_rate__num, 0) AS DOUBLE),
       CAST(COALESCE(h.mediation_success_rate__den, 0) AS DOUBLE),
       CASE WHEN h.mediation_success_rate__den > 0
            THEN CAST(h.mediation_success_rate__num AS DOUBLE) / h.mediation_success_rate__den END,
       COALESCE(h.mediation_success_rate__den, 0)
FROM u LEFT JOIN h ON h.unit_code = u.unit_code

UNION ALL
-- @indicator satisfaction_rate
-- @kind share
-- @region handling: handling_region_code
-- @date received_at in the period
-- @numerator records rated 满意 or 基本满意 at the callback
-- @denominator records of any type with a callback (satisfaction 满意 / 基本满意 / 不满意; 未回访 and empty excluded)
-- @zh 消费者满意率 =（满意 + 基本满意）÷ 已回访诉求（不含未回访）
-- @en Satisfaction: callbacks rated 满意 or 基本满意 / callbacks done (未回访 excluded), all record types
SELECT 'satisfaction_rate', u.unit_code,
       CAST(COALESCE(h.satisfaction_rate__num, 0) AS DOUBLE),
       CAST(COALESCE(h.satisfaction_rate__den, 0) AS DOUBLE),
       CASE WHEN h.satisfaction_rate__den > 0
            THEN CAST(h.satisfaction_rate__num AS DOUBLE) / h.satisfaction_rate__den END,
       COALESCE(h.satisfaction_rate__den, 0)
FROM u LEFT JOIN h ON h.unit_code = u.unit_code

UNION ALL
-- @indicator money_recovery_ratio
-- @kind ratio
-- @region handling: handling_region_code
-- @date received_at in the period
-- @numerator sum of amount_recovered (empty = 0) over closed complaints with amount_disputed > 0 (yuan)
-- @denominator sum of amount_disputed over the same complaints (yuan); record_count = those complaints
-- @zh 挽回经济损失率 = 挽回经济损失合计 ÷ 争议金额合计（有争议金额的已办结投诉）
-- @en Money recovered / money disputed over closed complaints with an amount disputed (can exceed 1: 退一赔三)
SELECT 'money_recovery_ratio', u.unit_code,
       CAST(COALESCE(h.money_recovery_ratio__recovered, 0) AS DOUBLE),
       CAST(COALESCE(h.money_recovery_ratio__disputed, 0) AS DOUBLE),
       CASE WHEN h.money_recovery_ratio__disputed > 0
            THEN CAST(h.money_recovery_ratio__recovered AS DOUBLE) / h.money_recovery_ratio__disputed END,
       COALESCE(h.money_recovery_ratio__den, 0)
FROM u LEFT JOIN h ON h.unit_code = u.unit_code

UNION ALL
-- @indicator complaint_to_case_rate
-- @kind share
-- @region handling: handling_region_code
-- @date received_at in the period
-- @numerator 投诉 and 举报 with case_filed = true (诉转案)
-- @denominator 投诉 and 举报 with case_filed given
-- @zh 诉转案率 = 转为立案查处的投诉和举报 ÷（投诉 + 举报）
-- @en Complaint-to-case rate: complaints and reports that led to a filed case / complaints and reports (target >= 5%)
SELECT 'complaint_to_case_rate', u.unit_code,
       CAST(COALESCE(h.complaint_to_case_rate__num, 0) AS DOUBLE),
       CAST(COALESCE(h.complaint_to_case_rate__den, 0) AS DOUBLE),
       CASE WHEN h.complaint_to_case_rate__den > 0
            THEN CAST(h.complaint_to_case_rate__num AS DOUBLE) / h.complaint_to_case_rate__den END,
       COALESCE(h.complaint_to_case_rate__den, 0)
FROM u LEFT JOIN h ON h.unit_code = u.unit_code

UNION ALL
-- @indicator report_checked_within_15wd_rate
-- @kind share
-- @region handling: handling_region_code
-- @date received_at in the period; the check decision (accepted_at) counted up to the cut-off
-- @numerator 举报 whose check decision (accepted_at: 核查, 立案 / 不予立案) came within 15 working days of receipt
-- @denominator 举报 due: checked, or unchecked when 15 working days had passed at the cut-off
-- @zh 举报按时核查率 = 自登记之日起15个工作日内完成核查的举报 ÷ 应完成核查的举报（《市场监督管理行政处罚程序规定》）
-- @en Reports checked within 15 working days of receipt / reports due (checked, or unchecked past the limit at the
--     cut-off); the approved 15-day extension is not delivered, so it is not granted
SELECT 'report_checked_within_15wd_rate', u.unit_code,
       CAST(COALESCE(h.report_checked_within_15wd_rate__num, 0) AS DOUBLE),
       CAST(COALESCE(h.report_checked_within_15wd_rate__den, 0) AS DOUBLE),
       CASE WHEN h.report_checked_within_15wd_rate__den > 0
            THEN CAST(h.report_checked_within_15wd_rate__num AS DOUBLE) / h.report_checked_within_15wd_rate__den END,
       COALESCE(h.report_checked_within_15wd_rate__den, 0)
FROM u LEFT JOIN h ON h.unit_code = u.unit_code

UNION ALL
-- @indicator report_substantiation_rate
-- @kind share
-- @region handling: handling_region_code
-- @date received_at in the period
-- @numerator 举报 with report_substantiated = true
-- @denominator 举报 checked (report_substantiated given)
-- @zh 举报查实率 = 查实的举报 ÷ 已核查（有查实结论）的举报
-- @en Report substantiation rate: reports found true / reports with a finding
SELECT 'report_substantiation_rate', u.unit_code,
       CAST(COALESCE(h.report_substantiation_rate__num, 0) AS DOUBLE),
       CAST(COALESCE(h.report_substantiation_rate__den, 0) AS DOUBLE),
       CASE WHEN h.report_substantiation_rate__den > 0
            THEN CAST(h.report_substantiation_rate__num AS DOUBLE) / h.report_substantiation_rate__den END,
       COALESCE(h.report_substantiation_rate__den, 0)
FROM u LEFT JOIN h ON h.unit_code = u.unit_code;
