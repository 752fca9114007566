"""staging.complaints' fast paths give what the per-field macros give (sql/staging/complaints.sql).

For speed the staging query tests the ten free-text fields joined, and the code-like fields joined,
once per row, and skips cei_text / cei_code on rows where neither test fires; plain decimals cast
directly; the list of unparseable values is built only for rows with a typed field that came out
NULL. Each delivered value below is put into each field of an otherwise clean record, and every
output column must equal the macro applied to that one field alone.
"""
from __future__ import annotations

import duckdb
import pytest

from ingestion.schema import TABLES
from ingestion.sqlfiles import create_warehouse_tables, install_ingest_macros, sql_text

CLEAN = {
    "record_id": "3203822025010100001", "record_type": "投诉", "channel": "微信", "received_at": "2025-01-01 00:18:53",
    "accepted_at": "2025-01-08 13:15:47", "closed_at": "2025-01-26 12:06:15", "accept_decision": "受理",
    "entry_unit_id": "EU32038203", "handling_region_code": "320382", "respondent_name": "邳州市永心服饰店",
    "respondent_uscc": "92320382298270766U", "respondent_region_code": "320382", "object_type": "商品",
    "category": "服装鞋帽", "problem_type": "质量", "is_online": "是", "platform_name": "淘宝",
    "amount_disputed": "120.50", "amount_recovered": None, "mediation_result": "调解成功", "settled_by_business": "否",
    "case_filed": "否", "report_substantiated": None, "satisfaction": "满意", "complainant_name": "赵艳秀",
    "complainant_phone": "18035215099", "complainant_id_number": "320115200604208904",
    "content": "在淘宝购买的外套质量不合格，要求退货。",
}

# values that need rewriting (or not) in a way the joined tests must not miss
VALUES = [
    None, "", " ", "  ", " x", "x ", "a  b", "a b", "a\tb", "a\nb", "a\r\nb", "\t", "\u3000", "a\u3000b", "ＡＢＣ", "１２３",
    "，", "a\x1fb", "\x1f", " \x1f ", "是", "否", " 是 ", "ｙｅｓ", "Y", "no", "1", "0", "无", "maybe",
    "1,234.50元", " 12 ", "1 000", "12e2", "-5", "+5", "1_000", "０.５", "￥3", "RMB 4", "CNY7", "1.005", ".5", "5.",
    "99999999999999999", "1e400", "abc", "2025/3/5", "2025年3月5日", "20250305", " 2025-03-05 ", "2025-13-01",
    "2025-03-05T09:05", "电话 138 1234 5678", "电话138\t1234\t5678", "138   1234   5678", "身份证 32011519900101123x",
    "13812345678", "320115200604208904", "Apple Store", " 淘宝 ", "淘宝\u3000旗舰店", "9时5分",
]

TEXT = ["record_type", "channel", "accept_decision", "respondent_name", "object_type", "category", "problem_type",
        "platform_name", "mediation_result", "satisfaction"]
CODES = ["record_id", "entry_unit_id", "handling_region_code", "respondent_uscc", "respondent_region_code"]
PRIVATE_CODES = ["entry_unit_id", "handling_region_code", "respondent_uscc", "respondent_region_code"]
BOOLS = ["is_online", "settled_by_business", "case_filed", "report_substantiated"]
MONEY = ["amount_disputed", "amount_recovered"]
TIMES = ["received_at", "accepted_at", "closed_at"]
KEY = "k" * 40


@pytest.fixture(scope="module")
def staged():
    return stage_cases(sql_text("staging/complaints.sql"))


def stage_cases(staging_sql: str):
    """An in-memory warehouse with the cases in ``_staging_source`` and the query's output in ``_out``."""
    con = duckdb.connect()
    create_warehouse_tables(con)
    install_ingest_macros(con)
    cols = TABLES["complaints"].column_names
    rows, n = [], 0
    for field in cols:
        for v in VALUES:
            n += 1
            rows.append(tuple(v if c == field else CLEAN[c] for c in cols) + (n,))
    con.execute("CREATE TEMP TABLE _staging_source AS SELECT * FROM raw.complaints LIMIT 0")
    con.executemany(
        f"INSERT INTO _staging_source ({', '.join(cols)}, load_id, source_file, source_sha256, source_id, source_row, "
        f"partition_key, loaded_at) VALUES ({', '.join('?' for _ in cols)}, 1, 'f.csv', 'sha', 'complaints', ?, "
        "'2025-01', TIMESTAMP '2026-01-01')", rows)
    con.execute(f"CREATE TEMP TABLE _out AS {staging_sql}", {"pii_key": KEY})
    return con


def mismatches(con, column: str, reference: str) -> list:
    return con.execute(
        f"""SELECT s.source_row, o.{column} AS staged, {reference} AS expected
            FROM _staging_source s JOIN _out o USING (source_row)
            WHERE o.{column} IS DISTINCT FROM {reference} LIMIT 5""").fetchall()


def test_every_record_is_staged_once(staged):
    assert staged.execute("SELECT count(*), count(DISTINCT source_row) FROM _out").fetchall() == \
        staged.execute("SELECT count(*), count(*) FROM _staging_source").fetchall()


@pytest.mark.parametrize("column", TEXT)
def test_free_text_fields_as_cei_text_then_masked(staged, column):
    # masked when the normalised value holds a personal number, also one the delivered spacing hid
    assert mismatches(staged, column, f"pii_mask_numbers(cei_text(s.{column}))") == []


@pytest.mark.parametrize("column", CODES)
def test_code_fields_as_cei_code(staged, column):
    ref = f"cei_code_private(cei_code(s.{column}))" if column in PRIVATE_CODES else f"cei_code(s.{column})"
    assert mismatches(staged, column, ref) == []


@pytest.mark.parametrize("column", BOOLS)
def test_yes_no_fields_as_cei_bool(staged, column):
    assert mismatches(staged, column, f"cei_bool(s.{column})") == []


@pytest.mark.parametrize("column", MONEY)
def test_amounts_as_cei_money(staged, column):
    assert mismatches(staged, column, f"cei_money(s.{column})") == []


def test_content_masked_and_identity_hashed(staged):
    assert mismatches(staged, "content", "cei_mask_content(s.content, s.complainant_name)") == []
    assert mismatches(staged, "complainant_key", f"cei_keyed_hash('{KEY}', cei_identity(s.complainant_name, "
                                                 "s.complainant_phone, cei_code(s.complainant_id_number)))") == []


def test_bad_values_list_every_unparseable_field_and_only_those(staged):
    reference = "list_filter([" + ", ".join(
        f"CASE WHEN cei_unparsed(s.{c}, {parsed}(s.{c})) THEN '{c}=' || s.{c} END"
        for c, parsed in [*((t, "cei_timestamp") for t in TIMES), *((b, "cei_bool") for b in BOOLS),
                          *((m, "cei_money") for m in MONEY)]
    ) + "], lambda f: f IS NOT NULL)"
    # (the list keeps the staging query's field order: times, is_online, amounts, the other yes/no fields)
    got = staged.execute(
        f"""SELECT s.source_row, list_sort(o._bad_values), list_sort({reference})
            FROM _staging_source s JOIN _out o USING (source_row)
            WHERE list_sort(o._bad_values) IS DISTINCT FROM list_sort({reference})""").fetchall()
    assert got == []
    assert staged.execute("SELECT count(*) FROM _out WHERE len(_bad_values) > 0").fetchall()[0][0] > 20


def test_a_phone_number_spaced_with_tabs_in_a_text_field_is_masked(staged):
    # "138\t1234\t5678" has no seven digits close together as delivered; cei_text makes it "138 1234 5678"
    rows = staged.execute("SELECT o.platform_name FROM _out o JOIN _staging_source s USING (source_row) "
                          "WHERE s.platform_name = '电话138' || chr(9) || '1234' || chr(9) || '5678'").fetchall()
    assert rows == [("电话[手机号码]",)]
