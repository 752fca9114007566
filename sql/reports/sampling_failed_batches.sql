-- Sampling report: every non-conforming (不合格) batch sampled in the window, with its Order No. 18
-- disposal status as of $as_of. Limits come from data_quality.deadlines.DEADLINES (SAMR-18) and are
-- bound as $correction_days (责令改正, Art. 46: 60 days) and $reinspection_days (复查, Art. 47: 75 days),
-- counted in calendar days from the result notice notified_on (the order date is not delivered).
-- A step dated after $as_of counts as not yet done. Status (same words as data_quality.deadlines):
--   unknown       no notified_on, or the step dated before the notice
--   on_time       done within the limit          overdue       done after the limit
--   open          not done, limit not yet passed  open_overdue  not done and the limit has passed
-- Needs the registered view report_unit_map(region_code, unit_code).
-- Parameters: $prefix, $start, $end (sampled_on window), $as_of, $correction_days, $reinspection_days.
WITH f AS (
    SELECT s.sample_id, s.plan_id, s.sampled_on, s.region_code,
           coalesce(u.unit_code, s.region_code)                                     AS unit_code,
           s.venue_type, s.is_online, s.product_category, s.product_name, s.brand,
           s.seller_name, s.seller_uscc, s.manufacturer_name, s.manufacturer_uscc, s.standard_code,
           s.failed_items, s.failed_safety_item, s.failed_label_item,
           s.notified_on, s.stop_sale_on, s.correction_due_on,
           CASE WHEN s.corrected_on <= CAST($as_of AS DATE) THEN s.corrected_on END     AS corrected_on,
           CASE WHEN s.reinspected_on <= CAST($as_of AS DATE) THEN s.reinspected_on END AS reinspected_on,
           CASE WHEN s.reinspected_on <= CAST($as_of AS DATE) THEN s.reinspection_result END AS reinspection_result
    FROM clean.sampling_results s
    LEFT JOIN report_unit_map u ON u.region_code = s.region_code
    WHERE s.region_code LIKE ($prefix || '%')
      AND s.sampled_on >= CAST($start AS DATE) AND s.sampled_on < CAST($end AS DATE)
      AND s.result = '不合格'
), e AS (
    SELECT f.*,
           datediff('day', notified_on, coalesce(corrected_on, CAST($as_of AS DATE)))   AS correction_elapsed,
           datediff('day', notified_on, coalesce(reinspected_on, CAST($as_of AS DATE))) AS reinspection_elapsed
    FROM f
)
SELECT e.*,
       CASE WHEN notified_on IS NULL THEN 'unknown'
            WHEN corrected_on IS NOT NULL AND corrected_on < notified_on THEN 'unknown'
            WHEN corrected_on IS NOT NULL AND correction_elapsed <= $correction_days THEN 'on_time'
            WHEN corrected_on IS NOT NULL THEN 'overdue'
            WHEN correction_elapsed <= $correction_days THEN 'open'
            ELSE 'open_overdue' END                                                  AS correction_status,
       CASE WHEN notified_on IS NULL THEN 'unknown'
            WHEN reinspected_on IS NOT NULL AND reinspected_on < notified_on THEN 'unknown'
            WHEN reinspected_on IS NOT NULL AND reinspection_elapsed <= $reinspection_days THEN 'on_time'
            WHEN reinspected_on IS NOT NULL THEN 'overdue'
            WHEN reinspection_elapsed <= $reinspection_days THEN 'open'
            ELSE 'open_overdue' END                                                  AS reinspection_status,
       CAST(notified_on + INTERVAL ($correction_days) DAY AS DATE)                    AS correction_deadline,
       CAST(notified_on + INTERVAL ($reinspection_days) DAY AS DATE)                  AS reinspection_deadline
FROM e
ORDER BY e.sampled_on, e.sample_id;
