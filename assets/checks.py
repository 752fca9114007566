"""Per-month check results: a check partitioned like its asset records one result per month, also
when one run covers a range of months, so the UI shows May failed and June passed, and May still
failed after June alone is re-run. (A range run's step has no single partition key, so the
results are yielded as ``AssetCheckEvaluation`` events naming their month, plus the check's output.)
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


def month_results(context: dg.AssetExecutionContext, asset_key: dg.AssetKey, check_name: str,
                  months: dict[str, tuple[bool, dict]]) -> Iterator:
    """One evaluation per month (``YYYY-MM`` -> (passed, metadata)), then the check's output."""
    key = dg.AssetCheckKey(asset_key, check_name)
    if key not in context.selected_asset_check_keys:
        return
    for month, (passed, metadata) in sorted(months.items()):
        yield dg.AssetCheckEvaluation(asset_key=asset_key, check_name=check_name, passed=bool(passed),
                                      metadata=metadata, partition=f"{month}-01",
                                      severity=dg.AssetCheckSeverity.ERROR, blocking=False)
    yield dg.Output(None, output_name=context.op_execution_context.job_def.asset_layer.get_op_output_name(key))
