-- Data cut-off of the 12315 records when the caller gives none: the day of the latest event
-- (registration, decision or closure) in clean.complaints. A record without a decision is "due"
-- (counted against the acceptance / report-check rates) once its limit has passed at this date.
SELECT CAST(greatest(max(received_at), max(accepted_at), max(closed_at)) AS DATE) AS as_of
FROM clean.complaints;
