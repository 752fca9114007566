"""What data_quality.gate writes, with exact values, on three small delivered months: the month before is
read as context but not gated, every rule hit is recorded with its row, file, unit and severity, error
rows go to quarantine with exactly their error rule ids, warn rules become ``dq_flags`` of clean rows,
``dq.runs`` reconciles, each month is judged on its own reject and error shares against the limits (or
those given) and the verdict is kept; a failing gate leaves the earlier results alone; rows whose
staging row is gone are dropped.

Fast and in-process, so `make mutation` runs it against gate.py mutants (TESTING.md).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from data_quality import gate
from ingestion.loader import ingest_paths
from tests.helpers import TEST_PII_KEY, complaint_rows, env, write_csv

BAD_USCC = "91320402MA1MXXXX0X"  # check character wrong: CMP-USC-001 (error)


def clean_rows(n: int, month: str, seed: int) -> list[dict]:
    rows = complaint_rows(n, month, seed)
    for r in rows:
        r.update(record_type="投诉", amount_recovered="", respondent_uscc="")
    return rows


_BUILT: dict[int, Path] = {}  # pid -> the warehouse as loaded, built once per process (in the first test's call)


def build(folder: Path) -> Path:
    """A copy, in ``folder``, of the three months as loaded (not gated); see :func:`_load`.

    The cache is per process and checked: mutmut forks every mutant from the process that ran the
    clean tests, whose temporary folder pytest may have removed since; a child then loads its own."""
    built = _BUILT.get(os.getpid())
    if built is None or not built.exists():
        built = _BUILT[os.getpid()] = _load(folder / "first")
    copy = folder / "w.duckdb"
    shutil.copyfile(built, copy)
    return copy


def _load(folder: Path) -> Path:
    """January: 4 clean rows. February: 10 delivered — row 1 repeats January's first record id (a
    duplicate only the look-back sees), row 2 a negative amount and a wrong USCC (two errors), row 3 a
    consultation with an amount and a decision (two warns), row 4 more recovered than disputed (one
    warn), row 5 an amount that cannot be typed (rejected at staging). March: 5 clean rows."""
    folder.mkdir()
    wh = folder / "w.duckdb"
    jan, feb, mar = clean_rows(4, "2025-01", 1), clean_rows(10, "2025-02", 2), clean_rows(5, "2025-03", 3)
    feb[0]["record_id"] = jan[0]["record_id"]
    feb[1].update(amount_disputed="-5.00", respondent_uscc=BAD_USCC)
    feb[2].update(record_type="咨询", accept_decision="受理", amount_disputed="300.00")
    feb[3].update(amount_disputed="100.00", amount_recovered="250.00")
    feb[4].update(amount_disputed="n/a")
    files = [write_csv(folder / f"complaints_{m}.csv", rows)
             for m, rows in (("2025-01", jan), ("2025-02", feb), ("2025-03", mar))]
    with env(CEI_PII_KEY=TEST_PII_KEY), duckdb.connect(str(wh)) as con:
        assert [r.status for r in ingest_paths(con, files, warehouse=wh)] == ["loaded"] * 3
    return wh


def test_one_gate_of_two_months_with_the_month_before_as_context(tmp_path):
    """February and March gated (asked twice and out of order); January is context. The warehouse is
    built inside the test, not in a fixture: mutmut orders a mutant's tests by their call time, and a
    fixture's build would be paid first by every mutant (TESTING.md, "Mutation testing"); the load is
    done once per process and copied."""
    wh = build(tmp_path)
    with env(CEI_PII_KEY=TEST_PII_KEY), duckdb.connect(str(wh)) as con:
        result = gate.run_gate(con, "complaints", ["2025-03", "2025-02", "2025-03"], run_id="g1")
    with duckdb.connect(str(wh), read_only=True) as con:
        check_the_gate_result_per_month(result)
        check_rule_results_quarantine_and_flags_are_exactly_the_rules_hit(con)
        check_runs_and_the_verdict_of_each_month(con)


def check_the_gate_result_per_month(result):
    assert (result.table, result.run_id, result.skipped_rules) == ("complaints", "g1", {})
    assert result.seconds > 0
    feb, mar = result.partitions
    assert (feb.partition, feb.rows_staged, feb.rows_clean, feb.rows_quarantined, feb.rows_flagged, feb.violations,
            feb.rows_rejected, feb.held_back) == ("2025-02", 9, 7, 2, 2, 6, 1, True)
    assert feb.errors_by_rule == {"CMP-DUP-001": 1, "CMP-AMT-001": 1, "CMP-USC-001": 1}
    assert (feb.error_share, feb.reject_share, feb.reconciled) == (2 / 9, 0.1, True)
    assert (mar.partition, mar.rows_staged, mar.rows_clean, mar.rows_quarantined, mar.rows_flagged, mar.violations,
            mar.rows_rejected, mar.held_back, mar.errors_by_rule) == ("2025-03", 5, 5, 0, 0, 0, 0, False, {})


def check_rule_results_quarantine_and_flags_are_exactly_the_rules_hit(con):
    hits = con.execute("""SELECT run_id, table_name, partition_key, record_key, row_ref = CAST(load_id AS VARCHAR) || ':'
                                 || CAST(r.source_row AS VARCHAR), regexp_extract(source_file, '[^/]+$'), r.source_row,
                                 unit_id, rule_id, family, dimension, severity, detail IS NOT NULL
                          FROM dq.rule_results r JOIN (SELECT DISTINCT load_id, source_file AS f FROM staging.complaints)
                               ON f = source_file ORDER BY r.source_row, rule_id""").fetchall()
    feb = "complaints_2025-02.csv"
    rid = [r[3] for r in hits]
    assert [r[:3] for r in hits] == [("g1", "complaints", "2025-02")] * 6
    assert all(r[4] for r in hits) and {r[5] for r in hits} == {feb} and {r[7] for r in hits} == {"EU32040201"}
    assert [(r[6], r[8], r[9], r[11]) for r in hits] == [
        (1, "CMP-DUP-001", "duplicate_key", "error"), (2, "CMP-AMT-001", "impossible_amount", "error"),
        (2, "CMP-USC-001", "uscc_check", "error"), (3, "CMP-AMT-004", "amount_plausibility", "warn"),
        (3, "CMP-COD-004", "status_consistency", "warn"), (4, "CMP-AMT-005", "amount_plausibility", "warn")]
    assert [r[10] for r in hits] == ["accuracy", "accuracy", "conformity", "consistency", "consistency", "accuracy"]
    assert rid[0] == con.execute("SELECT record_id FROM staging.complaints WHERE partition_key = '2025-01' "
                                 "AND source_row = 1").fetchone()[0]
    quarantine = con.execute("""SELECT run_id, table_name, partition_key, record_key, source_row, unit_id, rule_ids,
                                       json_extract_string(row_data, '$.record_id'), regexp_extract(source_file, '[^/]+$')
                                FROM dq.quarantine ORDER BY source_row""").fetchall()
    assert quarantine == [("g1", "complaints", "2025-02", rid[0], 1, "EU32040201", ["CMP-DUP-001"], rid[0], feb),
                          ("g1", "complaints", "2025-02", rid[1], 2, "EU32040201", ["CMP-AMT-001", "CMP-USC-001"],
                           rid[1], feb)]
    clean = con.execute("SELECT partition_key, source_row, dq_flags FROM clean.complaints ORDER BY 1, 2").fetchall()
    assert clean == [("2025-02", 3, ["CMP-AMT-004", "CMP-COD-004"]), ("2025-02", 4, ["CMP-AMT-005"]),
                     ("2025-02", 6, None), ("2025-02", 7, None), ("2025-02", 8, None), ("2025-02", 9, None),
                     ("2025-02", 10, None)] + [("2025-03", k, None) for k in range(1, 6)]
    row = json.loads(con.execute("SELECT row_data FROM dq.quarantine WHERE source_row = 2").fetchone()[0])
    assert row["amount_disputed"] == -5.0 and "row_ref" in row


def check_runs_and_the_verdict_of_each_month(con):
    runs = con.execute("SELECT run_id, table_name, partition_key, rows_staged, rows_clean, rows_quarantined, "
                       "rows_flagged, violations FROM dq.runs ORDER BY partition_key").fetchall()
    assert runs == [("g1", "complaints", "2025-02", 9, 7, 2, 2, 6), ("g1", "complaints", "2025-03", 5, 5, 0, 0, 0)]
    checks = con.execute("SELECT * FROM dq.month_checks ORDER BY partition_key, check_name").fetchall()
    assert checks == [("complaints", "2025-02", "g1", "error_share", 2, 9, 2 / 9, 0.10, False),
                      ("complaints", "2025-02", "g1", "reject_share", 1, 10, 0.1, 0.05, False),
                      ("complaints", "2025-03", "g1", "error_share", 0, 5, 0.0, 0.10, True),
                      ("complaints", "2025-03", "g1", "reject_share", 0, 5, 0.0, 0.05, True)]
    status = con.execute("SELECT table_name, partition_key, run_id, staging_rows, outcome, "
                         "staging_fingerprint IS NOT NULL FROM dq.month_status ORDER BY 2").fetchall()
    assert status == [("complaints", "2025-02", "g1", 9, "held_back", True),
                      ("complaints", "2025-03", "g1", 5, "passed", True)]
    state = {r[0]: r for r in gate.month_state(con, "complaints", ["2025-02", "2025-03", "2025-07"])}
    fp = dict(con.execute("SELECT partition_key, staging_fingerprint FROM dq.month_status").fetchall())
    assert state == {"2025-02": ("2025-02", 9, fp["2025-02"], 1, True), "2025-03": ("2025-03", 5, fp["2025-03"], 0, True)}
    checked_at = con.execute("SELECT DISTINCT checked_at FROM dq.rule_results UNION SELECT checked_at FROM dq.runs "
                             "UNION SELECT quarantined_at FROM dq.quarantine UNION SELECT gated_at FROM dq.month_status").fetchall()
    assert len(checked_at) == 1 and checked_at[0][0].microsecond == 0
    # January was context, not gated
    assert con.execute("SELECT count(*) FROM clean.complaints WHERE partition_key = '2025-01'").fetchone() == (0,)
    assert gate.staged_partitions(con, "complaints") == ["2025-01", "2025-02", "2025-03"]
    assert con.execute("SELECT rule_id, severity FROM dq.rules WHERE rule_id = 'CMP-DUP-001'").fetchall() == [
        ("CMP-DUP-001", "error")]
    names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'clean'").fetchall()}
    assert names == {"complaints", "sampling_results", "hotline_stats", "region_profiles"}
    assert con.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = 'clean' AND table_name = "
                       "'sampling_results' ORDER BY column_index DESC LIMIT 1").fetchone() == ("dq_flags",)


def test_regating_with_other_limits_replaces_and_a_failed_gate_changes_nothing(tmp_path, monkeypatch):
    wh = build(tmp_path)
    monkeypatch.setenv("CEI_PII_KEY", TEST_PII_KEY)
    con = duckdb.connect(str(wh))
    gate.run_gate(con, "complaints", ["2025-02"], run_id="a1")
    before = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("dq.rule_results", "dq.quarantine", "dq.runs", "dq.month_status", "dq.month_checks",
                        "clean.complaints")}
    assert before == {"dq.rule_results": 6, "dq.quarantine": 2, "dq.runs": 1, "dq.month_status": 1,
                      "dq.month_checks": 2, "clean.complaints": 7}
    res = gate.run_gate(con, "complaints", ["2025-02"], run_id="a2", limits={"error_share": 0.25})
    assert res.partitions[0].held_back is True  # the reject share (10% > 5%) still fails
    checks = con.execute("SELECT run_id, check_name, threshold, passed FROM dq.month_checks ORDER BY 2").fetchall()
    assert checks == [("a2", "error_share", 0.25, True), ("a2", "reject_share", 0.05, False)]
    res = gate.run_gate(con, "complaints", ["2025-02"], run_id="a3", limits={"error_share": 0.25, "reject_share": 0.1})
    assert res.partitions[0].held_back is False
    assert con.execute("SELECT run_id, outcome FROM dq.month_status").fetchall() == [("a3", "passed")]
    after = {t: con.execute(f"SELECT count(*), min(run_id) FROM {t}").fetchone()
             for t in ("dq.rule_results", "dq.quarantine", "dq.runs", "dq.month_checks")}
    assert after == {"dq.rule_results": (6, "a3"), "dq.quarantine": (2, "a3"), "dq.runs": (1, "a3"),
                     "dq.month_checks": (2, "a3")}
    assert con.execute("SELECT count(*) FROM clean.complaints").fetchone() == (7,)

    def broken(*_a, **_k):
        raise RuntimeError("boom")

    monkeypatch.setattr(gate, "month_state", broken)
    with pytest.raises(RuntimeError, match="^boom$"):
        gate.run_gate(con, "complaints", ["2025-02", "2025-03"], run_id="a4")
    assert con.execute("SELECT DISTINCT run_id FROM dq.runs UNION SELECT DISTINCT run_id FROM dq.rule_results").fetchall() == [("a3",)]
    assert con.execute("SELECT count(*) FROM clean.complaints").fetchone() == (7,)
    temp = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary UNION ALL "
                       "SELECT view_name FROM duckdb_views() WHERE temporary AND view_name LIKE '_dq%'").fetchall()
    assert [t for (t,) in temp if t.startswith("_dq")] == []
    with pytest.raises(duckdb.CatalogException):
        con.execute("SELECT * FROM _dq_found")
    con.close()


def test_rows_whose_staging_row_is_gone_are_dropped(tmp_path, monkeypatch):
    wh = build(tmp_path)
    monkeypatch.setenv("CEI_PII_KEY", TEST_PII_KEY)
    con = duckdb.connect(str(wh))
    assert gate.drop_unstaged(con, "complaints", ["2025-02"]) == 0  # never gated: no clean table yet
    gate.run_gate(con, "complaints", ["2025-02", "2025-03"], run_id="d1")
    # staging rows 2 (quarantined), 3 (clean, flagged) and 6 (clean) of February are gone; March's row 1 too
    con.execute("DELETE FROM staging.complaints WHERE (partition_key = '2025-02' AND source_row IN (2, 3, 6)) "
                "OR (partition_key = '2025-03' AND source_row = 1)")
    assert gate.drop_unstaged(con, "complaints", ["2025-02"]) == 2
    assert [r[0] for r in con.execute("SELECT source_row FROM clean.complaints WHERE partition_key = '2025-02' "
                                      "ORDER BY 1").fetchall()] == [4, 7, 8, 9, 10]
    assert con.execute("SELECT source_row FROM dq.quarantine").fetchall() == [(1,)]
    assert con.execute("SELECT source_row, rule_id FROM dq.rule_results ORDER BY 1, 2").fetchall() == [
        (1, "CMP-DUP-001"), (4, "CMP-AMT-005")]
    # March was not asked: its clean row stays
    assert con.execute("SELECT count(*) FROM clean.complaints WHERE partition_key = '2025-03'").fetchone() == (5,)
    con.close()


def test_a_table_never_gated_and_an_unknown_table():
    con = duckdb.connect()
    with pytest.raises(ValueError, match="^unknown table 'nope'"):
        gate.run_gate(con, "nope", ["2025-01"])
    with pytest.raises(ValueError, match="^unknown table 'nope'"):
        gate.month_state(con, "nope", ["2025-01"])
    with pytest.raises(ValueError, match="^unknown table 'nope'"):
        gate.drop_unstaged(con, "nope", ["2025-01"])


def test_ensure_tables_writes_the_rulebook_given_and_leaves_no_frame_behind(tmp_path, monkeypatch):
    from data_quality.rulebook import Rule, Rulebook, load_rulebook_full

    monkeypatch.setenv("CEI_PII_KEY", TEST_PII_KEY)
    full = load_rulebook_full()
    one = Rule(id="CMP-TST-001", table="complaints", family="fam", dimension="accuracy", severity="warn", basis="b",
               description_zh="z", description_en="e", columns=("record_id",), where="record_id IS NULL")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    gate.ensure_tables(con, Rulebook(version=1, keys=full.keys, rules=(one,)))
    assert con.execute("SELECT rule_id, table_name, family, dimension, dimension_zh, severity, basis, description_zh, "
                       "description_en FROM dq.rules").fetchall() == [
        ("CMP-TST-001", "complaints", "fam", "accuracy", "准确性", "warn", "b", "z", "e")]
    names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() UNION ALL "
                                       "SELECT view_name FROM duckdb_views()").fetchall()}
    assert "_rules_frame" not in names
    gate.ensure_tables(con)  # again, with the shipped rulebook: replaced, not added to
    assert con.execute("SELECT count(*) FROM dq.rules").fetchall() == [(len(full.rules),)]
    con.close()


def test_a_rulebook_given_is_the_one_used_and_an_empty_month_is_judged_too(tmp_path, monkeypatch):
    from data_quality.rulebook import Rule, Rulebook, load_rulebook_full

    wh = build(tmp_path)
    monkeypatch.setenv("CEI_PII_KEY", TEST_PII_KEY)
    one = Rule(id="CMP-TST-001", table="complaints", family="fam", dimension="accuracy", severity="warn", basis="b",
               description_zh="z", description_en="e", columns=("amount_disputed",), where="amount_disputed < 0")
    gone = Rule(id="CMP-TST-002", table="complaints", family="fam", dimension="accuracy", severity="error", basis="b",
                description_zh="z", description_en="e", columns=("nope",), where="nope IS NULL")
    rb = Rulebook(version=1, keys=load_rulebook_full().keys, rules=(one, gone))
    con = duckdb.connect(str(wh))
    result = gate.run_gate(con, "complaints", ["2025-02", "2025-07"], rulebook=rb)
    assert len(result.run_id) == 12 and int(result.run_id, 16) >= 0
    assert result.skipped_rules == {"CMP-TST-002": "columns not in _dq_scope: nope"}
    assert 0 < result.seconds < 600  # the time the gate took
    assert con.execute("SELECT rule_id FROM dq.rules ORDER BY 1").fetchall() == [("CMP-TST-001",), ("CMP-TST-002",)]
    assert con.execute("SELECT source_row, rule_id, severity FROM dq.rule_results").fetchall() == [(2, "CMP-TST-001", "warn")]
    assert con.execute("SELECT count(*) FROM dq.quarantine").fetchall() == [(0,)]
    feb, jul = result.partitions
    assert (feb.partition, feb.rows_staged, feb.rows_clean, feb.rows_flagged) == ("2025-02", 9, 9, 1)
    assert (jul.partition, jul.rows_staged, jul.rows_clean, jul.rows_quarantined, jul.rows_rejected, jul.held_back) == (
        "2025-07", 0, 0, 0, 0, False)
    assert con.execute("SELECT partition_key, staging_rows, staging_fingerprint, outcome FROM dq.month_status "
                       "ORDER BY 1").fetchall()[1] == ("2025-07", 0, None, "passed")
    con.close()


def test_a_month_is_stale_when_the_month_it_looked_back_at_is_redelivered(tmp_path, monkeypatch):
    """March is judged with February as context (a record id repeated across months is quarantined in
    the later month), so its gate keeps February's staging rows and fingerprint as read; a re-delivery
    of February makes March stale — a period holding March but not February is refused and `cei run`
    gates March again — until March is gated on the new February."""
    from data_quality.publishability import check_period, looking_back_at, unsettled_partitions

    wh = build(tmp_path)
    monkeypatch.setenv("CEI_PII_KEY", TEST_PII_KEY)
    con = duckdb.connect(str(wh))
    gate.run_gate(con, "complaints", ["2025-02", "2025-03"], run_id="c1")
    state = {r[0]: r[1:3] for r in gate.month_state(con, "complaints", ["2025-01", "2025-02"])}
    assert con.execute("SELECT partition_key, context_partition, context_rows, context_fingerprint FROM dq.month_status "
                       "ORDER BY 1").fetchall() == [("2025-02", "2025-01", *state["2025-01"]),
                                                    ("2025-03", "2025-02", *state["2025-02"])]
    assert check_period(con, "32", "2025-03").publishable
    assert "2025-03" not in unsettled_partitions(con, "complaints")
    # the months `cei run` gates again with a restaged month: the gated month after it
    assert [looking_back_at(con, m) for m in (["2025-02"], ["2025-01", "2025-02"], ["2025-03"], ["2024-12"])] == [
        ["2025-03"], ["2025-02", "2025-03"], [], []]

    # February re-delivered: one of its records now carries the id of March's first record
    march_first = clean_rows(5, "2025-03", 3)[0]["record_id"]
    feb = clean_rows(10, "2025-02", 2)
    feb[5]["record_id"] = march_first
    (tmp_path / "again").mkdir()
    redelivery = write_csv(tmp_path / "again" / "complaints_2025-02_v2.csv", feb)
    assert [r.status for r in ingest_paths(con, [redelivery], warehouse=wh)] == ["loaded"]
    verdict = check_period(con, "32", "2025-03")
    assert [(p.table, p.partition, p.state) for p in verdict.problems] == [("complaints", "2025-03", "stale")]
    assert "2025-03 stale: the month before (2025-02) changed since this month's gate at " in verdict.message()
    assert "cross-month rules look back at it (complaints)" in verdict.message()
    assert "2025-03 上月（2025-02）暂存数据在本月上次检查（" in verdict.banner("zh")
    assert {"2025-02", "2025-03"} <= set(unsettled_partitions(con, "complaints"))
    # what stale March still holds: its first row clean, though February now has its record id
    assert con.execute("SELECT count(*) FROM clean.complaints WHERE record_id = $r", {"r": march_first}).fetchone() == (1,)

    # gated again (as `cei run` does with the unsettled months): the duplicate is found, March is current
    gate.run_gate(con, "complaints", ["2025-02", "2025-03"], run_id="c2", limits={"error_share": 0.25})
    assert con.execute("SELECT partition_key, source_row, rule_ids FROM dq.quarantine WHERE record_key = $r",
                       {"r": march_first}).fetchall() == [("2025-03", 1, ["CMP-DUP-001"])]
    assert check_period(con, "32", "2025-03").publishable
    assert "2025-03" not in unsettled_partitions(con, "complaints")
    con.close()


def test_a_gate_record_without_its_look_back_month_is_stale_only_when_that_month_has_rows(tmp_path, monkeypatch):
    """Rows of dq.month_status written before the look-back columns existed (a warehouse of an older
    version, read-only before any new gate): what the gate compared the month with is unknown, so a
    month whose month before holds staging rows is stale; one without (January: no December) is not.
    ensure_tables adds the columns to such a warehouse."""
    from data_quality.publishability import check_period

    wh = build(tmp_path)
    monkeypatch.setenv("CEI_PII_KEY", TEST_PII_KEY)
    with duckdb.connect(str(wh)) as con:
        gate.run_gate(con, "complaints", ["2025-01", "2025-03"], run_id="o1")
        for column in ("context_partition", "context_rows", "context_fingerprint"):
            con.execute(f"ALTER TABLE dq.month_status DROP COLUMN {column}")
    with duckdb.connect(str(wh), read_only=True) as con:
        march = check_period(con, "32", "2025-03")
        assert [(p.partition, p.state) for p in march.problems] == [("2025-03", "stale")]
        assert "the month before (2025-02) was not recorded by this month's gate at" in march.message()
        assert "未记录上月（2025-02）数据状态" in march.banner("zh")
        assert check_period(con, "32", "2025-01").publishable
    with duckdb.connect(str(wh)) as con:
        gate.ensure_tables(con)
        assert con.execute("SELECT partition_key, context_partition FROM dq.month_status ORDER BY 1").fetchall() == [
            ("2025-01", None), ("2025-03", None)]
        assert [p.partition for p in check_period(con, "32", "2025-03").problems] == ["2025-03"]
