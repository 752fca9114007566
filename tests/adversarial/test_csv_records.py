"""CSV records counted independently and recovered line by line (issue 8, point 1).

Every file is a generated export with hand-made damage at known records. Each test checks the number
of records the file was built with (fixed by construction; for files whose quoting is valid, also counted
with Python's ``csv`` module) equals the records read = loaded (staged) + rejected, and the rejects' row
numbers (1 = first record after the header). ``ingestion.record_count`` is the loader's own count (the
CSV reader refuses a file when DuckDB disagrees with it), so it must agree too, but it is not the
independent witness.
"""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from ingestion import record_count
from ingestion.loader import ingest_paths
from ingestion.record_count import count_records
from tests.conftest import complaint_rows, write_csv
from tests.helpers import ascii_ids, count_csv_records


def lines_of(path: Path) -> list[bytes]:
    """lines[0] = header, lines[k] = record k (csv.writer ends lines with CRLF; no embedded newlines)."""
    return path.read_bytes().split(b"\r\n")


def load(con, warehouse, f: Path, **kw):
    r = ingest_paths(con, [f], warehouse=warehouse, **kw)[0]
    counted = count_records(f).records
    assert r.status == "loaded", r.message
    assert counted == r.rows_read == r.rows_staged + r.rows_rejected, (counted, r)
    return r, counted


def rejects(con) -> list[tuple]:
    return con.execute("SELECT source_row, fields, reason FROM raw.rejects ORDER BY source_row").fetchall()


def row_of(con, record_id: str) -> int | None:
    got = con.execute("SELECT source_row FROM staging.complaints WHERE record_id = $r", {"r": record_id}).fetchall()
    return got[0][0] if got else None


def test_unclosed_quote_in_record_100_of_300_rejects_that_record_only(tmp_path, con, warehouse):
    rows = complaint_rows(300)
    rows[149]["content"] = "货不对板, 要求退款"  # an ASCII comma: the writer quotes record 150's content
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    lines = lines_of(f)
    name = rows[99]["respondent_name"].encode()
    assert lines[100].count(b"," + name + b",") == 1
    lines[100] = lines[100].replace(b"," + name + b",", b',"' + name + b",")  # opens, never closes
    f.write_bytes(b"\r\n".join(lines))
    # a quote-toggling parser lets record 100's quote run to record 150's opening quote
    r, counted = load(con, warehouse, f)
    assert (counted, r.rows_staged, r.rows_rejected) == (300, 299, 1)
    assert "read line by line" in r.message  # DuckDB's strict reader disagreed with the count
    (row, field, reason), = rejects(con)
    assert (row, field) == (100, "respondent_name") and "unclosed quote" in reason
    assert row_of(con, rows[100]["record_id"]) == 101 and row_of(con, rows[299]["record_id"]) == 300
    assert row_of(con, rows[149]["record_id"]) == 150


def test_a_quoted_field_that_swallows_row_shaped_lines_gives_them_back(tmp_path, con, warehouse):
    rows = complaint_rows(30)
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    lines = lines_of(f)
    # record 10's content opens a quote; record 13's content ends with a stray quote that would close it:
    # DuckDB reads records 10-13 as ONE well-formed record of the right width (three records gone)
    lines[10] = lines[10].replace(b"," + rows[9]["content"].encode(), b',"' + rows[9]["content"].encode())
    lines[13] = lines[13] + b'"'
    f.write_bytes(b"\r\n".join(lines))
    r, counted = load(con, warehouse, f)
    assert (counted, r.rows_staged, r.rows_rejected) == (30, 29, 1)
    assert [(x[0], x[1]) for x in rejects(con)] == [(10, "content")]
    assert [row_of(con, rows[i]["record_id"]) for i in (10, 11, 12)] == [11, 12, 13]
    # record 13's trailing quote is inside an unquoted field: kept as delivered
    assert con.execute("SELECT content FROM raw.complaints WHERE source_row = 13").fetchall()[0][0].endswith('"')


def test_unclosed_quote_in_the_last_record(tmp_path, con, warehouse):
    rows = complaint_rows(20)
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    lines = lines_of(f)
    lines[20] = lines[20].replace(b"," + rows[19]["content"].encode(), b',"' + rows[19]["content"].encode())
    f.write_bytes(b"\r\n".join(lines))
    r, counted = load(con, warehouse, f)
    assert (counted, r.rows_staged, r.rows_rejected) == (20, 19, 1)
    assert [(x[0], x[1]) for x in rejects(con)] == [(20, "content")]


def test_stray_quote_in_the_middle_of_a_field_loads_as_delivered(tmp_path, con, warehouse):
    rows = complaint_rows(40)
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    lines = lines_of(f)
    lines[5] = lines[5].replace("常州市".encode(), '常州市"'.encode(), 1)  # 常州市"某某商贸有限公司, unquoted
    f.write_bytes(b"\r\n".join(lines))
    r, counted = load(con, warehouse, f)
    assert (count_csv_records(f), counted, r.rows_staged, r.rows_rejected) == (40, 40, 40, 0)
    assert con.execute("SELECT respondent_name FROM raw.complaints WHERE source_row = 5").fetchall()[0][0] \
        == '常州市"' + rows[4]["respondent_name"][3:]


def test_stray_quote_after_a_closing_quote_rejects_that_record_only(tmp_path, con, warehouse):
    rows = complaint_rows(40)
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    lines = lines_of(f)
    name = rows[6]["respondent_name"]
    lines[7] = lines[7].replace(("," + name + ",").encode(), f',"{name[:3]}"{name[3:]},'.encode())
    lines[30] = lines[30].replace(b",", b',"', 1) + b'"'  # and one more: a quote opened, closed at the line end
    f.write_bytes(b"\r\n".join(lines))
    r, counted = load(con, warehouse, f)
    assert (counted, r.rows_staged, r.rows_rejected) == (40, 38, 2)
    got = rejects(con)
    assert [x[0] for x in got] == [7, 30]
    assert got[0][1] == "respondent_name" and "quote" in got[0][2].lower()
    assert row_of(con, rows[7]["record_id"]) == 8 and row_of(con, rows[30]["record_id"]) == 31


def test_embedded_newlines_in_quoted_fields_stay_one_record(tmp_path, con, warehouse):
    rows = complaint_rows(50)
    rows[2]["content"] = "第一行\n第二行\n第三行"
    rows[20]["content"] = "一行\r\n\r\n, 空行之后"
    rows[33]["respondent_name"] = "常州市\n某某公司"
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    c = count_records(f)
    assert (c.records, c.multiline_records, c.method) == (50, 3, "fast")
    r, counted = load(con, warehouse, f)
    assert (count_csv_records(f), counted, r.rows_staged, r.rows_rejected) == (50, 50, 50, 0)
    got = dict(con.execute("SELECT source_row, content FROM raw.complaints WHERE source_row IN (3, 21)").fetchall())
    assert got == {3: "第一行\n第二行\n第三行", 21: "一行\r\n\r\n, 空行之后"}
    assert row_of(con, rows[49]["record_id"]) == 50


def test_mixed_line_endings_and_a_lone_cr(tmp_path, con, warehouse):
    rows = complaint_rows(60)
    rows[4]["content"] = "多行\n内容"
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    text = f.read_bytes()
    assert text.count(b"\r\n") == 61  # csv.writer: CRLF after every record
    head, tail = text[: len(text) // 2], text[len(text) // 2:]
    f.write_bytes(head + tail.replace(b"\r\n", b"\n") + b"\r")  # CRLF, then LF, a lone CR at the end
    r, counted = load(con, warehouse, f)
    assert (count_csv_records(f), counted, r.rows_staged, r.rows_rejected) == (60, 60, 60, 0)
    assert con.execute("SELECT content FROM raw.complaints WHERE source_row = 5").fetchall()[0][0] == "多行\n内容"
    assert row_of(con, rows[59]["record_id"]) == 60


def test_blank_lines_and_a_short_record_keep_record_numbers(tmp_path, con, warehouse):
    rows = complaint_rows(20)
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    lines = lines_of(f)
    lines[8] = b"3204X,\xe6\x8a\x95\xe8\xaf\x89"  # record 8 cut short
    lines.insert(5, b"")  # blank lines are not records
    lines.insert(5, b"\r")
    f.write_bytes(b"\r\n".join(lines) + b"\n\n")
    r, counted = load(con, warehouse, f)
    assert (counted, r.rows_staged, r.rows_rejected) == (20, 19, 1)
    assert [x[0] for x in rejects(con)] == [8]
    assert row_of(con, rows[8]["record_id"]) == 9 and row_of(con, rows[4]["record_id"]) == 5


def test_when_the_counts_disagree_the_file_is_refused_whole(tmp_path, con, warehouse, monkeypatch):
    f = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(30))
    real = count_records(f)
    assert real.records == 30
    monkeypatch.setattr(record_count, "count_records", lambda p: record_count.RecordCount(31, real.header_fields, "fast"))
    r = ingest_paths(con, [f], warehouse=warehouse)[0]
    assert r.status == "failed"
    assert "31" in r.message and "30" in r.message and "refused whole" in r.message and str(f) in r.message
    assert con.execute("SELECT count(*) FROM raw.complaints").fetchall()[0][0] == 0
    assert con.execute("SELECT count(*) FROM raw.rejects").fetchall()[0][0] == 0
    log = con.execute("SELECT status, message FROM raw.load_log").fetchall()
    assert len(log) == 1 and log[0][0] == "failed" and "31" in log[0][1]


def test_the_fast_and_the_exact_count_agree(tmp_path, monkeypatch):
    """The numpy pass must give the exact pass's number whenever it does not hand over (any piece size)."""
    rng = random.Random(11)
    f = tmp_path / "x.csv"
    checked = 0
    for _ in range(400):
        monkeypatch.setattr(record_count, "CHUNK", rng.choice([1, 2, 3, 7, 64]))
        recs = []
        for _ in range(rng.randint(1, 6)):
            fields = []
            for _ in range(3):
                v = "".join(rng.choice('ab,"\n\r ') for _ in range(rng.randint(0, 4)))
                fields.append('"' + v.replace('"', '""') + '"' if rng.random() < 0.6
                              else v.replace('"', "").replace(",", "").replace("\n", "").replace("\r", ""))
            recs.append(",".join(fields))
        data = rng.choice(["\n", "\r\n"]).join(recs) + rng.choice(["", "\n", "\r\n", "\n\n"])
        if rng.random() < 0.3:
            i = rng.randrange(len(data) + 1)
            data = data[:i] + rng.choice(['"', "\n", "\r", ","]) + data[i:]
        f.write_bytes(data.encode())
        exact = record_count._exact_count(f, 0)
        try:
            fast = record_count._fast_count(f, 0)
        except record_count._Irregular:
            continue
        checked += 1
        assert (fast.records, fast.header_fields, fast.interior_blank_lines) == \
            (exact.records, exact.header_fields, exact.interior_blank_lines), repr(data)
    assert checked > 50


BY_HAND = [
    (b'a,b,c\n1,"x\n7,8,9\n4,5,6\n', 3),  # the quote would swallow a complete record: line 2 is broken
    (b'a,b,c\n1,"x\ny",3\n4,5,6\n', 2),  # a legitimate embedded newline
    (b'a,b,c\n1,2"x,3\n4,5,6', 2),
    (b'a,b,c\r1,2,3\r\n\r\n4,5,6\r', 2),
    (b'\xef\xbb\xbf"a","b","c"\n"1","2","3"\n', 1),
]


@pytest.mark.parametrize("data,records", BY_HAND, ids=ascii_ids(d for d, _ in BY_HAND))
def test_record_definition_by_hand(tmp_path, data, records):
    f = tmp_path / "x.csv"
    f.write_bytes(data)
    assert count_records(f).records == records
