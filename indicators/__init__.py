"""Indicator layer of the Consumer Environment Index (消费环境指数): clean tables -> L3 indicators.

Pure Python + DuckDB (no Dagster). The SQL lives in ``sql/indicators/`` — one file per source,
standard SQL parameterised with ``$name`` (no value is ever spliced into SQL text), each
indicator's definition in an ``@``-tagged comment above its SELECT — and this package binds
parameters, registers reference frames and applies the small-count treatment.

Public API::

    compute_indicators(con, scope, period, spec=None, *, as_of=None, profile_year=None,
                       treatment=None, indicators=None) -> DataFrame
    write_indicator_values(con, scope, period, df) -> int    # replaces (scope, period) in mart.indicator_values
    run_indicators(con, scope, period, spec=None, **kw)       # both
    breakdown(con, scope, period, indicator_id, region_code, top=10) -> Breakdown
    methodology_table(spec=None) -> DataFrame; methodology_markdown(spec=None) -> str
    definitions() -> {indicator_id: IndicatorDef}
    parse_period("2025Q3"); scope_units("32"); region_units("32"); canonical_scope("320000")

Scopes: ``CN`` -> provinces; a province (``32``) -> its prefectures plus the county-level units
directly under the province (直辖市 districts, 省直辖县级 cities); a prefecture (``3204``) -> its
counties. Periods: ``2025``, ``2025H1``, ``2025Q3`` (and ``2025-03``).
"""
from __future__ import annotations

from .breakdown import Breakdown, breakdown
from .compute import (
    LIMITS,
    VALUE_COLUMNS,
    apply_small_counts,
    compute_indicators,
    ensure_tables,
    resolve_spec,
    run_indicators,
    write_indicator_values,
)
from .definitions import IndicatorDef, definitions, methodology_markdown, methodology_table
from .periods import Period, parse_period
from .scopes import canonical_scope, region_units, scope_units

__all__ = [
    "Breakdown", "IndicatorDef", "LIMITS", "Period", "VALUE_COLUMNS", "apply_small_counts", "breakdown",
    "canonical_scope", "compute_indicators", "definitions", "ensure_tables", "methodology_markdown",
    "methodology_table", "parse_period", "region_units", "resolve_spec", "run_indicators", "scope_units",
    "write_indicator_values",
]
