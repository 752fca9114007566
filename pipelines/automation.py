"""The declarative chain: when clean months land and pass the gate, the index and reports of the
periods they belong to become due and run; a held-back month holds only the periods it belongs to.

Why automation conditions and not a sensor: the dependency is already in the asset graph (months
-> year / quarter through the time-window partition mapping), so Dagster itself knows which
period partitions a new month makes stale, shows the reason of every evaluation in the UI (the
asset's "Automation" tab: each labelled sub-condition, true or false, per partition), and needs
no cursor of ours. A sensor would repeat the mapping in code and show only "skipped".

``index_due`` is ``AutomationCondition.eager()`` without its ``in_latest_time_window`` part (eager
considers only the newest year and quarter; a re-delivered May 2025 must refresh 2025 and 2025Q2
in 2026 too), and with two guards, each labelled so the UI says why a period waits:

* ``month_held_back`` (label ``MONTH_HELD_BACK``): a check upstream failed FOR THIS PARTITION —
  above all the per-month gate verdict ``clean/*: month_gate``, a check partitioned like the
  months. Dagster 1.13 keeps the status of a partitioned check per partition and
  ``check_failed()`` reads it (``AssetCheckState``), and ``any_deps_match`` maps the failed months
  through the partition mapping: May 2025 held back holds ``2025`` and ``2025-04-01`` (2025Q2) of
  every scope, not 2024 or 2025Q1. The UI shows, under the label, the failed check and its month;
  that month's check result names the failed rules (``failed``: ``error_share 0.31 > 0.10`` …).
  Built in, so the daemon evaluates it from the snapshot (a custom ``AutomationCondition``
  subclass would need the code server and private evaluation APIs; a sensor, see above; leaving
  a held-back month unmaterialised so that ``any_deps_missing`` holds it would hide the gate's
  verdict behind "missing", while a range run materialises every month of its range and the gate
  does write the month's passing rows to clean; the check result is where the reason belongs).
  Two things make it per month:

  - each per-month result names the materialisation of its month it judged
    (``assets/checks.py``), else Dagster treats the result as stale and the month as unjudged;
  - the clean assets' RANGE checks (``error_share``, ``reconciled``, ``gx_column_expectations``:
    one result for a whole run, failed when any month of the range failed) are ignored here:
    unpartitioned, their failure maps onto every period. ``month_gate`` carries the same verdict
    split per month. Still read: the region profiles' checks (unpartitioned asset, they hold
    every period) and, for the report folders, the index's own checks (per partition).

* ``blocking_checks_passed``: ``all_deps_blocking_checks_passed()`` with the same range checks
  ignored (the region profiles' checks passed; for a report, its index partition's checks passed
  or run in the same tick).

The asset itself also refuses a period with a held-back or stale month (``guard_periods``, from
``dq.month_status``), so a run started by hand or by a schedule fails with the months and checks
named, also when a clean month was re-materialised without its ``month_gate`` check.

Off by default like every sensor: turn on ``index_automation_sensor`` in the UI.
"""
import dagster as dg

from assets.quality import monthly_quality_assets

A = dg.AutomationCondition

MONTH_HELD_BACK = ("held back: a month of this period failed the data-quality gate (clean/*: month_gate; its result "
                   "for that month names the failed checks), or another check upstream of this partition failed "
                   "(region profiles; the index's checks for a report)")

# unpartitioned checks on the monthly clean assets: one verdict for a whole range run
RANGE_CHECKS = dg.AssetSelection.checks(*(spec.key for asset in monthly_quality_assets for spec in asset.check_specs
                                          if spec.partitions_def is None))

month_held_back = A.any_deps_match(
    A.any_checks_match(A.check_failed()).ignore(RANGE_CHECKS).with_label(
        "a check failed for these partitions (month_gate: per month)")
).with_label(MONTH_HELD_BACK)

blocking_checks_passed = A.all_deps_match(
    A.all_checks_match(A.check_passed() | A.will_be_requested(), blocking_only=True).ignore(RANGE_CHECKS)
).with_label("blocking checks upstream passed (region profiles; for a report, its index partition)")

index_due = (
    (A.newly_missing() | A.any_deps_updated()).since_last_handled()
    & ~A.any_deps_missing()
    & ~A.any_deps_in_progress()
    & ~A.in_progress()
    & ~month_held_back  # before the blocking-checks condition: the UI evaluates (and shows) it first
    & blocking_checks_passed
).with_label("due: its months landed and passed the gate")

# the sensor that evaluates the condition (evaluated every 30 s by the daemon once turned on)
index_automation_sensor = dg.AutomationConditionSensorDefinition(
    "index_automation_sensor", target=dg.AssetSelection.groups("index", "reports"),
    default_status=dg.DefaultSensorStatus.STOPPED, minimum_interval_seconds=30,
    description="Runs the index and report partitions (year or quarter × scope) whose months landed and passed "
                "the gate; a month held back holds only its year and quarter (pipelines/automation.py). Off by "
                "default.")
