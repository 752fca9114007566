INSERT INTO dq.month_checks VALUES ($table, $partition, $run, $name, $numerator, $denominator, $value, $limit, $passed)
