-- Rows of the registered frame index_rows_frame (indicators.scores.write_index_scores).
INSERT INTO mart.index_scores
SELECT scope, period, region_code, node_id, score, rank, rank_low, rank_high, spec_version, level, grade,
       rank_median, computed_at
FROM index_rows_frame
