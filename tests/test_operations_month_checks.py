"""Per-partition check results: a run over May and June records May failed and June passed, and
May still shows failed after June alone is run again (what the UI shows per partition)."""
from __future__ import annotations

import dagster as dg
from dagster._core.storage.event_log.base import PartitionKeyFilter

from assets.ingest import landing_files, staging_complaints
from assets.quality import clean_complaints
from pipelines.resources import warehouse_resource
from tests.helpers import complaint_rows, valid_uscc, write_csv

RANGE = {"dagster/asset_partition_range_start": "2025-05-01", "dagster/asset_partition_range_end": "2025-06-01"}


def _latest(instance, asset: str, check: str, month: str) -> str | None:
    key = dg.AssetCheckKey(dg.AssetKey(["staging" if asset == "staging" else "clean", "complaints"]), check)
    found = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [key], partition_filter=PartitionKeyFilter(key=f"{month}-01"))
    return found[key].status.value if key in found else None


def _state(instance, layer: str, check: str) -> dict:
    from pipelines.partitions import monthly_partitions

    key = dg.AssetCheckKey(dg.AssetKey([layer, "complaints"]), check)
    state = instance.event_log_storage.get_asset_check_state([(key, monthly_partitions)])[key]
    return {status.value: sorted(subset.subset_value.get_partition_keys())
            for status, subset in state.subsets.items() if not subset.is_empty}


def test_may_fails_june_passes_and_may_stays_failed(tmp_path, warehouse):
    landing = tmp_path / "landing"
    landing.mkdir()
    may = complaint_rows(20, "2025-05", seed=5, uscc=valid_uscc())
    for r in may[:4]:
        r["amount_disputed"] = "n/a"  # 20% of May cannot be typed
    write_csv(landing / "complaints_2025-05.csv", may)
    write_csv(landing / "complaints_2025-06.csv", complaint_rows(20, "2025-06", seed=6, uscc=valid_uscc()))
    resources = {"duckdb": warehouse_resource(str(warehouse))}
    with dg.instance_for_test() as instance:
        dg.materialize([landing_files], resources=resources, instance=instance,
                       run_config={"ops": {"raw__landing_files": {"config": {"landing_dir": str(landing)}}}})
        run = dg.materialize([staging_complaints, clean_complaints], resources=resources, instance=instance,
                             tags=RANGE, raise_on_error=False)
        months = {(c.check_name, c.partition): c.passed for c in run.get_asset_check_evaluations()
                  if c.check_name.startswith("month_")}
        assert months == {("month_reject_share", "2025-05-01"): False, ("month_reject_share", "2025-06-01"): True,
                          ("month_gate", "2025-05-01"): False, ("month_gate", "2025-06-01"): True}
        assert _latest(instance, "staging", "month_reject_share", "2025-05") == "FAILED"
        assert _latest(instance, "staging", "month_reject_share", "2025-06") == "SUCCEEDED"
        # and Dagster's per-partition check state (what the automation reads: pipelines/automation.py)
        # has May failed and June passed, for the real gate's month_gate too
        assert _state(instance, "clean", "month_gate") == {"FAILED": ["2025-05-01"], "SUCCEEDED": ["2025-06-01"]}
        assert _state(instance, "staging", "month_reject_share") == {"FAILED": ["2025-05-01"],
                                                                     "SUCCEEDED": ["2025-06-01"]}

        # June alone again: June passes, May keeps its failed result
        again = dg.materialize([staging_complaints, clean_complaints], partition_key="2025-06-01",
                               resources=resources, instance=instance)
        assert {(c.check_name, c.partition) for c in again.get_asset_check_evaluations()
                if c.check_name.startswith("month_")} == {("month_reject_share", "2025-06-01"),
                                                           ("month_gate", "2025-06-01")}
        for check in ("month_reject_share", "month_gate"):
            assert _latest(instance, "staging" if check == "month_reject_share" else "clean", check, "2025-05") == "FAILED"
            assert _latest(instance, "staging" if check == "month_reject_share" else "clean", check, "2025-06") == "SUCCEEDED"
