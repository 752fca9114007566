-- Indicator layer output (DESIGN.md Appendix A: mart.indicator_values), created by
-- indicators.compute.ensure_tables. One row per (scope, period, region_code, indicator_id);
-- indicators.compute.write_indicator_values replaces a (scope, period) in one transaction.
--   scope         CN | 2-digit province (32) | 4-digit prefecture (3204)
--   period        2025 | 2025H1 | 2025Q3 | 2025-03
--   region_code   the ranked unit (province / prefecture / county GB/T 2260 code)
--   numerator, denominator   as defined per indicator in sql/indicators/*.sql (and the methodology table)
--   value         the value after the small-count treatment (what the index uses)
--   raw_value     the value before the small-count treatment
--   record_count  records behind the value (denominator of a share, numerator count of a per-10k rate,
--                 closed complaints of the median); NULL for region-profile indicators
--   min_records   the spec's minimum; small_count = record_count < min_records
--   treatment     shrink | missing | flag | none, for small-count rows that had a value; NULL otherwise
--   scope_value   the pooled value over all units of the scope (the shrinkage target)
--   spec_version  the index spec whose indicator list, min_records and treatment were used
CREATE SCHEMA IF NOT EXISTS mart;

CREATE TABLE IF NOT EXISTS mart.indicator_values (
    scope          VARCHAR NOT NULL,
    period         VARCHAR NOT NULL,
    region_code    VARCHAR NOT NULL,
    indicator_id   VARCHAR NOT NULL,
    numerator      DOUBLE,
    denominator    DOUBLE,
    value          DOUBLE,
    record_count   BIGINT,
    min_records    INTEGER,
    small_count    BOOLEAN,
    treatment      VARCHAR,
    raw_value      DOUBLE,
    scope_value    DOUBLE,
    spec_version   VARCHAR,
    PRIMARY KEY (scope, period, region_code, indicator_id)
);
