"""The small ingestion modules on hand-made inputs, with exact values: the PII key (length limit,
where the secret file lives, how it is created), the reader error's message, the SQL-file helpers.

Fast and in-process (no warehouse), so `make mutation` runs it against the ingestion mutants
(TESTING.md, "Mutation testing").
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import duckdb
import pytest

from ingestion import pii, sqlfiles
from ingestion.errors import IngestError


@pytest.fixture
def no_key(monkeypatch):
    monkeypatch.delenv("CEI_PII_KEY", raising=False)
    monkeypatch.delenv("CEI_SECRET_FILE", raising=False)


def test_key_of_exactly_32_bytes_is_accepted_31_refused_without_showing_it(monkeypatch, no_key):
    monkeypatch.setenv("CEI_PII_KEY", "k" * 32)
    assert pii.pii_key() == "k" * 32
    pii.check_env_key()
    monkeypatch.setenv("CEI_PII_KEY", "s3cr" + "e" * 27)  # 31 bytes
    for call in (pii.pii_key, pii.check_env_key):
        with pytest.raises(pii.PiiKeyError) as err:
            call()
        assert str(err.value) == ("CEI_PII_KEY: the PII key is too short (31 bytes; at least 32 needed, e.g. the output "
                                  "of `python -c \"import secrets; print(secrets.token_hex(32))\"`)")
    # bytes, not characters: 11 three-byte characters are 33 bytes
    monkeypatch.setenv("CEI_PII_KEY", "钥" * 11)
    assert pii.pii_key() == "钥" * 11
    monkeypatch.setenv("CEI_PII_KEY", "")  # set but empty is refused, not replaced by the secret file
    with pytest.raises(pii.PiiKeyError, match=r"^CEI_PII_KEY: the PII key is too short \(0 bytes"):
        pii.pii_key()
    with pytest.raises(pii.PiiKeyError):
        pii.check_env_key()


def test_without_an_environment_key_nothing_is_checked(no_key):
    assert pii.check_env_key() is None


def test_secret_file_next_to_the_warehouse_created_private_once(tmp_path, no_key, monkeypatch):
    wh = tmp_path / "deep" / "w.duckdb"
    assert pii.secret_file(wh) == (tmp_path / "deep" / ".cei_secret").resolve()
    monkeypatch.chdir(tmp_path)
    assert pii.secret_file(None) == Path.cwd() / ".cei_secret"
    key = pii.pii_key(wh)
    path = tmp_path / "deep" / ".cei_secret"
    assert len(key) == 64 and int(key, 16) >= 0 and path.read_text() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert pii.pii_key(wh) == key  # kept, not replaced
    path.write_text("  " + "x" * 40 + "\n")
    assert pii.pii_key(wh) == "x" * 40
    path.write_text("short\n")
    with pytest.raises(pii.PiiKeyError) as err:
        pii.pii_key(wh)
    assert str(err.value).startswith(f"{path.resolve()}: the PII key is too short (5 bytes;")


def test_secret_file_from_the_environment(tmp_path, no_key, monkeypatch):
    target = tmp_path / "elsewhere" / "k"
    monkeypatch.setenv("CEI_SECRET_FILE", str(target))
    assert pii.secret_file(tmp_path / "w.duckdb") == target
    key = pii.pii_key(tmp_path / "w.duckdb")
    assert target.read_text() == key and not (tmp_path / ".cei_secret").exists()
    monkeypatch.setenv("CEI_SECRET_FILE", "")  # empty: the default place
    assert pii.secret_file(tmp_path / "w.duckdb") == tmp_path.resolve() / ".cei_secret"


def test_mask_numbers_masks_phones_and_passes_empty_text():
    assert pii.mask_numbers(None) is None
    assert pii.mask_numbers("") == ""
    assert pii.mask_numbers("电话13812345678，订单号 2024") == "电话[手机号码]，订单号 2024"
    assert pii.mask_numbers("no numbers here") == "no numbers here"


def test_ingest_error_names_file_row_and_field():
    e = IngestError(Path("/in/a.csv"), "bad date", row=7, field="received_at")
    assert str(e) == "/in/a.csv, row 7, field received_at: bad date"
    assert (e.file, e.row, e.field) == ("/in/a.csv", 7, "received_at")
    assert str(IngestError("a.csv", "unknown headers")) == "a.csv: unknown headers"
    assert str(IngestError("a.csv", "m", row=0)) == "a.csv, row 0: m"
    assert str(IngestError("a.csv", "m", field="x")) == "a.csv, field x: m"
    e = IngestError("b.csv", "m")
    assert (e.row, e.field) == (None, None)


def test_known_table_and_table_exists():
    assert sqlfiles.known_table("complaints") == "complaints"
    with pytest.raises(ValueError) as err:
        sqlfiles.known_table("complaints; drop")
    assert str(err.value) == ("unknown table 'complaints; drop'; expected one of "
                              "['complaints', 'hotline_stats', 'region_profiles', 'sampling_results']")
    con = duckdb.connect()
    con.execute("CREATE SCHEMA s; CREATE SCHEMA empty; CREATE TABLE s.a (x INT)")
    assert sqlfiles.table_exists(con, "s", "a") is True
    assert sqlfiles.table_exists(con, "s") is True
    assert sqlfiles.table_exists(con, "s", "b") is False
    assert sqlfiles.table_exists(con, "empty") is False
    assert sqlfiles.table_exists(con, "main", "a") is False


def test_warehouse_tables_and_ingest_macros_install():
    con = duckdb.connect()
    sqlfiles.create_warehouse_tables(con)
    assert sqlfiles.table_exists(con, "staging", "complaints") and sqlfiles.table_exists(con, "raw")
    sqlfiles.install_ingest_macros(con)
    names = {r[0] for r in con.execute("SELECT function_name FROM duckdb_functions() WHERE function_type = 'macro'").fetchall()}
    assert {"pii_mask_numbers", "cei_halfwidth", "cei_text", "cei_code"} <= names
    assert sqlfiles.sql_text("ddl/warehouse.sql") == (sqlfiles.SQL_DIR / "ddl" / "warehouse.sql").read_text(encoding="utf-8")
    assert os.path.isdir(sqlfiles.SQL_DIR / "ingest")
