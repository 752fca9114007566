-- One table's part of dq.rule_results in the lake's warehouse: the partition steps' findings.
SELECT * EXCLUDE (region, period)
FROM read_parquet({rule_results_files}, hive_partitioning = true, union_by_name = true)
