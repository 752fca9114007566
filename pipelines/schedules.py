"""Schedules (off by default; turn them on in the UI with `make dev`, the daemon runs them).

Every cron and the timezone are here, in one table (China Standard Time, no daylight saving):

* monthly, 02:00 on the 5th: load the landing folder and gate the month just closed (the run is
  that month's partition of ``monthly_load_job``);
* quarterly, 04:00 on the 10th of January, April, July and October: indicators, index scores and
  report folders for the quarter just closed (``quarterly_index_job``, one run per scope partition);
* yearly, 06:00 on 15 January: the same for the year just closed (``index_job``).

The index schedules are the calendar's backstop to the declarative chain (``pipelines/automation.py``),
which runs a period as soon as its months passed the gate; a partition already run is simply run again.

The index runs come after the monthly gate of the period's last month (the 5th); a period with a
held-back or stale month fails its run (nothing is published) and the failure sensor alerts.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.jobs import index_job, monthly_load_job, quarterly_index_job
from pipelines.partitions import SCOPE_PARTITIONS, index_partition_key

TIMEZONE = "Asia/Shanghai"
CRON = {
    "monthly": "0 2 5 * *",
    "quarterly": "0 4 10 1,4,7,10 *",
    "yearly": "0 6 15 1 *",
}


def _local(t: datetime) -> datetime:
    tz = ZoneInfo(TIMEZONE)
    return t.replace(tzinfo=tz) if t.tzinfo is None else t.astimezone(tz)


def previous_month(t: datetime) -> str:
    """``2025-05`` for any time in June 2025 (Asia/Shanghai)."""
    t = _local(t)
    return f"{t.year - 1}-12" if t.month == 1 else f"{t.year}-{t.month - 1:02d}"


def closed_quarter(t: datetime) -> str:
    """The last quarter that ended before ``t``: ``2025Q2`` for any time in July–September 2025."""
    t = _local(t)
    q = (t.month - 1) // 3
    return f"{t.year - 1}Q4" if q == 0 else f"{t.year}Q{q}"


def closed_year(t: datetime) -> str:
    return str(_local(t).year - 1)


@dg.schedule(job=monthly_load_job, cron_schedule=CRON["monthly"], execution_timezone=TIMEZONE,
             default_status=dg.DefaultScheduleStatus.STOPPED,
             description="Monthly: load the landing folder, then stage and gate the month just closed.")
def monthly_load_schedule(context: dg.ScheduleEvaluationContext):
    month = previous_month(context.scheduled_execution_time)
    return dg.RunRequest(run_key=f"monthly:{month}", partition_key=f"{month}-01",
                         tags={"cei/schedule": "monthly", "cei/period": month})


def index_run_requests(name: str, period: str, scopes: list[str]) -> list[dg.RunRequest]:
    """One run per scope partition (the scopes the data implies, and those an analyst added)."""
    return [dg.RunRequest(run_key=f"{name}:{period}|{scope}", partition_key=index_partition_key(period, scope),
                          tags={"cei/schedule": name.removesuffix("_index_schedule"), "cei/period": period})
            for scope in sorted(scopes)]


def _index_schedule(name: str, job, cron: str, period_of, what: str):
    @dg.schedule(name=name, job=job, cron_schedule=cron, execution_timezone=TIMEZONE,
                 default_status=dg.DefaultScheduleStatus.STOPPED,
                 description=f"{what}: indicators, index scores and report folders for the period just closed, "
                             "one run per scope partition.")
    def _schedule(context: dg.ScheduleEvaluationContext):
        period = period_of(context.scheduled_execution_time)
        scopes = context.instance.get_dynamic_partitions(SCOPE_PARTITIONS)
        if not scopes:
            return dg.SkipReason(f"{period}: no scope partition yet (cei run or scope_partitions_sensor adds the "
                                 "data's scope; an analyst can add one in the UI)")
        return index_run_requests(name, period, scopes)

    return _schedule


quarterly_index_schedule = _index_schedule("quarterly_index_schedule", quarterly_index_job, CRON["quarterly"],
                                           closed_quarter, "Quarterly")
yearly_index_schedule = _index_schedule("yearly_index_schedule", index_job, CRON["yearly"], closed_year, "Yearly")

schedules = [monthly_load_schedule, quarterly_index_schedule, yearly_index_schedule]
