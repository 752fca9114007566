SELECT count(*) FROM _placement WHERE partition_key IS NOT NULL
