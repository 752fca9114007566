-- clean.{table}: shaped like staging.{table} plus the warn rules a row hit (dq_flags)
CREATE TABLE IF NOT EXISTS clean.{table} AS SELECT *, CAST(NULL AS VARCHAR[]) AS dq_flags FROM staging.{table} LIMIT 0
