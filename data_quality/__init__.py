"""Data-quality gate building blocks (规则 by GB/T 36344-2018 dimension; quarantine with reasons).

Modules (none imports Dagster or, at import time, Great Expectations):

- ``rules.yaml`` / :mod:`data_quality.rulebook` — the rulebook and its validating loader
  (``load_rulebook() -> list[Rule]``, ``load_rulebook_full() -> Rulebook``).
- :mod:`data_quality.engine` — runs the rules as DuckDB SQL on a relation
  (``prepare(con)``, ``evaluate(con, table, relation)``, ``evaluate_frame(df, table)``,
  ``quarantined(results)``, ``summary(results)``).
- :mod:`data_quality.codes` — GB 32100 USCC, GB 11643 ID numbers, GB/T 2260 region codes valid at
  a date (scalar, numpy and SQL forms).
- :mod:`data_quality.deadlines` — the one version table of statutory deadlines (Order 20 / 121 /
  18) and ``deadline_status(df)``; SQL twin in ``sql/dq/deadlines.sql``.
- :mod:`data_quality.sql_macros` — ``install_macros(con)`` for ``sql/macros/*.sql``.
- :mod:`data_quality.gx_suite` — GX expectations generated from the rulebook for pandas batches.
- :mod:`data_quality.benchmark` — ``python -m data_quality.benchmark`` (1M-row timings).

Why SQL first: GX's SQL execution engine fails on DuckDB in 1.24.1 (every metric), row-wise
Python is ~10x slower than a DuckDB macro, and several rules are whole-table (duplicates,
deadlines). GX stays for column-level expectations on pandas batches.
"""
