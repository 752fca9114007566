"""Orchestration: one call writes a whole landing folder.

Random streams: every part draws from its own ``numpy.random.default_rng([seed, part, year])``
(regions and traits, business pools, each year's complaints, sampling, hotline, defects), so the
output depends only on the configuration — never on dict/set hash order, the clock or the
machine — and adding a year does not change the years already generated.
"""
from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ingestion.schema import COMPLAINTS, HOTLINE, REGION_PROFILES, SAMPLING, TableSchema

from . import aggregates, complaints, sampling
from .businesses import build_manufacturers, build_respondents, build_sellers
from .config import GeneratorConfig
from .defects import FAMILIES, BadCodes, inject_complaints, inject_hotline, inject_sampling
from .export import write_bytes, write_csv_plain, write_table
from .regions import TRAIT_EFFECTS, TRAITS, build_universe
from .timeutil import Workdays, month_of

GENERATOR_VERSION = "1.0"
Progress = Callable[[str, int, int], None]


def _headers(df: pd.DataFrame, schema: TableSchema, chinese: bool) -> pd.DataFrame:
    if chinese:
        df = df.copy()
        df.columns = [c.zh for c in schema.columns]
    return df


def generate(config: GeneratorConfig, progress: Progress | None = None) -> dict:
    """Generate the landing files described in the package docstring; returns a summary dict."""
    t0 = time.perf_counter()
    cfg = config.validated()
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    years = list(cfg.years)
    ext = cfg.file_format
    n_rec = cfg.records_per_year
    n_batches = cfg.batches_per_year
    total_steps = 26 * len(years) + 3
    done = 0

    def step(msg: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(msg, done, total_steps)

    u = build_universe(cfg.scope, cfg.seed)
    wd = Workdays()
    as_of = np.datetime64(f"{years[-1]}-12-31T23:59:59")

    # business pools, sized for the busiest year
    rng_pool = np.random.default_rng([cfg.seed, 201])
    expected = np.max([complaints.expected_by_category(u, n_rec, y) for y in years], axis=0)
    resp = build_respondents(rng_pool, u, expected)
    cmodel = complaints.build_model(u, wd, resp, cfg.seed)
    taken_codes = set(resp.uscc) - {""}
    sellers = build_sellers(rng_pool, u, sampling.expected_batches(u, n_batches), taken_codes)
    cat_w = pd.Series({c: w for c, w in complaints.vocab.SAMPLING_CATEGORY_WEIGHTS.items()})
    makers = build_manufacturers(rng_pool, (cat_w / cat_w.sum() * n_batches).to_dict(), taken_codes)
    smodel = sampling.build_model(u, wd, sellers, makers, rng_pool)
    bad = BadCodes()
    taken_people: set = set()

    files: list[dict] = []
    truth: list[pd.DataFrame] = []
    surges: list[dict] = []
    rows = {t: 0 for t in ("complaints", "sampling_results", "hotline_stats", "region_profiles")}

    def emit(df: pd.DataFrame, schema: TableSchema, name: str, table: str) -> None:
        info = write_table(_headers(df, schema, cfg.chinese_headers), out / name, ext, cfg.encoding,
                           sheet_name=schema.zh if cfg.chinese_headers else schema.name)
        files.append({"table": table, **info})
        rows[table] += info["rows"]
        step(f"wrote {name} ({info['rows']} rows)")

    for year in years:
        # planted trait changes from the second year on (regions.PLANTED_CHANGES): this year's traits
        uy = u.in_year(year, years[0])
        cm, sm = dataclasses.replace(cmodel, u=uy), dataclasses.replace(smodel, u=uy)
        # --- 12315 records ---------------------------------------------------------------------------
        f, bursts = complaints.generate_year(cm, year, n_rec, as_of, np.random.default_rng([cfg.seed, 1000, year]),
                                             taken_people, cfg.pii_in_content)
        pref = u.county_pref_idx[f["county"].to_numpy()]
        phone = f["channel"].to_numpy() == complaints.CH["电话"]
        mon = month_of(f["received"].to_numpy().astype("datetime64[D]"))
        phone_counts = np.zeros((len(u.prefectures), 12))
        np.add.at(phone_counts, (pref[phone], mon[phone] - 1), 1)
        f = inject_complaints(f, cmodel, year, as_of, cfg.defect_rate, np.random.default_rng([cfg.seed, 4000, year]), bad)
        f = complaints.finalize(f, u)
        mon = month_of(f["received"].to_numpy().astype("datetime64[D]"))
        for m in range(1, 13):
            part = f[mon == m]
            name = f"complaints_{year}-{m:02d}.{ext}"
            emit(complaints.to_strings(part, cmodel), COMPLAINTS, name, "complaints")
            bad_rows = part[part["defect"] != ""]
            truth.append(pd.DataFrame({"file": name, "record_id": bad_rows["record_id"].to_numpy(),
                                       "family": bad_rows["defect"].to_numpy()}))
        counts = f[f["burst"] >= 0].groupby("burst").size()
        for i, b in enumerate(bursts):
            entry = {"year": year, "month": f"{year}-{b['month']:02d}", "kind": b["kind"],
                     "category": complaints.vocab.CATEGORIES[b["category"]], "records": int(counts.get(i, 0))}
            if b["kind"] == "respondent":
                entry |= {"region_code": u.counties.code.iat[b["region"]], "respondent_name": resp.name[b["respondent"]],
                          "respondent_uscc": resp.uscc[b["respondent"]]}
            else:
                entry |= {"region_code": u.prefectures.code.iat[b["prefecture"]]}
            surges.append(entry)
        del f

        # --- sampling --------------------------------------------------------------------------------
        s = sampling.generate_year(sm, year, n_batches, as_of, np.random.default_rng([cfg.seed, 2000, year]))
        s = inject_sampling(s, smodel, year, as_of, cfg.defect_rate, np.random.default_rng([cfg.seed, 5000, year]), bad)
        s = sampling.finalize(s, u, year)
        smon = month_of(s["sampled"].to_numpy().astype("datetime64[D]"))
        for m in range(1, 13):
            part = s[smon == m]
            name = f"sampling_results_{year}-{m:02d}.{ext}"
            emit(sampling.to_strings(part, smodel), SAMPLING, name, "sampling_results")
            bad_rows = part[part["defect"] != ""]
            truth.append(pd.DataFrame({"file": name, "record_id": bad_rows["sample_id"].to_numpy(),
                                       "family": bad_rows["defect"].to_numpy()}))

        # --- hotline and profiles -----------------------------------------------------------------------
        h = aggregates.hotline_year(uy, phone_counts, year, np.random.default_rng([cfg.seed, 3000, year]))
        h = inject_hotline(h, year, cfg.defect_rate, np.random.default_rng([cfg.seed, 6000, year]), bad)
        name = f"hotline_stats_{year}.{ext}"
        emit(aggregates.hotline_strings(h), HOTLINE, name, "hotline_stats")
        bad_rows = h[h["defect"] != ""]
        truth.append(pd.DataFrame({"file": name, "record_id": bad_rows["unit_id"] + "|" + bad_rows["month"].str[:7],
                                   "family": bad_rows["defect"]}))
        p = aggregates.profiles_year(uy, year, cfg.seed)
        emit(aggregates.profile_strings(p), REGION_PROFILES, f"region_profiles_{year}.{ext}", "region_profiles")

    # --- side files ------------------------------------------------------------------------------------
    gt = pd.concat(truth, ignore_index=True) if truth else pd.DataFrame(columns=["file", "record_id", "family"])
    gt = gt.sort_values(["file", "record_id"], kind="stable").reset_index(drop=True)
    side = [write_csv_plain(gt[["file", "record_id", "family"]], out / "ground_truth_defects.csv")]
    step("wrote ground_truth_defects.csv")
    tr = u.traits_long.copy()
    tr["value"] = tr["value"].map("{:.4f}".format)
    side.append(write_csv_plain(tr, out / "region_traits.csv"))
    step("wrote region_traits.csv")
    defects = {fam: int((gt.family == fam).sum()) for fam in FAMILIES}
    manifest = {
        "generator": "consumer-environment-index synthetic",
        "generator_version": GENERATOR_VERSION,
        "parameters": cfg.parameters(),
        "seed": cfg.seed,
        "scope": {"scope": u.scope["scope"], "code": u.scope["code"], "name": u.scope["name"],
                  "unit_level": u.scope["unit_level"], "prefecture_level_units": int(len(u.prefectures)),
                  "handling_regions": int(len(u.counties))},
        "export_cutoff": str(as_of).replace("T", " "),
        "files": files + [{"table": None, **s_} for s_ in side],
        "rows": rows,
        "defects": defects,
        "planted_surges": surges,
        "planted_changes": u.planted_changes(years[0]) if len(years) > 1 else [],
        "traits": {"file": "region_traits.csv", "scale": "z-score, higher = better for consumers, sd ~1 per level",
                   "names": list(TRAITS), "effects": TRAIT_EFFECTS},
    }
    data = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    write_bytes(data, out / "manifest.json")
    step("wrote manifest.json")
    return {
        "out_dir": str(out),
        "files": {fi["file"]: fi["rows"] for fi in files},
        "rows": rows,
        "defects": defects,
        "ground_truth_rows": int(len(gt)),
        "planted_surges": len(surges),
        "manifest": str(out / "manifest.json"),
        "seconds": round(time.perf_counter() - t0, 2),
    }
