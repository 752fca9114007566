SELECT * FROM dq.rule_results WHERE table_name = '{table}'
