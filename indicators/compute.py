"""Compute the L3 indicators of an index spec per unit of a scope and period, and store them.

::

    con = duckdb.connect("data/warehouse.duckdb")
    df = compute_indicators(con, "32", "2025", spec)      # spec: IndexSpec | path | dict | None (default_v2)
    write_indicator_values(con, "32", "2025", df)         # replaces (scope, period) in mart.indicator_values

Inputs are the ``clean`` tables (``complaints``, ``sampling_results``, ``hotline_stats``,
``region_profiles``; exactly the columns of ``staging``). The SQL is in ``sql/indicators/`` (one
file per source, each indicator's definition in a comment above its SQL); this module only
registers reference frames (working-day calendar, scope units), binds parameters, and applies the
small-count treatment, which needs the pooled scope value.

Small counts (DESIGN.md §4 "small regions"). A value resting on fewer records than the
indicator's ``min_records`` (spec) has ``small_count = True`` and gets the spec's treatment
(``methods.small_count.treatment``):

* ``shrink`` — empirical-Bayes shrinkage toward the scope's pooled value ``p`` with prior weight
  ``k = min_records``: ``value = (n·x + k·p) / (n + k)``. For a share (``n`` = denominator) this is
  exactly ``(num + k·p) / (den + k)``; for the money ratio and the median, ``n`` = the records behind
  them (complaints; closed complaints) and ``p`` = the pooled ratio / the scope-wide median. For
  per-10k incidence rates (``record_count`` = the numerator count, denominator = population or
  market entities) the same prior on the Poisson–gamma scale: ``n`` = the count *expected* at the
  scope rate, ``E = den·p / 10000``, i.e. ``value = p·(num + k) / (E + k)`` — shrinking by the
  observed count would pull exactly the regions with few cases (low rates) hardest, and plugging the
  population in as ``den`` would move nothing. Only values under ``min_records`` are shrunk, so
  there is a step at the threshold (a value with n = min_records − 1 keeps about half its own
  weight); ``raw_value`` keeps the value before treatment.
* ``missing`` — value NULL; ``flag`` — value kept; ``none`` — value kept (flag still set).

Rows without a value (nothing to divide) are flagged when their count is small but not treated.
Region-profile indicators have no record count and are never treated.
"""
from __future__ import annotations

import datetime as dt
import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import duckdb
import numpy as np
import pandas as pd

from reference.calendar import UncoveredYearWarning, WorkdayCalendar
from reference.categories import key_categories

from .definitions import IndicatorDef, definitions
from .periods import Period, parse_period
from .scopes import canonical_scope, region_units, scope_units
from .sqlfiles import replace_rows, run

__all__ = [
    "LIMITS",
    "VALUE_COLUMNS",
    "compute_indicators",
    "write_indicator_values",
    "run_indicators",
    "ensure_tables",
    "resolve_spec",
    "install_reference_tables",
    "apply_small_counts",
    "SOURCE_TABLES",
]

# Statutory limits bound into the SQL as parameters. Same numbers as data_quality.deadlines.DEADLINES
# (Order No. 20 Art. 14: acceptance 7 WD; Art. 21: mediation 45 WD; 行政处罚程序规定: report check 15 WD; Order No. 18
# Arts. 46-47: correction 60 days, re-inspection 75 days). Order No. 121 (records from 2026-04-15)
# keeps these numbers until its text is verified (docs/domain.md §0.1).
LIMITS: dict[str, int] = {
    "accept_limit_wd": 7,
    "report_check_limit_wd": 15,
    "mediation_limit_wd": 45,
    "correction_limit_days": 60,
    "reinspection_limit_days": 75,
}

# columns of mart.indicator_values, in order (sql/indicators/ddl.sql)
VALUE_COLUMNS = [
    "scope", "period", "region_code", "indicator_id", "numerator", "denominator", "value", "record_count",
    "min_records", "small_count", "treatment", "raw_value", "scope_value", "spec_version",
]
SOURCE_TABLES = {
    "complaints": "complaints",
    "sampling": "sampling_results",
    "hotline": "hotline_stats",
    "profile": "region_profiles",
}
TREATMENTS = ("shrink", "missing", "flag", "none")


# ------------------------------------------------------------------------------------------------
def resolve_spec(spec=None):
    """An :class:`index_model.IndexSpec` from a spec, a YAML path, a dict, or None (the shipped default, default_v2)."""
    from index_model.spec import IndexSpec, load_spec

    if spec is None:
        return _default_spec()
    if isinstance(spec, IndexSpec):
        return spec
    if isinstance(spec, (str, Path, Mapping)):
        return load_spec(spec)
    raise TypeError(f"spec: expected an IndexSpec, a YAML path or a dict, not {type(spec).__name__}")


@lru_cache(maxsize=1)
def _default_spec():
    from index_model.spec import default_spec

    return default_spec()  # IndexSpec is frozen: one parsed copy serves every call


def ensure_tables(con) -> None:
    """Create ``mart.indicator_values`` if it does not exist (sql/indicators/ddl.sql)."""
    run(con, "ddl.sql")


@lru_cache(maxsize=4)
def _calendar_frame(holiday_file: str) -> pd.DataFrame:
    cal = WorkdayCalendar.default().as_frame()
    cal["day_ordinal"] = np.arange(len(cal), dtype=np.int64)
    return cal


def install_reference_tables(con, scope: str) -> str:
    """Register calendar_days, ind_scope_units, ind_region_units and ind_key_categories for ``scope``;
    returns the canonical scope."""
    sc = canonical_scope(scope)
    frames = {
        "ind_calendar_frame": _calendar_frame(os.environ.get("CEI_HOLIDAYS") or ""),
        "ind_scope_units_frame": scope_units(sc),
        "ind_region_units_frame": region_units(sc),
        "ind_key_categories_frame": key_categories()[["category", "object_type", "key_category", "key_group"]],
    }
    for name, frame in frames.items():
        con.register(name, frame)
    try:
        run(con, "reference_tables.sql")
    finally:
        for name in frames:
            con.unregister(name)
    return sc


def _clean_tables(con) -> set[str]:
    return {r[0] for r in run(con, "clean_tables.sql").fetchall()}


def _as_of(con, source: str, given) -> dt.date | None:
    if given is not None:
        return pd.Timestamp(given).date()
    row = run(con, "as_of_complaints.sql" if source == "complaints" else "as_of_sampling.sql").fetchall()
    value = row[0][0] if row else None
    return None if value is None else pd.Timestamp(value).date()


def _prepare_source(con, source: str, per: Period, *, as_of=None, profile_year: int | None = None) -> dict:
    """Build the work table(s) of one source; returns the parameters used (for the record)."""
    if source == "profile":
        year = int(profile_year or per.year)
        run(con, "profile_rows.sql", {"year": year})
        run(con, "profile_units.sql")
        return {"year": year}
    if source == "complaints":
        cut = _as_of(con, "complaints", as_of)
        params = {"period_start": per.start, "period_end": per.end, "as_of": cut, **LIMITS}
        run(con, "complaints_records.sql", params)
        return params
    if source == "sampling":
        cut = _as_of(con, "sampling", as_of)
        params = {"period_start": per.start, "period_end": per.end, "as_of": cut, **LIMITS}
        run(con, "sampling_records.sql", params)
        return params
    if source == "hotline":
        return {"period_start": per.start, "period_end": per.end}
    raise ValueError(f"unknown source {source!r}")


_AGGREGATE = {"complaints": "complaints.sql", "sampling": "sampling.sql", "hotline": "hotline.sql", "profile": "profiles.sql"}


def _aggregate(con, source: str, prepared: Mapping[str, Any]) -> pd.DataFrame:
    """Rows (indicator_id, region_code, numerator, denominator, value, record_count) of one source."""
    df = run(con, _AGGREGATE[source], prepared).df()
    df["region_code"] = df["region_code"].astype(object).where(df["region_code"].notna(), None)
    for c in ("numerator", "denominator", "value"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["record_count"] = pd.to_numeric(df["record_count"], errors="coerce").astype("Int64")
    return df


def _sources_for(ids: Iterable[str]) -> list[str]:
    defs = definitions()
    needed = {defs[i].source for i in ids}
    if "complaints" in needed:
        needed.add("profile")  # per-10k denominators come from the unit profiles
    return [s for s in ("profile", "complaints", "sampling", "hotline") if s in needed]


def _warn_uncovered(per: Period, cutoffs: list) -> None:
    """Working days in a year without holiday data are counted Monday–Friday: say so."""
    days = [per.start, per.end] + list(cutoffs)
    missing = WorkdayCalendar.default().uncovered_years(days)
    if missing:
        warnings.warn(f"indicators for {per.label}: no holiday data for {missing}, working days counted "
                      "Monday–Friday (give the State Council calendar via CEI_HOLIDAYS)", UncoveredYearWarning,
                      stacklevel=3)


# ------------------------------------------------------------------------------------------------
def apply_small_counts(df: pd.DataFrame, min_records: Mapping[str, int], treatment: str,
                       pooled: Mapping[str, float], defs: Mapping[str, IndicatorDef] | None = None) -> pd.DataFrame:
    """Flag and treat values resting on fewer records than ``min_records`` (see the module docstring).

    ``df`` has indicator_id, numerator, denominator, value, record_count; returns a copy with
    value (treated), raw_value, min_records, small_count, treatment, scope_value.
    """
    if treatment not in TREATMENTS:
        raise ValueError(f"small-count treatment {treatment!r}: expected one of {', '.join(TREATMENTS)}")
    defs = defs or definitions()
    out = df.copy()
    out["raw_value"] = out["value"].astype(float)
    out["min_records"] = out["indicator_id"].map(lambda i: int(min_records.get(i, 0) or 0)).astype("Int64")
    out["scope_value"] = out["indicator_id"].map(lambda i: pooled.get(i, np.nan)).astype(float)
    out["small_count"] = False
    out["treatment"] = None
    value = out["raw_value"].to_numpy(dtype=float).copy()
    n = pd.to_numeric(out["record_count"], errors="coerce").to_numpy(dtype=float)
    k = out["min_records"].fillna(0).to_numpy(dtype=float)
    small = ~np.isnan(n) & (k > 0) & (n < k)
    kinds = out["indicator_id"].map(lambda i: defs[i].kind if i in defs else "share").to_numpy()
    small &= kinds != "profile"
    treat = small & ~np.isnan(value)
    if treatment == "shrink":
        p = out["scope_value"].to_numpy(dtype=float)
        scale = out["indicator_id"].map(lambda i: defs[i].scale if i in defs else 1.0).to_numpy(dtype=float)
        den = pd.to_numeric(out["denominator"], errors="coerce").to_numpy(dtype=float)
        weight = np.where(kinds == "per10k", den * p / scale, n)  # per-10k: expected count at the scope rate
        ok = treat & ~np.isnan(p) & ~np.isnan(weight) & (weight >= 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            shrunk = (weight * value + k * p) / (weight + k)
        value = np.where(ok, shrunk, value)
    elif treatment == "missing":
        value = np.where(treat, np.nan, value)
    out["value"] = value
    out["small_count"] = small
    out.loc[treat, "treatment"] = treatment
    return out


def _pooled(units: pd.DataFrame, scope_rows: pd.DataFrame, defs: Mapping[str, IndicatorDef]) -> dict[str, float]:
    """Pooled scope value per indicator: sum(num) / sum(den) x scale over units with a value,
    or the scope row the SQL gave (the median)."""
    pooled: dict[str, float] = {}
    for iid, r in scope_rows.set_index("indicator_id").iterrows():
        pooled[iid] = float(r["value"]) if pd.notna(r["value"]) else np.nan
    for iid, g in units.groupby("indicator_id", sort=False):
        if iid in pooled:
            continue
        d = defs[iid]
        have = g["value"].notna() & g["numerator"].notna() & g["denominator"].notna()
        num = float(g.loc[have, "numerator"].sum())
        den = float(g.loc[have, "denominator"].sum())
        pooled[iid] = num / den * d.scale if den > 0 else np.nan
    return pooled


def compute_indicators(con, scope: str, period: str, spec=None, *, as_of=None, profile_year: int | None = None,
                       treatment: str | None = None, indicators: Iterable[str] | None = None) -> pd.DataFrame:
    """Every L3 indicator of ``spec`` for every unit of ``scope`` in ``period``.

    scope: ``CN`` (provinces), a province ``32`` (prefectures and province-level counties) or a
    prefecture ``3204`` (counties). period: ``2025`` | ``2025H1`` | ``2025Q3`` (| ``2025-03``).
    spec: :class:`index_model.IndexSpec`, a YAML path, a dict, or None for ``default_v2`` — gives
    the indicator ids, each indicator's ``min_records`` and the small-count treatment.
    as_of: data cut-off for "due" records (default: the latest event date in each clean table).
    profile_year: region-profile year (default: the period's year). treatment: overrides the spec's
    small-count treatment. indicators: a subset of the spec's ids.

    Returns one row per (indicator, unit) in spec order: scope, period, region_code, region_name,
    indicator_id, numerator, denominator, value, record_count, min_records, small_count, treatment,
    raw_value, scope_value, spec_version.
    """
    sp = resolve_spec(spec)
    defs = definitions()
    ids = list(sp.indicator_ids)
    if indicators is not None:
        want = list(indicators)
        unknown = [i for i in want if i not in ids]
        if unknown:
            raise ValueError(f"indicator(s) {', '.join(unknown)} are not in spec {sp.spec_version}")
        ids = [i for i in ids if i in want]
    unknown = [i for i in ids if i not in defs]
    if unknown:
        raise ValueError(
            f"spec {sp.spec_version} names indicator(s) the indicator layer does not define: {', '.join(unknown)} "
            f"(defined: {', '.join(defs)})")
    per = parse_period(period)
    sources = _sources_for(ids)
    have = _clean_tables(con)
    lacking = [f"clean.{SOURCE_TABLES[s]}" for s in sources if SOURCE_TABLES[s] not in have]
    if lacking:
        raise LookupError(f"{', '.join(lacking)} not found: run the data-quality gate (staging -> clean) first")
    sc = install_reference_tables(con, scope)
    frames: list[pd.DataFrame] = []
    cutoffs: list = []
    try:
        for source in sources:
            prepared = _prepare_source(con, source, per, as_of=as_of, profile_year=profile_year)
            cutoffs.append(prepared.get("as_of"))
            if any(defs[i].source == source for i in ids):
                frames.append(_aggregate(con, source, prepared))
    finally:
        run(con, "drop_work_tables.sql")
    _warn_uncovered(per, [c for c in cutoffs if c is not None])
    raw = pd.concat(frames, ignore_index=True)
    raw = raw[raw["indicator_id"].isin(ids)]
    scope_rows = raw[raw["region_code"].isna()]
    units = raw[raw["region_code"].notna()].copy()

    pooled = _pooled(units, scope_rows, defs)
    mode = treatment or str(sp.methods.small_count.get("treatment", "none"))
    out = apply_small_counts(units, {i: sp.min_records_of(i) for i in ids}, mode, pooled, defs)

    names = scope_units(sc).set_index("unit_code")["unit_name"]
    out["scope"] = sc
    out["period"] = per.label
    out["spec_version"] = sp.spec_version
    out["region_name"] = out["region_code"].map(names)
    order = {i: n for n, i in enumerate(ids)}
    out = out.sort_values(["indicator_id", "region_code"], key=lambda s: s.map(order) if s.name == "indicator_id" else s,
                          kind="stable").reset_index(drop=True)
    cols = VALUE_COLUMNS[:3] + ["region_name"] + VALUE_COLUMNS[3:]
    return out[cols]


def write_indicator_values(con, scope: str, period: str, df: pd.DataFrame) -> int:
    """Replace the rows of (scope, period) in ``mart.indicator_values`` with ``df``, in one transaction.

    ``df`` is :func:`compute_indicators`' output (other frames need at least region_code,
    indicator_id, numerator, denominator, value, record_count). Returns the number of rows written.
    Re-running with the same frame leaves the table unchanged (idempotent); a failure leaves it as it was.
    """
    sc = canonical_scope(scope)
    label = parse_period(period).label
    need = ["region_code", "indicator_id", "numerator", "denominator", "value", "record_count"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(f"indicator frame lacks column(s) {', '.join(missing)}")
    for col, want in (("scope", sc), ("period", label)):
        if col in df.columns:
            bad = set(df[col].dropna().astype(str)) - {want}
            if bad:
                raise ValueError(f"indicator frame has {col} {sorted(bad)} but is written as {col} {want!r}")
    if df["region_code"].isna().any():
        raise ValueError("indicator frame has rows without region_code")
    dup = df.duplicated(["region_code", "indicator_id"])
    if dup.any():
        r = df[dup].iloc[0]
        raise ValueError(f"indicator frame has two rows for region {r['region_code']} and indicator {r['indicator_id']}")
    frame = pd.DataFrame({c: df[c] if c in df.columns else None for c in VALUE_COLUMNS})
    frame["scope"] = sc
    frame["period"] = label
    for c in ("numerator", "denominator", "value", "raw_value", "scope_value"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(float)
    if "raw_value" not in df.columns:
        frame["raw_value"] = frame["value"]
    frame["record_count"] = pd.to_numeric(frame["record_count"], errors="coerce").astype("Int64")
    frame["min_records"] = pd.to_numeric(frame["min_records"], errors="coerce").astype("Int64")
    frame["small_count"] = frame["small_count"].astype("boolean")
    frame["treatment"] = frame["treatment"].astype(object).where(frame["treatment"].notna(), None)
    frame["spec_version"] = frame["spec_version"].astype(object).where(frame["spec_version"].notna(), None)
    frame["region_code"] = frame["region_code"].astype(str)
    frame["indicator_id"] = frame["indicator_id"].astype(str)

    ensure_tables(con)
    replace_rows(con, "ind_values_frame", frame, "delete_values.sql", {"scope": sc, "period": label}, "insert_values.sql")
    return len(frame)


def run_indicators(con, scope: str, period: str, spec=None, **kwargs) -> pd.DataFrame:
    """:func:`compute_indicators` then :func:`write_indicator_values`; returns the frame written."""
    df = compute_indicators(con, scope, period, spec, **kwargs)
    write_indicator_values(con, scope, period, df)
    return df
