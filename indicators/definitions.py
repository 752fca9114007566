"""Indicator definitions, read from the ``@``-tagged comment above each indicator's SQL.

The SQL is the single source of truth: every indicator block in ``sql/indicators/{complaints,
sampling,hotline,profiles}.sql`` starts with ::

    -- @indicator closure_rate
    -- @kind share            share | ratio | per10k | median | profile
    -- @scale 10000           (per-10k values; default 1)
    -- @region handling: handling_region_code
    -- @date received_at in the period ...
    -- @numerator ...
    -- @denominator ...
    -- @zh 投诉办结率 = ...
    -- @en Closure rate: ...

(continuation lines are indented comment lines). :func:`definitions` parses them and
:func:`methodology_table` turns them, with the spec's labels, directions and small-count settings,
into the methodology table of the reports.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from .sqlfiles import sql_text

__all__ = ["IndicatorDef", "definitions", "methodology_table", "methodology_markdown", "goalposts_markdown",
           "AGGREGATE_FILES"]

# aggregate file -> (source, record-level file)
AGGREGATE_FILES = {
    "complaints.sql": ("complaints", "complaints_records.sql"),
    "sampling.sql": ("sampling", "sampling_records.sql"),
    "hotline.sql": ("hotline", None),
    "profiles.sql": ("profile", "profile_rows.sql + profile_units.sql"),
}
KINDS = ("share", "ratio", "per10k", "median", "profile")
_TAG = re.compile(r"^--\s*@(\w+)\s*(.*)$")
_CONT = re.compile(r"^--\s{2,}(\S.*)$")


@dataclass(frozen=True)
class IndicatorDef:
    id: str
    source: str  # complaints | sampling | hotline | profile
    kind: str  # share | ratio | per10k | median | profile
    scale: float  # value = numerator / denominator x scale (1 or 10000; median: n/a)
    region_basis: str
    date_basis: str
    numerator: str
    denominator: str
    definition_zh: str
    definition_en: str
    sql_file: str
    records_file: str | None


def _parse(file: str) -> list[dict]:
    blocks: list[dict] = []
    cur: dict | None = None
    last: str | None = None
    for line in sql_text(file).splitlines():
        s = line.strip()
        m = _TAG.match(s)
        if m:
            tag, val = m.group(1), m.group(2).strip()
            if tag == "indicator":
                cur = {"indicator": val}
                blocks.append(cur)
            elif cur is not None:
                cur[tag] = val
            last = tag
            continue
        c = _CONT.match(line.rstrip()) if s.startswith("--") else None
        if c and cur is not None and last is not None and last != "indicator":
            cur[last] = (cur[last] + " " + c.group(1).strip()).strip()
            continue
        last = None
        if s and not s.startswith("--"):
            cur = None  # the block ends where its SQL starts
    return blocks


@lru_cache(maxsize=None)
def definitions() -> dict[str, IndicatorDef]:
    """indicator_id -> :class:`IndicatorDef`, in file order."""
    out: dict[str, IndicatorDef] = {}
    for file, (source, records) in AGGREGATE_FILES.items():
        for b in _parse(file):
            iid = b["indicator"]
            missing = [t for t in ("kind", "region", "date", "numerator", "denominator", "zh", "en") if not b.get(t)]
            if missing:
                raise ValueError(f"sql/indicators/{file}: indicator {iid} lacks @{', @'.join(missing)}")
            if b["kind"] not in KINDS:
                raise ValueError(f"sql/indicators/{file}: indicator {iid}: unknown @kind {b['kind']!r}")
            if iid in out:
                raise ValueError(f"indicator {iid} defined twice ({out[iid].sql_file}, {file})")
            out[iid] = IndicatorDef(
                id=iid, source=source, kind=b["kind"], scale=float(b.get("scale") or 1.0),
                region_basis=b["region"], date_basis=b["date"], numerator=b["numerator"],
                denominator=b["denominator"], definition_zh=b["zh"], definition_en=b["en"],
                sql_file=f"sql/indicators/{file}",
                records_file=None if records is None else " + ".join(f"sql/indicators/{r.strip()}" for r in records.split("+")),
            )
    return out


def methodology_table(spec=None) -> pd.DataFrame:
    """One row per indicator of ``spec`` (default: the shipped default spec, default_v2) with its definition.

    Columns: indicator_id, label_zh, label_en, direction, unit, source, kind, sql_file, records_file,
    date_basis, region_basis, numerator, denominator, definition_zh, definition_en, min_records,
    small_count_treatment.
    """
    from .compute import resolve_spec  # local import: compute imports this module

    sp = resolve_spec(spec)
    defs = definitions()
    treatment = str(sp.methods.small_count.get("treatment", "none"))
    rows = []
    for ind in sp.indicators:
        d = defs.get(ind.id)
        k = sp.min_records_of(ind.id)
        rows.append({
            "indicator_id": ind.id,
            "label_zh": ind.label_zh,
            "label_en": ind.label_en,
            "direction": ind.direction,
            "unit": ind.unit,
            "source": d.source if d else ind.source,
            "kind": d.kind if d else None,
            "sql_file": d.sql_file if d else None,
            "records_file": d.records_file if d else None,
            "date_basis": d.date_basis if d else None,
            "region_basis": d.region_basis if d else None,
            "numerator": d.numerator if d else None,
            "denominator": d.denominator if d else None,
            "definition_zh": d.definition_zh if d else None,
            "definition_en": d.definition_en if d else (ind.definition or None),
            "min_records": k if (d is None or d.kind != "profile") else None,
            "small_count_treatment": treatment if (k > 0 and (d is None or d.kind != "profile")) else None,
        })
    out = pd.DataFrame(rows)
    out["min_records"] = out["min_records"].astype("Int64")
    return out


def methodology_markdown(spec=None) -> str:
    """The methodology table as Markdown (for READMEs and report appendices)."""
    t = methodology_table(spec)
    cols = ["indicator_id", "label_zh", "direction", "sql_file", "date_basis", "region_basis", "numerator",
            "denominator", "definition_zh", "definition_en", "min_records"]

    def cell(v) -> str:
        if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
            return ""
        return str(v).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in t.iterrows():
        lines.append("| " + " | ".join(cell(r[c]) for c in cols) + " |")
    return "\n".join(lines) + "\n"


def goalposts_markdown(spec=None) -> str:
    """How scores and grade bands read, and every indicator's goalposts with their reason (Markdown).

    Empty sections for specs without goalposts (e.g. ``default_v1``: min-max within the period)."""
    from .compute import resolve_spec  # local import: compute imports this module

    sp = resolve_spec(spec)

    def cell(v) -> str:
        return "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")

    out = [f"## Scale and grade bands (`{sp.spec_version}`)\n"]
    norm = dict(sp.methods.normalisation)
    if sp.methodology:
        out.append(sp.methodology.strip() + "\n")
    else:
        out.append(f"Normalisation: {norm.get('method')} (see index_model/specs/{sp.spec_version}.yaml).\n")
    if norm.get("base_period"):
        out.append(f"Base period of the base-relative goalposts: {norm['base_period']}.\n")
    noise = dict(getattr(sp.methods, "noise", None) or {})
    if noise.get("reason"):
        out.append(f"Noise ({noise.get('level', 0.95):.0%} intervals, changes judged by the MOVER interval): "
                   + str(noise["reason"]).strip() + "\n")
    bands = []
    for lab, lo in sp.methods.grades:
        rng = f">= {lo:g}" if lo is not None else "otherwise"
        bands.append(f"| {lab} | {rng} | {cell(sp.methods.grade_meanings.get(lab, ''))} |")
    if bands:
        out += ["| grade | composite score | meaning |", "|---|---|---|", *bands, ""]
    rows = []
    for ind in sp.indicators:
        p = sp.normalisation_of(ind.id)
        if p.get("method") != "goalposts":
            continue
        rel = " × base" if p.get("relative_to") == "base" else ""
        per = " (per year)" if p.get("per_year") else ""
        zero, hundred = (p["low"], p["high"]) if ind.direction > 0 else (p["high"], p["low"])
        rows.append(f"| {ind.id} | {ind.label_zh} | {'+' if ind.direction > 0 else '−'} | {zero:g}{rel}{per} | "
                    f"{hundred:g}{rel}{per} | {cell(ind.goalpost_basis)} |")
    if rows:
        out += ["## Goalposts (values beyond them are capped)\n",
                "| indicator_id | label_zh | direction | scores 0 at | scores 100 at | reason and source |",
                "|---|---|---|---|---|---|", *rows, ""]
    return "\n".join(out) + "\n"
