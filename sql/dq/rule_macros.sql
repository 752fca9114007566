-- Helper macros the rulebook's checks (data_quality/rules.yaml) share. TEMP, installed by
-- data_quality.engine.prepare(con) after sql/macros/*.sql, region_codes.sql and deadlines.sql.

-- received ≤ accepted ≤ closed wherever both ends are present. Rules that judge durations
-- (statutory deadlines) only look at rows where this holds: a broken order is the chronology
-- rule's finding, and a second, derived finding would blur which defect the row has.
CREATE OR REPLACE TEMP MACRO complaint_chronology_ok(received, accepted, closed) AS
    coalesce(accepted >= received, TRUE)
    AND coalesce(closed >= accepted, TRUE)
    AND coalesce(closed >= received, TRUE);

-- Similarity 0..1 of two free texts (normalised Levenshtein on bytes; Chinese characters are 3
-- bytes in UTF-8, which keeps the ratio comparable). Used on candidate pairs only.
CREATE OR REPLACE TEMP MACRO dq_text_similarity(a, b) AS
    CASE WHEN a IS NULL OR b IS NULL THEN NULL
         WHEN a = b THEN 1.0
         ELSE 1.0 - levenshtein(a, b) / greatest(strlen(a), strlen(b)) END;

-- Free text that still carries personal numbers after staging's masking: an 18-digit ID-like
-- number or a mainland mobile number.
CREATE OR REPLACE TEMP MACRO dq_has_personal_number(s) AS
    regexp_matches(s, '(^|[^0-9])([0-9]{17}[0-9Xx]|1[3-9][0-9]{9})([^0-9]|$)');

-- Text that was decoded with the wrong encoding: U+FFFD replacement characters or typical
-- GBK-read-as-UTF-8 / UTF-8-read-as-Latin-1 sequences.
CREATE OR REPLACE TEMP MACRO dq_unreadable_text(s) AS
    strpos(s, '�') > 0 OR regexp_matches(s, '(Ã.|â€|å.|æ.|ç.|é.){3,}');
