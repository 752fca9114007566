-- Drill-down record lists of a sampling indicator: the batches that matter (in_focus = 1, see
-- sampling_breakdown_members.sql) of every unit, as summaries in the columns of
-- complaints_breakdown_focus.sql — id, date sampled, product category, failed items, disposal status,
-- calendar days from the result notice to correction / re-inspection, the manufacturer (a business) and
-- the product named (product, brand); numbers that look like phone or ID numbers are masked (the
-- delivered text is free text). Only the first $max_rows of a unit are read and masked (the
-- lists are capped: reports.drilldown.LIST_ROWS); n_focus counts them all. Parameters: $excerpt_chars, $max_rows.
SELECT m.unit, m.n_focus, m.sample_id AS id, m.sampled_on AS day, m.result AS kind, NULL AS object_type,
       m.product_category AS category,
       substr(pii_mask_numbers(m.failed_items), 1, 2 * $excerpt_chars) AS problem,
       CASE WHEN m.result = '合格' THEN 'passed'
            WHEN m.disposed_on_time = 1 THEN 'disposed_on_time'
            WHEN m.disposed_late = 1 THEN 'disposed_late'
            WHEN m.result = '不合格' THEN 'disposal_pending'
            ELSE 'no_result' END AS status,
       m.days_to_correction AS days_first, m.days_to_reinspection AS days_second,
       m.manufacturer_name AS party,
       substr(pii_mask_numbers(concat_ws(' · ', m.product_name, m.brand)), 1, 2 * $excerpt_chars) AS excerpt
FROM (SELECT *, row_number() OVER (PARTITION BY unit ORDER BY sort_on, sort_id) AS row_in_unit,
             count(*) OVER (PARTITION BY unit) AS n_focus
      FROM ind_breakdown_members WHERE in_focus = 1) m
WHERE m.row_in_unit <= $max_rows
ORDER BY m.unit, m.sort_on, m.sort_id;
