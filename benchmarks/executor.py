"""Per-step start-up cost of Dagster's executors (issue 11 point 9).

    .venv/bin/python benchmarks/executor.py [--steps 6] [--repeats 2]

Runs the same chain of ``--steps`` trivial assets (each takes the ``duckdb`` pool, as every writing
asset of the pipeline does) as two jobs on a temporary Dagster instance: one with the in-process
executor, one with the multiprocess executor (Dagster's default for jobs launched from the UI, a
schedule or a sensor). The module imports the project's code location, as a real step process does
when it starts, so the multiprocess figure includes loading it. Prints wall seconds per run and per
step for each executor, and the difference per step: the start-up cost a step pays in its own process.

The pipeline's writing steps can never run in parallel (one DuckDB writer, the ``duckdb`` pool of 1),
so a separate process per step buys no parallelism; what it costs is this figure per step.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dagster as dg  # noqa: E402

import pipelines.definitions  # noqa: E402,F401  (what a step process loads before it runs)

STEPS = int(os.environ.get("CEI_EXECUTOR_BENCH_STEPS", "6"))


def _chain(n: int) -> list[dg.AssetsDefinition]:
    out: list[dg.AssetsDefinition] = []
    for i in range(n):
        deps = [out[-1]] if out else []

        @dg.asset(name=f"step_{i}", deps=deps, pool="duckdb", group_name="executor_bench")
        def _step() -> None:
            return None

        out.append(_step)
    return out


ASSETS = _chain(STEPS)
DEFS = dg.Definitions(assets=ASSETS, jobs=[
    dg.define_asset_job("chain_in_process", selection=ASSETS, executor_def=dg.in_process_executor),
    dg.define_asset_job("chain_multiprocess", selection=ASSETS, executor_def=dg.multiprocess_executor),
])


def in_process_job():
    return DEFS.get_job_def("chain_in_process")


def multiprocess_job():
    return DEFS.get_job_def("chain_multiprocess")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=STEPS)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args(argv)
    if args.steps != STEPS:  # the step processes rebuild the job from this module: pass the count on
        os.environ["CEI_EXECUTOR_BENCH_STEPS"] = str(args.steps)
        os.execv(sys.executable, [sys.executable, __file__, "--steps", str(args.steps), "--repeats", str(args.repeats)])
    results: dict[str, list[float]] = {"in_process": [], "multiprocess": []}
    with tempfile.TemporaryDirectory() as home:
        with dg.DagsterInstance.local_temp(home) as instance:
            for _ in range(args.repeats):
                for name, fn in (("in_process", in_process_job), ("multiprocess", multiprocess_job)):
                    t = time.perf_counter()
                    with dg.execute_job(dg.reconstructable(fn), instance=instance) as res:
                        ok = res.success
                    seconds = time.perf_counter() - t
                    if not ok:
                        print(f"{name}: run failed", file=sys.stderr)
                        return 1
                    results[name].append(seconds)
                    print(f"{name:12s} run {seconds:6.2f} s  ({seconds / args.steps:5.2f} s a step)  load {os.getloadavg()[0]:.1f}",
                          flush=True)
    inp, mp = (statistics.median(results[k]) for k in ("in_process", "multiprocess"))
    print(f"\n| steps | in-process run | multiprocess run | start-up per step (multiprocess − in-process) | load avg |")
    print("|---|---|---|---|---|")
    print(f"| {args.steps} | {inp:.2f} s | {mp:.2f} s | {(mp - inp) / args.steps:.2f} s | {os.getloadavg()[0]:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
