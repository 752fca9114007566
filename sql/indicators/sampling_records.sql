-- Sampling results behind the sampling indicators: one row per batch of clean.sampling_results
-- SAMPLED in the period (date basis: sampled_on between $period_start and $period_end), attributed
-- to the scope's unit of region_code (the place of sampling). Batches outside the scope are left out.
--
-- Disposal of failed batches, 《产品质量监督抽查管理暂行办法》(总局令第18号) Arts. 46-47: correction
-- within $correction_limit_days (60) and re-inspection within $reinspection_limit_days (75) calendar
-- days, counted from the result notice notified_on (the order date is not a column of the contract;
-- the data-quality gate counts the same way). Calendar days = day_ordinal differences on
-- calendar_days (no dialect-specific date arithmetic). As of the data cut-off $as_of:
--   on time     failed, notified, corrected within 60 days AND re-inspected within 75 days
--   late        failed and either step known to be late: done after its limit, or still missing
--               when its limit has passed at $as_of; a failed batch with no notice date counts as
--               late once 75 days have passed since sampling (the chain never visibly started)
--   due         on time OR late; batches whose steps are still within their limits are not due yet
-- Columns <indicator_id>__den / __num are 1 when the batch is in the denominator / numerator.
-- Parameters: $period_start, $period_end, $as_of (DATE), $correction_limit_days, $reinspection_limit_days.
CREATE OR REPLACE TEMP TABLE ind_sampling_records AS
WITH s AS (
    SELECT s.sample_id, s.plan_id, s.sampled_on, s.region_code, u.unit_code, s.venue_type, s.is_online,
           s.product_category, s.product_name, s.brand, s.seller_name, s.seller_uscc,
           s.manufacturer_name, s.manufacturer_uscc, s.standard_code, s.result, s.failed_items,
           s.failed_safety_item, s.failed_label_item, s.notified_on, s.stop_sale_on, s.correction_due_on,
           s.corrected_on, s.reinspected_on, s.reinspection_result,
           kc.day_ordinal - kn.day_ordinal AS days_to_correction,
           kr.day_ordinal - kn.day_ordinal AS days_to_reinspection,
           ka.day_ordinal - kn.day_ordinal AS days_notice_to_as_of,
           ka.day_ordinal - ks.day_ordinal AS days_sampled_to_as_of
    FROM clean.sampling_results s
    JOIN ind_region_units u ON u.region_code = s.region_code
    LEFT JOIN calendar_days ks ON ks.day = s.sampled_on
    LEFT JOIN calendar_days kn ON kn.day = s.notified_on
    LEFT JOIN calendar_days kc ON kc.day = s.corrected_on
    LEFT JOIN calendar_days kr ON kr.day = s.reinspected_on
    LEFT JOIN calendar_days ka ON ka.day = $as_of
    WHERE s.sampled_on BETWEEN $period_start AND $period_end
), d AS (
    SELECT s.*,
           CASE WHEN result = '不合格' AND notified_on IS NOT NULL
                     AND days_to_correction >= 0 AND days_to_correction <= $correction_limit_days
                     AND days_to_reinspection >= 0 AND days_to_reinspection <= $reinspection_limit_days
                THEN 1 ELSE 0 END AS disposed_on_time,
           CASE WHEN result = '不合格'
                     AND (days_to_correction > $correction_limit_days
                          OR days_to_reinspection > $reinspection_limit_days
                          OR (notified_on IS NOT NULL AND corrected_on IS NULL
                              AND days_notice_to_as_of > $correction_limit_days)
                          OR (notified_on IS NOT NULL AND reinspected_on IS NULL
                              AND days_notice_to_as_of > $reinspection_limit_days)
                          OR (notified_on IS NULL AND days_sampled_to_as_of > $reinspection_limit_days))
                THEN 1 ELSE 0 END AS disposed_late
    FROM s
)
SELECT d.*,
    -- sampling_pass_rate: batches with a conclusion; 合格 ones
    CASE WHEN result IN ('合格', '不合格') THEN 1 ELSE 0 END AS sampling_pass_rate__den,
    CASE WHEN result = '合格' THEN 1 ELSE 0 END AS sampling_pass_rate__num,
    -- key_category_pass_rate: the same within the goods of the five key categories, as mapped by
    -- ind_key_categories (reference/data/key_categories.csv: 家用电子电器 includes 通讯产品; the
    -- service side 有关服务 is not sampled)
    CASE WHEN result IN ('合格', '不合格') AND kk.key_category IS NOT NULL
         THEN 1 ELSE 0 END AS key_category_pass_rate__den,
    CASE WHEN result = '合格' AND kk.key_category IS NOT NULL
         THEN 1 ELSE 0 END AS key_category_pass_rate__num,
    -- failed_disposed_on_time_rate: failed batches due; disposed on time
    CASE WHEN disposed_on_time = 1 OR disposed_late = 1 THEN 1 ELSE 0 END AS failed_disposed_on_time_rate__den,
    disposed_on_time AS failed_disposed_on_time_rate__num,
    -- label_failure_share: failed batches with the label flag given; failing on a labelling item
    CASE WHEN result = '不合格' AND failed_label_item IS NOT NULL THEN 1 ELSE 0 END AS label_failure_share__den,
    CASE WHEN result = '不合格' AND failed_label_item = TRUE THEN 1 ELSE 0 END AS label_failure_share__num
FROM d
LEFT JOIN ind_key_categories kk ON kk.category = d.product_category AND kk.object_type = '商品';
