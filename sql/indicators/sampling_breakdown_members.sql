-- Drill-down, every unit at once: the sampled batches behind one sampling indicator
-- ($indicator_id) for every unit of the scope, as a work table (see
-- complaints_breakdown_members.sql; one unit's batches: breakdown_unit_records.sql). Batches in the
-- indicator's denominator, in_numerator = 1 when they also count in the numerator; sort_on / sort_id
-- give the order of the lists (sampled_on, sample_id).
-- in_focus = 1 marks the batches that matter to someone acting on the value: for the pass rates the
-- failed batches, for the disposal rate the failed batches disposed late (or not at all), for the
-- label-failure share (lower is better) the batches failing on a labelling item.
-- Parameters: $indicator_id.
CREATE OR REPLACE TEMP TABLE ind_breakdown_members AS
SELECT r.unit_code AS unit, r.sampled_on AS sort_on, r.sample_id AS sort_id,
       r.sample_id, r.plan_id, r.sampled_on, r.region_code, r.venue_type, r.is_online, r.product_category,
       r.product_name, r.brand, r.seller_name, r.seller_uscc, r.manufacturer_name, r.manufacturer_uscc,
       r.standard_code, r.result, r.failed_items, r.failed_safety_item, r.failed_label_item, r.notified_on,
       r.stop_sale_on, r.correction_due_on, r.corrected_on, r.reinspected_on, r.reinspection_result,
       r.days_to_correction, r.days_to_reinspection, r.disposed_on_time, r.disposed_late,
       CASE $indicator_id
           WHEN 'sampling_pass_rate' THEN r.sampling_pass_rate__num
           WHEN 'key_category_pass_rate' THEN r.key_category_pass_rate__num
           WHEN 'failed_disposed_on_time_rate' THEN r.failed_disposed_on_time_rate__num
           WHEN 'label_failure_share' THEN r.label_failure_share__num
       END AS in_numerator,
       CASE $indicator_id
           WHEN 'sampling_pass_rate' THEN 1 - r.sampling_pass_rate__num
           WHEN 'key_category_pass_rate' THEN 1 - r.key_category_pass_rate__num
           WHEN 'failed_disposed_on_time_rate' THEN 1 - r.failed_disposed_on_time_rate__num
           WHEN 'label_failure_share' THEN r.label_failure_share__num
       END AS in_focus
FROM ind_sampling_records r
WHERE r.unit_code IS NOT NULL
  AND (CASE $indicator_id
           WHEN 'sampling_pass_rate' THEN r.sampling_pass_rate__den
           WHEN 'key_category_pass_rate' THEN r.key_category_pass_rate__den
           WHEN 'failed_disposed_on_time_rate' THEN r.failed_disposed_on_time_rate__den
           WHEN 'label_failure_share' THEN r.label_failure_share__den
       END) = 1;
