"""The partitioned path as a Dagster job (``lake_job``): plan -> one step per region × period, in
parallel -> combine. Thin: the work is ``pipelines.lake``.

The steps are mapped from a dynamic output, so one run fans out over however many regions and
periods the landing folder holds; the job sets ``multiprocess_executor`` (each step its own process,
as many at a time as ``max_concurrent``, default the number of cores), unlike the code location's
in-process default: these steps share no DuckDB writer, so running them side by side is what they
are for. The same job runs one pod per step with ``dagster_k8s.k8s_job_executor`` or one Celery task
per step with ``dagster_celery.celery_executor`` (README, "The partitioned path").
"""

import os
from pathlib import Path

import dagster as dg


class LakeConfig(dg.Config):
    """``landing_dir``: sub-folders are regions (default ``CEI_LANDING``); ``lake_dir``: the Parquet lake
    (default ``CEI_LAKE``, else ``data/lake``); ``warehouse``: the lake's warehouse of views and marts
    (default ``<lake_dir>/warehouse.duckdb``, never the single warehouse); ``scope`` / ``periods`` of the
    index (default: from the data, every year)."""

    landing_dir: str = ""
    lake_dir: str = ""
    warehouse: str = ""
    scope: str = ""
    periods: list[str] = []


def lake_settings(config: LakeConfig) -> dict:
    from pipelines.settings import landing_dir

    lake = Path(config.lake_dir or os.environ.get("CEI_LAKE") or "data/lake").resolve()
    return {"landing": str(landing_dir(config.landing_dir or None).resolve()), "lake": str(lake),
            "work": str(lake / "_work"), "warehouse": str(Path(config.warehouse).resolve() if config.warehouse
                                                             else lake / "warehouse.duckdb"),
            "scope": config.scope, "periods": list(config.periods)}


@dg.op(out={"steps": dg.DynamicOut(dict), "settings": dg.Out(dict)},
       description="The region × period steps of the landing folder (pipelines.lake.plan_steps).")
def lake_plan(context: dg.OpExecutionContext, config: LakeConfig):
    from ingestion import pii
    from pipelines import lake

    settings = lake_settings(config)
    Path(settings["warehouse"]).parent.mkdir(parents=True, exist_ok=True)
    # the identity key exists before the steps start, so parallel steps cannot each create their own
    pii.pii_key(Path(settings["warehouse"]))
    steps = lake.plan_steps(Path(settings["landing"]))
    context.log.info(f"{len(steps)} step(s): " + ", ".join(s.key for s in steps))
    yield dg.Output(settings, output_name="settings")
    for s in steps:
        yield dg.DynamicOutput({"region": s.region, "period": s.period, "files": list(s.files), **settings},
                               output_name="steps", mapping_key=s.key)


@dg.op(description="Ingest, stage and gate one region × period in its own DuckDB file; export it to the lake.")
def lake_partition(context: dg.OpExecutionContext, step: dict) -> dict:
    from ingestion import pii
    from pipelines import lake

    s = lake.Step(step["region"], step["period"], tuple(step["files"]))
    out = lake.run_step(s, Path(step["lake"]), Path(step["work"]), pii.pii_key(Path(step["warehouse"])))
    for line in out["files_failed"]:
        context.log.error(f"refused: {line}")
    context.add_output_metadata({k: v for k, v in out.items() if k in ("files", "files_loaded", "written", "seconds")}
                                | {"files_failed": len(out["files_failed"])})
    return out


@dg.op(description="Views over the lake, the cross-partition rules on the whole lake, indicators and index.")
def lake_combine(context: dg.OpExecutionContext, settings: dict, steps: list[dict]) -> dict:
    from pipelines import lake

    out = lake.combine(Path(settings["warehouse"]), Path(settings["lake"]), settings["scope"], settings["periods"])
    context.add_output_metadata({
        "steps": len(steps), "warehouse": settings["warehouse"], "seconds": out["seconds"],
        "rows": dg.MetadataValue.json(out["tables"]),
        "cross_partition_findings": dg.MetadataValue.json(out["cross_findings"]),
        "index": dg.MetadataValue.json(out["index"])})
    refused = [line for s in steps for line in s["files_failed"]]
    held = {p: v["problems"] for p, v in out["index"]["periods"].items() if v["problems"]}
    if refused or held:  # after the rest is built, as the landing asset does: no green failure
        raise dg.Failure(description=(f"{len(refused)} delivered file(s) refused; " if refused else "")
                         + (f"index held back for {', '.join(sorted(held))}" if held else ""),
                         metadata={"refused": dg.MetadataValue.json(refused[:50]),
                                   "held_back": dg.MetadataValue.json(held)}, allow_retries=False)
    return out


@dg.job(executor_def=dg.multiprocess_executor,
        description="The partitioned path: each region × period of the landing folder is ingested, staged and "
                    "gated alone into the Parquet lake (in parallel, a process per step), then the lake's warehouse "
                    "reads the lake as views, judges the cross-partition rules and computes indicators and index.")
def lake_job():
    steps, settings = lake_plan()
    lake_combine(settings, steps.map(lake_partition).collect())
