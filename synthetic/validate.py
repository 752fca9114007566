"""Read a generated landing folder back and check it: defect families and calibration.

This is a small, independent reference implementation of the eight defect families, computed from
the delivered files alone (the reference working-day calendar, GB/T 2260 history, GB 32100 and
GB 11643 checks) — what a data-quality gate should find. Tests compare it with
``ground_truth_defects.csv`` (precision and recall 1.0 per family); the rulebook authors can compare
their SQL with it.

    python -m synthetic.validate data/landing      # prints calibration figures and a family check
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ingestion.schema import TABLES
from reference import admin_divisions, admin_divisions_history
from reference.calendar import WorkdayCalendar

from .codes import uscc_valid

FILE_PATTERNS = {"complaints": "complaints_*", "sampling_results": "sampling_results_*",
                 "hotline_stats": "hotline_stats_*", "region_profiles": "region_profiles_*"}


def _read_one(path: Path, encoding: str) -> pd.DataFrame:
    if path.suffix == ".csv":
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
    elif path.suffix == ".xlsx":
        df = pd.read_excel(path, dtype=str).fillna("")
    elif path.suffix == ".parquet":
        df = pd.read_parquet(path).fillna("")
    else:
        raise ValueError(path)
    return df


def read_table(out_dir: Path | str, table: str) -> pd.DataFrame:
    """All files of a table as strings with canonical headers, plus ``_file``."""
    out_dir = Path(out_dir)
    schema = TABLES[table]
    params = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))["parameters"]
    zh = {c.zh: c.name for c in schema.columns}
    frames = []
    for path in sorted(out_dir.glob(FILE_PATTERNS[table] + "." + params["file_format"])):
        df = _read_one(path, params["encoding"]).rename(columns=zh)
        df["_file"] = path.name
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=schema.column_names + ["_file"])
    return pd.concat(frames, ignore_index=True)


def _ts(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.replace("", None), format="%Y-%m-%d %H:%M:%S")


def _d(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.replace("", None), format="%Y-%m-%d")


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.replace("", None))


def valid_codes_by_year(years) -> dict[int, set]:
    """GB/T 2260 codes valid in each year (history rows with valid_from ≤ year ≤ valid_to)."""
    h = admin_divisions_history()
    cur = admin_divisions()
    out = {}
    for y in years:
        ok = (h.valid_from_year <= y) & (h.valid_to_year.isna() | (h.valid_to_year >= y))
        codes = set(h.code[ok])
        if y >= 2026:
            codes |= set(cur.code)
        out[int(y)] = codes
    return out


def _bad_region(codes: pd.Series, years: pd.Series) -> np.ndarray:
    valid = valid_codes_by_year(sorted(years.dropna().unique()))
    out = np.zeros(len(codes), dtype=bool)
    for y, vs in valid.items():
        sel = (years == y).to_numpy() & (codes != "").to_numpy()
        out[sel] = ~codes[sel].isin(vs).to_numpy()
    return out


def complaint_violations(c: pd.DataFrame, cal: WorkdayCalendar | None = None) -> dict[str, np.ndarray]:
    """family -> boolean mask over complaint rows."""
    cal = cal or WorkdayCalendar.default()
    rec, acc, clo = _ts(c.received_at), _ts(c.accepted_at), _ts(c.closed_at)
    out: dict[str, np.ndarray] = {}
    out["missing_required"] = ((c.record_type == "") | (c.handling_region_code == "") | (c.entry_unit_id == "")).to_numpy()
    u = c.respondent_uscc
    out["uscc_check"] = ((u != "") & ~uscc_valid(u.to_numpy(dtype=object))).to_numpy()
    year = rec.dt.year
    out["region_code"] = _bad_region(c.handling_region_code, year) | _bad_region(c.respondent_region_code, year)
    chrono = ((acc < rec) | (clo < acc) | (clo < rec)).fillna(False).to_numpy()
    out["chronology"] = chrono
    wd_acc = cal.workdays_between(rec, acc)
    wd_close = cal.workdays_between(acc, clo)
    with np.errstate(invalid="ignore"):
        late = (((c.record_type == "投诉").to_numpy() & (wd_acc > 7))
                | ((c.record_type == "举报").to_numpy() & (wd_acc > 15))
                | ((c.record_type == "投诉").to_numpy() & (c.accept_decision == "受理").to_numpy() & (wd_close > 45)))
    out["statutory_deadline"] = late & ~chrono
    d, r = _num(c.amount_disputed), _num(c.amount_recovered)
    out["impossible_amount"] = ((d < 0) | (d > 1e8) | (r < 0) | (r > 1e8) | ((d > 0) & (r > 10 * d))).fillna(False).to_numpy()
    # cross-channel duplicates: same identified complainant, respondent and text, another channel, ≤ 3 days later
    ident = (c.complainant_name != "") | (c.complainant_phone != "") | (c.complainant_id_number != "")
    key = ["complainant_name", "complainant_phone", "complainant_id_number", "respondent_name", "content"]
    dup = np.zeros(len(c), dtype=bool)
    cand = c[ident & c.duplicated(key, keep=False)].assign(_rec=rec)
    if len(cand):
        cand = cand.sort_values("_rec", kind="stable")
        prev_rec = cand.groupby(key, sort=False)["_rec"].shift()
        prev_ch = cand.groupby(key, sort=False)["channel"].shift()
        hit = prev_rec.notna() & ((cand["_rec"] - prev_rec) <= pd.Timedelta(days=3)) & (prev_ch != cand["channel"])
        dup[cand.index[hit.to_numpy()]] = True
    out["cross_channel_duplicate"] = dup
    return out


def sampling_violations(s: pd.DataFrame) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    out["missing_required"] = ((s.sample_id == "") | (s.sampled_on == "") | (s.region_code == "") | (s.result == "")).to_numpy()
    out["uscc_check"] = (((s.seller_uscc != "") & ~uscc_valid(s.seller_uscc.to_numpy(dtype=object)))
                         | ((s.manufacturer_uscc != "") & ~uscc_valid(s.manufacturer_uscc.to_numpy(dtype=object)))).to_numpy()
    out["region_code"] = _bad_region(s.region_code, _d(s.sampled_on).dt.year)
    n, stop, due, cor, rei = _d(s.notified_on), _d(s.stop_sale_on), _d(s.correction_due_on), _d(s.corrected_on), _d(s.reinspected_on)
    out["sampling_disposal"] = ((stop < n) | (cor > due) | (rei > n + pd.Timedelta(days=75))).fillna(False).to_numpy()
    return out


def hotline_violations(h: pd.DataFrame) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    out["missing_required"] = ((h.region_code == "") | (h.calls_offered == "")).to_numpy()
    out["region_code"] = _bad_region(h.region_code, _d(h.month).dt.year)
    return out


def profile_violations(p: pd.DataFrame) -> dict[str, np.ndarray]:
    """Profiles carry no injected defects; any finding here is a generator error."""
    return {"region_code": _bad_region(p.region_code, _num(p.year))}


def found_defects(out_dir: Path | str) -> pd.DataFrame:
    """``file, record_id, family`` of every row violating a family, by the reference rules."""
    rows = []
    c = read_table(out_dir, "complaints")
    for fam, mask in complaint_violations(c).items():
        rows.append(pd.DataFrame({"file": c._file[mask], "record_id": c.record_id[mask], "family": fam}))
    s = read_table(out_dir, "sampling_results")
    for fam, mask in sampling_violations(s).items():
        rows.append(pd.DataFrame({"file": s._file[mask], "record_id": s.sample_id[mask], "family": fam}))
    h = read_table(out_dir, "hotline_stats")
    for fam, mask in hotline_violations(h).items():
        rows.append(pd.DataFrame({"file": h._file[mask], "record_id": (h.unit_id + "|" + h.month.str[:7])[mask], "family": fam}))
    p = read_table(out_dir, "region_profiles")
    for fam, mask in profile_violations(p).items():
        rows.append(pd.DataFrame({"file": p._file[mask], "record_id": (p.region_code + "|" + p.year)[mask], "family": fam}))
    return pd.concat(rows, ignore_index=True).sort_values(["file", "record_id", "family"]).reset_index(drop=True)


def score(out_dir: Path | str) -> pd.DataFrame:
    """Precision and recall of the reference rules against ground_truth_defects.csv, per family."""
    truth = pd.read_csv(Path(out_dir) / "ground_truth_defects.csv", dtype=str, keep_default_na=False)
    found = found_defects(out_dir)
    key = ["file", "record_id", "family"]
    t = set(map(tuple, truth[key].to_numpy()))
    f = set(map(tuple, found[key].to_numpy()))
    fams = sorted(set(truth.family) | set(found.family))
    res = []
    for fam in fams:
        tt = {x for x in t if x[2] == fam}
        ff = {x for x in f if x[2] == fam}
        tp = len(tt & ff)
        res.append({"family": fam, "truth": len(tt), "found": len(ff), "tp": tp,
                    "precision": tp / len(ff) if ff else 1.0, "recall": tp / len(tt) if tt else 1.0})
    return pd.DataFrame(res)


def calibration(out_dir: Path | str) -> dict:
    """The headline rates of a (clean) landing folder, for comparison with docs/domain.md §3.4 and §4.4."""
    c = read_table(out_dir, "complaints")
    s = read_table(out_dir, "sampling_results")
    h = read_table(out_dir, "hotline_stats")
    comp = c[c.record_type == "投诉"]
    cr = c[c.record_type.isin(["投诉", "举报"])]
    closed_acc = comp[(comp.accept_decision == "受理") & (comp.closed_at != "")]
    closed = comp[comp.closed_at != ""]
    success = closed_acc.mediation_result.isin(["达成调解协议", "协商和解成功"])
    d = _num(comp.amount_disputed)
    r = _num(closed_acc.amount_recovered)
    months = _ts(c.received_at).dt.month.value_counts().sort_index()
    venue_fail = s.groupby(s.venue_type == "电商").result.apply(lambda x: (x == "不合格").mean())
    called = c[c.satisfaction.isin(["满意", "基本满意", "不满意"])]
    ch = c.channel.value_counts(normalize=True)
    years = _ts(c.received_at).dt.year
    return {
        "records": len(c),
        "type_mix": c.record_type.value_counts(normalize=True).round(4).to_dict(),
        "goods_share_of_complaints": round((comp.object_type == "商品").mean(), 4),
        "problem_mix_of_complaints": comp.problem_type.value_counts(normalize=True).round(4).to_dict(),
        "online_share_of_complaints_reports_by_year": cr.groupby(years[cr.index]).is_online.apply(lambda x: round((x == "是").mean(), 4)).to_dict(),
        "channel_mix": ch.round(4).to_dict(),
        "online_channel_share_by_year": c.groupby(years).channel.apply(lambda x: round(x.isin(["互联网", "微信", "APP"]).mean(), 4)).to_dict(),
        "acceptance_ratio": round((comp.accept_decision == "受理").sum() / max(1, (comp.accept_decision != "").sum()), 4),
        "mediation_success_of_closed_accepted": round(success.mean(), 4),
        "mediation_success_of_all_closed": round(success.sum() / max(1, len(closed)), 4),
        "amount_disputed_median": float(d.median()),
        "amount_disputed_p95": float(d.quantile(0.95)),
        "amount_recovered_median_positive": float(r[r > 0].median()),
        "recovered_over_disputed": round(float(r.sum() / _num(closed_acc.amount_disputed).sum()), 4),
        "case_filed_rate_complaints_reports": round((cr.case_filed == "是").mean(), 4),
        "report_substantiated_of_checked": round((c.report_substantiated == "是").sum() / max(1, (c.report_substantiated != "").sum()), 4),
        "satisfied_of_called_back": round(called.satisfaction.isin(["满意", "基本满意"]).mean(), 4),
        "satisfaction_mix": c.satisfaction.value_counts(normalize=True).round(4).to_dict(),
        "settled_by_business_of_closed_accepted": round((closed_acc.settled_by_business == "是").mean(), 4),
        "open_records": int(((c.closed_at == "") & c.record_type.isin(["投诉", "举报", "咨询"])).sum()),
        "month_volume": months.to_dict(),
        "pii_in_content_share": round(float(
            (c.apply(lambda r: bool(r.complainant_phone) and r.complainant_phone in r.content, axis=1)
             | c.apply(lambda r: bool(r.complainant_id_number) and r.complainant_id_number in r.content, axis=1)
             | c.apply(lambda r: bool(r.complainant_name) and r.complainant_name in r.content, axis=1)).mean()), 4),
        "sampling_batches": len(s),
        "sampling_fail_rate_store": round(float(venue_fail.get(False, np.nan)), 4),
        "sampling_fail_rate_ecommerce": round(float(venue_fail.get(True, np.nan)), 4),
        "hotline_answer_rate": round(float(_num(h.calls_answered).sum() / _num(h.calls_offered).sum()), 4),
        "hotline_first_attempt_rate": round(float(_num(h.calls_answered_first).sum() / _num(h.calls_offered).sum()), 4),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out_dir = Path(argv[0] if argv else "data/landing")
    print(json.dumps(calibration(out_dir), ensure_ascii=False, indent=1, default=str))
    print(score(out_dir).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
