"""Ingestion: idempotent loads, encodings and formats, rejects with row numbers, re-delivery, PII."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ingestion import loader, pii
from ingestion.loader import default_source_id, ingest_paths
from ingestion.schema import COMPLAINTS
from tests.conftest import complaint_rows, write_csv

LINEAGE = ["load_id", "source_file", "source_sha256", "source_id", "source_row", "partition_key", "loaded_at"]


def staged(con, table="complaints") -> pd.DataFrame:
    df = con.execute(f"SELECT * EXCLUDE ({', '.join(LINEAGE)}) FROM staging.{table} ORDER BY record_id").df()
    return df.reset_index(drop=True)


def counts(con) -> dict:
    return {t: (raw, stg, rej) for t, raw, stg, rej, *_ in loader.table_counts(con)}


def test_loading_a_file_twice_changes_nothing(tmp_path, con, warehouse):
    f = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(50))
    first = ingest_paths(con, [f], warehouse=warehouse)
    before_rows, before_counts = staged(con), counts(con)
    second = ingest_paths(con, [f], warehouse=warehouse)
    assert [r.status for r in first] == ["loaded"] and [r.status for r in second] == ["skipped"]
    assert "same sha256" in second[0].message
    assert counts(con) == before_counts == {**before_counts, "complaints": (50, 50, 0)}
    pd.testing.assert_frame_equal(staged(con), before_rows)
    # a renamed copy of the same bytes is the same delivery
    copy = tmp_path / "again.csv"
    copy.write_bytes(f.read_bytes())
    assert ingest_paths(con, [copy], warehouse=warehouse)[0].status == "skipped"


@pytest.mark.parametrize("variant", ["gb18030", "utf-8-sig", "chinese-headers", "xlsx", "parquet", "crlf-lf-mixed"])
def test_other_encodings_and_formats_load_the_same_rows(tmp_path, variant, warehouse):
    rows = complaint_rows(40, seed=3)
    rows[0]["content"] = "多行\n内容，第二行"  # quoted newline inside a field
    ref_dir, var_dir = tmp_path / "ref", tmp_path / "var"
    ref_dir.mkdir(), var_dir.mkdir()
    ref = write_csv(ref_dir / "complaints_2025-03.csv", rows)
    if variant in ("gb18030", "utf-8-sig"):
        f = write_csv(var_dir / "complaints_2025-03.csv", rows, encoding=variant)
    elif variant == "chinese-headers":
        f = write_csv(var_dir / "complaints_2025-03.csv", rows, headers="chinese")
    elif variant == "xlsx":
        f = var_dir / "complaints_2025-03.xlsx"
        pd.DataFrame(rows, dtype=str).to_excel(f, index=False)
    elif variant == "parquet":
        f = var_dir / "complaints_2025-03.parquet"
        pd.DataFrame(rows, dtype=str).to_parquet(f, index=False)
    else:
        text = ref.read_bytes().replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n")
        lines = text.split(b"\r\n")
        f = var_dir / "complaints_2025-03.csv"
        f.write_bytes(b"\r\n".join(lines[:10]) + b"\n" + b"\r\n".join(lines[10:]))
    with duckdb.connect(str(tmp_path / "a.duckdb")) as a, duckdb.connect(str(tmp_path / "b.duckdb")) as b:
        ra = ingest_paths(a, [ref], warehouse=warehouse)[0]
        rb = ingest_paths(b, [f], warehouse=warehouse)[0]
        assert ra.status == rb.status == "loaded", rb.message
        assert rb.rows_staged == 40 and rb.rows_rejected == 0
        pd.testing.assert_frame_equal(staged(a), staged(b))
        if variant == "gb18030":
            assert rb.encoding == "gb18030"
        rows_a = a.execute("SELECT record_id, source_row FROM staging.complaints ORDER BY 1").fetchall()
        rows_b = b.execute("SELECT record_id, source_row FROM staging.complaints ORDER BY 1").fetchall()
        assert rows_a == rows_b  # same record numbers whatever the format


def test_five_broken_rows_are_rejected_with_row_numbers_and_the_rest_load(tmp_path, con, warehouse):
    rows = complaint_rows(30)
    rows[2]["received_at"] = "2025-02-30"          # row 3: no such date
    rows[9]["amount_disputed"] = "一千元"            # row 10: not a number
    rows[14]["is_online"] = "也许"                   # row 15: not a yes/no
    rows[20]["accepted_at"] = "昨天"                 # row 21: not a date
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    with open(f, "a", encoding="utf-8") as fh:      # row 31: a truncated record
        fh.write("3204X,投诉,电话\n")
    r = ingest_paths(con, [f], warehouse=warehouse)[0]
    assert r.status == "loaded"
    assert (r.rows_read, r.rows_staged, r.rows_rejected) == (31, 26, 5)
    rejects = con.execute("SELECT source_row, fields, reason, source_file FROM raw.rejects ORDER BY source_row").fetchall()
    assert [x[0] for x in rejects] == [3, 10, 15, 21, 31]
    assert [x[1] for x in rejects][:4] == ["received_at", "amount_disputed", "is_online", "accepted_at"]
    assert "2025-02-30" in rejects[0][2] and "一千元" in rejects[1][2]
    assert "Expected Number of Columns" in rejects[4][2]
    assert all(x[3] == str(f) for x in rejects)
    # nothing lost: records read = staged + rejected, per file
    log = con.execute("SELECT rows_read, rows_raw, rows_staged, rows_rejected FROM raw.load_log").fetchall()[0]
    assert log == (31, 29, 26, 5)  # row 3 cannot be placed in a month, so it is a reject, not raw
    raw_line = con.execute("SELECT raw_line FROM raw.rejects WHERE source_row = 3").fetchall()[0][0]
    assert "2025-02-30" in raw_line and rows[2]["record_id"] in raw_line  # delivered values kept
    assert r.reject_examples[0].startswith("complaints_2025-03.csv, row 3, field received_at")


def test_unknown_and_missing_headers_fail_the_file_with_a_clear_message(tmp_path, con, warehouse):
    rows = complaint_rows(5)
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    text = f.read_text(encoding="utf-8").replace("problem_type", "problme_type", 1)
    f.write_text(text, encoding="utf-8")
    r = ingest_paths(con, [f], warehouse=warehouse)[0]
    assert r.status == "failed"
    assert "problme_type" in r.message and "problem_type" in r.message and str(f) in r.message
    assert counts(con)["complaints"] == (0, 0, 0)

    df = pd.DataFrame(rows).drop(columns=["received_at"])
    g = tmp_path / "complaints_2025-04.csv"
    df.to_csv(g, index=False)
    r = ingest_paths(con, [g], warehouse=warehouse)[0]
    assert r.status == "failed" and "received_at (登记时间)" in r.message
    assert con.execute("SELECT count(*) FROM raw.load_log WHERE status = 'failed'").fetchall()[0][0] == 2


def test_a_redelivered_month_replaces_the_old_one(tmp_path, con, warehouse):
    march, april = complaint_rows(20, "2025-03", seed=1), complaint_rows(15, "2025-04", seed=2)
    march[5]["received_at"] = "not a date"  # an unplaceable reject of the first delivery
    f1 = write_csv(tmp_path / "complaints_2025-03.csv", march)
    f2 = write_csv(tmp_path / "complaints_2025-04.csv", april)
    ingest_paths(con, [f1, f2], warehouse=warehouse)
    assert con.execute("SELECT count(*) FROM raw.rejects").fetchall()[0][0] == 1
    redelivered = [r for i, r in enumerate(march[:18]) if i != 5]  # records withdrawn, one corrected
    redelivered[0] = {**redelivered[0], "amount_disputed": "999.00"}
    f3 = write_csv(tmp_path / "complaints_2025-03_v2.csv", redelivered)
    r = ingest_paths(con, [f3], warehouse=warehouse)[0]
    assert r.status == "loaded" and r.rows_replaced == 19
    by_month = dict(con.execute("SELECT partition_key, count(*) FROM staging.complaints GROUP BY 1").fetchall())
    assert by_month == {"2025-03": 17, "2025-04": 15}
    assert con.execute("SELECT count(*) FROM raw.complaints").fetchall()[0][0] == 32
    assert con.execute("SELECT count(*) FROM raw.rejects").fetchall()[0][0] == 0  # went with the replaced load
    amount = con.execute("SELECT amount_disputed FROM staging.complaints WHERE record_id = $r",
                         {"r": march[0]["record_id"]}).fetchall()[0][0]
    assert float(amount) == 999.0
    status = dict(con.execute("SELECT file_name, status FROM raw.load_log").fetchall())
    assert status == {"complaints_2025-03.csv": "replaced", "complaints_2025-04.csv": "loaded",
                      "complaints_2025-03_v2.csv": "loaded"}


def test_two_regions_files_of_the_same_name_are_not_a_redelivery(tmp_path, con, warehouse):
    """Per-region folders holding the same file name: the second file is refused, naming both, and
    the first region's records stay (they were silently replaced before). A newer version mark from
    another folder is still a re-delivery; --source per region loads both."""
    nanjing, xuzhou = complaint_rows(20, "2025-03", seed=1), complaint_rows(15, "2025-03", seed=2)
    for d in ("landing/3201", "landing/3203", "resent"):
        (tmp_path / d).mkdir(parents=True)
    f1 = write_csv(tmp_path / "landing" / "3201" / "complaints_2025-03.csv", nanjing)
    f2 = write_csv(tmp_path / "landing" / "3203" / "complaints_2025-03.csv", xuzhou)
    r1, r2 = ingest_paths(con, [tmp_path / "landing"], warehouse=warehouse)
    assert (r1.status, r1.rows_raw) == ("loaded", 20)
    assert r2.status == "failed" and "same feed and period as load" in r2.message and str(f1) in r2.message
    assert con.execute("SELECT count(*) FROM raw.complaints").fetchall()[0][0] == 20
    [r3] = ingest_paths(con, [f2], warehouse=warehouse, source_id="complaints_3203")
    assert r3.status == "loaded" and r3.rows_replaced == 0
    assert con.execute("SELECT count(*) FROM staging.complaints").fetchall()[0][0] == 35
    f4 = write_csv(tmp_path / "resent" / "complaints_2025-03_v2.csv", nanjing[:18])
    [r4] = ingest_paths(con, [f4], warehouse=warehouse)
    assert r4.status == "loaded" and r4.rows_replaced == 20  # Nanjing's delivery, not Xuzhou's
    assert con.execute("SELECT count(*) FROM staging.complaints").fetchall()[0][0] == 33


def test_a_failure_inside_the_load_leaves_the_warehouse_as_it_was(tmp_path, con, warehouse, monkeypatch):
    f1 = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(20))
    ingest_paths(con, [f1], warehouse=warehouse)
    before = counts(con), staged(con)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(loader, "build_staging", boom)
    f2 = write_csv(tmp_path / "complaints_2025-03_v2.csv", complaint_rows(10, seed=9))
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_paths(con, [f2], warehouse=warehouse)
    assert counts(con) == before[0]
    pd.testing.assert_frame_equal(staged(con), before[1])
    assert con.execute("SELECT count(*) FROM raw.load_log").fetchall()[0][0] == 1


def test_staging_normalises_full_width_chinese_dates_and_money(tmp_path, con, warehouse):
    rows = complaint_rows(4)
    rows[0].update(received_at="2025年3月5日", amount_disputed="1,234.50元", handling_region_code="３２０４０２",
                   respondent_name="  常州  某某  公司 ", is_online="是")
    rows[1].update(received_at="2025/3/6 9:05", amount_disputed="￥88", is_online="否")
    rows[2].update(received_at="２０２５－０３－０７　１０：３０", amount_disputed=" 12 ")
    rows[3].update(received_at="20250308", amount_disputed="")
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    assert ingest_paths(con, [f], warehouse=warehouse)[0].rows_staged == 4
    got = con.execute("""SELECT received_at, amount_disputed, handling_region_code, respondent_name, is_online
                         FROM staging.complaints ORDER BY source_row""").fetchall()
    assert [str(g[0]) for g in got] == ["2025-03-05 00:00:00", "2025-03-06 09:05:00", "2025-03-07 10:30:00", "2025-03-08 00:00:00"]
    assert [None if g[1] is None else float(g[1]) for g in got] == [1234.5, 88.0, 12.0, None]
    assert got[0][2] == "320402" and got[0][3] == "常州 某某 公司" and got[0][4] is True and got[1][4] is False


def test_no_personal_data_reaches_staging(tmp_path, con, warehouse):
    rows = complaint_rows(60, seed=5)
    rows[1]["content"] = f"我是{rows[1]['complainant_name']}，手机 {rows[1]['complainant_phone'][:3]}-{rows[1]['complainant_phone'][3:7]}-{rows[1]['complainant_phone'][7:]}"
    rows[2]["content"] = "身份证" + rows[2]["complainant_id_number"].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    ingest_paths(con, [f], warehouse=warehouse)
    text_cols = [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name='staging' AND table_name='complaints' AND data_type='VARCHAR'").fetchall()]
    assert "complainant_name" not in text_cols and "complainant_phone" not in text_cols
    blob = "\n".join(str(v) for row in con.execute(f"SELECT {', '.join(text_cols)} FROM staging.complaints").fetchall() for v in row)
    for r in rows:
        assert r["complainant_name"] not in blob
        assert r["complainant_phone"] not in blob and r["complainant_phone"][-8:] not in blob
        assert r["complainant_id_number"] not in blob and r["complainant_id_number"][6:14] + r["complainant_id_number"][14:] not in blob
    # the same person gets the same key; different people different keys; ID validity kept
    keys = con.execute("SELECT count(DISTINCT complainant_key), bool_and(complainant_id_valid) FROM staging.complaints").fetchall()[0]
    assert keys == (60, True)


def test_identity_hash_uses_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("CEI_PII_KEY", raising=False)
    monkeypatch.delenv("CEI_SECRET_FILE", raising=False)
    wh = tmp_path / "w" / "warehouse.duckdb"
    k1 = pii.pii_key(wh)
    secret = tmp_path / "w" / ".cei_secret"
    assert secret.exists() and stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    assert pii.pii_key(wh) == k1 and len(k1) == 64
    monkeypatch.setenv("CEI_PII_KEY", "another-key-of-sufficient-length-0000")
    assert pii.pii_key(wh) == "another-key-of-sufficient-length-0000"


def test_rows_spanning_lines_keep_their_record_numbers(tmp_path, con, warehouse):
    rows = complaint_rows(6)
    rows[1]["content"] = "第一行\n第二行\n第三行"
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    with open(f, "a", encoding="utf-8") as fh:
        fh.write("bad,row\n")
        w = __import__("csv").writer(fh)
        last = complaint_rows(1, seed=77)[0]
        w.writerow([last[c.name] for c in COMPLAINTS.columns])
    r = ingest_paths(con, [f], warehouse=warehouse)[0]
    assert (r.rows_read, r.rows_staged, r.rows_rejected) == (8, 7, 1)
    numbers = dict(con.execute("SELECT record_id, source_row FROM staging.complaints").fetchall())
    assert numbers[rows[1]["record_id"]] == 2 and numbers[rows[5]["record_id"]] == 6
    assert numbers[complaint_rows(1, seed=77)[0]["record_id"]] == 8
    assert con.execute("SELECT source_row FROM raw.rejects").fetchall() == [(7,)]


@pytest.mark.parametrize("name,source", [
    ("complaints_2025-03.csv", "complaints"), ("complaints_2025-03_v2.csv", "complaints"),
    ("常州_complaints_202503(1).xlsx", "常州_complaints"), ("hotline_stats_2025.parquet", "hotline_stats"),
])
def test_source_id_ignores_dates_and_versions(name, source):
    assert default_source_id(Path(name)) == source


def test_undecodable_file_is_refused_with_its_offset(tmp_path, con, warehouse):
    f = tmp_path / "complaints_2025-03.csv"
    # more bad sequences than the per-record tolerance (see ingestion.encoding): the file, not records
    f.write_bytes(b"record_id,record_type\n" + b"\xff\xfe\xfa broken\n" * 20)
    r = ingest_paths(con, [f], warehouse=warehouse)[0]
    assert r.status == "failed" and "offset 22" in r.message and str(f) in r.message and "--encoding" in r.message
