"""Jobs: asset selections per stage, runnable from the UI, schedules, sensors and the CLI."""
import dagster as dg

from assets.ingest import landing_files, monthly_staging_assets, staging_region_profiles
from assets.index import quarterly_index_assets, yearly_index_assets
from assets.reports import report_folders, report_folders_quarterly
from assets.quality import clean_region_profiles, monthly_quality_assets
from pipelines.partitions import monthly_partitions

landing_job = dg.define_asset_job("landing_job", selection=[landing_files],
                                  description="Load new files from the landing folder into raw.")
monthly_job = dg.define_asset_job(
    "monthly_job", selection=[*monthly_staging_assets, *monthly_quality_assets], partitions_def=monthly_partitions,
    description="For a month (or a range): rebuild staging from raw, then run the data-quality gate into clean.")
monthly_load_job = dg.define_asset_job(
    "monthly_load_job", selection=[landing_files, *monthly_staging_assets, *monthly_quality_assets],
    description="The monthly schedule's run: load what is new in the landing folder, then rebuild staging and run "
                "the data-quality gate for the month (its partition). A refused file fails the run after the "
                "rest loaded; the months the load touched are restaged by staging_after_load_sensor.")
profiles_job = dg.define_asset_job("profiles_job", selection=[staging_region_profiles, clean_region_profiles],
                                   description="Rebuild staging and clean region profiles.")
index_job = dg.define_asset_job("index_job", selection=[*yearly_index_assets, report_folders],
                                description="Indicators, index scores and the report folder of one year and scope "
                                            "(its partition, e.g. 2025|3204).")
quarterly_index_job = dg.define_asset_job(
    "quarterly_index_job", selection=[*quarterly_index_assets, report_folders_quarterly],
    description="Indicators, index scores and the report folder of one quarter and scope (its partition, e.g. "
                "2025-04-01|3204 for 2025Q2).")
