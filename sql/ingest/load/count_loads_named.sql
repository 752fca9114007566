SELECT count(*) FROM raw.load_log WHERE file_name = $n AND status IN ('loaded', 'replaced')
