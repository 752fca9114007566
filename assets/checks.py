"""Per-month check results: a check partitioned like its asset records one result per month, also
when one run covers a range of months, so the UI shows May failed and June passed, and May still
failed after June alone is re-run. (A range run's step has no single partition key, so the
results are yielded as ``AssetCheckEvaluation`` events naming their month, plus the check's output.)

Each evaluation names the materialisation of its month it judged (``target_materialization_data``,
what Dagster fills in itself for an ``AssetCheckResult`` of a one-partition step). Without it
Dagster does not count the result as current for that month, and the automation (``check_failed``
per partition, ``pipelines/automation.py``) would not see a held-back month at all.
"""
from __future__ import annotations

import warnings
from typing import Iterator

import dagster as dg

from pipelines.partitions import monthly_partitions


def month_check_spec(name: str, asset_key: dg.AssetKey, description: str) -> dg.AssetCheckSpec:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # partitions_def on a check spec is a preview feature in 1.13
        return dg.AssetCheckSpec(name, asset=asset_key, blocking=False, partitions_def=monthly_partitions,
                                 description=description)


def latest_materializations(instance: dg.DagsterInstance, asset_key: dg.AssetKey, partitions: list[str]) -> dict:
    """The latest materialisation of each partition, as a check's target (absent before any).
    One query for the run's months (the newest records first: the first seen per month is its
    latest), then one per month not among them."""
    from dagster._core.definitions.asset_checks.asset_check_evaluation import (
        AssetCheckEvaluationTargetMaterializationData as Target)

    def fetch(keys: list[str], limit: int) -> list:
        return instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=asset_key, asset_partitions=keys),
                                               limit=limit).records

    found = {}
    for record in fetch(partitions, len(partitions)) if partitions else []:
        found.setdefault(record.partition_key, record)
    for partition in (p for p in partitions if p not in found):
        found.update({r.partition_key: r for r in fetch([partition], 1)})
    return {p: Target(storage_id=r.storage_id, run_id=r.run_id, timestamp=r.timestamp) for p, r in found.items()}


def month_results(context: dg.AssetExecutionContext, asset_key: dg.AssetKey, check_name: str,
                  months: dict[str, tuple[bool, dict]]) -> Iterator:
    """One evaluation per month (``YYYY-MM`` -> (passed, metadata)), then the check's output. Yield
    it after the asset's ``MaterializeResult``: each month's result then targets this run's
    materialisation of that month."""
    key = dg.AssetCheckKey(asset_key, check_name)
    if key not in context.selected_asset_check_keys:
        return
    targets = latest_materializations(context.instance, asset_key, [f"{m}-01" for m in months])
    for month, (passed, metadata) in sorted(months.items()):
        yield dg.AssetCheckEvaluation(asset_key=asset_key, check_name=check_name, passed=bool(passed),
                                      metadata=metadata, partition=f"{month}-01",
                                      target_materialization_data=targets.get(f"{month}-01"),
                                      severity=dg.AssetCheckSeverity.ERROR, blocking=False)
    yield dg.Output(None, output_name=context.op_execution_context.job_def.asset_layer.get_op_output_name(key))
