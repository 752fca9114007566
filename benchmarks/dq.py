"""Data-quality benchmark: the whole complaints rulebook through the real gate vs one plain DuckDB SQL pass.

    .venv/bin/python benchmarks/dq.py [--records 1000000] [--keep DIR] [--threads N]

Input (not timed): ``records`` synthetic 12315 records for one year (scope 32, 2025, seed 11,
``defect_rate=0.02``, so about 2% of rows carry one injected defect of the generator's eight
families), written by ``synthetic.generate`` and loaded with ``ingestion.loader.ingest_paths`` into
a fresh warehouse (complaints files only: the rulebook of that table is what is measured). Each side
then runs in a fresh child process on its own copy of that warehouse, so peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is the side's own:

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

Prints one JSON line per side, then a markdown table row for BENCHMARKS.md. Both sides report the
same count of quarantined rows (checked).
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

CHILD_GATE = """
import duckdb, json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from data_quality import gate
con = duckdb.connect(sys.argv[1])
if int(sys.argv[3]):
    con.execute(f"SET threads = {int(sys.argv[3])}")
parts = gate.staged_partitions(con, "complaints")
rows = con.execute("SELECT count(*) FROM staging.complaints").fetchall()[0][0]
t = time.perf_counter()
res = gate.run_gate(con, "complaints", parts)
secs = time.perf_counter() - t
quar = sum(p.rows_quarantined for p in res.partitions)
flag = sum(p.rows_flagged for p in res.partitions)
viol = sum(p.violations for p in res.partitions)
assert all(p.reconciled for p in res.partitions)
con.close()
print(json.dumps({"side": "gate (run_gate, whole rulebook)", "rows": rows, "seconds": secs, "partitions": len(parts),
                  "quarantined": quar, "flagged": flag, "violations": viol,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CHILD_BASELINE = """
import duckdb, json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from data_quality import engine
from data_quality.rulebook import load_rulebook_full
con = duckdb.connect(sys.argv[1])
if int(sys.argv[3]):
    con.execute(f"SET threads = {int(sys.argv[3])}")
sys.path.insert(0, sys.argv[2] + "/benchmarks")
from dq import baseline_sql
rows = con.execute("SELECT count(*) FROM staging.complaints").fetchall()[0][0]
t = time.perf_counter()
engine.prepare(con)  # macros and reference tables: the gate pays this too
sql, n_where, n_query = baseline_sql(con, load_rulebook_full(), "staging.complaints")
out = con.execute(sql).fetchall()
secs = time.perf_counter() - t
quar = next(n for r, n in out if r == "*")
con.close()
print(json.dumps({"side": "baseline (one SQL pass, error rules)", "rows": rows, "seconds": secs, "quarantined": quar,
                  "where_rules": n_where, "query_rules": n_query, "by_rule": {r: n for r, n in out if r != "*"},
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
    cases = ", ".join(f"CASE WHEN ({_fill_where(engine, r, rb, relation, columns)}) THEN '{r.id}' END" for r in row_rules)
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


def _fill_where(engine, rule, rb, relation, columns) -> str:
    """The rule's predicate with its templates filled exactly as the engine fills them."""
    sql = engine.render(rule, rb, relation, columns)
    return sql.rsplit(" WHERE (", 1)[1][:-1]


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
    results = []
    for code, name in ((CHILD_BASELINE, "baseline"), (CHILD_GATE, "gate")):
        best = None
        for _ in range(max(args.repeat, 1)):
            db = workdir / f"{name}.duckdb"
            db.unlink(missing_ok=True)
            shutil.copyfile(source, db)  # a fresh warehouse per run (not timed)
            res = run_child(code, db, args.threads)
            db.unlink(missing_ok=True)
            if best is None or res["seconds"] < best["seconds"]:
                best = res
        best["rows_per_s"] = best["rows"] / best["seconds"]
        results.append(best)
        print(json.dumps(best, ensure_ascii=False))
    base, gate_res = results
    if base["quarantined"] != gate_res["quarantined"]:
        print(f"WARNING: baseline finds {base['quarantined']} bad rows, the gate quarantined {gate_res['quarantined']}",
              file=sys.stderr)
    ratio = gate_res["seconds"] / base["seconds"]
    cpu = os.cpu_count()
    print(f"\nload average before the runs: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {cpu} cores; "
          f"threads {args.threads or 'default'}", file=sys.stderr)
    print("\n| records | input | baseline: one SQL pass, error rules | gate: whole rulebook (run_gate) | ratio | "
          "peak RSS (baseline / gate) | quarantined | flagged |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {gate_res['rows']:,} | {size_mb:.0f} MB CSV, {gate_res['partitions']} months | {base['seconds']:.2f} s "
          f"({base['rows_per_s']:,.0f} rows/s) | {gate_res['seconds']:.2f} s ({gate_res['rows_per_s']:,.0f} rows/s) | "
          f"{ratio:.2f}× | {base['peak_rss_mb']:.0f} MB / {gate_res['peak_rss_mb']:.0f} MB | "
          f"{gate_res['quarantined']:,} | {gate_res['flagged']:,} |")


if __name__ == "__main__":
    main()
