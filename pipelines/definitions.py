"""The one Dagster code location: every asset, check, job, schedule, sensor and resource, listed explicitly.

Stages (asset groups): ingest -> quality -> indicators -> index -> reports. The index and report
assets are partitioned by period (years; quarters in the ``_quarterly`` family) × scope, mapped from
the monthly clean partitions (``pipelines/partitions.py``), and run by their automation condition
once their months passed the gate (``pipelines/automation.py``). Run `make dev` for the UI,
or `cei run` for the same jobs in process. Resources: ``duckdb`` (the warehouse, CEI_WAREHOUSE),
``landing`` (the landing folder, CEI_LANDING; carried by raw/landing_files) and ``alerts`` (the
failure sensors' targets, CEI_ALERT_*), all read from the environment so the UI, the daemon and
the CLI use the same files.
"""
import dagster as dg

from assets.index import index_assets
from assets.lake import lake_job
from assets.ingest import ingest_assets
from assets.quality import quality_assets
from assets.reports import report_assets
from pipelines.automation import index_automation_sensor
from pipelines.jobs import (index_job, landing_job, monthly_job, monthly_load_job, profiles_job,
                           quarterly_index_job)
from pipelines.resources import AlertTarget, warehouse_resource
from pipelines.schedules import schedules
from pipelines.sensors import sensors

defs = dg.Definitions(
    assets=[*ingest_assets, *quality_assets, *index_assets, *report_assets],
    jobs=[landing_job, monthly_job, monthly_load_job, profiles_job, index_job, quarterly_index_job,
          lake_job],  # the partitioned path: its own multiprocess executor (assets/lake.py)
    schedules=schedules,
    sensors=[*sensors, index_automation_sensor],
    resources={"duckdb": warehouse_resource(), "alerts": AlertTarget.from_env()},
    # Every writing step takes the `duckdb` pool of 1 (one DuckDB writer), so a run's steps never run
    # in parallel: a process per step (Dagster's default, multiprocess) buys nothing and costs its
    # start-up, 2.8 s a step measured by benchmarks/executor.py (BENCHMARKS.md). Runs still get their
    # own process from the run launcher; `cei run` executes in process too.
    executor=dg.in_process_executor,
)
