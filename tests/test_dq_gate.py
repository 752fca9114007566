"""data_quality.gate on two small delivered files: the per-file reconciliation (staged = clean +
quarantined) has exactly the counts the files were built with, and a month gated twice keeps one
result (the gate replaces, never appends).

Fast and in-process, so `make mutation` can run it against gate.py mutants (TESTING.md).
"""
from __future__ import annotations

from data_quality import gate
from ingestion.loader import ingest_paths
from tests.helpers import complaint_rows, valid_uscc, write_csv


def test_reconciliation_by_file_has_the_counts_the_files_were_built_with(tmp_path, con, warehouse):
    # file a: 10 rows, 8 with a USCC whose check character is wrong (CMP-USC-001, error) and 2 without one
    a = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(10, "2025-03", seed=1))
    # file b: 10 rows, valid USCCs (python-stdnum) or none
    b = write_csv(tmp_path / "complaints_2025-04.csv", complaint_rows(10, "2025-04", seed=2, uscc=valid_uscc()))
    assert all(r.status == "loaded" for r in ingest_paths(con, [a, b], warehouse=warehouse))
    gate.run_gate(con, "complaints", gate.staged_partitions(con, "complaints"))
    per_file = gate.reconciliation_by_file(con, "complaints")
    got = {f.rsplit("/", 1)[-1]: (s, c, q) for f, s, c, q in
           per_file[["source_file", "staged", "clean", "quarantined"]].itertuples(index=False)}
    assert got == {"complaints_2025-03.csv": (10, 2, 8), "complaints_2025-04.csv": (10, 10, 0)}
    assert list(per_file.columns) == ["source_file", "staged", "clean", "quarantined"]
    # gating the same months again replaces the results: same counts, one dq.runs row per month
    gate.run_gate(con, "complaints", gate.staged_partitions(con, "complaints"))
    again = gate.reconciliation_by_file(con, "complaints")
    assert again[["staged", "clean", "quarantined"]].values.tolist() == [[10, 2, 8], [10, 10, 0]]
    runs = con.execute("SELECT partition_key, rows_staged, rows_clean, rows_quarantined FROM dq.runs "
                       "WHERE table_name = 'complaints' ORDER BY 1").fetchall()
    assert runs == [("2025-03", 10, 2, 8), ("2025-04", 10, 10, 0)]
    assert gate.reconciliation_by_file(con, "sampling_results").empty


def test_the_month_before_is_the_look_back_context():
    """A month is gated with the month before it as context (duplicates across the month boundary);
    a year partition (region profiles) has none."""
    months = ["2025-01", "2025-02", "2025-03", "2025-10", "2025-11", "2025-12", "2024-01"]
    assert [gate._previous_month(p) for p in months] == ["2024-12", "2025-01", "2025-02", "2025-09", "2025-10",
                                                         "2025-11", "2023-12"]
    assert gate._previous_month("2025") is None
