-- The combine step's second pass: findings of the cross-partition rules (duplicates across months,
-- regions and channels; a unit's median month; a region's previous year) on the whole lake, one row
-- per (row, rule). Small: the clean, quarantine and rule-result views read it beside the lake.
CREATE OR REPLACE TABLE dq.lake_cross_findings (
    run_id      VARCHAR NOT NULL,
    table_name  VARCHAR NOT NULL,
    load_id     BIGINT NOT NULL,
    source_row  BIGINT NOT NULL,
    record_key  VARCHAR,
    rule_id     VARCHAR NOT NULL,
    family      VARCHAR NOT NULL,
    dimension   VARCHAR NOT NULL,
    severity    VARCHAR NOT NULL,
    detail      VARCHAR,
    checked_at  TIMESTAMP NOT NULL
);
