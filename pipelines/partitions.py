"""Partitions: 12315 records, sampling results and hotline statistics are monthly; the index and
its reports are per period (a year, or a quarter) and scope.

Index and report partitions have two dimensions: ``period`` (a time window: years keyed ``2025``,
quarters keyed by their first day ``2025-04-01``; ``pipelines.periods`` translates) and ``scope``
(dynamic: ``3204``, ``32``, ``CN``; the scope the data implies is added by ``cei run`` and by
``scope_partitions_sensor``, an analyst adds others in the UI). The monthly clean partitions map
onto them with Dagster's built-in ``MultiToSingleDimensionPartitionMapping`` (a time-window mapping
on ``period``, every scope): changing May 2025 makes exactly the ``2025`` and ``2025Q2`` partitions
of every scope stale. (A custom PartitionMapping class would not do: Dagster drops non-built-in
mappings from what the UI and the automation daemon see.)
"""
import warnings

import dagster as dg

from pipelines.periods import partition_period_key, period_of_key

# The merged 全国12315平台 went live in 2019; earlier months are not expected in deliveries.
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date="2019-01-01", end_offset=1)

# end_offset=1: the year / quarter in progress is a partition too (its index runs once every month
# of it has landed and passed the gate; a run before that is refused by the publishability guard)
yearly_partitions = dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1 *", start="2019", fmt="%Y",
                                                      end_offset=1)
quarterly_partitions = dg.TimeWindowPartitionsDefinition(cron_schedule="0 0 1 1,4,7,10 *", start="2019-01-01",
                                                         fmt="%Y-%m-%d", end_offset=1)
SCOPE_PARTITIONS = "scope"
scope_partitions = dg.DynamicPartitionsDefinition(name=SCOPE_PARTITIONS)

index_partitions = {
    "year": dg.MultiPartitionsDefinition({"period": yearly_partitions, "scope": scope_partitions}),
    "quarter": dg.MultiPartitionsDefinition({"period": quarterly_partitions, "scope": scope_partitions}),
}

# months -> the period dimension (a time-window mapping), every scope
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.BetaWarning)  # beta in 1.13, and the mapping Dagster infers here anyway
    from_months = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="period")


def index_partition_key(period: str, scope: str) -> dg.MultiPartitionKey:
    """``("2025Q2", "3204")`` -> the quarterly partition ``2025-04-01|3204``."""
    return dg.MultiPartitionKey({"period": partition_period_key(period), "scope": scope})


def period_and_scope(partition_key) -> tuple[str, str]:
    """A partition key of an index or report asset -> ``("2025Q2", "3204")``."""
    if isinstance(partition_key, dg.MultiPartitionKey):
        keys = partition_key.keys_by_dimension
        return period_of_key(keys["period"]), keys["scope"]
    period, scope = str(partition_key).split("|", 1)  # dimensions in name order: period|scope
    return period_of_key(period), scope
