"""Mapping profiles (issue 8, point 14): another system's export loads without code.

The real 车质网 (12365auto) car-complaint export goes through ``cei ingest --profile`` and the
data-quality gate; records are counted with Python's csv module, independently of the loader.
"""
from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import duckdb
import openpyxl
import pytest
from click.testing import CliRunner

from data_quality.gate import run_gate
from ingestion import profiles
from ingestion.loader import ingest_paths, open_warehouse
from pipelines.cli import main
from tests.helpers import ascii_ids

EXTERNAL = Path(__file__).parents[1] / "data" / "external" / "12365auto_car_complaints_2020_2021.csv"


def csv_records(path: Path, encoding: str = "utf-8") -> list[dict]:
    with open(path, encoding=encoding, newline="") as f:
        return list(csv.DictReader(f))


def test_the_12365auto_export_loads_through_its_profile_and_the_gate(warehouse):
    records = csv_records(EXTERNAL)
    by_month = Counter(r["complaint_date"][:7] for r in records)
    assert len(records) == 2490 and by_month == {"2020-06": 900, "2020-08": 900, "2021-01": 600, "2021-02": 90}

    out = CliRunner().invoke(main, ["--warehouse", str(warehouse), "ingest", "--profile", "12365auto", str(EXTERNAL)])
    assert out.exit_code == 0, out.output
    assert "read 2490, staged 2490, rejected 0" in out.output and "record_type = '投诉' (not in the export)" in out.output

    with duckdb.connect(str(warehouse)) as con:
        open_warehouse(con)
        log = con.execute("SELECT source_id, rows_read, rows_raw, rows_staged, rows_rejected, status FROM raw.load_log").fetchall()
        assert log == [("12365auto", 2490, 2490, 2490, 0, "loaded")]  # records in = loaded + rejected
        hmap = json.loads(con.execute("SELECT header_map FROM raw.load_log").fetchall()[0][0])
        assert hmap["#profile"].endswith("12365auto.yaml") and hmap["brand"] == "respondent_name" and hmap["status"] is None
        staged = dict(con.execute("SELECT partition_key, count(*) FROM staging.complaints GROUP BY 1").fetchall())
        assert staged == by_month
        # the content is the export's: ids, dates, brand as respondent, problem statement, defaults
        first = records[2]
        got = con.execute("""SELECT received_at, respondent_name, content, record_type, object_type, category, channel
                             FROM staging.complaints WHERE record_id = $id""", {"id": first["complaint_id"]}).fetchall()
        assert [(str(g[0]), *g[1:]) for g in got] == [
            ("2020-06-05 00:00:00", "吉利汽车", "吉利星越车机系统虚假宣传 卡顿严重", "投诉", "商品", "交通工具", "互联网")]
        assert con.execute("SELECT count(DISTINCT record_id), count(content) FROM staging.complaints").fetchall() == [(2490, 2490)]
        assert {r["complaint_id"] for r in records} == {r[0] for r in con.execute("SELECT record_id FROM staging.complaints").fetchall()}
        # ignored columns never reach raw
        raw_blob = " ".join(str(v) for row in con.execute("SELECT * FROM raw.complaints LIMIT 50").fetchall() for v in row)
        assert "David-YYJ" not in raw_blob and "2016款 2.0L CVT 精英版" not in raw_blob

        gate = run_gate(con, "complaints", sorted(staged))
        outcome = {o.partition: (o.rows_staged, o.rows_clean, o.rows_quarantined, o.errors_by_rule) for o in gate.partitions}
        # The export names no handling region or entry unit, so no record can be attributed to a
        # region: the gate quarantines every one (CMP-REQ-002) and nothing reaches clean.
        assert outcome == {m: (n, 0, n, {"CMP-REQ-002": n}) for m, n in by_month.items()}
        assert con.execute("SELECT count(*) FROM clean.complaints").fetchall()[0][0] == 0
        assert con.execute("SELECT count(*) FROM dq.quarantine").fetchall()[0][0] == 2490


OTHER_SYSTEM = """\
# another city's export: own headers, codes and date format, GB18030
table: complaints
encoding: gbk
source: other_city
columns:
  工单编号: record_id
  类型代码: record_type
  来源: channel
  受理日期: received_at
  商家: respondent_name
  诉求: 诉求内容          # a Chinese label works as the target too
  区划: handling_region_code
  录入单位: entry_unit_id
ignore: [内部备注]
defaults:
  object_type: 商品
  category: 服装鞋帽
values:
  record_type: {"1": 投诉, "2": 举报, "3": 咨询}
  channel: {"01": 电话, "02": 互联网, "x'); DROP TABLE raw.complaints; --": 其他}
date_formats:
  received_at: ["%d/%m/%Y %H:%M", "%d/%m/%Y"]
"""
OTHER_HEADERS = ["工单编号", "类型代码", "来源", "受理日期", "商家", "诉求", "区划", "录入单位", "内部备注"]
OTHER_ROWS = [
    ["A-001", "1", "01", "05/03/2025 09:30", "常州某商店", "鞋子开胶", "320402", "EU32040201", "回访两次"],
    ["A-002", "2", "02", "06/03/2025", "常州某超市", "过期食品", "320402", "EU32040201", ""],
    ["A-003", "9", "x'); DROP TABLE raw.complaints; --", "2025-03-07", "常州某店", "咨询退货", "320402", "EU32040201", ""],
    ["A-004", "3", "01", "31/02/2025", "常州某店", "日期错误的记录", "320402", "EU32040201", ""],
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_profile_maps_headers_codes_and_dates_of_another_system(tmp_path, con, warehouse, fmt):
    prof = tmp_path / "other_city.yaml"
    prof.write_text(OTHER_SYSTEM, encoding="utf-8")
    if fmt == "csv":
        f = tmp_path / "export_march.csv"
        with open(f, "w", encoding="gb18030", newline="") as fh:
            csv.writer(fh).writerows([OTHER_HEADERS, *OTHER_ROWS])
        n_in = len(csv_records(f, "gb18030"))
    else:
        f = tmp_path / "export_march.xlsx"
        wb = openpyxl.Workbook()
        for row in [OTHER_HEADERS, *OTHER_ROWS]:
            wb.active.append([v or None for v in row])
        wb.save(f)
        n_in = len(OTHER_ROWS)
    r = ingest_paths(con, [f], warehouse=warehouse, profile=prof)[0]
    assert r.status == "loaded", r.message
    assert r.source_id == "other_city" and (r.encoding == "gb18030" or fmt == "xlsx")
    assert (n_in, r.rows_read, r.rows_staged, r.rows_rejected) == (4, 4, 3, 1)
    got = con.execute("""SELECT record_id, record_type, channel, received_at, content, object_type, category
                         FROM staging.complaints ORDER BY record_id""").fetchall()
    assert [(g[0], g[1], g[2], str(g[3])) for g in got] == [
        ("A-001", "投诉", "电话", "2025-03-05 09:30:00"),
        ("A-002", "举报", "互联网", "2025-03-06 00:00:00"),
        ("A-003", "9", "其他", "2025-03-07 00:00:00"),  # unlisted code kept for the gate; ISO dates still parse
    ]
    assert got[0][4] == "鞋子开胶" and {(g[5], g[6]) for g in got} == {("商品", "服装鞋帽")}
    reject = con.execute("SELECT source_row, fields, reason FROM raw.rejects").fetchall()
    assert len(reject) == 1 and reject[0][:2] == (4, "received_at") and "31/02/2025" in reject[0][2]
    assert "回访两次" not in " ".join(str(v) for row in con.execute("SELECT * FROM raw.complaints").fetchall() for v in row)



def test_a_parquet_export_whose_headers_hold_dollar_signs_and_dashes_loads_through_its_profile(tmp_path, con, warehouse):
    """Parquet headers reach SQL as quoted names: "$USD" in one is no parameter and "--" no comment."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    headers = [*OTHER_HEADERS[:4], "商家 $name -- 全称", *OTHER_HEADERS[5:8], "备注 $USD"]
    prof = tmp_path / "other_city.yaml"
    prof.write_text(OTHER_SYSTEM.replace("  商家: respondent_name", '  "商家 $name -- 全称": respondent_name')
                    .replace("ignore: [内部备注]", 'ignore: ["备注 $USD"]'), encoding="utf-8")
    f = tmp_path / "export_march.parquet"
    pq.write_table(pa.table({h: [row[i] for row in OTHER_ROWS] for i, h in enumerate(headers)}), f)
    r = ingest_paths(con, [f], warehouse=warehouse, profile=prof)[0]
    assert r.status == "loaded", r.message
    assert (r.rows_read, r.rows_staged, r.rows_rejected) == (4, 3, 1)
    assert con.execute("SELECT respondent_name FROM staging.complaints ORDER BY record_id").fetchall() == [
        ("常州某商店",), ("常州某超市",), ("常州某店",)]


def test_a_header_the_profile_does_not_know_fails_the_file_naming_it(tmp_path, con, warehouse):
    prof = tmp_path / "p.yaml"
    prof.write_text(OTHER_SYSTEM, encoding="utf-8")
    f = tmp_path / "export.csv"
    with open(f, "w", encoding="gb18030", newline="") as fh:
        csv.writer(fh).writerows([OTHER_HEADERS + ["投诉人微信"], OTHER_ROWS[0] + ["wx123"]])
    r = ingest_paths(con, [f], warehouse=warehouse, profile=prof)[0]
    assert r.status == "failed"
    assert "'投诉人微信'" in r.message and "ignore:" in r.message and str(prof) in r.message and "\n" not in r.message


PROFILE_MISTAKES = [
    ("table: complaints\ncolums: {a: record_id}\n", "colums", "unknown key"),
    ("columns: {a: record_id}\n", "table", "required"),
    ("table: complaint\n", "table", "'complaint' is not a table"),
    ("table: complaints\ncolumns: {编号: record_idd}\n", "columns.编号", "did you mean record_id"),
    ("table: complaints\ncolumns: {a: record_id, b: 登记编号}\n", "columns.b", "already mapped from 'a'"),
    ("table: complaints\ndefaults: {record_id: X1}\n", "defaults.record_id", "cannot have a default"),
    ("table: complaints\ndefaults: {complainant_phone: '110'}\n", "defaults.complainant_phone", "cannot have a default"),
    ("table: complaints\ndate_formats: {content: ['%Y']}\n", "date_formats.content", "not a date column"),
    ("table: complaints\ndate_formats: {received_at: [YYYY-MM-DD]}\n", "date_formats.received_at", "strptime formats"),
    ("table: complaints\nencoding: latin-1\n", "encoding", "is not read"),
    ("table: complaints\nencoding: utf-9\n", "encoding", "unknown encoding"),
    ("table: complaints\nvalues: {channel: [a, b]}\n", "values.channel", "expected a mapping"),
]


@pytest.mark.parametrize("text,key,words", PROFILE_MISTAKES, ids=ascii_ids(k for _, k, _ in PROFILE_MISTAKES))
def test_profile_mistakes_name_the_file_and_the_key(tmp_path, text, key, words):
    prof = tmp_path / "bad.yaml"
    prof.write_text(text, encoding="utf-8")
    with pytest.raises(profiles.ProfileError) as e:
        profiles.load(prof)
    assert str(e.value).startswith(f"profile {prof}, key {key}: ") and words in str(e.value)


def test_cli_refuses_a_broken_profile_in_one_line_before_loading(tmp_path, warehouse):
    prof = tmp_path / "broken.yaml"
    prof.write_text("table: complaints\ncolumns: [unclosed\n", encoding="utf-8")
    data = tmp_path / "complaints_2025-03.csv"
    data.write_text("record_id\n1\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["--warehouse", str(warehouse), "ingest", "--profile", str(prof), str(data)])
    assert out.exit_code == 2 and "Traceback" not in out.output
    assert f"profile {prof}: not valid YAML" in out.output
    out = CliRunner().invoke(main, ["--warehouse", str(warehouse), "ingest", "--profile", "no_such_profile", str(data)])
    assert out.exit_code == 2 and "no such file" in out.output and "12365auto" in out.output
    assert not warehouse.exists() or duckdb.connect(str(warehouse)).execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'load_log'").fetchall()[0][0] == 0
