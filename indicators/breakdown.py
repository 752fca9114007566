"""Drill-down: the records and categories behind one indicator value of one unit (DESIGN.md §5.2).

::

    b = breakdown(con, "32", "2025", "mediation_success_rate", "320400")
    b.summary        # numerator, denominator, raw value, record_count (same SQL as compute_indicators)
    b.records        # the records in the denominator (record ids, dates, category, respondent ...), in_numerator
                     # and in_focus 0/1
    b.tables         # {"by_category": ..., "by_respondent": ..., ...} top-N tables

Records come from the same work tables and flags as the indicator (``*_breakdown_members.sql``
lists them for every unit, ``breakdown_unit_records.sql`` takes the unit's), so ``len(b.records)``
equals the value's ``record_count`` for record-based shares; ``in_focus`` marks the records that
matter (the open complaints behind a closure rate, the failed batches behind a pass rate; defined
per indicator in the members files). Clean tables hold no personal data and the drill-down
selects none of the free text either: respondents are businesses (name, USCC), never complainants.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from .compute import SOURCE_TABLES, _aggregate, _clean_tables, _prepare_source, install_reference_tables
from .definitions import definitions
from .periods import parse_period
from .sqlfiles import run

__all__ = ["Breakdown", "breakdown"]

_ITEM_SEP = re.compile(r"[、;；,，/]+")


@dataclass
class Breakdown:
    scope: str
    period: str
    indicator_id: str
    region_code: str
    summary: dict
    records: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    # records behind the value; ``records`` may hold only the first of them (the drill-down pages
    # list a bounded number, reports.drilldown.batch_breakdowns); None: ``len(records)``
    n_records: int | None = None
    # the records that matter (in_focus = 1) as masked summaries — the first of them, and how many there
    # are — when the drill-down asked for them (reports.drilldown.batch_breakdowns); else None
    focus: list[dict] | None = None
    n_focus: int | None = None

    def __post_init__(self):
        if self.n_records is None:
            self.n_records = len(self.records)


def _group(records: pd.DataFrame, keys: list[str], top: int, *, median_of: str | None = None,
           sums: tuple[str, ...] = ()) -> pd.DataFrame:
    if records.empty:
        return pd.DataFrame(columns=keys + ["records", "share_of_records"])
    frame = records.copy()
    for k in keys:
        frame[k] = frame[k].astype(object).where(frame[k].notna(), "（空）")
    g = frame.groupby(keys, sort=False)
    out = g.size().rename("records").to_frame()
    out["share_of_records"] = out["records"] / len(frame)
    if "in_numerator" in frame.columns and frame["in_numerator"].notna().any():
        out["in_numerator"] = g["in_numerator"].sum()
        out["numerator_share"] = out["in_numerator"] / out["records"]
    if median_of:
        out[f"median_{median_of}"] = g[median_of].median()
    for s in sums:
        out[s] = g[s].sum()
    return out.reset_index().sort_values(["records"] + keys, ascending=[False] + [True] * len(keys),
                                         kind="stable").head(top).reset_index(drop=True)


def _failed_items(records: pd.DataFrame, top: int) -> pd.DataFrame:
    items = records.loc[records["failed_items"].notna(), ["sample_id", "failed_items"]]
    rows = [(sid, it.strip()) for sid, txt in items.itertuples(index=False) for it in _ITEM_SEP.split(str(txt)) if it.strip()]
    if not rows:
        return pd.DataFrame(columns=["failed_item", "batches", "sample_ids"])
    t = pd.DataFrame(rows, columns=["sample_id", "failed_item"])
    out = t.groupby("failed_item").agg(batches=("sample_id", "nunique"), sample_ids=("sample_id", lambda s: list(s)[:20]))
    return out.reset_index().sort_values(["batches", "failed_item"], ascending=[False, True]).head(top).reset_index(drop=True)


def breakdown(con, scope: str, period: str, indicator_id: str, region_code: str, *, as_of=None,
              profile_year: int | None = None, top: int = 10) -> Breakdown:
    """The records and top categories behind ``indicator_id`` of unit ``region_code`` (see module doc)."""
    defs = definitions()
    if indicator_id not in defs:
        raise ValueError(f"unknown indicator {indicator_id!r}; defined: {', '.join(defs)}")
    d = defs[indicator_id]
    per = parse_period(period)
    sources = ["profile", d.source] if d.source in ("complaints", "profile") else [d.source]
    sources = list(dict.fromkeys(sources))
    have = _clean_tables(con)
    lacking = [f"clean.{SOURCE_TABLES[s]}" for s in sources if SOURCE_TABLES[s] not in have]
    if lacking:
        raise LookupError(f"{', '.join(lacking)} not found: run the data-quality gate (staging -> clean) first")
    sc = install_reference_tables(con, scope)
    try:
        prepared = {}
        for s in sources:
            prepared = _prepare_source(con, s, per, as_of=as_of, profile_year=profile_year)
        agg = _aggregate(con, d.source, prepared)
        row = agg[(agg["indicator_id"] == indicator_id) & (agg["region_code"] == region_code)]
        if row.empty:
            raise ValueError(f"{region_code} is not a unit of scope {sc}")
        r = row.iloc[0]
        summary = {
            "indicator_id": indicator_id, "region_code": region_code, "scope": sc, "period": per.label,
            "numerator": r["numerator"], "denominator": r["denominator"], "value": r["value"],
            "record_count": r["record_count"], "kind": d.kind, "date_basis": d.date_basis,
            "region_basis": d.region_basis, "definition_zh": d.definition_zh, "definition_en": d.definition_en,
        }
        params = {"indicator_id": indicator_id, "region_code": region_code,
                  "period_start": per.start, "period_end": per.end}
        if d.source in ("complaints", "sampling"):
            # the membership is defined once, for every unit (the drill-down pages read the same table)
            run(con, f"{d.source}_breakdown_members.sql", params)
            run(con, f"{d.source}_breakdown_member_records.sql")  # the members with every column
            records = run(con, "breakdown_unit_records.sql", params).df().drop(columns=["unit", "sort_on", "sort_id"])
        elif d.source == "hotline":
            records = run(con, "hotline_breakdown.sql", params).df()
        else:
            records = run(con, "profiles_breakdown.sql", params).df()
    finally:
        run(con, "drop_work_tables.sql")

    tables: dict[str, pd.DataFrame] = {}
    if d.source == "complaints":
        med = "wd_to_close" if d.kind == "median" else None
        sums = ("amount_disputed", "amount_recovered") if d.kind == "ratio" else ()
        tables["by_category"] = _group(records, ["object_type", "category"], top, median_of=med, sums=sums)
        tables["by_problem_type"] = _group(records, ["problem_type"], top, median_of=med, sums=sums)
        tables["by_respondent"] = _group(records, ["respondent_name", "respondent_uscc"], top, median_of=med, sums=sums)
        tables["by_record_type"] = _group(records, ["record_type"], top, median_of=med, sums=sums)
        tables["by_channel"] = _group(records, ["channel"], top, median_of=med, sums=sums)
        tables["by_entry_unit"] = _group(records, ["entry_unit_id"], top, median_of=med, sums=sums)
        if records["platform_name"].notna().any():
            tables["by_platform"] = _group(records[records["platform_name"].notna() & (records["platform_name"] != "")],
                                           ["platform_name"], top, median_of=med, sums=sums)
    elif d.source == "sampling":
        tables["by_product_category"] = _group(records, ["product_category"], top)
        tables["by_product"] = _group(records, ["product_category", "product_name"], top)
        tables["by_seller"] = _group(records, ["seller_name", "seller_uscc"], top)
        tables["by_manufacturer"] = _group(records, ["manufacturer_name", "manufacturer_uscc"], top)
        tables["by_venue"] = _group(records, ["venue_type"], top)
        tables["failed_items"] = _failed_items(records, top)
    elif d.source == "hotline":
        if not records.empty:
            t = records.groupby("unit_id")[["calls_offered", "calls_answered_first", "calls_answered"]].sum()
            t["first_answer_rate"] = t["calls_answered_first"] / t["calls_offered"]
            tables["by_unit"] = t.reset_index().sort_values("calls_offered", ascending=False).head(top).reset_index(drop=True)
    return Breakdown(sc, per.label, indicator_id, region_code, summary, records, tables)
