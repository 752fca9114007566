INSERT INTO dq.month_status VALUES ($table, $partition, $run, $now, $rows, $fingerprint, $outcome)
