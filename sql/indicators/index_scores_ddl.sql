-- Index output (DESIGN.md Appendix A: mart.index_scores): every node of the hierarchy per region,
-- scope and period. rank: 1 = best, ties share the best rank; rank_low / rank_high: the 5th and 95th
-- percentile ranks over the Monte-Carlo runs (weights and method choices), rank_median their median.
CREATE TABLE IF NOT EXISTS mart.index_scores (
    scope          VARCHAR NOT NULL,
    period         VARCHAR NOT NULL,
    region_code    VARCHAR NOT NULL,
    node_id        VARCHAR NOT NULL,
    score          DOUBLE,
    rank           INTEGER,
    rank_low       DOUBLE,
    rank_high      DOUBLE,
    spec_version   VARCHAR NOT NULL,
    level          INTEGER,
    grade          VARCHAR,
    rank_median    DOUBLE,
    computed_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, period, region_code, node_id)
);
