-- KPI scorecard (DESIGN §5.5): the counts behind the 12315 KPIs per reporting unit.
-- The KPI formulas (which count over which) and targets live in reports/kpi.py (KPIS); this file
-- only counts. Records are assigned to the period by received_at (cohort).
--   complaints_and_reports  投诉 + 举报
--   cases_filed             投诉/举报 with case_filed (诉转案)
--   accepted                投诉 with accept_decision = 受理
--   closed                  accepted 投诉 with closed_at (办结)
--   mediation_success       closed accepted 投诉 with mediation_result 达成调解协议 / 协商和解成功
--                           (= ingestion.schema.MEDIATION_SUCCESS)
--   callbacks               records with a callback rating 满意 / 基本满意 / 不满意 (未回访 and NULL excluded)
--   satisfied               callbacks rated 满意 or 基本满意
-- Needs the registered view report_unit_map(region_code, unit_code).
-- Parameters: $prefix (scope, on handling_region_code), $start, $end (received_at window).
SELECT coalesce(u.unit_code, c.handling_region_code)                                        AS unit_code,
       count(*)                                                                              AS records,
       sum(CASE WHEN c.record_type = '投诉' THEN 1 ELSE 0 END)                               AS complaints,
       sum(CASE WHEN c.record_type = '举报' THEN 1 ELSE 0 END)                               AS reports,
       sum(CASE WHEN c.record_type IN ('投诉', '举报') THEN 1 ELSE 0 END)                     AS complaints_and_reports,
       sum(CASE WHEN c.record_type IN ('投诉', '举报') AND c.case_filed THEN 1 ELSE 0 END)    AS cases_filed,
       sum(CASE WHEN c.record_type = '投诉' AND c.accept_decision = '受理' THEN 1 ELSE 0 END) AS accepted,
       sum(CASE WHEN c.record_type = '投诉' AND c.accept_decision = '受理'
                 AND c.closed_at IS NOT NULL THEN 1 ELSE 0 END)                              AS closed,
       sum(CASE WHEN c.record_type = '投诉' AND c.accept_decision = '受理' AND c.closed_at IS NOT NULL
                 AND c.mediation_result IN ('达成调解协议', '协商和解成功') THEN 1 ELSE 0 END) AS mediation_success,
       sum(CASE WHEN c.satisfaction IN ('满意', '基本满意', '不满意') THEN 1 ELSE 0 END)      AS callbacks,
       sum(CASE WHEN c.satisfaction IN ('满意', '基本满意') THEN 1 ELSE 0 END)                AS satisfied
FROM clean.complaints c
LEFT JOIN report_unit_map u ON u.region_code = c.handling_region_code
WHERE c.handling_region_code LIKE ($prefix || '%')
  AND c.received_at >= $start AND c.received_at < $end
GROUP BY coalesce(u.unit_code, c.handling_region_code);
