-- Loads logged before declared_period existed (their file name gives it, once).
SELECT load_id, file_name FROM raw.load_log WHERE declared_period IS NULL
