"""Entry-unit scorecard (data_quality/scorecard.py) on a small hand-made gate output: exact rates,
ranks with ties (sharing the best rank), month-over-month changes, scope, and the rules failing most
per unit with example record ids."""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from data_quality import scorecard as sc
from ingestion.sqlfiles import sql_text

RULES = [  # rule_id, dimension, severity
    ("CMP-REQ-001", "completeness", "error"),
    ("CMP-COD-001", "conformity", "error"),
    ("CMP-DDL-001", "timeliness", "warn"),
    ("CMP-COD-003", "conformity", "warn"),
]
DIM = {r: (d, s) for r, d, s in RULES}

# staging rows: (month, load_id, source_row, record_id, unit, region)
ROWS = [
    # 2025-01: A 4 rows, B 4 rows, C 2 rows
    *[("2025-01", 1, i, f"A-01-{i}", "A", "320402") for i in (1, 2, 3, 4)],
    *[("2025-01", 1, i, f"B-01-{i - 4}", "B", "320106") for i in (5, 6, 7, 8)],
    *[("2025-01", 1, i, f"C-01-{i - 8}", "C", "320402") for i in (9, 10)],
    # 2025-02: A 5 rows (one without a region code), B 4, C 2, D 3, E 5, one row without a unit
    *[("2025-02", 2, i, f"A-02-{i}", "A", "320402" if i < 5 else None) for i in (1, 2, 3, 4, 5)],
    *[("2025-02", 2, i, f"B-02-{i - 5}", "B", "320106") for i in (6, 7, 8, 9)],
    *[("2025-02", 2, i, f"C-02-{i - 9}", "C", "320402") for i in (10, 11)],
    *[("2025-02", 2, i, f"D-02-{i - 11}", "D", "110105") for i in (12, 13, 14)],
    *[("2025-02", 2, i, f"E-02-{i - 14}", "E", "320402") for i in (15, 16, 17, 18, 19)],
    ("2025-02", 2, 20, "X-02-1", None, "320402"),
]

# results: (month, load_id, source_row, record_key, rule_id)
RESULTS = [
    ("2025-01", 1, 1, "A-01-1", "CMP-REQ-001"), ("2025-01", 1, 1, "A-01-1", "CMP-COD-001"),  # A: one row, two errors
    ("2025-01", 1, 2, "A-01-2", "CMP-DDL-001"),                                              # A: a warning
    ("2025-01", 1, 5, "B-01-1", "CMP-COD-001"), ("2025-01", 1, 6, None, "CMP-COD-001"),      # B: 2 errors, one without a record id
    ("2025-02", 2, 1, "A-02-1", "CMP-REQ-001"),                                              # A: 1/5
    ("2025-02", 2, 6, "B-02-1", "CMP-REQ-001"), ("2025-02", 2, 6, "B-02-1", "CMP-COD-003"),  # B: 1/4 error, 1/4 warning, same row
    ("2025-02", 2, 15, "E-02-1", "CMP-COD-001"),                                             # E: 1/5 (ties with A)
    ("2025-02", 2, 20, "X-02-1", "CMP-REQ-001"),                                             # no unit
]


@pytest.fixture()
def scorecard_con():
    """In-memory DuckDB with the dq tables and a small staging.complaints."""
    c = duckdb.connect()
    for s in ("raw", "staging", "clean", "dq"):
        c.execute(f"CREATE SCHEMA {s}")
    c.execute(sql_text("ddl/dq.sql"))
    c.execute("""CREATE TABLE staging.complaints (record_id VARCHAR, entry_unit_id VARCHAR, handling_region_code VARCHAR,
                 load_id BIGINT, source_file VARCHAR, source_row BIGINT, partition_key VARCHAR)""")
    for month, load, row, rid, unit, region in ROWS:
        c.execute("INSERT INTO staging.complaints VALUES (?, ?, ?, ?, ?, ?, ?)",
                  [rid, unit, region, load, f"/landing/complaints_{month}.csv", row, month])
    for rid, dim, sev in RULES:
        c.execute("INSERT INTO dq.rules VALUES (?, 'complaints', 'f', ?, '-', ?, 'basis', '说明', 'description')",
                  [rid, dim, sev])
    unit_of = {(load, row): unit for _, load, row, _, unit, _ in ROWS}
    for month, load, row, key, rule in RESULTS:
        dim, sev = DIM[rule]
        c.execute("""INSERT INTO dq.rule_results VALUES ('run1', 'complaints', ?, ?, ?, ?, ?, ?, ?, 'f', ?, ?, NULL,
                     TIMESTAMP '2025-03-01')""",
                  [month, key, f"{load}:{row}", f"/landing/complaints_{month}.csv", row, unit_of[(load, row)], rule,
                   dim, sev])
    for month, n in (("2025-01", 10), ("2025-02", 20)):
        c.execute("INSERT INTO dq.runs VALUES ('run1', 'complaints', ?, ?, 0, 0, 0, 0, TIMESTAMP '2025-03-01')", [month, n])
    yield c
    c.close()


def _rows(df: pd.DataFrame, month: str, dimension: str = "all") -> dict:
    d = df[(df.month == month) & (df.dimension == dimension)]
    return {(u if isinstance(u, str) else None): r for u, r in zip(d.unit_id, d.to_dict("records"))}


def test_rates_and_ranks_first_month(scorecard_con):
    df = sc.unit_scorecard(scorecard_con)
    assert list(df.columns) == sc.SCORECARD_COLUMNS
    jan = _rows(df, "2025-01")
    assert {u: (r["rows_entered"], r["rows_error"], r["rows_warn"]) for u, r in jan.items()} == {
        "A": (4, 1, 1), "B": (4, 2, 0), "C": (2, 0, 0)}
    assert jan["A"]["error_rate"] == 0.25 and jan["A"]["warn_rate"] == 0.25
    assert jan["B"]["error_rate"] == 0.5 and jan["C"]["error_rate"] == 0.0
    assert {u: r["rank"] for u, r in jan.items()} == {"C": 1, "A": 2, "B": 3}
    assert {r["units_ranked"] for r in jan.values()} == {3}
    # no month before January was checked: no change
    assert all(pd.isna(r["prev_error_rate"]) and pd.isna(r["rank_change"]) for r in jan.values())


def test_dimensions_count_a_row_once(scorecard_con):
    df = sc.unit_scorecard(scorecard_con)
    conf = _rows(df, "2025-01", "conformity")
    assert {u: (r["rows_error"], r["error_rate"], r["rank"]) for u, r in conf.items()} == {
        "A": (1, 0.25, 2), "B": (2, 0.5, 3), "C": (0, 0.0, 1)}
    comp = _rows(df, "2025-01", "completeness")
    assert comp["A"]["rows_error"] == 1 and comp["B"]["rows_error"] == 0
    assert {u: r["rank"] for u, r in comp.items()} == {"A": 3, "B": 1, "C": 1}  # tie for best: 1, 1, 3
    time = _rows(df, "2025-01", "timeliness")
    assert time["A"]["rows_warn"] == 1 and time["A"]["rows_error"] == 0
    # every unit × month has a row for each dimension the table's rules use, plus "all"
    assert set(df.dimension) == {"all", "completeness", "conformity", "timeliness"}
    assert len(df) == 4 * (3 + 6)


def test_ties_share_the_best_rank_and_no_unit_is_not_ranked(scorecard_con):
    feb = _rows(sc.unit_scorecard(scorecard_con), "2025-02")
    assert {u: (r["rows_entered"], r["rows_error"]) for u, r in feb.items()} == {
        "A": (5, 1), "B": (4, 1), "C": (2, 0), "D": (3, 0), "E": (5, 1), None: (1, 1)}
    assert {u: r["rank"] for u, r in feb.items() if u} == {"C": 1, "D": 1, "A": 3, "E": 3, "B": 5}
    assert pd.isna(feb[None]["rank"]) and feb[None]["error_rate"] == 1.0
    assert {r["units_ranked"] for r in feb.values()} == {5}
    assert feb["B"]["rows_warn"] == 1 and feb["B"]["warn_rate"] == 0.25


def test_change_against_the_previous_month(scorecard_con):
    feb = _rows(sc.unit_scorecard(scorecard_con), "2025-02")
    a, b, c = feb["A"], feb["B"], feb["C"]
    assert a["prev_month"] == "2025-01" and a["prev_error_rate"] == 0.25
    assert a["error_rate_change"] == pytest.approx(-0.05) and a["prev_rank"] == 2 and a["rank_change"] == -1
    assert b["error_rate_change"] == pytest.approx(-0.25) and b["prev_rank"] == 3 and b["rank_change"] == -2
    assert c["error_rate_change"] == 0.0 and c["rank_change"] == 0
    assert a["prev_rows_entered"] == 4
    for u in ("D", "E", None):  # nothing entered the month before
        assert pd.isna(feb[u]["prev_error_rate"]) and pd.isna(feb[u]["rank_change"])


def test_months_filter_keeps_the_change(scorecard_con):
    df = sc.unit_scorecard(scorecard_con, months=["2025-02"])
    assert set(df.month) == {"2025-02"}
    assert _rows(df, "2025-02")["A"]["rank_change"] == -1  # January still read for the change
    jan_only = sc.unit_scorecard(scorecard_con, months="2025-01")
    assert set(jan_only.month) == {"2025-01"} and len(jan_only) == 3 * 4
    assert sc.unit_scorecard(scorecard_con, months=["2024-12"]).empty


def test_scope_prefix(scorecard_con):
    feb = _rows(sc.unit_scorecard(scorecard_con, months=["2025-02"], region_prefix="3204"), "2025-02")
    # B (320106) and D (110105) are outside; A's row without a region code counts for A
    assert {u: (r["rows_entered"], r["rank"] if u else None) for u, r in feb.items()} == {
        "A": (5, 2), "C": (2, 1), "E": (5, 2), None: (1, None)}


def test_stale_months_are_reported(scorecard_con):
    assert sc.unit_scorecard(scorecard_con).attrs["stale_months"] == []
    scorecard_con.execute("INSERT INTO staging.complaints VALUES ('late', 'A', '320402', 3, 'x.csv', 1, '2025-02')")
    assert sc.unit_scorecard(scorecard_con).attrs["stale_months"] == ["2025-02"]


def test_top_failing_rules_with_examples(scorecard_con):
    top = sc.top_failing_rules(scorecard_con, "A", "2025-01", 5)
    assert list(top.rule_id) == ["CMP-COD-001", "CMP-REQ-001", "CMP-DDL-001"]  # 1 row each: errors first, then id
    assert list(top.place) == [1, 2, 3]
    assert top.examples.tolist() == [["A-01-1"], ["A-01-1"], ["A-01-2"]]
    assert set(top.rows_entered) == {4} and top.rate.iloc[0] == 0.25
    assert top.description_en.iloc[0] == "description" and top.severity.tolist() == ["error", "error", "warn"]
    # a row without a record id is named by its file and row; never by anything else
    b = sc.top_failing_rules(scorecard_con, "B", "2025-01", 5)
    assert b.rule_id.tolist() == ["CMP-COD-001"] and b.rows.tolist() == [2]
    assert b.examples.iloc[0] == ["B-01-1", "complaints_2025-01.csv#6"]
    # over a period: most rows first; n limits
    both = sc.top_failing_rules(scorecard_con, "A", ["2025-01", "2025-02"], 1)
    assert both.rule_id.tolist() == ["CMP-REQ-001"] and both.rows.tolist() == [2] and both.rows_entered.tolist() == [9]
    assert both.examples.iloc[0] == ["A-01-1", "A-02-1"]
    assert sc.top_failing_rules(scorecard_con, "A", "2025-01", 5, examples=0).examples.iloc[0] == []
    none = sc.top_failing_rules(scorecard_con, None, "2025-02", 5)
    assert none.rule_id.tolist() == ["CMP-REQ-001"] and none.examples.iloc[0] == ["X-02-1"]
    assert sc.top_failing_rules(scorecard_con, "C", "2025-01", 5).empty


def test_top_failing_rules_all_units(scorecard_con):
    top = sc.top_failing_rules_all(scorecard_con, months=["2025-02"], n=1)
    assert {(u if isinstance(u, str) else None): r for u, r in zip(top.unit_id, top.rule_id)} == {
        "A": "CMP-REQ-001", "B": "CMP-REQ-001", "E": "CMP-COD-001", None: "CMP-REQ-001"}


def test_previous_partition():
    assert sc.previous_partition("2025-03") == "2025-02"
    assert sc.previous_partition("2025-01") == "2024-12"
    assert sc.previous_partition("2025") == "2024"
    assert sc.previous_partition("x") is None


def test_without_gate_tables_everything_is_empty():
    c = duckdb.connect()
    assert sc.unit_scorecard(c).empty and sc.top_failing_rules(c, "A", None).empty
    assert sc.overview(c).empty and sc.checked_partitions(c, "complaints") == []


def test_unknown_table_is_refused(scorecard_con):
    with pytest.raises(ValueError, match="unknown table"):
        sc.unit_scorecard(scorecard_con, "complaints; DROP TABLE dq.runs")
