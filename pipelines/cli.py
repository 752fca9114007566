"""`cei` — the command line for analysts who never open the Dagster UI.

    cei generate --scope 32 --years 2024,2025 --records-per-year 60000 --seed 7 --out data/landing
    cei ingest data/landing                 # load new files (raw + staging), library only
    cei run --landing data/landing          # the same through Dagster, then every later stage
    cei demo                                # generate + run + summary
    cei status                              # rows per table, recent loads

The warehouse is ``--warehouse``, else ``CEI_WAREHOUSE``, else ``data/warehouse.duckdb``.
"""
from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path

import click

from ingestion.sqlfiles import table_exists
from pipelines.settings import (WAIT_ENV, connect, disk_full_as_message, keep_editions, landing_dir, wait_for_warehouse,
                                warehouse_path)


# Dagster flags the single-run backfill policy as beta; the CLI user can do nothing about it.
warnings.filterwarnings("ignore", message=r"Parameter `backfill_policy`")


def _err(msg: str) -> None:
    click.echo(msg, err=True)


DEBUG_ENV = "CEI_DEBUG"
MAX_ERROR_LINES = 3


def _first_lines(text: str, lines: int = MAX_ERROR_LINES, width: int = 300) -> list[str]:
    """A message as at most ``lines`` lines of at most ``width`` characters (no header dumps)."""
    out = [ln if len(ln) <= width else ln[:width - 1] + "…" for ln in str(text).strip().splitlines() if ln.strip()]
    return out[:lines] + (["…"] if len(out) > lines else [])


def _user_error(e: BaseException) -> str | None:
    """The message for an error the user can act on (bad input, config, a busy or missing file), or
    None for an internal error."""
    import duckdb

    from ingestion.readers import IngestError
    from pipelines import settings

    if isinstance(e, (IngestError, settings.WarehouseBusy, settings.DiskFull)):
        return str(e)
    if isinstance(e, OSError) and getattr(e, "filename", None):  # FileNotFoundError, PermissionError, ...
        return f"{e.filename}: {e.strerror or e}"
    if isinstance(e, duckdb.IOException):
        return f"cannot use the warehouse: {e} (is another `cei` running? try --wait SECONDS)" \
            if "lock" in str(e).lower() else f"cannot use the warehouse: {e}"
    if isinstance(e, duckdb.CatalogException):  # a table a later stage writes is not there yet
        return f"{str(e).splitlines()[0]}; has `cei run` built this warehouse yet?"
    if isinstance(e, (duckdb.SerializationException, duckdb.InternalException)):
        return f"the warehouse file looks damaged: {e} (run `cei check`)"
    if isinstance(e, LookupError) and not isinstance(e, (KeyError, IndexError)):
        return str(e)  # e.g. no index stored for the scope and period asked
    if isinstance(e, (ValueError, RuntimeError, OSError)) and not isinstance(e, duckdb.Error):
        return str(e)  # configuration (PII key, spec, scope, period), a failed pipeline step, a disk
    return None


class CeiGroup(click.Group):
    """Every `cei` command: an error is at most a few lines and a non-zero exit status, never a
    Python traceback (``CEI_DEBUG=1`` shows it). SIGTERM unwinds like Ctrl-C, so a killed load
    rolls back and removes its temporary decoded copies."""

    def invoke(self, ctx: click.Context):
        import signal

        import duckdb

        def terminate(signum, frame):
            raise KeyboardInterrupt

        try:
            previous = signal.signal(signal.SIGTERM, terminate)
        except ValueError:  # not the main thread (e.g. embedded): leave signals alone
            previous = None
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except (KeyboardInterrupt, duckdb.InterruptException):
            _err("interrupted: the file being loaded was rolled back; run the same command again")
            raise click.exceptions.Exit(130) from None
        except BrokenPipeError:  # `cei status | head`: the reader left; not an error of ours
            # stdout is gone: point it at /dev/null so the interpreter's final flush stays quiet
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(0) from None
        except Exception as e:  # noqa: BLE001 — the last line of defence for the user's terminal
            if os.environ.get(DEBUG_ENV):
                raise
            msg = _user_error(e)
            if msg is not None:
                for line in _first_lines(f"error: {msg}"):
                    _err(line)
                raise click.exceptions.Exit(1) from None
            _err(_first_lines(f"internal error: {type(e).__name__}: {e}", 1)[0])
            _err(f"run with {DEBUG_ENV}=1 for the traceback")
            raise click.exceptions.Exit(2) from None
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


@click.group(cls=CeiGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("--warehouse", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="DuckDB warehouse file [env CEI_WAREHOUSE; default data/warehouse.duckdb].")
@click.option("--wait", "wait", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="When another process is using the warehouse, wait up to SECONDS for it (retrying) "
                   "[env CEI_WAIT; default 0: stop at once, naming the process].")
@click.pass_context
def main(ctx: click.Context, warehouse: Path | None, wait: float | None) -> None:
    """Consumer Environment Index (消费环境指数) pipeline: 12315 records and sampling results -> DuckDB
    -> data quality -> regional index -> reports."""
    from ingestion.pii import check_env_key

    check_env_key()
    ctx.obj = {"warehouse_option": warehouse}
    if wait is not None:  # every connection of this process, Dagster's in `cei run` included
        os.environ[WAIT_ENV] = str(wait)


def _warehouse(ctx: click.Context) -> Path:
    return warehouse_path(ctx.obj["warehouse_option"])


# --- generate ---------------------------------------------------------------------------------

def _years(value: str) -> tuple[int, ...]:
    try:
        years = tuple(sorted({int(y) for y in value.split(",") if y.strip()}))
    except ValueError:
        raise click.BadParameter(f"{value!r}: give years like 2024,2025") from None
    if not years:
        raise click.BadParameter("no year given")
    return years


@main.command()
@click.option("--scope", default="32", show_default=True,
              help="Province code (32), prefecture code (3204) or CN for all provinces.")
@click.option("--years", default="2024,2025", show_default=True, help="Comma-separated years.")
@click.option("--records-per-year", type=click.IntRange(min=1), default=60000, show_default=True,
              help="12315 records per year for the whole scope.")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed (same seed, same files).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("data/landing"),
              show_default=True, help="Folder to write into.")
@click.option("--defect-rate", type=click.FloatRange(0, 0.5), default=0.0, show_default=True,
              help="Share of records given one injected defect (listed in ground_truth_defects.csv).")
@click.option("--format", "file_format", type=click.Choice(["csv", "xlsx", "parquet"]), default="csv", show_default=True)
@click.option("--encoding", type=click.Choice(["utf-8", "gb18030"]), default="utf-8", show_default=True,
              help="CSV encoding.")
@click.option("--chinese-headers", is_flag=True, help="Write Chinese headers (登记编号, 诉求类型, ...).")
def generate(scope, years, records_per_year, seed, out_dir, defect_rate, file_format, encoding, chinese_headers):
    """Write realistic synthetic 12315 records, sampling results, hotline statistics and region profiles."""
    from synthetic import GeneratorConfig, generate as run_generator

    if encoding != "utf-8" and file_format != "csv":
        raise click.BadParameter("--encoding applies to CSV only", param_hint="--encoding")
    cfg = GeneratorConfig(scope=scope, years=_years(years), records_per_year=records_per_year, seed=seed,
                          out_dir=out_dir, defect_rate=defect_rate, file_format=file_format, encoding=encoding,
                          chinese_headers=chinese_headers)
    started = time.perf_counter()
    summary = run_generator(cfg, progress=lambda msg, done, total: _err(f"  [{done}/{total}] {msg}"))
    _err(f"generated in {time.perf_counter() - started:.1f}s -> {out_dir}")
    click.echo(json.dumps(summary, ensure_ascii=False, indent=1, default=str))


# --- ingest -----------------------------------------------------------------------------------

def _print_file_result(r) -> None:
    if r.status == "loaded":
        line = (f"loaded   {Path(r.file).name}: {r.table} [{r.source_id}] {len(r.partitions)} period(s), "
                f"read {r.rows_read}, staged {r.rows_staged}, rejected {r.rows_rejected}")
        if r.rows_replaced or r.superseded:
            line += f", replaced {r.rows_replaced} earlier rows (load {', '.join(map(str, r.superseded))})"
        _err(line)
        if r.message:
            _err(f"    note: {r.message}")
        extra = sorted(set(r.touched_partitions) - set(r.partitions))
        if extra:
            _err(f"    also restaged (the replaced delivery's): {', '.join(extra)}")
        for ex in r.reject_examples:
            _err(f"    reject: {ex}")
        if r.rows_rejected > len(r.reject_examples):
            _err(f"    ... {r.rows_rejected - len(r.reject_examples)} more in raw.rejects")
    elif r.status == "skipped":
        _err(f"skipped  {Path(r.file).name}: {r.message}")
    elif r.status == "ignored":
        _err(f"ignored  {r.file}: {r.message}")
    else:
        _err(f"FAILED   {r.message}")


def _print_counts(con) -> None:
    from ingestion.loader import table_counts

    click.echo(f"{'table':<18}{'raw':>10}{'staging':>10}{'rejected':>10}{'clean':>10}{'quarantined':>12}")
    for t, raw, stg, rej, clean, quar in table_counts(con):
        show = lambda v: "-" if v is None else v  # noqa: E731 — the gate has not run yet
        click.echo(f"{t:<18}{raw:>10}{stg:>10}{rej:>10}{show(clean):>10}{show(quar):>12}")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--source", "source_id", default=None,
              help="Delivering feed; a re-delivered month of the same feed replaces the old one "
                   "[default: file name without dates and version marks].")
@click.option("--table", "table_hint", type=click.Choice(["complaints", "sampling_results", "hotline_stats", "region_profiles"]),
              default=None, help="Force the target table instead of recognising it from the headers.")
@click.option("--supersedes", "supersedes", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="This file replaces the earlier delivery FILE (by path, name or content): its "
                                   "rows are removed wherever their months fall [default: the same feed's "
                                   "delivery of the period the file name declares, e.g. complaints_2025-03_v2.csv "
                                   "replaces complaints_2025-03.csv].")
@click.option("--profile", "profile", default=None, metavar="FILE",
              help="Mapping profile (YAML) for another system's export: its headers, codes, date formats, "
                   "encoding and table; a shipped profile by name, e.g. 12365auto (see README).")
@click.option("--encoding", "encoding", default=None, metavar="NAME", callback=lambda c, p, v: _encoding(v),
              help="Read CSV files in this encoding (e.g. gb18030, cp1252, koi8-r) instead of detecting "
                   "UTF-8 / GB18030; for a file refused as implausible Chinese text.")
@click.pass_context
def ingest(ctx, paths, source_id, table_hint, supersedes, profile, encoding):
    """Load delivered files (CSV UTF-8/GB18030, XLSX, Parquet; folders are searched) into raw and staging.

    Files already loaded (same sha256) are skipped; in folders, hidden files, Office lock files and
    the generator's metadata are listed as not deliveries. Exit status 1 if any delivered file was
    refused (unreadable, unsupported type): every other file is loaded first."""
    from ingestion import profiles
    from ingestion.loader import ingest_paths

    try:
        profile = profiles.load(profile) if profile else None
    except profiles.ProfileError as e:
        raise click.BadParameter(str(e), param_hint="--profile") from None
    wh = _warehouse(ctx)
    with disk_full_as_message(), connect(wh) as con:
        results = ingest_paths(con, paths, warehouse=wh, source_id=source_id, table_hint=table_hint,
                               progress=_print_file_result, supersedes=supersedes, profile=profile,
                               encoding=encoding)
        _print_counts(con)
    refused = [r for r in results if r.status == "failed"]
    if refused:
        _err(f"{len(refused)} file(s) refused, the others loaded: fix or remove them and run again")
        sys.exit(1)


def _encoding(value: str | None) -> str | None:
    """``--encoding``: the codec's name if the CSV reader can read it (ASCII-based encodings only)."""
    if not value:
        return None
    from ingestion.encoding import check_encoding

    try:
        return check_encoding(value)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--encoding") from None


# --- run / demo -------------------------------------------------------------------------------

@main.command()
@click.option("--landing", "landing", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Landing folder [env CEI_LANDING; default data/landing].")
@click.option("--source", "source_id", default=None, help="Delivering feed name (see `cei ingest --help`).")
@click.option("--scope", default="", help="Index scope: 32 (a province's prefectures), 3204 (a prefecture's "
                                          "counties) or CN [default: the province the data covers].")
@click.option("--period", "periods", multiple=True,
              help="Index period(s), each a partition of the index: a year 2025 or a quarter 2025Q3 [default: every "
                   "year] (half-years: `cei index` / `cei report`).")
@click.option("--encoding", "encoding", default=None, metavar="NAME", callback=lambda c, p, v: _encoding(v),
              help="Read the landing folder's CSV files in this encoding (see `cei ingest --help`).")
@click.option("--profile", "profile", default=None, metavar="FILE",
              help="Mapping profile (YAML) for another system's export, as `cei ingest --profile` "
                   "(a shipped profile by name, e.g. 12365auto).")
@click.pass_context
def run(ctx, landing, source_id, scope, periods, encoding, profile):
    """Ingest what is new in the landing folder and run every later stage, through Dagster in process:
    staging, the data-quality gate (clean, quarantine), indicators and index scores.

    Exit status 1 if a delivered file was refused, 3 if a blocking check held the index back."""
    from pipelines.runner import run_pipeline

    from ingestion import profiles

    if profile:  # checked before anything runs, as `cei ingest` does
        try:
            profiles.load(profile)
        except profiles.ProfileError as e:
            raise click.BadParameter(str(e), param_hint="--profile") from None
    from pipelines.periods import grain_of

    for p in periods:  # checked before anything runs
        try:
            grain_of(p)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--period") from None
    wh = _warehouse(ctx)
    folder = landing_dir(landing)
    if not folder.is_dir():
        raise click.BadParameter(f"{folder} is not a folder", param_hint="--landing")
    started = time.perf_counter()
    wait_for_warehouse(wh)  # Dagster's resource opens the file itself: fail (or wait) here, clearly
    with disk_full_as_message():
        outcome = run_pipeline(folder, wh, source_id=source_id, say=_err, scope=scope, periods=list(periods),
                               encoding=encoding, profile=profile)
    _err(f"pipeline finished in {time.perf_counter() - started:.1f}s; warehouse {wh}")
    with connect(wh, read_only=True) as con:
        _print_counts(con)
    _exit_on_findings(outcome)


def _exit_on_findings(outcome: dict) -> None:
    """Exit 1 if a delivered file was refused, 3 if the index was held back (``run_pipeline``'s outcome)."""
    if outcome.get("refused"):
        _err(f"{len(outcome['refused'])} delivered file(s) refused, the others loaded: fix or remove them and run again")
        sys.exit(1)
    if outcome.get("held_back"):  # a data finding, not a crash, but a script must not read it as success
        _err("index and reports held back (exit status 3): " + "; ".join(outcome["held_back"]))
        sys.exit(3)


# About 1 % of the demo's rows carry one injected defect: enough for the gate, the quarantine and the
# entry-unit scorecard to show real findings, far under the per-month limits (data_quality.thresholds),
# so no month is held back and the demo publishes.
DEMO_DEFECT_RATE = 0.01


@main.command()
@click.option("--scope", default="32", show_default=True)
@click.option("--years", default="2024,2025", show_default=True)
@click.option("--records-per-year", type=click.IntRange(min=1), default=60000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--dir", "demo_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("data/demo"),
              show_default=True, help="Demo folder: landing/ and warehouse.duckdb go here.")
@click.option("--defect-rate", type=click.FloatRange(0.0, 0.5), default=DEMO_DEFECT_RATE, show_default=True,
              help="Share of generated rows given one data-quality defect (ground truth in "
                   "landing/ground_truth_defects.csv), so the gate, the quarantine and the DQ report show findings.")
@click.pass_context
def demo(ctx, scope, years, records_per_year, seed, demo_dir, defect_rate):
    """Generate a scope's data, run the whole pipeline on it and print a summary.

    The data carry about 1 % injected defects (--defect-rate): the summary lists the rows quarantined
    per rule against the defects injected, the entry units with the highest error rates and where
    the data-quality report is. Exit status 3 (like `cei run`) if the gate held the index and reports back."""
    from pipelines.runner import run_pipeline
    from synthetic import GeneratorConfig, generate as run_generator

    started = time.perf_counter()
    landing = demo_dir / "landing"
    wh = ctx.obj["warehouse_option"] or demo_dir / "warehouse.duckdb"
    _err(f"generating scope {scope}, years {years}, {records_per_year} records/year, defect rate {defect_rate:.1%} "
         f"-> {landing}")
    generated = run_generator(GeneratorConfig(scope=scope, years=_years(years), records_per_year=records_per_year,
                                              seed=seed, out_dir=landing, defect_rate=defect_rate),
                              progress=lambda msg, done, total: _err(f"  [{done}/{total}] {msg}"))
    _err(f"generated in {time.perf_counter() - started:.1f}s")
    outcome = run_pipeline(landing, warehouse_path(wh), say=_err, reports_dir=demo_dir / "reports")
    with connect(wh, read_only=True) as con:
        _print_counts(con)
        _print_demo_findings(con, generated.get("defects", {}), outcome.get("report_pages", {}))
    _err(f"demo finished in {time.perf_counter() - started:.1f}s; warehouse {wh}")
    if hint := _environment_hint(Path(wh), landing):
        click.echo(hint)
    pages = outcome.get("report_pages", {})
    if pages:
        click.echo(f"open the reports: {Path(pages[max(pages)]).resolve()}")
    elif outcome.get("held_back"):
        click.echo("reports held back: " + "; ".join(outcome["held_back"]))
    _exit_on_findings(outcome)


def _environment_hint(wh: Path, landing: Path) -> str | None:
    """The one line that points `cei`, `make dev` and the UI at the demo's warehouse and landing folder,
    or None when the defaults (CEI_WAREHOUSE, CEI_LANDING, else data/...) already are those files."""
    from pipelines.settings import DEFAULT_LANDING, DEFAULT_WAREHOUSE

    default_wh = Path(os.environ.get("CEI_WAREHOUSE") or DEFAULT_WAREHOUSE).resolve()
    default_landing = Path(os.environ.get("CEI_LANDING") or DEFAULT_LANDING).resolve()
    home = os.environ.get("DAGSTER_HOME")
    if wh.resolve() == default_wh and landing.resolve() == default_landing:
        # `make demo`: the files are the defaults; its runs went to the instance `make dev` opens
        return (f"runs recorded in {home} (make dev shows them; export DAGSTER_HOME={home} to record "
                "`cei run` there too)") if home else None
    return (f"to use this demo with cei, make dev and the UI: export CEI_WAREHOUSE={wh.resolve()} "
            f"CEI_LANDING={landing.resolve()}")


def _print_demo_findings(con, injected: dict, pages: dict, top_units: int = 5, min_unit_rows: int = 200) -> None:
    """The gate's findings on the demo data: defects injected by family, rows quarantined per rule and
    table, the entry units (录入单位, 谁录入谁负责) with the highest error rates, and the DQ report pages."""
    from data_quality.scorecard import TABLES, overview, rule_results, unit_scorecard
    from data_quality.thresholds import MAX_ERROR_SHARE
    from reports.units import unit_display_names

    injected = {k: v for k, v in injected.items() if v}
    click.echo("data-quality findings")
    click.echo(f"  defects injected (ground truth): {sum(injected.values())}"
               + (" (" + ", ".join(f"{k} {v}" for k, v in injected.items()) + ")" if injected else ""))
    ov = overview(con)
    for table in TABLES:
        rows = ov[ov.table_name == table]
        if rows.empty:
            continue
        staged, quarantined, flagged = (int(rows[c].sum()) for c in ("rows_staged", "rows_quarantined", "rows_flagged"))
        worst = rows.loc[rows.error_share.idxmax()]
        held = ", ".join(rows.loc[rows.error_share > MAX_ERROR_SHARE, "month"]) or "none"
        click.echo(f"  {table}: {quarantined} of {staged} rows quarantined ({quarantined / max(staged, 1):.2%}), "
                   f"{flagged} flagged; worst month {worst.month} {worst.error_share:.2%}; months over the "
                   f"{MAX_ERROR_SHARE:.0%} error-share limit: {held}")
        rules = rule_results(con, table)
        for r in rules[rules.rows > 0].itertuples():
            what = f"quarantined {r.quarantined}" if r.severity == "error" else f"flagged {r.rows}"
            text = r.description_en if len(r.description_en) <= 90 else r.description_en[:89] + "…"
            click.echo(f"      {r.rule_id:<13}{r.severity:<6}{what:>16}  {text}")
    card = unit_scorecard(con, "complaints")
    card = card[(card.dimension == "all") & card.unit_id.notna()]
    units = card.groupby("unit_id")[["rows_entered", "rows_error"]].sum()
    # a rate on a handful of rows says little: rank units with min_unit_rows rows (the median unit's, if fewer)
    floor = min(min_unit_rows, int(units.rows_entered.median())) if len(units) else min_unit_rows
    ranked = units[units.rows_entered >= floor]
    if len(ranked):
        ranked = ranked.assign(rate=ranked.rows_error / ranked.rows_entered)
        worst_units = ranked.sort_values(["rate", "rows_error"], ascending=False).head(top_units)
        click.echo(f"  entry units (录入单位) with the highest complaint error rate, all months ({len(ranked)} units with "
                   f">= {floor} rows; overall {units.rows_error.sum() / max(units.rows_entered.sum(), 1):.2%}):")
        names = unit_display_names(list(worst_units.index), "zh", con)  # the name a bureau knows, id to look it up
        for unit, u in worst_units.iterrows():
            click.echo(f"      {names.get(unit, unit)}（{unit}）{u.rate:>8.2%}  ({int(u.rows_error)} of "
                       f"{int(u.rows_entered)} rows)")
    for period, page in sorted(pages.items()):
        dq = Path(page).parent / "dq_report.html"
        if dq.is_file():
            click.echo(f"  data-quality report {period}: {dq.resolve()}")


PROVISIONAL_HELP = ("Publish even when months of the period are held back by the data-quality gate or changed "
                    "since gated; every page, sheet and ranking then carries a 'provisional' banner.")


def _publish_check(con, scope: str, period: str, provisional: bool):
    """The gate's verdict on the period's months; refuses (exit 1, one message naming the months and
    failed checks) unless ``provisional``."""
    from data_quality.publishability import Verdict, check_period
    from ingestion.sqlfiles import table_exists

    if not table_exists(con, "staging", "complaints") or not con.execute(
            "SELECT EXISTS (SELECT 1 FROM staging.complaints)").fetchall()[0][0]:
        return Verdict(scope, period, ())  # nothing loaded at all: the command says what to run
    try:
        verdict = check_period(con, scope, period)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--period") from None
    if not verdict.publishable:
        if not provisional:
            raise click.ClickException(verdict.message())
        _err(verdict.banner("en"))
    return verdict


@main.command("compute-index")
@click.option("--indicators", "indicators_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Unit × indicator table (CSV in UTF-8/GB18030, or XLSX); a long table shaped like "
                   "mart.indicator_values (unit, indicator_id, value) works too.")
@click.option("--spec", "spec_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Index spec (YAML) [default: the shipped default_v2, fixed goalposts].")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the outputs (CSV per table, index_results.xlsx, summary.json).")
@click.option("--unit-col", default=None, help="Column naming the unit [default: the spec's unit_id].")
@click.option("--sheet", default=None, help="XLSX sheet name or number.")
@click.option("--counts", "counts_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Optional table of record counts behind each value (same shape), for small-count treatment.")
@click.option("--runs", type=click.IntRange(min=0), default=None,
              help="Monte-Carlo runs for rank intervals [default: the spec's methods.uncertainty.runs].")
@click.option("--seed", type=int, default=None, help="Monte-Carlo seed [default: the spec's].")
def compute_index(indicators_path, spec_path, out_dir, unit_col, sheet, counts_path, runs, seed):
    """Run the index model on any unit × indicator table an analyst brings: normalised values,
    scores, ranks and grades for every node, weights, methodology, coherence, rank intervals."""
    from index_model import default_spec_path
    from index_model.io import compute_index_files

    sheet_arg = int(sheet) if sheet is not None and sheet.isdigit() else sheet
    summary = compute_index_files(indicators_path, spec_path or default_spec_path(), out_dir, unit_col=unit_col,
                                  sheet=sheet_arg, counts_path=counts_path, uncertainty_runs=runs, seed=seed)
    click.echo(json.dumps(summary, ensure_ascii=False, indent=1, default=str))


@main.command()
@click.option("--scope", required=True, help="32 (a province's prefectures), 3204 (a prefecture's counties) or CN.")
@click.option("--period", required=True, help="2025, 2025H1 or 2025Q3.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder (index.html links every report; plotly.min.js shipped once).")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--provisional", is_flag=True, help=PROVISIONAL_HELP)
@click.option("--export/--no-export", "export", default=True, show_default=True,
              help="Also write PDF (A4, needs Chromium) and Word copies of the ranked report and the analysis.")
@click.pass_context
def report(ctx, scope, period, out_dir, lang, provisional, export):
    """Write the report folder for a scope and period: ranked index report (HTML + XLSX + PDF + Word),
    drill-down, dashboard, 12315 analysis, KPI scorecard, sampling report — offline, no CDN.

    Refused (exit 1) when a month of the period is held back by the data-quality gate or changed
    since it was gated; --provisional writes it anyway with a banner on every page and sheet.
    Without Chromium the PDF copies are skipped with one line on stderr and the exit status stays 0:
    the HTML, XLSX and Word files are complete (the Word copy notes where each chart would be).
    A complete folder is also copied to ``<out's parent>/history/<out's name>/<date>T<time>/``
    (reports.editions.keep_edition, as the report asset does); its path is the second line printed."""
    from indicators import canonical_scope
    from reports import build_reports, render
    from reports.editions import edition_stamp, keep_edition
    from reports.index_report import index_available

    try:
        keep = keep_editions()
    except ValueError as exc:  # checked before anything is built
        raise click.ClickException(str(exc)) from None
    wh = _warehouse(ctx)
    with connect(wh, read_only=True) as con:
        verdict = _publish_check(con, canonical_scope(scope), period, provisional)
        with render.provisional(verdict.banner(lang)):
            page = build_reports(con, canonical_scope(scope), period, out_dir, lang)
        has_index = index_available(con, canonical_scope(scope), period)
    if export:  # PDF and Word copies (reports/export_files.py); problems are one line each, never a traceback
        from reports.export_files import export_report_folder

        with render.provisional(verdict.banner(lang)):
            exported = export_report_folder(out_dir, canonical_scope(scope), period, lang)
        for problem in exported.problems:
            _err(f"cei report: {problem}")
    click.echo(str(Path(page).resolve()))
    if not has_index:  # the folder lacks its main report: say so and fail, never a quiet partial folder
        prov = " --provisional" if provisional else ""
        raise click.ClickException(
            f"no index scores stored for scope {scope}, period {period}: the ranked index report, dashboard and "
            f"drill-down are missing from {out_dir}; run `cei index --scope {scope} --period {period}{prov}` first")
    # the edition kept under history/ (never overwritten; the newest $CEI_KEEP_EDITIONS when set), like every
    # materialisation of the report asset
    click.echo(str(keep_edition(out_dir, edition_stamp(), keep=keep).resolve()))


@main.command("dq-report")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Report folder (dq_report.html + dq_report.xlsx; joins the folder's index page).")
@click.option("--scope", default=None, help="Limit to a scope: 32, 3204 or CN [default: every row].")
@click.option("--period", default=None, help="Limit to a period: 2025, 2025H1, 2025Q3, 2025-03 [default: all].")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.pass_context
def dq_report(ctx, out_dir, scope, period, lang):
    """Write the data-quality report: rule results by GB/T 36344 dimension and rule, quarantine reasons,
    the entry-unit scorecard (谁录入谁负责) with rank and month-over-month change, and per unit the
    rules failing most with example record ids. Offline, escaped, no personal data."""
    from reports.dq_report import build_dq_report

    wh = _warehouse(ctx)
    with connect(wh, read_only=True) as con:
        if not table_exists(con, "dq", "runs"):
            raise click.ClickException(f"{wh}: the data-quality gate has not run yet (cei run)")
        page = build_dq_report(con, out_dir, scope, period, lang)
    click.echo(str(Path(page).resolve()))


def _pad(text: str, width: int) -> str:
    """Left-align text in a terminal column, counting CJK characters as two columns."""
    import unicodedata

    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - shown, 1)


def _print_ranking(table, scope: str, period: str) -> None:
    from reference import resolve_scope

    click.echo(f"消费环境指数 {resolve_scope(scope)['name']} {period} (scope {scope})")
    dims = [c for c in ("safety", "integrity", "convenience", "rights_protection") if c in table]
    head = f"{'rank':>4} {_pad('region', 10)}{'code':>8}{'score':>8}{'5-95%':>8}{'grade':>6}" + "".join(f"{d[:8]:>10}" for d in dims) + f"{'change':>8}"
    click.echo(head)
    for r in table.itertuples():
        change = "" if r.rank_change is None or str(r.rank_change) == "<NA>" else f"{int(r.rank_change):+d}"
        click.echo(f"{r.rank:>4} {_pad(r.region, 10)}{r.region_code:>8}{r.score:>8.1f}{r.rank_interval:>8}{str(r.grade):>6}"
                   + "".join(f"{getattr(r, d):>10.1f}" for d in dims) + f"{change:>8}")
    click.echo("dimensions: safety 安全度, integrity 诚信度, convenience 便利度, rights_protection 维权度; "
               "change = places moved up since the previous period")


@main.command()
@click.option("--scope", required=True, help="32 (a province's prefectures), 3204 (a prefecture's counties) or CN.")
@click.option("--period", required=True, help="2025, 2025H1 or 2025Q3.")
@click.option("--recompute", is_flag=True, help="Recompute indicators and scores from clean data first.")
@click.option("--spec", "spec_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Index spec (YAML) [default: the shipped default_v2, fixed goalposts].")
@click.option("--provisional", is_flag=True, help=PROVISIONAL_HELP)
@click.pass_context
def index(ctx, scope, period, recompute, spec_path, provisional):
    """Print the ranking table of the consumer-environment index for a scope and period
    (computing indicators and scores from clean data when they are not stored yet).

    Refused (exit 1) when a month of the period is held back by the data-quality gate or changed
    since it was gated; --provisional prints it anyway under a "provisional" line."""
    from indicators import canonical_scope, run_indicators
    from indicators.scores import index_for, ranking_table, write_index_scores

    wh = _warehouse(ctx)
    scope = canonical_scope(scope)
    with connect(wh) as con:
        verdict = _publish_check(con, scope, period, provisional)
        have = table_exists(con, "mart", "index_scores") and con.execute("SELECT count(*) FROM mart.index_scores WHERE scope = $s AND period = $p",
                                      {"s": scope, "p": period}).fetchall()[0][0]
        if recompute or not have:
            if not table_exists(con, "clean"):
                raise click.ClickException(f"{wh} has no clean data yet: run `cei run` first")
            _err(f"computing indicators and index for scope {scope}, period {period} ...")
            run_indicators(con, scope, period, str(spec_path) if spec_path else None)
            result = index_for(con, scope, period, str(spec_path) if spec_path else None)
            if result is None:
                raise click.ClickException(f"no indicator values for scope {scope}, period {period}")
            write_index_scores(con, result)
        table = ranking_table(con, scope, period)
    if not verdict.publishable:
        click.echo(verdict.banner("zh"))
        click.echo(verdict.banner("en"))
    _print_ranking(table, scope, period)


@main.command()
@click.option("--loads", type=int, default=10, show_default=True, help="How many recent loads to list.")
@click.pass_context
def status(ctx, loads):
    """Rows per table and the most recent file loads."""
    from ingestion.loader import open_warehouse

    wh = warehouse_path(ctx.obj["warehouse_option"], create_folder=False)
    if not wh.exists():  # reading must not create an empty warehouse where the user mistyped a path
        raise click.ClickException(f"no warehouse at {wh}: give --warehouse (or CEI_WAREHOUSE), "
                                   "or load data first (`cei run`, `make demo`)")
    with connect(wh) as con:
        open_warehouse(con)
        _print_counts(con)
        rows = con.execute(
            "SELECT load_id, file_name, table_name, status, rows_read, rows_staged, rows_rejected, loaded_at, "
            "superseded_by, message FROM raw.load_log ORDER BY load_id DESC LIMIT $n", {"n": loads}).fetchall()
    click.echo("\nrecent loads:")
    for r in rows:
        by = f" by #{r[8]}" if r[8] is not None else ""
        line = f"  #{r[0]} {r[1]} -> {r[2]} {r[3]}{by}: read {r[4]}, staged {r[5]}, rejected {r[6]} at {r[7]}"
        if r[3] == "failed" and r[9]:
            line += f"\n      {_first_lines(r[9], 1, 200)[0]}"
        click.echo(line)


@main.command()
@click.option("--landing", "landing", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Landing folder to name in the advice [env CEI_LANDING; default data/landing].")
@click.option("--no-checkpoint", is_flag=True, help="Only read the file: skip the final CHECKPOINT (writing the log into the file).")
@click.pass_context
def check(ctx, landing, no_checkpoint):
    """Check the warehouse file: it opens, every table reads in full (block checksums), raw = staging
    + type rejects per load, staging = clean + quarantined per gated month. Exit status 1, with what
    to do, when it is damaged or its counts do not add up."""
    from pipelines.check import check_warehouse

    wh = _warehouse(ctx)
    res = check_warehouse(wh, checkpoint=not no_checkpoint)
    for line in res.pending:
        _err(f"pending  {line}")
    for line in res.problems:
        _err(f"PROBLEM  {line}")
    if not res.ok:
        for line in res.advice(str(landing_dir(landing))):
            _err(line)
        sys.exit(1)
    click.echo(f"{wh}: sound; {res.tables_read} tables, {res.rows_read} rows read in full; counts add up"
               + (f" ({len(res.pending)} pending item(s) above)" if res.pending else ""))


if __name__ == "__main__":
    main()
