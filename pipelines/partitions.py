"""Partitions: 12315 records, sampling results and hotline statistics are monthly."""
import dagster as dg

# The merged 全国12315平台 went live in 2019; earlier months are not expected in deliveries.
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date="2019-01-01", end_offset=1)
