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


# ----------------------------------------------------------------------------- ingestion.record_count
from ingestion import record_count as rc  # noqa: E402

# (file bytes, records, header fields, method, multi-line records, interior blank lines, broken rows, broken)
COUNT_CASES = {
    "plain LF": (b"a,b\n1,2\n3,4\n", 2, 2, "fast", 0, 0, [], 0),
    "BOM and CRLF": (b"\xef\xbb\xbfa,b,c\r\n1,2,3\r\n", 1, 3, "fast", 0, 0, [], 0),
    "no last terminator": (b"a,b\n1,2\n3,4", 2, 2, "fast", 0, 0, [], 0),
    "lone CRs": (b"a,b\r1,2\r3,4", 2, 2, "fast", 0, 0, [], 0),
    "ends with a lone CR": (b"a,b\r\n1,2\r", 1, 2, "fast", 0, 0, [], 0),
    "blank lines": (b"a,b\n\n1,2\n\n\n3,4\n\n", 2, 2, "fast", 0, 3, [], 0),
    "blank CRLF lines": (b"a,b\r\n\r\n1,2\r\n\r\n", 1, 2, "fast", 0, 1, [], 0),
    "embedded newline": (b'a,b\n1,"x\ny"\n2,3\n', 2, 2, "fast", 1, 0, [], 0),
    "embedded CRLF, two records": (b'a,b\r\n1,"x\r\ny\r\nz"\r\n2,"p\rq"\r\n', 2, 2, "fast", 2, 0, [], 0),
    "doubled quotes": (b'a,b\n"x""y",2\n"",""\n', 2, 2, "fast", 0, 0, [], 0),
    "empty file": (b"", 0, 0, "fast", 0, 0, [], 0),
    "header only": (b"a,b,c\n", 0, 3, "fast", 0, 0, [], 0),
    "quote inside an unquoted field": (b'a,b\n27" monitor,2\n3,4\n', 2, 2, "exact", 0, 0, [], 0),
    "text after a closing quote": (b'a,b\n"x"y,2\n3,4\n', 2, 2, "exact", 0, 0, [1], 1),
    "unclosed quote before row-shaped lines": (b'a,b\n1,"x\n2,3\n4,5\n', 3, 2, "exact", 0, 0, [1], 1),
    "embedded line that is a record by itself": (b'a,b\n1,"x\n2,3"\n', 2, 2, "exact", 0, 0, [1], 1),
    "quote open at the end of the file": (b'a,b\n1,2\n3,"x', 2, 2, "exact", 0, 0, [2], 1),
    "quote open at the end, lines taken in": (b'a,b\n1,"x\nyy\nzz', 3, 2, "exact", 0, 0, [1], 1),
    "header over two lines": (b'"a\nb",c\n1,2\n', 1, 2, "exact", 0, 0, [], 0),
    "header after blank lines": (b"\n\na,b\n1,2\n", 1, 2, "exact", 0, 2, [], 0),
    "quoted header": (b'"a","b"\n1,2\n', 1, 2, "fast", 0, 0, [], 0),
    "multi-line exact": (b'a,b\n27" tv,"x\ny"\n', 1, 2, "exact", 1, 0, [], 0),
    "blank lines exact": (b'a,b\n\n27" tv,1\n\n', 1, 2, "exact", 0, 1, [], 0),
    "trailing comma": (b"a,b,\n1,2,\n", 1, 3, "fast", 0, 0, [], 0),
}


@pytest.mark.parametrize("chunk", [1 << 24, 1, 2, 3, 5])
@pytest.mark.parametrize("name", sorted(COUNT_CASES))
def test_count_records_exact_values_wherever_a_piece_ends(tmp_path, monkeypatch, name, chunk):
    data, *want = COUNT_CASES[name]
    monkeypatch.setattr(rc, "CHUNK", chunk)
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    got = rc.count_records(str(path))
    assert [got.records, got.header_fields, got.method, got.multiline_records, got.interior_blank_lines,
            got.broken_rows, got.broken_count] == want
    if chunk == 1:  # the exact pass alone gives the same count
        exact = rc._exact_count(path, rc.bom_length(path))
        assert [exact.records, exact.header_fields, exact.multiline_records, exact.interior_blank_lines,
                exact.broken_rows, exact.broken_count] == [want[0], want[1], *want[3:]]


def test_a_record_spanning_too_many_lines_is_broken(tmp_path, monkeypatch):
    monkeypatch.setattr(rc, "MAX_RECORD_LINES", 3)
    path = tmp_path / "f.csv"
    path.write_bytes(b'a,b\n1,"x\ny\nz"\n2,3\n')  # 3 lines: allowed
    assert (rc.count_records(path).records, rc.count_records(path).multiline_records) == (2, 1)
    path.write_bytes(b'a,b\n1,"w\nx\ny\nz"\n2,3\n')  # 4 lines: broken, counting resumes at the next line
    got = rc.count_records(path)
    assert (got.method, got.records, got.broken_rows) == ("exact", 5, [1])


def test_broken_rows_listed_up_to_the_limit_and_all_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(rc, "MAX_LISTED", 2)
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n" + b'"x"y,1\n1,2\n' * 3)
    got = rc.count_records(path)
    assert (got.records, got.broken_rows, got.broken_count) == (6, [1, 3], 3)


def test_physical_lines_and_push_back(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"ab\r\nc\rd\n\ne\r")
    assert list(rc.physical_lines(path)) == [(b"ab", 0, b"\r\n"), (b"c", 4, b"\r"), (b"d", 6, b"\n"),
                                             (b"", 8, b"\n"), (b"e", 9, b"\r")]
    assert list(rc.physical_lines(path, 4)) == [(b"c", 4, b"\r"), (b"d", 6, b"\n"), (b"", 8, b"\n"), (b"e", 9, b"\r")]
    src = rc.LineSource(path, 0)
    first, second = src.next(), src.next()
    assert (first[0], second[0], src.index) == (b"ab", b"c", 2)
    src.push_back([first, second])
    assert src.index == 0
    assert [src.next()[0] for _ in range(5)] == [b"ab", b"c", b"d", b"", b"e"]
    assert src.next() is None and src.index == 5


def test_bom_and_row_shape(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"\xef\xbb\xbfa")
    assert rc.bom_length(path) == 3
    path.write_bytes(b"\xef\xbba")
    assert rc.bom_length(path) == 0
    assert rc.row_shaped(b"1,2", 2) and rc.row_shaped(b'"1,x",2', 2) and rc.row_shaped(b'27" tv,2', 2)
    assert not rc.row_shaped(b"", 1) and not rc.row_shaped(b"1,2,3", 2) and not rc.row_shaped(b'1,"2', 2)
    assert not rc.row_shaped(b'"a"x,2', 2)
    assert rc.scan_line(b'"a""b', rc.FIELD_START, 1) == (rc.QUOTED, 1)
    assert rc.scan_line(b'x",1', rc.QUOTED, 1) == (rc.UNQUOTED, 2)
    assert rc.scan_line(b'x",', rc.QUOTED, 1) == (rc.FIELD_START, 2)
    assert rc.scan_line(b"", rc.QUOTED, 3) == (rc.QUOTED, 3)
    assert rc.scan_line(b"", rc.FIELD_START, 1) == (rc.FIELD_START, 1)
    assert rc.scan_line(b"a,b", rc.BROKEN, 4) == (rc.BROKEN, 4)
    assert rc.scan_line(b'1,"a"', rc.FIELD_START, 1) == (rc.AFTER_QUOTE, 2)
    assert rc.scan_line(b'"a" ', rc.FIELD_START, 1) == (rc.BROKEN, 1)
    assert rc.scan_line(b"a,", rc.FIELD_START, 1) == (rc.FIELD_START, 2)
    assert rc.scan_line(b'"', rc.AFTER_QUOTE, 1) == (rc.QUOTED, 1)
