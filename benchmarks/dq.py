"""Data-quality benchmark: the whole complaints rulebook through the real gate vs one plain DuckDB SQL pass.

    .venv/bin/python benchmarks/dq.py [--records 1000000] [--keep DIR] [--threads N] [--repeat N]

Input (not timed): ``records`` synthetic 12315 records for one year (scope 32, 2025, seed 11,
``defect_rate=0.02``, so about 2% of rows carry one injected defect of the generator's eight
families), written by ``synthetic.generate`` and loaded with ``ingestion.loader.ingest_paths`` into
a fresh warehouse (complaints files only: the rulebook of that table is what is measured). Each side
then runs in a fresh child process on its own copy of that warehouse, so peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is the side's own. As in benchmarks/ingest.py the
gate gets the pipeline's connection (``pipelines.settings.connect``: memory_limit 1200MB unless
``CEI_DUCKDB_MEMORY_LIMIT``), the baseline a plain ``duckdb.connect`` (DuckDB's defaults):

- **gate** — ``data_quality.gate.run_gate(con, "complaints", <every staged month>)``: every enabled
  complaints rule of ``rules.yaml`` (error and warn; row rules in one scan, whole-table rules —
  duplicates, statutory deadlines on the working-day calendar — each as its query), then in one
  transaction ``dq.rule_results``, ``dq.quarantine`` (with the row as JSON), ``clean.complaints``
  (with the warn flags) and ``dq.runs`` with the staged = clean + quarantined reconciliation.
- **baseline** — ONE plain SQL statement over ``staging.complaints`` on a connection with the same
  macros (``engine.prepare``): a CTE computing, per row, ``list_filter([CASE WHEN <where> THEN
  '<rule id>' END, ...])`` over the ``where`` predicates of the *error* row rules (templates filled
  exactly as the engine fills them), ``UNION ALL`` the *error* ``query`` rules as they are
  (CMP-DUP-001 duplicate record ids, CMP-DUP-002 cross-channel duplicates), aggregated to
  ``count(DISTINCT row_ref)`` and violations per rule. It writes nothing, keeps no detail text,
  runs no warn rule and no deadline rule (all deadline rules are warn): it is the floor for
  "find the bad rows", not an equivalent of the gate.

Both sides time from a fresh connection to the finished result, including ``engine.prepare`` (macros,
region and calendar tables, ~0.5 s) and loading the rulebook. ``--repeat N`` alternates the sides N
times and keeps each side's fastest run (the machine may be shared: the load average is printed).
Every run goes to stderr as JSON (wall and CPU seconds; for the gate also the time spent in
``engine.evaluate`` and its row scan — the rest is writing); stdout gets the best runs and a markdown
table row for BENCHMARKS.md. Both sides must find the same rows (a warning says otherwise).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_KEY = "benchmark-key-0123456789abcdef0123456789"

CHILD_PRELUDE = """
import duckdb, json, resource, sys, time
sys.path.insert(0, sys.argv[2])
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
if PIPELINE_SETTINGS:
    from pipelines.settings import connect
    con = connect(sys.argv[1])
else:
    con = duckdb.connect(sys.argv[1])
con.execute("SET enable_progress_bar = false")
memory_limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
if int(sys.argv[3]):
    con.execute(f"SET threads = {int(sys.argv[3])}")
rows = con.execute("SELECT count(*) FROM staging.complaints").fetchall()[0][0]
"""

CHILD_GATE = "PIPELINE_SETTINGS = True" + CHILD_PRELUDE + """
from data_quality import engine, gate
evaluate, spent = engine.evaluate, {}
def timed(*a, **k):  # how much of the gate is rule evaluation (the rest: writing results, quarantine, clean)
    t0 = time.perf_counter(); r = evaluate(*a, **k); spent["evaluate"] = time.perf_counter() - t0
    spent["row_scan"] = r.attrs.get("row_scan_seconds"); return r
engine.evaluate = timed
parts = gate.staged_partitions(con, "complaints")
c0, t = cpu(), time.perf_counter()
res = gate.run_gate(con, "complaints", parts)
secs, cpu_s = time.perf_counter() - t, cpu() - c0
assert all(p.reconciled for p in res.partitions)
con.close()
print(json.dumps({"side": "gate (run_gate, whole rulebook)", "rows": rows, "seconds": secs, "cpu_seconds": cpu_s,
                  "evaluate_seconds": spent.get("evaluate"), "row_scan_seconds": spent.get("row_scan"),
                  "memory_limit": memory_limit, "partitions": len(parts), "quarantined": sum(p.rows_quarantined for p in res.partitions),
                  "flagged": sum(p.rows_flagged for p in res.partitions),
                  "violations": sum(p.violations for p in res.partitions),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CHILD_BASELINE = "PIPELINE_SETTINGS = False" + CHILD_PRELUDE + """
from data_quality import engine
from data_quality.rulebook import load_rulebook_full
sys.path.insert(0, sys.argv[2] + "/benchmarks")
from dq import baseline_sql
c0, t = cpu(), time.perf_counter()
engine.prepare(con)  # macros and reference tables: the gate pays this too
sql, n_where, n_query = baseline_sql(con, load_rulebook_full(), "staging.complaints")
out = con.execute(sql).fetchall()
secs, cpu_s = time.perf_counter() - t, cpu() - c0
con.close()
print(json.dumps({"side": "baseline (one SQL pass, error rules)", "rows": rows, "seconds": secs, "cpu_seconds": cpu_s,
                  "memory_limit": memory_limit,
                  "quarantined": next(n for r, n in out if r == "*"), "where_rules": n_where, "query_rules": n_query,
                  "by_rule": {r: n for r, n in out if r != "*"},
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def baseline_sql(con, rb, relation: str) -> tuple[str, int, int]:
    """The baseline statement: error ``where`` rules in one CASE list, error ``query`` rules as they are.

    Returns (sql, number of where rules, number of query rules). Result rows: (rule_id, violations)
    per rule and ('*', distinct rows hit by any error rule)."""
    from data_quality import engine

    columns = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    errors = [r for r in rb.for_table("complaints") if r.severity == "error"]
    row_rules = [r for r in errors if r.where is not None]
    table_rules = [r for r in errors if r.where is None]
    row_ref = "CAST(load_id AS VARCHAR) || ':' || CAST(source_row AS VARCHAR)"
    cases = ", ".join(f"CASE WHEN ({engine._filler(r, rb, relation, columns)(r.where)}) THEN '{r.id}' END"
                      for r in row_rules)
    rel, _ = engine._quote_relation(relation)
    parts = [f"""SELECT {row_ref} AS row_ref, unnest(hits) AS rule_id FROM (
                   SELECT load_id, source_row, list_filter([{cases}], lambda x: x IS NOT NULL) AS hits FROM {rel})
                 WHERE len(hits) > 0"""]
    for r in table_rules:
        parts.append(f"SELECT row_ref, '{r.id}' AS rule_id FROM ({engine.render(r, rb, relation, columns)})")
    union = "\nUNION ALL\n".join(parts)
    sql = f"""WITH hits AS ({union})
              SELECT rule_id, count(*) FROM hits GROUP BY rule_id
              UNION ALL SELECT '*', count(DISTINCT row_ref) FROM hits"""
    return sql, len(row_rules), len(table_rules)


def make_warehouse(records: int, workdir: Path) -> tuple[Path, float]:
    """Generate and ingest once into ``workdir/source.duckdb`` (reused when present); returns (path, MB of CSV)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("CEI_PII_KEY", BENCH_KEY)
    source = workdir / "source.duckdb"
    marker = workdir / f"source.{records}.ok"
    landing = workdir / "landing"
    if source.exists() and marker.exists():
        return source, sum(p.stat().st_size for p in landing.glob("complaints_*.csv")) / 1e6
    import duckdb

    from ingestion.loader import ingest_paths
    from synthetic import GeneratorConfig, generate

    t = time.perf_counter()
    generate(GeneratorConfig(scope="32", years=(2025,), records_per_year=records, seed=11, out_dir=landing,
                             defect_rate=0.02))
    files = sorted(landing.glob("complaints_*.csv"))
    print(f"generated {len(files)} complaints files in {time.perf_counter() - t:.0f}s", file=sys.stderr)
    t = time.perf_counter()
    source.unlink(missing_ok=True)
    with duckdb.connect(str(source)) as con:
        results = ingest_paths(con, files, warehouse=source)
        bad = [r.message for r in results if r.status != "loaded"]
        if bad:
            raise RuntimeError(f"ingestion failed: {bad}")
    print(f"ingested in {time.perf_counter() - t:.0f}s", file=sys.stderr)
    marker.write_text("ok")
    return source, sum(p.stat().st_size for p in files) / 1e6


def run_child(code: str, db: Path, threads: int) -> dict:
    env = {**os.environ, "CEI_PII_KEY": os.environ.get("CEI_PII_KEY", BENCH_KEY)}
    out = subprocess.run([sys.executable, "-c", code, str(db), str(ROOT), str(threads)], capture_output=True,
                         text=True, env=env)
    if out.returncode:
        raise RuntimeError(f"child failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, default=None,
                    help="work folder to keep; a second run reuses its generated and ingested warehouse")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads in both children (0 = DuckDB's default)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per side (the fastest is reported)")
    args = ap.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="cei_dq_bench_"))
    workdir.mkdir(parents=True, exist_ok=True)
    source, size_mb = make_warehouse(args.records, workdir)
    load = os.getloadavg()
    best: dict[str, dict] = {}
    for _ in range(max(args.repeat, 1)):  # sides alternate, so a load change hits both
        for code, name in ((CHILD_BASELINE, "baseline"), (CHILD_GATE, "gate")):
            db = workdir / f"{name}.duckdb"
            db.unlink(missing_ok=True)
            shutil.copyfile(source, db)  # a fresh warehouse per run (not timed)
            res = run_child(code, db, args.threads)
            db.unlink(missing_ok=True)
            print(json.dumps(res, ensure_ascii=False), file=sys.stderr)
            if name not in best or res["seconds"] < best[name]["seconds"]:
                best[name] = res
    base, gate_res = best["baseline"], best["gate"]
    for r in (base, gate_res):
        r["rows_per_s"] = r["rows"] / r["seconds"]
        print(json.dumps(r, ensure_ascii=False))
    if base["quarantined"] != gate_res["quarantined"]:
        print(f"WARNING: baseline finds {base['quarantined']} bad rows, the gate quarantined {gate_res['quarantined']}",
              file=sys.stderr)
    ratio = gate_res["seconds"] / base["seconds"]
    cpu_ratio = gate_res["cpu_seconds"] / base["cpu_seconds"]
    after = os.getloadavg()
    print(f"\nload average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, after {after[0]:.2f} {after[1]:.2f} "
          f"{after[2]:.2f}, {os.cpu_count()} cores; DuckDB threads {args.threads or 'default'}; "
          f"best of {max(args.repeat, 1)} per side", file=sys.stderr)
    ev = gate_res.get("evaluate_seconds") or 0.0
    print("\n| records | input | baseline: one SQL pass, error rules | gate: whole rulebook (run_gate) | ratio (wall) | "
          "ratio (CPU) | of which rule evaluation | peak RSS (baseline / gate) | quarantined | flagged |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {gate_res['rows']:,} | {size_mb:.0f} MB CSV, {gate_res['partitions']} months | {base['seconds']:.2f} s "
          f"({base['rows_per_s']:,.0f} rows/s) | {gate_res['seconds']:.2f} s ({gate_res['rows_per_s']:,.0f} rows/s) | "
          f"{ratio:.2f}× | {cpu_ratio:.2f}× | {ev:.2f} s (row scan {gate_res.get('row_scan_seconds') or 0:.2f} s) | "
          f"{base['peak_rss_mb']:.0f} MB / {gate_res['peak_rss_mb']:.0f} MB | "
          f"{gate_res['quarantined']:,} | {gate_res['flagged']:,} |")


if __name__ == "__main__":
    main()
