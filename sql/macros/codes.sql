-- Identifier-code macros for the data-quality gate (DuckDB SQL, vectorised).
--
-- Loaded by data_quality/sql_macros.py:install_macros(con). They are TEMP macros on purpose:
-- they live in the connection, not in the warehouse catalog, so they also work on read-only
-- connections and a warehouse file never depends on one version of this file.
--
-- NULL semantics: every *_is_valid macro returns NULL for a NULL input, so "missing" and
-- "malformed" stay two different rules (missing_required vs uscc_check); write
-- "NOT coalesce(uscc_is_valid(x), TRUE)" to select malformed non-null values.
--
-- The sums are unrolled (plain arithmetic, portable to other SQL engines) instead of list_sum over
-- range(1, 18); on 1M codes the two take 0.8 s vs 0.95 s (python -m data_quality.benchmark), and
-- python-stdnum row by row about 20 s.
-- CASE is evaluated lazily per row in DuckDB, so the arithmetic runs only on rows whose
-- format is already right (no error on odd characters, no wasted work).

-- ------------------------------------------------------------------------------------------
-- GB 32100-2015 统一社会信用代码 (unified social credit code, USCC)
--   pos 1 登记管理部门码, pos 2 机构类别码, pos 3–8 登记管理机关行政区划码 (GB/T 2260, digits),
--   pos 9–17 主体标识码 (组织机构代码, GB 11714), pos 18 校验码.
--   Character set 0123456789ABCDEFGHJKLMNPQRTUWXY (values 0–30; no I, O, S, V, Z).
--   Upper case only: the standard defines upper-case characters and a lower-case code is a
--   non-conforming entry (规范性). python-stdnum upper-cases before checking; we do not.
--   Positions 1–2 may be letters (registration authorities Y, A, N …); python-stdnum requires
--   digits there, the standard does not.
--   Weights for positions 1–17 = 3^(i-1) mod 31; check value = (31 − Σ mod 31) mod 31.
-- ------------------------------------------------------------------------------------------

-- The check character computed from positions 1–17 (no format check; NULL in, NULL out).
CREATE OR REPLACE TEMP MACRO uscc_check_char(s) AS
    substr('0123456789ABCDEFGHJKLMNPQRTUWXY',
           CAST((31 - (
            (instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, 1, 1)) - 1) * 1
            + (instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, 2, 1)) - 1) * 3
            + (instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, 3, 1)) - 1) * 9
            + (instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, 4, 1)) - 1) * 27
            + (instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, 5, 1)) - 1) * 19
            + (instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, 6, 1)) - 1) * 26
            + (instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, 7, 1)) - 1) * 16
            + (instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, 8, 1)) - 1) * 17
            + (instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, 9, 1)) - 1) * 20
            + (instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, 10, 1)) - 1) * 29
            + (instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, 11, 1)) - 1) * 25
            + (instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, 12, 1)) - 1) * 13
            + (instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, 13, 1)) - 1) * 8
            + (instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, 14, 1)) - 1) * 24
            + (instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, 15, 1)) - 1) * 10
            + (instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, 16, 1)) - 1) * 30
            + (instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, 17, 1)) - 1) * 28
           ) % 31) % 31 AS BIGINT) + 1, 1);

CREATE OR REPLACE TEMP MACRO uscc_is_valid(s) AS
    CASE
        WHEN s IS NULL THEN NULL
        WHEN NOT regexp_full_match(s, '[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}') THEN FALSE
        ELSE substr(s, 18, 1) = uscc_check_char(s)
    END;

-- Positions 3–8: the registering authority's GB/T 2260 code (join it with dq.region_code_years
-- to warn on codes no year of GB/T 2260 ever had; the record date does not apply: a code
-- issued in 2010 keeps its region digits after the county is abolished).
CREATE OR REPLACE TEMP MACRO uscc_region_code(s) AS
    CASE WHEN regexp_full_match(s, '[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}')
         THEN substr(s, 3, 6) END;

-- GB 11714 check of the embedded 组织机构代码 (positions 9–17): weights 3,7,9,10,5,8,4,2 on
-- positions 9–16 (digits 0–9, letters A–Z = 10–35), c = 11 − Σ mod 11, 10 → X, 11 → 0.
-- Not part of GB 32100's own check; used by a warn rule only (codes issued by some
-- registration systems before GB 32100 settled do not always satisfy it).
CREATE OR REPLACE TEMP MACRO uscc_org_code_is_valid(s) AS
    CASE
        WHEN s IS NULL THEN NULL
        WHEN NOT regexp_full_match(s, '[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}') THEN FALSE
        ELSE substr(s, 17, 1) = substr('0123456789X0', CAST(11 - (
              (instr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', substr(s, 9, 1)) - 1) * 3
            + (instr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', substr(s, 10, 1)) - 1) * 7
            + (instr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', substr(s, 11, 1)) - 1) * 9
            + (instr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', substr(s, 12, 1)) - 1) * 10
            + (instr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', substr(s, 13, 1)) - 1) * 5
            + (instr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', substr(s, 14, 1)) - 1) * 8
            + (instr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', substr(s, 15, 1)) - 1) * 4
            + (instr('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', substr(s, 16, 1)) - 1) * 2
            ) % 11 AS BIGINT) + 1, 1)
    END;

-- ------------------------------------------------------------------------------------------
-- GB 11643-1999 公民身份号码 (citizen identity number)
--   18 digits: 6-digit address code (GB/T 2260) + birth date YYYYMMDD + 3-digit sequence + check.
--   Weights for positions 1–17 = 2^(17−i) mod 11 (i = 0..16); Σ mod 11 = 0..10 maps to
--   1,0,X,9,8,7,6,5,4,3,2. The check character X may be written x: GB 11643 defines the value
--   (10), people and entry forms write it in either case, so both are valid.
--   15 digits (the first-generation card, 1984–2004; still delivered for people who never
--   renewed): address code + birth date YYMMDD (century 19) + 3-digit sequence, no check character.
--   Both: the address code must start with a province code (GB/T 2260 两位省级代码 11–82, 83 for
--   台湾居民居住证) and the birth date must be a real calendar date not after the reference date.
--   The rest of the address code is not checked (numbers keep the codes of abolished counties;
--   see data_quality/codes.py); the same rules in Python: data_quality.codes.cn_id_is_valid.
-- ------------------------------------------------------------------------------------------

CREATE OR REPLACE TEMP MACRO cn_id_check_char(s) AS
    substr('10X98765432', CAST((
            (ascii(substr(s, 1, 1)) - 48) * 7
            + (ascii(substr(s, 2, 1)) - 48) * 9
            + (ascii(substr(s, 3, 1)) - 48) * 10
            + (ascii(substr(s, 4, 1)) - 48) * 5
            + (ascii(substr(s, 5, 1)) - 48) * 8
            + (ascii(substr(s, 6, 1)) - 48) * 4
            + (ascii(substr(s, 7, 1)) - 48) * 2
            + (ascii(substr(s, 8, 1)) - 48) * 1
            + (ascii(substr(s, 9, 1)) - 48) * 6
            + (ascii(substr(s, 10, 1)) - 48) * 3
            + (ascii(substr(s, 11, 1)) - 48) * 7
            + (ascii(substr(s, 12, 1)) - 48) * 9
            + (ascii(substr(s, 13, 1)) - 48) * 10
            + (ascii(substr(s, 14, 1)) - 48) * 5
            + (ascii(substr(s, 15, 1)) - 48) * 8
            + (ascii(substr(s, 16, 1)) - 48) * 4
            + (ascii(substr(s, 17, 1)) - 48) * 2
           ) % 11 AS BIGINT) + 1, 1);

-- Which generation a well-shaped number is: '18', '15', or NULL (neither shape; NULL in, NULL out).
-- The length test first: most values reach no regex.
CREATE OR REPLACE TEMP MACRO cn_id_format(s) AS
    CASE WHEN length(s) = 18 AND regexp_full_match(s, '[0-9]{17}[0-9Xx]') THEN '18'
         WHEN length(s) = 15 AND regexp_full_match(s, '[0-9]{15}') THEN '15' END;

-- Province part of the address code: 11–15, 21–23, 31–37, 41–46, 50–54, 61–65, 71, 81–83.
CREATE OR REPLACE TEMP MACRO cn_id_province_ok(s) AS
    substr(s, 1, 2) IN ('11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
                        '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64',
                        '65', '71', '81', '82', '83');

-- Birth date of a number already known to be well-shaped (length tells the generation). Before
-- 1800 is no date: try_strptime accepts year 0000, and nobody alive in 1999, when 18-digit
-- numbers were introduced, was born before 1800. 15-digit numbers carry YYMMDD of the 1900s.
CREATE OR REPLACE TEMP MACRO cn_id_birth_date_of_shaped(s) AS
    CASE WHEN length(s) = 18 THEN CASE WHEN substr(s, 7, 4) >= '1800' THEN CAST(try_strptime(substr(s, 7, 8), '%Y%m%d') AS DATE) END
         ELSE CAST(try_strptime('19' || substr(s, 7, 6), '%Y%m%d') AS DATE) END;

-- Birth date (NULL when the value has neither shape or the date part is no real date, e.g.
-- 19990229 or 20011301).
CREATE OR REPLACE TEMP MACRO cn_id_birth_date(s) AS
    CASE WHEN cn_id_format(s) IS NOT NULL THEN cn_id_birth_date_of_shaped(s) END;

-- Valid at a reference date (the record's received date): shape, province, check character
-- (18 digits), birth date a real date on or before ref_date (today when ref_date is NULL).
CREATE OR REPLACE TEMP MACRO cn_id_is_valid_at(s, ref_date) AS
    CASE
        WHEN s IS NULL THEN NULL
        WHEN cn_id_format(s) IS NULL THEN FALSE
        WHEN NOT cn_id_province_ok(s) THEN FALSE
        WHEN length(s) = 18 AND upper(substr(s, 18, 1)) <> cn_id_check_char(s) THEN FALSE
        ELSE coalesce(cn_id_birth_date_of_shaped(s) <= CAST(coalesce(ref_date, current_date) AS DATE), FALSE)
    END;

CREATE OR REPLACE TEMP MACRO cn_id_is_valid(s) AS cn_id_is_valid_at(s, current_date);

-- The 18-digit form of a number (15 digits: century 19 inserted, check character computed;
-- lower-case x upper-cased), so one person keeps one identity across card generations.
-- NULL when the value has neither shape.
CREATE OR REPLACE TEMP MACRO cn_id_to_18(s) AS
    CASE WHEN length(s) = 18 AND regexp_full_match(s, '[0-9]{17}[0-9Xx]') THEN upper(s)
         WHEN length(s) = 15 AND regexp_full_match(s, '[0-9]{15}')
              THEN (substr(s, 1, 6) || '19' || substr(s, 7, 9))
                   || cn_id_check_char(substr(s, 1, 6) || '19' || substr(s, 7, 9))
    END;

-- ------------------------------------------------------------------------------------------
-- Personal numbers written in free text (诉求内容 and any message built from delivered values):
-- citizen ID numbers, mobile numbers, landline numbers. One macro, pii_mask_numbers(s), so
-- staging, reject reasons and data-quality details mask the same way.
--
-- Written forms caught (both half- and full-width digits, e.g. １３８; DuckDB has no NFKC, so the
-- patterns take both widths instead of normalising, and the rest of the text stays as written):
--   mobile   13812345678, 138-1234-5678, 138 1234 5678, 1381 2345 678, 138.1234.5678, a gap
--            (space, dash, dot, full-width or ideographic space, ·) after any digit, with a
--            country prefix +86 / 0086 / 86 / ＋８６ / (+86) or none;
--   landline 010-12345678, 0519 8888 6666, (0519)88886666, （0519）8888-6666, 0519-8888666,
--            +86 519 8888 6666, with an extension (转123, 分机 123, ext. 123, x123, -123);
--            a local number without area code only after a contact word (电话 / 手机 / 座机 /
--            联系方式 / tel / Tel: / phone …): 电话：8888 6666;
--   ID       18 digits (last may be X / x) or 15 digits, plain or with gaps between groups
--            (6-8-4, 6 4 4 4, …). With gaps, the birth-date digits must look like a date
--            (year 18xx/19xx/20xx, month 0x/1x, day 0x–3x) so two numbers side by side are not
--            joined into one; a plain run of exactly 18 or 15 digits is masked whatever it holds.
-- Trade-offs (a missed phone number is worse than a masked ordinary number):
--   * amounts (1,234.50元, 12345.00) and dates (2025-03-05, 20250305) are not masked: they
--     are not 11 digits from 13–19, have no area code starting 0, and bare 7–8 digit runs
--     are only masked after a contact word;
--   * a plain digit run of 16–17 or 19+ digits (order, record, waybill numbers: 订单号
--     20250305123456789012) is kept whole: no phone or ID number is that long. The price: a phone
--     number glued to other digits without any gap (138123456781234) is kept too; bank card
--     numbers (16–19 digits) are not masked either;
--   * an order number of exactly 15 or 18 digits is masked as an ID number, one of 11–14 digits
--     starting 13–19 as a mobile number, one starting 0 + area code as a landline;
--   * a number written right after another one with only a gap between them may be masked
--     together with it; a bare local number with no area code and no contact word is kept.
-- RE2 has no look-around: a number must not continue a digit run, so each pattern starts with
-- the captured non-digit before it (re-emitted as \1); a structured ID or a mobile number
-- swallows the rest of its run (12–15 digits), so no half-masked numbers remain.
-- ------------------------------------------------------------------------------------------

-- Building blocks (constant strings: DuckDB folds them, the regexes compile once per query).
CREATE OR REPLACE TEMP MACRO pii_re_digit() AS '[0-9\x{FF10}-\x{FF19}]';
-- a number starts after a non-digit that is not the long-run marker (below)
CREATE OR REPLACE TEMP MACRO pii_re_before() AS '(^|[^0-9\x{FF10}-\x{FF19}\x{E000}])';
-- a gap inside a number: one separator (dash, dot, slash, bullet, middle dot; optionally spaced) or one or two spaces
CREATE OR REPLACE TEMP MACRO pii_re_gap() AS
    '(?:[ \x{3000}\x{00A0}]?[-./\x{FF0D}\x{FF0E}\x{FF0F}\x{2010}-\x{2015}\x{2212}\x{00B7}\x{2022}\x{2219}\x{22C5}\x{30FB}_][ \x{3000}\x{00A0}]?|[ \x{3000}\x{00A0}]{1,2})?';
-- n digits, a gap allowed before each
CREATE OR REPLACE TEMP MACRO pii_re_digits(n) AS '(?:' || pii_re_gap() || pii_re_digit() || '){' || n || '}';
-- country prefix: +86, 0086, 86, ＋８６, (+86)
CREATE OR REPLACE TEMP MACRO pii_re_country() AS
    '(?:[(\x{FF08}]?(?:[+\x{FF0B}]|00|\x{FF10}\x{FF10})?' || pii_re_gap() || '(?:86|\x{FF18}\x{FF16})[)\x{FF09}]?' || pii_re_gap() || ')';

-- month 01–12 and day 01–31, a gap allowed between the two digits
CREATE OR REPLACE TEMP MACRO pii_re_month() AS
    '(?:[0\x{FF10}]' || pii_re_gap() || '[1-9\x{FF11}-\x{FF19}]|[1\x{FF11}]' || pii_re_gap() || '[0-2\x{FF10}-\x{FF12}])';
CREATE OR REPLACE TEMP MACRO pii_re_day() AS
    '(?:[0-2\x{FF10}-\x{FF12}]' || pii_re_gap() || pii_re_digit() || '|[3\x{FF13}]' || pii_re_gap() || '[01\x{FF10}\x{FF11}])';

-- An ID number: structured (gaps allowed) or a plain run of exactly 18 / 15 digits. A structured
-- match swallows the rest of its digit run (no half-masked numbers); the plain alternative
-- captures the character after it (group 3 of the caller's pattern) to check the run ends there.
CREATE OR REPLACE TEMP MACRO pii_re_id() AS
    -- 18: address (first digit 1-9), year 18xx-20xx, month, day, sequence, check character
    '(?:[1-9\x{FF11}-\x{FF19}]' || pii_re_digits(5) || pii_re_gap()
    || '(?:[1\x{FF11}]' || pii_re_gap() || '[89\x{FF18}\x{FF19}]|[2\x{FF12}]' || pii_re_gap() || '[0\x{FF10}])'
    || pii_re_digits(2) || pii_re_gap() || pii_re_month() || pii_re_gap() || pii_re_day() || pii_re_digits(3)
    || pii_re_gap() || '[0-9\x{FF10}-\x{FF19}Xx\x{FF38}\x{FF58}]'
    -- 15: address, YYMMDD, sequence
    || '|[1-9\x{FF11}-\x{FF19}]' || pii_re_digits(7) || pii_re_gap() || pii_re_month() || pii_re_gap() || pii_re_day()
    || pii_re_digits(3) || ')' || pii_re_digit() || '*'
    || '|(' || pii_re_digit() || '{17}[0-9\x{FF10}-\x{FF19}Xx\x{FF38}\x{FF58}]|' || pii_re_digit() || '{15})'
    || '([^0-9\x{FF10}-\x{FF19}Xx\x{FF38}\x{FF58}]|$)';

-- A mobile number (11 digits from 13–19), with or without country prefix; it too swallows the
-- rest of its digit run.
CREATE OR REPLACE TEMP MACRO pii_re_mobile() AS
    pii_re_country() || '?[1\x{FF11}]' || pii_re_gap() || '[3-9\x{FF13}-\x{FF19}]' || pii_re_digits(9) || pii_re_digit() || '*';

-- an extension: 转123, 分机 123, ext. 123, x123, -123
CREATE OR REPLACE TEMP MACRO pii_re_extension() AS
    '(?:' || pii_re_gap() || '(?:转|分机|[Ee][Xx][Tt]\.?|[Xx#\-])' || pii_re_gap() || pii_re_digit() || '{1,6})?';

-- local number: 8 or 7 digits, at most one gap (4-4, 3-4, 4-3), then an optional extension
CREATE OR REPLACE TEMP MACRO pii_re_local() AS
    '(?:' || pii_re_digit() || '{4}' || pii_re_gap() || pii_re_digit() || '{4}|'
    || pii_re_digit() || '{3}' || pii_re_gap() || pii_re_digit() || '{4}|'
    || pii_re_digit() || '{4}' || pii_re_gap() || pii_re_digit() || '{3})' || pii_re_extension();

-- the same after its first digit (the caller gives the first digit's class)
CREATE OR REPLACE TEMP MACRO pii_re_local_rest() AS
    '(?:' || pii_re_digit() || '{3}' || pii_re_gap() || pii_re_digit() || '{4}|'
    || pii_re_digit() || '{2}' || pii_re_gap() || pii_re_digit() || '{4}|'
    || pii_re_digit() || '{3}' || pii_re_gap() || pii_re_digit() || '{3})' || pii_re_extension();

-- A landline number with area code (0 + 2–3 digits, in brackets or not; the 0 dropped after +86),
-- or a local number right after a contact word (groups 2 and 3 of the caller's pattern).
CREATE OR REPLACE TEMP MACRO pii_re_landline() AS
    '(?:' || pii_re_country() || '[(\x{FF08}]?[0\x{FF10}]?|[(\x{FF08}]?[0\x{FF10}])'
    || '[1-9\x{FF11}-\x{FF19}]' || pii_re_digit() || '{1,2}[)\x{FF09}]?' || pii_re_gap() || pii_re_local();

CREATE OR REPLACE TEMP MACRO pii_re_contact_word() AS
    '((?i:tel|phone|mobile|fax|call|ｔｅｌ)|电话|手机|座机|固话|联系方式|拨打|致电|传真|来电)([\s:：#=号码是为\x{3000}]{0,4})';

-- Contact details written without Arabic digits, masked by one more pass:
--   a mobile number in Chinese numerals (一三八一二三四五六七八, 幺 for 1, 〇/零 for 0, gaps as above);
--   a QQ or WeChat account after its word (QQ：123456, 扣扣 123456, 微信号：wxid_ab12, vx abc_123,
--   weixin: abc123): the word stays, the account (5–20 letters, digits, _ or -) becomes [账号].
-- "微信" alone (a channel, 微信支付) is not an account: an account must follow the word.
CREATE OR REPLACE TEMP MACRO pii_re_cn_digit() AS '[〇零一二三四五六七八九幺]';
CREATE OR REPLACE TEMP MACRO pii_re_cn_mobile() AS
    '(^|[^〇零一二三四五六七八九幺])[一幺]' || pii_re_gap() || '[三四五六七八九]'
    || '(?:' || pii_re_gap() || pii_re_cn_digit() || '){9}' || pii_re_cn_digit() || '*';
CREATE OR REPLACE TEMP MACRO pii_re_account() AS
    '((?i:qq|wechat|weixin|wx|vx)|扣扣|微信|威信|薇信)((?i:号码|账号|号|id)?[\s:：#=是为\x{3000}]{0,4})([A-Za-z0-9_-]{5,20})';

-- Every RE2 pass is a scan of the whole text (the cost is the scan, not the pattern), so there
-- are five passes, and pii_mask_numbers runs them only on text holding seven digits close together,
-- seven Chinese numerals close together, or an account word with an account after it.
CREATE OR REPLACE TEMP MACRO pii_re_any_number() AS
    pii_re_digit() || pii_re_digits(6) || '|' || pii_re_cn_digit() || '(?:' || pii_re_gap() || pii_re_cn_digit() || '){6}|'
    || pii_re_account();

-- A plain digit run of 16–17 or 19+ digits is no phone or ID number (order, record and waybill
-- numbers): a marker (U+E000, private use) after its first digit keeps every pattern out of it,
-- and is removed at the end.
CREATE OR REPLACE TEMP MACRO pii_re_long_run() AS
    '(^|[^0-9\x{FF10}-\x{FF19}])(' || pii_re_digit() || ')(' || pii_re_digit() || '{15,16}|' || pii_re_digit() || '{18,})'
    -- (17 digits and an X are an ID number)
    || '([^0-9\x{FF10}-\x{FF19}Xx\x{FF38}\x{FF58}]|$)';

CREATE OR REPLACE TEMP MACRO pii_mask_numbers_all(s) AS regexp_replace(regexp_replace(replace(
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(s,
        pii_re_long_run(), '\1\2' || chr(57344) || '\3\4', 'g'),
        pii_re_before() || '(?:' || pii_re_id() || ')', '\1[证件号码]\3', 'g'),
        pii_re_before() || pii_re_mobile(), '\1[手机号码]', 'g'),
        -- a local number (no area code) never starts with 0 or 1; that keeps 电话0519… for the
        -- area-code alternative
        pii_re_before() || pii_re_landline() || '|' || pii_re_contact_word() || '[2-9\x{FF12}-\x{FF19}]' || pii_re_local_rest(),
        '\1\2\3[电话号码]', 'g'),
    chr(57344), ''),
    pii_re_cn_mobile(), '\1[手机号码]', 'g'),
    pii_re_account(), '\1\2[账号]', 'g');

CREATE OR REPLACE TEMP MACRO pii_mask_numbers(s) AS
    CASE WHEN regexp_matches(s, pii_re_any_number()) THEN pii_mask_numbers_all(s) ELSE s END;
