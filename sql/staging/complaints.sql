-- raw.complaints -> typed, normalised rows
-- Reads _staging_source (ingestion.loader.build_staging): raw.complaints rows of the partitions being staged.
-- Personal data leaves here: the complainant becomes complainant_key (keyed hash, $pii_key) and
-- phone / ID numbers / the complainant's name are masked inside content; phone and ID numbers are
-- masked in the other free-text fields too (delivered in the wrong column), and a code field
-- holding a whole phone or ID number is masked (cei_code_private); other codes are kept as
-- delivered for the gate to judge.
-- _bad_values lists field=value for every non-empty delivered value that did not parse (typed
-- fields only, never personal data); such rows become rejects.
WITH typed AS (
SELECT
    cei_code(record_id)                  AS record_id,
    cei_text(record_type)                AS record_type,
    cei_text(channel)                    AS channel,
    cei_timestamp(received_at)           AS received_at,
    cei_timestamp(accepted_at)           AS accepted_at,
    cei_timestamp(closed_at)             AS closed_at,
    cei_text(accept_decision)            AS accept_decision,
    cei_code(entry_unit_id)              AS entry_unit_id,
    cei_code(handling_region_code)       AS handling_region_code,
    cei_text(respondent_name)            AS respondent_name,
    cei_code(respondent_uscc)            AS respondent_uscc,
    cei_code(respondent_region_code)     AS respondent_region_code,
    cei_text(object_type)                AS object_type,
    cei_text(category)                   AS category,
    cei_text(problem_type)               AS problem_type,
    cei_bool(is_online)                  AS is_online,
    cei_text(platform_name)              AS platform_name,
    cei_money(amount_disputed)           AS amount_disputed,
    cei_money(amount_recovered)          AS amount_recovered,
    cei_text(mediation_result)           AS mediation_result,
    cei_bool(settled_by_business)        AS settled_by_business,
    cei_bool(case_filed)                 AS case_filed,
    cei_bool(report_substantiated)       AS report_substantiated,
    cei_text(satisfaction)               AS satisfaction,
    cei_keyed_hash($pii_key, cei_identity(complainant_name, complainant_phone, _id_code))
                                         AS complainant_key,
    CASE WHEN _id_code IS NOT NULL
         THEN coalesce(cn_id_is_valid_at(_id_code, cei_timestamp(received_at)), FALSE) END
                                         AS complainant_id_valid,
    cn_id_format(_id_code)               AS complainant_id_format,
    cei_mask_content(content, complainant_name) AS content,
    load_id, source_file, source_sha256, source_id, source_row, partition_key, loaded_at,
    -- any free-text field holding seven digits close together (a phone or ID number delivered in
    -- the wrong column): one scan of all ten fields, the masking runs on those rows only
    regexp_matches(concat_ws(chr(31), record_type, channel, accept_decision, respondent_name, object_type, category,
                             problem_type, platform_name, mediation_result, satisfaction), pii_re_any_number()) AS _numbers_in_text,
    received_at AS _raw_received_at,
    accepted_at AS _raw_accepted_at,
    closed_at AS _raw_closed_at,
    is_online AS _raw_is_online,
    amount_disputed AS _raw_amount_disputed,
    amount_recovered AS _raw_amount_recovered,
    settled_by_business AS _raw_settled_by_business,
    case_filed AS _raw_case_filed,
    report_substantiated AS _raw_report_substantiated
-- the ID number normalised once: the hash, the check and the format all read it
FROM (SELECT *, cei_code(complainant_id_number) AS _id_code FROM _staging_source)
)
SELECT * EXCLUDE (_numbers_in_text, _raw_received_at, _raw_accepted_at, _raw_closed_at, _raw_is_online, _raw_amount_disputed, _raw_amount_recovered, _raw_settled_by_business, _raw_case_filed, _raw_report_substantiated)
    REPLACE (
        -- on the column, not inside cei_code(): a macro repeats its argument, cei_code would run 5 times
        cei_code_private(entry_unit_id) AS entry_unit_id,
        cei_code_private(handling_region_code) AS handling_region_code,
        cei_code_private(respondent_uscc) AS respondent_uscc,
        cei_code_private(respondent_region_code) AS respondent_region_code,
        CASE WHEN _numbers_in_text THEN pii_mask_numbers(record_type) ELSE record_type END AS record_type,
        CASE WHEN _numbers_in_text THEN pii_mask_numbers(channel) ELSE channel END AS channel,
        CASE WHEN _numbers_in_text THEN pii_mask_numbers(accept_decision) ELSE accept_decision END AS accept_decision,
        CASE WHEN _numbers_in_text THEN pii_mask_numbers(respondent_name) ELSE respondent_name END AS respondent_name,
        CASE WHEN _numbers_in_text THEN pii_mask_numbers(object_type) ELSE object_type END AS object_type,
        CASE WHEN _numbers_in_text THEN pii_mask_numbers(category) ELSE category END AS category,
        CASE WHEN _numbers_in_text THEN pii_mask_numbers(problem_type) ELSE problem_type END AS problem_type,
        CASE WHEN _numbers_in_text THEN pii_mask_numbers(platform_name) ELSE platform_name END AS platform_name,
        CASE WHEN _numbers_in_text THEN pii_mask_numbers(mediation_result) ELSE mediation_result END AS mediation_result,
        CASE WHEN _numbers_in_text THEN pii_mask_numbers(satisfaction) ELSE satisfaction END AS satisfaction),
    list_filter([
        CASE WHEN cei_text(_raw_received_at) IS NOT NULL AND received_at IS NULL THEN 'received_at=' || _raw_received_at END,
        CASE WHEN cei_text(_raw_accepted_at) IS NOT NULL AND accepted_at IS NULL THEN 'accepted_at=' || _raw_accepted_at END,
        CASE WHEN cei_text(_raw_closed_at) IS NOT NULL AND closed_at IS NULL THEN 'closed_at=' || _raw_closed_at END,
        CASE WHEN cei_text(_raw_is_online) IS NOT NULL AND is_online IS NULL THEN 'is_online=' || _raw_is_online END,
        CASE WHEN cei_text(_raw_amount_disputed) IS NOT NULL AND amount_disputed IS NULL THEN 'amount_disputed=' || _raw_amount_disputed END,
        CASE WHEN cei_text(_raw_amount_recovered) IS NOT NULL AND amount_recovered IS NULL THEN 'amount_recovered=' || _raw_amount_recovered END,
        CASE WHEN cei_text(_raw_settled_by_business) IS NOT NULL AND settled_by_business IS NULL THEN 'settled_by_business=' || _raw_settled_by_business END,
        CASE WHEN cei_text(_raw_case_filed) IS NOT NULL AND case_filed IS NULL THEN 'case_filed=' || _raw_case_filed END,
        CASE WHEN cei_text(_raw_report_substantiated) IS NOT NULL AND report_substantiated IS NULL THEN 'report_substantiated=' || _raw_report_substantiated END
    ], lambda f: f IS NOT NULL) AS _bad_values
FROM typed
