"""Ingestion benchmark: N generated 12315 records in one CSV, loaded by `cei ingest` vs bare DuckDB.

    .venv/bin/python benchmarks/ingest.py [--records 1000000] [--encoding utf-8|gb18030] [--keep DIR]

Both sides run in fresh child processes on fresh warehouse files, so peak RSS is each side's own:
- baseline: ``CREATE TABLE t AS SELECT * FROM read_csv(file)`` (DuckDB's own sniffing and typing);
- pipeline: ``ingestion.loader.ingest_file`` — hash, encoding check, text read with rejects,
  lineage, raw insert, staging (typing, normalisation, masking, keyed hash), load log — on a
  connection with the pipeline's settings (``pipelines.settings.connect``: memory_limit 1200MB).
Prints one JSON line per side and the ratio (wall clock, and CPU time as a check when the box is
shared); paste the table into BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD_BASELINE = """
import duckdb, json, resource, sys, time
t, u0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
con = duckdb.connect(sys.argv[2])
n = con.execute("CREATE TABLE t AS SELECT * FROM read_csv($f)", {"f": sys.argv[1]}).fetchall()[0][0]
con.close()
u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"side": "duckdb read_csv", "rows": n, "seconds": time.perf_counter() - t,
                  "cpu_seconds": u.ru_utime + u.ru_stime - u0.ru_utime - u0.ru_stime, "peak_rss_mb": u.ru_maxrss / 1024}))
"""

CHILD_PIPELINE = """
import duckdb, json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from ingestion import loader
from pipelines.settings import connect
t, u0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
con = connect(sys.argv[2])
loader.open_warehouse(con)
r = loader.ingest_file(con, Path(sys.argv[1]), "benchmark-key-0123456789abcdef0123456789")
con.close()
assert r.status == "loaded", r.message
u = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"side": "cei ingest", "rows": r.rows_staged, "rejected": r.rows_rejected, "seconds": time.perf_counter() - t,
                  "cpu_seconds": u.ru_utime + u.ru_stime - u0.ru_utime - u0.ru_stime, "peak_rss_mb": u.ru_maxrss / 1024}))
"""


GENERATE = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from synthetic import GeneratorConfig, generate
generate(GeneratorConfig(scope="32", years=(2025,), records_per_year=int(sys.argv[1]), seed=11,
                         out_dir=Path(sys.argv[3]), encoding=sys.argv[2]))
"""


def make_input(records: int, encoding: str, workdir: Path) -> Path:
    target = workdir / f"complaints_{records}_{encoding}.csv"
    if target.exists():  # --keep DIR: reuse the input of an earlier run
        return target
    landing = workdir / "landing"
    # In a child process: Linux keeps a process's peak RSS across fork/exec, so a parent that had
    # generated the data itself would lend its peak to every measured child.
    subprocess.run([sys.executable, "-c", GENERATE, str(records), encoding, str(landing), str(ROOT)], check=True)
    parts = sorted(landing.glob("complaints_2025-*.csv"))
    with open(target, "wb") as out:
        for i, p in enumerate(parts):
            data = p.read_bytes()
            if i:  # drop the header of every file after the first
                data = data.split(b"\n", 1)[1]
            out.write(data)
    return target


def run_child(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--encoding", choices=["utf-8", "gb18030"], default="utf-8")
    ap.add_argument("--keep", type=Path, default=None, help="work folder to keep (default: a temp folder)")
    args = ap.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="cei_bench_"))
    workdir.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    csv_file = make_input(args.records, args.encoding, workdir)
    size_mb = csv_file.stat().st_size / 1e6
    print(f"input: {csv_file} ({size_mb:.0f} MB, {args.encoding}), generated in {time.perf_counter() - t:.0f}s", file=sys.stderr)
    results = []
    for code, name in ((CHILD_BASELINE, "baseline"), (CHILD_PIPELINE, "pipeline")):
        db = workdir / f"{name}.duckdb"
        db.unlink(missing_ok=True)
        res = run_child(code, str(csv_file), str(db), str(ROOT))
        res["rows_per_s"] = res["rows"] / res["seconds"]
        results.append(res)
        print(json.dumps(res))
    base, ours = results
    # CPU time (user + sys, all threads) moves less than wall time when the box is shared: its ratio is
    # a check on the wall-clock one, which is the figure the goal is about.
    print(f"\n| records | input | duckdb read_csv | cei ingest | ratio | peak RSS (duckdb / cei) | load avg |")
    print(f"|---|---|---|---|---|---|---|")
    print(f"| {args.records:,} | {size_mb:.0f} MB {args.encoding} | {base['seconds']:.2f} s ({base['rows_per_s']:,.0f} rows/s) | "
          f"{ours['seconds']:.2f} s ({ours['rows_per_s']:,.0f} rows/s) | {ours['seconds'] / base['seconds']:.2f}× "
          f"(CPU {ours['cpu_seconds'] / base['cpu_seconds']:.2f}×) | "
          f"{base['peak_rss_mb']:.0f} MB / {ours['peak_rss_mb']:.0f} MB | {os.getloadavg()[0]:.1f} |")


if __name__ == "__main__":
    main()
