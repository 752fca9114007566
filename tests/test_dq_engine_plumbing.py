"""data_quality.engine with a hand-made rulebook on tiny hand-made tables: exact results (record key,
row reference, detail, rule metadata, order, one row per (row, rule)), the candidate route each row rule
takes, skipped rules, the exact refusal messages, and the quarantine / summary frames built from results.

Fast and in-process (no warehouse), so `make mutation` runs it against every engine.py mutant
(TESTING.md, "Mutation testing").
"""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from data_quality import engine
from data_quality.rulebook import Rule, Rulebook

KEYS = {"t": (("id", None),), "h": (("unit", None), ("month", "%Y-%m"))}


def rule(rid, *, table="t", severity="error", columns=("v",), where=None, query=None, detail=None, params=None,
         family="fam", dimension="accuracy", enabled=True):
    return Rule(id=rid, table=table, family=family, dimension=dimension, severity=severity, basis="b",
                description_zh="z", description_en="e", columns=tuple(columns), where=where, query=query,
                detail=detail, params=params or {}, enabled=enabled)


def book(*rules):
    return Rulebook(version=1, keys=KEYS, rules=tuple(rules))


@pytest.fixture(scope="module")
def tcon():
    """In-memory DuckDB with t(id, v, code, seq) of 8 rows, h(unit, month, n), and macros of its own."""
    c = duckdb.connect()
    c.execute("""CREATE TABLE t AS SELECT * FROM (VALUES
        ('a', 5, 'x1', 1), ('b', -1, 'x1', 2), ('c', 200, 'y2', 3), ('d', -7, 'y2', 4),
        ('b', 3, 'x1', 5), ('e', 150, 'y2', 6), ('f', 0, 'x1', 7), ('g', -2, 'zz', 8)) AS v(id, v, code, seq)""")
    c.execute("""CREATE TABLE h AS SELECT * FROM (VALUES
        ('U1', DATE '2025-03-01', 4), (NULL, DATE '2025-04-01', 5), ('U2', NULL, -1)) AS v(unit, month, n)""")
    c.execute("CREATE MACRO m_sub(x) AS x IN (SELECT 1)")
    c.execute("CREATE MACRO m_outer(x) AS m_sub(x) OR false")
    c.execute("CREATE MACRO m_plain(x) AS x + 1")
    yield c
    c.close()


def test_row_and_table_rules_give_exact_rows_in_rulebook_then_relation_order(tcon):
    rb = book(
        rule("R-NEG", where="v < 0", detail="'v=' || v"),
        rule("R-BIG", severity="warn", where="v > {limit}", params={"limit": 100}, family="big",
             dimension="conformity"),
        rule("R-DUP", columns=("id",), query="SELECT {key} AS record_key, {row_ref} AS row_ref, 'dup ' || id AS detail "
                                              "FROM {rel} WHERE id IN (SELECT id FROM {rel} GROUP BY id HAVING count(*) > 1) "
                                              "ORDER BY seq DESC"),
        rule("R-OFF", where="v = 5", enabled=False),
        rule("R-OTHER", table="h", columns=("n",), where="n < 0"),
    )
    res = engine.evaluate(tcon, "t", "t", rulebook=rb, run_id="run1", prepared=True)
    assert list(res.columns) == engine.RESULT_COLUMNS
    assert res[["record_key", "row_ref", "rule_id", "detail"]].values.tolist() == [
        ["b", "b", "R-NEG", "v=-1"], ["d", "d", "R-NEG", "v=-7"], ["g", "g", "R-NEG", "v=-2"],
        ["c", "c", "R-BIG", None], ["e", "e", "R-BIG", None],
        # the business key is the row reference here (no _row, no load_id/source_row): 'b' twice is reported once
        ["b", "b", "R-DUP", "dup b"],
    ]
    meta = res[["table_name", "family", "dimension", "dimension_zh", "severity", "run_id"]].values.tolist()
    neg = ["t", "fam", "accuracy", "准确性", "error", "run1"]
    assert meta == [neg] * 3 + [["t", "big", "conformity", "规范性", "warn", "run1"]] * 2 + [neg]
    assert list(res.attrs["seconds"]) == ["R-NEG", "R-BIG", "R-DUP"]
    assert res.attrs["skipped"] == {}
    assert res.attrs["row_routes"] == {"direct": ["R-NEG", "R-BIG"], "distinct": {}, "narrow": []}
    assert res.attrs["row_scan_seconds"] >= 0


def test_rule_ids_select_rules_and_missing_columns_skip_them_by_name(tcon):
    rb = book(rule("R-NEG", where="v < 0"), rule("R-GONE", columns=("v", "nope", "absent"), where="nope > 0"),
              rule("R-BIG", where="v > 100"))
    res = engine.evaluate(tcon, "t", "t", rulebook=rb, rule_ids={"R-GONE", "R-BIG"}, prepared=True)
    assert res[["row_ref", "rule_id"]].values.tolist() == [["c", "R-BIG"], ["e", "R-BIG"]]
    assert res.attrs["skipped"] == {"R-GONE": "columns not in t: absent, nope"}
    assert list(res.attrs["seconds"]) == ["R-BIG"]
    assert len(res.run_id.iloc[0]) == 12 and set(res.run_id) == {res.run_id.iloc[0]}
    # a key column missing from the relation skips every rule of the table
    rb2 = Rulebook(version=1, keys={"t": (("id", None), ("region", None))}, rules=(rule("R-NEG", where="v < 0"),))
    res2 = engine.evaluate(tcon, "t", "t", rulebook=rb2, prepared=True)
    assert res2.empty and list(res2.columns) == engine.RESULT_COLUMNS
    assert res2.attrs["skipped"] == {"R-NEG": "columns not in t: region"}
    assert res2.attrs["row_routes"] is None and res2.attrs["seconds"] == {} and res2.attrs["row_scan_seconds"] == 0


def test_no_violation_gives_an_empty_frame_with_the_result_columns(tcon):
    res = engine.evaluate(tcon, "t", "t", rulebook=book(rule("R-NONE", where="v > 1000"),
                                                        rule("R-Q", query="SELECT id AS record_key, id AS row_ref, "
                                                                          "NULL AS detail FROM {rel} WHERE false")),
                          run_id="r0", prepared=True)
    assert res.empty and list(res.columns) == engine.RESULT_COLUMNS
    assert list(res.attrs["seconds"]) == ["R-NONE", "R-Q"]
    assert res.attrs["row_routes"] == {"direct": ["R-NONE"], "distinct": {}, "narrow": []}


def test_composite_key_with_a_date_format_and_missing_parts(tcon):
    rb = book(rule("H-NEG", table="h", columns=("n",), where="n < 0"), rule("H-ALL", table="h", columns=("n",), where="n > -5"))
    res = engine.evaluate(tcon, "h", "h", rulebook=rb, run_id="r", prepared=True)
    # no row numbers: a row rule's rows in the order of the key (the row identity here), '|' after 'U'
    assert res[["record_key", "row_ref", "rule_id"]].values.tolist() == [
        ["U2|", "U2|", "H-NEG"], ["U1|2025-03", "U1|2025-03", "H-ALL"], ["U2|", "U2|", "H-ALL"],
        ["|2025-04", "|2025-04", "H-ALL"]]
    assert set(res.table_name) == {"h"}


def test_row_refs_from_load_and_source_row_sort_numerically(tcon):
    tcon.execute("""CREATE OR REPLACE TEMP TABLE staged AS SELECT * FROM (VALUES
        (10, 1, 'a', -1), (9, 2, 'a', -2), (9, 10, 'b', -3), (9, 9, 'c', 4)) AS v(load_id, source_row, id, v)""")
    rb = book(rule("R-NEG", where="v < 0"),
              rule("R-FIRST", columns=("id",), query="SELECT {key} AS record_key, {row_ref} AS row_ref, "
                                                     "{key_s} AS detail FROM {rel} s QUALIFY row_number() OVER "
                                                     "(PARTITION BY id ORDER BY {row_order_s}) = 1 ORDER BY {row_ref_s}"))
    res = engine.evaluate(tcon, "t", "staged", rulebook=rb, prepared=True)
    assert res[["record_key", "row_ref", "rule_id", "detail"]].values.tolist() == [
        # a row rule's rows in row-identity order, numerically (not as stored: 10:1 was inserted first)
        ["a", "9:2", "R-NEG", None], ["b", "9:10", "R-NEG", None], ["a", "10:1", "R-NEG", None],
        # earliest-loaded row per id: load 9 before load 10, source row 9 before 10
        ["b", "9:10", "R-FIRST", "b"], ["a", "9:2", "R-FIRST", "a"], ["c", "9:9", "R-FIRST", "c"]]


def test_a_frame_is_judged_by_row_position_and_unregistered_after(tcon):
    df = pd.DataFrame({"id": ["p", "q", "r"], "v": [1, -4, -5]}, index=[7, 3, 5])
    rb = book(rule("R-NEG", where="v < 0", detail="'v=' || v"))
    res = engine.evaluate_frame(df, "t", tcon, rulebook=rb, run_id="rf")
    assert res[["record_key", "row_ref", "detail", "run_id"]].values.tolist() == [["q", "1", "v=-4", "rf"],
                                                                                  ["r", "2", "v=-5", "rf"]]
    assert list(df.columns) == ["id", "v"]  # the caller's frame is left alone
    names = {r[0] for r in tcon.execute("SELECT table_name FROM duckdb_tables() UNION ALL "
                                        "SELECT view_name FROM duckdb_views()").fetchall()}
    assert "_dq_frame" not in names
    # without a connection: a fresh one, prepared (the rule uses a macro from sql/macros)
    own = engine.evaluate_frame(pd.DataFrame({"id": ["m"], "v": [-1]}), "t",
                                rulebook=book(rule("R-MAC", where="pii_mask_numbers('13812345678') <> '13812345678' AND v < 0")))
    assert own[["row_ref", "rule_id"]].values.tolist() == [["0", "R-MAC"]]


def test_evaluate_prepares_a_fresh_connection_unless_told_it_is_prepared():
    c = duckdb.connect()
    c.execute("CREATE TABLE t AS SELECT 'a' AS id, -1 AS v")
    rb = book(rule("R-MAC", where="pii_mask_numbers('13812345678') <> '13812345678' AND v < 0"))
    assert engine.evaluate(c, "t", "t", rulebook=rb)[["row_ref", "rule_id"]].values.tolist() == [["a", "R-MAC"]]
    c2 = duckdb.connect()
    c2.execute("CREATE TABLE t AS SELECT 'a' AS id, -1 AS v")
    with pytest.raises(RuntimeError, match="^rule R-MAC failed on t: "):
        engine.evaluate(c2, "t", "t", rulebook=rb, prepared=True)


def test_candidate_routes_distinct_narrow_and_direct(tcon):
    # code has 3 distinct values in 8 rows (ratio 0.375 <= 0.5): the regexp rule goes the distinct route;
    # id has 7 distinct in 8 (> 0.5) and the subquery rule goes narrow; a macro with a subquery, through
    # another macro, is a subquery too; a rule reading a column it does not declare stays direct
    rb = book(
        rule("R-RX", columns=("code",), where="NOT regexp_matches(code, '^[xy][0-9]$')", detail="code"),
        rule("R-SUB", columns=("id",), where="id IN (SELECT 'c' UNION ALL SELECT 'f')"),
        rule("R-MAC", columns=("v",), where="m_outer(v)"),
        rule("R-UND", columns=("code", "id"), where="regexp_matches(code, '^y') AND v > 160"),
        rule("R-CHEAP", where="v = 0"),
    )
    res = engine.evaluate(tcon, "t", "t", rulebook=rb, run_id="r", prepared=True)
    assert res.attrs["row_routes"] == {"direct": ["R-UND", "R-CHEAP"], "distinct": {("code",): ["R-RX"]},
                                       "narrow": ["R-SUB", "R-MAC"]}
    assert res[["row_ref", "rule_id", "detail"]].values.tolist() == [
        ["g", "R-RX", "zz"], ["c", "R-SUB", None], ["f", "R-SUB", None], ["c", "R-UND", None], ["f", "R-CHEAP", None]]
    # a rule whose SQL reads a column it does not declare (v) cannot be judged per distinct code: direct
    und = engine.evaluate(tcon, "t", "t", rulebook=book(rule("R-UND", columns=("code",),
                                                             where="regexp_matches(code, '^y') AND v > 160")),
                          prepared=True)
    assert und.attrs["row_routes"] == {"direct": ["R-UND"], "distinct": {}, "narrow": []}
    assert und.row_ref.tolist() == ["c"]
    # the same rules with every route direct give the same rows
    for r in rb.rules:
        solo = engine.evaluate(tcon, "t", "t", rulebook=book(r), run_id="r", prepared=True)
        assert solo[["row_ref", "rule_id", "detail"]].values.tolist() == \
            res[res.rule_id == r.id][["row_ref", "rule_id", "detail"]].values.tolist()


def test_distinct_route_at_exactly_half_distinct(tcon):
    tcon.execute("CREATE OR REPLACE TEMP TABLE half AS SELECT * FROM (VALUES "
                 "('a', 'k1'), ('b', 'k1'), ('c', 'k2'), ('d', 'zz')) AS v(id, code)")
    tcon.execute("CREATE OR REPLACE TEMP TABLE more AS SELECT * FROM (VALUES "
                 "('a', 'k1'), ('b', 'k1'), ('c', 'k2'), ('d', 'zz'), ('e', 'k3')) AS v(id, code)")
    rb = book(rule("R-RX", columns=("code",), where="NOT regexp_matches(code, '^k')"))
    half = engine.evaluate(tcon, "t", "half", rulebook=rb, prepared=True)  # 2 distinct... of 4 = 0.5
    assert half.attrs["row_routes"]["distinct"] == {}  # 3 distinct codes of 4 rows: 0.75
    tcon.execute("CREATE OR REPLACE TEMP TABLE half AS SELECT * FROM (VALUES "
                 "('a', 'k1'), ('b', 'k1'), ('c', 'zz'), ('d', 'zz')) AS v(id, code)")
    half = engine.evaluate(tcon, "t", "half", rulebook=rb, prepared=True)  # 2 distinct of 4 rows = 0.5
    assert half.attrs["row_routes"] == {"direct": [], "distinct": {("code",): ["R-RX"]}, "narrow": []}
    assert half.row_ref.tolist() == ["c", "d"]
    more = engine.evaluate(tcon, "t", "more", rulebook=rb, prepared=True)
    assert more.attrs["row_routes"] == {"direct": ["R-RX"], "distinct": {}, "narrow": []}
    assert more.row_ref.tolist() == ["d"]
    tcon.execute("CREATE OR REPLACE TEMP TABLE none_ AS SELECT 'a' AS id, 'k' AS code WHERE false")
    empty = engine.evaluate(tcon, "t", "none_", rulebook=rb, prepared=True)
    assert empty.empty and empty.attrs["row_routes"] == {"direct": ["R-RX"], "distinct": {}, "narrow": []}


def test_macro_and_predicate_traits(tcon):
    macros = engine._macro_traits(tcon)
    assert (macros["m_sub"], macros["m_outer"], macros["m_plain"]) == ((True, True), (True, True), (False, True))
    assert engine._predicate_traits("v > 0 AND upper(code) = 'A'", macros) == (False, False)
    assert engine._predicate_traits("M_PLAIN(v) > 0", macros) == (False, True)
    assert engine._predicate_traits("m_outer (v)", macros) == (True, True)
    assert engine._predicate_traits("regexp_matches(code, 'x')", macros) == (False, True)
    assert engine._predicate_traits("try_strptime(code, '%Y')", macros) == (False, True)
    assert engine._predicate_traits("v in (select 1)", macros) == (True, True)
    assert engine._predicate_traits("exists (from t)", macros) == (True, True)
    assert engine._predicate_traits("my_regexp_x(v)", macros) == (False, False)


def test_a_failing_rule_is_named_with_its_sql(tcon):
    rb = book(rule("R-OK", where="v < 0"), rule("R-BAD", where="no_such_function(v) > 0"))
    with pytest.raises(RuntimeError) as err:
        engine.evaluate(tcon, "t", "t", rulebook=rb, prepared=True)
    msg = str(err.value)
    assert msg.startswith("rule R-BAD failed on t: ") and "\nSQL: SELECT " in msg and "no_such_function(v) > 0" in msg
    rb = book(rule("R-QBAD", query="SELECT nope AS record_key FROM {rel}"))
    with pytest.raises(RuntimeError) as err:
        engine.evaluate(tcon, "t", "t", rulebook=rb, prepared=True)
    msg = str(err.value)
    assert msg.startswith("rule R-QBAD failed on t: ") and msg.endswith('\nSQL: SELECT record_key, row_ref, '
                                                                        'CAST(detail AS VARCHAR) AS detail FROM '
                                                                        '(SELECT nope AS record_key FROM "t")')


@pytest.mark.parametrize("relation", ["a.b.c.d", "", "a..b", "bad-name", "1t", "t;drop"])
def test_relation_names_are_plain_identifiers(tcon, relation):
    with pytest.raises(ValueError, match=r"^relation .*: expected \[catalog.\]\[schema.\]name of plain identifiers$"):
        engine.evaluate(tcon, "t", relation, rulebook=book(rule("R-NEG", where="v < 0")), prepared=True)


def test_qualified_relation_and_templates_filled(tcon):
    tcon.execute("CREATE SCHEMA IF NOT EXISTS s2")
    tcon.execute("CREATE OR REPLACE TABLE s2.t AS SELECT * FROM (VALUES ('a', 'x', 1.5), ('b', 'it''s', 0.5), ('c', '微信', 2.0)) AS v(id, code, v)")
    rb = book(rule("R-VOC", columns=("code", "v"), where="NOT list_contains({vocab:CHANNELS}, code) AND v > {cut}",
                   detail="{rel_name} || ':' || code", params={"cut": 1.25}))
    res = engine.evaluate(tcon, "t", "memory.s2.t", rulebook=rb, prepared=True)
    assert res[["row_ref", "detail"]].values.tolist() == [["a", "memory.s2.t:x"]]
    sql = engine.render(rb.rules[0], rb, "s2.t", {"id", "code", "v"})
    assert "'" + "it''s" not in sql and "> 1.25" in sql and 'FROM "s2"."t"' in sql


def test_sql_lists_escape_quotes(tcon):
    listed = engine._sql_list(["a", "o'k", 3])
    assert tcon.execute("SELECT " + listed).fetchall()[0][0] == ["a", "o'k", "3"]
    assert tcon.execute(f"SELECT {engine._sql_list([])}").fetchall()[0][0] == []


def test_quarantine_has_the_error_rules_per_row_and_summary_counts_every_rule():
    res = pd.DataFrame({"row_ref": ["2", "1", "2", "2", "3"], "record_key": ["k2", "k1", "k2", "k2", "k3"],
                        "rule_id": ["B", "A", "A", "B", "W"], "severity": ["error", "error", "error", "error", "warn"]})
    q = engine.quarantined(res)
    assert list(q.columns) == ["row_ref", "record_key", "rule_ids"]
    assert q.values.tolist() == [["1", "k1", ["A"]], ["2", "k2", ["A", "B"]]]
    rb = book(rule("A", where="v < 0"), rule("W", severity="warn", where="v > 0", family="w", dimension="timeliness"),
              rule("B", where="v = 0"), rule("H1", table="h", columns=("n",), where="n < 0"))
    s = engine.summary(res, rb, "t")
    assert s.to_dict("records") == [
        {"rule_id": "A", "family": "fam", "dimension": "accuracy", "severity": "error", "violations": 2},
        {"rule_id": "W", "family": "w", "dimension": "timeliness", "severity": "warn", "violations": 1},
        {"rule_id": "B", "family": "fam", "dimension": "accuracy", "severity": "error", "violations": 2}]
    assert engine.summary(res, rb)["rule_id"].tolist() == ["A", "W", "B", "H1"]
    full = engine.summary(res.iloc[:0])
    assert len(full) > 50 and set(full.violations) == {0}


def test_a_frame_is_prepared_once_its_index_is_not_data_and_skips_name_it(tcon, monkeypatch):
    calls = []
    real = engine.prepare
    monkeypatch.setattr(engine, "prepare", lambda con, **kw: calls.append(con) or real(con, **kw))
    df = pd.DataFrame({"id": ["p", "q"]}, index=pd.Index([-1, -2], name="v"))
    rb = book(rule("R-NEG", where="v < 0"))
    res = engine.evaluate_frame(df, "t", tcon, rulebook=rb)
    assert calls == []  # a connection given is already prepared: not prepared again
    assert res.empty and res.attrs["skipped"] == {"R-NEG": "columns not in _dq_frame: v"}  # the index is not a column
    engine.evaluate_frame(df.reset_index(), "t", rulebook=rb)
    assert len(calls) == 1  # a fresh connection is prepared once


def test_rules_over_the_same_columns_share_one_distinct_route(tcon):
    tcon.execute("""CREATE OR REPLACE TEMP TABLE dd AS SELECT * FROM (VALUES
        ('a', 'x1', 1), ('b', 'x1', 1), ('c', 'y2', 2), ('d', 'y2', 2), ('e', 'x1', 1), ('f', 'x1', 1),
        ('g', 'zz', 3), ('h', 'zz', 3)) AS v(id, code, k)""")  # 3 distinct (code, k) of 8 rows
    rb = book(rule("R-A", columns=("code", "k"), where="NOT regexp_matches(code, '^[xy]') AND k > 0"),
              rule("R-B", columns=("k", "code"), where="regexp_matches(code, '^y') AND k = 2"))
    res = engine.evaluate(tcon, "t", "dd", rulebook=rb, prepared=True)
    assert res.attrs["row_routes"] == {"direct": [], "distinct": {("code", "k"): ["R-A", "R-B"]}, "narrow": []}
    assert res[["row_ref", "rule_id"]].values.tolist() == [["g", "R-A"], ["h", "R-A"], ["c", "R-B"], ["d", "R-B"]]


def test_prepare_accepts_an_abolished_region_code_for_one_grace_year():
    """320802 (清河区, 淮安) was abolished during 2016: records of 2016 may carry it, of 2017 not."""
    con = duckdb.connect()
    engine.prepare(con)
    got = con.execute("SELECT region_code_status('320802', DATE '2016-06-30'), region_code_status('320802', DATE '2017-06-30'), "
                      "region_code_status('320812', DATE '2015-06-30')").fetchall()
    assert got == [("valid", "abolished", "not_yet_created")]
    assert con.execute("SELECT uscc_is_valid('91320402MA1MXXXX0X')").fetchall() == [(False,)]  # the code macros
    names = {r[0] for r in con.execute("SELECT function_name FROM duckdb_functions() WHERE function_type = 'macro' "
                                       "UNION ALL SELECT table_name FROM duckdb_tables()").fetchall()}
    assert {"complaint_chronology_ok", "dq_workday_calendar", "dq_deadline_limits"} <= names
    con.close()


def test_prepare_passes_its_calendar_and_grace_years_on():
    from reference.calendar import WorkdayCalendar

    # 2025-03-03 is a Monday: a working day in the shipped calendar, a holiday in this one
    extra = pd.DataFrame({"date": [pd.Timestamp("2025-03-03").date()], "kind": ["holiday"]})
    con = duckdb.connect()
    engine.prepare(con, calendar=WorkdayCalendar(extra_holidays=extra), grace_years=0)
    assert con.execute("SELECT is_workday FROM dq_workday_calendar WHERE day = DATE '2025-03-03'").fetchall() == [(False,)]
    assert con.execute("SELECT region_code_status('320802', DATE '2016-06-30')").fetchall() == [("abolished",)]
    engine.prepare(con)
    assert con.execute("SELECT is_workday FROM dq_workday_calendar WHERE day = DATE '2025-03-03'").fetchall() == [(True,)]
    con.close()


def test_render_selects_the_violations_of_a_rule(tcon):
    cols = {"id", "v", "code", "seq"}
    rb = book(rule("R-NEG", where="v < 0", detail="'v=' || v"), rule("R-BIG", where="v > 100"),
              rule("R-Q", query="SELECT {key} AS record_key, {row_ref} AS row_ref, code AS detail FROM {rel} WHERE seq = 2"))
    rows = {r.id: tcon.execute(engine.render(r, rb, "t", cols)).fetchall() for r in rb.rules}
    assert rows == {"R-NEG": [("b", "b", "v=-1"), ("d", "d", "v=-7"), ("g", "g", "v=-2")],
                    "R-BIG": [("c", "c", None), ("e", "e", None)], "R-Q": [("b", "b", "x1")]}


def test_the_earliest_row_by_row_identity_whatever_the_key_order(tcon):
    """{row_order} is the row identity (_row in a frame, load and row in staging, else the key), and
    {row_order_x} / {key_x} / {row_ref_x} are qualified by the alias x, so a self-join can use them."""
    first = ("SELECT {key_a} AS record_key, {row_ref_a} AS row_ref, 'first of ' || a.code AS detail FROM {rel} a "
             "JOIN (SELECT code, min(_o) AS _o FROM (SELECT code, row_number() OVER (ORDER BY {row_order}) AS _o "
             "FROM {rel}) GROUP BY code) m ON m.code = a.code "
             "JOIN (SELECT *, row_number() OVER (ORDER BY {row_order}) AS _o FROM {rel}) b "
             "ON b._o = m._o AND {row_ref_b} = {row_ref_a} ORDER BY a.code, {row_order_a}")
    rb = book(rule("R-FIRST", columns=("code",), query=first))
    frame = pd.DataFrame({"id": ["z", "a", "m", "b"], "code": ["x", "x", "y", "y"]})
    res = engine.evaluate_frame(frame, "t", tcon, rulebook=rb)
    assert res[["record_key", "row_ref", "detail"]].values.tolist() == [["z", "0", "first of x"], ["m", "2", "first of y"]]
    tcon.execute("CREATE OR REPLACE TEMP TABLE loads AS SELECT * FROM (VALUES (10, 1, 'a', 'x'), (9, 2, 'z', 'x'), "
                 "(9, 10, 'b', 'y'), (9, 9, 'c', 'y')) AS v(load_id, source_row, id, code)")
    res = engine.evaluate(tcon, "t", "loads", rulebook=rb, prepared=True)
    assert res[["record_key", "row_ref"]].values.tolist() == [["z", "9:2"], ["c", "9:9"]]
    tcon.execute("CREATE OR REPLACE TEMP TABLE keyed AS SELECT * FROM (VALUES ('q', 'x'), ('b', 'x'), ('c', 'y')) "
                 "AS v(id, code)")
    res = engine.evaluate(tcon, "t", "keyed", rulebook=rb, prepared=True)  # no row numbers: the key orders
    assert res[["record_key", "row_ref"]].values.tolist() == [["b", "b"], ["c", "c"]]


def test_a_quote_in_a_key_date_format_is_kept(tcon):
    rb = Rulebook(version=1, keys={"h": (("unit", None), ("month", "%Y'%m"))},
                  rules=(rule("H-NEG", table="h", columns=("n",), where="n > 4"),))
    res = engine.evaluate(tcon, "h", "h", rulebook=rb, prepared=True)
    assert res[["record_key", "row_ref"]].values.tolist() == [["|2025'04", "|2025'04"]]


# --- issue 13, mutation testing: survivors of the engine run, killed with exact values ---------------------

def test_a_macro_calling_a_plain_macro_holds_no_subquery_and_cycles_end():
    """A macro is marked as holding a subquery only through a callee that holds one (not merely because it
    calls a macro), and macros that call each other in a cycle (DuckDB allows it with CREATE OR REPLACE)
    are followed once, not forever."""
    c = duckdb.connect()
    try:
        c.execute("CREATE MACRO m_plain(x) AS x + 1")
        c.execute("CREATE MACRO m_calls_plain(x) AS m_plain(x) * 2")
        c.execute("CREATE MACRO cyc_b(x) AS x + 1")
        c.execute("CREATE MACRO cyc_a(x) AS cyc_b(x) * 2")
        c.execute("CREATE OR REPLACE MACRO cyc_b(x) AS cyc_a(x) + 1")
        traits = engine._macro_traits(c)
        assert traits["m_calls_plain"] == (False, True)
        assert traits["m_plain"] == (False, True)
        # no subquery anywhere in the cycle, so each call is followed (no short cut) until the cycle closes
        assert traits["cyc_a"] == (False, True) and traits["cyc_b"] == (False, True)
        assert engine._predicate_traits("m_calls_plain(v) > 2", traits) == (False, True)
    finally:
        c.close()


def test_an_integer_parameter_is_written_as_an_integer(tcon):
    """{limit} = 100 is filled in as 100, not 100.0; a float parameter keeps its decimal form."""
    rb = book(rule("R-LIM", where="v > {limit}", detail="'over ' || {limit} || ' by ' || {cut}",
                   params={"limit": 100, "cut": 0.5}))
    res = engine.evaluate(tcon, "t", "t", rulebook=rb, prepared=True)
    assert res[["row_ref", "detail"]].values.tolist() == [["c", "over 100 by 0.5"], ["e", "over 100 by 0.5"]]


def test_row_scan_sql_called_without_routes_scans_every_rule_directly(tcon):
    """_row_scan_sql's own default (every rule on the direct route) gives the same rows as evaluate."""
    rb = book(rule("R-NEG", where="v < 0", detail="'v=' || v"), rule("R-BIG", where="v > {limit}", params={"limit": 100}))
    sql = engine._row_scan_sql(tcon, list(enumerate(rb.rules)), rb, "t", {"id", "v", "code", "seq"}, "t")
    rows = tcon.execute(f"SELECT record_key, _pos, detail FROM ({sql}) ORDER BY _ord, _pos").fetchall()
    assert rows == [("b", 0, "v=-1"), ("c", 1, None), ("d", 0, "v=-7"), ("e", 1, None), ("g", 0, "v=-2")]


def test_each_rule_is_timed_in_seconds_to_four_places(tcon):
    rb = book(rule("R-NEG", where="v < 0"), rule("R-DUP", columns=("id",), query="SELECT id AS record_key, id AS row_ref, "
                                                                               "NULL AS detail FROM {rel} WHERE id = 'b'"))
    res = engine.evaluate(tcon, "t", "t", rulebook=rb, prepared=True)
    seconds = res.attrs["seconds"]
    assert list(seconds) == ["R-NEG", "R-DUP"]
    # measured, not a constant: floats rounded to 0.1 ms (a generous bound: the machine may be busy)
    assert all(isinstance(s, float) and s == round(s, 4) and 0 <= s < 60 for s in seconds.values()), seconds
