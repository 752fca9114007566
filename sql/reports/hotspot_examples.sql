-- Complaint hotspots: texts of one month that contain a term (for masked excerpts), $n at most,
-- chosen by the same hash as the sample (stable across runs). The term is bound, never spliced.
-- Parameters: $prefix, $start, $end (one month), $term, $n.
SELECT content
FROM clean.complaints
WHERE handling_region_code LIKE ($prefix || '%')
  AND received_at >= $start AND received_at < $end
  AND record_type IN ('投诉', '举报')
  AND contains(content, $term)
ORDER BY hash(record_id), record_id
LIMIT $n;
