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
  weaknesses, and per L3 indicator a collapsible section with the four facts (value, target, median
  of the regions, same period last year), the records that matter as masked summaries (the first
  ``FOCUS_LIMIT``, with the total) and the breakdown behind the value (``indicators.breakdown``
  tables: top categories, problem types, respondents, platforms, failed items, ...);
  ``records_<code>.csv`` lists every record id behind every indicator value of the region
  (indicator_id, record_id, in_numerator) and ``lists/<code>_<indicator>.xlsx`` the first
  ``LIST_ROWS`` records that matter, with the total (``in_focus``, defined per indicator in
  ``sql/indicators/*_breakdown_members.sql``: the open
  complaints behind a closure rate, the failed batches behind a pass rate, ...). A region whose own
  units have index scores stored (a prefecture's counties) lists them, linking to their drill-down in
  ``sub_<code>/``.

Page count = 1 + (nodes below the composite) + regions (58 for a province with the default spec),
plus the sub-drill-downs. Pages load plotly.js from the folder root (one copy for the whole tree). No
personal data: the complainant's identity is never selected; the excerpts of the complaint text are
masked again (phone and ID numbers, ``pii_mask_numbers``) before they are cut to ``EXCERPT_CHARS``;
respondents are businesses. No internal identifier on a page (issue 10 point 9): regions, hotline units
and profile rows by name, definitions in words.

Breakdowns are computed for every region × indicator at once (:func:`batch_breakdowns`: the work
tables are built once; per complaint or sampling indicator the records behind it, for every region,
go into one DuckDB work table, and the top-N tables are grouped there in SQL; hotline and profile
breakdowns run per region) — the same numbers and order as :func:`indicators.breakdown`, which
rebuilds the work tables on every call (~0.3 s each, minutes for a province).
tests/test_reports_index.py checks that both give the same records and tables. Python never holds
the records: the record CSVs and the XLSX lists are streamed from DuckDB in chunks and only the first
rows of each list are kept for the pages (memory flat in the number of records, issue 12).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
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
    in_language,
    plain_words,
    treatment_text,
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
# record ids sorted in one query for the CSVs (a run of (unit, day) pieces, member_runs): one province's members
# at 20M records (4.8M ids) sorted in 2 s beside the members table; all 20M at once, and one province's at 44M,
# did not fit DuckDB's 1.2 GB
CSV_SORT_ROWS = 3_000_000
_MEMBER_COLUMNS = ("unit", "sort_on", "sort_id", "place", "records_in_unit")  # of breakdown_members_head.sql


def member_runs(pieces: list[tuple], limit: int) -> list[tuple]:
    """(first unit, first day, last unit, last day) of runs of consecutive ``pieces`` ((unit, day, members), in
    SQL order: breakdown_member_units.sql) holding at most ``limit`` members each — a piece with more on its own:
    each run is one sort in DuckDB (breakdown_members_ids.sql)."""
    runs: list[tuple] = []
    first, rows = None, 0
    for i, (unit, day, n) in enumerate(pieces):
        if first is not None and rows + n > limit:
            runs.append((*first, *pieces[i - 1][:2]))
            first, rows = None, 0
        if first is None:
            first = (unit, day)
        rows += n
    if first is not None:
        runs.append((*first, *pieces[-1][:2]))
    return runs


def _gid(keys: list[str], grouping: tuple[str, ...]) -> int:
    return sum(1 << (len(grouping) - 1 - i) for i, c in enumerate(grouping) if c not in keys)


def batch_breakdowns(con, scope: str, period: str, indicator_ids, region_codes, *, top: int = TOP,
                     tables=TABLES, record_limit: int | None = RECORD_LIMIT, csv_dir: Path | None = None,
                     focus_limit: int | None = None, xlsx_dir: Path | None = None, lang: str = "zh") -> dict:
    """``{(indicator_id, region_code): indicators.Breakdown}`` for every pair with a value.

    Same records, grouping and order as :func:`indicators.breakdown`, with memory that does not grow
    with the data: the records of a complaint or sampling indicator stay in DuckDB (one work table
    per indicator, every unit at once, ``sql/indicators/*_breakdown_members.sql``), the top-``top``
    tables are computed there (``*_breakdown_tables.sql``), and a Breakdown's ``records`` holds the
    first ``record_limit`` records only (all of them for ``None``; ``n_records`` counts them all).
    With ``csv_dir``, ``records_<code>.csv`` is written there for every region — every record id behind
    every indicator value of the region (indicator_id, record_id, in_numerator), indicators in the
    order given — streamed from DuckDB in chunks. Hotline and profile breakdowns are per unit-month /
    profile row (not per record) and stay small. Sources whose clean table is missing are skipped.

    With ``focus_limit``, a complaint or sampling Breakdown also carries the records that matter
    (``in_focus``, defined per indicator in ``*_breakdown_members.sql``) as masked summaries
    (``*_breakdown_focus.sql``): the first ``focus_limit`` in ``focus`` and their number in ``n_focus``;
    with ``xlsx_dir`` as well, the first ``LIST_ROWS`` of them go into ``<xlsx_dir>/<region>_<indicator>.xlsx`` (one
    workbook per region with any, headers in ``lang``), streamed like the CSVs. The complaint lists are read in
    one query after the loop over indicators (each indicator adds its keys), so the complaint text is read once."""
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
    if focus_limit is not None:
        from data_quality.sql_macros import install_macros

        install_macros(con)  # pii_mask_numbers for the excerpts (TEMP: also on a read-only connection)
    csvs = _RecordCsvs(csv_dir, regions) if csv_dir is not None else None
    complaint_lists: dict[str, _FocusLists] = {}  # indicator -> its lists, filled after the loop
    # whatever work tables an earlier step left go first: a second ind_complaint_records built beside a first
    # ran out of DuckDB's memory at 44M records (reports.kpi_scorecard.collect)
    ind_run(con, "drop_work_tables.sql")
    try:
        if focus_limit is not None:
            ind_run(con, "complaints_breakdown_focus_keys_ddl.sql")
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
                ind_run(con, f"{d.source}_breakdown_member_records.sql")  # whole records, for the first rows
                if d.source == "complaints":  # the kept rows first, as a table (see the SQL file)
                    ind_run(con, "complaints_breakdown_kept.sql", {"top": top})
                    grouped = ind_run(con, "complaints_breakdown_tables.sql").df()
                else:
                    grouped = ind_run(con, "sampling_breakdown_tables.sql", {"top": top}).df()
                limit = record_limit if record_limit is not None else 2 ** 62
                if csvs is not None:  # one sort of the members: the CSV stream also gives the first ids
                    pieces = ind_run(con, "breakdown_member_units.sql").fetchall()
                    batches = (b for fu, fd, lu, ld in member_runs(pieces, CSV_SORT_ROWS)  # breakdown_members_ids.sql
                               for b in ind_stream(con, "breakdown_members_ids.sql",
                                                   {"first_unit": fu, "first_day": fd, "last_unit": lu, "last_day": ld},
                                                   batch_rows=CSV_CHUNK))
                    counts, first = csvs.write(ind, batches, limit)
                    if sum(counts.values()) != sum(n for _, _, n in pieces):  # the runs must cover every member
                        raise RuntimeError(f"{ind}: {sum(counts.values())} record ids written for "
                                           f"{sum(n for _, _, n in pieces)} members")
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
                focus, n_focus = {}, {}
                if focus_limit is not None and d.source == "complaints":  # listed after the loop, all at once
                    ind_run(con, "complaints_breakdown_focus_keys.sql", {"indicator_id": ind, "max_rows": LIST_ROWS})
                    complaint_lists[ind] = _FocusLists(d.source, ind, regions, focus_limit, xlsx_dir, lang)
                elif focus_limit is not None:
                    lists = _FocusLists(d.source, ind, regions, focus_limit, xlsx_dir, lang)
                    focus, n_focus = lists.write(ind_stream(con, "sampling_breakdown_focus.sql",
                                                            {"excerpt_chars": EXCERPT_CHARS, "max_rows": LIST_ROWS},
                                                            batch_rows=CSV_CHUNK))
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
                    out[(ind, reg)] = Breakdown(sc, per.label, ind, reg, summary(reg), records, tabs, n_records=n,
                                                **({"focus": focus.get(reg, []), "n_focus": n_focus.get(reg, 0)}
                                                   if focus_limit is not None else {}))
            else:  # hotline unit-months, profile rows: a few rows per unit
                file = {"hotline": "hotline_breakdown.sql", "profile": "profiles_breakdown.sql"}[d.source]
                for reg in present:
                    params = {"indicator_id": ind, "region_code": reg, "period_start": per.start, "period_end": per.end}
                    records = ind_run(con, file, params).df()
                    out[(ind, reg)] = Breakdown(sc, per.label, ind, reg, summary(reg), records,
                                                breakdown_tables(d, records, top, tables))
        if complaint_lists:
            _write_complaint_lists(con, complaint_lists, regions, out)
        if csvs is not None:
            csvs.close()
    finally:
        if csvs is not None:
            csvs.discard()
        ind_run(con, "drop_work_tables.sql")
    return out


def _write_complaint_lists(con, lists: dict[str, _FocusLists], regions: list[str], out: dict) -> None:
    """The record lists of every complaint indicator from one query (complaints_breakdown_focus.sql over the
    keys each indicator added), its rows handed to the indicator's lists; the Breakdowns in ``out`` get their
    ``focus`` and ``n_focus``."""
    from indicators.sqlfiles import stream as ind_stream

    batches = ind_stream(con, "complaints_breakdown_focus.sql", {"excerpt_chars": EXCERPT_CHARS},
                         batch_rows=CSV_CHUNK)
    try:
        for batch in batches:
            for row in batch.to_pylist():
                lists[row.pop("indicator_id")].add(row)
    finally:
        batches.close()
    for ind, ind_lists in lists.items():
        heads, counts = ind_lists.finish()
        for reg in regions:
            b = out.get((ind, reg))
            if b is not None:
                b.focus, b.n_focus = heads.get(reg, []), counts.get(reg, 0)


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


EXCERPT_CHARS = 60  # characters of a record's text shown in the record lists (masked before it is cut)
FOCUS_LIMIT = 20  # records that matter listed per indicator on a region page
# records that matter per region and indicator in its XLSX list: enough to work through by hand, and it
# keeps the lists from growing with N (every complaint of a province is "in focus" for the per-10k count).
# openpyxl writes ~15,000 rows a second: at 10,000 rows the lists of one province (12 regions x 15
# indicators) took 113 of the index stage's 190 s at 1M records (py-spy, BENCHMARKS.md); the cost is per row
# written, so 1,000 cuts it about tenfold. The sheet ends with a line giving the total and where every record id is (records_<code>.csv).
LIST_ROWS = 1_000
LISTS_DIR = "lists"  # the XLSX record lists, under drilldown/
FOCUS_COLUMNS = ("id", "day", "kind", "category", "problem", "status", "days_first", "days_second", "party",
                 "excerpt")  # of *_breakdown_focus.sql, in the order of the lists


def excerpt(text: Any, limit: int = EXCERPT_CHARS) -> str:
    """White space folded, cut to ``limit`` characters (``…`` when cut). The text comes masked from SQL
    (pii_mask_numbers on the whole text, before any cut)."""
    if text is None or _na(text):
        return ""
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[:limit - 1] + "…"


def focus_headers(source: str, t) -> list[str]:
    """Column headers of a record list (page and XLSX) for a complaint or sampling indicator."""
    keys = {"complaints": ("dd.rec.id", "dd.rec.received", "dd.rec.kind", "dd.rec.category", "dd.rec.problem",
                           "dd.rec.status", "dd.rec.wd_decision", "dd.rec.wd_close", "dd.rec.respondent",
                           "dd.rec.excerpt"),
            "sampling": ("dd.rec.sample_id", "dd.rec.sampled", "dd.rec.result", "dd.rec.product_category",
                         "dd.rec.failed_items", "dd.rec.disposal", "dd.rec.days_correction", "dd.rec.days_reinspection",
                         "dd.rec.manufacturer", "dd.rec.product")}[source]
    return [t(k) for k in keys]


def focus_values(row: dict, source: str, t, vt) -> list[Any]:
    """One record of a list as the cells of a row (page and XLSX): dates as dates, counts as numbers,
    controlled vocabulary in the report's language, text folded and cut."""
    day = row.get("day")
    cat = row.get("category")
    obj = row.get("object_type")
    return [str(row["id"]) if row.get("id") is not None else "",
            day if isinstance(day, (dt.date, dt.datetime)) else (None if day is None else str(day)),
            vt(row["kind"]) if row.get("kind") not in (None, "") else "",
            (vt(obj) + " · " if obj not in (None, "") else "") + (vt(cat) if cat not in (None, "") else ""),
            (vt(row["problem"]) if row.get("problem") not in (None, "") else "") if source == "complaints"
            else excerpt(row.get("problem")),  # sampling: the failed items as delivered (free text)
            t("dd.status." + row["status"]) if row.get("status") else "",
            None if row.get("days_first") is None or _na(row.get("days_first")) else int(row["days_first"]),
            None if row.get("days_second") is None or _na(row.get("days_second")) else int(row["days_second"]),
            excerpt(row.get("party")), excerpt(row.get("excerpt"))]


def focus_xlsx(code: str, indicator_id: str) -> str:
    """The record list of one region and indicator, relative to drilldown/."""
    return f"{LISTS_DIR}/{_slug(code)}_{_slug(indicator_id)}.xlsx"


class _FocusLists:
    """The records that matter of one indicator, as they stream from DuckDB ordered by unit
    (``*_breakdown_focus.sql``, at most ``LIST_ROWS`` a unit): the first ``limit`` rows and the count per
    unit are kept, and with ``folder`` each region's rows go into its XLSX workbook
    (``reports.xlsx_stream``: xlsxwriter streaming, written beside its name and moved in place) when the
    stream moves on to the next unit, so one unit's rows at most are held. Text cells are string cells,
    quote-prefixed when they look like a formula; a list cut at ``LIST_ROWS`` ends with a line giving the
    total."""

    def __init__(self, source: str, indicator_id: str, regions: list[str], limit: int, folder: Path | None,
                 lang: str):
        self.source, self.ind, self.regions, self.limit = source, indicator_id, set(regions), limit
        self.folder = Path(folder) if folder is not None else None
        self.t, self.vt = labels.translator(lang), labels.value_translator(lang)
        self.heads: dict[str, list[dict]] = {}
        self.counts: dict[str, int] = {}
        self._open: str | None = None  # the unit whose rows are being collected for its XLSX
        self._rows: list[list] = []
        self._saved: set[str] = set()

    def _path(self, code: str) -> Path:
        return self.folder / focus_xlsx(code, self.ind).split("/", 1)[1]

    def _save(self, code: str, rows: list[list], total: int) -> None:
        from reports.xlsx_stream import StreamingWorkbook

        if total > LIST_ROWS:
            rows.append([self.t("dd.rec.capped", shown=f"{LIST_ROWS:,}", total=f"{total:,}", csv=records_csv(code))])
        # a provisional report's sheets start with the banner (as render.stamp_provisional does)
        with StreamingWorkbook(self._path(code), banner=render.provisional_banner()) as book:
            book.add_table(self.t("dd.rec.sheet"), focus_headers(self.source, self.t), rows)

    def write(self, batches) -> tuple[dict[str, list[dict]], dict[str, int]]:
        """Rows of ``batches`` (a RecordBatchReader, closed at the end: DuckDB runs nothing else while
        a result is open) -> (first ``limit`` rows per unit, rows per unit); the XLSX files written."""
        try:
            for batch in batches:
                for row in batch.to_pylist():
                    self.add(row)
            return self.finish()
        finally:
            batches.close()

    def add(self, row: dict) -> None:
        """One row of the stream (ordered by unit)."""
        code = str(row["unit"])
        self.counts[code] = int(row["n_focus"])  # every record that matters; at most LIST_ROWS come
        have = self.heads.setdefault(code, [])
        if len(have) < self.limit:
            have.append(row)
        if self.folder is None or code not in self.regions:
            return
        if code != self._open:
            if code in self._saved:  # the SQL orders by unit: a unit never comes back
                raise RuntimeError(f"{self.ind}: the rows of unit {code} are not together in the stream")
            self._close_unit()
            self._open = code
        self._rows.append(focus_values(row, self.source, self.t, self.vt))

    def finish(self) -> tuple[dict[str, list[dict]], dict[str, int]]:
        """The last unit's XLSX written -> (first ``limit`` rows per unit, rows per unit)."""
        self._close_unit()
        return self.heads, self.counts

    def _close_unit(self) -> None:
        """The open unit's XLSX written, if a unit is open."""
        if self._open is not None:
            self._save(self._open, self._rows, self.counts[self._open])
            self._saved.add(self._open)
        self._open, self._rows = None, []


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
            f = open(self._tmp(code), "wb")  # bytes: a batch's lines go out as one slice of Arrow's buffer
            f.write("\ufeffindicator_id,record_id,in_numerator\r\n".encode("utf-8"))
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
            if plain:  # every line "<indicator>,<id>,<0|1|>\r\n" in one Arrow buffer, written by slices
                text = pc.binary_join_element_wise(pc.fill_null(pc.cast(k, pa.string()), ""), "", "\r\n")
                lines = pc.binary_join_element_wise(ind, rid, text, ",")
                ends = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
                data = memoryview(lines.buffers()[2])
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
                        f.write(data[ends[start]:ends[end]])
                    else:
                        out = io.StringIO(newline="")
                        csv.writer(out).writerows(rows[start:end])
                        f.write(out.getvalue().encode("utf-8"))
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


def last_year_key(period_key: str) -> str:
    """The same period one year earlier: 2025 -> 2024, 2025Q3 -> 2024Q3, 2025-03 -> 2024-03."""
    return f"{int(period_key[:4]) - 1}{period_key[4:]}"


def last_year_values(con, d: IndexData) -> dict[tuple[str, str], float]:
    """(indicator_id, region_code) -> the stored value of the same period last year (none stored: {})."""
    from reports.queries import run as report_run, table_exists

    if not table_exists(con, "mart", "indicator_values"):
        return {}
    v = report_run(con, "index_indicator_values", scope=d.scope.key, period=last_year_key(d.period.key))
    return {(str(r.indicator_id), str(r.region_code)): r.value for r in v.itertuples() if not _na(r.value)}


def scope_median(d: IndexData, ind: str) -> float | None:
    """Median of the regions' values (the value used, after the small-count treatment) of one indicator."""
    vals = d.value_rows(ind)
    if vals.empty or "value" not in vals.columns:
        return None
    m = pd.to_numeric(vals["value"], errors="coerce").dropna()
    return float(m.median()) if len(m) else None


def facts(d: IndexData, ind: str, code: str | None, last_year: dict) -> dict:
    """The four facts of an indicator a reader compares (issue 10 point 8): the region's value, the
    target of the index spec (its published source is on the methodology page), the median of the
    scope's regions, and the same period last year ("—" where no value is stored)."""
    t = labels.translator(d.lang)
    node = d.spec.nodes[ind]
    vals = d.value_rows(ind)
    value = vals.at[code, "value"] if code is not None and code in vals.index else None
    ly = last_year.get((ind, code)) if code is not None else None
    med = scope_median(d, ind)
    show = (lambda v: "—" if v is None or _na(v) else fmt_indicator_value(d, ind, v))
    return {"value": show(value), "target": show(node.target) if node.target is not None else t("dd.fact.no_target"),
            "median": show(med), "last_year": show(ly)}


def _node_context(d: IndexData, node_id: str, last_year: dict | None = None) -> dict:
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
            ly = (last_year or {}).get((node_id, code))
            row["last_year"] = "—" if ly is None else fmt_indicator_value(d, node_id, ly)
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
        # the definition in words (the SQL-level numerator / denominator / date and region bases name
        # columns: they are on the methodology page of the index report, in its technical part)
        if node_id in mt.index:
            m = mt.loc[node_id]
            definition = {"text": plain_words((m["definition_zh"] if d.lang == "zh" else m["definition_en"])
                                              or m["definition_en"] or "", d.lang),
                          "min_records": fmt_rank(m["min_records"]) if pd.notna(m["min_records"]) else "–",
                          "treatment": treatment_text(m["small_count_treatment"], d.lang)}
        else:
            definition = {"text": in_language(node.definition or "", d.lang), "min_records": "–", "treatment": "–"}
        focus_key = "dd.focus." + node_id
        definition.update(direction=t("ir.dir.up") if node.direction > 0 else t("ir.dir.down"),
                          unit=unit_text(d, node.unit), source=source_text(d, node.source),
                          focus=t(focus_key) if focus_key in labels.LABELS else "",
                          **{"facts": facts(d, node_id, None, last_year or {})})
    children = [{"id": k, "label": d.label(k), "href": node_page(k), "local_weight": fmt_pct(wt.at[k, "local_weight"]),
                 "mean": fmt_num(d.node(k)["score"].mean(), 1)} for k in kids]
    caveat = [d.label(i) for i in d.spec.leaves(node_id) if getattr(d.spec.nodes[i], "self_reported", False)]
    return {"info": info, "rows": rows, "children": children, "is_indicator": is_ind, "definition": definition,
            "kid_labels": [d.label(k) for k in kids], "self_reported": caveat}


def _region_context(d: IndexData, code: str, bds: dict, record_limit: int, *, last_year: dict | None = None,
                    unit_names_: dict | None = None, counties: dict | None = None) -> dict:
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
    named = _named_units(unit_names_ or {})
    sections = []
    for ind in d.spec.indicator_ids:
        b = bds.get((ind, code))
        vals = _value_cells(d, ind, code)
        focus_key = "dd.focus." + ind
        sec = {"id": ind, "anchor": anchor(ind), "label": d.label(ind), "node_href": node_page(ind), **vals,
               "facts": facts(d, ind, code, last_year or {}), "tables": [], "n_records": 0, "records_table": None,
               "available": b is not None, "focus": None, "focus_what": t(focus_key) if focus_key in labels.LABELS else ""}
        if b is not None:
            for key, frame in b.tables.items():
                if frame is None or frame.empty:
                    continue
                if key == "by_unit":
                    frame = named(frame)
                sec["tables"].append({"key": key, "caption": t("dd.bd." + key) if "dd.bd." + key in labels.LABELS else key,
                                      **_table(frame, t, vt)})
            recs = b.records  # the first records only (batch_breakdowns); n_records counts them all
            idcol = _id_column(recs)
            if idcol:
                sec["n_records"] = b.n_records
                if b.focus is not None:
                    source = "complaints" if idcol == "record_id" else "sampling"
                    sec["focus"] = {
                        "heads": [{"label": h, "numeric": j in (6, 7)} for j, h in enumerate(focus_headers(source, t))],
                        "rows": [[_focus_cell(v) for v in focus_values(row, source, t, vt)] for row in b.focus],
                        "total": b.n_focus, "shown": len(b.focus),
                        "xlsx": focus_xlsx(code, ind) if b.n_focus else ""}
            elif "unit_id" in recs.columns:
                sec["records_table"] = _table(named(recs), t, vt, HOTLINE_COLUMNS)
                sec["n_records"] = len(recs)
            elif "role" in recs.columns:
                rr = recs.copy()
                rr["region_code"] = _place_names(rr["region_code"], d.lang)
                sec["records_table"] = _table(rr, t, vt, PROFILE_COLUMNS)
                sec["n_records"] = len(recs)
        sections.append(sec)
    return {"code": code, "name": d.names.get(code, code), "tiles": tiles, "tree": tree, "sections": sections,
            "strengths": [dict(i, anchor=anchor(i["node_id"])) for i in sw_items(d, code, "strength")],
            "weaknesses": [dict(i, anchor=anchor(i["node_id"])) for i in sw_items(d, code, "weakness")],
            "boards": board_rows(d, code), "self_reported": self_reported_labels(d), "has_noise": not d.noise.empty,
            "record_limit": record_limit, "counties": counties}


def _focus_cell(v: Any) -> str:
    if v is None or (not isinstance(v, str) and _na(v)):
        return "–"
    if isinstance(v, (dt.date, dt.datetime)):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _named_units(names: dict):
    """A frame's ``unit_id`` column shown by the unit's name (reports.units; never a bare code)."""
    def named(frame: pd.DataFrame) -> pd.DataFrame:
        if "unit_id" not in frame.columns:
            return frame
        out = frame.copy()
        out["unit_id"] = [names.get(u, u) if isinstance(u, str) else u for u in out["unit_id"]]
        return out
    return named


def _place_names(codes, lang: str) -> list[str]:
    """GB/T 2260 codes by their names (the rows of a region profile name counties and districts): one lookup table
    for a page's codes (one per code was 9 s of the 1M CN drill-down: ~3,000 counties, 3 ms each)."""
    from reports.scope import as_scope, unit_names

    codes = [str(c) for c in codes]
    names = unit_names(as_scope("CN"), set(codes), lang)
    return [names[c] for c in codes]


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
                    record_limit: int = RECORD_LIMIT, top: int = TOP, focus_limit: int = FOCUS_LIMIT,
                    subdir: str = DIR, parent: list[dict] | None = None, depth: int = 0) -> Path:
    """Write ``drilldown/`` (index, node, region pages, per-region record CSVs and per region × indicator
    XLSX lists of the records that matter); returns drilldown/index.html. A prefecture whose counties
    have index scores stored for the period gets their drill-down in
    ``<subdir>/sub_<code>/``, linked from its page (``parent``: the crumbs leading there)."""
    d = check_data(data, scope, period, lang) if data else load_index_data(con, scope, period, lang, spec=spec)
    out_dir = Path(out_dir)
    folder = out_dir / subdir
    folder.mkdir(parents=True, exist_ok=True)
    t = labels.translator(lang)
    common = dict(lang=lang, scope_label=d.scope.label(lang), period_label=d.period.label(lang),
                  generated_at=generated_at)
    parent = list(parent or [])
    # the breakdowns hold each value's first record_limit records and first focus_limit records that
    # matter; the CSVs (every record) and the XLSX lists (the first LIST_ROWS that matter) are written as the
    # rows stream out of DuckDB, so memory does not grow with the data
    bds = batch_breakdowns(con, d.scope.key, d.period.key, d.spec.indicator_ids, d.regions, top=top,
                           record_limit=record_limit, csv_dir=folder, focus_limit=focus_limit,
                           xlsx_dir=folder / LISTS_DIR, lang=lang)
    last_year = last_year_values(con, d)
    hotline_ids = {u for b in bds.values() for u in (b.records["unit_id"] if "unit_id" in b.records.columns else [])
                   if isinstance(u, str)}
    from reports.units import unit_display_names

    unit_names_ = unit_display_names(sorted(hotline_ids), lang, con)
    root_crumb = {"label": d.label(d.root) if not parent else d.scope.label(lang), "href": "index.html"}

    def crumbs(tail: list[dict]) -> list[dict]:
        return parent + [root_crumb] + tail

    # node pages
    for nid in d.spec.preorder[1:]:
        ctx = _node_context(d, nid, last_year)
        fig = click_figure_html(fig_ranking_bars(d, lambda c, _n=nid: region_page(c) + (
            "#" + anchor(_n) if d.is_indicator(_n) else ""), node=nid), "fig-node-scores")
        render.render_page(out_dir, f"{subdir}/{node_page(nid)}", "drilldown_node.html.j2", report_key="drilldown_node",
                           title=f"{ctx['info']['label']} · {t(SLOT.label)}",
                           crumbs=crumbs([{"label": d.label(n), "href": node_page(n)} for n in d.spec.path(nid)[1:]]),
                           fig=fig, has_prev=d.has_prev, **ctx, **common)

    # region pages + record CSVs; a region with scores of its own units: their drill-down below it
    for code in d.regions:
        counties = None
        if depth < 2:
            counties = _sub_drilldown(con, d, code, out_dir, subdir, lang, generated_at=generated_at,
                                      record_limit=record_limit, top=top, focus_limit=focus_limit, depth=depth,
                                      parent=crumbs([{"label": d.names.get(code, code), "href": region_page(code)}]))
        ctx = _region_context(d, code, bds, record_limit, last_year=last_year, unit_names_=unit_names_,
                              counties=counties)
        colour = d.cur[d.cur.region_code == code].set_index("node_id")["score"]
        sun = click_figure_html(fig_hierarchy_sunburst(d, colour, _node_href(d), t("dd.fig.region_sunburst", region=ctx["name"])),
                                "fig-region-sunburst", event="plotly_sunburstclick")
        n_csv = csv_rows(code, d.spec.indicator_ids, bds)
        render.render_page(out_dir, f"{subdir}/{region_page(code)}", "drilldown_region.html.j2",
                           report_key="drilldown_region", title=f"{ctx['name']} · {t(SLOT.label)}",
                           crumbs=crumbs([{"label": ctx["name"], "href": ""}]),
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
    return render.render_page(out_dir, f"{subdir}/index.html", "drilldown_index.html.j2",
                              report_key=SLOT.key if not parent else "drilldown_sub",
                              title=t(SLOT.label) if not parent else f"{d.scope.label(lang)} · {t(SLOT.label)}",
                              sunburst=sun, uncertainty=unc, regions=regions, tree=tree,
                              self_reported=self_reported_labels(d), crumbs=parent,
                              notes=d.notes, n_pages=1 + len(d.spec.preorder) - 1 + len(d.regions), **common)


def _sub_drilldown(con, d: IndexData, code: str, out_dir: Path, subdir: str, lang: str, *, parent: list[dict],
                   depth: int, **kw) -> dict | None:
    """The drill-down of region ``code``'s counties (a prefecture's) when the index stage stored their
    scores for the period: built into ``<subdir>/sub_<code>/``;
    returns what the region page lists (each unit's name, rank, score, grade and page), else None."""
    from indicators import canonical_scope
    from reports.index_report import index_available

    from reports.scope import as_scope

    try:
        sub = canonical_scope(code)
        level = as_scope(sub).unit_level
    except (ValueError, KeyError, LookupError):  # a county-level unit has no units of its own
        return None
    # counties only (issue 10 point 8): a national report does not rebuild every province's drill-down
    if sub == d.scope.key or level != "county" or not index_available(con, sub, d.period.key):
        return None
    sd = load_index_data(con, sub, d.period.key, lang, spec=d.spec)
    folder = f"sub_{_slug(code)}"
    up_parent = [dict(c, href="../" + c["href"]) for c in parent]
    build_drilldown(con, sub, d.period.key, out_dir, lang, data=sd, subdir=f"{subdir}/{folder}", parent=up_parent,
                    depth=depth + 1, **kw)
    top_rows = sd.node(sd.root)
    return {"href": f"{folder}/index.html",
            "rows": [{"name": sd.names.get(c, c), "href": f"{folder}/{region_page(c)}",
                      "rank": fmt_rank(top_rows.at[c, "rank"]), "score": fmt_num(top_rows.at[c, "score"], 2),
                      "grade": grade_text(sd, top_rows.at[c, "grade"])} for c in sd.regions]}
