"""Encodings (issue 8, point 13): text in another encoding that happens to decode as GB18030 is refused
with a hint, ``--encoding`` forces one, and a bad byte sequence rejects its record only.

Each loading test checks the records the file was built with (a number fixed by construction) = records
read = loaded + rejected. ``ingestion.record_count`` is the loader's own count (the CSV reader checks DuckDB
against it), so it must agree but is not the independent witness: the constant is.
"""
from __future__ import annotations

import random
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from ingestion.encoding import detect_encoding
from ingestion.loader import ingest_paths
from ingestion.record_count import count_records
from pipelines.cli import main
from tests.conftest import complaint_rows, write_csv

GERMAN = ["Müller Bäckerei GmbH", "Käse aus München, Größe falsch", "Straße", "Fußball"]
RUSSIAN = "жалоба качество деньги сломан ремонт доставка срок цена брак мы он не по".split()  # even lengths


def foreign_rows(n: int, text) -> list[dict]:
    """Generated records with every non-ASCII value replaced by text a single-byte system would hold."""
    rows = complaint_rows(n)
    for r in rows:
        for k, v in r.items():
            if any(ord(ch) > 127 for ch in v):
                r[k] = text()
    return rows


def assert_balanced(f: Path, r) -> int:
    counted = count_records(f).records
    assert counted == r.rows_read == r.rows_staged + r.rows_rejected, (counted, r)
    return counted


def test_latin1_text_that_decodes_as_gb18030_is_refused_with_a_hint(tmp_path, con, warehouse):
    rng = random.Random(1)
    f = write_csv(tmp_path / "complaints_2025-03.csv", foreign_rows(30, lambda: rng.choice(GERMAN)), encoding="latin-1")
    f.read_bytes().decode("gb18030")  # no error: only the character distribution can tell
    r = ingest_paths(con, [f], warehouse=warehouse)[0]
    assert r.status == "failed" and str(f) in r.message
    assert "--encoding" in r.message and "GB18030" in r.message and "rare" in r.message
    assert con.execute("SELECT count(*) FROM raw.complaints").fetchall()[0][0] == 0
    assert con.execute("SELECT status FROM raw.load_log").fetchall() == [("failed",)]


def test_koi8_text_that_decodes_as_gb18030_is_refused_with_a_hint(tmp_path, con, warehouse):
    rng = random.Random(2)
    rows = foreign_rows(40, lambda: " ".join(rng.choice(RUSSIAN) for _ in range(6)))
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows, encoding="koi8-r")
    f.read_bytes().decode("gb18030")
    r = ingest_paths(con, [f], warehouse=warehouse)[0]
    assert r.status == "failed" and "--encoding" in r.message and "noise" in r.message


def test_real_gb18030_exports_are_plausible(tmp_path):
    rows = complaint_rows(200, seed=4)
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows, encoding="gb18030")
    assert detect_encoding(f).encoding == "gb18030"
    names = tmp_path / "names.csv"  # terse text: names and company names only
    names.write_bytes("\n".join(f"{r['complainant_name']},{r['respondent_name']}" for r in rows).encode("gb18030"))
    assert detect_encoding(names).encoding == "gb18030"


def test_encoding_option_forces_one(tmp_path, con, warehouse):
    rng = random.Random(1)
    rows = foreign_rows(30, lambda: rng.choice(GERMAN))
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows, encoding="latin-1")
    r = ingest_paths(con, [f], warehouse=warehouse, encoding="cp1252")[0]
    assert r.status == "loaded" and r.encoding == "cp1252"
    assert assert_balanced(f, r) == 30 and r.rows_read == 30
    got = con.execute("SELECT respondent_name FROM raw.complaints WHERE source_row = 1").fetchall()[0][0]
    assert got == rows[0]["respondent_name"]


def test_cei_ingest_encoding_option(tmp_path, warehouse):
    g = write_csv(tmp_path / "complaints_2025-04.csv", foreign_rows(10, lambda: "Größe"), encoding="latin-1")
    res = CliRunner().invoke(main, ["--warehouse", str(warehouse), "ingest", str(g)])
    assert res.exit_code == 1 and "--encoding" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["--warehouse", str(warehouse), "ingest", "--encoding", "latin-1", str(g)])
    assert res.exit_code == 0, res.output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT DISTINCT content FROM raw.complaints").fetchall() == [("Größe",)]
        r = con.execute("SELECT rows_read, rows_staged, rows_rejected, encoding FROM raw.load_log "
                        "WHERE status = 'loaded'").fetchall()
        # every record's is_online is "Größe" (foreign_rows replaced 是/否): none can be typed
        assert r == [(10, 0, 10, "iso8859-1")] and count_records(g).records == 10
    res = CliRunner().invoke(main, ["--warehouse", str(warehouse), "ingest", "--encoding", "utf-16", str(g)])
    assert res.exit_code != 0 and "--encoding" in res.output and "Traceback" not in res.output


def _insert_bad_byte(f: Path, rows: list[dict], record: int, encoding: str, bad: bytes) -> int:
    """Put ``bad`` inside record ``record``'s content (after 2 characters); return its byte offset."""
    data = f.read_bytes()
    content = rows[record - 1]["content"].encode(encoding)
    at = data.index(content) + len(rows[record - 1]["content"][:2].encode(encoding))
    f.write_bytes(data[:at] + bad + data[at:])
    return at


def test_gb18030_file_with_one_bad_byte_sequence_rejects_that_record_only(tmp_path, con, warehouse):
    rows = complaint_rows(50, seed=3)
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows, encoding="gb18030")
    at = _insert_bad_byte(f, rows, 20, "gb18030", b"\xff")
    r = ingest_paths(con, [f], warehouse=warehouse)[0]
    assert r.status == "loaded" and r.encoding == "gb18030", r.message
    assert assert_balanced(f, r) == 50
    assert (r.rows_staged, r.rows_rejected) == (49, 1)
    (row, field, reason), = con.execute("SELECT source_row, fields, reason FROM raw.rejects").fetchall()
    assert (row, field) == (20, "content") and f"byte offset {at}" in reason and "ff" in reason
    numbers = dict(con.execute("SELECT record_id, source_row FROM staging.complaints").fetchall())
    assert numbers[rows[20]["record_id"]] == 21 and numbers[rows[18]["record_id"]] == 19
    assert r.reject_examples[0].startswith("complaints_2025-03.csv, row 20, field content")


def test_utf8_file_with_one_bad_byte_rejects_that_record_only(tmp_path, con, warehouse):
    rows = complaint_rows(30, seed=5)
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    at = _insert_bad_byte(f, rows, 7, "utf-8", b"\xe4\xb8")  # a character cut short
    r = ingest_paths(con, [f], warehouse=warehouse)[0]
    assert r.status == "loaded" and r.encoding == "utf-8", r.message
    assert assert_balanced(f, r) == 30 and (r.rows_staged, r.rows_rejected) == (29, 1)
    (row, reason), = con.execute("SELECT source_row, reason FROM raw.rejects").fetchall()
    assert row == 7 and f"byte offset {at}" in reason


@pytest.mark.parametrize("bad_records,loads", [(10, True), (11, False)])
def test_at_most_ten_bad_byte_sequences_reject_their_records_more_refuse_the_file(tmp_path, con, warehouse,
                                                                                   bad_records, loads):
    """README: "A few undecodable byte sequences (at most 10, or one per 1,000 lines) reject their records
    only"; a file of 40 records is under 1,000 lines, so the limit is 10."""
    rows = complaint_rows(40, seed=6)
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    for k in range(1, bad_records + 1):
        _insert_bad_byte(f, rows, 3 * k, "utf-8", b"\xff")
    r = ingest_paths(con, [f], warehouse=warehouse)[0]
    if loads:
        assert r.status == "loaded", r.message
        assert assert_balanced(f, r) == 40 and (r.rows_staged, r.rows_rejected) == (30, 10)
        assert [x[0] for x in con.execute("SELECT source_row FROM raw.rejects ORDER BY 1").fetchall()] == \
            [3 * k for k in range(1, 11)]
    else:
        assert r.status == "failed" and str(f) in r.message and "11 " in r.message and "--encoding" in r.message
        assert con.execute("SELECT count(*) FROM raw.complaints").fetchall()[0][0] == 0


def test_a_forced_encoding_rejects_bytes_it_does_not_define(tmp_path, con, warehouse):
    rows = foreign_rows(12, lambda: "Größe")
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows, encoding="cp1252")
    data = f.read_bytes()
    lines = data.split(b"\r\n")
    at = len(b"\r\n".join(lines[:4])) + 2 + lines[4].index("Größe".encode("cp1252"))  # record 4
    f.write_bytes(data[:at] + b"\x81" + data[at:])  # 0x81 is not a cp1252 character
    r = ingest_paths(con, [f], warehouse=warehouse, encoding="cp1252")[0]
    assert r.status == "loaded", r.message
    assert assert_balanced(f, r) == 12 and r.rows_read == 12
    assert con.execute("SELECT source_row, reason FROM raw.rejects WHERE reason LIKE 'undecodable%'").fetchall() \
        == [(4, f"undecodable bytes (81) at byte offset {at}: not valid cp1252")]


def test_cei_run_and_the_landing_asset_take_the_encoding(tmp_path, warehouse):
    import dagster as dg

    from pipelines.runner import QUIET, defs, warehouse_resource

    landing = tmp_path / "landing"
    landing.mkdir()
    f = write_csv(landing / "complaints_2025-03.csv", foreign_rows(10, lambda: "Größe"), encoding="latin-1")
    config = {"landing_dir": str(landing), "encoding": "latin-1"}
    res = defs.resolve_job_def("landing_job").execute_in_process(
        run_config={**QUIET, "ops": {"raw__landing_files": {"config": config}}}, instance=dg.DagsterInstance.ephemeral(),
        resources={"duckdb": warehouse_resource(str(warehouse))}, raise_on_error=False)
    assert res.success
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT DISTINCT content FROM raw.complaints").fetchall() == [("Größe",)]
        read, = con.execute("SELECT rows_read FROM raw.load_log").fetchall()
        assert read == (count_records(f).records,) == (10,)
    out = CliRunner().invoke(main, ["--warehouse", str(warehouse), "run", "--landing", str(landing), "--encoding", "utf-16"])
    assert out.exit_code == 2 and "--encoding" in out.output and "Traceback" not in out.output
