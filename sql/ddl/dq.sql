-- Data-quality gate tables (DESIGN.md §3, Appendix A). clean.<table> = staging.<table> less the
-- quarantined rows, per partition; warn-rule hits stay in clean with their ids in dq_flags.

CREATE TABLE IF NOT EXISTS dq.rules (
    rule_id        VARCHAR PRIMARY KEY,
    table_name     VARCHAR NOT NULL,
    family         VARCHAR NOT NULL,
    dimension      VARCHAR NOT NULL,   -- GB/T 36344-2018 dimension (English key)
    dimension_zh   VARCHAR NOT NULL,   -- 规范性 / 完整性 / 准确性 / 一致性 / 时效性 / 可访问性
    severity       VARCHAR NOT NULL,   -- error (quarantine) | warn (flag)
    basis          VARCHAR NOT NULL,   -- legal or standard basis
    description_zh VARCHAR NOT NULL,
    description_en VARCHAR NOT NULL
);

-- One row per (row, rule) violation.
CREATE TABLE IF NOT EXISTS dq.rule_results (
    run_id         VARCHAR NOT NULL,
    table_name     VARCHAR NOT NULL,
    partition_key  VARCHAR NOT NULL,
    record_key     VARCHAR,            -- business key (may be empty: that is what some rules report)
    row_ref        VARCHAR NOT NULL,   -- load_id:source_row, the row's identity in staging
    source_file    VARCHAR,
    source_row     BIGINT,
    unit_id        VARCHAR,            -- the entry unit answerable for the row (谁录入谁负责)
    rule_id        VARCHAR NOT NULL,
    family         VARCHAR NOT NULL,
    dimension      VARCHAR NOT NULL,
    severity       VARCHAR NOT NULL,
    detail         VARCHAR,
    checked_at     TIMESTAMP NOT NULL
);

-- The quarantined rows, whole (as JSON of the staging row: no personal data is in staging),
-- with the error rules that sent them here.
CREATE TABLE IF NOT EXISTS dq.quarantine (
    run_id         VARCHAR NOT NULL,
    table_name     VARCHAR NOT NULL,
    partition_key  VARCHAR NOT NULL,
    record_key     VARCHAR,
    row_ref        VARCHAR NOT NULL,
    source_file    VARCHAR,
    source_row     BIGINT,
    unit_id        VARCHAR,
    rule_ids       VARCHAR[] NOT NULL,
    row_data       JSON NOT NULL,
    quarantined_at TIMESTAMP NOT NULL
);

-- One row per gate run and partition: the reconciliation staging = clean + quarantine.
CREATE TABLE IF NOT EXISTS dq.runs (
    run_id          VARCHAR NOT NULL,
    table_name      VARCHAR NOT NULL,
    partition_key   VARCHAR NOT NULL,
    rows_staged     BIGINT NOT NULL,
    rows_clean      BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    rows_flagged    BIGINT NOT NULL,
    violations      BIGINT NOT NULL,
    checked_at      TIMESTAMP NOT NULL
);

-- The gate's verdict per table and month (partition), durable across processes: when the month
-- was last gated, what staging held then (row count and a content fingerprint, so a month whose
-- staging changed since is known to be stale), and whether it passed or is held back.
-- One row per (table_name, partition_key): the latest gate of that month. The context_* columns
-- keep the look-back month as the gate read it (the month before: cross-month rules compare this
-- month's rows with it), so a month whose look-back month changed since is stale too; NULL for a
-- year partition (no look-back) and in rows written before they were added.
CREATE TABLE IF NOT EXISTS dq.month_status (
    table_name          VARCHAR NOT NULL,
    partition_key       VARCHAR NOT NULL,
    run_id              VARCHAR NOT NULL,
    gated_at            TIMESTAMP NOT NULL,
    staging_rows        BIGINT NOT NULL,
    staging_fingerprint UBIGINT,          -- bit_xor of the staging rows' hashes; NULL for no rows
    outcome             VARCHAR NOT NULL, -- passed | held_back (a check failed: see dq.month_checks)
    context_partition   VARCHAR,          -- the look-back month (2025-02 for 2025-03)
    context_rows        BIGINT,           -- its staging rows then (0: none)
    context_fingerprint UBIGINT           -- and their fingerprint (NULL for no rows)
);
-- warehouses created before the look-back columns: added at the end, NULL in the old rows
ALTER TABLE dq.month_status ADD COLUMN IF NOT EXISTS context_partition VARCHAR;
ALTER TABLE dq.month_status ADD COLUMN IF NOT EXISTS context_rows BIGINT;
ALTER TABLE dq.month_status ADD COLUMN IF NOT EXISTS context_fingerprint UBIGINT;

-- Every check of that gate, per month: value, the limit it was judged against, passed or not.
CREATE TABLE IF NOT EXISTS dq.month_checks (
    table_name     VARCHAR NOT NULL,
    partition_key  VARCHAR NOT NULL,
    run_id         VARCHAR NOT NULL,
    check_name     VARCHAR NOT NULL,   -- reject_share (拒收率) | error_share (错误率)
    numerator      BIGINT NOT NULL,    -- rejected / quarantined rows
    denominator    BIGINT NOT NULL,    -- delivered rows of the month (staged + rejected) / staged rows
    value          DOUBLE NOT NULL,
    threshold      DOUBLE NOT NULL,
    passed         BOOLEAN NOT NULL
);
