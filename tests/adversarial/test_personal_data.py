"""Personal data stays in raw (issue 8 point 10) and the promises about it are pinned by exact values
on hand-made inputs (issue 13): the keyed identity hash, complainant_id_valid / _format, masking in
staging and clean, yes/no parsing, messages and logs without personal values, the private
warehouse file and the PII key length.

Expected values are computed here independently of the code under test (hashlib, the GB 11643
check character written out in tests/helpers.py, python-stdnum).
"""
from __future__ import annotations

import csv
import hashlib
import os
import stat
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from data_quality import codes
from data_quality.gate import run_gate
from ingestion import pii
from ingestion.loader import ingest_paths
from ingestion.sqlfiles import install_ingest_macros
from tests.helpers import TEST_PII_KEY, complaint_rows, id_check_char, valid_uscc, write_csv

OTHER_KEY = "another-test-key-of-32-bytes-or-more-000000"


def with_check(first17: str) -> str:
    return first17 + id_check_char(first17)


def hashed(key: str, identity: str) -> str:
    """The documented construction (sql/ingest/normalise_macros.sql): sha256(key || sha256(key || x)),
    SHA-256 as lower-case hex text, the key and the identity as UTF-8."""
    inner = hashlib.sha256((key + identity).encode("utf-8")).hexdigest()
    return hashlib.sha256((key + inner).encode("utf-8")).hexdigest()


def load(tmp_path: Path, rows: list[dict], name: str = "complaints_2025-03.csv", key: str = TEST_PII_KEY,
         warehouse: Path | None = None):
    """Ingest hand-made rows into a fresh (or the given) warehouse with ``key``; returns the connection."""
    folder = tmp_path / f"in_{name}_{len(rows)}"
    folder.mkdir(exist_ok=True)
    f = write_csv(folder / name, rows)
    wh = warehouse or tmp_path / f"w_{hashlib.sha256(key.encode()).hexdigest()[:8]}.duckdb"
    os.environ["CEI_PII_KEY"] = key  # restored by the autouse fixture below
    con = duckdb.connect(str(wh))
    results = ingest_paths(con, [f], warehouse=wh)
    assert [r.status for r in results] == ["loaded"], [r.message for r in results]
    return con


@pytest.fixture(autouse=True)
def _pii_key_env(monkeypatch):
    monkeypatch.setenv("CEI_PII_KEY", TEST_PII_KEY)  # monkeypatch restores it, whatever load() set


# ---------------------------------------------------------------------------- keyed identity hash
def test_identity_hash_is_keyed_exactly_as_documented(tmp_path):
    id18 = with_check("32040219900101123")
    id18x = next(with_check(b) for b in (f"11010519491231{s:03d}" for s in range(1000)) if id_check_char(b) == "X")
    id15 = "320402900101123"
    rows = complaint_rows(5, seed=21)
    rows[0].update(complainant_id_number=id18)
    rows[1].update(complainant_id_number=id18x[:-1] + "x")           # lower-case x: same person as X
    rows[2].update(complainant_id_number=id15)                       # old card: its 18-digit form
    rows[3].update(complainant_id_number="", complainant_phone="138-1234-5678")
    rows[4].update(complainant_id_number="", complainant_phone="", complainant_name=" 王小明 ")
    identities = ["id:" + id18, "id:" + id18x, "id:" + with_check("320402" + "19" + id15[6:]),
                  "tel:13812345678", "name:王小明"]
    got = {}
    for key in (TEST_PII_KEY, OTHER_KEY):
        con = load(tmp_path, rows, key=key)
        got[key] = [r[0] for r in con.execute("SELECT complainant_key FROM staging.complaints ORDER BY source_row").fetchall()]
        con.close()
        assert got[key] == [hashed(key, x) for x in identities]
    # two keys, two different hashes for every person; never the unkeyed hash of the identity
    assert all(a != b for a, b in zip(got[TEST_PII_KEY], got[OTHER_KEY]))
    unkeyed = {hashlib.sha256(x.encode()).hexdigest() for x in identities}
    unkeyed |= {hashlib.sha256(hashlib.sha256(x.encode()).hexdigest().encode()).hexdigest() for x in identities}
    assert not unkeyed & (set(got[TEST_PII_KEY]) | set(got[OTHER_KEY]))


# ---------------------------------------------------------------------------- ID validity and format
def _bad_date_id(body8: str) -> str:
    return with_check("320402" + body8 + "123")


# (delivered value, valid at the record's date 2025-03-xx, format)
ID_CASES = [
    (with_check("32040219900101123"), True, "18"),
    (next(with_check(b) for b in (f"11010519491231{s:03d}" for s in range(1000)) if id_check_char(b) == "X"), True, "18"),
    (next(with_check(b) for b in (f"11010519491231{s:03d}" for s in range(1000)) if id_check_char(b) == "X")[:-1] + "x",
     True, "18"),
    ("320402900101123", True, "15"),                                 # 1990-01-01, old card
    ("110105491231002", True, "15"),                                 # 1949-12-31
    (" 3204 0219 9001 0112 3" + id_check_char("32040219900101123"), True, "18"),  # spaces are dropped
    (with_check("32040219900101123")[:-1] + ("0" if id_check_char("32040219900101123") != "0" else "1"), False, "18"),
    (_bad_date_id("19990229"), False, "18"),                         # no such day
    (_bad_date_id("20300101"), False, "18"),                         # born after the record
    (with_check("99040219900101123"), False, "18"),                  # 99: no province
    ("320402990229123", False, "15"),                                # 1999-02-29
    ("320402901301123", False, "15"),                                # month 13
    ("990402900101123", False, "15"),
    ("32040219900101123", False, None),                              # 17 digits
    ("3204021990010112345", False, None),
    ("32040219900101123A", False, None),
    ("", None, None),
]


def test_complainant_id_valid_and_format_through_staging(tmp_path):
    rows = complaint_rows(len(ID_CASES), seed=22)
    for r, (value, _, _) in zip(rows, ID_CASES):
        r["complainant_id_number"] = value
    con = load(tmp_path, rows)
    got = con.execute("SELECT complainant_id_valid, complainant_id_format FROM staging.complaints ORDER BY source_row").fetchall()
    assert got == [(valid, fmt) for _, valid, fmt in ID_CASES]
    # the gate warns (CMP-IDN-001) on exactly the invalid ones
    run_gate(con, "complaints", ["2025-03"])
    flagged = [r[0] for r in con.execute(
        "SELECT source_row FROM dq.rule_results WHERE rule_id = 'CMP-IDN-001' ORDER BY source_row").fetchall()]
    assert flagged == [i + 1 for i, (_, valid, _) in enumerate(ID_CASES) if valid is False]


def test_python_sql_and_stdnum_agree_on_id_numbers():
    from stdnum.cn import ric

    import datetime as dt
    ref = dt.date(2025, 3, 31)
    values = [v.replace(" ", "") for v, _, _ in ID_CASES if v]
    expected = [bool(valid) for v, valid, _ in ID_CASES if v]
    con = duckdb.connect()
    install_ingest_macros(con)
    sql = [r[0] for r in con.execute(
        "SELECT cn_id_is_valid_at(v, DATE '2025-03-31'), cn_id_format(v) FROM unnest($v::VARCHAR[]) WITH ORDINALITY t(v, i) ORDER BY i",
        {"v": values}).fetchall()]
    assert sql == expected
    assert [codes.cn_id_is_valid(v, ref) for v in values] == expected
    assert codes.cn_id_valid_array(values, ref).tolist() == expected
    assert [codes.cn_id_format(v) for v in values] == [f for v, _, f in ID_CASES if v]
    # python-stdnum (18 digits; it also wants the address code to exist in the birth year, which
    # 320402 / 110105 do) agrees on every 18-character one, lower-case x included
    for v, ok in zip(values, expected):
        if len(v) == 18 and v[:2] != "99" and v[6:10] <= "2025":
            assert ric.is_valid(v) == ok, v
    # the 15-digit form and its 18-digit form are one identity
    assert con.execute("SELECT cn_id_to_18('320402900101123')").fetchone()[0] == with_check("32040219900101123")
    assert codes.cn_id_to_18("320402900101123") == with_check("32040219900101123")


# ---------------------------------------------------------------------------- masking, staging and clean
FORMS = [
    ("13812345678", "[手机号码]"), ("138 1234 5678", "[手机号码]"), ("+86-138-1234-5678", "[手机号码]"),
    ("１３８１２３４５６７８", "[手机号码]"),
    ("010-12345678", "[电话号码]"), ("0519 8888 6666", "[电话号码]"), ("(0519)88886666", "[电话号码]"),
    ("0519-8888666转123", "[电话号码]"), ("电话：88886666", "电话：[电话号码]"),
    (with_check("32040219900101123"), "[证件号码]"),
    ("320402 19900101 123" + id_check_char("32040219900101123"), "[证件号码]"),
    ("320402900101123", "[证件号码]"),
]


def test_every_form_is_masked_in_staging_and_clean(tmp_path):
    rows = complaint_rows(len(FORMS) + 1, seed=23, uscc=valid_uscc())
    for r, (form, _) in zip(rows, FORMS):
        r["content"] = f"商品质量问题，联系{form}，订单号20250305123456789012，金额1,234.50元。"
        r["complainant_name"] = "李四"
    rows[-1]["content"] = "本人李四，2025-03-05购买，联系方式见附件。"
    rows[-1]["complainant_name"] = "李四"
    expected = [f"商品质量问题，联系{label}，订单号20250305123456789012，金额1,234.50元。" for _, label in FORMS]
    expected.append("本人[姓名]，2025-03-05购买，联系方式见附件。")
    con = load(tmp_path, rows)
    assert [r[0] for r in con.execute("SELECT content FROM staging.complaints ORDER BY source_row").fetchall()] == expected
    run_gate(con, "complaints", ["2025-03"])
    assert [r[0] for r in con.execute("SELECT content FROM clean.complaints ORDER BY source_row").fetchall()] == expected


# ---------------------------------------------------------------------------- yes / no
YES_NO = [("Y", True), ("yes", True), ("true", True), ("是", True), ("1", True),
          ("N", False), ("no", False), ("false", False), ("否", False), ("0", False),
          ("YES", True), (" 是 ", True), ("Ｙ", True), ("FALSE", False), ("", None)]


def test_yes_no_values_parse_in_staging(tmp_path):
    rows = complaint_rows(len(YES_NO), seed=24)
    for r, (v, _) in zip(rows, YES_NO):
        r.update(is_online=v, settled_by_business=v, case_filed=v, report_substantiated=v)
    con = load(tmp_path, rows)
    got = con.execute("""SELECT is_online, settled_by_business, case_filed, report_substantiated
                         FROM staging.complaints ORDER BY source_row""").fetchall()
    assert got == [(b, b, b, b) for _, b in YES_NO]
    assert con.execute("SELECT count(*) FROM raw.rejects").fetchone()[0] == 0


# ---------------------------------------------------------------------------- messages and logs
def test_personal_values_never_appear_in_messages_rejects_details_or_logs(tmp_path, monkeypatch, caplog):
    """A file whose personal fields are malformed or slipped into other columns, plus a file without
    its header row (its first record read as labels): no personal value reaches the CLI output,
    the reject reasons and fields, dq.rule_results.detail, raw.load_log, the Python log or the
    Dagster event log, and none reaches staging or clean."""
    import logging

    from pipelines.cli import main

    caplog.set_level(logging.DEBUG)
    landing = tmp_path / "landing"
    landing.mkdir()
    rows = complaint_rows(30, seed=25, uscc=valid_uscc())
    personal = {
        "bad ID": "320402199013011235",
        "ID in is_online": with_check("32040219800101123"),
        "phone in received_at": "13912345672",
        "phone in record_type": "137-1234-5673",
        "phone in respondent_uscc": "13612345674",
        "phone in category": "13512345675",
        "phone in respondent_name": "+86 134 1234 5676",
        "ID in handling_region_code": with_check("32040219850101123"),
        "landline in mediation_result": "0519-88886666",
        "odd name": '王"小\u200b明,🙂\n张',
    }
    rows[1]["complainant_id_number"] = personal["bad ID"]
    rows[2]["is_online"] = personal["ID in is_online"]
    rows[3]["received_at"] = personal["phone in received_at"]
    rows[4]["record_type"] = personal["phone in record_type"]
    rows[5]["respondent_uscc"] = personal["phone in respondent_uscc"]
    rows[6]["category"] = personal["phone in category"]
    rows[7]["respondent_name"] = personal["phone in respondent_name"]
    rows[8]["handling_region_code"] = personal["ID in handling_region_code"]
    rows[9]["mediation_result"] = personal["landline in mediation_result"]
    rows[10]["complainant_name"] = personal["odd name"]
    rows[10]["content"] = f"我是{personal['odd name']}，请处理"
    write_csv(landing / "complaints_2025-03.csv", rows)
    # no header row: the first record's values would be the "headers"
    headerless = landing / "complaints_2025-04.csv"
    other = complaint_rows(3, month="2025-04", seed=26)
    with open(headerless, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        for r in other:
            w.writerow(r.values())
    for r in other:
        personal[f"headerless {r['record_id']} phone"] = r["complainant_phone"]
        personal[f"headerless {r['record_id']} id"] = r["complainant_id_number"]
        personal[f"headerless {r['record_id']} name"] = r["complainant_name"]
    wh = tmp_path / "wh" / "warehouse.duckdb"

    result = CliRunner().invoke(main, ["--warehouse", str(wh), "ingest", str(landing)])
    cli_text = result.output + (getattr(result, "stderr", "") if result.stderr_bytes is not None else "")
    assert result.exit_code == 1, cli_text                      # the headerless file is refused
    assert "reject:" in cli_text and "does not look like a header row" in cli_text

    with duckdb.connect(str(wh)) as con:
        run_gate(con, "complaints", ["2025-03"])
        rejects = con.execute("SELECT fields, reason FROM raw.rejects").fetchall()
        details = con.execute("SELECT rule_id, detail FROM dq.rule_results").fetchall()
        load_log = con.execute("SELECT message FROM raw.load_log").fetchall()
        staged = con.execute("SELECT * EXCLUDE (source_file) FROM staging.complaints").fetchall()
        clean = con.execute("SELECT * EXCLUDE (source_file) FROM clean.complaints").fetchall()
        # the masked values are still visible as what they were (the reasons name the field)
        assert ("received_at", "cannot parse received_at '[手机号码]' (needed to place the record in its period)") in rejects
        assert ("is_online", "cannot parse is_online '[证件号码]'") in rejects
        assert any(d == "record_type=[手机号码]" for _, d in details), details
    dagster_text = _dagster_landing_log(landing, tmp_path / "wh2" / "warehouse.duckdb")
    places = {"CLI output": cli_text, "raw.rejects reason/fields": str(rejects), "dq.rule_results.detail": str(details),
              "raw.load_log": str(load_log), "Python log": caplog.text, "Dagster log": dagster_text,
              "staging": str(staged), "clean": str(clean)}
    leaks = [(what, where) for what, value in personal.items() for where, text in places.items()
             if value.strip() in text or value.replace("-", "").replace(" ", "").replace("+86", "") in text]
    assert leaks == []


def _dagster_landing_log(landing: Path, wh: Path) -> str:
    """Every message and metadata value the Dagster landing asset writes for the landing folder."""
    import dagster as dg

    from assets.ingest import landing_files
    from pipelines.resources import warehouse_resource

    instance = dg.DagsterInstance.ephemeral()
    res = dg.materialize([landing_files], resources={"duckdb": warehouse_resource(str(wh))}, instance=instance,
                         run_config={"ops": {"raw__landing_files": {"config": {"landing_dir": str(landing)}}}},
                         raise_on_error=False)
    assert not res.success  # the headerless file fails the run after the other one loaded
    text = [e.user_message or "" for e in instance.all_logs(res.run_id)]
    text += [str(e.event_specific_data) for e in res.all_events]
    return "\n".join(text)


# ---------------------------------------------------------------------------- key and file modes
def test_a_short_pii_key_is_refused_without_showing_it(tmp_path, monkeypatch):
    from pipelines.cli import main

    for key in ("x" * 31, "密" * 10, ""):                       # 31, 30 and 0 bytes
        monkeypatch.setenv("CEI_PII_KEY", key)
        with pytest.raises(pii.PiiKeyError) as e:
            pii.pii_key(tmp_path / "w.duckdb")
        assert "CEI_PII_KEY" in str(e.value) and "at least 32" in str(e.value)
        assert not key or key not in str(e.value)
    for key in ("x" * 32, "密" * 11):                           # 32 and 33 bytes
        monkeypatch.setenv("CEI_PII_KEY", key)
        assert pii.pii_key(tmp_path / "w.duckdb") == key
    # the secret file is held to the same length
    monkeypatch.delenv("CEI_PII_KEY")
    secret = tmp_path / "short_secret"
    secret.write_text("abc\n")
    monkeypatch.setenv("CEI_SECRET_FILE", str(secret))
    with pytest.raises(pii.PiiKeyError, match="too short"):
        pii.pii_key(tmp_path / "w.duckdb")
    # the CLI says so in one line, exit status 1, no traceback
    monkeypatch.delenv("CEI_SECRET_FILE")
    monkeypatch.setenv("CEI_PII_KEY", "short-key-123")
    f = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(2))
    result = CliRunner().invoke(main, ["--warehouse", str(tmp_path / "cli" / "w.duckdb"), "ingest", str(f)])
    assert result.exit_code == 1
    assert "CEI_PII_KEY: the PII key is too short (13 bytes" in result.output
    assert "short-key-123" not in result.output and "Traceback" not in result.output
    assert not (tmp_path / "cli").exists()  # refused before any warehouse file or folder was made


def test_the_warehouse_folder_and_file_are_private(tmp_path, monkeypatch):
    from pipelines.settings import connect, private_files, warehouse_path

    monkeypatch.setattr(os, "umask", os.umask)  # (no change: documents that the default umask is in force)
    old = os.umask(0o022)
    try:
        wh = warehouse_path(tmp_path / "new" / "deeper" / "warehouse.duckdb")
        assert stat.S_IMODE(os.stat(wh.parent).st_mode) == 0o700
        with connect(wh) as con:
            con.execute("CREATE TABLE t AS SELECT 1 AS a")
        assert stat.S_IMODE(os.stat(wh).st_mode) == 0o600
        # a .wal left by an interrupted run is narrowed when the next connection opens
        wal = wh.with_name(wh.name + ".wal")
        wal.write_bytes(b"")
        os.chmod(wal, 0o644)
        private_files(wh, created=False)
        assert stat.S_IMODE(os.stat(wal).st_mode) == 0o600
        wal.unlink()
        # a folder that already exists is not changed (it may be shared on purpose)
        shared = tmp_path / "shared"
        shared.mkdir(mode=0o755)
        os.chmod(shared, 0o755)
        with connect(warehouse_path(shared / "w.duckdb")):
            pass
        assert stat.S_IMODE(os.stat(shared).st_mode) == 0o755
        assert stat.S_IMODE(os.stat(shared / "w.duckdb").st_mode) == 0o600
    finally:
        os.umask(old)


# ---------------------------------------------------------------------------- migration
def test_an_older_warehouse_gets_the_id_format_column(tmp_path):
    """Warehouses made before complainant_id_format: staging and clean gain it (idempotent
    migration in sql/ddl/warehouse.sql) and the gate still writes clean rows."""
    wh = tmp_path / "old.duckdb"
    con = load(tmp_path, complaint_rows(4, seed=27, uscc=valid_uscc()), warehouse=wh)
    run_gate(con, "complaints", ["2025-03"])
    con.execute("ALTER TABLE staging.complaints DROP COLUMN complainant_id_format")
    con.execute("ALTER TABLE clean.complaints DROP COLUMN complainant_id_format")
    con.close()
    con = load(tmp_path, complaint_rows(4, month="2025-04", seed=28, uscc=valid_uscc()),
               name="complaints_2025-04.csv", warehouse=wh)
    run_gate(con, "complaints", ["2025-04"])
    got = con.execute("""SELECT partition_key, count(*), count(complainant_id_format), any_value(dq_flags IS NULL)
                         FROM clean.complaints GROUP BY 1 ORDER BY 1""").fetchall()
    assert got == [("2025-03", 4, 0, True), ("2025-04", 4, 4, True)]
