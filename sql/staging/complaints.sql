-- raw.complaints -> typed, normalised rows
-- Reads _staging_source (ingestion.loader.build_staging): raw.complaints rows of the partitions being staged.
-- Personal data leaves here: the complainant becomes complainant_key (keyed hash, $pii_key) and
-- phone / ID numbers / the complainant's name are masked inside content; phone and ID numbers are
-- masked in the other free-text fields too (delivered in the wrong column), and a code field
-- holding a whole phone or ID number is masked (cei_code_private); other codes are kept as
-- delivered for the gate to judge.
-- _bad_values lists field=value for every non-empty delivered value that did not parse (typed
-- fields only, never personal data); such rows become rejects.
--
-- Speed (1M records): a regex per field per row is most of the cost. Most rows need no rewriting,
-- so one scan of the ten text fields joined and one of the ten code-like fields decide per row
-- whether any of them does (_text_dirty, _code_dirty); clean rows take nullif(value, ''), which
-- is what cei_text / cei_code return for a value they leave alone. The joined checks are the
-- per-field checks with the field boundaries (chr(31)) standing for ^ and $, so they miss no
-- field that needs rewriting (a stray chr(31) can only make a row take the full path).
WITH src AS (
SELECT *,
    -- cei_text's test, at every field boundary of the joined text, run only on the rows where
    -- _text_flagged found it or a number (one scan of the joined text for both: most rows have neither)
    CASE WHEN _text_flagged
         THEN regexp_matches(_text_joined, '(^|\x1F)\s|\s(\x1F|$)|\s\s|[\t\n\r\x{3000}\x{FF01}-\x{FF5E}]')
         ELSE FALSE END AS _text_dirty,
    -- cei_code's test (no anchors: joining changes nothing)
    regexp_matches(concat_ws(chr(31), record_id, entry_unit_id, handling_region_code, respondent_uscc,
                             respondent_region_code, is_online, settled_by_business, case_filed,
                             report_substantiated), '[\s\x{3000}\x{FF01}-\x{FF5E}]') AS _code_dirty
FROM (SELECT *,
          -- cei_text's test or seven digits close together (pii_re_any_number) anywhere in the joined text
          regexp_matches(_text_joined, '(?:(^|\x1F)\s|\s(\x1F|$)|\s\s|[\t\n\r\x{3000}\x{FF01}-\x{FF5E}])|(?:'
                                       || pii_re_any_number() || ')') AS _text_flagged
      FROM (SELECT *,
                -- the ID number normalised once: the hash, the check and the format all read it
                cei_code(complainant_id_number) AS _id_code,
                concat_ws(chr(31), record_type, channel, accept_decision, respondent_name, object_type, category,
                          problem_type, platform_name, mediation_result, satisfaction) AS _text_joined
            FROM _staging_source))
),
typed AS (
SELECT
    CASE WHEN _code_dirty THEN cei_code(record_id) ELSE nullif(record_id, '') END AS record_id,
    CASE WHEN _text_dirty THEN cei_text(record_type) ELSE nullif(record_type, '') END AS record_type,
    CASE WHEN _text_dirty THEN cei_text(channel) ELSE nullif(channel, '') END AS channel,
    cei_timestamp(received_at)           AS received_at,
    cei_timestamp(accepted_at)           AS accepted_at,
    cei_timestamp(closed_at)             AS closed_at,
    CASE WHEN _text_dirty THEN cei_text(accept_decision) ELSE nullif(accept_decision, '') END AS accept_decision,
    CASE WHEN _code_dirty THEN cei_code(entry_unit_id) ELSE nullif(entry_unit_id, '') END AS entry_unit_id,
    CASE WHEN _code_dirty THEN cei_code(handling_region_code) ELSE nullif(handling_region_code, '') END AS handling_region_code,
    CASE WHEN _text_dirty THEN cei_text(respondent_name) ELSE nullif(respondent_name, '') END AS respondent_name,
    CASE WHEN _code_dirty THEN cei_code(respondent_uscc) ELSE nullif(respondent_uscc, '') END AS respondent_uscc,
    CASE WHEN _code_dirty THEN cei_code(respondent_region_code) ELSE nullif(respondent_region_code, '') END AS respondent_region_code,
    CASE WHEN _text_dirty THEN cei_text(object_type) ELSE nullif(object_type, '') END AS object_type,
    CASE WHEN _text_dirty THEN cei_text(category) ELSE nullif(category, '') END AS category,
    CASE WHEN _text_dirty THEN cei_text(problem_type) ELSE nullif(problem_type, '') END AS problem_type,
    CASE WHEN _code_dirty THEN cei_bool(is_online) ELSE cei_bool_code(nullif(is_online, '')) END AS is_online,
    CASE WHEN _text_dirty THEN cei_text(platform_name) ELSE nullif(platform_name, '') END AS platform_name,
    -- a plain decimal casts directly (what cei_money would cast after removing nothing)
    coalesce(TRY_CAST(amount_disputed AS DECIMAL(14, 2)), CASE WHEN amount_disputed IS NOT NULL THEN cei_money(amount_disputed) END) AS amount_disputed,
    coalesce(TRY_CAST(amount_recovered AS DECIMAL(14, 2)), CASE WHEN amount_recovered IS NOT NULL THEN cei_money(amount_recovered) END) AS amount_recovered,
    CASE WHEN _text_dirty THEN cei_text(mediation_result) ELSE nullif(mediation_result, '') END AS mediation_result,
    CASE WHEN _code_dirty THEN cei_bool(settled_by_business) ELSE cei_bool_code(nullif(settled_by_business, '')) END AS settled_by_business,
    CASE WHEN _code_dirty THEN cei_bool(case_filed) ELSE cei_bool_code(nullif(case_filed, '')) END AS case_filed,
    CASE WHEN _code_dirty THEN cei_bool(report_substantiated) ELSE cei_bool_code(nullif(report_substantiated, '')) END AS report_substantiated,
    CASE WHEN _text_dirty THEN cei_text(satisfaction) ELSE nullif(satisfaction, '') END AS satisfaction,
    cei_keyed_hash($pii_key, cei_identity(complainant_name, complainant_phone, _id_code))
                                         AS complainant_key,
    CASE WHEN _id_code IS NOT NULL
         THEN coalesce(cn_id_is_valid_at(_id_code, cei_timestamp(received_at)), FALSE) END
                                         AS complainant_id_valid,
    cn_id_format(_id_code)               AS complainant_id_format,
    cei_mask_content(content, complainant_name) AS content,
    load_id, source_file, source_sha256, source_id, source_row, partition_key, loaded_at,
    -- a free-text field may hold a phone or ID number (delivered in the wrong column): the scan of
    -- all ten fields for seven digits close together is part of _text_flagged. It reads the
    -- delivered text, so a row whose text is rewritten (_text_dirty: "138\t1234\t5678" becomes
    -- "138 1234 5678") is masked whatever the scan says (_text_dirty implies _text_flagged);
    -- pii_mask_numbers makes its own test on each normalised value.
    _text_flagged AS _mask_text,
    received_at AS _raw_received_at,
    accepted_at AS _raw_accepted_at,
    closed_at AS _raw_closed_at,
    is_online AS _raw_is_online,
    amount_disputed AS _raw_amount_disputed,
    amount_recovered AS _raw_amount_recovered,
    settled_by_business AS _raw_settled_by_business,
    case_filed AS _raw_case_filed,
    report_substantiated AS _raw_report_substantiated
FROM src
)
SELECT * EXCLUDE (_mask_text, _raw_received_at, _raw_accepted_at, _raw_closed_at, _raw_is_online, _raw_amount_disputed, _raw_amount_recovered, _raw_settled_by_business, _raw_case_filed, _raw_report_substantiated)
    REPLACE (
        -- on the column, not inside cei_code(): a macro repeats its argument, cei_code would run 5 times
        cei_code_private(entry_unit_id) AS entry_unit_id,
        cei_code_private(handling_region_code) AS handling_region_code,
        cei_code_private(respondent_uscc) AS respondent_uscc,
        cei_code_private(respondent_region_code) AS respondent_region_code,
        CASE WHEN _mask_text THEN pii_mask_numbers(record_type) ELSE record_type END AS record_type,
        CASE WHEN _mask_text THEN pii_mask_numbers(channel) ELSE channel END AS channel,
        CASE WHEN _mask_text THEN pii_mask_numbers(accept_decision) ELSE accept_decision END AS accept_decision,
        CASE WHEN _mask_text THEN pii_mask_numbers(respondent_name) ELSE respondent_name END AS respondent_name,
        CASE WHEN _mask_text THEN pii_mask_numbers(object_type) ELSE object_type END AS object_type,
        CASE WHEN _mask_text THEN pii_mask_numbers(category) ELSE category END AS category,
        CASE WHEN _mask_text THEN pii_mask_numbers(problem_type) ELSE problem_type END AS problem_type,
        CASE WHEN _mask_text THEN pii_mask_numbers(platform_name) ELSE platform_name END AS platform_name,
        CASE WHEN _mask_text THEN pii_mask_numbers(mediation_result) ELSE mediation_result END AS mediation_result,
        CASE WHEN _mask_text THEN pii_mask_numbers(satisfaction) ELSE satisfaction END AS satisfaction),
    -- a typed field that came out NULL from a non-NULL delivered value is the only way a row has
    -- a bad value: that cheap test comes first, the list is built for those rows only
    CASE WHEN (received_at IS NULL AND _raw_received_at IS NOT NULL)
           OR (accepted_at IS NULL AND _raw_accepted_at IS NOT NULL)
           OR (closed_at IS NULL AND _raw_closed_at IS NOT NULL)
           OR (is_online IS NULL AND _raw_is_online IS NOT NULL)
           OR (amount_disputed IS NULL AND _raw_amount_disputed IS NOT NULL)
           OR (amount_recovered IS NULL AND _raw_amount_recovered IS NOT NULL)
           OR (settled_by_business IS NULL AND _raw_settled_by_business IS NOT NULL)
           OR (case_filed IS NULL AND _raw_case_filed IS NOT NULL)
           OR (report_substantiated IS NULL AND _raw_report_substantiated IS NOT NULL)
    THEN list_filter([
        CASE WHEN cei_text(_raw_received_at) IS NOT NULL AND received_at IS NULL THEN 'received_at=' || _raw_received_at END,
        CASE WHEN cei_text(_raw_accepted_at) IS NOT NULL AND accepted_at IS NULL THEN 'accepted_at=' || _raw_accepted_at END,
        CASE WHEN cei_text(_raw_closed_at) IS NOT NULL AND closed_at IS NULL THEN 'closed_at=' || _raw_closed_at END,
        CASE WHEN cei_text(_raw_is_online) IS NOT NULL AND is_online IS NULL THEN 'is_online=' || _raw_is_online END,
        CASE WHEN cei_text(_raw_amount_disputed) IS NOT NULL AND amount_disputed IS NULL THEN 'amount_disputed=' || _raw_amount_disputed END,
        CASE WHEN cei_text(_raw_amount_recovered) IS NOT NULL AND amount_recovered IS NULL THEN 'amount_recovered=' || _raw_amount_recovered END,
        CASE WHEN cei_text(_raw_settled_by_business) IS NOT NULL AND settled_by_business IS NULL THEN 'settled_by_business=' || _raw_settled_by_business END,
        CASE WHEN cei_text(_raw_case_filed) IS NOT NULL AND case_filed IS NULL THEN 'case_filed=' || _raw_case_filed END,
        CASE WHEN cei_text(_raw_report_substantiated) IS NOT NULL AND report_substantiated IS NULL THEN 'report_substantiated=' || _raw_report_substantiated END
    ], lambda f: f IS NOT NULL)
    ELSE []::VARCHAR[] END AS _bad_values
FROM typed
