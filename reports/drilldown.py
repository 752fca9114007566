"""Drill-down (DESIGN §5.2): composite -> dimensions -> indicators -> regions -> the breakdown and the
record ids behind a value. Static pages in ``<out_dir>/drilldown/``:

* ``index.html`` — a sunburst of the spec's hierarchy (segment = effective weight, colour = mean
  score of the scope); a click on a segment opens that node's page (``post_script`` handler,
  target page in ``customdata``); the regions ranked, each linking to its page.
* ``node_<node_id>.html`` — one per dimension, sub-dimension and indicator: the regions ranked on it
  (score, rank, rank change, interval, grade; for an indicator also raw and used value, numerator,
  denominator, record count and the small-count flag from ``mart.indicator_values``), its
  children with weights, its definition.
* ``region_<code>.html`` — one per region: its scores along the whole hierarchy, strengths and
  weaknesses, and per L3 indicator a collapsible section with the breakdown behind the value
  (``indicators.breakdown`` tables: top categories, problem types, respondents, platforms, failed
  items, ...) and the first record ids; ``records_<code>.csv`` lists every record id behind every
  indicator value of the region (indicator_id, record_id, in_numerator).

Page count = 1 + (nodes below the composite) + regions (58 for a province with the default spec).
Pages load ``../plotly.min.js`` (one copy for the whole folder tree). No personal data: the
breakdown SQL selects no complainant column and no free text; respondents are businesses.

Breakdowns are computed for every region × indicator at once (:func:`batch_breakdowns`: the work
tables are built once; per complaint or sampling indicator the records behind it, for every region,
go into one DuckDB work table, and the top-N tables are grouped there in SQL; hotline and profile
breakdowns run per region) — the same numbers and order as :func:`indicators.breakdown`, which
rebuilds the work tables on every call (~0.3 s each, minutes for a province).
tests/test_reports_index.py checks that both give the same records and tables. Python never holds
the records: a region page lists the first ``RECORD_LIMIT`` record ids of each value and the record
CSVs are streamed from DuckDB (memory flat in the number of records, issue 12).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from index_model.safe_cells import FORMULA_STARTS, csv_value
from reports import labels, render
from reports.index_report import (
    check_data,
    IndexData,
    board_rows,
    change_noise,
    change_text,
    interval_text,
    self_reported_labels,
    click_figure_html,
    fig_hierarchy_sunburst,
    fig_ranking_bars,
    fig_rank_uncertainty,
    fmt_count,
    fmt_indicator_value,
    fmt_interval,
    fmt_rank,
    grade_text,
    load_index_data,
    sunburst_colour_mean,
    sw_items,
    unit_text,
    source_text,
)
from reports.periods import Period
from reports.render import fmt_money, fmt_num, fmt_pct
from reports.scope import Scope

SLOT = render.SLOTS["drilldown"]
DIR = "drilldown"
TOP = 10  # rows per breakdown table
# the breakdown tables shown (of indicators.breakdown's): top categories, problem types, respondents,
# platforms; products, sellers, manufacturers, failed items; hotline units
TABLES = ("by_category", "by_problem_type", "by_respondent", "by_platform", "by_product_category", "by_seller",
          "by_manufacturer", "failed_items", "by_unit")
RECORD_LIMIT = 200  # record ids listed per indicator on a region page (the CSV has all)
_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


# ------------------------------------------------------------------------------------ page names
def _slug(value: str) -> str:
    value = str(value)
    return value if _SAFE.match(value) else "x" + hashlib.sha1(value.encode("utf-8")).hexdigest()[:12]


def node_page(node_id: str) -> str:
    return f"node_{_slug(node_id)}.html"


def region_page(code: str) -> str:
    return f"region_{_slug(code)}.html"


def records_csv(code: str) -> str:
    return f"records_{_slug(code)}.csv"


def anchor(indicator_id: str) -> str:
    return "ind-" + _slug(indicator_id)


# ---------------------------------------------------------------------------------- breakdowns
# The grouped tables of the complaint and sampling indicators, computed in SQL for every unit at once
# (sql/indicators/*_breakdown_tables.sql): table -> its keys, and the GROUPING() columns of the query
# in order (a table's gid has a 1 bit for every column that is not one of its keys).
COMPLAINT_TABLES = {"by_category": ["object_type", "category"], "by_problem_type": ["problem_type"],
                    "by_respondent": ["respondent_name", "respondent_uscc"], "by_record_type": ["record_type"],
                    "by_channel": ["channel"], "by_entry_unit": ["entry_unit_id"], "by_platform": ["platform_name"]}
COMPLAINT_GROUPING = ("object_type", "category", "problem_type", "respondent_name", "respondent_uscc", "record_type",
                      "channel", "entry_unit_id", "platform_name")
SAMPLING_TABLES = {"by_product_category": ["product_category"], "by_product": ["product_category", "product_name"],
                   "by_seller": ["seller_name", "seller_uscc"], "by_manufacturer": ["manufacturer_name", "manufacturer_uscc"],
                   "by_venue": ["venue_type"]}
SAMPLING_GROUPING = ("product_category", "product_name", "seller_name", "seller_uscc", "manufacturer_name",
                     "manufacturer_uscc", "venue_type")
CSV_CHUNK = 100_000  # record ids fetched at a time while writing the record CSVs
_MEMBER_COLUMNS = ("unit", "sort_on", "sort_id", "place", "records_in_unit")  # of breakdown_members_head.sql


def _gid(keys: list[str], grouping: tuple[str, ...]) -> int:
    return sum(1 << (len(grouping) - 1 - i) for i, c in enumerate(grouping) if c not in keys)


def batch_breakdowns(con, scope: str, period: str, indicator_ids, region_codes, *, top: int = TOP,
                     tables=TABLES, record_limit: int | None = RECORD_LIMIT, csv_dir: Path | None = None) -> dict:
    """``{(indicator_id, region_code): indicators.Breakdown}`` for every pair with a value.

    Same records, grouping and order as :func:`indicators.breakdown`, with memory that does not grow
    with the data: the records of a complaint or sampling indicator stay in DuckDB (one work table
    per indicator, every unit at once, ``sql/indicators/*_breakdown_members.sql``), the top-``top``
    tables are computed there (``*_breakdown_tables.sql``), and a Breakdown's ``records`` holds the
    first ``record_limit`` records only (all of them for ``None``; ``n_records`` counts them all).
    With ``csv_dir``, ``records_<code>.csv`` is written there for every region — every record id behind
    every indicator value of the region (indicator_id, record_id, in_numerator), indicators in the
    order given — streamed from DuckDB in chunks. Hotline and profile breakdowns are per unit-month /
    profile row (not per record) and stay small. Sources whose clean table is missing are skipped."""
    from indicators.breakdown import Breakdown
    from indicators.compute import SOURCE_TABLES, _aggregate, _clean_tables, _prepare_source, install_reference_tables
    from indicators.definitions import definitions
    from indicators.periods import parse_period as ind_period
    from indicators.sqlfiles import run as ind_run
    from indicators.sqlfiles import stream as ind_stream

    defs = definitions()
    per = ind_period(period)
    wanted = [i for i in dict.fromkeys(indicator_ids) if i in defs]
    regions = [str(r) for r in region_codes]
    have = _clean_tables(con)
    out: dict = {}
    sc = install_reference_tables(con, scope)
    csvs = _RecordCsvs(csv_dir, regions) if csv_dir is not None else None
    try:
        used = {defs[i].source for i in wanted}
        prepared: dict = {}
        for source in ("profile", "complaints", "sampling", "hotline"):
            needed = ["profile", source] if source in ("complaints", "profile") else [source]
            if source not in used or any(SOURCE_TABLES[s] not in have for s in needed):
                continue
            for s in needed:
                if s not in prepared:
                    prepared[s] = _prepare_source(con, s, per)
        aggs = {s: _aggregate(con, s, prepared[s]) for s in used if s in prepared}
        for ind in wanted:
            d = defs[ind]
            if d.source not in aggs:
                continue
            agg = aggs[d.source]
            rows = agg[agg["indicator_id"] == ind].set_index("region_code")
            present = [reg for reg in regions if reg in rows.index]

            def summary(reg):
                r = rows.loc[reg]
                return {"indicator_id": ind, "region_code": reg, "scope": sc, "period": per.label,
                        "numerator": r["numerator"], "denominator": r["denominator"], "value": r["value"],
                        "record_count": r["record_count"], "kind": d.kind, "date_basis": d.date_basis,
                        "region_basis": d.region_basis, "definition_zh": d.definition_zh,
                        "definition_en": d.definition_en}

            if d.source in ("complaints", "sampling"):
                ind_run(con, f"{d.source}_breakdown_members.sql", {"indicator_id": ind})
                grouped = ind_run(con, f"{d.source}_breakdown_tables.sql", {"top": top}).df()
                limit = record_limit if record_limit is not None else 2 ** 62
                if csvs is not None:  # one sort of the members: the CSV stream also gives the first ids
                    counts, first = csvs.write(ind, ind_stream(con, "breakdown_members_ids.sql", batch_rows=CSV_CHUNK),
                                               limit)
                    con.register("ind_breakdown_head_frame", pd.DataFrame(
                        [(u, r) for u, ids in first.items() for r in ids], columns=["unit", "record_id"],
                        dtype=object))
                    try:
                        head = ind_run(con, "breakdown_members_head_by_id.sql").df()
                    finally:
                        con.unregister("ind_breakdown_head_frame")
                else:
                    head = ind_run(con, "breakdown_members_head.sql", {"record_limit": limit}).df()
                    counts = head.groupby("unit", sort=False)["records_in_unit"].first().to_dict()
                failed = (ind_run(con, "breakdown_failed_items.sql").df()
                          if d.source == "sampling" and (tables is None or "failed_items" in tables) else None)
                by_unit_grouped = dict(tuple(grouped.groupby("unit", sort=False)))
                by_unit_head = dict(tuple(head.groupby("unit", sort=False)))
                by_unit_failed = dict(tuple(failed.groupby("unit", sort=False))) if failed is not None else {}
                empty_head = head.iloc[0:0]
                for reg in present:
                    h = by_unit_head.get(reg, empty_head)
                    n = int(counts.get(reg, 0))
                    records = h.drop(columns=[c for c in _MEMBER_COLUMNS if c in h.columns]).reset_index(drop=True)
                    tabs = grouped_tables(d, by_unit_grouped.get(reg), top, tables)
                    if failed is not None:
                        from indicators.breakdown import _failed_items

                        f = by_unit_failed.get(reg)
                        tabs["failed_items"] = _failed_items(
                            f if f is not None else pd.DataFrame(columns=["sample_id", "failed_items"]), top)
                    out[(ind, reg)] = Breakdown(sc, per.label, ind, reg, summary(reg), records, tabs, n_records=n)
            else:  # hotline unit-months, profile rows: a few rows per unit
                file = {"hotline": "hotline_breakdown.sql", "profile": "profiles_breakdown.sql"}[d.source]
                for reg in present:
                    params = {"indicator_id": ind, "region_code": reg, "period_start": per.start, "period_end": per.end}
                    records = ind_run(con, file, params).df()
                    out[(ind, reg)] = Breakdown(sc, per.label, ind, reg, summary(reg), records,
                                                breakdown_tables(d, records, top, tables))
        if csvs is not None:
            csvs.close()
    finally:
        if csvs is not None:
            csvs.discard()
        ind_run(con, "drop_work_tables.sql")
    return out


def grouped_tables(d, rows: pd.DataFrame | None, top: int, tables=None) -> dict[str, pd.DataFrame]:
    """The top-N tables of one unit from ``*_breakdown_tables.sql`` rows (that unit's), shaped as
    :func:`group_records` shapes them from the unit's records (same columns, values and order)."""
    want = (lambda k: tables is None or k in tables)
    if d.source == "complaints":
        spec, grouping = COMPLAINT_TABLES, COMPLAINT_GROUPING
        med = "wd_to_close" if d.kind == "median" else None
        sums = ("amount_disputed", "amount_recovered") if d.kind == "ratio" else ()
    else:
        spec, grouping, med, sums = SAMPLING_TABLES, SAMPLING_GROUPING, None, ()
    out: dict[str, pd.DataFrame] = {}
    for key, keys in spec.items():
        if not want(key):
            continue
        g = rows[rows["gid"] == _gid(keys, grouping)] if rows is not None else None
        if key == "by_platform":
            # indicators.breakdown: a platform table only when some record names a platform (even ''),
            # over the records naming a non-empty one
            if g is None or not g["platform_name"].notna().any():
                continue
            g = g[~g["left_out"].astype(bool)]
        if g is None or g.empty:
            out[key] = pd.DataFrame(columns=keys + ["records", "share_of_records"])
            continue
        has_num = int(g["frame_numerator"].iloc[0]) > 0
        frame = pd.DataFrame({k: [EMPTY if _na(v) else v for v in g[k]] for k in keys})
        frame["records"] = g["records"].astype(int).to_numpy()
        frame["share_of_records"] = (g["records"] / g["frame_records"]).astype(float).to_numpy()
        if has_num:
            frame["in_numerator"] = g["in_numerator"].fillna(0).astype(float).to_numpy()
            frame["numerator_share"] = frame["in_numerator"] / frame["records"]
        if med:
            frame[f"median_{med}"] = pd.to_numeric(g[f"median_{med}"], errors="coerce").astype(float).to_numpy()
        for c in sums:
            frame[c] = g[c].fillna(0).astype(float).to_numpy()
        out[key] = frame.head(top).reset_index(drop=True)
    return out


class _RecordCsvs:
    """``records_<code>.csv`` for every region, written as the record ids stream from DuckDB (see
    :func:`batch_breakdowns`): the bytes csv.writer would write (utf-8 BOM, CRLF, minimal quoting,
    formula-like text prefixed: index_model.safe_cells). Ids arrive as Arrow batches ordered by unit;
    a batch whose ids need no quoting or prefix (the usual case) is joined into lines by Arrow, any
    other goes through csv.writer row by row. Each file is written beside its name and moved in place
    by ``close``."""

    # a field csv.writer quotes (delimiter, quote, line end) or csv_value prefixes
    SPECIAL = "^[" + "".join("\\" + c if c in "-^]\\" else c for c in FORMULA_STARTS) + "]|[,\"\r\n]"

    def __init__(self, folder: Path, regions: list[str]):
        self.folder = Path(folder)
        self.files = {}
        for code in regions:
            f = open(self._tmp(code), "w", encoding="utf-8", newline="")
            f.write("\ufeffindicator_id,record_id,in_numerator\r\n")
            self.files[code] = f

    def _tmp(self, code: str) -> Path:
        path = self.folder / records_csv(code)
        return path.with_name(path.name + ".tmp")

    def write(self, indicator_id: str, batches, first: int) -> tuple[dict[str, int], dict[str, list]]:
        """Append the rows of ``batches`` (unit, record_id, in_numerator; ordered by unit) to the
        units' files; returns the rows per unit (every unit, also one without a file) and the first
        ``first`` record ids per unit."""
        import pyarrow as pa
        import pyarrow.compute as pc

        ind = csv_value(indicator_id)
        counts: dict[str, int] = {}
        heads: dict[str, list] = {}
        for batch in batches:
            if batch.num_rows == 0:
                continue
            units = pc.run_end_encode(batch.column(0).cast(pa.string()))
            rid = batch.column(1).cast(pa.string())
            k = batch.column(2)
            plain = not (rid.null_count or pc.any(pc.match_substring_regex(rid, self.SPECIAL)).as_py())
            if plain:
                text = pc.fill_null(pc.cast(k, pa.string()), "")
                lines = pc.binary_join_element_wise(ind, rid, text, ",").to_pylist()
            else:
                rows = [[ind, csv_value(str(r)), "" if v is None else int(v)]
                        for r, v in zip(rid.to_pylist(), k.to_pylist())]
            start = 0
            for end, code in zip(units.run_ends.to_pylist(), units.values.to_pylist()):
                have = heads.setdefault(code, [])
                if len(have) < first:
                    have += rid.slice(start, min(end - start, first - len(have))).to_pylist()
                counts[code] = counts.get(code, 0) + end - start
                f = self.files.get(code)  # a unit outside the regions shown has no file
                if f is not None:
                    if plain:
                        f.write("\r\n".join(lines[start:end]) + "\r\n")
                    else:
                        csv.writer(f).writerows(rows[start:end])
                start = end
        return counts, heads

    def close(self) -> None:
        for code, f in self.files.items():
            f.close()
            self._tmp(code).replace(self.folder / records_csv(code))
        self.files = {}

    def discard(self) -> None:  # after a failure: no half-written file left behind
        for code, f in self.files.items():
            f.close()
            self._tmp(code).unlink(missing_ok=True)
        self.files = {}


def breakdown_tables(d, records: pd.DataFrame, top: int, tables=None) -> dict[str, pd.DataFrame]:
    """The top-N tables of :func:`indicators.breakdown` for one indicator definition ``d`` (only the
    keys in ``tables`` when given; same grouping functions)."""
    from indicators.breakdown import _failed_items

    _group = group_records
    want = (lambda k: tables is None or k in tables)
    out: dict[str, pd.DataFrame] = {}
    if d.source == "complaints":
        med = "wd_to_close" if d.kind == "median" else None
        sums = ("amount_disputed", "amount_recovered") if d.kind == "ratio" else ()
        for key, cols in (("by_category", ["object_type", "category"]), ("by_problem_type", ["problem_type"]),
                          ("by_respondent", ["respondent_name", "respondent_uscc"]), ("by_record_type", ["record_type"]),
                          ("by_channel", ["channel"]), ("by_entry_unit", ["entry_unit_id"])):
            if want(key):
                out[key] = _group(records, cols, top, median_of=med, sums=sums)
        if want("by_platform") and records["platform_name"].notna().any():
            out["by_platform"] = _group(records[records["platform_name"].notna() & (records["platform_name"] != "")],
                                        ["platform_name"], top, median_of=med, sums=sums)
    elif d.source == "sampling":
        for key, cols in (("by_product_category", ["product_category"]), ("by_product", ["product_category", "product_name"]),
                          ("by_seller", ["seller_name", "seller_uscc"]),
                          ("by_manufacturer", ["manufacturer_name", "manufacturer_uscc"]), ("by_venue", ["venue_type"])):
            if want(key):
                out[key] = _group(records, cols, top)
        if want("failed_items"):
            out["failed_items"] = _failed_items(records, top)
    elif d.source == "hotline" and want("by_unit"):
        if not records.empty:
            t = records.groupby("unit_id")[["calls_offered", "calls_answered_first", "calls_answered"]].sum()
            t["first_answer_rate"] = t["calls_answered_first"] / t["calls_offered"]
            out["by_unit"] = t.reset_index().sort_values("calls_offered", ascending=False).head(top).reset_index(drop=True)
    return out


def group_records(records: pd.DataFrame, keys: list[str], top: int, *, median_of: str | None = None,
                  sums: tuple[str, ...] = ()) -> pd.DataFrame:
    """``indicators.breakdown._group`` in plain Python: the same table (records, share_of_records,
    in_numerator, numerator_share, median, sums per key; most records first, then keys ascending;
    top ``top``), ~20x faster on the small per-region frames (pandas' per-call overhead dominates
    there). tests/test_reports_index.py compares the two."""
    if records.empty:
        return pd.DataFrame(columns=keys + ["records", "share_of_records"])
    n = len(records)
    key_cols = [[EMPTY if _na(v) else v for v in records[k].tolist()] for k in keys]
    has_num = "in_numerator" in records.columns and records["in_numerator"].notna().any()
    num = records["in_numerator"].tolist() if has_num else None
    med = records[median_of].tolist() if median_of else None
    sm = {c: records[c].tolist() for c in sums}
    groups: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(*key_cols)):
        groups.setdefault(key, []).append(i)
    rows = []
    for key, idx in groups.items():
        r: dict[str, Any] = dict(zip(keys, key))
        r["records"] = len(idx)
        r["share_of_records"] = len(idx) / n
        if has_num:
            total = sum(float(num[i]) for i in idx if not _na(num[i]))
            r["in_numerator"] = total
            r["numerator_share"] = total / len(idx)
        if median_of:
            vals = [float(med[i]) for i in idx if not _na(med[i])]
            r[f"median_{median_of}"] = float(np.median(vals)) if vals else float("nan")
        for c in sums:
            r[c] = sum(float(sm[c][i]) for i in idx if not _na(sm[c][i]))
        rows.append(r)
    try:
        rows.sort(key=lambda r: (-r["records"], *[r[k] for k in keys]))
    except TypeError:  # mixed key types: order them as text
        rows.sort(key=lambda r: (-r["records"], *[str(r[k]) for k in keys]))
    cols = keys + ["records", "share_of_records"] + (["in_numerator", "numerator_share"] if has_num else []) + \
        ([f"median_{median_of}"] if median_of else []) + list(sums)
    return pd.DataFrame(rows[:top], columns=cols)


EMPTY = "（空）"  # indicators.breakdown's label of a missing key


def _na(v: Any) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


# column of a breakdown table -> (label key, kind); unknown columns are shown as text under their name
BD_COLUMNS: dict[str, tuple[str, str]] = {
    "object_type": ("col.object_type", "vocab"), "category": ("col.category", "vocab"),
    "problem_type": ("col.dd.problem_type", "vocab"), "respondent_name": ("col.respondent", "text"),
    "respondent_uscc": ("col.uscc", "text"), "record_type": ("col.dd.record_type", "vocab"),
    "channel": ("col.channel", "vocab"), "entry_unit_id": ("col.dd.entry_unit", "text"),
    "platform_name": ("col.platform", "text"), "product_category": ("col.category", "vocab"),
    "product_name": ("col.product", "text"), "seller_name": ("col.seller", "text"), "seller_uscc": ("col.uscc", "text"),
    "manufacturer_name": ("col.manufacturer", "text"), "manufacturer_uscc": ("col.uscc", "text"),
    "venue_type": ("col.venue", "vocab"), "failed_item": ("col.item", "text"), "batches": ("col.batches", "int"),
    "sample_ids": ("col.dd.sample_ids", "list"), "records": ("col.dd.records", "int"),
    "share_of_records": ("col.share", "pct"), "in_numerator": ("col.dd.in_numerator", "int"),
    "numerator_share": ("col.dd.numerator_share", "pct"), "median_wd_to_close": ("col.dd.median_wd", "num"),
    "amount_disputed": ("col.amount_disputed", "money"), "amount_recovered": ("col.amount_recovered", "money"),
    "unit_id": ("col.dd.hotline_unit", "text"), "calls_offered": ("col.dd.calls_offered", "int"),
    "calls_answered_first": ("col.dd.calls_first", "int"), "calls_answered": ("col.dd.calls_answered", "int"),
    "first_answer_rate": ("col.dd.first_rate", "pct"), "region_code": ("col.unit_code", "text"),
    "year": ("col.dd.year", "text"), "role": ("col.dd.role", "text"), "population": ("col.dd.population", "int"),
    "market_entities": ("col.dd.market_entities", "int"), "service_stations": ("col.dd.service_stations", "int"),
    "consumer_org_branches": ("col.dd.consumer_orgs", "int"), "protection_staff": ("col.dd.protection_staff", "int"),
    "protection_funding_10k_yuan": ("col.dd.protection_funding", "money"),
    "special_equipment_units": ("col.dd.se_units", "int"), "special_equipment_accidents": ("col.dd.se_accidents", "int"),
    "annual_report_rate": ("col.dd.annual_report_rate", "pct"), "month": ("col.month", "text"),
}
PROFILE_COLUMNS = ["region_code", "year", "role", "population", "market_entities", "service_stations",
                   "consumer_org_branches", "protection_staff", "protection_funding_10k_yuan", "special_equipment_units",
                   "special_equipment_accidents", "annual_report_rate"]
HOTLINE_COLUMNS = ["unit_id", "month", "calls_offered", "calls_answered_first", "calls_answered"]


def _cell(v: Any, kind: str, vt) -> str:
    if kind == "list":
        return "、".join(str(x) for x in (v if isinstance(v, (list, tuple)) else list(v) if hasattr(v, "__iter__") and not isinstance(v, str) else [v]))
    if v is None or (not isinstance(v, (list, tuple)) and pd.isna(v)):
        return "–"
    if kind == "int":
        return f"{int(v):,}"
    if kind == "pct":
        return fmt_pct(v)
    if kind == "money":
        return fmt_money(v)
    if kind == "num":
        return fmt_num(v, 1)
    if kind == "vocab":
        return vt(v)
    if isinstance(v, (dt.date, dt.datetime, pd.Timestamp)):
        return pd.Timestamp(v).strftime("%Y-%m")
    return str(v)


def _table(frame: pd.DataFrame, t, vt, columns: list[str] | None = None) -> dict:
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    heads = []
    for c in cols:
        key, kind = BD_COLUMNS.get(c, ("", "text"))
        heads.append({"key": c, "label": t(key) if key else c, "kind": kind,
                      "numeric": kind in ("int", "pct", "money", "num")})
    rows = [[_cell(r[h["key"]], h["kind"], vt) for h in heads] for r in frame.to_dict("records")]
    return {"heads": heads, "rows": rows}


# -------------------------------------------------------------------------------------- context
def _node_href(d: IndexData):
    return lambda n: "index.html" if n == d.root else node_page(n)


def _crumbs(d: IndexData, node_id: str | None) -> list[dict]:
    out = [{"label": d.label(d.root), "href": "index.html"}]
    if node_id:
        for n in d.spec.path(node_id)[1:]:
            out.append({"label": d.label(n), "href": node_page(n)})
    return out


def _value_cells(d: IndexData, ind: str, code: str) -> dict:
    vals = d.value_rows(ind)
    change, noise = change_noise(d, ind, code)
    if code not in vals.index:
        return {"raw": "–", "used": "–", "num": "–", "den": "–", "count": "–", "small": False, "treatment": "",
                "value_interval": "–", "value_change": change, "value_noise": noise}
    v = vals.loc[code]
    small = bool(v["small_count"]) if pd.notna(v["small_count"]) else False
    return {"raw": fmt_indicator_value(d, ind, v["raw_value"]), "used": fmt_indicator_value(d, ind, v["value"]),
            "num": fmt_count(v["numerator"]), "den": fmt_count(v["denominator"]), "count": fmt_count(v["record_count"]),
            "small": small, "treatment": v["treatment"] if isinstance(v["treatment"], str) else "",
            "min_records": fmt_rank(v["min_records"]), "value_interval": interval_text(d, ind, code),
            "value_change": change, "value_noise": noise}


def _node_context(d: IndexData, node_id: str) -> dict:
    from index_model import weights_table

    t = labels.translator(d.lang)
    wt = weights_table(d.result).set_index("node_id")
    is_ind = d.is_indicator(node_id)
    nd = d.node(node_id)
    n = d.n_ranked(node_id)
    kids = list(d.spec.children(node_id))
    kid_rows = {k: d.node(k) for k in kids}
    rows = []
    for code in nd.index:
        r = nd.loc[code]
        ch, cls = change_text(r["rank_change"]) if d.has_prev else ("—", "none")
        row = {"code": code, "name": d.names.get(code, code),
               "href": region_page(code) + ("#" + anchor(node_id) if is_ind else ""),
               "rank": fmt_rank(r["rank"]), "n": n, "score": fmt_num(r["score"], 2), "change": ch, "change_class": cls,
               "interval": fmt_interval(r["rank_low"], r["rank_high"]), "grade": grade_text(d, r["grade"]),
               "grade_raw": r["grade"] if isinstance(r["grade"], str) else "",
               "kids": [fmt_num(kid_rows[k].at[code, "score"], 1) if code in kid_rows[k].index else "–" for k in kids]}
        if is_ind:
            row.update(_value_cells(d, node_id, code))
        rows.append(row)
    info = {"id": node_id, "label": d.label(node_id), "level": d.spec.level[node_id],
            "local_weight": fmt_pct(wt.at[node_id, "local_weight"]),
            "effective_weight": fmt_pct(wt.at[node_id, "effective_weight"], 2),
            "parent": d.label(d.spec.parent[node_id]) if d.spec.parent.get(node_id) else "",
            "parent_href": (node_page(d.spec.parent[node_id]) if d.spec.parent.get(node_id) != d.root else "index.html")
            if d.spec.parent.get(node_id) else ""}
    definition = None
    if is_ind:
        from indicators import methodology_table

        mt = methodology_table(d.spec).set_index("indicator_id")
        node = d.spec.nodes[node_id]
        if node_id in mt.index:
            m = mt.loc[node_id]
            definition = {"text": (m["definition_zh"] if d.lang == "zh" else m["definition_en"]) or m["definition_en"] or "",
                          "numerator": m["numerator"] or "", "denominator": m["denominator"] or "",
                          "date_basis": m["date_basis"] or "", "region_basis": m["region_basis"] or "",
                          "min_records": fmt_rank(m["min_records"]) if pd.notna(m["min_records"]) else "–",
                          "treatment": m["small_count_treatment"] or "–"}
        else:
            definition = {"text": node.definition or "", "numerator": "", "denominator": "", "date_basis": "",
                          "region_basis": "", "min_records": "–", "treatment": "–"}
        definition.update(direction=t("ir.dir.up") if node.direction > 0 else t("ir.dir.down"),
                          unit=unit_text(d, node.unit), source=source_text(d, node.source),
                          target=(fmt_pct(node.target) if d.is_pct(node_id) else fmt_num(node.target, 2))
                          if node.target is not None else "–")
    children = [{"id": k, "label": d.label(k), "href": node_page(k), "local_weight": fmt_pct(wt.at[k, "local_weight"]),
                 "mean": fmt_num(d.node(k)["score"].mean(), 1)} for k in kids]
    caveat = [d.label(i) for i in d.spec.leaves(node_id) if getattr(d.spec.nodes[i], "self_reported", False)]
    return {"info": info, "rows": rows, "children": children, "is_indicator": is_ind, "definition": definition,
            "kid_labels": [d.label(k) for k in kids], "self_reported": caveat}


def _region_context(d: IndexData, code: str, bds: dict, record_limit: int) -> dict:
    t = labels.translator(d.lang)
    vt = labels.value_translator(d.lang)
    top = d.node(d.root)
    r = top.loc[code]
    ch, _ = change_text(r["rank_change"]) if d.has_prev else ("—", "none")
    tiles = [
        (t("col.ir.score"), fmt_num(r["score"], 2)),
        (t("col.ir.rank"), f"{fmt_rank(r['rank'])} / {d.n_ranked(d.root)}"),
        (t("col.ir.rank_change"), ch),
        (t("col.ir.interval"), fmt_interval(r["rank_low"], r["rank_high"])),
        (t("col.ir.grade"), grade_text(d, r["grade"])),
    ]
    tree = []
    for nid in d.spec.preorder:
        nd = d.node(nid)
        has = code in nd.index
        row = {"id": nid, "label": d.label(nid), "level": d.spec.level[nid],
               "href": "index.html" if nid == d.root else node_page(nid), "is_indicator": d.is_indicator(nid),
               "score": fmt_num(nd.at[code, "score"], 2) if has else "–",
               "rank": fmt_rank(nd.at[code, "rank"]) if has else "–", "n": d.n_ranked(nid),
               "grade": grade_text(d, nd.at[code, "grade"]) if has else "–",
               "anchor": anchor(nid) if d.is_indicator(nid) else ""}
        if d.is_indicator(nid):
            row.update(_value_cells(d, nid, code))
        tree.append(row)
    sections = []
    for ind in d.spec.indicator_ids:
        b = bds.get((ind, code))
        vals = _value_cells(d, ind, code)
        sec = {"id": ind, "anchor": anchor(ind), "label": d.label(ind), "node_href": node_page(ind), **vals,
               "tables": [], "record_ids": [], "n_records": 0, "records_table": None, "available": b is not None}
        if b is not None:
            for key, frame in b.tables.items():
                if frame is None or frame.empty:
                    continue
                sec["tables"].append({"key": key, "caption": t("dd.bd." + key) if "dd.bd." + key in labels.LABELS else key,
                                      **_table(frame, t, vt)})
            recs = b.records  # the first records only (batch_breakdowns); n_records counts them all
            idcol = _id_column(recs)
            if idcol:
                sec["n_records"] = b.n_records
                sec["record_ids"] = [str(x) for x in recs[idcol].head(record_limit)]
            elif "unit_id" in recs.columns:
                sec["records_table"] = _table(recs, t, vt, HOTLINE_COLUMNS)
                sec["n_records"] = len(recs)
            elif "role" in recs.columns:
                sec["records_table"] = _table(recs, t, vt, PROFILE_COLUMNS)
                sec["n_records"] = len(recs)
        sections.append(sec)
    return {"code": code, "name": d.names.get(code, code), "tiles": tiles, "tree": tree, "sections": sections,
            "strengths": [dict(i, anchor=anchor(i["node_id"])) for i in sw_items(d, code, "strength")],
            "weaknesses": [dict(i, anchor=anchor(i["node_id"])) for i in sw_items(d, code, "weakness")],
            "boards": board_rows(d, code), "self_reported": self_reported_labels(d), "has_noise": not d.noise.empty,
            "record_limit": record_limit}


def _id_column(records: pd.DataFrame) -> str | None:
    return "record_id" if "record_id" in records.columns else ("sample_id" if "sample_id" in records.columns else None)


def csv_rows(code: str, indicator_ids: list[str], bds: dict) -> int:
    """Rows of ``records_<code>.csv`` (written by :func:`batch_breakdowns`): the records behind the
    region's complaint and sampling indicator values."""
    return sum(b.n_records for ind in indicator_ids if (b := bds.get((ind, code))) is not None
               and _id_column(b.records))


# ---------------------------------------------------------------------------------------- build
def build_drilldown(con, scope: str | Scope, period: str | Period, out_dir: Path, lang: str = "zh", *, spec=None,
                    generated_at: dt.datetime | None = None, data: IndexData | None = None,
                    record_limit: int = RECORD_LIMIT, top: int = TOP) -> Path:
    """Write ``drilldown/`` (index, node, region pages and per-region record CSVs); returns drilldown/index.html."""
    d = check_data(data, scope, period, lang) if data else load_index_data(con, scope, period, lang, spec=spec)
    out_dir = Path(out_dir)
    folder = out_dir / DIR
    folder.mkdir(parents=True, exist_ok=True)
    t = labels.translator(lang)
    common = dict(lang=lang, scope_label=d.scope.label(lang), period_label=d.period.label(lang),
                  generated_at=generated_at)
    # the breakdowns hold each value's first record_limit records; the CSVs (every record) are written
    # as the ids stream out of DuckDB, so memory does not grow with the data
    bds = batch_breakdowns(con, d.scope.key, d.period.key, d.spec.indicator_ids, d.regions, top=top,
                           record_limit=record_limit, csv_dir=folder)

    # node pages
    for nid in d.spec.preorder[1:]:
        ctx = _node_context(d, nid)
        fig = click_figure_html(fig_ranking_bars(d, lambda c, _n=nid: region_page(c) + (
            "#" + anchor(_n) if d.is_indicator(_n) else ""), node=nid), "fig-node-scores")
        render.render_page(out_dir, f"{DIR}/{node_page(nid)}", "drilldown_node.html.j2", report_key="drilldown_node",
                           title=f"{ctx['info']['label']} · {t(SLOT.label)}", crumbs=_crumbs(d, nid),
                           fig=fig, has_prev=d.has_prev, **ctx, **common)

    # region pages + record CSVs
    for code in d.regions:
        ctx = _region_context(d, code, bds, record_limit)
        colour = d.cur[d.cur.region_code == code].set_index("node_id")["score"]
        sun = click_figure_html(fig_hierarchy_sunburst(d, colour, _node_href(d), t("dd.fig.region_sunburst", region=ctx["name"])),
                                "fig-region-sunburst", event="plotly_sunburstclick")
        n_csv = csv_rows(code, d.spec.indicator_ids, bds)
        render.render_page(out_dir, f"{DIR}/{region_page(code)}", "drilldown_region.html.j2",
                           report_key="drilldown_region", title=f"{ctx['name']} · {t(SLOT.label)}",
                           crumbs=[{"label": d.label(d.root), "href": "index.html"}, {"label": ctx["name"], "href": ""}],
                           fig=sun, csv_href=records_csv(code), n_csv=n_csv, **ctx, **common)

    # index
    sun = click_figure_html(fig_hierarchy_sunburst(d, sunburst_colour_mean(d), _node_href(d), t("dd.fig.sunburst")),
                            "fig-hierarchy-sunburst", event="plotly_sunburstclick")
    unc = render.figure_html(fig_rank_uncertainty(d), "fig-rank-uncertainty")
    top_rows = d.node(d.root)
    regions = [{"code": c, "name": d.names.get(c, c), "href": region_page(c), "rank": fmt_rank(top_rows.at[c, "rank"]),
                "score": fmt_num(top_rows.at[c, "score"], 2), "grade": grade_text(d, top_rows.at[c, "grade"]),
                "grade_raw": top_rows.at[c, "grade"] if isinstance(top_rows.at[c, "grade"], str) else "",
                "interval": fmt_interval(top_rows.at[c, "rank_low"], top_rows.at[c, "rank_high"])} for c in d.regions]
    tree = [{"id": n, "label": d.label(n), "href": node_page(n), "level": d.spec.level[n],
             "children": [{"id": k, "label": d.label(k), "href": node_page(k),
                           "children": [{"id": g, "label": d.label(g), "href": node_page(g)} for g in d.spec.children(k)]}
                          for k in d.spec.children(n)]} for n in d.dimensions]
    return render.render_page(out_dir, SLOT.filename, "drilldown_index.html.j2", report_key=SLOT.key,
                              title=t(SLOT.label), sunburst=sun, uncertainty=unc, regions=regions, tree=tree,
                              self_reported=self_reported_labels(d),
                              notes=d.notes, n_pages=1 + len(d.spec.preorder) - 1 + len(d.regions), **common)
