"""Jobs: asset selections per stage, runnable from the UI, schedules, sensors and the CLI."""
import dagster as dg

from assets.ingest import landing_files, monthly_staging_assets, staging_region_profiles
from pipelines.partitions import monthly_partitions

landing_job = dg.define_asset_job("landing_job", selection=[landing_files],
                                  description="Load new files from the landing folder into raw.")
monthly_staging_job = dg.define_asset_job("monthly_staging_job", selection=monthly_staging_assets,
                                          partitions_def=monthly_partitions,
                                          description="Rebuild staging for a month (or a range of months) from raw.")
profiles_staging_job = dg.define_asset_job("profiles_staging_job", selection=[staging_region_profiles],
                                           description="Rebuild staging.region_profiles from raw.")
