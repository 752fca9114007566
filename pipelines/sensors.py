"""Sensors: new files in the landing folder start a load; a load starts staging of the months it touched."""
from __future__ import annotations

import hashlib
import json

import dagster as dg

from assets.ingest import landing_files
from ingestion.loader import expand_paths
from pipelines.jobs import landing_job, monthly_job, profiles_job
from pipelines.settings import landing_dir


@dg.sensor(job=landing_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Starts landing_job when files appear or change in CEI_LANDING (default data/landing).")
def landing_folder_sensor(context: dg.SensorEvaluationContext):
    folder = landing_dir()
    if not folder.exists():
        return dg.SkipReason(f"{folder} does not exist")
    seen = json.loads(context.cursor) if context.cursor else {}
    scan = expand_paths([folder])  # deliveries, and refused files (a run records and reports them)
    files = [*scan.files, *(n.path for n in scan.not_loaded if n.refused)]
    current = {str(p): f"{p.stat().st_mtime_ns}:{p.stat().st_size}" for p in files}
    new = sorted(p for p, stamp in current.items() if seen.get(p) != stamp)
    context.update_cursor(json.dumps(current))
    if not new:
        return dg.SkipReason("no new files")
    # a stable key (str hash() is salted per process): the same files in the same state start one run
    stamp = hashlib.sha256("|".join(f"{p}={current[p]}" for p in new).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=f"landing:{stamp}",
                         run_config={"ops": {"raw__landing_files": {"config": {"landing_dir": str(folder)}}}})


@dg.asset_sensor(asset_key=landing_files.key, jobs=[monthly_job, profiles_job],
                 default_status=dg.DefaultSensorStatus.STOPPED,
                 description="After a load, restage every month (and the profiles) it touched.")
def staging_after_load_sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    mat = asset_event.asset_materialization
    touched = mat.metadata.get("partitions").value if mat and "partitions" in mat.metadata else {}
    months = sorted({m for t, ms in touched.items() if t != "region_profiles" for m in ms})
    for m in months:
        yield dg.RunRequest(run_key=f"{asset_event.run_id}:{m}", job_name=monthly_job.name,
                            partition_key=f"{m}-01")
    if "region_profiles" in touched:
        yield dg.RunRequest(run_key=f"{asset_event.run_id}:profiles", job_name=profiles_job.name)
