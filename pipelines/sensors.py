"""Sensors (off by default). None of them replays history: turned on for the first time, a sensor
records where things stand (the landing folder's files, the last load, the last check result) and
acts only on what comes after.

* ``landing_folder_sensor``: files that appear or change in the landing folder start a load.
* ``staging_after_load_sensor``: each load starts ONE run over the range of months it touched
  (staging + gate, the assets' single-run backfill policy), plus the profiles when it touched them.
* ``scope_partitions_sensor``: adds the scope the gated data implies (a prefecture's records -> its
  counties) to the index's ``scope`` partitions, so the index partitions exist for the automation.
* ``run_failure_alert_sensor`` and ``failed_check_alert_sensor``: a failed run, or a failed
  asset check (a month held back, an index check), writes an alert (``pipelines.resources.AlertTarget``).
"""
from __future__ import annotations

import hashlib
import json

import dagster as dg

from assets.ingest import landing_files
from ingestion.loader import expand_paths
from pipelines.jobs import landing_job, monthly_job, profiles_job
from pipelines.resources import AlertTarget, LandingFolder

RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def _state(folder) -> dict[str, str]:
    scan = expand_paths([folder])  # deliveries, and refused files (a run records and reports them)
    files = [*scan.files, *(n.path for n in scan.not_loaded if n.refused)]
    return {str(p): f"{p.stat().st_mtime_ns}:{p.stat().st_size}" for p in files}


@dg.sensor(job=landing_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Starts landing_job when files appear or change in the landing folder (CEI_LANDING, default "
                       "data/landing). Turned on for the first time it records the files already there and "
                       "loads only what arrives or changes after (run landing_job once to load those).")
def landing_folder_sensor(context: dg.SensorEvaluationContext):
    folder = LandingFolder().path()
    if not folder.exists():
        return dg.SkipReason(f"{folder} does not exist")
    current = _state(folder)
    if context.cursor is None:  # first evaluation: start from now
        context.update_cursor(json.dumps(current))
        return dg.SkipReason(f"started watching {folder}: {len(current)} file(s) already there are not loaded "
                             "by this sensor (run landing_job to load them)")
    seen = json.loads(context.cursor)
    new = sorted(p for p, stamp in current.items() if seen.get(p) != stamp)
    context.update_cursor(json.dumps(current))
    if not new:
        return dg.SkipReason("no new files")
    # a stable key (str hash() is salted per process): the same files in the same state start one run
    stamp = hashlib.sha256("|".join(f"{p}={current[p]}" for p in new).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=f"landing:{stamp}",
                         run_config={"ops": {"raw__landing_files": {"config": {"landing_dir": str(folder)}}}})


def load_run_requests(record) -> list[dg.RunRequest]:
    """One range run of ``monthly_job`` over the months a load touched, and a ``profiles_job`` run."""
    mat = record.asset_materialization
    touched = mat.metadata["partitions"].value if mat and "partitions" in mat.metadata else {}
    months = sorted({m for t, ms in touched.items() if t != "region_profiles" for m in ms})
    requests = []
    if months:
        requests.append(dg.RunRequest(
            run_key=f"{record.run_id}:{months[0]}..{months[-1]}", job_name=monthly_job.name,
            tags={RANGE_START: f"{months[0]}-01", RANGE_END: f"{months[-1]}-01", "cei/after_load": record.run_id}))
    if "region_profiles" in touched:
        requests.append(dg.RunRequest(run_key=f"{record.run_id}:profiles", job_name=profiles_job.name,
                                      tags={"cei/after_load": record.run_id}))
    return requests


@dg.sensor(jobs=[monthly_job, profiles_job], minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.STOPPED,
           description="After each load of raw/landing_files, one run over the range of months it touched (staging "
                       "and the gate), and the profiles when touched. Starts from the next load when first turned on.")
def staging_after_load_sensor(context: dg.SensorEvaluationContext):
    if context.cursor is None:
        last = context.instance.fetch_materializations(landing_files.key, limit=1).records
        latest = last[0].storage_id if last else 0
        return dg.SensorResult(skip_reason=dg.SkipReason("started: waiting for the next load"), cursor=str(latest))
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=landing_files.key, after_storage_id=int(context.cursor)),
        limit=100, ascending=True).records
    if not records:
        return dg.SkipReason("no new load")
    requests = [r for record in records for r in load_run_requests(record)]
    return dg.SensorResult(run_requests=requests, cursor=str(records[-1].storage_id),
                           skip_reason=None if requests else dg.SkipReason("the new loads touched no month"))


def data_scope(warehouse) -> str | None:
    """The scope the gated 12315 records imply (``pipelines.index_guards.scope_from_regions``), read
    from a read-only connection; None before anything was gated."""
    from indicators.scopes import canonical_scope
    from ingestion.sqlfiles import sql_text, table_exists
    from pipelines.index_guards import scope_from_regions
    from pipelines.settings import connect

    with connect(warehouse, read_only=True, wait=5) as con:
        if not table_exists(con, "clean", "complaints"):
            return None
        rows = con.execute(sql_text("pipelines/data_scope.sql")).fetchall()
    return canonical_scope(scope_from_regions(rows)) if rows else None


@dg.sensor(minimum_interval_seconds=120, default_status=dg.DefaultSensorStatus.STOPPED,
           description="Adds the scope the gated data implies (one prefecture's records -> its counties, one "
                       "province's -> its prefectures, several provinces -> CN) to the index's scope partitions.")
def scope_partitions_sensor(context: dg.SensorEvaluationContext):
    from pipelines.partitions import SCOPE_PARTITIONS, scope_partitions
    from pipelines.settings import WarehouseBusy, warehouse_path

    path = warehouse_path()
    if not path.exists():
        return dg.SkipReason(f"{path} does not exist yet")
    try:
        scope = data_scope(path)
    except WarehouseBusy:
        return dg.SkipReason("the warehouse is busy (a run is writing): next time")
    if scope is None:
        return dg.SkipReason("nothing gated yet")
    if context.instance.has_dynamic_partition(SCOPE_PARTITIONS, scope):
        return dg.SkipReason(f"scope {scope} is a partition already")
    return dg.SensorResult(dynamic_partitions_requests=[scope_partitions.build_add_request([scope])])


# --- alerts -------------------------------------------------------------------------------------

def failure_message(context: dg.RunFailureSensorContext) -> str:
    """What failed, in the steps' own words (a Failure's description, else the error's first line)."""
    lines = []
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        text = (data.user_failure_data.description if data.user_failure_data and data.user_failure_data.description
                else (data.error.cause or data.error).message if data.error else "")
        lines.append(f"{event.step_key}: {(text or 'failed').strip().splitlines()[0][:400]}")
    return "; ".join(lines) or context.failure_event.message or "run failed"


@dg.run_failure_sensor(name="run_failure_alert_sensor", default_status=dg.DefaultSensorStatus.STOPPED,
                       description="A failed run (a refused file, a held-back period, an error) writes an alert: "
                                   "the alert log, and the webhook / e-mail when configured (CEI_ALERT_*).")
def run_failure_alert_sensor(context: dg.RunFailureSensorContext, alerts: AlertTarget):
    run = context.dagster_run
    alerts.send({"kind": "run_failed", "job": run.job_name, "run_id": run.run_id,
                 "partition": run.tags.get("dagster/partition") or (
                     f"{run.tags[RANGE_START]}..{run.tags[RANGE_END]}" if RANGE_START in run.tags else None),
                 "message": failure_message(context)})


def check_alert(record) -> dict | None:
    """The alert for a failed asset-check execution record (``AssetCheckExecutionRecord``)."""
    evaluation = record.event.dagster_event.event_specific_data if record.event and record.event.dagster_event else None
    if evaluation is None or evaluation.passed:
        return None
    meta = {k: v.value for k, v in (evaluation.metadata or {}).items()}
    worst = {k: meta[k] for k in ("partitions_over_threshold", "problems", "worst_partition") if k in meta}
    return {"kind": "check_failed", "asset": evaluation.asset_key.to_user_string(), "check": evaluation.check_name,
            "severity": evaluation.severity.value, "partition": evaluation.partition, "run_id": record.run_id,
            "message": f"{evaluation.asset_key.to_user_string()} {evaluation.check_name} failed"
                       + (f" for {evaluation.partition[:7]}" if evaluation.partition else "") + " "
                       + json.dumps(worst or meta, ensure_ascii=False, default=str)[:500]}


def _check_records(context, after: int, limit: int = 200) -> list:
    """Check executions with an id above ``after``, every check of the code location, oldest first."""
    storage = context.instance.event_log_storage
    found = []
    for key in context.repository_def.asset_graph.asset_check_keys:
        found += [r for r in storage.get_asset_check_execution_history(key, limit=limit) if r.id > after]
    return sorted(found, key=lambda r: r.id)


@dg.sensor(minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.STOPPED,
           description="A failed asset check (a month held back by the gate, an index check) writes an alert, like "
                       "run_failure_alert_sensor. Starts from the next check result when first turned on.")
def failed_check_alert_sensor(context: dg.SensorEvaluationContext, alerts: AlertTarget):
    # cursor: {"after": id, "sent": [ids above it already judged]} (a check still running keeps "after" low)
    cursor = json.loads(context.cursor) if context.cursor else None
    records = _check_records(context, cursor["after"] if cursor else 0)
    if cursor is None:  # first evaluation: start from now
        context.update_cursor(json.dumps({"after": records[-1].id if records else 0, "sent": []}))
        return dg.SkipReason("started: waiting for the next check result")
    done = [r for r in records if r.status.value in ("SUCCEEDED", "FAILED") and r.id not in cursor["sent"]]
    pending = [r.id for r in records if r.status.value == "PLANNED"]
    after = min(pending) - 1 if pending else max([cursor["after"], *(r.id for r in records)])
    judged = sorted(i for i in {*cursor["sent"], *(r.id for r in done)} if i > after)
    context.update_cursor(json.dumps({"after": after, "sent": judged}))
    if not done:
        return dg.SkipReason("no new check result")
    alerts_ = [a for a in (check_alert(r) for r in done) if a is not None]
    for alert in alerts_:
        alerts.send(alert)
    return dg.SkipReason(f"{len(alerts_)} alert(s) written for {len(done)} check result(s)")


sensors = [landing_folder_sensor, staging_after_load_sensor, scope_partitions_sensor, run_failure_alert_sensor, failed_check_alert_sensor]
