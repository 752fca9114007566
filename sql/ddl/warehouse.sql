-- Warehouse contract (DESIGN.md Appendix A): schemas raw, staging, clean, dq, mart.
-- raw keeps every delivered value as text (personal data included: raw is the only place it may
-- live), staging holds typed, normalised rows with the complainant replaced by a keyed hash.
-- Keep in step with ingestion/schema.py (tests/test_schema_contract.py checks it).
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS clean;
CREATE SCHEMA IF NOT EXISTS dq;
CREATE SCHEMA IF NOT EXISTS mart;

CREATE SEQUENCE IF NOT EXISTS raw.load_id_seq START 1;

-- One row per delivered file we were asked to load (loaded, skipped as already loaded, or failed).
CREATE TABLE IF NOT EXISTS raw.load_log (
    load_id        BIGINT PRIMARY KEY,
    source_file    VARCHAR NOT NULL,   -- path as given
    file_name      VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    table_name     VARCHAR,
    source_id      VARCHAR,            -- delivering feed; its delivery of the same declared period replaces the old one
    file_format    VARCHAR,
    encoding       VARCHAR,
    header_map     VARCHAR,            -- JSON: delivered header -> canonical column
    partitions     VARCHAR[],          -- months (YYYY-MM) or years (YYYY) the file holds
    rows_read      BIGINT,             -- data records in the file
    rows_raw       BIGINT,             -- records kept in raw (readable)
    rows_staged    BIGINT,             -- records that reached staging
    rows_rejected  BIGINT,             -- records in raw.rejects
    rows_replaced  BIGINT,             -- rows of earlier deliveries this file replaced
    status         VARCHAR NOT NULL,   -- loaded | replaced (superseded by a re-delivery) | failed
    message        VARCHAR,
    loaded_at      TIMESTAMP NOT NULL
);
-- Added later: a migration for existing warehouses (idempotent), so new columns come last everywhere.
ALTER TABLE raw.load_log ADD COLUMN IF NOT EXISTS declared_period VARCHAR;  -- period the file name declares (2025-03)
ALTER TABLE raw.load_log ADD COLUMN IF NOT EXISTS superseded_by BIGINT;     -- load that replaced this one (status replaced)

-- Records that could not be read or typed: file, data row (1 = first record after the header),
-- the fields at fault and why. raw_line keeps the delivered text (raw schema only).
CREATE TABLE IF NOT EXISTS raw.rejects (
    load_id        BIGINT NOT NULL,
    table_name     VARCHAR NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    source_id      VARCHAR,
    source_row     BIGINT,
    partition_key  VARCHAR,
    stage          VARCHAR NOT NULL,   -- read (structure / partition column / date out of range) | type (a typed field)
                                       -- | duplicate (the same record, same content, already loaded from another file)
    fields         VARCHAR,
    reason         VARCHAR NOT NULL,
    raw_line       VARCHAR,
    loaded_at      TIMESTAMP NOT NULL
);

-- 12315投诉举报咨询登记: delivered values as text
-- Columns of many distinct values take ZSTD: DuckDB's default for text (DICT_FSST) spends most of
-- a 1M-record insert compressing them (content alone about a quarter), ZSTD is 1.5-3x faster there
-- at about the same size (content: half the size). Columns of few distinct values keep the default
-- (a dictionary: tiny and cheap). Tables created before this keep the compression they were created with.
CREATE TABLE IF NOT EXISTS raw.complaints (
    record_id                    VARCHAR USING COMPRESSION zstd,
    record_type                  VARCHAR,
    channel                      VARCHAR,
    received_at                  VARCHAR USING COMPRESSION zstd,
    accepted_at                  VARCHAR USING COMPRESSION zstd,
    closed_at                    VARCHAR USING COMPRESSION zstd,
    accept_decision              VARCHAR,
    entry_unit_id                VARCHAR,
    handling_region_code         VARCHAR,
    respondent_name              VARCHAR USING COMPRESSION zstd,
    respondent_uscc              VARCHAR USING COMPRESSION zstd,
    respondent_region_code       VARCHAR,
    object_type                  VARCHAR,
    category                     VARCHAR,
    problem_type                 VARCHAR,
    is_online                    VARCHAR,
    platform_name                VARCHAR,
    amount_disputed              VARCHAR USING COMPRESSION zstd,
    amount_recovered             VARCHAR,
    mediation_result             VARCHAR,
    settled_by_business          VARCHAR,
    case_filed                   VARCHAR,
    report_substantiated         VARCHAR,
    satisfaction                 VARCHAR,
    complainant_name             VARCHAR USING COMPRESSION zstd,
    complainant_phone            VARCHAR USING COMPRESSION zstd,
    complainant_id_number        VARCHAR USING COMPRESSION zstd,
    content                      VARCHAR USING COMPRESSION zstd,
    load_id        BIGINT NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    source_id      VARCHAR NOT NULL,
    source_row     BIGINT NOT NULL,
    partition_key  VARCHAR NOT NULL,
    loaded_at      TIMESTAMP NOT NULL
);

-- 12315投诉举报咨询登记: typed and normalised, no personal data (ZSTD columns: see raw.complaints)
CREATE TABLE IF NOT EXISTS staging.complaints (
    record_id                    VARCHAR USING COMPRESSION zstd,
    record_type                  VARCHAR,
    channel                      VARCHAR,
    received_at                  TIMESTAMP,
    accepted_at                  TIMESTAMP,
    closed_at                    TIMESTAMP,
    accept_decision              VARCHAR,
    entry_unit_id                VARCHAR,
    handling_region_code         VARCHAR,
    respondent_name              VARCHAR USING COMPRESSION zstd,
    respondent_uscc              VARCHAR USING COMPRESSION zstd,
    respondent_region_code       VARCHAR,
    object_type                  VARCHAR,
    category                     VARCHAR,
    problem_type                 VARCHAR,
    is_online                    BOOLEAN,
    platform_name                VARCHAR,
    amount_disputed              DECIMAL(14,2),
    amount_recovered             DECIMAL(14,2),
    mediation_result             VARCHAR,
    settled_by_business          BOOLEAN,
    case_filed                   BOOLEAN,
    report_substantiated         BOOLEAN,
    satisfaction                 VARCHAR,
    content                      VARCHAR USING COMPRESSION zstd,
    complainant_key              VARCHAR USING COMPRESSION zstd,  -- keyed hash of the complainant (never the identity)
    complainant_id_valid         BOOLEAN,  -- the delivered ID number passed GB 11643 (NULL: none delivered)
    load_id        BIGINT NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    source_id      VARCHAR NOT NULL,
    source_row     BIGINT NOT NULL,
    partition_key  VARCHAR NOT NULL,
    loaded_at      TIMESTAMP NOT NULL
);
-- Added later (idempotent migration; new columns come last): which GB 11643 generation the
-- delivered ID number has, '18' or '15' (first-generation card, judged by its own rules);
-- NULL when none was delivered or it has neither shape. clean.complaints (created by the gate
-- from staging's shape) gets it too when it already exists.
ALTER TABLE staging.complaints ADD COLUMN IF NOT EXISTS complainant_id_format VARCHAR;
ALTER TABLE IF EXISTS clean.complaints ADD COLUMN IF NOT EXISTS complainant_id_format VARCHAR;

-- 商品质量抽检结果: delivered values as text
CREATE TABLE IF NOT EXISTS raw.sampling_results (
    sample_id                    VARCHAR,
    plan_id                      VARCHAR,
    sampled_on                   VARCHAR,
    region_code                  VARCHAR,
    venue_type                   VARCHAR,
    is_online                    VARCHAR,
    product_category             VARCHAR,
    product_name                 VARCHAR,
    brand                        VARCHAR,
    seller_name                  VARCHAR,
    seller_uscc                  VARCHAR,
    manufacturer_name            VARCHAR,
    manufacturer_uscc            VARCHAR,
    standard_code                VARCHAR,
    result                       VARCHAR,
    failed_items                 VARCHAR,
    failed_safety_item           VARCHAR,
    failed_label_item            VARCHAR,
    notified_on                  VARCHAR,
    stop_sale_on                 VARCHAR,
    correction_due_on            VARCHAR,
    corrected_on                 VARCHAR,
    reinspected_on               VARCHAR,
    reinspection_result          VARCHAR,
    load_id        BIGINT NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    source_id      VARCHAR NOT NULL,
    source_row     BIGINT NOT NULL,
    partition_key  VARCHAR NOT NULL,
    loaded_at      TIMESTAMP NOT NULL
);

-- 商品质量抽检结果: typed and normalised, no personal data
CREATE TABLE IF NOT EXISTS staging.sampling_results (
    sample_id                    VARCHAR,
    plan_id                      VARCHAR,
    sampled_on                   DATE,
    region_code                  VARCHAR,
    venue_type                   VARCHAR,
    is_online                    BOOLEAN,
    product_category             VARCHAR,
    product_name                 VARCHAR,
    brand                        VARCHAR,
    seller_name                  VARCHAR,
    seller_uscc                  VARCHAR,
    manufacturer_name            VARCHAR,
    manufacturer_uscc            VARCHAR,
    standard_code                VARCHAR,
    result                       VARCHAR,
    failed_items                 VARCHAR,
    failed_safety_item           BOOLEAN,
    failed_label_item            BOOLEAN,
    notified_on                  DATE,
    stop_sale_on                 DATE,
    correction_due_on            DATE,
    corrected_on                 DATE,
    reinspected_on               DATE,
    reinspection_result          VARCHAR,
    load_id        BIGINT NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    source_id      VARCHAR NOT NULL,
    source_row     BIGINT NOT NULL,
    partition_key  VARCHAR NOT NULL,
    loaded_at      TIMESTAMP NOT NULL
);

-- 12315热线话务统计: delivered values as text
CREATE TABLE IF NOT EXISTS raw.hotline_stats (
    unit_id                      VARCHAR,
    region_code                  VARCHAR,
    month                        VARCHAR,
    calls_offered                VARCHAR,
    calls_answered_first         VARCHAR,
    calls_answered               VARCHAR,
    load_id        BIGINT NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    source_id      VARCHAR NOT NULL,
    source_row     BIGINT NOT NULL,
    partition_key  VARCHAR NOT NULL,
    loaded_at      TIMESTAMP NOT NULL
);

-- 12315热线话务统计: typed and normalised, no personal data
CREATE TABLE IF NOT EXISTS staging.hotline_stats (
    unit_id                      VARCHAR,
    region_code                  VARCHAR,
    month                        DATE,
    calls_offered                BIGINT,
    calls_answered_first         BIGINT,
    calls_answered               BIGINT,
    load_id        BIGINT NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    source_id      VARCHAR NOT NULL,
    source_row     BIGINT NOT NULL,
    partition_key  VARCHAR NOT NULL,
    loaded_at      TIMESTAMP NOT NULL
);

-- 地区基础概况: delivered values as text
CREATE TABLE IF NOT EXISTS raw.region_profiles (
    region_code                  VARCHAR,
    year                         VARCHAR,
    population                   VARCHAR,
    market_entities              VARCHAR,
    service_stations             VARCHAR,
    consumer_org_branches        VARCHAR,
    protection_staff             VARCHAR,
    protection_funding_10k_yuan  VARCHAR,
    special_equipment_units      VARCHAR,
    special_equipment_accidents  VARCHAR,
    annual_report_rate           VARCHAR,
    inspected_businesses         VARCHAR,
    inspected_price_licence_ok   VARCHAR,
    online_shops                 VARCHAR,
    online_shops_emark           VARCHAR,
    load_id        BIGINT NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    source_id      VARCHAR NOT NULL,
    source_row     BIGINT NOT NULL,
    partition_key  VARCHAR NOT NULL,
    loaded_at      TIMESTAMP NOT NULL
);

-- 地区基础概况: typed and normalised, no personal data
CREATE TABLE IF NOT EXISTS staging.region_profiles (
    region_code                  VARCHAR,
    year                         BIGINT,
    population                   BIGINT,
    market_entities              BIGINT,
    service_stations             BIGINT,
    consumer_org_branches        BIGINT,
    protection_staff             BIGINT,
    protection_funding_10k_yuan  DOUBLE,
    special_equipment_units      BIGINT,
    special_equipment_accidents  BIGINT,
    annual_report_rate           DOUBLE,
    inspected_businesses         BIGINT,
    inspected_price_licence_ok   BIGINT,
    online_shops                 BIGINT,
    online_shops_emark           BIGINT,
    load_id        BIGINT NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    source_id      VARCHAR NOT NULL,
    source_row     BIGINT NOT NULL,
    partition_key  VARCHAR NOT NULL,
    loaded_at      TIMESTAMP NOT NULL
);
-- Added later (idempotent migration; new columns come last in a warehouse created before them): the
-- 识别便利 figures (price-marking / licence-display inspections, online licence e-marks), in raw,
-- staging and an existing clean table (the loader and the gate insert by name).
ALTER TABLE raw.region_profiles ADD COLUMN IF NOT EXISTS inspected_businesses VARCHAR;
ALTER TABLE raw.region_profiles ADD COLUMN IF NOT EXISTS inspected_price_licence_ok VARCHAR;
ALTER TABLE raw.region_profiles ADD COLUMN IF NOT EXISTS online_shops VARCHAR;
ALTER TABLE raw.region_profiles ADD COLUMN IF NOT EXISTS online_shops_emark VARCHAR;
ALTER TABLE staging.region_profiles ADD COLUMN IF NOT EXISTS inspected_businesses BIGINT;
ALTER TABLE staging.region_profiles ADD COLUMN IF NOT EXISTS inspected_price_licence_ok BIGINT;
ALTER TABLE staging.region_profiles ADD COLUMN IF NOT EXISTS online_shops BIGINT;
ALTER TABLE staging.region_profiles ADD COLUMN IF NOT EXISTS online_shops_emark BIGINT;
ALTER TABLE IF EXISTS clean.region_profiles ADD COLUMN IF NOT EXISTS inspected_businesses BIGINT;
ALTER TABLE IF EXISTS clean.region_profiles ADD COLUMN IF NOT EXISTS inspected_price_licence_ok BIGINT;
ALTER TABLE IF EXISTS clean.region_profiles ADD COLUMN IF NOT EXISTS online_shops BIGINT;
ALTER TABLE IF EXISTS clean.region_profiles ADD COLUMN IF NOT EXISTS online_shops_emark BIGINT;
