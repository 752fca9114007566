SELECT DISTINCT partition_key FROM _placement WHERE partition_key IS NOT NULL ORDER BY 1
