"""The small ingestion modules on hand-made inputs, with exact values: the PII key (length limit,
where the secret file lives, how it is created), the reader error's message, the SQL-file helpers.

Fast and in-process (no warehouse), so `make mutation` runs it against the ingestion mutants
(TESTING.md, "Mutation testing").
"""
from __future__ import annotations

import hashlib
import json
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
    target = tmp_path / "etc" / "cei" / "k"  # folders that do not exist yet, two levels deep
    monkeypatch.setenv("CEI_SECRET_FILE", str(target))
    assert pii.secret_file(tmp_path / "w.duckdb") == target
    key = pii.pii_key(tmp_path / "w.duckdb")
    assert target.read_text() == key and not (tmp_path / ".cei_secret").exists()
    monkeypatch.setenv("CEI_SECRET_FILE", "")  # empty: the default place
    assert pii.secret_file(tmp_path / "w.duckdb") == tmp_path.resolve() / ".cei_secret"


def test_the_masking_connection_is_made_on_first_use_with_its_macros_and_kept(monkeypatch):
    monkeypatch.setattr(pii, "_mask_con", None)  # as in a fresh process
    assert pii.mask_numbers("call 13812345678") == "call [手机号码]"
    con = pii._mask_con
    assert con is not None
    assert pii.mask_numbers("0512-65432109") != "0512-65432109" and pii._mask_con is con
    assert pii.mask_numbers_many(["call 13812345678", "", "no number", "0512-65432109"]) == [
        "call [手机号码]", "", "no number", pii.mask_numbers("0512-65432109")]
    assert pii.mask_numbers_many([]) == [] and pii._mask_con is con
    con.close()


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



def test_a_sql_file_runs_with_exactly_its_parameters_and_contract_tables(tmp_path, monkeypatch):
    """sqlfiles.run binds exactly the $parameters a file uses: DuckDB matches names without regard to
    case and would bind a misspelt one silently, and an unused one hides a broken query."""
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "q.sql").write_text(
        "-- counts rows of {table} at or above $low ($unused in a comment is no parameter)\n"
        "SELECT count(*) FROM {table} WHERE {column} >= $low", encoding="utf-8")
    monkeypatch.setattr(sqlfiles, "SQL_DIR", tmp_path)
    sqlfiles.sql_text.cache_clear()
    try:
        con = duckdb.connect()
        con.execute("CREATE TABLE complaints AS SELECT range AS x FROM range(10)")
        assert sqlfiles.run(con, "t/q.sql", {"low": 7}, table="complaints", column="x").fetchall() == [(3,)]
        text, bound = sqlfiles.statement("t/q.sql", {"low": 7}, table="complaints", column="x")
        assert text.endswith("SELECT count(*) FROM complaints WHERE x >= $low") and bound == {"low": 7}
        for params, message in (({"LOW": 7}, "sql/t/q.sql: parameters missing ['low'], not used ['LOW']"),
                                ({}, "sql/t/q.sql: parameters missing ['low'], not used []"),
                                ({"low": 7, "high": 9}, "sql/t/q.sql: parameters missing [], not used ['high']")):
            with pytest.raises(ValueError) as err:
                sqlfiles.run(con, "t/q.sql", params, table="complaints", column="x")
            assert str(err.value) == message
        with pytest.raises(ValueError) as err:
            sqlfiles.run(con, "t/q.sql", {"low": 7}, table="complaints")
        assert str(err.value) == "sql/t/q.sql: placeholders ['column', 'table'], given ['table']"
        with pytest.raises(ValueError) as err:
            sqlfiles.run(con, "t/q.sql", {"low": 7}, table="complaints", column="x", extra="y")
        assert str(err.value) == "sql/t/q.sql: placeholders ['column', 'table'], given ['column', 'extra', 'table']"
        with pytest.raises(ValueError, match="unknown table 'x; drop'"):
            sqlfiles.run(con, "t/q.sql", {"low": 7}, table="x; drop", column="x")
    finally:
        sqlfiles.sql_text.cache_clear()



def test_a_dollar_sign_in_a_quoted_name_or_a_string_is_no_parameter(tmp_path, monkeypatch):
    """A delivered header such as "price $USD" reaches SQL as a quoted name: no parameter, nor is "--" in it
    a comment that would hide the real parameter after it."""
    assert sqlfiles.parameters('SELECT "price $USD -- net", \'$x\' AS "a""$b" FROM t WHERE y = $low -- $gone') == {"low"}
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "q.sql").write_text("SELECT count(*) FROM {table} WHERE {column} >= $low", encoding="utf-8")
    monkeypatch.setattr(sqlfiles, "SQL_DIR", tmp_path)
    sqlfiles.sql_text.cache_clear()
    try:
        con = duckdb.connect()
        con.execute('CREATE TABLE complaints AS SELECT range AS "price $USD -- net" FROM range(5)')
        assert sqlfiles.run(con, "t/q.sql", {"low": 3}, table="complaints",
                            column='"price $USD -- net"').fetchall() == [(2,)]
    finally:
        sqlfiles.sql_text.cache_clear()

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
    # the line after the blank one is not row-shaped by itself; read together with the rest it would be
    "embedded blank line": (b'a,b\n1,"x\n\ny"\n2,3\n', 2, 2, "fast", 1, 0, [], 0),
    "closing quote ends the file": (b'a,b\n1,"x"', 1, 2, "fast", 0, 0, [], 0),
    "NUL byte after a closing quote": (b'a,b\n"x"\x00,1\n', 1, 2, "exact", 0, 0, [1], 1),
    # a quote after "7" opens nothing (wherever a piece starts), so the toggle view cannot be trusted
    "quotes inside an unquoted field": (b'a,b\n27"x,3"\n', 1, 2, "exact", 0, 0, [], 0),
    # the BOM is not part of the first field: the header's quoted comma is not a separator
    "BOM, quoted header, exact": (b'\xef\xbb\xbf"a,b",c\n1,27" tv\n', 1, 2, "exact", 0, 0, [], 0),
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
    exact = rc._exact_count(path, 0)  # the exact pass draws the line at the same place
    assert (exact.records, exact.multiline_records, exact.broken_rows) == (2, 1, [])
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


def test_the_header_line_is_read_in_one_small_block():
    """Memory stays flat at any file size: the header is read 64 KiB at a time, not the whole file."""
    import io

    f = io.BytesIO(b"a,b\r\n" + b"1,2\n" * 100_000)
    assert rc._read_line(f) == b"a,b" and f.tell() == 1 << 16
    long_header = b"h" * 70_000 + b"\rx\n"  # a header longer than a block: read on to its end
    f = io.BytesIO(long_header + b"1\n" * 100_000)
    assert rc._read_line(f) == b"h" * 70_000 and f.tell() == 2 << 16
    assert rc._read_line(io.BytesIO(b"no terminator")) == b"no terminator"
    assert [rc._read_line(io.BytesIO(b"\nx,y\n")), rc._read_line(io.BytesIO(b"\rx")), rc._read_line(io.BytesIO(b"a\rb\n"))] == [
        b"", b"", b"a"]  # an empty line is empty, whichever terminator comes first


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
    # the state a line leaves the record in, with and without quotes in it
    assert rc.scan_line(b"a,b", rc.FIELD_START, 1) == (rc.UNQUOTED, 2)
    assert rc.scan_line(b'x"y', rc.FIELD_START, 1) == (rc.UNQUOTED, 1)
    assert rc.scan_line(b'1,x"', rc.FIELD_START, 1) == (rc.UNQUOTED, 2)
    assert rc.scan_line(b'1,"a",b', rc.FIELD_START, 1) == (rc.UNQUOTED, 3)
    assert rc.scan_line(b"x,y", rc.AFTER_QUOTE, 1) == (rc.BROKEN, 1)  # text right after a closing quote
    assert rc.scan_line(b"", rc.AFTER_QUOTE, 2) == (rc.AFTER_QUOTE, 2)


def test_a_two_byte_header_is_a_line_not_a_blank(tmp_path):
    path = tmp_path / "f.csv"
    for data in (b"ab\n1\n2\n", b"\xef\xbb\xbfab\n1\n2\n", b"ab\r\n1\r\n2\r\n"):
        path.write_bytes(data)
        got = rc.count_records(path)
        assert (got.records, got.header_fields, got.method, got.interior_blank_lines) == (2, 1, "fast", 0), data


class _Recording:
    """A file object that notes the size of every read (``sizes``)."""

    def __init__(self, f, sizes: list):
        self._f, self._sizes = f, sizes

    def read(self, n=-1):
        self._sizes.append(n)
        return self._f.read(n)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __iter__(self):
        return iter(self._f)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


def record_reads(monkeypatch, module) -> list:
    """Every ``open`` in ``module`` returns a recording file; the list of read sizes."""
    sizes: list = []
    monkeypatch.setattr(module, "open", lambda *a, **k: _Recording(open(*a, **k), sizes), raising=False)
    return sizes


def test_the_count_reads_in_pieces_of_bounded_size(tmp_path, monkeypatch):
    """Memory stays flat at any size: no pass reads the whole file at once."""
    sizes = record_reads(monkeypatch, rc)
    monkeypatch.setattr(rc, "CHUNK", 8)
    path = tmp_path / "f.csv"
    path.write_bytes(b'a,b\n1,"x\ny"\n' + b"2,3\n" * 50 + b'27" tv,4\n')  # fast pass, then the exact one
    got = rc.count_records(path)
    assert (got.records, got.method) == (52, "exact")
    assert sizes and all(n is not None and 0 <= n <= 1 << 16 for n in sizes) and sizes.count(8) > 10


# --------------------------------------------------------------------------------- ingestion.encoding
from ingestion import encoding as enc  # noqa: E402

NOT_READ = ("is not read (CSV must be UTF-8, GB18030/GBK, or an ASCII-based single-byte code page such as "
            "latin-1, cp1252, koi8-r)")


def test_encoding_names_admitted_and_refused():
    assert [enc.canonical_name(n) for n in ("UTF8", "utf_8_sig", "GBK", "latin1")] == ["utf-8", "utf-8-sig", "gbk",
                                                                                        "iso8859-1"]
    assert [enc.check_encoding(n) for n in ("utf8", "UTF-8-SIG", "GB18030", "cp1252", "koi8-r", "big5")] == [
        "utf-8", "utf-8-sig", "gb18030", "cp1252", "koi8-r", "big5"]
    assert [enc.check_encoding(n) for n in ("latin-1", "ascii", "shift_jis", "mac-roman", "cp437", "tis-620")] == [
        "iso8859-1", "ascii", "shift_jis", "mac-roman", "cp437", "tis-620"]
    for name in ("utf-16", "cp037", "utf-7", "johab", "shift_jis_2004"):  # ASCII bytes mean something else, or occur
        with pytest.raises(ValueError) as err:                             # inside characters
            enc.check_encoding(name)
        assert str(err.value) == f"encoding {name!r} {NOT_READ}"


def test_stateful_and_bytes_codecs_are_refused_not_crashed_on(tmp_path):
    """ISO-2022 and HZ switch to two-byte characters made of ASCII bytes after an escape: `"` and `,`
    then occur inside a character, so neither the CSV reader nor the record count could read them (they
    were admitted, as single-byte code pages). A bytes-to-bytes codec raised LookupError, a traceback."""
    assert b'\x1b$B",\x1b(B'.decode("iso2022_jp") == "\u2191"  # `",` is one character here
    for name in ("iso2022_jp", "ISO-2022-JP", "iso2022_jp_2", "iso2022_jp_ext", "iso2022_kr", "hz", "hex", "base64",
                 "rot13"):
        with pytest.raises(ValueError) as err:
            enc.check_encoding(name)
        assert str(err.value) == f"encoding {name!r} {NOT_READ}"
    path = tmp_path / "f.csv"
    path.write_bytes(b'a,b\n1,\x1b$B",\x1b(B\n')
    with pytest.raises(IngestError) as err:
        enc.detect_encoding(path, "iso2022_jp")
    assert str(err.value) == f"{path}: --encoding: encoding 'iso2022_jp' {NOT_READ}"
    with pytest.raises(ValueError) as err:
        enc.check_encoding("no-such-codec")
    assert str(err.value) == "unknown encoding 'no-such-codec'"


def test_plausibility_of_text_decoded_as_gb18030():
    latin = "Müller straße Köln Düsseldorf".encode("latin-1").decode("gb18030", "surrogateescape")
    p = enc.Plausibility()
    p.add(latin)
    assert (p.non_ascii, p.rare, p.rare_share) == (4, 4, 1.0)
    assert p.verdict() == ("100% of its non-ASCII characters are rare ideographs or symbols "
                           "(Chinese text: a few percent)")
    chinese = enc.Plausibility()
    chinese.add("消费者投诉：商品质量问题，要求退货。\udc80\udcff")  # undecodable bytes are not judged here
    assert (chinese.non_ascii, chinese.rare, chinese.rare_share, chinese.verdict()) == (18, 0, 0.0, None)
    assert chinese.sample == ["消费者投诉：商品质量问题，要求退货。"] and chinese.sampled == 18
    # punctuation outside GB2312 is not rare: the ends of each block, and what lies just outside them
    punct = enc.Plausibility()
    punct.add("\u00b7\u00d7\u2000\u206f\u3000\u303f\uff00\uffef")
    assert (punct.non_ascii, punct.rare) == (8, 0)
    for ch in "\u00b6\u00b8\u00d8\u1fff\u2070\u2fff\u3040\ufeff":
        outside = enc.Plausibility()
        outside.add(ch + ch)
        assert (outside.non_ascii, outside.rare) == (2, 2), hex(ord(ch))
    russian = enc.Plausibility()
    russian.add("Привет мир, как дела сегодня".encode("koi8-r").decode("gb18030", "surrogateescape"))
    assert (russian.non_ascii, russian.rare) == (10, 0)
    assert russian.verdict() == ("its characters read as noise (charset-normalizer mess ratio 0.12; "
                                 "Chinese text under 0.05)")
    few = enc.Plausibility()
    few.add("abc 黮遝鑜")  # 3 rare characters: too few to judge by share
    assert (few.non_ascii, few.rare) == (3, 3) and few.rare_share == 1.0
    assert few.verdict() is None or not few.verdict().endswith("(Chinese text: a few percent)")
    empty = enc.Plausibility()
    empty.add("plain ascii")
    assert (empty.rare_share, empty.mess(), empty.verdict()) == (0.0, 0.0, None)


def test_plausibility_rare_share_at_its_limit(monkeypatch):
    p = enc.Plausibility()
    p.add("黮中文字")  # 1 rare of 4: 25%, the limit, passes
    assert (p.non_ascii, p.rare, p.rare_share) == (4, 1, 0.25)
    monkeypatch.setattr(p, "mess", lambda: 0.0)
    assert p.verdict() is None
    p.add("黮")  # 2 of 5
    assert p.verdict() == ("40% of its non-ASCII characters are rare ideographs or symbols "
                           "(Chinese text: a few percent)")
    monkeypatch.setattr(p, "mess", lambda: 0.10)
    q = enc.Plausibility()
    q.add("中文")
    monkeypatch.setattr(q, "mess", lambda: 0.10)
    assert q.verdict() is None  # a mess ratio equal to the limit passes
    monkeypatch.setattr(q, "mess", lambda: 0.11)
    assert q.verdict().startswith("its characters read as noise (charset-normalizer mess ratio 0.11")


def test_mess_ratio_judges_non_ascii_text_only_and_the_sample_as_one_text():
    junk = enc.Plausibility()
    junk.add("x=1; y=2; z=[!@#$%^&*]")  # ASCII punctuation would score 0.41: ASCII text is not judged
    assert (junk.mess(), junk.verdict()) == (0.0, None)
    pieces = enc.Plausibility()
    pieces.add("\u00e9")
    pieces.add("\u00e9")
    assert pieces.mess() == 1.0  # "éé", not the pieces joined by anything
    # measured to the end (no early stop at the library's default 0.2, nor a different cap)
    cp1252 = enc.Plausibility()
    cp1252.add("Café crème brûlée à la carte, naïve façade".encode("cp1252").decode("gb18030", "surrogateescape"))
    assert cp1252.mess() == 0.544
    latin = enc.Plausibility()
    latin.add(("Müller straße Köln Düsseldorf Grüße Bäcker Fußgänger Öl Übung. " * 3).encode("latin-1")
              .decode("gb18030", "surrogateescape"))
    assert latin.mess() == 1.06


def test_plausibility_sample_is_capped(monkeypatch):
    monkeypatch.setattr(enc, "SAMPLE_MAX", 5)
    p = enc.Plausibility()
    p.add("中文ab")
    p.add("xyz")
    p.add("more")
    assert (p.sample, p.sampled, p.non_ascii) == (["中文ab", "x"], 5, 2)


def test_pieces_end_after_a_line_feed(tmp_path, monkeypatch):
    monkeypatch.setattr(enc, "CHUNK", 4)
    path = tmp_path / "f.csv"
    path.write_bytes(b"ab\ncdefg\nhi")
    assert list(enc._pieces(path)) == [(0, b"ab\n"), (3, b"cdefg\n"), (9, b"hi")]
    path.write_bytes(b"x" * 20 + b"\nz")  # no LF within 4 pieces: cut anyway
    assert list(enc._pieces(path)) == [(0, b"x" * 16), (16, b"xxxx\n"), (21, b"z")]


def test_pieces_are_as_long_as_the_last_line_feed_allows(tmp_path, monkeypatch):
    monkeypatch.setattr(enc, "CHUNK", 8)
    path = tmp_path / "f.csv"
    path.write_bytes(b"a\nb\ncdefgh\nij")
    assert list(enc._pieces(path)) == [(0, b"a\nb\n"), (4, b"cdefgh\n"), (11, b"ij")]


def test_decoding_and_transcoding_read_in_pieces_of_bounded_size(tmp_path, monkeypatch):
    """Memory stays flat at any size: detection and the UTF-8 copy read CHUNK at a time."""
    sizes = record_reads(monkeypatch, enc)
    monkeypatch.setattr(enc, "CHUNK", 16)
    path = tmp_path / "f.csv"
    path.write_bytes(_bad_utf8(3, lines=40))  # bad bytes: decoded again in pieces, lines counted
    report = enc.detect_encoding(path)
    assert (report.encoding, report.bad_count) == ("utf-8", 3)
    path.write_bytes(_bad_utf8(0, lines=40))
    enc.transcode_to_utf8(path, "utf-8", tmp_path, unify_newlines=True)
    assert sizes and all(n is not None and 0 <= n <= 16 for n in sizes) and sizes.count(16) > 30


def test_tolerance_counts_lines_across_pieces(tmp_path, monkeypatch):
    monkeypatch.setattr(enc, "CHUNK", 1000)
    path = tmp_path / "f.csv"
    path.write_bytes(b"\n" * 12_500)
    assert enc._tolerance(path) == 12


def test_the_first_bad_sequence_is_shown_by_its_first_four_bytes(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n1,\xff\xfe\xfd\xfc\xfb\n" + b"2,\xff\n" * 10 + b"3,x\n" * 10)
    with pytest.raises(IngestError) as err:
        enc.detect_encoding(path, "utf-8")
    assert str(err.value) == (f"{path}: not valid utf-8 (check --encoding): 11 bad byte sequence(s), "
                              "the first at byte offset 6 (ff fe fd fc)")


def test_the_utf8_copy_is_byte_exact_whatever_the_platform_defaults(tmp_path, monkeypatch):
    """As on a Windows server with a Chinese locale: files opened without an encoding would be cp936
    and written newlines would become CRLF. The copy is UTF-8 with the delivered line ends."""
    def windows_open(file, mode="r", *args, encoding=None, newline=None, **kw):
        if "b" not in mode and "w" in mode and newline is None:
            newline = "\r\n"
        return open(file, mode, *args, encoding=encoding or "cp1252", newline=newline, **kw)

    monkeypatch.setattr(enc, "open", windows_open, raising=False)
    src = tmp_path / "in.csv"
    src.write_bytes("a,b\n1,名称\n".encode("gb18030"))
    out = enc.transcode_to_utf8(src, "gb18030", tmp_path)
    assert out.read_bytes() == "a,b\n1,名称\n".encode()


def test_scan_decode_finds_and_places_bad_bytes(tmp_path, monkeypatch):
    path = tmp_path / "f.csv"
    path.write_bytes("a,中\n".encode() + b"b\xff\xfe,c\n" + "d,\xe9\n".encode("latin-1"))
    scan = enc.scan_decode(path, "utf-8")
    assert (scan.encoding, scan.bad, scan.bad_count, scan.plausibility) == ("utf-8", [(7, b"\xff\xfe"), (14, b"\xe9")], 2,
                                                                            None)
    monkeypatch.setattr(enc, "MAX_BAD_LISTED", 1)
    monkeypatch.setattr(enc, "CHUNK", 3)
    scan = enc.scan_decode(path, "utf-8", sample=True)
    assert (scan.bad, scan.bad_count, scan.plausibility.non_ascii) == ([(7, b"\xff\xfe")], 2, 1)
    path.write_bytes(b"a,b\n1,\xe5\x90")  # a character cut off by the end of the file
    assert (enc.scan_decode(path, "utf-8").bad, enc.scan_decode(path, "utf-8").bad_count) == ([(6, b"\xe5\x90")], 1)
    path.write_bytes(b"a,b\n1,2\n")
    assert enc.scan_decode(path, "utf-8").plausibility is None  # not sampled unless asked
    path.write_bytes(b"\xef\xbb\xbfa,b\n1,\xff\n")  # offsets and bytes of a BOM file: the BOM counted once
    report = enc.detect_encoding(path)
    assert (report.encoding, report.bad, report.bad_count) == ("utf-8-sig", [(9, b"\xff")], 1)
    path.write_bytes(b"\xffa,b\n")  # from the first byte by default
    assert (enc.scan_decode(path, "utf-8").bad, enc.scan_decode(path, "gb18030", sample=True).bad_count) == (
        [(0, b"\xff")], 1)
    good = tmp_path / "g.csv"
    good.write_bytes(b"\xef\xbb\xbf" + "名称\n".encode())
    scan = enc.scan_decode(good, "utf-8-sig", sample=True)  # the BOM is text here (U+FEFF), not bad bytes
    assert (scan.encoding, scan.bad_count, scan.plausibility.sample) == ("utf-8-sig", 0, ["\ufeff", "名", "称", "\n"])
    good.write_bytes(b"\xef\xbb\xbf" + "名".encode() + b",\xff\n")  # forced utf-8-sig: offsets from the file start
    report = enc.detect_encoding(good, "utf-8-sig")
    assert (report.encoding, report.bad, report.forced) == ("utf-8-sig", [(7, b"\xff")], True)


def test_tolerance_is_ten_or_one_per_thousand_lines(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"\n" * 10_999)
    assert enc._tolerance(path) == 10
    path.write_bytes(b"\n" * 12_000)
    assert enc._tolerance(path) == 12


def _bad_utf8(n_bad: int, lines: int = 20) -> bytes:
    rows = [f"r{i},名称{i}\n".encode() for i in range(lines)]
    for i in range(n_bad):
        rows[i] = rows[i].replace("名".encode(), b"\xff")
    return b"a,b\n" + b"".join(rows)


def test_detect_encoding(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes("a,b\n1,名称\n".encode())
    assert (str(enc.detect_encoding(path)), enc.detect_encoding(path).forced) == ("utf-8", False)
    path.write_bytes(b"\xef\xbb\xbf" + "a,b\n1,名称\n".encode())
    assert enc.detect_encoding(str(path)).encoding == "utf-8-sig"
    path.write_bytes("a,b\n1,消费者投诉商品质量\n".encode("gb18030"))
    report = enc.detect_encoding(path)
    assert (report.encoding, report.bad, report.bad_count) == ("gb18030", [], 0)
    for bom in (b"\xff\xfe", b"\xfe\xff"):
        path.write_bytes(bom + "a,b\n".encode("utf-16-le"))
        with pytest.raises(IngestError) as err:
            enc.detect_encoding(path)
        assert str(err.value) == f"{path}: UTF-16 files are not supported; export as UTF-8 or GB18030"
    path.write_bytes(_bad_utf8(10))  # 10 bad sequences: tolerated, read as UTF-8 with those named
    report = enc.detect_encoding(path)
    assert (report.encoding, report.bad_count, report.bad[:2]) == ("utf-8", 10, [(7, b"\xff"), (16, b"\xff")])
    path.write_bytes(_bad_utf8(11))  # 11: neither UTF-8 nor plausible GB18030
    with pytest.raises(IngestError) as err:
        enc.detect_encoding(path)
    assert str(err.value).startswith(f"{path}: not UTF-8 nor GB18030: pass --encoding NAME or re-export as UTF-8; "
                                     "as UTF-8 11 bad byte sequence(s), the first at byte offset 7 (ff)")
    path.write_bytes("a,b\n1,Müller Straße Köln Düsseldorf Grüße\n".encode("latin-1"))
    report = enc.detect_encoding(path)  # 5 bad UTF-8 sequences: tolerated (their records are rejected)
    assert (report.encoding, report.bad_count) == ("utf-8", 5)
    path.write_bytes(("a,b\n" + "1,Müller Straße\n" * 6).encode("latin-1"))  # 12 bad as UTF-8, none as GB18030
    with pytest.raises(IngestError) as err:
        enc.detect_encoding(path)
    assert str(err.value).startswith(f"{path}: another encoding? pass --encoding NAME (e.g. cp1252, koi8-r): the "
                                     "file decodes as GB18030 but 100% of its non-ASCII characters are rare ideographs or "
                                     "symbols (Chinese text: a few percent)")


def test_detect_encoding_refusals_at_the_tolerance(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"\xef\xbb\xbf" + _bad_utf8(11))  # a BOM file is UTF-8 or nothing
    with pytest.raises(IngestError) as err:
        enc.detect_encoding(path)
    assert str(err.value).startswith(f"{path}: not UTF-8 nor GB18030: pass --encoding NAME or re-export as UTF-8; "
                                     "as UTF-8 11 bad byte sequence(s), the first at byte offset 10 (ff)")
    # Latin-1 text with exactly as many bad GB18030 sequences as tolerated (10): "another encoding?"
    path.write_bytes(("a,b\n" + "1,Müller Straße\n" * 6).encode("latin-1") + b"2,\xff\n" * 10)
    with pytest.raises(IngestError) as err:
        enc.detect_encoding(path)
    assert str(err.value).startswith(f"{path}: another encoding? pass --encoding NAME (e.g. cp1252, koi8-r): the "
                                     "file decodes as GB18030 but")
    path.write_bytes(("a,b\n" + "1,Müller Straße\n" * 6).encode("latin-1") + b"2,\xff\n" * 11)  # 11: no encoding fits
    with pytest.raises(IngestError) as err:
        enc.detect_encoding(path)
    assert str(err.value).startswith(f"{path}: not UTF-8 nor GB18030")


def test_detect_encoding_forced(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes("a,b\n1,Müller\n".encode("cp1252"))
    report = enc.detect_encoding(path, "CP1252")
    assert (report.encoding, report.bad, report.bad_count, report.forced) == ("cp1252", [], 0, True)
    path.write_bytes(b"\xef\xbb\xbf" + "a,b\n1,\xe9\n".encode())
    assert enc.detect_encoding(path, "utf-8-sig").bad_count == 0
    with pytest.raises(IngestError) as err:
        enc.detect_encoding(path, "nope")
    assert str(err.value) == f"{path}: --encoding: unknown encoding 'nope'"
    path.write_bytes(_bad_utf8(10))
    assert enc.detect_encoding(path, "utf-8").bad_count == 10
    path.write_bytes(_bad_utf8(11))
    with pytest.raises(IngestError) as err:
        enc.detect_encoding(path, "utf-8")
    assert str(err.value) == (f"{path}: not valid utf-8 (check --encoding): 11 bad byte sequence(s), "
                              "the first at byte offset 7 (ff)")


def test_transcode_to_utf8(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes("a,b\r\n1,名称\r2,x\n".encode("gb18030"))
    out = enc.transcode_to_utf8(src, "gb18030", tmp_path)
    assert out.parent == tmp_path and out.suffix == ".csv" and stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_bytes() == "a,b\r\n1,名称\r2,x\n".encode()
    out2 = enc.transcode_to_utf8(src, "gb18030", tmp_path, unify_newlines=True)
    assert out2.read_bytes() == "a,b\n1,名称\n2,x\n".encode() and out2 != out


# ------------------------------------------------------------------------------- ingestion.csv_reader
from ingestion import csv_reader  # noqa: E402

HOT = b"unit_id,region_code,month,calls_offered\n"
TOO_SHORT = "MISSING COLUMNS: Expected Number of Columns: 4 Found: "


def read_csv(tmp_path, data: bytes, name: str = "hotline_stats_x.csv", encoding=None):
    """(header map, _batch rows, _read_rejects rows) of a hotline file read by the CSV reader."""
    path = tmp_path / name
    path.write_bytes(data)
    con = duckdb.connect()
    hmap = csv_reader.read_csv_into_batch(con, path, encoding, "hotline_stats", tmp_path)
    rows = con.execute("SELECT * FROM _batch ORDER BY _row").fetchall()
    rejects = con.execute("SELECT * FROM _read_rejects ORDER BY _row").fetchall()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary copy left behind
    con.close()
    return hmap, rows, rejects


def test_csv_read_by_duckdb_with_record_numbers_between_rejects(tmp_path):
    hmap, rows, rejects = read_csv(tmp_path, HOT + b"U1,320402,2025-03-01,10\nU2,,2025-03-01,\n")
    assert (hmap.canonical, hmap.records_counted, hmap.read_note, hmap.notes) == (
        ["unit_id", "region_code", "month", "calls_offered"], 2, "", [])
    assert rows == [("U1", "320402", "2025-03-01", "10", None, None, 1), ("U2", None, "2025-03-01", None, None, None, 2)]
    assert rejects == []
    _, rows, rejects = read_csv(tmp_path, HOT + b"U1,1\nU2,1,2,3\nU3,1\nU4,1,2,3\nU5,1,2,3\nU6,1\n")
    assert [(r[0], r[-1]) for r in rows] == [("U2", 2), ("U4", 4), ("U5", 5)]
    assert rejects == [(1, "month", TOO_SHORT + "2", "U1,1"), (3, "month", TOO_SHORT + "2", "U3,1"),
                       (6, "month", TOO_SHORT + "2", "U6,1")]
    # consecutive rejects: the good records after them keep their own numbers
    _, rows, rejects = read_csv(tmp_path, HOT + b"U1,1\nU2,1\nU3,1,2,3\nU4,1,2,3\nU5,1\nU6,1\nU7,1\nU8,1,2,3\n")
    assert [(r[0], r[-1]) for r in rows] == [("U3", 3), ("U4", 4), ("U8", 8)]
    assert [r[0] for r in rejects] == [1, 2, 5, 6, 7]
    _, rows, rejects = read_csv(tmp_path, HOT + b"U1,320402,2025-03-01\nU2,320402,2025-03-01,5,9\nU3,1,2,3\n")
    assert rows == [("U3", "1", "2", "3", None, None, 3)]
    assert rejects == [(1, "calls_offered", TOO_SHORT + "3", "U1,320402,2025-03-01"),
                       (2, None, "TOO MANY COLUMNS: Expected Number of Columns: 4 Found: 5", "U2,320402,2025-03-01,5,9")]
    _, rows, rejects = read_csv(tmp_path, HOT + b'U1,320402,2025-03-01,10\n"U"2,320402,2025-03-01,5\nU3,1,2,3\n')
    assert [(r[0], r[-1]) for r in rows] == [("U1", 1), ("U3", 3)]
    assert rejects == [(2, "unit_id", "UNQUOTED VALUE: Value with unterminated quote found.", '"U"2,320402,2025-03-01,5')]
    _, rows, _ = read_csv(tmp_path, HOT + b'U1,"3204\n02",2025-03-01,10\nU2,320402,2025-03-01,5\n')
    assert [(r[1], r[-1]) for r in rows] == [("3204\n02", 1), ("320402", 2)]


def test_csv_other_encodings_and_mixed_line_endings(tmp_path):
    gb = "统计月份,话务单位,行政区划代码,呼入量\n2025-03-01,单位一,320402,5\n".encode("gb18030")
    hmap, rows, rejects = read_csv(tmp_path, gb)
    assert (hmap.delivered, hmap.canonical) == (["统计月份", "话务单位", "行政区划代码", "呼入量"],
                                                ["month", "unit_id", "region_code", "calls_offered"])
    assert (rows, rejects) == ([("单位一", "320402", "2025-03-01", "5", None, None, 1)], [])
    _, rows, _ = read_csv(tmp_path, b"\xef\xbb\xbf" + HOT + b"U1,1,2,3\n")
    assert rows == [("U1", "1", "2", "3", None, None, 1)]
    hmap, rows, rejects = read_csv(tmp_path, HOT.replace(b"\n", b"\r\n") + b"U1,32,2025-03-01,10\r\nU2,32\nU3,1,2,3\n")
    assert [(r[0], r[-1]) for r in rows] == [("U1", 1), ("U3", 3)] and hmap.read_note == ""
    assert rejects == [(2, "month", TOO_SHORT + "2", "U2,32")]
    latin = "unit_id,region_code,month,calls_offered\nMüller,1,2,3\n".encode("cp1252")
    _, rows, _ = read_csv(tmp_path, latin, encoding="cp1252")
    assert rows == [("Müller", "1", "2", "3", None, None, 1)]


def test_csv_recovery_reader_rejects_each_bad_record_by_name(tmp_path):
    hmap, rows, rejects = read_csv(tmp_path, HOT + b"U1,320402,2025-03-01,10\nU\xe9,320402,2025-03-01,5\n"
                                               b"U3,32\xff0402,2025-03-01,7\n")
    assert (hmap.records_counted, hmap.read_note) == (3, "read line by line: 2 undecodable byte sequence(s)")
    assert hmap.notes == ["read line by line: 2 undecodable byte sequence(s)"]
    assert rows == [("U1", "320402", "2025-03-01", "10", None, None, 1)]
    assert rejects == [(2, "unit_id", "undecodable bytes (e9) at byte offset 65: not valid utf-8", "U\ufffd,320402,2025-03-01,5"),
                       (3, "region_code", "undecodable bytes (ff) at byte offset 92: not valid utf-8",
                        "U3,32\ufffd0402,2025-03-01,7")]
    hmap, rows, rejects = read_csv(tmp_path, HOT + b'"U"2,320402,2025-03-01,5\nU1,"32"x,1,2\n\xe9,1,2,3\nU4,1,2,3,4\n'
                                               b'U5,1\nU6,"a\nb",2,3\n\nU7,,,\n')
    assert rows == [("U6", "a\nb", "2", "3", None, None, 6), ("U7", None, None, None, None, None, 7)]
    stray = "stray quote: ',' expected after '\"'"
    assert rejects == [(1, "unit_id", stray, '"U"2,320402,2025-03-01,5'), (2, "region_code", stray, 'U1,"32"x,1,2'),
                       (3, "unit_id", "undecodable bytes (e9) at byte offset 78: not valid utf-8", "\ufffd,1,2,3"),
                       (4, None, "expected 4 fields, found 5", "U4,1,2,3,4"),
                       (5, "month", "expected 4 fields, found 2", "U5,1")]
    _, rows, rejects = read_csv(tmp_path, b"\xef\xbb\xbf" + HOT + b"U1,1,2,3\nU\xe9,1,2,3\n")
    assert rejects == [(2, "unit_id", "undecodable bytes (e9) at byte offset 53: not valid utf-8-sig", "U\ufffd,1,2,3")]


def test_csv_unclosed_quotes_reject_one_line(tmp_path):
    hmap, rows, rejects = read_csv(tmp_path, HOT + b'U1,"320402,2025-03-01,10\nU2,320402,2025-03-01,5\n')
    assert hmap.read_note == "read line by line: DuckDB read 1 records, the independent count is 2"
    assert rows == [("U2", "320402", "2025-03-01", "5", None, None, 2)]
    assert rejects == [(1, "region_code", "unclosed quote: a quote opened in this field never closes (the quoted field "
                                          "would take in line 3 which is a complete record); only this line is rejected",
                        'U1,"320402,2025-03-01,10')]
    _, rows, rejects = read_csv(tmp_path, HOT + b'U1,320402,2025-03-01,10\nU2,"320402,2025-03-01,5\nzz')
    assert [r[-1] for r in rows] == [1]
    assert rejects == [(2, "region_code", "unclosed quote: a quote opened in this field never closes (the quote never "
                                          "closes before the end of the file); only this line is rejected",
                        'U2,"320402,2025-03-01,5'),
                       (3, "region_code", "expected 4 fields, found 1", "zz")]
    hmap, rows, rejects = read_csv(tmp_path, HOT + b"U1,1,2,3\n\nU2,1,2\nU3,1,2,3\n")
    assert hmap.read_note == "read line by line: blank lines inside the file shift DuckDB's record numbers"
    assert [r[-1] for r in rows] == [1, 3] and rejects == [(2, "calls_offered", "expected 4 fields, found 3", "U2,1,2")]


def test_csv_recovery_limits(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_reader, "MAX_RAW_LINE", 6)
    monkeypatch.setattr(csv_reader, "BATCH_ROWS", 2)
    monkeypatch.setattr(csv_reader, "MAX_RECORD_LINES", 3)
    monkeypatch.setattr(rc, "MAX_RECORD_LINES", 3)
    data = HOT + b"U1,1,2,3\nU2,1,2,3\nU3,1,2,3\nU\xe9,1,2,3\nU5,1\nU6,1\nU7,1\nU8,\"a\nb\nc\nd\",1,2\n"
    _, rows, rejects = read_csv(tmp_path, data)
    assert [r[-1] for r in rows] == [1, 2, 3]
    # the 4-line record is broken: its first line is rejected, its other lines are read as records
    assert [(r[0], r[3]) for r in rejects] == [(4, "U\ufffd,1,2"), (5, "U5,1"), (6, "U6,1"), (7, "U7,1"), (8, 'U8,"a'),
                                               (9, "b"), (10, "c"), (11, 'd",1,2')]
    assert rejects[4][2] == ("unclosed quote: a quote opened in this field never closes (the quoted field would "
                              "span more than 3 lines); only this line is rejected")


def test_csv_records_read_must_equal_the_count(tmp_path, monkeypatch):
    real = rc.count_records

    def one_more(path):
        got = real(path)
        got.records += 1
        return got

    monkeypatch.setattr(rc, "count_records", one_more)
    with pytest.raises(IngestError) as err:
        read_csv(tmp_path, HOT + b"U1,1,2,3\nU2,1\n")
    assert str(err.value).endswith(": records read (2: 1 rows + 1 unreadable) differ from the records counted "
                                   "independently (3); the file is refused whole so that no record is lost or split "
                                   "— check its quoting and line breaks")


def test_csv_header_is_the_first_physical_line(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b'a,"b,c\r\n1,2"\n')  # a header field running over a line break: refused, never read on
    with pytest.raises(IngestError, match=r"row 1, field 2 \(b,c\): the header leaves a quote open"):
        csv_reader.read_csv_header(path, "utf-8")
    path.write_bytes(b'a,"b,c"\r\n1,2\n')
    assert csv_reader.read_csv_header(path, "utf-8") == ["a", "b,c"]
    path.write_bytes(b"")
    assert csv_reader.read_csv_header(path, "utf-8") == []
    path.write_bytes("名,\xff\n".encode("utf-8", "surrogateescape") if False else "名,x\n".encode("gb18030"))
    assert csv_reader.read_csv_header(path, "gb18030") == ["名", "x"]


# ---------------------------------------------------------------------------------- ingestion.readers
from ingestion import readers  # noqa: E402
from ingestion.schema import HOTLINE  # noqa: E402

CMP = Path("/in/complaints_2025-03.csv")


def map_error(path, headers, hint=None) -> str:
    with pytest.raises(IngestError) as err:
        readers.map_headers(path, headers, hint)
    return str(err.value)


def test_file_sha256_and_format(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "CHUNK", 3)
    path = tmp_path / "f.csv"
    path.write_bytes(b"abcdefgh")
    assert readers.file_sha256(path) == hashlib.sha256(b"abcdefgh").hexdigest()
    assert [readers.detect_format(Path(p)) for p in ("a.CSV", "a.txt", "a.tsv", "a.xlsx", "a.XLSM", "a.parquet", "a.pq")] \
        == ["csv", "csv", "csv", "xlsx", "xlsx", "parquet", "parquet"]
    with pytest.raises(IngestError) as err:
        readers.detect_format(Path("a.xls"))
    assert str(err.value) == ("a.xls: old binary Excel workbook (.xls) is not read: open it in Excel or WPS and save it "
                              "as Excel Workbook (.xlsx), or as CSV UTF-8, then deliver that file")
    for name, ext in (("a.json", "'.json'"), ("a", "''")):
        with pytest.raises(IngestError) as err:
            readers.detect_format(Path(name))
        assert str(err.value) == f"{name}: unsupported file type {ext}: expected .csv, .xlsx or .parquet"


def test_headers_are_matched_whatever_their_width_case_spaces_or_bom():
    assert [readers.normalise_header(h) for h in (" Record_ID\ufeff ", "ＲＥＣＯＲＤ＿ＩＤ", None, "登记 编号\t", 7)] == [
        "record_id", "record_id", "", "登记编号", "7"]
    index = readers._header_index(HOTLINE)
    assert index["话务单位"] == "unit_id" and index["单位编码"] == "unit_id" and index["unit_id"] == "unit_id"
    assert index["一次接通量"] == "calls_answered_first" and len(index) == 17


def test_map_headers_picks_the_table_and_maps_every_label():
    h = readers.map_headers(CMP, ["登记编号", "诉求类型", "Received_At"])
    assert (h.table.name, h.delivered, h.canonical) == ("complaints", ["登记编号", "诉求类型", "Received_At"],
                                                        ["record_id", "record_type", "received_at"])
    assert h.as_dict() == {"登记编号": "record_id", "诉求类型": "record_type", "Received_At": "received_at"}
    assert len(h.missing_optional) == 25 and h.missing_optional[:2] == ["channel", "accepted_at"]
    assert (h.records_counted, h.read_note, h.notes) == (None, "", [])
    hot = ["unit_id", "region_code", "month", "calls_offered"]
    h = readers.map_headers(Path("/in/x.csv"), hot)  # no table in the name: the table most labels belong to
    assert (h.table.name, h.missing_optional) == ("hotline_stats", ["calls_answered_first", "calls_answered"])
    assert readers.map_headers(CMP, hot, "hotline_stats").table.name == "hotline_stats"  # the hint wins over the name
    # the name wins over the labels
    assert map_error(Path("/in/complaints_x.csv"), hot).startswith(
        "/in/complaints_x.csv: cannot map header(s) 'unit_id' (did you mean entry_unit_id?), 'region_code' (did you "
        "mean handling_region_code, respondent_region_code?), ")
    # no label known anywhere: the first table is named
    assert map_error(Path("/in/x.csv"), ["zzz"]) == "/in/x.csv: cannot map header(s) 'zzz' onto table complaints"


def test_map_headers_refusals():
    base = ["record_id", "record_type", "received_at"]
    assert map_error(CMP, base + ["recieved_at"]) == (
        f"{CMP}: cannot map header(s) 'recieved_at' (did you mean received_at, accepted_at?) onto table complaints")
    assert map_error(CMP, base + ["zzz qqq"]) == f"{CMP}: cannot map header(s) 'zzz qqq' onto table complaints"
    not_header = ("the first row does not look like a header row: {} of {} labels map to no column of complaints "
                  "(values not shown: a data row may hold personal data); add the header row or map the columns in "
                  "a profile")
    assert map_error(CMP, base + ["13812345678"]) == f"{CMP}: " + not_header.format(1, 4)
    five = ["a1", "b2", "c3", "d4", "e5"]
    assert map_error(CMP, five + base + ["channel"]) == f"{CMP}: " + not_header.format(5, 9)
    # 5 unknown of 10 is not more than half: named, with hints
    assert map_error(CMP, five + base + ["channel", "category"]) == (
        f"{CMP}: cannot map header(s) 'a1', 'b2', 'c3', 'd4', 'e5' onto table complaints")
    assert map_error(CMP, five[:4] + base) == f"{CMP}: cannot map header(s) 'a1', 'b2', 'c3', 'd4' onto table complaints"
    assert map_error(CMP, ["", " ", None]) == f"{CMP}: the file has no header row"
    assert map_error(CMP, ["登记编号", "诉求类型", "登记时间", "工单号"]) == (
        f"{CMP}: several headers map to the same column(s) ['record_id'] of complaints")
    assert map_error(CMP, ["record_id", "received_at"]) == (
        f"{CMP}: table complaints: required column(s) missing: record_type (诉求类型)")
    assert map_error(CMP, ["record_id", "channel"]) == (
        f"{CMP}: table complaints: required column(s) missing: record_type (诉求类型), received_at (登记时间)")


def test_check_mapping_with_a_profile_name_and_a_fix():
    with pytest.raises(IngestError) as err:
        readers.check_mapping(CMP, HOTLINE, ["unit_id", "unit_id", "month", "month"], {"unit_id", "month"}, who="p: ")
    assert str(err.value) == f"{CMP}: p: several headers map to the same column(s) ['month', 'unit_id'] of hotline_stats"
    with pytest.raises(IngestError) as err:
        readers.check_mapping(CMP, HOTLINE, ["unit_id"], {"unit_id"}, who="profile x: ", fix="; map them")
    assert str(err.value) == (f"{CMP}: profile x: required column(s) missing: region_code (行政区划代码), month (统计月份), "
                              "calls_offered (呼入量); map them")
    assert readers.check_mapping(CMP, HOTLINE, ["unit_id", "region_code", "month", "calls_offered", "calls_answered"],
                                 {"unit_id", "region_code", "month", "calls_offered", "calls_answered"}) == [
        "calls_answered_first"]


def test_parquet_into_batch(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "hotline.parquet"
    pq.write_table(pa.table({"话务单位": ["U1", None], 'region"code': ["320402", "320402"],
                             "月份": ["2025-03-01", "2025-04-01"], "呼入量": [5, 7]}), path)
    con = duckdb.connect()
    with pytest.raises(IngestError, match="cannot map header"):
        readers.read_parquet_into_batch(con, path, "hotline_stats")
    pq.write_table(pa.table({"话务单位": ["U1", None], "行政区划代码": ["320402", "320402"],
                             "月份": ["2025-03-01", "2025-04-01"], "呼入量": [5, 7]}), path)
    h = readers.read_parquet_into_batch(con, path, None)
    assert (h.table.name, h.canonical) == ("hotline_stats", ["unit_id", "region_code", "month", "calls_offered"])
    assert con.execute("SELECT * FROM _batch ORDER BY _row").fetchall() == [
        ("U1", "320402", "2025-03-01", "5", None, None, 1), (None, "320402", "2025-04-01", "7", None, None, 2)]
    assert con.execute("SELECT count(*) FROM _read_rejects").fetchall() == [(0,)]
    assert [r[0] for r in con.execute("DESCRIBE _read_rejects").fetchall()] == ["_row", "fields", "reason", "raw_line"]


# --------------------------------------------------------------------------------- ingestion.profiles
from ingestion import profiles  # noqa: E402

PROFILE = """\
profile: other
table: hotline_stats
encoding: GBK
source: other_feed
columns:
  单位: unit_id
  Month Of Call: 统计月份
ignore: [备注, " 内部 "]
defaults:
  region_code: "320402"
values:
  calls_answered: {" 01 ": "1", "无": "0"}
date_formats:
  month: "%d/%m/%Y"
"""


def write_profile(tmp_path, text: str, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def profile_error(tmp_path, text: str) -> str:
    path = write_profile(tmp_path, text)
    with pytest.raises(profiles.ProfileError) as err:
        profiles.load(path)
    return str(err.value).removeprefix(f"profile {path}")


def test_a_profile_loads_with_every_key(tmp_path):
    path = write_profile(tmp_path, PROFILE)
    p = profiles.load(str(path))
    assert (p.file, p.name, p.table.name, p.encoding, p.source) == (str(path), "other", "hotline_stats", "gb18030", "other_feed")
    assert p.columns == {"单位": "unit_id", "monthofcall": "month"}
    assert p.ignore == frozenset({"备注", "内部"})
    assert p.defaults == {"region_code": "320402"}
    assert p.values == {"calls_answered": {"01": "1", "无": "0"}}
    assert p.date_formats == {"month": ["%d/%m/%Y"]}
    bare = profiles.load(write_profile(tmp_path, "table: hotline_stats\nencoding: ''\nsource: ''\n", "bare.yaml"))
    assert (bare.name, bare.encoding, bare.source, bare.columns, bare.ignore, bare.defaults, bare.values,
            bare.date_formats) == ("bare", None, None, {}, frozenset(), {}, {}, {})
    for enc_name, want in (("utf8", "utf-8"), ("UTF-8-SIG", "utf-8-sig"), ("gb2312", "gb18030"), ("GB18030", "gb18030")):
        got = profiles.load(write_profile(tmp_path, f"table: complaints\nencoding: {enc_name}\n", "e.yaml")).encoding
        assert got == want


def test_shipped_profiles_are_found_by_name(tmp_path, monkeypatch):
    assert profiles.resolve("12365auto") == profiles.PROFILE_DIR / "12365auto.yaml"
    shipped = profiles.load("12365auto")
    assert (shipped.name, shipped.table.name, shipped.source) == ("12365auto", "complaints", "12365auto")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "12365auto").write_text("table: hotline_stats\n", encoding="utf-8")
    assert profiles.resolve("12365auto") == Path("12365auto")  # a file given wins over a shipped name
    with pytest.raises(profiles.ProfileError) as err:
        profiles.resolve("nope")
    assert str(err.value) == "profile nope: no such file (shipped profiles: 12365auto)"
    with pytest.raises(profiles.ProfileError) as err:
        profiles.resolve("12365auto.yml")
    assert str(err.value) == "profile 12365auto.yml: no such file (shipped profiles: 12365auto)"
    monkeypatch.setattr(profiles, "PROFILE_DIR", tmp_path / "none")
    with pytest.raises(profiles.ProfileError) as err:
        profiles.resolve("other")
    assert str(err.value) == "profile other: no such file"


def test_profile_mistakes_name_file_and_key(tmp_path):
    tables = "complaints, sampling_results, hotline_stats, region_profiles"
    cases = {
        "- a\n- b\n": ": expected a mapping of keys (table, columns, ...)",
        "table: hotline_stats\ncolour: red\n": (", key colour: unknown key; known keys: profile, description, table, "
                                                "encoding, source, columns, ignore, defaults, values, date_formats"),
        "profile: x\n": f", key table: required: one of {tables}",
        "table: calls\n": f", key table: 'calls' is not a table; one of {tables}",
        "table: hotline_stats\nencoding: klingon\n": ", key encoding: unknown encoding 'klingon'",
        "table: hotline_stats\nencoding: latin1\n": ", key encoding: 'latin1' is not read; one of utf-8, utf-8-sig, gb18030, gbk",
        "table: hotline_stats\ncolumns: [a]\n": ", key columns: expected a mapping (name: value), got list",
        "table: hotline_stats\ncolumns: {a: [unit_id]}\n": ", key columns.a: expected the name of one column",
        "table: hotline_stats\ncolumns: {a: unit_ids}\n": ", key columns.a: 'unit_ids' is not a column of hotline_stats (did you mean unit_id?)",
        "table: hotline_stats\ncolumns: {a: zzz}\n": ", key columns.a: 'zzz' is not a column of hotline_stats",
        "table: hotline_stats\ncolumns: {a: unit_id, b: 话务单位}\n": ", key columns.b: unit_id is already mapped from 'a'",
        "table: hotline_stats\ncolumns: {A B: unit_id}\nignore: [ab]\n": ", key ignore: 'ab' is both mapped under columns and ignored",
        "table: hotline_stats\nignore: {a: b}\n": ", key ignore: expected a text or a list of texts",
        "table: hotline_stats\nignore: [[a]]\n": ", key ignore: expected a text or a list of texts",
        "table: hotline_stats\ndefaults: {region_code: ' '}\n": ", key defaults.region_code: expected a non-empty text",
        "table: hotline_stats\ndefaults: {region_code: [a]}\n": ", key defaults.region_code: expected a non-empty text",
        "table: hotline_stats\ndefaults: {unit_id: U1}\n": (", key defaults.unit_id: unit_id identifies a record or a "
                                                           "person; it cannot have a default"),
        "table: hotline_stats\ndefaults: {month: '2025-01-01'}\n": (", key defaults.month: month identifies a record "
                                                                     "or a person; it cannot have a default"),
        "table: complaints\ndefaults: {complainant_phone: '1'}\n": (", key defaults.complainant_phone: complainant_phone "
                                                                   "identifies a record or a person; it cannot have a default"),
        "table: hotline_stats\nvalues: {region_code: [a]}\n": ", key values.region_code: expected a mapping (name: value), got list",
        "table: hotline_stats\nvalues: {region_code: {a: [b]}}\n": ", key values.region_code: each delivered value must map to one text",
        "table: hotline_stats\ndate_formats: {unit_id: '%Y'}\n": ", key date_formats.unit_id: unit_id is not a date column",
        "table: hotline_stats\ndate_formats: {month: 'YYYY'}\n": (", key date_formats.month: expected strptime formats "
                                                                 "such as '%d/%m/%Y', got ['YYYY']"),
        "table: hotline_stats\ndate_formats: {month: []}\n": (", key date_formats.month: expected strptime formats such "
                                                             "as '%d/%m/%Y', got []"),
        "table: hotline_stats\ndate_formats: {month: ['%Y', 'x']}\n": (", key date_formats.month: expected strptime "
                                                                      "formats such as '%d/%m/%Y', got ['x']"),
    }
    for text, want in cases.items():
        assert profile_error(tmp_path, text) == want, text
    assert profile_error(tmp_path, "table: [\n").startswith(": not valid YAML: ")
    assert profile_error(tmp_path, "table: a\n  b: c\n").endswith(" (line 2)")
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"table: \xff\n")
    with pytest.raises(profiles.ProfileError) as err:
        profiles.load(path)
    assert str(err.value).startswith(f"profile {path}: cannot read: 'utf-8' codec can't decode byte 0xff")


def test_profile_headers_map_through_columns_ignore_then_labels(tmp_path):
    p = profiles.load(write_profile(tmp_path, PROFILE))
    h = profiles.map_headers(CMP, ["单位", "month of call", "备注", "呼入量", "内部", "接通量"], p)
    assert h.canonical == ["unit_id", "month", "_ignored_2", "calls_offered", "_ignored_4", "calls_answered"]
    assert h.as_dict() == {"单位": "unit_id", "month of call": "month", "备注": None, "呼入量": "calls_offered",
                           "内部": None, "接通量": "calls_answered", "#profile": p.file}
    assert h.missing_optional == ["calls_answered_first"]  # region_code has a default
    with profiles.using(p) as used:
        assert used is p and profiles.in_force() is p
        assert readers.map_headers(CMP, ["单位", "month of call", "呼入量"]).canonical == ["unit_id", "month", "calls_offered"]
    assert profiles.in_force() is None
    with pytest.raises(IngestError) as err:
        profiles.map_headers(CMP, ["单位", "month of call", "呼入量", "x1", "13812345678"], p)
    assert str(err.value) == (f"{CMP}: profile other: cannot map header(s) 'x1', '[手机号码]' onto table hotline_stats; "
                              f"map them under columns: or list them under ignore: in {p.file}")
    many = [f"x{i}" for i in range(12)]
    with pytest.raises(IngestError) as err:
        profiles.map_headers(CMP, ["单位", "month of call", "呼入量"] + many, p)
    assert "'x8', 'x9' and 2 more onto table" in str(err.value)
    with pytest.raises(IngestError) as err:
        profiles.map_headers(CMP, ["单位", "呼入量"], p)
    assert str(err.value) == (f"{CMP}: profile other: required column(s) missing: month (统计月份); map a delivered "
                              f"header to them, or give defaults: in {p.file}")
    with pytest.raises(IngestError) as err:
        profiles.map_headers(CMP, ["单位", "month of call", "呼入量", "话务单位"], p)
    assert str(err.value) == f"{CMP}: profile other: several headers map to the same column(s) ['unit_id'] of hotline_stats"


def test_profile_values_dates_and_defaults_applied_to_the_batch(tmp_path):
    p = profiles.load(write_profile(tmp_path, PROFILE))
    con = duckdb.connect()
    con.execute("""CREATE TEMP TABLE _src AS SELECT * FROM (VALUES
        (2, 'U2', '31/12/2025', '5', ' 01 ', NULL), (1, 'U1', '2025-03-01', '7', '无', 'x'),
        (3, 'U3', NULL, '1', '9', NULL)) AS v(_row, unit_id, month, calls_offered, calls_answered, calls_answered_first)""")
    con.execute("CREATE TEMP VIEW _batch AS SELECT unit_id, CAST(NULL AS VARCHAR) AS region_code, month, calls_offered, "
                "calls_answered_first, calls_answered, _row FROM _src")
    hmap = profiles.map_headers(CMP, ["单位", "month of call", "呼入量", "接通量", "首次接通量"], p)
    notes = profiles.apply_to_batch(con, p, hmap)
    assert notes == ["profile other: region_code = '320402' (not in the export)"]
    assert con.execute("SELECT * FROM _batch").fetchall() == [
        ("U1", "320402", "2025-03-01", "7", "x", "0", 1),
        ("U2", "320402", "2025-12-31 00:00:00", "5", None, "1", 2),
        ("U3", "320402", None, "1", None, "9", 3)]
    # a delivered column keeps its values: the default is for a column the export does not have
    with_region = profiles.map_headers(CMP, ["单位", "month of call", "呼入量", "行政区划代码"], p)
    con.execute("CREATE OR REPLACE TEMP VIEW _batch AS SELECT unit_id, 'R' AS region_code, month, calls_offered, "
                "calls_answered_first, calls_answered, _row FROM _src")
    assert profiles.apply_to_batch(con, p, with_region) == []
    assert [r[0] for r in con.execute("SELECT DISTINCT region_code FROM _batch").fetchall()] == ["R"]
    assert profiles.apply_to_batch(con, None, hmap) == []
    plain = profiles.load(write_profile(tmp_path, "table: hotline_stats\ndefaults: {region_code: '1'}\n", "plain.yaml"))
    con.execute("CREATE OR REPLACE TEMP VIEW _batch AS SELECT 'U' AS unit_id, 'R' AS region_code, 1 AS _row")
    assert profiles.apply_to_batch(con, plain, with_region) == []  # nothing to apply: _batch left as it was
    assert con.execute("SELECT * FROM _batch").fetchall() == [("U", "R", 1)]


# ------------------------------------------------------------------------------ ingestion.xlsx_reader
import datetime as dt  # noqa: E402

import openpyxl  # noqa: E402

from ingestion import xlsx_reader as xl  # noqa: E402

EPOCH = dt.datetime(1899, 12, 30)
DIGITS_LOST = "stored as a number, digits lost (Excel keeps 15); format the column as text and export again"


def test_cells_as_the_bureau_sees_them():
    assert [xl._text(v) for v in (dt.datetime(2025, 3, 1), dt.datetime(2025, 3, 1, 8, 5), dt.date(2025, 3, 1),
                                  dt.time(8, 5), dt.timedelta(hours=1), True, False, 3.0, 3.5, " ", 7, None, "x")] == [
        "2025-03-01", "2025-03-01 08:05:00", "2025-03-01", "08:05:00", "1:00:00", "是", "否", "3", "3.5", None, "7",
        None, "x"]
    assert [xl._serial_to_text(s, EPOCH) for s in (18263, 18264, 45717, 45717.5, 73050, 73051)] == [
        None, "1950-01-01", "2025-03-01", "2025-03-01 12:00:00", "2099-12-31", None]
    assert (xl._label(None), xl._label("  登记编号 "), xl._label(7)) == ("", "登记编号", "7")
    assert (xl._column_letter(0), xl._column_letter(26)) == ("A", "AA")
    assert xl._short("x" * 300) == "x" * 300 and xl._short("x" * 301) == "x" * 300 + " …"


def test_convert_dates_ids_formulas_and_errors():
    conv = xl._convert
    assert conv(" 45717 ", "month", "date", False, False, EPOCH) == ("2025-03-01", None)
    assert conv("45717.25", "received_at", "timestamp", False, False, EPOCH) == ("2025-03-01 06:00:00", None)
    assert conv(45717, "month", "date", True, False, EPOCH) == ("2025-03-01", None)
    assert conv("2025", "month", "date", False, False, EPOCH) == ("2025", None)  # not a serial: staging judges it
    assert conv(2025, "month", "date", False, False, EPOCH) == ("2025", None)
    assert conv(45717, "calls_offered", "int", False, False, EPOCH) == ("45717", None)
    assert conv(999999999999999, "record_id", "text", True, False, EPOCH) == ("999999999999999", None)
    assert conv(99999999999999.9, "record_id", "text", True, False, EPOCH) == ("99999999999999.9", None)
    for v in (1000000000000000, 1e15, -1e15, -1000000000000000):
        assert conv(v, "record_id", "text", True, False, EPOCH) == (None, "record_id " + DIGITS_LOST)
    assert conv(1e15, "content", "text", False, False, EPOCH) == ("1000000000000000", None)
    assert conv(True, "record_id", "text", True, False, EPOCH) == ("是", None)
    tail = "has no cached value; open the workbook in Excel or WPS, let it calculate, save and deliver it again"
    assert conv(xl._NoCachedValue("=B2*2"), "calls_offered", "int", False, False, EPOCH) == (
        None, f"calls_offered: formula =B2*2 {tail}")
    assert conv(xl._NoCachedValue("=B2"), "complainant_phone", "text", False, True, EPOCH) == (
        None, f"complainant_phone: a formula {tail}")
    assert conv(xl._ExcelError("#REF!"), "unit_id", "text", True, False, EPOCH) == (
        None, "unit_id: the cell holds the Excel error #REF!")


def test_merged_ranges_fill_rows_that_hold_data():
    rows = {1: ["title"], 2: ["a", "b", "c"], 3: ["x", None, "z"], 5: ["p"]}
    xl._fill_merged(rows, [(1, 1, 16384, 1), (2, 2, 2, 5), (3, 4, 3, 4)])
    assert rows == {1: ["title", "title", "title"], 2: ["a", "b", "c"], 3: ["x", "b", "z"], 5: ["p", "b"]}
    rows = {1: [None, "v"], 2: ["q"]}
    xl._fill_merged(rows, [(1, 1, 2, 2)])  # top-left empty: nothing to spread
    assert rows == {1: [None, "v"], 2: ["q"]}
    xl._fill_merged({}, [(1, 1, 1, 1)])


def test_not_a_workbook_is_refused_in_one_line(tmp_path):
    cases = {b"": "empty file (0 bytes), not an XLSX workbook; ask for the file to be sent again",
             b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest": (
                 "not an XLSX workbook but an old binary Excel (.xls) or a password-protected one: remove the "
                 "password, then open it in Excel or WPS and save it as Excel Workbook (.xlsx), or as CSV UTF-8, "
                 "then deliver that file"),
             b"a,b\r\n1,\t2\n": "not an XLSX workbook (no ZIP signature): it looks like CSV or text; rename it to .csv",
             b"\x00\x01": "not an XLSX workbook (no ZIP signature): unknown content",
             b"PK\x03\x04broken": "not a readable XLSX workbook: damaged or truncated ZIP package (File is not a zip file)"}
    for data, want in cases.items():
        path = tmp_path / "w.xlsx"
        path.write_bytes(data)
        with pytest.raises(IngestError) as err:
            xl.read_xlsx_into_batch(duckdb.connect(), path, None)
        assert str(err.value) == f"{path}: {want}"
    with pytest.raises(IngestError) as err:
        xl.check_is_xlsx(tmp_path / "none.xlsx")
    assert str(err.value) == f"{tmp_path / 'none.xlsx'}: cannot open: No such file or directory"
    xl.check_is_xlsx(tmp_path / "w.xlsx")  # starts with PK: passes the signature check


def hotline_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.active.title = "封面"
    s1 = wb.create_sheet("3月")
    s1.append(["热线月报"])
    s1.merge_cells("A1:F1")  # a title merged across the columns, above the header
    s1.append(["话务单位", "行政区划代码", "统计月份", "呼入量", "接通量"])
    s1.append(["U1", "320402", dt.date(2025, 3, 1), 10, 9.0])           # row 3: record 1
    s1.append(["U2", None, 45717, "=A1*2", None])                       # row 4: formula without a value
    s1.append(["U3", "320402", "45717", 5, None, "stray"])              # row 5: a value without a header
    err = s1.cell(row=7, column=1, value="#N/A")                         # row 7 (row 6 empty): an Excel error
    err.data_type = "e"
    s1.cell(row=7, column=3, value="2025-03-01")
    s1.cell(row=7, column=4, value=3)
    s1.append(["U5", 3204021234567890, "2025-03-01", 4, True])          # row 8: a long code as a number
    s1.append(["U6", "320499", " 45748 ", 1])                           # row 9
    s1.append(["U7", None, 45748, 2])                                   # row 10: region merged from row 9
    s1.merge_cells("B9:B10")
    s2 = wb.create_sheet("4月")
    s2.append(["unit_id", "region_code", "month", "calls_offered"])
    s2.append(["V1", "1", "2025-04-01", 1])
    wb.create_sheet("说明").append(["这是", "说明", "页"])
    wb.create_sheet("投诉").append(["登记编号", "诉求类型", "登记时间"])
    chart = wb.create_chartsheet("图")
    chart.add_chart(openpyxl.chart.BarChart())
    wb.save(path)
    return path


def test_a_workbook_loads_every_sheet_that_maps_and_names_the_others(tmp_path):
    import openpyxl.chart  # noqa: F401

    path = hotline_workbook(tmp_path / "hotline_stats_2025.xlsx")
    con = duckdb.connect()
    m = xl.read_xlsx_into_batch(con, str(path), None)
    assert (m.table.name, m.missing_optional) == ("hotline_stats", ["calls_answered_first"])
    assert m.delivered == ["话务单位", "行政区划代码", "统计月份", "呼入量", "接通量", "unit_id", "region_code", "month",
                           "calls_offered"]
    assert m.canonical == ["unit_id", "region_code", "month", "calls_offered", "calls_answered", "unit_id",
                           "region_code", "month", "calls_offered"]
    sheets = [{"sheet": "3月", "header_row": 2, "records": 7, "first_source_row": 1},
              {"sheet": "4月", "header_row": 1, "records": 1, "first_source_row": xl.SHEET_BLOCK + 1}]
    skipped = ["'封面': empty", "'说明': cannot map header(s) '这是', '说明', '页' onto table hotline_stats",
               "'投诉': cannot map header(s) '登记编号', '诉求类型', '登记时间' onto table hotline_stats",
               "'图': a chart sheet, no records"]
    assert (m.sheets, m.sheets_skipped) == (sheets, skipped)
    assert m.notes == ["sheets loaded: '3月' 7 records, '4月' 1 records", "sheets skipped: " + "; ".join(skipped)]
    assert m.as_dict()["#sheets"] == sheets and m.as_dict()["#sheets_skipped"] == skipped
    assert m.as_dict()["统计月份"] == "month"
    assert con.execute("SELECT * FROM _batch ORDER BY _row").fetchall() == [
        ("U1", "320402", "2025-03-01", "10", None, "9", 1),
        ("U6", "320499", "2025-04-01", "1", None, None, 7),
        ("U7", "320499", "2025-04-01", "2", None, None, 8),
        ("V1", "1", "2025-04-01", "1", None, None, xl.SHEET_BLOCK + 1)]
    rejects = con.execute("SELECT * FROM _read_rejects ORDER BY _row").fetchall()
    assert [r[:3] for r in rejects] == [
        (2, "calls_offered", "sheet '3月', Excel row 4: calls_offered: formula =A1*2 has no cached value; open the "
                             "workbook in Excel or WPS, let it calculate, save and deliver it again"),
        (3, "F", "sheet '3月', Excel row 5: a value in column F, which has no header"),
        (5, "unit_id", "sheet '3月', Excel row 7: unit_id: the cell holds the Excel error #N/A"),
        (6, "region_code", "sheet '3月', Excel row 8: region_code " + DIGITS_LOST)]
    assert json.loads(rejects[3][3]) == {"话务单位": "U5", "行政区划代码": "3204021234567890", "统计月份": "2025-03-01",
                                         "呼入量": "4", "接通量": "是"}
    # one sheet only: no "sheets loaded" line
    one = openpyxl.Workbook()
    one.active.append(["unit_id", "region_code", "month", "calls_offered"])
    one.active.append(["V1", "1", "2025-04-01", 1])
    one.save(tmp_path / "one.xlsx")
    m1 = xl.read_xlsx_into_batch(con, tmp_path / "one.xlsx", "hotline_stats")
    assert (m1.notes, "#sheets_skipped" in m1.as_dict()) == ([], False)


def test_a_workbook_with_no_sheet_that_maps_or_two_tables(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.title = "a"
    wb.active.append(["x1", "x2"])
    wb.active.append(["1", "2"])
    wb.create_sheet("b")
    wb.save(tmp_path / "w.xlsx")
    with pytest.raises(IngestError) as err:
        xl.read_xlsx_into_batch(duckdb.connect(), tmp_path / "w.xlsx", "hotline_stats")
    assert str(err.value) == (f"{tmp_path / 'w.xlsx'}: no sheet could be loaded: sheet 'a': cannot map header(s) 'x1', "
                              "'x2' onto table hotline_stats; sheet 'b': empty")
    wb = openpyxl.Workbook()
    wb.active.title = "hot"
    wb.active.append(["unit_id", "region_code", "month", "calls_offered"])
    wb.active.append(["V1", "1", "2025-04-01", 1])
    cmp_sheet = wb.create_sheet("cmp")
    cmp_sheet.append(["record_id", "record_type", "received_at"])
    wb.save(tmp_path / "two.xlsx")
    m = xl.read_xlsx_into_batch(duckdb.connect(), tmp_path / "two.xlsx", None)
    assert m.sheets_skipped == ["'cmp': holds complaints, this workbook loads hotline_stats; deliver it as a file of its own"]


def test_the_header_is_searched_in_the_top_rows_only(tmp_path, monkeypatch):
    rows = {r: [f"note {r}"] for r in range(1, 11)}
    rows[11] = ["unit_id", "region_code", "month", "calls_offered"]
    found = xl._find_header(Path("w.xlsx"), "s", rows, "hotline_stats")
    assert found == "cannot map header(s) 'note 1' onto table hotline_stats"
    del rows[1]
    found = xl._find_header(Path("w.xlsx"), "s", rows, "hotline_stats")
    assert (found.header_row, found.positions, found.hmap.canonical) == (11, [0, 1, 2, 3], rows[11])
    rows = {1: ["a", "a", "a"], 2: ["x", "y"], 3: [None, "unit_id", None, "region_code", "month", "calls_offered"]}
    found = xl._find_header(Path("w.xlsx"), "s", rows, "hotline_stats")
    assert (found.header_row, found.positions) == (3, [1, 3, 4, 5])
    # the reason shown is the most header-like row's (most distinct labels)
    assert xl._find_header(Path("w.xlsx"), "s", {1: ["a", "a", "a"], 2: ["x", "y"]}, "hotline_stats") == (
        "cannot map header(s) 'x', 'y' onto table hotline_stats")
    assert xl._find_header(Path("w.xlsx"), "s", {}, None) == "no header row"
    monkeypatch.setattr(xl, "MAX_REASON", 10)
    assert xl._find_header(Path("w.xlsx"), "s", {1: ["x"]}, "hotline_stats") == "cannot map …"


# ----------------------------------------------------------------------------------- ingestion.schema
def test_table_schema_lookups():
    from ingestion.schema import COMPLAINTS

    assert HOTLINE.column_names == ["unit_id", "region_code", "month", "calls_offered", "calls_answered_first",
                                    "calls_answered"]
    assert HOTLINE.pii_columns == [] and COMPLAINTS.pii_columns == ["complainant_name", "complainant_phone",
                                                                     "complainant_id_number"]
    col = HOTLINE.column("month")
    assert (col.name, col.type, col.zh, col.required, col.pii, col.aliases) == ("month", "date", "统计月份", True, False,
                                                                                  ("月份",))
    assert HOTLINE.column("calls_answered").required is False
    with pytest.raises(KeyError) as err:
        HOTLINE.column("nope")
    assert err.value.args[0] == "hotline_stats has no column 'nope'"


# --- issue 13, mutation testing: the loader's small pure functions (survivors of the sampled run) ----------

from ingestion import loader  # noqa: E402


def test_read_failure_says_what_the_file_was_read_as_exactly():
    p = Path("in") / "x.csv"
    bad = ValueError("bad\nsecond line")
    assert loader._read_failure(p, "csv", bad) == "in/x.csv: cannot read as CSV: ValueError: bad"
    assert loader._read_failure(p, "xlsx", bad) == ("in/x.csv: cannot read as XLSX (empty, truncated, or not really "
                                                    "an Excel workbook?): ValueError: bad")
    assert loader._read_failure(p, "parquet", KeyError()) == ("in/x.csv: cannot read as Parquet (empty or truncated "
                                                              "Parquet file?): KeyError: no detail")
    assert loader._read_failure(p, None, OSError("x")) == "in/x.csv: cannot read as a delivery: OSError: x"
    assert loader._read_failure(p, "", OSError("x")) == "in/x.csv: cannot read as a delivery: OSError: x"
    # the reader's own refusal is its first line, not wrapped
    assert loader._read_failure(p, "csv", IngestError(p, "refused\nmore")) == "in/x.csv: refused"
    # the reader's detail is cut at 160 characters, before the whole line is
    assert loader._read_failure(p, "csv", ValueError("y" * 400)) == (
        "in/x.csv: cannot read as CSV: ValueError: " + "y" * 159 + "… (241 more characters)")


def test_not_a_delivery_gives_each_reason_exactly(tmp_path):
    own = tmp_path / "wh.duckdb"
    own.write_bytes(b"")
    own_files = frozenset({own.resolve()})
    cases = {
        "wh.duckdb": "the warehouse's own file, not a delivery",
        ".hidden.csv": "hidden file or folder",
        ".git/complaints.csv": "hidden file or folder",
        "~$book.xlsx": "Office lock file (the workbook is open in Excel)",
        "Ground_Truth_2025.csv": "generator metadata, not a delivery",
        "region_traits.json": "generator metadata, not a delivery",
        "MANIFEST.txt": "generator metadata, not a delivery",
        "complaints_2025-03.csv": None,
        "a~$b.xlsx": None,
    }
    for rel, reason in cases.items():
        assert loader._not_a_delivery(tmp_path / rel, tmp_path, own_files) == reason, rel
    assert loader._not_a_delivery(own, tmp_path) is None  # not the warehouse's unless named as its own


def test_table_counts_show_the_gate_only_once_it_has_run():
    con = duckdb.connect()
    try:
        loader.open_warehouse(con)
        con.execute("INSERT INTO raw.rejects (load_id, table_name, source_file, source_sha256, stage, reason, loaded_at) "
                    "SELECT 1, 'complaints', 'f.csv', 'h', 'read', 'r', now() FROM range(3)")
        assert loader.table_counts(con) == [("complaints", 0, 0, 3, None, None), ("sampling_results", 0, 0, 0, None, None),
                                            ("hotline_stats", 0, 0, 0, None, None), ("region_profiles", 0, 0, 0, None, None)]
        con.execute("CREATE SCHEMA IF NOT EXISTS dq")
        con.execute("CREATE SCHEMA IF NOT EXISTS clean")
        con.execute("CREATE TABLE dq.runs (run_id VARCHAR)")  # another dq table is not a gated warehouse
        assert [r[4:] for r in loader.table_counts(con)] == [(None, None)] * 4
        for t in ("complaints", "sampling_results", "hotline_stats", "region_profiles"):
            con.execute(f"CREATE TABLE clean.{t} AS SELECT 1 AS x WHERE false")
        con.execute("INSERT INTO clean.hotline_stats VALUES (1), (2)")
        con.execute("CREATE TABLE dq.quarantine AS SELECT 'complaints' AS table_name FROM range(4)")
        assert loader.table_counts(con) == [("complaints", 0, 0, 3, 0, 4), ("sampling_results", 0, 0, 0, 0, 0),
                                            ("hotline_stats", 0, 0, 0, 2, 0), ("region_profiles", 0, 0, 0, 0, 0)]
    finally:
        con.close()


def _load_log_row(con, load_id, source_file, sha, table="complaints", status="loaded"):
    con.execute("INSERT INTO raw.load_log (load_id, source_file, file_name, source_sha256, table_name, status, loaded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, now())", [load_id, source_file, Path(source_file).name, sha, table, status])


def test_supersedes_names_the_newest_live_load_by_path_name_or_bytes(tmp_path):
    con = duckdb.connect()
    try:
        loader.open_warehouse(con)
        f = tmp_path / "c_2025-03.csv"
        f.write_bytes(b"id\n1\n")
        sha = hashlib.sha256(b"id\n1\n").hexdigest()
        _load_log_row(con, 1, "/elsewhere/old.csv", sha, table="sampling_results")
        _load_log_row(con, 2, "/landing/c_2025-03.csv", "other", table="complaints")
        _load_log_row(con, 3, "/landing/c_2025-03.csv", "gone", table="hotline_stats", status="superseded")
        # by file name (2) or by the bytes of the file given (1): the newest live one
        assert loader._resolve_supersedes(con, f, "this") == (2, "complaints")
        assert loader._resolve_supersedes(con, tmp_path / "old.csv", "this") == (1, "sampling_results")  # no file: name
        assert loader._resolve_supersedes(con, "/elsewhere/old.csv", "this") == (1, "sampling_results")  # the path
        with pytest.raises(IngestError) as err:
            loader._resolve_supersedes(con, tmp_path / "never.csv", "this")
        assert str(err.value) == f"{tmp_path / 'never.csv'}: --supersedes names no loaded delivery (see `cei status`)"
        with pytest.raises(IngestError) as err:
            loader._resolve_supersedes(con, f, sha)
        assert str(err.value) == f"{f}: --supersedes names the same file"
    finally:
        con.close()


def test_warehouse_file_and_restage_commit(tmp_path, monkeypatch):
    monkeypatch.setenv(pii.ENV_KEY, "k" * 64)
    mem = duckdb.connect()
    try:
        assert loader._warehouse_file(mem) is None
        assert loader.temp_root(mem) is None
        loader.open_warehouse(mem)
        assert loader.restage(mem, "complaints", ["2025-03"]) == (0, 0)
        mem.execute("BEGIN TRANSACTION")  # restage committed: no transaction is left open
        mem.execute("ROLLBACK")
    finally:
        mem.close()
    wh = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wh))
    try:
        assert loader._warehouse_file(con) == wh
        root = loader.temp_root(con)
        assert root == tmp_path / loader.TMP_DIR_NAME and stat.S_IMODE(root.stat().st_mode) == 0o700
    finally:
        con.close()


def test_a_text_file_named_xlsx_is_told_apart_from_binary_by_its_first_200_bytes(tmp_path):
    text, binary = tmp_path / "t.xlsx", tmp_path / "b.xlsx"
    text.write_bytes(b"a" * 200 + b"\x00" * 10)  # a control byte only after the first 200
    binary.write_bytes(b"a" * 199 + b"\x00" * 10)
    with pytest.raises(IngestError) as err:
        xl.check_is_xlsx(text)
    assert "it looks like CSV or text; rename it to .csv" in str(err.value)
    with pytest.raises(IngestError) as err:
        xl.check_is_xlsx(binary)
    assert "unknown content" in str(err.value) and "looks like CSV" not in str(err.value)


def test_a_profile_with_a_control_character_is_refused_without_a_line_number(tmp_path):
    # yaml's ReaderError has no problem_mark: the message has no "(line n)" and no AttributeError escapes
    assert profile_error(tmp_path, "table: hotline\x01_stats\n") == (
        ": not valid YAML: unacceptable character #x0001: special characters are not allowed")
    assert profile_error(tmp_path, "table: [a\n") .endswith("(line 2)")


def _one_sheet(path: Path, rows, epoch=None) -> Path:
    wb = openpyxl.Workbook()
    if epoch is not None:
        wb.epoch = epoch
    wb.active.title = "hot"
    for r in rows:
        wb.active.append(r)
    wb.save(path)
    return path


def _replace_in_zip(path: Path, member: str, edit) -> None:
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = {i: z.read(i) for i in z.namelist()}
    parts[member] = edit(parts[member])
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_a_record_with_two_bad_fields_names_both(tmp_path):
    path = _one_sheet(tmp_path / "w.xlsx", [["unit_id", "region_code", "month", "calls_offered"],
                                            ["U1", 3204021234567890, "2025-03-01", 1]])
    _replace_in_zip(path, "xl/worksheets/sheet1.xml",
                    lambda b: b.replace(b'<c r="A2" t="inlineStr"><is><t>U1</t></is></c>', b'<c r="A2" t="e"><v>#REF!</v></c>'))
    con = duckdb.connect()
    xl.read_xlsx_into_batch(con, path, "hotline_stats")
    (row, fields, reason), = con.execute("SELECT _row, fields, reason FROM _read_rejects").fetchall()
    assert (row, fields) == (1, "unit_id, region_code")
    assert reason == ("sheet 'hot', Excel row 2: unit_id: the cell holds the Excel error #REF!; region_code "
                      + DIGITS_LOST)


def test_a_1904_workbook_dates_are_read_in_its_own_date_system(tmp_path):
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    path = _one_sheet(tmp_path / "w.xlsx", [["unit_id", "region_code", "month", "calls_offered"],
                                            ["U1", "1", dt.date(2025, 3, 1), 1]], epoch=CALENDAR_MAC_1904)
    con = duckdb.connect()
    xl.read_xlsx_into_batch(con, path, "hotline_stats")
    assert con.execute("SELECT month FROM _batch").fetchall() == [("2025-03-01",)]


def test_an_unreadable_sheet_is_named_and_a_shared_formula_without_text_shown(tmp_path):
    path = _one_sheet(tmp_path / "w.xlsx", [["unit_id", "region_code", "month", "calls_offered"], ["U1", "1", "2025-03-01", 1]])
    _replace_in_zip(path, "xl/worksheets/sheet1.xml", lambda b: b.replace(b"</sheetData>", b"<row r='3'><c r='A3'>"))
    with pytest.raises(IngestError) as err:
        xl.read_xlsx_into_batch(duckdb.connect(), path, "hotline_stats")
    assert str(err.value).startswith(f"{path}: sheet 'hot' is unreadable: ")
    path = _one_sheet(tmp_path / "f.xlsx", [["unit_id", "region_code", "month", "calls_offered"], ["U1", "1", "2025-03-01", 1]])
    _replace_in_zip(path, "xl/worksheets/sheet1.xml",
                    lambda b: b.replace(b'<c r="D2" t="n"><v>1</v></c>', b'<c r="D2"><f t="shared"/></c>'))
    con = duckdb.connect()
    xl.read_xlsx_into_batch(con, path, "hotline_stats")
    assert con.execute("SELECT fields, reason FROM _read_rejects").fetchall() == [
        ("calls_offered", "sheet 'hot', Excel row 2: calls_offered: formula =(shared formula ) has no cached value; open "
                          "the workbook in Excel or WPS, let it calculate, save and deliver it again")]


def test_a_delivery_superseding_another_removes_exactly_its_rows_and_restages_both_months(tmp_path, monkeypatch):
    """--supersedes: the old delivery's raw rows, staging rows and rejects go (by load id, whatever their
    months), and every month either delivery touches is re-staged."""
    monkeypatch.setenv(pii.ENV_KEY, "k" * 64)
    old = tmp_path / "hotline_stats_2025-05.csv"
    old.write_text("unit_id,region_code,month,calls_offered\nU1,320402,2025-03-01,10\nU2,320402,2025-02-01,5\n"
                   "U3,320402,2025-13-01,x\n,320402,2025-01-01,3\nU6,320402,2025-06-01,1,extra\n", encoding="utf-8")
    new = tmp_path / "hotline_fix.csv"
    new.write_text("unit_id,region_code,month,calls_offered\nU1,320402,2025-04-01,11\n", encoding="utf-8")
    wh = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wh))
    try:
        (first,) = loader.ingest_paths(con, [old], warehouse=wh)
        assert (first.status, first.load_id, first.rows_raw, first.rows_rejected) == ("loaded", 1, 3, 2)
        (second,) = loader.ingest_paths(con, [new], warehouse=wh, supersedes=old)
        assert (second.status, second.load_id, second.superseded, second.rows_replaced) == ("loaded", 2, [1], 3)
        assert second.touched_partitions == ["2025-01", "2025-02", "2025-03", "2025-04"]
        q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
        assert q("SELECT load_id, partition_key, unit_id FROM raw.hotline_stats") == [(2, "2025-04", "U1")]
        assert q("SELECT load_id, unit_id, month::VARCHAR FROM staging.hotline_stats") == [(2, "U1", "2025-04-01")]
        assert q("SELECT count(*) FROM raw.rejects") == [(0,)]
        assert q("SELECT load_id, status, superseded_by FROM raw.load_log ORDER BY load_id") == [(1, "replaced", 2),
                                                                                                (2, "loaded", None)]
    finally:
        con.close()


def test_feed_and_version_from_a_file_name():
    assert [loader.default_source_id(Path(n)) for n in ("complaints_2025-03_v2.csv", "Complaints 2025年3月 重报.xlsx",
                                                         "hotline_stats(2).csv", "2025-03.csv")] == [
        "complaints", "complaints", "hotline_stats", "default"]
    assert [loader.delivery_version(Path(n)) for n in ("c_2025-03.csv", "c_2025-03_重报.csv", "c_2025-03_FINAL.csv",
                                                        "c_2025-03_v2.csv", "c_2025-03（3）.csv", "c_v1_v12.csv")] == [
        0, 1, 1, 2, 3, 12]


def test_a_blank_first_line_before_a_one_character_header_goes_to_the_exact_pass(tmp_path):
    # the fast pass cannot tell a blank first line from the header here (the header line is 1 byte, so
    # the gap check alone does not catch it): the empty header line must send it to the exact pass
    p = tmp_path / "c.csv"
    p.write_bytes(b"\na\n1\n")
    assert rc.count_records(p) == rc.RecordCount(1, 1, "exact", 0, 1, [], 0)


def test_a_file_duckdb_cannot_read_is_read_line_by_line_and_says_why(tmp_path, monkeypatch):
    p = tmp_path / "hotline_stats_2025-03.csv"
    p.write_text("unit_id,region_code,month,calls_offered\nU1,320402,2025-03-01,10\nU2,320402,2025-03-01,5\n",
                 encoding="utf-8")

    def fails(*args, **kwargs):
        raise duckdb.InvalidInputException("Invalid Input Error: " + "z" * 200 + "\nsecond line")

    monkeypatch.setattr(csv_reader, "_read_with_duckdb", fails)
    con = duckdb.connect()
    hmap = csv_reader.read_csv_into_batch(con, p, None, None, tmp_path)
    assert hmap.read_note == "read line by line: DuckDB could not read it (Invalid Input Error: " + "z" * 99 + ")"
    assert hmap.records_counted == 2
    assert con.execute("SELECT unit_id, calls_offered FROM _batch ORDER BY _row").fetchall() == [("U1", "10"), ("U2", "5")]


def test_declared_period_from_a_file_name_at_its_limits():
    assert [loader.declared_period(Path(n)) for n in ("热线_2025年3月5日.xlsx", "c_1949-10.csv", "c_1948-10.csv",
                                                       "c_2100.csv", "c_2101.csv", "c_2025-13.csv", "c_20250301.csv")] == [
        "2025-03-05", "1949-10", "", "2100", "", "", "2025-03-01"]


def test_the_load_log_keeps_the_header_map_readable(tmp_path, monkeypatch):
    monkeypatch.setenv(pii.ENV_KEY, "k" * 64)
    p = tmp_path / "hotline_stats_2025-03.csv"
    p.write_text("话务单位,行政区划代码,统计月份,呼入量\nU1,320402,2025-03-01,10\n", encoding="utf-8")
    wh = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wh))
    try:
        (r,) = loader.ingest_paths(con, [p], warehouse=wh)
        assert r.status == "loaded"
        (text,), = con.execute("SELECT header_map FROM raw.load_log").fetchall()
        assert '"统计月份": "month"' in text  # the delivered names as written, not \\u escapes
    finally:
        con.close()


def test_a_file_that_cannot_be_read_is_a_failed_load_in_the_log(tmp_path, monkeypatch):
    monkeypatch.setenv(pii.ENV_KEY, "k" * 64)
    wh = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wh))
    try:
        gone = tmp_path / "complaints_2025-03.csv"
        (r,) = loader.ingest_paths(con, [gone], warehouse=wh)
        assert (r.status, r.load_id, r.message) == ("failed", 1, f"{gone}: cannot read the file: No such file or directory")
        assert con.execute("SELECT load_id, source_file, file_name, status, declared_period FROM raw.load_log").fetchall() == [
            (1, str(gone), "complaints_2025-03.csv", "failed", "2025-03")]
    finally:
        con.close()


def test_the_same_bytes_again_are_skipped_and_a_superseded_delivery_is_not_reloaded(tmp_path, monkeypatch):
    monkeypatch.setenv(pii.ENV_KEY, "k" * 64)
    body = "unit_id,region_code,month,calls_offered\nU1,320402,2025-03-01,10\n"
    first, again, fix = (tmp_path / n for n in ("hotline_stats_2025-03.csv", "copy.csv", "hotline_fix.csv"))
    first.write_text(body, encoding="utf-8")
    again.write_text(body, encoding="utf-8")
    fix.write_text(body.replace("10", "12"), encoding="utf-8")
    wh = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wh))
    try:
        (r1,) = loader.ingest_paths(con, [first], warehouse=wh)
        assert (r1.status, r1.message) == ("loaded", "columns not delivered (left empty): calls_answered_first, calls_answered")
        at = con.execute("SELECT loaded_at FROM raw.load_log WHERE load_id = 1").fetchall()[0][0]
        (r2,) = loader.ingest_paths(con, [again], warehouse=wh)
        assert (r2.status, r2.message) == ("skipped", f"already loaded (load 1 at {at}); same sha256")
        loader.ingest_paths(con, [fix], warehouse=wh, supersedes=first)
        at3 = con.execute("SELECT loaded_at FROM raw.load_log WHERE load_id = 2").fetchall()[0][0]
        (r3,) = loader.ingest_paths(con, [again], warehouse=wh)
        assert (r3.status, r3.message) == (
            "skipped", f"not reloaded: this delivery (load 1) was superseded by load 2 (hotline_fix.csv, {at3})")
    finally:
        con.close()


def test_versions_of_one_delivery_and_a_table_named_for_a_parquet_file(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    monkeypatch.setenv(pii.ENV_KEY, "k" * 64)
    body = "unit_id,region_code,month,calls_offered\nU1,320402,2025-03-01,10\n"
    v2, v1 = tmp_path / "hotline_stats_2025-03_v2.csv", tmp_path / "hotline_stats_2025-03.csv"
    v2.write_text(body, encoding="utf-8")
    v1.write_text(body.replace(",10", ",9"), encoding="utf-8")
    wh = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wh))
    try:
        assert loader.ingest_paths(con, [v2], warehouse=wh)[0].load_id == 1
        (old,) = loader.ingest_paths(con, [v1], warehouse=wh)
        assert (old.status, old.message) == ("skipped", "not loaded: an older version of hotline_stats_2025-03_v2.csv "
                                             "(load 1), which is the loaded delivery of 2025-03; give --supersedes "
                                             "hotline_stats_2025-03_v2.csv to load it anyway")
        v2.write_text(body.replace(",10", ",11"), encoding="utf-8")  # the same name again, other bytes
        (again,) = loader.ingest_paths(con, [v2], warehouse=wh)
        assert (again.status, again.load_id, again.rows_replaced) == ("loaded", 2, 1)
        assert con.execute("SELECT calls_offered FROM staging.hotline_stats").fetchall() == [(11,)]
        pq.write_table(pa.table({"unit_id": ["U1"], "region_code": ["320402"], "month": ["2025-04-01"],
                                 "calls_offered": ["3"]}), tmp_path / "h.parquet")
        (named,) = loader.ingest_paths(con, [tmp_path / "h.parquet"], warehouse=wh, table_hint="complaints")
        assert named.status == "failed" and ": cannot map header(s) 'unit_id'" in named.message
    finally:
        con.close()


def test_a_load_failing_mid_transaction_is_rolled_back_and_named(tmp_path, monkeypatch):
    monkeypatch.setenv(pii.ENV_KEY, "k" * 64)
    p = tmp_path / "hotline_stats_2025-03.csv"
    p.write_text("unit_id,region_code,month,calls_offered\nU1,320402,2025-03-01,10\n", encoding="utf-8")

    def broken_staging(*args, **kwargs):
        raise duckdb.IOException("IO Error: disk unplugged\nmore")

    monkeypatch.setattr(loader, "build_staging", broken_staging)
    wh = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wh))
    try:
        (r,) = loader.ingest_paths(con, [p], warehouse=wh)
        assert (r.file, r.status, r.table, r.load_id) == (str(p), "failed", "hotline_stats", 1)
        assert r.message == f"{p}: load failed and was rolled back: IOException: IO Error: disk unplugged"
        assert con.execute("SELECT count(*) FROM raw.hotline_stats").fetchall() == [(0,)]
        assert con.execute("SELECT load_id, status, table_name FROM raw.load_log").fetchall() == [(1, "failed", "hotline_stats")]
    finally:
        con.close()


def test_a_folder_is_scanned_in_delivery_order_and_non_deliveries_are_listed(tmp_path, monkeypatch):
    monkeypatch.setenv(pii.ENV_KEY, "k" * 64)
    land = tmp_path / "landing"
    land.mkdir()
    body = "unit_id,region_code,month,calls_offered\nU1,320402,2025-03-01,10\n"
    for name in ("hotline_stats_2025-03_v10.csv", "hotline_stats_2025-03.csv", "hotline_stats_2025-03_v2.csv"):
        (land / name).write_text(body.replace(",10", f",{len(name)}"), encoding="utf-8")
    (land / "notes.docx").write_bytes(b"PK\x03\x04")
    (land / ".hidden.csv").write_text(body, encoding="utf-8")
    os.mkfifo(land / "pipe.csv")
    scan = loader.expand_paths([land])
    assert [f.name for f in scan.files] == ["hotline_stats_2025-03.csv", "hotline_stats_2025-03_v2.csv",
                                            "hotline_stats_2025-03_v10.csv"]
    reasons = {n.path.name: (n.reason, n.refused) for n in scan.not_loaded}
    assert reasons["pipe.csv"] == (f"{land / 'pipe.csv'}: not a regular file (pipe, socket or device); cannot be read", True)
    assert reasons[".hidden.csv"] == ("hidden file or folder", False)
    assert reasons["notes.docx"][1] is True and reasons["notes.docx"][0].startswith(f"{land / 'notes.docx'}: ")
    (land / "pipe.csv").unlink()
    wh = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wh))
    try:
        results = loader.ingest_paths(con, [land], warehouse=wh)
        assert [(Path(r.file).name, r.status) for r in results] == [
            (".hidden.csv", "ignored"), ("notes.docx", "failed"), ("hotline_stats_2025-03.csv", "loaded"),
            ("hotline_stats_2025-03_v2.csv", "loaded"), ("hotline_stats_2025-03_v10.csv", "loaded")]
    finally:
        con.close()


def test_temp_root_beside_the_warehouse_named_and_stale_folders_removed(tmp_path):
    mem = duckdb.connect()
    try:
        root = loader.temp_root(mem, tmp_path / "w.duckdb")  # the warehouse named: its folder, not the connection's
        assert root == tmp_path / loader.TMP_DIR_NAME
    finally:
        mem.close()
    stale = root / "cei_ingest_4194999_x"  # above Linux's largest pid: no such process
    stale.mkdir()
    mine = root / f"cei_ingest_{os.getpid()}_y"
    mine.mkdir()
    assert sorted(loader.clean_stale_temp(root)) == sorted([stale, mine])
    assert list(root.iterdir()) == []


def test_a_load_with_a_profile_leaves_no_work_table_behind(tmp_path, monkeypatch):
    monkeypatch.setenv(pii.ENV_KEY, "k" * 64)
    prof = write_profile(tmp_path, "table: hotline_stats\nvalues:\n  calls_offered: {\"无\": \"0\"}\n", "p.yaml")
    p = tmp_path / "hotline_stats_2025-03.csv"
    p.write_text("unit_id,region_code,month,calls_offered\nU1,320402,2025-03-01,无\n", encoding="utf-8")
    wh = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wh))
    try:
        (r,) = loader.ingest_paths(con, [p], warehouse=wh, profile=prof)
        assert r.status == "loaded"
        assert con.execute("SELECT calls_offered FROM staging.hotline_stats").fetchall() == [(0,)]
        assert con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall() == []
        assert con.execute("SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal").fetchall() == []
    finally:
        con.close()


def test_a_live_process_keeps_its_temp_folder_and_a_values_key_is_named(tmp_path):
    assert loader._pid_alive(os.getpid()) is True
    assert loader._pid_alive(4194999) is False  # above Linux's largest pid
    live = tmp_path / "cei_ingest_1_z"  # pid 1 is always running
    live.mkdir()
    assert loader.clean_stale_temp(tmp_path) == [] and live.is_dir()
    assert profile_error(tmp_path, "table: hotline_stats\nvalues:\n  nope: {a: b}\n") == (
        ", key values.nope: 'nope' is not a column of hotline_stats")
    assert profile_error(tmp_path, "table: hotline_stats\ndefaults:\n  nope: x\n") == (
        ", key defaults.nope: 'nope' is not a column of hotline_stats")


def test_a_load_works_in_a_private_folder_beside_the_warehouse(tmp_path, monkeypatch):
    # decoded copies hold personal data: they go under <warehouse folder>/.cei_tmp, never the shared /tmp
    monkeypatch.setenv(pii.ENV_KEY, "k" * 64)
    made = []
    real = loader._private_tmp_dir
    monkeypatch.setattr(loader, "_private_tmp_dir", lambda workdir: made.append(workdir) or real(workdir))
    p = tmp_path / "hotline_stats_2025-03.csv"
    p.write_text("unit_id,region_code,month,calls_offered\nU1,320402,2025-03-01,10\n", encoding="utf-8")
    wh = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wh))
    try:
        assert loader.ingest_paths(con, [p], warehouse=wh)[0].status == "loaded"
    finally:
        con.close()
    assert made == [tmp_path / loader.TMP_DIR_NAME]


def test_a_profile_lists_ten_unknown_headers_then_counts_the_rest(tmp_path):
    prof = profiles.load(write_profile(tmp_path, "table: hotline_stats\n"))
    known = ["unit_id", "region_code", "month", "calls_offered"]
    for extra, tail in ((10, "'x9' onto"), (11, "'x9' and 1 more onto"), (12, "'x9' and 2 more onto")):
        with pytest.raises(IngestError) as err:
            profiles.map_headers(Path("x.csv"), known + [f"x{i}" for i in range(extra)], prof)
        assert f"'x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8', {tail}" in str(err.value), str(err.value)


def test_a_bom_file_read_line_by_line_keeps_a_record_that_begins_with_u_feff(tmp_path):
    # the recovery reader decodes each line as utf-8 once the file's BOM is behind it: a U+FEFF that begins a
    # record is data and stays (utf-8-sig would drop it and shift the bad byte's column)
    p = tmp_path / "hotline_stats_2025-03.csv"
    p.write_bytes("\ufeffunit_id,region_code,month,calls_offered\nU1,320402,2025-03-01,1\n\ufeffU2,320402,2025-03-01,2\n"
                  "\ufeffU3,320402,2025-03-01,".encode() + b"\xff3\n")
    con = duckdb.connect()
    hmap = csv_reader.read_csv_into_batch(con, p, None, None, tmp_path)
    assert hmap.read_note == "read line by line: 1 undecodable byte sequence(s)"
    assert con.execute("SELECT unit_id, calls_offered FROM _batch ORDER BY _row").fetchall() == [("U1", "1"),
                                                                                              ("\ufeffU2", "2")]
    assert con.execute("SELECT _row, fields, raw_line FROM _read_rejects").fetchall() == [
        (3, "calls_offered", "\ufeffU3,320402,2025-03-01,\ufffd3")]


def test_placeholders_are_filled_outside_comments_only(tmp_path, monkeypatch):
    """A comment may name a placeholder: it stays as written there. Filled inside the comment, a fragment of
    several lines, or one with a quote, broke out of it (a ninth-session bug: every `cei check` and `cei run`
    failed with "unterminated string literal" once the gate had run)."""
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "q.sql").write_text(
        "-- rows of {table}, plus {more} (the other file's rows)\n"
        "SELECT x FROM {table} WHERE x < $low\n{more}\nORDER BY x", encoding="utf-8")
    monkeypatch.setattr(sqlfiles, "SQL_DIR", tmp_path)
    sqlfiles.sql_text.cache_clear()
    try:
        con = duckdb.connect()
        con.execute("CREATE TABLE complaints AS SELECT range AS x FROM range(10)")
        more = "-- the second part's rows\nUNION SELECT x FROM complaints WHERE x = $low + 5"
        rows = sqlfiles.run(con, "t/q.sql", {"low": 2}, table="complaints", more=more).fetchall()
        assert rows == [(0,), (1,), (7,)]
        text, _ = sqlfiles.statement("t/q.sql", {"low": 2}, table="complaints", more=more)
        assert text.startswith("-- rows of {table}, plus {more} (the other file's rows)\nSELECT x FROM complaints ")
    finally:
        sqlfiles.sql_text.cache_clear()
