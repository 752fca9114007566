-- Complaint hotspots (reports/hotspots.py): the free text of one month's complaints and reports,
-- a deterministic sample of at most $cap records (the lowest hashes of the record id: the same
-- records every run; a top-N keeps memory at the cap). content is masked at staging.
-- Parameters: $prefix (scope, on handling_region_code), $start, $end (one month), $cap.
SELECT content
FROM clean.complaints
WHERE handling_region_code LIKE ($prefix || '%')
  AND received_at >= $start AND received_at < $end
  AND record_type IN ('投诉', '举报')
  AND content IS NOT NULL AND content <> ''
ORDER BY hash(record_id), record_id
LIMIT $cap;
