-- Every calendar year of the gated 12315 records: the default index periods when a run names none.
SELECT DISTINCT CAST(year(received_at) AS VARCHAR) AS period
FROM clean.complaints
WHERE received_at IS NOT NULL
ORDER BY 1
