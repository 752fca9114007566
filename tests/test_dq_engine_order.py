"""data_quality.engine: a row rule's hits come back in row-identity order ({row_order}: load and source
row as numbers here), whatever order the relation is stored or scanned in and however many threads scan
it (issue 12: the gate's hits were numbered by ``row_number() OVER ()`` over the whole relation)."""
from __future__ import annotations

import duckdb
import numpy as np
import pytest

from data_quality import engine
from data_quality.rulebook import Rule, Rulebook

KEYS = {"t": (("id", None),)}


def rule(rid, where, detail=None):
    return Rule(id=rid, table="t", family="fam", dimension="accuracy", severity="error", basis="b",
                description_zh="z", description_en="e", columns=("v",), where=where, query=None, detail=detail,
                params={}, enabled=True)


@pytest.fixture(scope="module")
def shuffled():
    """200,000 staged rows of 12 loads, stored in a random order; a view with a semi-join, as the gate's."""
    rng = np.random.default_rng(7)
    n = 200_000
    perm = rng.permutation(n)
    c = duckdb.connect()
    c.execute("SET threads = 4")
    c.execute("CREATE TABLE src AS SELECT * FROM range($n) r(i)", {"n": n})
    c.register("perm", {"pos": np.arange(n), "i": perm})
    # load 1..12 and source row 1..: load 10 sorts after load 9 as a number, not as text
    c.execute("""CREATE TABLE staged AS
        SELECT i // 20000 + 1 AS load_id, i % 20000 + 1 AS source_row, 'k' || i AS id,
               (hash(i) % 1000)::INTEGER - 30 AS v, i % 3 AS part, repeat('长文本', 20) AS text
        FROM perm ORDER BY pos""")
    c.unregister("perm")
    c.execute("CREATE TABLE ctx AS SELECT * FROM (VALUES (0), (2)) v(part)")
    c.execute("CREATE VIEW scope AS SELECT * FROM staged WHERE part IN (SELECT part FROM ctx)")
    yield c
    c.close()


def test_row_rule_hits_in_row_identity_order_whatever_the_storage_order(shuffled):
    rb = Rulebook(version=1, keys=KEYS, rules=(rule("R-NEG", "v < 0", "'v=' || v"), rule("R-ODD", "v % 97 = 1")))
    runs = []
    for threads in (1, 4):
        shuffled.execute(f"SET threads = {threads}")
        res = engine.evaluate(shuffled, "t", "scope", rulebook=rb, prepared=True)
        runs.append(res[["row_ref", "rule_id", "detail"]].values.tolist())
    assert runs[0] == runs[1]
    want = shuffled.execute("""
        SELECT load_id || ':' || source_row, rule FROM (
            SELECT load_id, source_row, 0 AS p, 'R-NEG' AS rule FROM scope WHERE v < 0
            UNION ALL SELECT load_id, source_row, 1, 'R-ODD' FROM scope WHERE v % 97 = 1)
        ORDER BY p, load_id, source_row""").fetchall()
    assert len(want) > 5000
    assert [(r[0], r[1]) for r in runs[0]] == [tuple(w) for w in want]
