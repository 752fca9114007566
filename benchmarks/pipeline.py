"""End-to-end benchmark: `cei run` (every stage through Dagster) on N generated records vs a bare DuckDB read.

    .venv/bin/python benchmarks/pipeline.py --records 100000 [--records 1000000 ...] [--scope 32]
                                            [--keep DIR] [--results benchmarks/pipeline_results.json]
                                            [--check-flat-memory] [--no-run]

For each N: the generator writes one year (2025) of scope's deliveries into a landing folder (not
timed, in a child process); then, in the same run,

- **baseline**: a fresh DuckDB file, ``CREATE TABLE AS SELECT * FROM read_csv(f)`` for every delivered
  CSV of the landing folder (DuckDB's own sniffing and typing; one persisted copy);
- **pipeline**: ``cei --warehouse W run --landing L --scope S`` in a child process (ingest, staging and
  the data-quality gate per month, indicators, index, reports) with a fresh warehouse and no
  ``DAGSTER_HOME`` (an ephemeral instance).

Per stage (from the lines ``cei run`` prints when a stage starts: ``[ingest]``, ``[staging +
quality]``, ``[index]``, ``[reports]``) it prints wall seconds and rows/s; peak RSS is the largest sum
of the resident memory of the whole ``cei`` process tree, sampled every 0.2 s with psutil (and the 1-minute
load average every 5 s: min / mean / max in the result; each stage's start is written into the run's log
with its time and load). The ratio
is the end-to-end time over the baseline. Each result is appended to ``--results`` (JSON lines) and
the chart ``benchmarks/pipeline_chart.svg`` (seconds and peak RSS against N, log scales) is redrawn
from every result recorded there. ``--check-flat-memory`` fails (exit 2) when the largest N's peak RSS
is over 1.2× that of the N nearest 1/10 of it (issue 12: memory must not grow with the data; with
10M recorded, 10M against 1M). ``--no-run`` runs nothing: it redraws the chart and checks the
latest recorded result per N.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
# `cei` of this checkout (not whatever the venv's console script points at)
CEI = [sys.executable, "-c", "import sys; from pipelines.cli import main; sys.argv[0] = 'cei'; main()"]
STAGES = ("[ingest]", "[staging + quality]", "[index]", "[reports]")
GENERATOR_METADATA = ("ground_truth", "region_traits", "manifest")  # as ingestion.loader: answers, not data

GENERATE = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from synthetic import GeneratorConfig, generate
generate(GeneratorConfig(scope=sys.argv[2], years=(2025,), records_per_year=int(sys.argv[1]), seed=11,
                         out_dir=Path(sys.argv[3])))
"""

BASELINE = """
import duckdb, json, resource, sys, time
files = json.loads(sys.argv[2])
t = time.perf_counter()
con = duckdb.connect(sys.argv[1])
rows = 0
for i, f in enumerate(files):
    rows += con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv($f)", {"f": f}).fetchall()[0][0]
con.close()
print(json.dumps({"rows": rows, "seconds": time.perf_counter() - t,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def deliveries(landing: Path) -> list[Path]:
    return sorted(p for p in landing.rglob("*.csv") if not p.name.startswith(GENERATOR_METADATA))


def generate(records: int, scope: str, landing: Path) -> None:
    if landing.is_dir() and deliveries(landing):
        return  # --keep DIR: reuse an earlier run's input
    subprocess.run([sys.executable, "-c", GENERATE, str(records), scope, str(landing), str(ROOT)], check=True)


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    try:
        tree = [proc, *proc.children(recursive=True)]
    except psutil.Error:  # the process just ended (the sampler thread must not die of it)
        return 0
    for p in tree:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass  # a child that just ended
    return total


def run_pipeline(landing: Path, warehouse: Path, scope: str, log: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.setdefault("CEI_PII_KEY", "benchmark-key-0123456789abcdef0123456789")
    env["PYTHONPATH"] = str(ROOT)
    cmd = [*CEI, "--warehouse", str(warehouse), "run", "--landing", str(landing)] + (["--scope", scope] if scope else [])
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            cwd=warehouse.parent)
    ps = psutil.Process(proc.pid)
    peak = [0]
    loads: list[float] = []  # 1-minute load average every 5 s: other work on the machine changes wall times
    done = threading.Event()

    def sample() -> None:
        i = 0
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(ps))
            if i % 25 == 0:
                loads.append(os.getloadavg()[0])
            i += 1
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    marks: dict[str, float] = {}
    with open(log, "w", encoding="utf-8") as out:
        for line in proc.stdout:
            out.write(line)
            for stage in STAGES:
                if line.startswith(stage) and stage not in marks:
                    marks[stage] = time.perf_counter() - start
                    # the log keeps the stage times even when the run is stopped before the end
                    out.write(f"[benchmark] {stage} started at {marks[stage]:.1f} s, "
                              f"{datetime.now(timezone.utc):%H:%M:%S} UTC, load {os.getloadavg()[0]:.1f}\n")
                    out.flush()
    code = proc.wait()
    total = time.perf_counter() - start
    done.set()
    sampler.join()
    stages, seen = {}, [s for s in STAGES if s in marks]
    for i, s in enumerate(seen):
        end = marks[seen[i + 1]] if i + 1 < len(seen) else total
        stages[s.strip("[]")] = end - marks[s]
    load = {"min": round(min(loads), 1), "mean": round(sum(loads) / len(loads), 1), "max": round(max(loads), 1)} if loads else None
    return {"exit": code, "seconds": total, "stages": stages, "peak_rss_mb": peak[0] / 2**20, "load_avg": load}


def count_rows(warehouse: Path) -> dict:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM raw.{t}").fetchall()[0][0]
                for t in ("complaints", "sampling_results", "hotline_stats", "region_profiles")}


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6 if path.is_dir() else path.stat().st_size / 1e6


def chart(results: list[dict], target: Path) -> None:
    """Seconds (end to end and baseline) and peak RSS against N, both axes log scale, as plain SVG."""
    if not results:
        return
    w, h, m = 720, 420, 60
    ns = [r["records"] for r in results]
    ys = [v for r in results for v in (r["pipeline"]["seconds"], r["baseline"]["seconds"])]
    mem = [r["pipeline"]["peak_rss_mb"] / 1024 for r in results]
    lo_n, hi_n = math.log10(min(ns)) - 0.2, math.log10(max(ns)) + 0.2
    lo_y, hi_y = math.floor(math.log10(min(ys + mem))), math.ceil(math.log10(max(ys + mem)))
    hi_y = max(hi_y, lo_y + 1)
    x = lambda n: m + (math.log10(n) - lo_n) / (hi_n - lo_n) * (w - 2 * m)  # noqa: E731
    y = lambda v: h - m - (math.log10(max(v, 10 ** lo_y)) - lo_y) / (hi_y - lo_y) * (h - 2 * m)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
             f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">cei run end to end vs bare DuckDB read '
             f'(log scales)</text>']
    for k in range(lo_y, hi_y + 1):
        parts.append(f'<line x1="{m}" x2="{w - m}" y1="{y(10 ** k):.1f}" y2="{y(10 ** k):.1f}" stroke="#ddd"/>'
                     f'<text x="{m - 6}" y="{y(10 ** k) + 4:.1f}" text-anchor="end">{10 ** k:g}</text>')
    for n in sorted(set(ns)):
        parts.append(f'<line x1="{x(n):.1f}" x2="{x(n):.1f}" y1="{m}" y2="{h - m}" stroke="#eee"/>'
                     f'<text x="{x(n):.1f}" y="{h - m + 16}" text-anchor="middle">{n:,}</text>')
    parts.append(f'<text x="{w / 2}" y="{h - 14}" text-anchor="middle">records (N)</text>')
    series = (("cei run, seconds", "#1f77b4", [r["pipeline"]["seconds"] for r in results]),
              ("bare read_csv, seconds", "#7f7f7f", [r["baseline"]["seconds"] for r in results]),
              ("cei run peak RSS, GB", "#d62728", mem))
    order = sorted(range(len(ns)), key=lambda i: ns[i])
    for j, (label, colour, vals) in enumerate(series):
        pts = " ".join(f"{x(ns[i]):.1f},{y(vals[i]):.1f}" for i in order)
        parts.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [f'<circle cx="{x(ns[i]):.1f}" cy="{y(vals[i]):.1f}" r="3" fill="{colour}"/>' for i in order]
        parts.append(f'<rect x="{m + 10}" y="{m + 4 + 18 * j}" width="12" height="3" fill="{colour}"/>'
                     f'<text x="{m + 28}" y="{m + 9 + 18 * j}">{label}</text>')
    parts.append("</svg>")
    target.write_text("\n".join(parts), encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, action="append", help="N (repeatable); default 100000")
    ap.add_argument("--scope", default="32")
    ap.add_argument("--keep", type=Path, default=None, help="work folder to keep (inputs are reused)")
    ap.add_argument("--results", type=Path, default=ROOT / "benchmarks" / "pipeline_results.json")
    ap.add_argument("--chart", type=Path, default=ROOT / "benchmarks" / "pipeline_chart.svg")
    ap.add_argument("--check-flat-memory", action="store_true")
    ap.add_argument("--no-run", action="store_true", help="run nothing: redraw the chart and check the recorded results")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="cei_pipeline_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    results_this_run: list[dict] = []
    for n in [] if args.no_run else args.records or [100_000]:
        case = work / f"{args.scope}_{n}"
        landing = case / "landing"
        t = time.perf_counter()
        generate(n, args.scope, landing)
        files = deliveries(landing)
        print(f"input: {len(files)} files, {disk_mb(landing):.0f} MB (generated in {time.perf_counter() - t:.0f}s)",
              file=sys.stderr)
        base_db = case / "baseline.duckdb"
        base_db.unlink(missing_ok=True)
        out = subprocess.run([sys.executable, "-c", BASELINE, str(base_db), json.dumps([str(f) for f in files])],
                             capture_output=True, text=True, check=True)
        baseline = json.loads(out.stdout.strip().splitlines()[-1])
        wh = case / "warehouse.duckdb"
        for leftover in case.glob("warehouse.duckdb*"):
            leftover.unlink()
        load = os.getloadavg()[0]
        pipe = run_pipeline(landing, wh, args.scope, case / "cei_run.log")
        rows = count_rows(wh)
        pipe["rows"] = sum(rows.values())
        pipe["warehouse_mb"] = disk_mb(wh)
        result = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"), "records": n, "scope": args.scope,
                  "load_avg_at_start": round(load, 1), "raw_rows": rows, "baseline": baseline, "pipeline": pipe,
                  "ratio": pipe["seconds"] / baseline["seconds"]}
        print(json.dumps(result, ensure_ascii=False))
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in pipe["stages"].items())
        print(f"| {n:,} | {args.scope} | {baseline['seconds']:.1f} s | {pipe['seconds']:.1f} s "
              f"({pipe['rows'] / pipe['seconds']:,.0f} rows/s) | {result['ratio']:.1f}× | {pipe['peak_rss_mb']:,.0f} MB | "
              f"{stages} | exit {pipe['exit']} | {load:.1f} at the start"
              + (f", {pipe['load_avg']['min']}–{pipe['load_avg']['max']} (mean {pipe['load_avg']['mean']}) during |"
                 if pipe["load_avg"] else " |"))
        results_this_run.append(result)
        with open(args.results, "a", encoding="utf-8") as f:
            f.write(json.dumps(result, ensure_ascii=False) + "\n")
    recorded = [json.loads(line) for line in args.results.read_text(encoding="utf-8").splitlines() if line.strip()]
    latest = {}
    for r in recorded:  # the latest result per (scope, N)
        latest[(r["scope"], r["records"])] = r
    # only runs that finished: a failed run's seconds and memory stop where it failed
    chart([r for (s, _), r in sorted(latest.items()) if s == args.scope and r["pipeline"]["exit"] == 0], args.chart)
    print(f"chart: {args.chart}", file=sys.stderr)
    if args.check_flat_memory:
        mine = sorted((r for (s, _), r in latest.items() if s == args.scope), key=lambda r: r["records"])
        big = mine[-1]
        ref = min(mine[:-1], key=lambda r: abs(math.log10(r["records"] * 10 / big["records"])), default=None)
        if ref is None:
            print("flat memory: need two sizes", file=sys.stderr)
            return 2
        ratio = big["pipeline"]["peak_rss_mb"] / ref["pipeline"]["peak_rss_mb"]
        print(f"flat memory: peak RSS at {big['records']:,} is {ratio:.2f}× that at {ref['records']:,} (limit 1.2×)")
        failed = [f"{r['records']:,} (exit {r['pipeline']['exit']})" for r in (ref, big) if r["pipeline"]["exit"] != 0]
        if failed:  # a run that stopped early never reached its hungriest stages: its peak proves nothing
            print(f"flat memory: not shown, the run failed at {', '.join(failed)}", file=sys.stderr)
            return 2
        if ratio > 1.2:
            return 2
    # a failed pipeline run is a failed benchmark, whatever its numbers
    return 0 if all(r["pipeline"]["exit"] == 0 for r in results_this_run) else 1


if __name__ == "__main__":
    sys.exit(main())
