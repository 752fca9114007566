"""`cei` under user errors and bad deliveries: exit status and a few lines, never a traceback (issue 8, points 3-5).

Exit statuses: 0 done (data findings such as rejects are reported, not errors); 1 a refused delivery
or a user error (the rest was loaded first); 2 a usage error (click) or an internal error, which
prints one line and how to get the traceback (CEI_DEBUG=1).
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines.cli import main
from tests.adversarial.test_loader import broken_files
from tests.helpers import complaint_rows, count_csv_records, write_csv


def cei(warehouse: Path, *args: str, env: dict | None = None):
    result = CliRunner().invoke(main, ["--warehouse", str(warehouse), *args], env=env)
    assert "Traceback" not in result.output, result.output
    return result


def counts(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_ingest_lists_broken_files_in_one_line_each_loads_the_rest_and_exits_1(tmp_path, warehouse):
    landing = tmp_path / "landing"
    landing.mkdir()
    good = write_csv(landing / "complaints_2025-03.csv", complaint_rows(30))
    broken = broken_files(landing)
    (landing / "manifest.json").write_text("{}", encoding="utf-8")
    res = cei(warehouse, "ingest", str(landing))
    assert res.exit_code == 1
    failed = [line for line in res.output.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 3 and all(len(line) <= 420 for line in failed)
    for path in broken.values():
        assert sum(str(path) in line for line in failed) == 1
    assert any(line.startswith("ignored") and "manifest.json" in line for line in res.output.splitlines())
    assert "3 file(s) refused" in res.output
    assert counts(warehouse, "SELECT count(*) FROM staging.complaints") == [(count_csv_records(good),)] == [(30,)]
    # the next run is not blocked: the good file is skipped, the broken ones fail alone again
    res = cei(warehouse, "ingest", str(landing))
    assert res.exit_code == 1 and "skipped  complaints_2025-03.csv" in res.output
    assert counts(warehouse, "SELECT count(*) FROM raw.complaints") == [(30,)]


def test_ingest_of_deliveries_and_generator_metadata_exits_0(tmp_path, warehouse):
    landing = tmp_path / "landing"
    landing.mkdir()
    write_csv(landing / "complaints_2025-03.csv", complaint_rows(11))
    (landing / "ground_truth_defects.csv").write_text("file,record_id,family\n", encoding="utf-8")
    (landing / "region_traits.csv").write_text("region_code,trait,value\n", encoding="utf-8")
    res = cei(warehouse, "ingest", str(landing))
    assert res.exit_code == 0, res.output
    ignored = [line for line in res.output.splitlines() if line.startswith("ignored")]
    assert len(ignored) == 2 and all("generator metadata" in line for line in ignored)
    assert counts(warehouse, "SELECT count(*) FROM raw.complaints") == [(11,)]


def test_unsupported_file_given_by_name_is_refused(tmp_path, warehouse):
    doc = tmp_path / "complaints_2025-03.docx"
    doc.write_bytes(b"PK\x03\x04 not a delivery")
    res = cei(warehouse, "ingest", str(doc))
    assert res.exit_code == 1 and "unsupported file type '.docx'" in res.output


@pytest.mark.slow  # 25–80 s: keeps `make test` under 15 minutes; runs in CI with `make test-slow`
def test_huge_header_row_prints_a_few_short_lines(tmp_path, warehouse):
    f = tmp_path / "complaints_2025-03.csv"
    f.write_text(",".join(f"unknown_header_{i:06d}" for i in range(8000)) + "\n" + "x," * 7999 + "x\n", encoding="utf-8")
    res = cei(warehouse, "ingest", str(f))
    assert res.exit_code == 1
    [line] = [line for line in res.output.splitlines() if line.startswith("FAILED")]
    assert str(f) in line and len(line) <= 420
    assert len(res.output) < 3000  # the header row alone is 180,000 characters


def test_supersedes_with_several_files_is_a_one_line_error(tmp_path, warehouse):
    a = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(3))
    b = write_csv(tmp_path / "complaints_2025-04.csv", complaint_rows(3, "2025-04"))
    res = cei(warehouse, "ingest", str(a), str(b), "--supersedes", "complaints_2025-02.csv")
    assert res.exit_code == 1
    assert res.output.strip().splitlines() == [
        "error: complaints_2025-02.csv: --supersedes needs exactly one file to load, got 2"]


def test_supersedes_through_the_cli(tmp_path, warehouse):
    old = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(12))
    assert cei(warehouse, "ingest", str(old)).exit_code == 0
    fix = write_csv(tmp_path / "march_fix.csv", complaint_rows(12)[:8])
    res = cei(warehouse, "ingest", str(fix), "--supersedes", str(old))
    assert res.exit_code == 0, res.output
    assert "replaced 12 earlier rows" in res.output
    assert counts(warehouse, "SELECT count(*) FROM staging.complaints") == [(8,)]
    res = cei(warehouse, "status")
    assert res.exit_code == 0 and "replaced by #2" in res.output


def test_short_pii_key_is_an_error_not_a_traceback(tmp_path, warehouse, monkeypatch):
    monkeypatch.delenv("CEI_PII_KEY", raising=False)
    secret = tmp_path / "secret"
    secret.write_text("too-short", encoding="utf-8")
    monkeypatch.setenv("CEI_SECRET_FILE", str(secret))
    f = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(3))
    res = cei(warehouse, "ingest", str(f))
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert len(lines) <= 3 and lines[0].startswith("error: ") and "too short" in lines[0]


def test_a_file_that_is_not_a_warehouse_is_an_error_not_a_traceback(tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    wh.write_bytes(b"this is not a DuckDB file at all" * 200)
    res = cei(wh, "status")
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert len(lines) <= 3 and lines[0].startswith("error: ") and str(wh) in res.output


def test_internal_error_prints_one_line_and_how_to_see_the_traceback(tmp_path, warehouse, monkeypatch):
    import ingestion.loader

    def bug(*args, **kwargs):
        raise ZeroDivisionError("division by zero somewhere deep")

    monkeypatch.setattr(ingestion.loader, "ingest_paths", bug)
    f = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(3))
    res = cei(warehouse, "ingest", str(f))
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == ["internal error: ZeroDivisionError: division by zero somewhere deep",
                                               "run with CEI_DEBUG=1 for the traceback"]
    res = CliRunner().invoke(main, ["--warehouse", str(warehouse), "ingest", str(f)], env={"CEI_DEBUG": "1"})
    assert isinstance(res.exception, ZeroDivisionError)


def test_run_loads_and_stages_the_rest_rejects_out_of_range_dates_and_exits_1_on_a_refused_file(tmp_path, warehouse):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    landing = tmp_path / "landing"
    landing.mkdir()
    rows = complaint_rows(24, "2025-03", seed=3)
    next_year = datetime.now(ZoneInfo("Asia/Shanghai")).year + 1
    for r, d in zip(rows[-3:], ["1900-01-01", "2018-12-31", f"{next_year}-02-01"]):
        r["received_at"], r["accepted_at"] = d, ""
    good = write_csv(landing / "complaints_2025-03.csv", rows)
    write_csv(landing / "complaints_2025-04.csv", complaint_rows(10, "2025-04", seed=4))
    (landing / "complaints_2025-05.xls").write_bytes(b"\xd0\xcf\x11\xe0 an old Excel file")
    res = cei(warehouse, "run", "--landing", str(landing))
    assert res.exit_code == 1, res.output
    assert "complaints_2025-05.xls" in res.output and "1 delivered file(s) refused" in res.output
    assert count_csv_records(good) == 24
    assert counts(warehouse, "SELECT partition_key, count(*) FROM staging.complaints GROUP BY 1 ORDER BY 1") == [
        ("2025-03", 21), ("2025-04", 10)]
    assert counts(warehouse, "SELECT count(*) FROM raw.rejects WHERE reason LIKE '%first monthly partition%' "
                             "OR reason LIKE '%in the future%'") == [(3,)]
    assert counts(warehouse, "SELECT count(DISTINCT partition_key) FROM dq.runs WHERE table_name = 'complaints'") == [(2,)]
    # the refused file does not block the next run; removed, nothing is refused any more, but the
    # months the gate held back (most rows carry an invalid USCC) still stand: exit 3, not green
    (landing / "complaints_2025-05.xls").unlink()
    res = cei(warehouse, "run", "--landing", str(landing))
    assert res.exit_code == 3, res.output
    assert "refused" not in res.output and "2025-03 held back by error_share" in res.output
    assert counts(warehouse, "SELECT count(*) FROM raw.complaints") == [(31,)]


def test_run_regates_every_month_a_redelivery_touched(tmp_path, warehouse, monkeypatch):
    """March v2 carries three late February records: `cei run` restages and re-gates February too,
    and February's own delivery stays."""
    from pipelines import runner
    from tests.helpers import valid_uscc

    # the index stage is not under test here (two months of one county cannot make an index)
    monkeypatch.setattr(runner, "_refusals", lambda *a, **k: ["index stage not under test (held back: exit 3)"])

    uscc = valid_uscc()
    landing = tmp_path / "landing"
    landing.mkdir()
    write_csv(landing / "complaints_2025-02.csv", complaint_rows(20, "2025-02", seed=2, uscc=uscc))
    march = complaint_rows(30, "2025-03", seed=3, uscc=uscc)
    write_csv(landing / "complaints_2025-03.csv", march)
    assert cei(warehouse, "run", "--landing", str(landing)).exit_code == 3  # only the stubbed index holds back
    gated = "SELECT partition_key, rows_staged, rows_clean + rows_quarantined FROM dq.runs " \
            "WHERE table_name = 'complaints' ORDER BY 1"
    assert counts(warehouse, gated) == [("2025-02", 20, 20), ("2025-03", 30, 30)]

    write_csv(landing / "complaints_2025-03_v2.csv", march[:25] + complaint_rows(3, "2025-02", seed=42, uscc=uscc))
    res = cei(warehouse, "run", "--landing", str(landing))
    assert res.exit_code == 3, res.output
    assert counts(warehouse, gated) == [("2025-02", 23, 23), ("2025-03", 25, 25)]
    assert counts(warehouse, "SELECT partition_key, count(*) FROM clean.complaints GROUP BY 1 ORDER BY 1") == [
        ("2025-02", 23), ("2025-03", 25)]
    assert counts(warehouse, "SELECT file_name, status FROM raw.load_log ORDER BY load_id") == [
        ("complaints_2025-02.csv", "loaded"), ("complaints_2025-03.csv", "replaced"),
        ("complaints_2025-03_v2.csv", "loaded")]


def test_sigterm_mid_load_rolls_back_and_removes_the_temporary_copies(tmp_path, warehouse):
    """`kill PID` (SIGTERM) while `cei ingest` decodes a GB18030 delivery: exit 130, the decoded copy in
    .cei_tmp is gone, nothing half-loaded; the same command then loads every record."""
    import os
    import signal
    import subprocess
    import sys
    import time

    f = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(40000), encoding="gb18030")
    cmd = [str(Path(sys.executable).with_name("cei")), "--warehouse", str(warehouse), "ingest", str(f)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    tmp_root = warehouse.parent / ".cei_tmp"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (tmp_root.is_dir() and any(tmp_root.iterdir())):
        time.sleep(0.02)
    assert any(tmp_root.iterdir()), "the load never started"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 130, out
    assert "interrupted" in out and "Traceback" not in out
    assert list(tmp_root.iterdir()) == []
    assert counts(warehouse, "SELECT (SELECT count(*) FROM raw.complaints), (SELECT count(*) FROM raw.load_log "
                             "WHERE status = 'loaded')") == [(0, 0)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert counts(warehouse, "SELECT count(*) FROM staging.complaints") == [(40000,)]


def _empty_warehouse(path: Path) -> Path:
    """A warehouse with its tables and no data (what the first `cei ingest` creates)."""
    from ingestion.loader import open_warehouse
    from pipelines.settings import connect

    with connect(path) as con:
        open_warehouse(con)
    return path


def test_report_on_an_empty_warehouse_is_a_user_error(tmp_path, warehouse):
    _empty_warehouse(warehouse)
    assert cei(warehouse, "status").exit_code == 0  # an empty warehouse: raw tables, no clean ones
    res = cei(warehouse, "report", "--scope", "32", "--period", "2025", "--out", str(tmp_path / "r"))
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert len(lines) <= 3 and lines[0].startswith("error: ") and "cei run" in lines[0]


def test_report_without_index_scores_says_what_is_missing_and_fails(tmp_path, warehouse):
    """A gated month but no stored index: the report folder would lack its main report. `cei report`
    writes what it can, names what is missing and how to get it, and exits 1 — never a quiet partial
    folder with exit 0."""
    from data_quality.gate import run_gate

    f = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(30))
    assert cei(warehouse, "ingest", str(f)).exit_code == 0
    with duckdb.connect(str(warehouse)) as con:
        run_gate(con, "complaints", ["2025-03"])
    out = tmp_path / "rep"
    res = cei(warehouse, "report", "--scope", "3204", "--period", "2025", "--out", str(out), "--provisional")
    assert res.exit_code == 1, res.output
    assert "no index scores stored for scope 3204, period 2025" in res.output
    assert "cei index --scope 3204 --period 2025 --provisional" in res.output
    assert (out / "index.html").exists() and not (out / "index_report.html").exists()


def test_a_broken_link_or_a_pipe_named_like_a_delivery_is_listed_and_fails_the_ingest(tmp_path, warehouse):
    import os

    landing = tmp_path / "landing"
    landing.mkdir()
    good = write_csv(landing / "complaints_2025-03.csv", complaint_rows(12))
    (landing / "complaints_2025-10.csv").symlink_to(landing / "gone.csv")
    os.mkfifo(landing / "complaints_2025-11.csv")
    (landing / "loop.csv").symlink_to(landing / "loop.csv")
    res = cei(warehouse, "ingest", str(landing))
    assert res.exit_code == 1, res.output
    assert "complaints_2025-10.csv: a broken link" in res.output
    assert "complaints_2025-11.csv: not a regular file" in res.output
    assert "loop.csv: a broken link" in res.output
    assert counts(warehouse, "SELECT count(*) FROM raw.complaints") == [(count_csv_records(good),)]


def test_a_reader_that_leaves_early_is_not_an_error(tmp_path, warehouse):
    """`cei status | head -1`: the pipe closes under us; exit 0 and nothing on stderr."""
    import subprocess
    import sys

    _empty_warehouse(warehouse)
    p = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "--warehouse", str(warehouse), "status"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.close()
    assert p.wait(timeout=120) == 0
    assert p.stderr.read() == b""


def test_status_on_a_mistyped_warehouse_path_creates_nothing(tmp_path):
    missing = tmp_path / "typo" / "warehuose.duckdb"
    res = CliRunner().invoke(main, ["--warehouse", str(missing), "status"])
    assert res.exit_code == 1
    assert f"no warehouse at {missing}" in res.output and "Traceback" not in res.output
    assert not missing.exists() and not missing.parent.exists()
