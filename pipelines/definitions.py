"""The one Dagster code location: every asset, check, job, schedule, sensor and resource, listed explicitly.

Stages (asset groups): ingest -> quality -> indicators -> index -> reports. Later stages join
this list as they are built. Run `make dev` for the UI, or `cei run` for the same jobs in process.
"""
import dagster as dg

from assets.index import index_assets
from assets.ingest import ingest_assets
from assets.quality import quality_assets
from assets.reports import report_assets
from pipelines.jobs import index_job, landing_job, monthly_job, profiles_job
from pipelines.resources import warehouse_resource
from pipelines.sensors import landing_folder_sensor, staging_after_load_sensor

defs = dg.Definitions(
    assets=[*ingest_assets, *quality_assets, *index_assets, *report_assets],
    jobs=[landing_job, monthly_job, profiles_job, index_job],
    sensors=[landing_folder_sensor, staging_after_load_sensor],
    resources={"duckdb": warehouse_resource()},
)
