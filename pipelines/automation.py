"""The declarative chain: when clean months land and pass the gate, the index and reports of the
periods they belong to become due and run.

Why automation conditions and not a sensor: the dependency is already in the asset graph (months
-> year / quarter through the time-window partition mapping), so Dagster itself knows which
period partitions a new month makes stale, shows the reason of every evaluation in the UI (the
asset's "Automation" tab: each labelled sub-condition, true or false, per partition), and needs
no cursor of ours. A sensor would repeat the mapping in code and show only "skipped".

``index_due`` is ``AutomationCondition.eager()`` without its ``in_latest_time_window`` part (eager
considers only the newest year and quarter; a re-delivered May 2025 must refresh 2025 and 2025Q2
in 2026 too), and with two guards, each labelled so the UI says why a period waits:

* ``all_deps_blocking_checks_passed``: the clean assets' blocking checks (error share, reconciled,
  column expectations) passed;
* not "held back": no upstream check failed (labelled, so the UI names the reason on the waiting
  partition). Measured on Dagster 1.13.27: the automation reads the status of the clean assets'
  range checks (``error_share`` ...: failed when a month of the run's range was held back), not
  yet of the per-month ``month_gate`` checks (a preview feature whose per-partition status the OSS
  instance does not track for automation), so a held-back month keeps every period waiting until a
  run whose checks pass; the exact per-month verdict is the asset's own guard below.

The asset itself also refuses a period with a held-back or stale month (``guard_periods``), so a
run started by hand or by a schedule fails with the months and checks named.

Off by default like every sensor: turn on ``index_automation_sensor`` in the UI.
"""
import dagster as dg

A = dg.AutomationCondition

MONTH_HELD_BACK = ("held back: a check upstream failed for this period (a month held back by the data-quality gate: "
                   "month_gate / month_reject_share; or an index check)")

month_held_back = A.any_deps_match(
    A.any_checks_match(A.check_failed(), blocking_only=False)
).with_label(MONTH_HELD_BACK)

index_due = (
    (A.newly_missing() | A.any_deps_updated()).since_last_handled()
    & ~A.any_deps_missing()
    & ~A.any_deps_in_progress()
    & ~A.in_progress()
    & ~month_held_back  # before the blocking-checks condition: the UI evaluates (and shows) it first
    & A.all_deps_blocking_checks_passed()
).with_label("due: its months landed and passed the gate")

# the sensor that evaluates the condition (evaluated every 30 s by the daemon once turned on)
index_automation_sensor = dg.AutomationConditionSensorDefinition(
    "index_automation_sensor", target=dg.AssetSelection.groups("index", "reports"),
    default_status=dg.DefaultSensorStatus.STOPPED, minimum_interval_seconds=30,
    description="Runs the index and report partitions (year or quarter × scope) whose months landed and passed "
                "the gate (pipelines/automation.py). Off by default.")
