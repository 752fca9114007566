-- 商品质量抽检结果 raw.sampling_results -> typed rows
-- Reads _staging_source (ingestion.loader.build_staging): raw.sampling_results rows of the partitions being staged.
-- _bad_values lists field=value for every non-empty delivered value that did not parse; such rows
-- become rejects (see complaints.sql).
WITH typed AS (
SELECT
    cei_code(sample_id)             AS sample_id,
    cei_code(plan_id)               AS plan_id,
    cei_date(sampled_on)            AS sampled_on,
    cei_code(region_code)           AS region_code,
    cei_text(venue_type)            AS venue_type,
    cei_bool(is_online)             AS is_online,
    cei_text(product_category)      AS product_category,
    cei_text(product_name)          AS product_name,
    cei_text(brand)                 AS brand,
    cei_text(seller_name)           AS seller_name,
    cei_code(seller_uscc)           AS seller_uscc,
    cei_text(manufacturer_name)     AS manufacturer_name,
    cei_code(manufacturer_uscc)     AS manufacturer_uscc,
    cei_text(standard_code)         AS standard_code,
    cei_text(result)                AS result,
    cei_text(failed_items)          AS failed_items,
    cei_bool(failed_safety_item)    AS failed_safety_item,
    cei_bool(failed_label_item)     AS failed_label_item,
    cei_date(notified_on)           AS notified_on,
    cei_date(stop_sale_on)          AS stop_sale_on,
    cei_date(correction_due_on)     AS correction_due_on,
    cei_date(corrected_on)          AS corrected_on,
    cei_date(reinspected_on)        AS reinspected_on,
    cei_text(reinspection_result)   AS reinspection_result,
    load_id, source_file, source_sha256, source_id, source_row, partition_key, loaded_at,
    sampled_on AS _raw_sampled_on,
    is_online AS _raw_is_online,
    failed_safety_item AS _raw_failed_safety_item,
    failed_label_item AS _raw_failed_label_item,
    notified_on AS _raw_notified_on,
    stop_sale_on AS _raw_stop_sale_on,
    correction_due_on AS _raw_correction_due_on,
    corrected_on AS _raw_corrected_on,
    reinspected_on AS _raw_reinspected_on
FROM _staging_source
)
SELECT * EXCLUDE (_raw_sampled_on, _raw_is_online, _raw_failed_safety_item, _raw_failed_label_item, _raw_notified_on, _raw_stop_sale_on, _raw_correction_due_on, _raw_corrected_on, _raw_reinspected_on),
    list_filter([
        CASE WHEN cei_text(_raw_sampled_on) IS NOT NULL AND sampled_on IS NULL THEN 'sampled_on=' || _raw_sampled_on END,
        CASE WHEN cei_text(_raw_is_online) IS NOT NULL AND is_online IS NULL THEN 'is_online=' || _raw_is_online END,
        CASE WHEN cei_text(_raw_failed_safety_item) IS NOT NULL AND failed_safety_item IS NULL THEN 'failed_safety_item=' || _raw_failed_safety_item END,
        CASE WHEN cei_text(_raw_failed_label_item) IS NOT NULL AND failed_label_item IS NULL THEN 'failed_label_item=' || _raw_failed_label_item END,
        CASE WHEN cei_text(_raw_notified_on) IS NOT NULL AND notified_on IS NULL THEN 'notified_on=' || _raw_notified_on END,
        CASE WHEN cei_text(_raw_stop_sale_on) IS NOT NULL AND stop_sale_on IS NULL THEN 'stop_sale_on=' || _raw_stop_sale_on END,
        CASE WHEN cei_text(_raw_correction_due_on) IS NOT NULL AND correction_due_on IS NULL THEN 'correction_due_on=' || _raw_correction_due_on END,
        CASE WHEN cei_text(_raw_corrected_on) IS NOT NULL AND corrected_on IS NULL THEN 'corrected_on=' || _raw_corrected_on END,
        CASE WHEN cei_text(_raw_reinspected_on) IS NOT NULL AND reinspected_on IS NULL THEN 'reinspected_on=' || _raw_reinspected_on END
    ], lambda f: f IS NOT NULL) AS _bad_values
FROM typed
