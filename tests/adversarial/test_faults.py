"""Issue 8, point 11: concurrency and faults.

* A second process gets one line naming the lock holder (PID and command line); ``--wait`` waits.
* A full disk (a small tmpfs, when the tests may mount one) gives a clear message and an intact
  warehouse; the retry loads exactly once.
* ``cei check`` finds a damaged file (bytes overwritten in the middle of a table's block, a
  truncated file) and broken counts, and says what to do.
* ``kill -9`` of a child process at staged points of a load (``CEI_TEST_KILL_AT``, the loader's
  ``_fault_point``) leaves no trace of the load, and the retry loads the file exactly once.

Every `cei` here runs as a child process, as a user runs it.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from ingestion.loader import ingest_paths
from pipelines import settings
from pipelines.check import check_warehouse
from tests.conftest import complaint_rows, write_csv

REPO = Path(__file__).resolve().parents[2]

HOLDER = textwrap.dedent("""\
    import sys, time
    import duckdb
    con = duckdb.connect(sys.argv[1])
    print("ready", flush=True)
    if float(sys.argv[2]) > 0:
        time.sleep(float(sys.argv[2]))
    else:
        sys.stdin.read()
    con.close()
    print("released", flush=True)
""")


def cei(*args: str, wh: Path, env: dict | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "--warehouse", str(wh), *args], cwd=REPO,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def counts(wh: Path) -> dict:
    """Rows per table of the warehouse (opened read-only, as a fresh process would)."""
    with duckdb.connect(str(wh), read_only=True) as con:
        return {
            "raw": con.execute("SELECT count(*) FROM raw.complaints").fetchall()[0][0],
            "staging": con.execute("SELECT count(*) FROM staging.complaints").fetchall()[0][0],
            "rejects": con.execute("SELECT count(*) FROM raw.rejects").fetchall()[0][0],
            "loaded": con.execute("SELECT count(*) FROM raw.load_log WHERE status = 'loaded'").fetchall()[0][0],
        }


def traces_of(wh: Path, f: Path) -> dict:
    """What the warehouse holds of one delivered file."""
    with duckdb.connect(str(wh), read_only=True) as con:
        q = lambda sql: con.execute(sql, {"s": sha(f)}).fetchall()[0][0]  # noqa: E731
        return {"raw": q("SELECT count(*) FROM raw.complaints WHERE source_sha256 = $s"),
                "staging": q("SELECT count(*) FROM staging.complaints WHERE source_sha256 = $s"),
                "rejects": q("SELECT count(*) FROM raw.rejects WHERE source_sha256 = $s"),
                "loaded": q("SELECT count(*) FROM raw.load_log WHERE source_sha256 = $s AND status = 'loaded'")}


def first_load(tmp_path: Path, wh: Path, n: int = 30) -> Path:
    """A warehouse holding one delivery (March, n records), closed."""
    a = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(n, seed=1))
    with duckdb.connect(str(wh)) as con:
        assert ingest_paths(con, [a], warehouse=wh)[0].status == "loaded"
    return a


class Holder:
    """Another process holding the warehouse open (for ``seconds``, or until stopped)."""

    def __init__(self, tmp_path: Path, wh: Path, seconds: float = 0):
        script = tmp_path / "hold_warehouse.py"
        script.write_text(HOLDER, encoding="utf-8")
        self.proc = subprocess.Popen([sys.executable, str(script), str(wh), str(seconds)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


# ------------------------------------------------------------------------------------------ lock
def test_a_second_process_is_told_in_one_line_who_holds_the_warehouse(tmp_path, warehouse):
    first_load(tmp_path, warehouse)
    b = write_csv(tmp_path / "complaints_2025-04.csv", complaint_rows(20, month="2025-04", seed=2))
    holder = Holder(tmp_path, warehouse)
    try:
        for args in (("ingest", str(b)), ("status",), ("check",)):
            r = cei(*args, wh=warehouse)
            assert r.returncode == 1, (args, r.stderr)
            lines = r.stderr.strip().splitlines()
            assert len(lines) == 1, (args, r.stderr)
            assert f"warehouse {warehouse} is in use by PID {holder.proc.pid} (hold_warehouse.py /" in lines[0]
            assert "--wait SECONDS" in lines[0] and "Traceback" not in r.stderr
        with pytest.raises(settings.WarehouseBusy, match=rf"in use by PID {holder.proc.pid} .* \(waited 0.3s\)$") as e:
            started = time.monotonic()
            settings.connect(warehouse, wait=0.3)
        assert 0.3 <= time.monotonic() - started < 5
        assert "\n" not in str(e.value)
    finally:
        holder.stop()
    assert traces_of(warehouse, b)["raw"] == 0
    assert cei("ingest", str(b), wh=warehouse).returncode == 0  # free again: it loads


def test_wait_waits_for_the_holder_and_then_loads(tmp_path, warehouse):
    first_load(tmp_path, warehouse)
    b = write_csv(tmp_path / "complaints_2025-04.csv", complaint_rows(20, month="2025-04", seed=2))
    holder = Holder(tmp_path, warehouse, seconds=2.0)
    started = time.monotonic()
    r = cei("--wait", "60", "ingest", str(b), wh=warehouse)
    waited = time.monotonic() - started
    assert r.returncode == 0, r.stderr
    assert holder.proc.stdout.readline().strip() == "released"
    holder.proc.wait(timeout=30)
    assert 1.0 <= waited < 60
    assert traces_of(warehouse, b) == {"raw": 20, "staging": 20, "rejects": 0, "loaded": 1}
    # the environment works as well, and a wait that runs out gives the same one line
    holder = Holder(tmp_path, warehouse)
    try:
        started = time.monotonic()
        r = cei("status", wh=warehouse, env={"CEI_WAIT": "1.5"})
        assert 1.5 <= time.monotonic() - started < 60
        assert r.returncode == 1
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and re.fullmatch(rf"error: warehouse {re.escape(str(warehouse))} is in use by PID "
                                                rf"{holder.proc.pid} \(hold_warehouse\.py /.*\) \(waited 1\.5s\)", lines[0])
    finally:
        holder.stop()


# ------------------------------------------------------------------------------------------ kill -9
def _broken_two(rows: list[dict]) -> list[dict]:
    rows[9]["amount_disputed"] = "一千元"  # type rejects: staged rows and rejects are written separately
    rows[20]["accepted_at"] = "昨天"
    return rows


@pytest.mark.parametrize("delivery", ["new_month", "redelivery"])
@pytest.mark.parametrize("point", ["after_raw", "mid_staging", "before_commit"])
def test_kill_9_during_a_load_leaves_no_trace_and_the_retry_loads_once(tmp_path, warehouse, point, delivery):
    a = first_load(tmp_path, warehouse)
    before, a_before = counts(warehouse), traces_of(warehouse, a)
    assert before == {"raw": 30, "staging": 30, "rejects": 0, "loaded": 1}
    if delivery == "new_month":
        b = write_csv(tmp_path / "complaints_2025-04.csv", _broken_two(complaint_rows(40, month="2025-04", seed=2)))
    else:  # the same feed and month again: replaces the March delivery when it commits
        b = write_csv(tmp_path / "complaints_2025-03_v2.csv", _broken_two(complaint_rows(40, seed=2)))

    r = cei("ingest", str(b), wh=warehouse, env={"CEI_TEST_KILL_AT": point})
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr[-2000:])

    # a fresh process opens the warehouse: nothing of b, all of a
    assert counts(warehouse) == before
    assert traces_of(warehouse, b) == {"raw": 0, "staging": 0, "rejects": 0, "loaded": 0}
    assert traces_of(warehouse, a) == a_before
    res = check_warehouse(warehouse)
    assert res.ok, res.problems

    r = cei("ingest", str(b), wh=warehouse)
    assert r.returncode == 0, r.stderr
    assert traces_of(warehouse, b) == {"raw": 40, "staging": 38, "rejects": 2, "loaded": 1}
    if delivery == "new_month":
        assert traces_of(warehouse, a) == a_before
        assert counts(warehouse) == {"raw": 70, "staging": 68, "rejects": 2, "loaded": 2}
    else:
        assert traces_of(warehouse, a) == {"raw": 0, "staging": 0, "rejects": 0, "loaded": 0}
        assert counts(warehouse) == {"raw": 40, "staging": 38, "rejects": 2, "loaded": 1}
    assert "skipped" in cei("ingest", str(b), wh=warehouse).stderr  # exactly once
    assert traces_of(warehouse, b)["loaded"] == 1
    assert check_warehouse(warehouse).ok


def test_kill_9_at_arbitrary_moments_leaves_all_or_nothing(tmp_path, warehouse):
    """Not only at the hooks: SIGKILL from outside at growing delays (start-up, reading, inserting,
    committing, checkpointing), until one load finishes. After every kill the file is either wholly
    loaded or not at all, and the warehouse checks sound."""
    a = first_load(tmp_path, warehouse)
    a_before = traces_of(warehouse, a)
    b = write_csv(tmp_path / "complaints_2025-04.csv", complaint_rows(20000, month="2025-04", seed=2))
    outcomes = []
    for delay in [0.5 * k for k in range(1, 40)]:  # every half second of a load (~3-6 s here)
        proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "--warehouse", str(warehouse), "ingest", str(b)],
                                cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        outcomes.append(proc.returncode)
        got = traces_of(warehouse, b)
        assert got in ({"raw": 0, "staging": 0, "rejects": 0, "loaded": 0},
                       {"raw": 20000, "staging": 20000, "rejects": 0, "loaded": 1}), (delay, got)
        assert traces_of(warehouse, a) == a_before
        res = check_warehouse(warehouse, checkpoint=False)
        assert res.ok, (delay, res.problems)
        if proc.returncode == 0:
            break
    assert -signal.SIGKILL in outcomes  # at least one load was really killed
    r = cei("ingest", str(b), wh=warehouse)
    assert r.returncode == 0, r.stderr
    assert traces_of(warehouse, b) == {"raw": 20000, "staging": 20000, "rejects": 0, "loaded": 1}
    assert counts(warehouse) == {"raw": 20030, "staging": 20030, "rejects": 0, "loaded": 2}


# ------------------------------------------------------------------------------------------ full disk
def test_disk_full_message_names_the_path():
    import errno

    e = OSError(errno.ENOSPC, "No space left on device", "/data/cei/warehouse.duckdb.tmp/x.csv")
    assert str(settings.disk_full(e)) == (
        "disk full writing /data/cei/warehouse.duckdb.tmp/x.csv: the change in progress was rolled back and the "
        "warehouse is intact; free space on /data/cei/warehouse.duckdb.tmp and run the same command again")
    # DuckDB's failed COMMIT, hidden behind the failed ROLLBACK that followed it
    try:
        try:
            raise duckdb.TransactionException('Failed to commit: Could not write file "/d/w.duckdb.wal": '
                                              "No space left on device")
        except duckdb.TransactionException:
            raise duckdb.TransactionException("cannot rollback - no transaction is active")
    except duckdb.TransactionException as outer:
        full = settings.disk_full(outer)
    assert str(full).startswith("disk full writing /d/w.duckdb.wal: ") and "free space on /d " in str(full)
    assert settings.disk_full(ValueError("bad value")) is None
    # `cei run`: the landing step's error as Dagster serialises it, the DuckDB error as its cause
    from dagster._utils.error import SerializableErrorInfo

    step = SerializableErrorInfo('Error occurred while executing op "raw__landing_files":', [], "StepError",
                                 cause=SerializableErrorInfo('TransactionException: Failed to commit: Could not write '
                                                             'file "/d/w.duckdb.wal": No space left on device', [], "X"))
    assert str(settings.disk_full(step)).startswith("disk full writing /d/w.duckdb.wal: ")


def _mount_small_disk(where: Path, size: str) -> bool:
    where.mkdir()
    cmd = ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)]
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            return False
        cmd = ["sudo", "-n", *cmd]
    return subprocess.run(cmd, capture_output=True).returncode == 0


def _unmount(where: Path) -> None:
    subprocess.run((["sudo", "-n"] if os.geteuid() != 0 else []) + ["umount", "-l", str(where)], capture_output=True)


def test_a_full_disk_gives_a_clear_message_and_an_intact_warehouse(tmp_path):
    disk = tmp_path / "disk"
    if not _mount_small_disk(disk, "12m"):
        pytest.skip("mounting a small tmpfs needs root or passwordless sudo")
    try:
        wh = disk / "warehouse.duckdb"
        a = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(200, seed=1))
        b = write_csv(tmp_path / "complaints_2025-04.csv", complaint_rows(6000, month="2025-04", seed=2))
        assert cei("ingest", str(a), wh=wh).returncode == 0
        before = counts(wh)
        assert before == {"raw": 200, "staging": 200, "rejects": 0, "loaded": 1}
        st = os.statvfs(disk)
        filler = disk / "filler"
        filler.write_bytes(b"\0" * (st.f_bavail * st.f_frsize - 150_000))

        r = cei("ingest", str(b), wh=wh)
        assert r.returncode == 1
        lines = r.stderr.strip().splitlines()
        assert "Traceback" not in r.stderr
        msg = next(ln for ln in lines if "disk full" in ln)
        assert msg.startswith(f"error: disk full writing {disk}/") and f"free space on {disk}" in msg

        filler.unlink()
        assert counts(wh) == before
        assert traces_of(wh, b) == {"raw": 0, "staging": 0, "rejects": 0, "loaded": 0}
        assert check_warehouse(wh).ok
        r = cei("ingest", str(b), wh=wh)
        assert r.returncode == 0, r.stderr
        assert counts(wh) == {"raw": 6200, "staging": 6200, "rejects": 0, "loaded": 2}
    finally:
        _unmount(disk)


# ------------------------------------------------------------------------------------------ cei check
@pytest.fixture(scope="module")
def gated_file(tmp_path_factory) -> Path:
    """A warehouse (built once) with March gated and April staged but not gated yet."""
    from data_quality.gate import run_gate

    root = tmp_path_factory.mktemp("gated")
    wh = root / "warehouse.duckdb"
    a = write_csv(root / "complaints_2025-03.csv", _broken_two(complaint_rows(1000, seed=1)))
    b = write_csv(root / "complaints_2025-04.csv", complaint_rows(1000, month="2025-04", seed=2))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CEI_PII_KEY", "test-key-0123456789abcdef0123456789abcdef")
        with duckdb.connect(str(wh)) as con:
            assert [r.status for r in ingest_paths(con, [a, b], warehouse=wh)] == ["loaded", "loaded"]
            run_gate(con, "complaints", ["2025-03"])  # April stays ungated: pending, not a problem
            con.execute("CHECKPOINT")
    return wh


@pytest.fixture
def gated(gated_file, tmp_path) -> Path:
    """This test's own copy of the gated warehouse."""
    return Path(shutil.copy(gated_file, tmp_path / "warehouse.duckdb"))


def _overwrite_middle_of_table(wh: Path, table: str) -> int:
    """Overwrite 4 KiB in the middle of the first storage block of ``table``; returns the offset."""
    with duckdb.connect(str(wh), read_only=True) as con:
        block = con.execute(f"SELECT min(block_id) FROM pragma_storage_info('{table}') WHERE block_id >= 0").fetchall()[0][0]
        block_size = con.execute("SELECT block_size FROM pragma_database_size()").fetchall()[0][0]
    offset = 3 * 4096 + block * block_size + block_size // 2  # file header + 2 database headers, then blocks
    with open(wh, "r+b") as f:
        f.seek(offset)
        f.write(bytes(range(256)) * 16)
    return offset


def test_check_passes_a_sound_warehouse_and_lists_pending_months(gated):
    warehouse = gated
    r = cei("check", wh=warehouse)
    assert r.returncode == 0, r.stderr
    assert f"{warehouse}: sound;" in r.stdout and "counts add up" in r.stdout
    assert "pending  complaints: not gated yet: 2025-04" in r.stderr
    assert "PROBLEM" not in r.stderr


def test_check_calls_a_same_size_redelivery_pending_not_damage(gated, tmp_path, monkeypatch):
    """March re-delivered with as many records as before (one amount corrected): staging changed,
    the gate has not judged it yet — pending, not a broken count."""
    monkeypatch.setenv("CEI_PII_KEY", "test-key-0123456789abcdef0123456789abcdef")
    rows = _broken_two(complaint_rows(1000, seed=1))
    rows[0]["amount_disputed"] = "1.00"
    v2 = write_csv(tmp_path / "complaints_2025-03_v2.csv", rows)
    with duckdb.connect(str(gated)) as con:
        assert [r.status for r in ingest_paths(con, [v2], warehouse=gated)] == ["loaded"]
    r = cei("check", wh=gated)
    assert r.returncode == 0, r.stderr
    assert "PROBLEM" not in r.stderr
    assert "pending  complaints: staging changed since the gate ran (cei run re-gates): 2025-03" in r.stderr


def test_check_judges_a_copy_on_a_read_only_disk_by_what_it_holds(gated, tmp_path):
    """A warehouse on a read-only mount (a backup medium) is sound if its contents are: that the
    log cannot be written back is not damage."""
    disk = tmp_path / "ro"
    if not _mount_small_disk(disk, "64m"):
        pytest.skip("mounting a small tmpfs needs root or passwordless sudo")
    try:
        shutil.copy(gated, disk / "warehouse.duckdb")
        remount = ["mount", "-o", "remount,ro", str(disk)]
        subprocess.run((["sudo", "-n"] if os.geteuid() != 0 else []) + remount, check=True, capture_output=True)
        r = cei("check", wh=disk / "warehouse.duckdb")
        assert r.returncode == 0, r.stderr
        assert "PROBLEM" not in r.stderr and "sound;" in r.stdout
    finally:
        _unmount(disk)


@pytest.mark.parametrize("damage", ["overwrite_raw", "overwrite_staging", "truncate", "garbage_header"])
def test_check_finds_a_damaged_file_and_says_what_to_do(tmp_path, gated, damage):
    warehouse = gated
    copy = tmp_path / "copy.duckdb"
    shutil.copy(warehouse, copy)
    size = copy.stat().st_size
    if damage == "overwrite_raw":
        _overwrite_middle_of_table(copy, "raw.complaints")
    elif damage == "overwrite_staging":
        _overwrite_middle_of_table(copy, "staging.complaints")
    elif damage == "truncate":
        os.truncate(copy, size // 2)
    else:
        with open(copy, "r+b") as f:
            f.seek(8)
            f.write(b"\xff" * 64)
    r = cei("check", wh=copy)
    assert r.returncode == 1, r.stdout + r.stderr
    problems = [ln for ln in r.stderr.splitlines() if ln.startswith("PROBLEM")]
    assert len(problems) >= 1 and "Traceback" not in r.stderr
    if damage.startswith("overwrite"):
        table = "raw.complaints" if damage == "overwrite_raw" else "staging.complaints"
        assert problems[0].startswith(f"PROBLEM  {table} cannot be read in full: ")
        assert "checksum" in problems[0]
    elif damage == "truncate":  # the header is intact: the first table whose blocks are gone fails
        assert " cannot be read in full: " in problems[0] and "Could not read enough bytes" in problems[0]
    else:
        assert problems[0].startswith(f"PROBLEM  {copy}: cannot be opened: ")
    assert "restore from the last backup" in r.stderr and f"mv {copy} {copy}.damaged" in r.stderr
    assert f"cei --warehouse {copy} run --landing" in r.stderr
    assert copy.stat().st_size == (size // 2 if damage == "truncate" else size)  # never written to
    assert check_warehouse(warehouse).ok  # the original is fine


def test_check_finds_counts_that_do_not_add_up(gated):
    copy = gated
    with duckdb.connect(str(copy)) as con:
        load_a, load_b = [r[0] for r in con.execute("SELECT load_id FROM raw.load_log ORDER BY 1").fetchall()]
        g_clean, g_quar = con.execute("SELECT rows_clean, rows_quarantined FROM dq.runs "
                                      "WHERE partition_key = '2025-03'").fetchall()[0]
        assert g_clean + g_quar == 998 and g_clean > 0  # 1000 less two type rejects
        # a staging row lost (raw != staging + type rejects), a clean row lost (staging != clean + quarantine)
        con.execute("DELETE FROM staging.complaints WHERE load_id = $b AND source_row = 7", {"b": load_b})
        con.execute("DELETE FROM clean.complaints WHERE rowid = (SELECT min(rowid) FROM clean.complaints)")
        # raw rows of a load the log does not record as loaded
        con.execute("UPDATE raw.load_log SET status = 'failed' WHERE load_id = $b", {"b": load_b})
    res = check_warehouse(copy)
    assert not res.ok
    assert sorted(res.problems) == sorted([
        f"complaints load {load_b} (complaints_2025-04.csv) 2025-04: 1000 raw rows of a load raw.load_log does "
        "not record as loaded",
        f"complaints load {load_b} (complaints_2025-04.csv) 2025-04: raw 1000 != staging 999 + type rejects 0",
        f"complaints 2025-03: staging 998 != clean {g_clean - 1} + quarantined {g_quar} "
        f"(the gate wrote {g_clean} + {g_quar})",
    ]), res.problems
    assert load_a < load_b
    r = cei("check", wh=copy)
    assert r.returncode == 1 and r.stderr.count("PROBLEM") == 3
