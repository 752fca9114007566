"""Issue 10 point 9: entry units and hotline units by the names people know, rolled up per bureau."""
from __future__ import annotations

import pandas as pd

from reports.units import bureau_rollup, unit_display_names


def test_units_named_after_their_bureau():
    names = unit_display_names(["EU32040201", "EU32040203", "HL32040001", "EU32000001", "odd-id", None])
    assert names == {"EU32040201": "常州市天宁区市场监督管理局12315投诉举报中心",
                     "EU32040203": "常州市天宁区市场监督管理局第2市场监管所",
                     "HL32040001": "常州市市场监督管理局12315热线话务中心",
                     "EU32000001": "江苏省市场监督管理局12315投诉举报中心",
                     "odd-id": "odd-id（未登记名称）"}  # never a bare code
    en = unit_display_names(["EU32040201"], "en")["EU32040201"]
    assert en.endswith("Administration for Market Regulation, 12315 centre")


def test_a_warehouse_unit_table_wins(tmp_path):
    import duckdb

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE SCHEMA clean")
    con.execute("CREATE TABLE clean.units AS SELECT 'EU32040201' AS unit_id, '天宁区局红梅所' AS unit_name, "
                "'320402' AS bureau_code")
    assert unit_display_names(["EU32040201", "EU32040202"], "zh", con) == {
        "EU32040201": "天宁区局红梅所", "EU32040202": "常州市天宁区市场监督管理局第1市场监管所"}


def test_rollup_per_bureau():
    f = pd.DataFrame({"u": ["EU32040201", "EU32040202", "EU32050501", "zz"], "rows": [10, 20, 5, 1]})
    r = bureau_rollup(f, "u", ["rows"]).set_index("bureau")
    assert r.at["常州市天宁区市场监督管理局", "rows"] == 30 and r.at["常州市天宁区市场监督管理局", "units"] == 2
    assert r.at["苏州市虎丘区市场监督管理局", "rows"] == 5
    assert r.at["（所属局不明）", "rows"] == 1


def test_generator_unit_table_uses_the_same_names():
    from synthetic.units import unit_table

    class U:  # the two frames of a synthetic Universe the table reads
        entry_units = pd.DataFrame({"unit_id": ["EU32040201", "EU32040202"]})
        hotline_units = pd.DataFrame({"unit_id": ["HL32040001"]})

    t = unit_table(U())
    assert list(t.columns) == ["unit_id", "unit_name", "unit_kind", "bureau_code", "bureau_name"]
    assert dict(zip(t.unit_id, t.unit_name)) == unit_display_names(list(t.unit_id))
    assert set(t.bureau_name) == {"常州市天宁区市场监督管理局", "常州市市场监督管理局"}
