-- Complaint hotspots: how many complaints and reports with text one month had (before sampling).
-- Parameters: $prefix, $start, $end (one month).
SELECT count(*) AS n
FROM clean.complaints
WHERE handling_region_code LIKE ($prefix || '%')
  AND received_at >= $start AND received_at < $end
  AND record_type IN ('投诉', '举报')
  AND content IS NOT NULL AND content <> '';
