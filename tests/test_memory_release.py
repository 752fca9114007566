"""Memory DuckDB frees goes back to the system (issue 12, flat memory); no progress bar in a log.

DuckDB allocates through its own jemalloc, which by default keeps freed pages: at the national year the
report process grew to 3.9 GB resident while DuckDB itself held under its 1.2 GB limit, one report's freed
pages after another's. ``pipelines.settings`` makes jemalloc hand them back within a second. Measured here
in a child process (jemalloc reads its settings once per process), against jemalloc's own defaults."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import os, sys, time
import psutil
mode, db = sys.argv[1], sys.argv[2]
if mode == "jemalloc-defaults":  # set before pipelines.settings, which leaves a value already set alone
    os.environ["DUCKDB_JE_MALLOC_CONF"] = "dirty_decay_ms:10000,muzzy_decay_ms:0"
import duckdb
from pipelines.settings import connect
con = connect(db) if mode == "project" else duckdb.connect(db, config={"memory_limit": "1200MB"})
con.execute("SET enable_progress_bar = false")  # a slow machine's progress bar would print into stdout
rss = lambda: psutil.Process().memory_info().rss
before = rss()
con.execute("CREATE TEMP TABLE w AS SELECT i, md5(i::VARCHAR) AS s FROM range(4000000) r(i)")
con.execute("SELECT s, count(*) FROM w GROUP BY s ORDER BY 2 DESC LIMIT 3").fetchall()
con.execute("SELECT * FROM w ORDER BY s LIMIT 3").fetchall()
con.execute("DROP TABLE w")
busy = rss() - before
time.sleep(3)  # Python alone at work: nothing allocates in DuckDB meanwhile
held = con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()[0]
print("probe:", busy // 2**20, (rss() - before) // 2**20, held // 2**20)
"""


def _probe(mode: str, tmp_path: Path) -> tuple[int, int, int]:
    """(MB resident gained right after the work, MB still gained 3 s later, MB DuckDB says it holds)."""
    out = subprocess.run([sys.executable, "-c", PROBE, mode, str(tmp_path / f"{mode}.duckdb")], cwd=ROOT,
                         capture_output=True, text=True, check=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("probe:")][-1]
    busy, after, held = (int(x) for x in line.split()[1:])
    return busy, after, held


def test_freed_duckdb_memory_is_returned_to_the_system_not_kept(tmp_path):
    busy, after, held = _probe("project", tmp_path)
    d_busy, d_after, d_held = _probe("jemalloc-defaults", tmp_path)
    # the work grew both processes alike, and DuckDB holds nothing once the table is dropped
    assert busy > 300 and d_busy > 300, (busy, d_busy)
    assert held < 50 and d_held < 50, (held, d_held)
    # with jemalloc's defaults most of it stays resident (the trap); with the project's settings it is returned
    assert d_after > 300, f"jemalloc's defaults kept only {d_after} MB: the probe no longer shows the trap"
    assert after < 100, f"{after} MB still resident 3 s after the work, with DuckDB holding {held} MB"


def test_no_progress_bar_in_a_scheduled_runs_output(tmp_path):
    """A connection of a process whose output is not a terminal (a scheduled run, its log) has DuckDB's progress
    bar off: the 44M run's log held 2,988 bar lines."""
    code = ("import sys; from pipelines.settings import connect; "
            "print(connect(sys.argv[1]).execute(\"SELECT current_setting('enable_progress_bar')\").fetchone()[0])")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "w.duckdb")], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert out.stdout.strip() == "False"
