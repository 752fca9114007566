"""A snapshot of the code location: every asset (group, deps, partitions, checks, pool), job,
schedule and sensor, compared with tests/data/dagster/definitions_snapshot.json. A change to the
graph fails here until the snapshot is rewritten on purpose:

    CEI_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest tests/test_dagster_snapshot.py
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from pipelines.definitions import defs

SNAPSHOT = Path(__file__).parent / "data" / "dagster" / "definitions_snapshot.json"


def _partitions(pdef) -> str | None:
    if pdef is None:
        return None
    if isinstance(pdef, dg.TimeWindowPartitionsDefinition):
        return f"{type(pdef).__name__}(cron={pdef.cron_schedule}, start={pdef.start.date()}, end_offset={pdef.end_offset})"
    if isinstance(pdef, dg.MultiPartitionsDefinition):
        return "Multi(" + ", ".join(f"{d.name}={_partitions(d.partitions_def)}" for d in pdef.partitions_defs) + ")"
    if isinstance(pdef, dg.DynamicPartitionsDefinition):
        return f"Dynamic({pdef.name})"
    return type(pdef).__name__


def snapshot() -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets_def = defs.get_assets_def(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "partitions": _partitions(node.partitions_def),
            "pool": next(iter(assets_def.op.pools), None) if assets_def.op.pools else None,
            "backfill_policy": str(assets_def.backfill_policy.policy_type.value) if assets_def.backfill_policy else None,
            "kinds": sorted(node.kinds),
            "automation": node.automation_condition.get_label() if node.automation_condition else None,
            "resources": sorted(assets_def.required_resource_keys),
            "checks": {spec.name: {"blocking": spec.blocking, "partitions": _partitions(spec.partitions_def)}
                       for spec in sorted(assets_def.check_specs, key=lambda s: s.name) if spec.asset_key == key},
        }
    jobs = {}
    for job in sorted(defs.jobs, key=lambda j: j.name):
        resolved = defs.resolve_job_def(job.name)
        jobs[job.name] = sorted(k.to_user_string() for k in resolved.asset_layer.executable_asset_keys)
    schedules = {s.name: {"cron": s.cron_schedule, "timezone": s.execution_timezone, "job": s.job_name,
                          "default_status": s.default_status.value}
                 for s in sorted(defs.schedules, key=lambda s: s.name)}
    sensors = {s.name: {"default_status": s.default_status.value,
                        "jobs": sorted(t.job_name for t in s.targets)}
               for s in sorted(defs.sensors, key=lambda s: s.name)}
    return {"assets": assets, "jobs": jobs, "schedules": schedules, "sensors": sensors,
            "resources": sorted(defs.resources)}


def test_the_code_location_matches_its_snapshot():
    current = snapshot()
    if os.environ.get("CEI_UPDATE_SNAPSHOT"):
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    stored = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert current == stored, "the Dagster definitions changed: review, then CEI_UPDATE_SNAPSHOT=1 (see the docstring)"


def test_every_writing_asset_takes_the_duckdb_pool_and_every_check_is_named():
    current = snapshot()
    assert {a: v["pool"] for a, v in current["assets"].items() if v["pool"] != "duckdb"} == {}
    assert set(current["assets"]["mart/index_scores"]["checks"]) == {
        "no_nan_scores", "at_least_two_regions", "expected_regions_present", "weights_sum_to_one"}
    assert all(c["blocking"] for c in current["assets"]["mart/index_scores"]["checks"].values())


def test_the_pool_serialised_jobs_run_their_steps_in_process():
    """Every writing step takes the `duckdb` pool of 1, so steps never run in parallel: each job (and a run
    the automation launches) executes in process instead of paying a process start-up per step
    (benchmarks/executor.py)."""
    from pipelines.definitions import defs

    # lake_job (issue 12, the partitioned path) takes no pool: its steps write their own files, in parallel
    jobs = [defs.get_job_def(j.name) for j in defs.jobs if j.name != "lake_job"]
    assert jobs and {j.executor_def.name for j in jobs} == {"in_process"}, {j.name: j.executor_def.name for j in jobs}
    assert defs.get_job_def("lake_job").executor_def.name == "multiprocess"
    assert defs.get_implicit_global_asset_job_def().executor_def.name == "in_process"
