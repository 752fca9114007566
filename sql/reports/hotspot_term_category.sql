-- Complaint hotspots: the category most of one month's texts containing a term fall in.
-- Parameters: $prefix, $start, $end (one month), $term.
SELECT category, count(*) AS n
FROM clean.complaints
WHERE handling_region_code LIKE ($prefix || '%')
  AND received_at >= $start AND received_at < $end
  AND record_type IN ('投诉', '举报')
  AND contains(content, $term)
  AND category IS NOT NULL
GROUP BY category
ORDER BY n DESC, category
LIMIT 1;
