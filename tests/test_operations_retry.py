"""Writing assets retry on a busy warehouse with backoff: another process holds DuckDB's lock longer
than the connection timeout, the step is retried (not failed) and the run succeeds."""
from __future__ import annotations

import subprocess
import sys
import time

import dagster as dg
import duckdb

from assets.ingest import landing_files
from pipelines.resources import is_transient, warehouse_resource
from pipelines.settings import WarehouseBusy
from tests.helpers import complaint_rows, write_csv

HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE IF NOT EXISTS holder(x INT)")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def test_a_run_waits_out_a_lock_held_longer_than_the_connection_timeout(tmp_path, warehouse):
    landing = tmp_path / "landing"
    landing.mkdir()
    write_csv(landing / "complaints_2025-03.csv", complaint_rows(8))
    hold = 6.0  # longer than a cold start of the run, so the first attempt surely meets the lock
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(warehouse), str(hold)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        # each attempt waits 0.3 s for the lock (< the hold); retries after 0.5, 1, 2, 4, 8 s
        resource = warehouse_resource(str(warehouse), connect_timeout=0.3, lock_retries=5, retry_delay=0.5)
        result = dg.materialize([landing_files], resources={"duckdb": resource}, raise_on_error=False,
                                run_config={"ops": {"raw__landing_files": {"config": {"landing_dir": str(landing)}}}})
        took = time.monotonic() - started
    finally:
        holder.wait(timeout=30)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    retries = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert retries, "the step never met the lock: the test proves nothing"
    assert took >= hold - 0.3  # it did wait for the holder
    assert result.asset_materializations_for_node("raw__landing_files")[0].metadata["rows_raw"].value == 8
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.complaints").fetchall()[0][0] == 8


def test_a_lock_held_past_every_retry_fails_the_run_naming_the_holder(tmp_path, warehouse):
    landing = tmp_path / "landing"
    landing.mkdir()
    write_csv(landing / "complaints_2025-03.csv", complaint_rows(3))
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(warehouse), "20"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        resource = warehouse_resource(str(warehouse), connect_timeout=0.2, lock_retries=1, retry_delay=0.2)
        result = dg.materialize([landing_files], resources={"duckdb": resource}, raise_on_error=False,
                                run_config={"ops": {"raw__landing_files": {"config": {"landing_dir": str(landing)}}}})
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    assert "is in use by PID" in (error.cause or error).message


def test_only_a_busy_warehouse_or_an_io_error_is_retried():
    import errno

    assert is_transient(WarehouseBusy("warehouse x is in use by PID 1"))
    assert is_transient(OSError(errno.EIO, "Input/output error"))
    assert not is_transient(OSError(errno.ENOSPC, "No space left on device"))
    assert not is_transient(ValueError("bad spec"))
    assert not is_transient(dg.Failure("held back"))
