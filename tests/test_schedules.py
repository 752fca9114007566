"""Schedules evaluated at fixed times (never today's date): each yields the run request for the
period just closed, in China Standard Time (Asia/Shanghai)."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from pipelines.definitions import defs
from pipelines.schedules import (CRON, TIMEZONE, monthly_load_schedule, quarterly_index_schedule,
                                 yearly_index_schedule)

SHANGHAI = ZoneInfo("Asia/Shanghai")


_INSTANCES: dict = {}


@pytest.fixture(scope="module", autouse=True)
def _instances():
    """One temporary instance per set of scope partitions, for the whole module (each costs a few seconds)."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        for scopes in [(), ("3204",), ("32", "3204")]:
            instance = stack.enter_context(dg.instance_for_test())
            if scopes:
                instance.add_dynamic_partitions("scope", list(scopes))
            _INSTANCES[scopes] = instance
        yield
        _INSTANCES.clear()


def _evaluate(schedule, when: datetime, scopes=("3204",)):
    """The schedule's tick at ``when``; the index schedules read the scope partitions of the instance."""
    instance = _INSTANCES[tuple(scopes)] if scopes is not None else None
    ctx = dg.build_schedule_context(scheduled_execution_time=when, repository_def=defs.get_repository_def(),
                                    instance=instance)
    result = schedule.evaluate_tick(ctx)
    if scopes is None or not scopes:
        return result
    if len(scopes) == 1:
        [request] = list(result.run_requests)
        return request
    return list(result.run_requests)


@pytest.mark.parametrize("when, month", [
    (datetime(2025, 6, 5, 2, 0, tzinfo=SHANGHAI), "2025-05"),
    (datetime(2026, 1, 5, 2, 0, tzinfo=SHANGHAI), "2025-12"),  # across the year
    # 2025-05-31 18:30 UTC is already 1 June 02:30 in Shanghai: the month just closed is May
    (datetime(2025, 5, 31, 18, 30, tzinfo=timezone.utc), "2025-05"),
    (datetime(2025, 3, 5, 2, 0, tzinfo=SHANGHAI), "2025-02"),
])
def test_monthly_schedule_loads_and_gates_the_previous_month(when, month):
    [request] = _evaluate(monthly_load_schedule, when, scopes=None).run_requests
    assert request.partition_key == f"{month}-01"
    assert request.run_key == f"monthly:{month}"
    assert request.tags["cei/period"] == month
    # the partition is one the job knows, and the job loads the landing folder then gates that month
    job = defs.resolve_job_def("monthly_load_job")
    assert f"{month}-01" in job.partitions_def.get_partition_keys()
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} >= {
        "raw/landing_files", "staging/complaints", "clean/complaints", "clean/sampling_results", "clean/hotline_stats"}


def _partition(request: dg.RunRequest) -> tuple[str, str]:
    from pipelines.partitions import period_and_scope

    return period_and_scope(request.partition_key)


@pytest.mark.parametrize("when, quarter", [
    (datetime(2025, 7, 10, 4, 0, tzinfo=SHANGHAI), "2025Q2"),
    (datetime(2025, 10, 10, 4, 0, tzinfo=SHANGHAI), "2025Q3"),
    (datetime(2026, 1, 10, 4, 0, tzinfo=SHANGHAI), "2025Q4"),
    (datetime(2025, 4, 10, 4, 0, tzinfo=SHANGHAI), "2025Q1"),
])
def test_quarterly_schedule_indexes_the_quarter_just_closed(when, quarter):
    request = _evaluate(quarterly_index_schedule, when)
    assert request.run_key == f"quarterly_index_schedule:{quarter}|3204"
    # indicators, index and reports for that quarter's partition of the scope the data implies
    assert _partition(request) == (quarter, "3204")
    job = defs.resolve_job_def("quarterly_index_job")
    assert str(request.partition_key) in job.partitions_def.get_partition_keys(
        dynamic_partitions_store=_store("3204"))


def _store(*scopes):
    instance = dg.DagsterInstance.ephemeral()  # in memory: cheaper than a temporary instance on disk
    if scopes:
        instance.add_dynamic_partitions("scope", list(scopes))
    return instance


def test_yearly_schedule_indexes_the_year_just_closed_for_every_scope():
    request = _evaluate(yearly_index_schedule, datetime(2026, 1, 15, 6, 0, tzinfo=SHANGHAI))
    assert request.run_key == "yearly_index_schedule:2025|3204"
    assert _partition(request) == ("2025", "3204")
    # 31 Dec 2025 20:00 UTC is 1 Jan 2026 in Shanghai: 2025 has closed
    late = _evaluate(yearly_index_schedule, datetime(2025, 12, 31, 20, 0, tzinfo=timezone.utc))
    assert _partition(late) == ("2025", "3204")
    # one run per scope partition; none (with the reason) before any scope is known
    both = _evaluate(yearly_index_schedule, datetime(2026, 1, 15, 6, 0, tzinfo=SHANGHAI), scopes=("32", "3204"))
    assert sorted(_partition(r) for r in both) == [("2025", "32"), ("2025", "3204")]
    empty = _evaluate(yearly_index_schedule, datetime(2026, 1, 15, 6, 0, tzinfo=SHANGHAI), scopes=())
    assert not empty.run_requests and "no scope partition" in empty.skip_message


def test_schedules_run_on_the_cron_in_shanghai_time():
    """The next ticks after a fixed moment fall on the documented days, at the local hour."""
    from dagster._utils.schedules import cron_string_iterator

    start = datetime(2025, 3, 1, tzinfo=SHANGHAI).timestamp()
    ticks = cron_string_iterator(start, CRON["quarterly"], TIMEZONE)
    got = [next(ticks) for _ in range(4)]
    assert [(t.month, t.day, t.hour) for t in got] == [(4, 10, 4), (7, 10, 4), (10, 10, 4), (1, 10, 4)]
    assert all(t.utcoffset().total_seconds() == 8 * 3600 for t in got)


def test_the_monthly_run_loads_then_gates_the_month_and_a_refused_file_turns_it_red(tmp_path, warehouse):
    """What the monthly schedule launches, run for May: the load, then May's staging and gate; a
    refused file fails the run (after the rest loaded) and the gate waits (no green failure)."""
    import duckdb

    from pipelines.resources import warehouse_resource
    from tests.helpers import complaint_rows, valid_uscc, write_csv

    landing = tmp_path / "landing"
    landing.mkdir()
    write_csv(landing / "complaints_2025-05.csv", complaint_rows(12, "2025-05", seed=5, uscc=valid_uscc()))
    job = defs.resolve_job_def("monthly_load_job")
    resources = {"duckdb": warehouse_resource(str(warehouse))}
    config = {"ops": {"raw__landing_files": {"config": {"landing_dir": str(landing)}}}}
    with dg.instance_for_test() as instance:
        ok = job.execute_in_process(partition_key="2025-05-01", run_config=config, resources=resources,
                                    instance=instance)
        assert ok.success
        assert {c.check_name: c.passed for c in ok.get_asset_check_evaluations()
                if c.asset_key.to_user_string() == "clean/complaints"} == {
            "error_share": True, "reconciled": True, "gx_column_expectations": True, "month_gate": True}
        with duckdb.connect(str(warehouse), read_only=True) as con:
            assert con.execute("SELECT count(*) FROM clean.complaints").fetchall()[0][0] == 12

        write_csv(landing / "complaints_2025-06.csv", complaint_rows(5, "2025-06", seed=6, uscc=valid_uscc()))
        (landing / "complaints_2025-06_b.csv").write_bytes(b"\x00\x01 not a csv \xff\xfe" * 40)
        red = job.execute_in_process(partition_key="2025-06-01", run_config=config, resources=resources,
                                     instance=instance, raise_on_error=False)
        assert not red.success
        [mat] = red.asset_materializations_for_node("raw__landing_files")
        assert (mat.metadata["files_loaded"].value, mat.metadata["files_failed"].value) == (1, 1)
        assert red.asset_materializations_for_node("clean__complaints") == []  # not gated on a red load
