"""Run ``lake_job`` (the partitioned path) from a shell, through its multiprocess executor:

    python -m pipelines.lake_run --landing data/landing_by_region --lake data/lake [--max-concurrent 2]
                                 [--scope 32] [--period 2025]

Uses the instance of ``DAGSTER_HOME`` when it is set (the run shows in the UI), else a temporary one
(the multiprocess executor needs an instance on disk). Prints one line per step and the combine's
counts; exit 1 when the run failed (a refused file, a held-back index period).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from contextlib import ExitStack


def _job():
    from assets.lake import lake_job

    return lake_job


def main(argv: list[str] | None = None) -> int:
    import dagster as dg

    ap = argparse.ArgumentParser(prog="python -m pipelines.lake_run", description=__doc__.split("\n")[0])
    ap.add_argument("--landing", default="", help="landing folder; sub-folders are regions (default CEI_LANDING)")
    ap.add_argument("--lake", default="", help="the Parquet lake (default CEI_LAKE, else data/lake)")
    ap.add_argument("--warehouse", default="", help="the lake's warehouse (default <lake>/warehouse.duckdb)")
    ap.add_argument("--scope", default="")
    ap.add_argument("--period", action="append", default=[])
    ap.add_argument("--max-concurrent", type=int, default=0, help="steps at a time (default: the number of cores)")
    args = ap.parse_args(argv)
    config = {"landing_dir": args.landing, "lake_dir": args.lake, "warehouse": args.warehouse,
              "scope": args.scope, "periods": args.period}
    run_config = {"ops": {"lake_plan": {"config": config}},
                  "execution": {"config": {"max_concurrent": args.max_concurrent}},
                  "loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    with ExitStack() as stack:
        if os.environ.get("DAGSTER_HOME"):
            instance = stack.enter_context(dg.DagsterInstance.get())
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="cei_lake_dagster_"))
            instance = stack.enter_context(dg.instance_for_test(temp_dir=tmp))
        result = stack.enter_context(dg.execute_job(dg.reconstructable(_job), instance=instance,
                                                    run_config=run_config, raise_on_error=False))
        for event in result.all_events:
            if event.event_type_value == "STEP_SUCCESS":
                print(f"  {event.step_key}: {event.event_specific_data.duration_ms / 1000:.1f} s")
        if result.success:
            out = result.output_for_node("lake_combine")
            print(json.dumps({"tables": out["tables"], "cross_findings": out["cross_findings"],
                              "index": out["index"], "combine_seconds": out["seconds"]}, ensure_ascii=False))
        else:
            for e in result.all_events:
                if e.is_step_failure:
                    print(f"failed: {e.step_key}: {e.event_specific_data.error.message.strip().splitlines()[0]}",
                          file=sys.stderr)
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main())
