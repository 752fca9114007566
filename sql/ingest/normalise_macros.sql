-- Staging normalisation macros (DuckDB). Used by sql/staging/*.sql.
-- Delivered values arrive as text; these turn them into typed values the same way for every file.
-- TEMP macros: they belong to the connection, so the warehouse file never depends on this file.

-- Full-width ASCII (Ａ１，etc.) and the ideographic space to their half-width forms, so codes,
-- numbers and dates typed on a Chinese IME compare equal to plain ones.
-- translate() is slow on long maps, so it runs only on values that hold a full-width character.
CREATE OR REPLACE TEMP MACRO cei_halfwidth(s) AS CASE WHEN regexp_matches(s, '[\x{3000}\x{FF01}-\x{FF5E}]') THEN translate(
    s,
    '　！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～',
    ' !"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~'
) ELSE s END;

-- Text field: half-width, whitespace runs collapsed, trimmed, empty -> NULL.
-- Most values need none of it: one regex test decides, the rewriting runs only when it must.
CREATE OR REPLACE TEMP MACRO cei_text(s) AS nullif(CASE
    WHEN regexp_matches(s, '^\s|\s$|\s\s|[\t\n\r\x{3000}\x{FF01}-\x{FF5E}]')
        THEN trim(regexp_replace(cei_halfwidth(s), '\s+', ' ', 'g'))
    ELSE s END, '');

-- Code field (region codes, USCC, ids): half-width, every space removed. Case is kept: GB 32100
-- allows upper case only, and the data-quality gate must see what was delivered.
CREATE OR REPLACE TEMP MACRO cei_code(s) AS nullif(CASE
    WHEN regexp_matches(s, '[\s\x{3000}\x{FF01}-\x{FF5E}]') THEN regexp_replace(cei_halfwidth(s), '\s+', '', 'g')
    ELSE s END, '');

-- Dates as bureaus type them: 2025-03-05, 2025/3/5, 2025.3.5, 2025年3月5日, 20250305, with an
-- optional time (09:05, 9:05:33, 9时5分). Unparseable -> NULL (the caller turns that into a reject).
CREATE OR REPLACE TEMP MACRO cei_date_text(s) AS
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        trim(cei_halfwidth(s)),
        '(\d{4})年(\d{1,2})月(\d{1,2})日?', '\1-\2-\3'),
        '^(\d{4})[/.](\d{1,2})[/.](\d{1,2})', '\1-\2-\3'),
        '(\d{1,2})时(\d{1,2})分((\d{1,2})秒)?', '\1:\2:\4'),
        '[T ]+', ' ', 'g');

-- The common ISO forms parse directly; only the rest go through the (slower) rewriting.
CREATE OR REPLACE TEMP MACRO cei_timestamp(s) AS coalesce(
    try_strptime(s, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d', '%Y-%m-%d %H:%M']),
    CASE WHEN s IS NOT NULL THEN try_strptime(
        regexp_replace(cei_date_text(s), ':$', ''),
        ['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M', '%Y-%m-%d', '%Y%m%d', '%Y-%m-%d %H:%M:%S.%f']) END
);

CREATE OR REPLACE TEMP MACRO cei_date(s) AS CAST(cei_timestamp(s) AS DATE);

-- Month of a statistics row: 2025-03, 2025年3月, 202503, or a full date.
CREATE OR REPLACE TEMP MACRO cei_month(s) AS CAST(coalesce(
    try_strptime(regexp_replace(regexp_replace(trim(cei_halfwidth(s)), '^(\d{4})年(\d{1,2})月?$', '\1-\2'),
                                '^(\d{4})[-/.]?(\d{1,2})$', '\1-\2-1'), '%Y-%m-%d'),
    cei_timestamp(s)) AS DATE);

-- Money: "1,234.50元", "￥1234.5", " 1 234 " -> DECIMAL(14,2).
CREATE OR REPLACE TEMP MACRO cei_money(s) AS TRY_CAST(
    nullif(regexp_replace(cei_halfwidth(s), '[,\s元¥￥]|RMB|CNY', '', 'g'), '') AS DECIMAL(14, 2));

CREATE OR REPLACE TEMP MACRO cei_int(s) AS TRY_CAST(
    nullif(regexp_replace(cei_halfwidth(s), '[,\s]', '', 'g'), '') AS BIGINT);

-- Rates may come as 0.87, 87%, 87.0% -> a fraction.
CREATE OR REPLACE TEMP MACRO cei_double(s) AS CASE
    WHEN regexp_matches(cei_halfwidth(s), '%\s*$')
        THEN TRY_CAST(regexp_replace(cei_halfwidth(s), '[,%\s]', '', 'g') AS DOUBLE) / 100
    ELSE TRY_CAST(nullif(regexp_replace(cei_halfwidth(s), '[,\s]', '', 'g'), '') AS DOUBLE) END;

-- Yes/no as bureaus write it -> BOOLEAN. cei_bool_code takes a value already through cei_code
-- (staging.complaints skips cei_code's regex on rows that need no normalising).
CREATE OR REPLACE TEMP MACRO cei_bool_code(c) AS CASE lower(c)
    WHEN '是' THEN TRUE WHEN 'y' THEN TRUE WHEN 'yes' THEN TRUE WHEN 'true' THEN TRUE WHEN '1' THEN TRUE WHEN '有' THEN TRUE
    WHEN '否' THEN FALSE WHEN 'n' THEN FALSE WHEN 'no' THEN FALSE WHEN 'false' THEN FALSE WHEN '0' THEN FALSE WHEN '无' THEN FALSE
    END;
CREATE OR REPLACE TEMP MACRO cei_bool(s) AS cei_bool_code(cei_code(s));

-- A non-empty delivered value that did not parse: the field is named in the reject.
CREATE OR REPLACE TEMP MACRO cei_unparsed(raw, parsed) AS (cei_text(raw) IS NOT NULL AND parsed IS NULL);

-- Mask personal data inside free text (诉求内容): ID numbers, mobile and landline numbers in
-- every written form (pii_mask_numbers, sql/macros/codes.sql: both digit widths are matched, so
-- the text itself is not rewritten), then the complainant's own name when the row carries it.
--
-- Whitespace runs become one space. One regex scan per row decides whether the row needs any
-- rewriting (whitespace or a number); most rows need none. Plain nested expressions: a scalar
-- subquery per row was 5x slower. A name shorter than two characters is not masked (it would
-- blank common characters): it is swapped for a sentinel that never occurs in text, so replace()
-- leaves the content as it is.
CREATE OR REPLACE TEMP MACRO cei_mask_content(s, person_name) AS nullif(trim(replace(
    CASE WHEN regexp_matches(s, '[\t\n\r\f\v]|\s\s|' || pii_re_any_number())
         THEN pii_mask_numbers_all(regexp_replace(s, '\s+', ' ', 'g'))
         ELSE s END,
    CASE WHEN length(trim(person_name)) >= 2 THEN trim(person_name) ELSE chr(1) || chr(2) END,
    '[姓名]')), '');

-- A code field (USCC, region code, entry unit) holding a whole mobile or citizen ID number instead
-- (a column slip) is masked: the gate still sees an invalid code, and no personal number reaches
-- staging. Only values of those lengths reach a regex; a valid USCC is kept, also when it happens
-- to be all digits.
CREATE OR REPLACE TEMP MACRO cei_code_private(v) AS CASE
    WHEN length(v) BETWEEN 11 AND 14 AND regexp_full_match(v, '(\+?86)?1[3-9][0-9]{9}') THEN '[手机号码]'
    -- (the cast is a cheap test that the first 15 characters are digits: USCCs stop there)
    WHEN length(v) IN (15, 18) AND TRY_CAST(substr(v, 1, 15) AS BIGINT) IS NOT NULL AND coalesce(cn_id_is_valid(v), FALSE)
         AND NOT coalesce(uscc_is_valid(v), FALSE) THEN '[证件号码]'
    ELSE v END;

-- Keyed hash of the complainant's identity (ID number if well-shaped, 18 or 15 digits, else phone,
-- else name). The ID number is passed through cei_code() by the caller.
-- sha256(key || sha256(key || x)): the nested form is not open to length extension, and
-- without the key the hash cannot be recomputed from a guessed identity.
CREATE OR REPLACE TEMP MACRO cei_identity(name, phone, id_number) AS coalesce(
    -- 15-digit numbers in their 18-digit form: one person, one key across card generations;
    -- id_number comes normalised by cei_code() (staging does it once for all its uses)
    'id:' || cn_id_to_18(id_number),
    CASE WHEN length(regexp_replace(cei_halfwidth(phone), '\D', '', 'g')) >= 7
         THEN 'tel:' || right(regexp_replace(cei_halfwidth(phone), '\D', '', 'g'), 11) END,
    CASE WHEN cei_text(name) IS NOT NULL THEN 'name:' || cei_text(name) END);

CREATE OR REPLACE TEMP MACRO cei_keyed_hash(k, x) AS CASE WHEN x IS NOT NULL THEN sha256(k || sha256(k || x)) END;

-- The partition a delivered row belongs to: its month (YYYY-MM) for records, sampling results and
-- hotline statistics, its year (YYYY) for region profiles. NULL = the row cannot be placed.
CREATE OR REPLACE TEMP MACRO cei_partition_key(table_name, v) AS CASE table_name
    WHEN 'complaints'       THEN strftime(cei_timestamp(v), '%Y-%m')
    WHEN 'sampling_results' THEN strftime(cei_date(v), '%Y-%m')
    WHEN 'hotline_stats'    THEN strftime(cei_month(v), '%Y-%m')
    WHEN 'region_profiles'  THEN CASE WHEN cei_int(v) BETWEEN 1949 AND 2100 THEN CAST(cei_int(v) AS VARCHAR) END
    END;
