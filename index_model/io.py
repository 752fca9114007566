"""Files in and out: analyst-brought tables (CSV/XLSX), COINr ``iMeta`` conversion, result export.

* :func:`read_table` reads CSV (UTF-8, UTF-8 with BOM, or GB18030) or XLSX; numbers are parsed
  exactly (``float_precision="round_trip"``), ids stay text.
* :func:`long_to_wide` turns a long table shaped like ``mart.indicator_values`` (region_code,
  indicator_id, value, record_count) into the unit x indicator table and its record counts.
* :func:`spec_from_coinr_imeta` builds a spec from a COINr ``iMeta`` table (Level/iCode/iName/
  Direction/Weight/Parent/Type/Denominator/Target), so COINr users can bring their framework.
* :func:`write_outputs` writes every table as CSV (UTF-8 with BOM, opens cleanly in Excel) and one
  XLSX workbook with a sheet per table; text that a spreadsheet could run as a formula is stored as
  text (:mod:`index_model.safe_cells`).
* :func:`compute_index_files` is the file-to-file entry point behind ``cei compute-index``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from .coherence import coherence_report, methodology_table, weights_table
from .explain import strengths_weaknesses
from .model import DataError, IndexResult, compute_index
from .safe_cells import csv_frame, neutralise_workbook
from .spec import IndexSpec, load_spec

__all__ = ["read_table", "long_to_wide", "spec_from_coinr_imeta", "write_outputs", "compute_index_files"]

_ENCODINGS = ("utf-8-sig", "gb18030")


def read_table(path: str | Path, *, sheet: str | int | None = None, id_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a CSV or XLSX table. ``id_columns`` are kept as text (e.g. region codes with leading zeros)."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"file not found: {p}")
    suffix = p.suffix.lower()
    dtype = {c: str for c in id_columns}
    if suffix in (".xlsx", ".xlsm", ".xls"):
        try:
            return pd.read_excel(p, sheet_name=sheet if sheet is not None else 0, dtype=dtype or None)
        except ValueError as exc:
            raise DataError(f"{p}: {exc}") from exc
    if suffix in (".csv", ".txt", ".tsv"):
        sep = "\t" if suffix == ".tsv" else ","
        last: Exception | None = None
        for enc in _ENCODINGS:
            try:
                return pd.read_csv(p, encoding=enc, sep=sep, float_precision="round_trip", dtype=dtype or None)
            except UnicodeDecodeError as exc:
                last = exc
        raise DataError(f"{p}: not UTF-8 or GB18030 text ({last})")
    raise DataError(f"{p}: unsupported file type '{suffix}' (use .csv or .xlsx)")


def long_to_wide(long: pd.DataFrame, *, unit_col: str = "region_code", indicator_col: str = "indicator_id",
                 value_col: str = "value", count_col: str | None = "record_count") -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Long (unit, indicator, value[, count]) -> wide values (with the unit column) and counts (indexed by unit)."""
    for c in (unit_col, indicator_col, value_col):
        if c not in long.columns:
            raise DataError(f"long table lacks column '{c}' (columns: {', '.join(map(str, long.columns))})")
    dup = long.duplicated([unit_col, indicator_col])
    if dup.any():
        r = long[dup].iloc[0]
        raise DataError(f"long table has two rows for unit '{r[unit_col]}' and indicator '{r[indicator_col]}'")
    keys = long[unit_col].astype(str)
    wide = long.assign(**{unit_col: keys}).pivot(index=unit_col, columns=indicator_col, values=value_col)
    wide.columns.name = None
    counts = None
    if count_col and count_col in long.columns:
        counts = long.assign(**{unit_col: keys}).pivot(index=unit_col, columns=indicator_col, values=count_col)
        counts.columns.name = None
    return wide.reset_index(), counts


def spec_from_coinr_imeta(imeta: pd.DataFrame, *, spec_version: str = "coinr_imeta",
                          methods: Mapping[str, Any] | None = None, use_denominators: bool = False,
                          use_targets: bool = False, unit_id: str = "uCode") -> IndexSpec:
    """Spec from a COINr ``iMeta`` table. Weights are rescaled to sum to 1 within each parent (COINr
    weights are relative), so ``weighting: fixed`` reproduces COINr's weighted means."""
    m = imeta.copy()
    m = m[m["Type"].isin(["Indicator", "Aggregate"])]
    parents = m.groupby("Parent", dropna=True, sort=False)
    wsum = {p: float(g["Weight"].astype(float).sum()) for p, g in parents}

    def rel(row: pd.Series) -> float | None:
        p = row["Parent"]
        if pd.isna(p) or not wsum.get(p):
            return None
        return float(row["Weight"]) / wsum[p]

    inds, aggs = [], []
    for _, r in m.iterrows():
        if r["Type"] == "Indicator":
            d: dict[str, Any] = {"id": str(r["iCode"]), "label_en": str(r.get("iName", "") or ""),
                                 "direction": int(r["Direction"]), "weight": rel(r)}
            if use_denominators and isinstance(r.get("Denominator"), str) and r["Denominator"]:
                d["denominator"] = r["Denominator"]
            if use_targets and pd.notna(r.get("Target")):
                d["target"] = float(r["Target"])
            inds.append(d)
        else:
            kids = m.loc[m["Parent"] == r["iCode"], "iCode"].astype(str).tolist()
            a: dict[str, Any] = {"id": str(r["iCode"]), "label_en": str(r.get("iName", "") or ""), "children": kids}
            w = rel(r)
            if w is not None:
                a["weight"] = w
            aggs.append(a)
    aggs.sort(key=lambda a: -int(m.loc[m["iCode"] == a["id"], "Level"].iloc[0]))
    return load_spec({"spec_version": spec_version, "unit_id": unit_id, "methods": dict(methods or {}),
                      "aggregates": aggs, "indicators": inds})


# ------------------------------------------------------------------------------------------------
# output
# ------------------------------------------------------------------------------------------------

def _wide(result: IndexResult, table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    out.index.name = result.unit_col
    return out.reset_index()


def result_tables(result: IndexResult, uncertainty: Any = None, *, n_strengths: int = 3) -> dict[str, pd.DataFrame]:
    """Every output table, keyed by file/sheet name."""
    coh = coherence_report(result)
    tables: dict[str, pd.DataFrame] = {
        "index_long": result.long(uncertainty),
        "normalised": _wide(result, result.normalised),
        "scores": _wide(result, result.scores),
        "ranks": _wide(result, result.ranks.astype("Int64")),
        "grades": _wide(result, result.grades()),
        "prepared_values": _wide(result, result.prepared),
        "weights": weights_table(result),
        "methodology": methodology_table(result, uncertainty),
        "coherence_alpha": coh["alpha"],
        "coherence_correlation": coh["correlations"],
        "strengths_weaknesses": strengths_weaknesses(result, n=n_strengths),
        "small_count_flags": result.small_count_flags,
    }
    if len(result.treatment_log):
        tables["treatment_log"] = result.treatment_log
    if uncertainty is not None:
        tables["uncertainty"] = uncertainty.summary
        tables["uncertainty_runs"] = uncertainty.runs
    return tables


def write_outputs(result: IndexResult, out_dir: str | Path, uncertainty: Any = None, *,
                  xlsx_name: str = "index_results.xlsx") -> list[Path]:
    """Write every table of :func:`result_tables` as ``<name>.csv`` and as a sheet of one XLSX."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = result_tables(result, uncertainty)
    written = []
    for name, t in tables.items():
        p = out / f"{name}.csv"
        csv_frame(t).to_csv(p, index=False, encoding="utf-8-sig")
        written.append(p)
    xp = out / xlsx_name
    with pd.ExcelWriter(xp, engine="openpyxl") as xw:
        for name, t in tables.items():
            t.to_excel(xw, sheet_name=name[:31], index=False)
        # pandas hands text to openpyxl as is, which makes "=..." a formula: store it as text
        neutralise_workbook(xw.book)
    written.append(xp)
    return written


def compute_index_files(indicators_path: str | Path, spec_path: str | Path, out_dir: str | Path, *,
                        unit_col: str | None = None, sheet: str | int | None = None,
                        counts_path: str | Path | None = None, uncertainty_runs: int | None = None,
                        seed: int | None = None) -> dict[str, Any]:
    """Read an analyst's unit x indicator table (CSV/XLSX) and a spec, compute, write every output.

    The unit id column is ``unit_col`` or the spec's ``unit_id``. A long table with columns
    ``indicator_id`` and ``value`` (the shape of ``mart.indicator_values``) is accepted as well.
    Monte-Carlo rank intervals are computed when ``uncertainty_runs`` (or the spec's
    ``methods.uncertainty.runs``) is > 0. Returns a JSON-serialisable summary.
    """
    from .uncertainty import run_uncertainty  # local: keeps import graph flat

    spec = load_spec(spec_path)
    ucol = unit_col or spec.unit_id
    data = read_table(indicators_path, sheet=sheet, id_columns=(ucol,) if ucol else ())
    counts = None
    if "indicator_id" in data.columns and "value" in data.columns:
        long_unit = ucol or "region_code"
        data, counts = long_to_wide(data, unit_col=long_unit)
        ucol = long_unit
    if counts_path is not None:
        counts = read_table(counts_path, id_columns=(ucol,) if ucol else ())
    result = compute_index(data, spec, unit_col=ucol, counts=counts)
    runs = uncertainty_runs if uncertainty_runs is not None else int(spec.methods.uncertainty.get("runs", 0) or 0)
    unc = run_uncertainty(result, runs=runs, seed=seed) if runs > 0 else None
    files = write_outputs(result, out_dir, unc)
    root = spec.root
    top = result.scores[root].sort_values(ascending=False).head(10)
    coh = coherence_report(result)
    summary = {
        "spec_version": spec.spec_version,
        "spec": str(spec_path),
        "indicators_file": str(indicators_path),
        "unit_column": result.unit_col,
        "units": len(result.units),
        "excluded_units": result.excluded_units,
        "indicators": len(spec.indicator_ids),
        "nodes": len(spec.preorder),
        "uncertainty_runs": runs if unc is not None else 0,
        "top": [{"unit": str(u), "score": float(s), "rank": int(result.ranks.loc[u, root])}
                for u, s in top.items() if pd.notna(s)],
        "notes": list(result.notes),
        "coherence_flags": coh["flags"]["message"].tolist(),
        "files": [str(p) for p in files],
    }
    (Path(out_dir) / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    summary["files"].append(str(Path(out_dir) / "summary.json"))
    return summary
