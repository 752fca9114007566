"""Run the pipeline's jobs in process, for people who never open the Dagster UI (`cei run`).

The same assets as the UI, executed by Dagster in this process: against the persistent instance
of ``DAGSTER_HOME`` when it is set (the runs show in the UI and wait for the ``duckdb`` pool like
any other run), else an ephemeral one. Load the landing folder into raw, then rebuild staging for exactly the months that changed
(one run over the month range, the staging assets' single-run backfill policy), then the
later stages that exist.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import dagster as dg

from pipelines.definitions import defs
from pipelines.partitions import monthly_partitions
from pipelines.resources import warehouse_resource


# Dagster's own console log is for the UI; the CLI prints its own summary.
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def run_pipeline(landing_dir: Path, warehouse: Path, source_id: str | None = None,
                 say: Callable[[str], None] = print, scope: str = "", periods: list[str] | None = None,
                 reports_dir: Path | None = None, lang: str = "zh", encoding: str | None = None,
                 profile: str | None = None) -> dict:
    resources = {"duckdb": warehouse_resource(str(warehouse))}
    instance = run_instance()
    config = {"landing_dir": str(landing_dir)}
    if source_id:
        config["source_id"] = source_id
    if encoding:
        config["encoding"] = encoding
    if profile:
        config["profile"] = str(profile)

    say(f"[ingest] loading new files from {landing_dir} into raw")
    # A refused file fails the landing run after the rest loaded (its materialization is kept):
    # the later stages still run on what loaded, and the caller reports the refusal (exit 1).
    landing = defs.resolve_job_def("landing_job").execute_in_process(
        run_config={**QUIET, "ops": {"raw__landing_files": {"config": config}}}, instance=instance, resources=resources,
        raise_on_error=False)
    mats = landing.asset_materializations_for_node("raw__landing_files")
    if not mats:  # the load itself broke (not a bad file: those fail alone)
        _raise_if_disk_full(landing)
        raise RuntimeError("loading the landing folder failed: " + _step_errors(landing))
    meta = mats[0].metadata
    touched: dict = meta["partitions"].value
    say(f"      files loaded {meta['files_loaded'].value}, skipped {meta['files_skipped'].value}, "
        f"failed {meta['files_failed'].value}"
        + (f", not deliveries {meta['files_ignored'].value}" if "files_ignored" in meta else "")
        + f"; rows {meta['rows_raw'].value}, read rejects {meta['rows_rejected'].value}"
        + (f", replaced {meta['rows_replaced'].value}" if meta.get("rows_replaced") and meta["rows_replaced"].value else ""))
    refused = meta["failures"].value if meta["files_failed"].value else ""
    if refused:
        say("      refused (not loaded; the run will exit 1):\n" + _indent(refused))
    if "not_loaded" in meta and meta["not_loaded"].value != "none":
        say("      not loaded:\n" + _indent(meta["not_loaded"].value))

    unsettled = _unsettled(warehouse)  # staged but not gated on current rows: `cei ingest`, a failed run
    months = {m for t, ms in touched.items() if t != "region_profiles" for m in ms} | unsettled["monthly"]
    # a gated month after one restaged here read it as look-back context: gated again now, not left stale
    months = sorted(months | _looking_back_at(warehouse, months))
    # Only months Dagster has a partition for (a range outside them would stop every later run);
    # the loader rejects records dated outside them, so this drops only rows loaded before it did.
    valid = {k[:7] for k in monthly_partitions.get_partition_keys()}
    if outside := [m for m in months if m not in valid]:
        say(f"      not staged: month(s) outside the partitions {', '.join(outside)} (rows loaded by an older version)")
        months = [m for m in months if m in valid]
    staged = {}
    if months:
        say(f"[staging + quality] {len(months)} month(s) {months[0]}…{months[-1]}")
        # one run over the contiguous range; months in between are rebuilt too (idempotent)
        result = defs.resolve_job_def("monthly_job").execute_in_process(
            run_config=QUIET, instance=instance, resources=resources, raise_on_error=False,
            tags={"dagster/asset_partition_range_start": f"{months[0]}-01",
                  "dagster/asset_partition_range_end": f"{months[-1]}-01"})
        staged.update(_summarise(result))
    if "region_profiles" in touched or unsettled["region_profiles"]:
        result = defs.resolve_job_def("profiles_job").execute_in_process(
            run_config=QUIET, instance=instance, resources=resources, raise_on_error=False)
        staged.update(_summarise(result))
    if not months and "region_profiles" not in touched and not unsettled["region_profiles"]:
        say("[staging + quality] nothing new")
    failed = sorted(f"{a} {k[6:]}" for a, info in staged.items() for k, v in info.items()
                    if k.startswith("check:") and v == "FAILED")
    index = {}
    if failed:
        say("[index] held back: blocking checks failed: " + "; ".join(failed))
    elif unpublishable := _refusals(warehouse, scope, periods):
        # months held back or stale in the warehouse, whichever run judged them: a run with nothing
        # new is red too while they stand, never green on top of a held-back month
        failed = unpublishable
        say("[index] held back: " + " ".join(unpublishable))
    elif staged or periods or scope:
        say(f"[index] indicators and index scores (scope {scope or 'from the data'}, periods {periods or 'every year'})")
        index = _run_index(warehouse, instance, resources, scope, periods, reports_dir or warehouse.parent / "reports",
                           lang)
        staged.update(index)
        # the index's own blocking checks (no NaN score, two regions, every region, weights): a failed
        # one kept its period out of mart.index_scores and held the reports back
        failed = sorted(f"{a} {k[6:]}" + (f" ({'; '.join(info['problems:' + k[6:]][:3])})"
                                           if info.get("problems:" + k[6:]) else "")
                        for a, info in index.items() for k, v in info.items()
                        if k.startswith("check:") and v == "FAILED")
        if failed:
            say("[index] held back: blocking checks failed: " + "; ".join(failed))
    for asset, info in sorted(staged.items()):
        checks = ", ".join(f"{k[6:]} {v}" for k, v in info.items() if k.startswith("check:"))
        counts = ", ".join(f"{k} {info[k]}" for k in ("rows_staged", "rows_rejected", "rows_clean", "rows_quarantined",
                                                       "rows_flagged", "scope", "periods") if k in info)
        say(f"      {asset}: {counts}" + (f" [{checks}]" if checks else ""))
    pages = staged.get("reports/report_folders", {}).get("index_pages", {})
    for period, page in sorted(pages.items()):
        say(f"[reports] {period}: {page}")
    return {"landing": {k: v.value for k, v in meta.items()}, "staged": staged, "held_back": failed,
            "report_pages": pages, "refused": [line[2:] for line in refused.splitlines() if line.startswith("- ")]}


def _run_index(warehouse: Path, instance, resources, scope: str, periods, reports_dir: Path, lang: str) -> dict:
    """One partition run per period (``index_job`` for a year, ``quarterly_index_job`` for a quarter),
    for the scope given or the data's, which becomes a scope partition first. Summaries merged:
    a failed check stays failed, the report pages of every period are kept."""
    from assets.index import resolve_targets
    from pipelines.partitions import SCOPE_PARTITIONS, index_partition_key
    from pipelines.periods import grain_of
    from pipelines.settings import connect

    with connect(warehouse, read_only=True) as con:
        scope_, periods_ = resolve_targets(con, scope, periods)
    if not instance.has_dynamic_partition(SCOPE_PARTITIONS, scope_):
        instance.add_dynamic_partitions(SCOPE_PARTITIONS, [scope_])
    merged: dict = {}
    for period in periods_:
        job = "index_job" if grain_of(period) == "year" else "quarterly_index_job"
        report_op = "reports__report_folders" + ("" if job == "index_job" else "_quarterly")
        result = defs.resolve_job_def(job).execute_in_process(
            run_config={**QUIET, "ops": {report_op: {"config": {"out_dir": str(reports_dir), "lang": lang}}}},
            partition_key=index_partition_key(period, scope_), instance=instance, resources=resources,
            raise_on_error=False)
        for asset, info in _summarise(result).items():
            asset = asset.removesuffix("_quarterly")  # one line per stage in the summary
            into = merged.setdefault(asset, {})
            for k, v in info.items():
                if k.startswith("check:"):
                    into[k] = "FAILED" if "FAILED" in (v, into.get(k)) else v
                elif k.startswith("problems:"):
                    into[k] = into.get(k, []) + [f"{period}: {p}" for p in v]
                elif k == "index_pages":
                    into[k] = {**into.get(k, {}), **v}
                elif k == "period":
                    into["periods"] = into.get("periods", []) + [v]
                else:
                    into[k] = v
    return merged


def run_instance() -> dg.DagsterInstance:
    """The persistent instance of ``DAGSTER_HOME`` (its runs show in `make dev`'s UI and respect the
    pool limits of its dagster.yaml) when the variable names a folder, else an ephemeral one."""
    import os

    home = os.environ.get("DAGSTER_HOME")
    if home and Path(home).is_dir():
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def _indent(md_list: str, limit: int = 20) -> str:
    """A markdown list from the landing metadata as indented console lines (at most ``limit``)."""
    lines = [f"        {line[2:] if line.startswith('- ') else line}" for line in md_list.splitlines()]
    return "\n".join(lines[:limit] + ([f"        ... {len(lines) - limit} more"] if len(lines) > limit else []))


def _raise_if_disk_full(result: dg.ExecuteInProcessResult) -> None:
    """A step that failed because the disk is full: say that, with the path (pipelines.settings.DiskFull)."""
    from pipelines.settings import disk_full

    for e in result.all_events:
        if e.is_step_failure and (full := disk_full(e.event_specific_data.error)) is not None:
            raise full


def _step_errors(result: dg.ExecuteInProcessResult) -> str:
    errors = [e.event_specific_data.error for e in result.all_events if e.is_step_failure]
    return "; ".join(_error_line(err) for err in errors if err) or "unknown error"


def _unsettled(warehouse: Path) -> dict:
    """Partitions whose staging the gate has not judged as it is now (data_quality.publishability)."""
    from data_quality.publishability import unsettled_partitions
    from pipelines.settings import connect

    valid = {k[:7] for k in monthly_partitions.get_partition_keys()}
    with connect(warehouse) as con:
        monthly = {p for t in ("complaints", "sampling_results", "hotline_stats") for p in unsettled_partitions(con, t)}
        profiles = unsettled_partitions(con, "region_profiles")
    return {"monthly": monthly & valid, "region_profiles": profiles}


def _looking_back_at(warehouse: Path, months: set[str]) -> set[str]:
    """The gated months whose month before is among ``months`` (data_quality.publishability)."""
    from data_quality.publishability import looking_back_at
    from pipelines.settings import connect

    with connect(warehouse) as con:
        return set(looking_back_at(con, sorted(months)))


def _refusals(warehouse: Path, scope: str, periods: list[str] | None) -> list[str]:
    """Why the index may not be published for the targets the index assets would resolve (empty: it may)."""
    from assets.index import resolve_targets
    from data_quality.publishability import check_period
    from ingestion.sqlfiles import table_exists
    from pipelines.settings import connect

    with connect(warehouse) as con:
        if not table_exists(con, "clean", "complaints"):
            return []  # nothing gated yet: the index assets say so themselves
        scope_, periods_ = resolve_targets(con, scope, periods)
        return [v.message() for v in (check_period(con, scope_, p) for p in periods_) if not v.publishable]


def _summarise(result: dg.ExecuteInProcessResult) -> dict:
    """Materialisation metadata and check outcomes per asset. A failed blocking check is a data
    finding (reported, later stages held back), any other step failure is an error."""
    out: dict = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        out[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    for check in result.get_asset_check_evaluations():  # a per-month check has one result per month
        info = out.setdefault(check.asset_key.to_user_string(), {})
        name = f"check:{check.check_name}"
        info[name] = "FAILED" if not check.passed or info.get(name) == "FAILED" else "passed"
        if not check.passed and "problems" in check.metadata:  # the index checks name what failed
            info[f"problems:{check.check_name}"] = list(check.metadata["problems"].value)
    errors = [e.event_specific_data.error for e in result.all_events if e.is_step_failure]
    real = [err for err in errors if err and err.cls_name != "DagsterAssetCheckFailedError"]
    if real:
        raise RuntimeError("pipeline step failed: " + "; ".join(_error_line(err) for err in real))
    return out


def _error_line(err) -> str:
    """'op: Cls: first line' of a step failure: the user's exception (Dagster wraps it), not the wrapper."""
    step = re.search(r'executing op "([^"]+)"', err.message or "")
    inner = err.cause if err.cause is not None and err.cls_name == "DagsterExecutionStepExecutionError" else err
    text = [ln.strip() for ln in (inner.message or "").strip().splitlines() if ln.strip()] or [inner.cls_name or "error"]
    # a message ending in ':' introduces a list ("13 problems:"): show its first items too
    shown = " ".join(text[:3]) if text[0].endswith(":") else text[0]
    return (f"{step.group(1)}: " if step else "") + shown[:400]
