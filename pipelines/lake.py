"""The partitioned path (分区处理): a region × delivery period is processed alone, into a Parquet lake.

Why it looks like this: the single warehouse has one writer (DuckDB), so one machine's cores and
disk bound it. Here each *step* — the deliveries of one region (a sub-folder of the landing folder,
e.g. ``landing/32/``) for one declared period (``complaints_2025-03.csv`` and
``sampling_results_2025-03.csv`` -> ``2025-03``; ``hotline_stats_2025.csv`` -> ``2025``) — runs the
existing, verified code (``ingestion.loader.ingest_paths`` -> ``restage`` -> ``data_quality.gate.run_gate``)
into its OWN small DuckDB file, so steps never share a writer and can run on any machine. The step
then exports its rows to the lake, one Parquet file per kind, table and partition::

    lake/<kind>/<table>/region=<R>/period=<partition>/<step>.parquet
    kind: staging | clean | quarantine | rule_results | rejects

written under a temporary name and renamed, so a re-run of a step replaces its files atomically
(a reader sees the old file or the new one) and removes its files of partitions it no longer holds.
A file name is the step, so two steps never write the same file, even when a March delivery carries
a late February record (it lands in ``period=2025-02/`` beside February's own file).

The combine step (:func:`combine`) builds the lake's warehouse: ``staging.*``, ``clean.*``,
``dq.quarantine`` and ``dq.rule_results`` are VIEWS over the lake (``read_parquet(..., hive_partitioning
= true)``), and the existing indicators and index (``indicators.run_indicators``,
``indicators.scores``) run on them unchanged, writing ``mart.*`` (small tables).

Cross-partition rules. A rule whose verdict on a row depends on other rows (duplicate keys across
months and regions, the same complaint again through another channel within 30 days, a hotline
unit's median month, a region's previous year) cannot be judged inside one step. Such rules
(:func:`split_rulebook`: every whole-table rule except the deadline families, which are judged row
by row) are left out of the steps and evaluated ONCE in the combine step, by the same engine
(``data_quality.engine.evaluate``), over every staging row of the lake — the same relation the single
warehouse's gate judges when it gates the months together. Their findings (``dq.lake_cross_findings``)
take error rows out of ``clean.*`` and add warn ids to ``dq_flags``. So the clean rows equal the single
warehouse's (``tests/test_lake.py``), except where that warehouse's *load* differs:

* "counted once" at load (the same record with the same content from another file) and
  re-deliveries (``_v2`` supersedes the original) are judged within a step (a region's deliveries for
  one period). A byte-identical record delivered again in another step's file is not rejected at
  load; it reaches staging and CMP-DUP-001 quarantines the later copy, so clean rows stay the same.
* load ids: each step numbers its loads from its own range (:attr:`Step.load_id_start`: region and
  period), so rows stay unique across steps; ``load_id`` and ``loaded_at`` differ from a single
  warehouse's (they number loads), every other column is the same. Where a rule breaks an exact tie by
  load order (CMP-DUP-001: same id, same received time), the order is region folder, then period,
  then version — the single warehouse's folder order, by construction of the ranges.

No Dagster here: ``assets/lake.py`` runs :func:`plan_steps`, :func:`run_step` (one op per step, in
parallel) and :func:`combine` as the job ``lake_job``.
"""
from __future__ import annotations

import dataclasses
import os
import re
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ingestion.sqlfiles import known_table, sql_text

KINDS = ("staging", "clean", "quarantine", "rule_results", "rejects")
# Whole-table (query) rules that are judged row by row all the same: the statutory-deadline and
# disposal rules join each row with constant tables (limits, calendar), nothing from other rows. Any
# other whole-table rule — including one added later — is cross-partition: the safe default.
ROW_LOCAL_QUERY_FAMILIES = frozenset({"statutory_deadline", "report_check_extension", "deadline_calendar",
                                      "sampling_disposal", "disposal_pending"})
ROOT_REGION = "all"  # deliveries directly in the landing folder, not in a region sub-folder
UNDATED = "undated"  # files whose name declares no period
_NAME = re.compile(r"^[0-9A-Za-z]+$")
MAX_LOADS_PER_STEP = 999


@dataclass(frozen=True)
class Step:
    """One partition step: the deliveries of ``region`` declaring ``period``."""
    region: str
    period: str
    files: tuple[str, ...]

    @property
    def key(self) -> str:
        """A name usable as a file name and a Dagster mapping key: ``32_2025_03``."""
        return re.sub(r"[^0-9A-Za-z]", "_", f"{self.region}_{self.period}")

    @property
    def load_id_start(self) -> int:
        """First load id of the step: region (6 digits), period (yyyymm) and 3 digits of loads, so ids
        never meet across steps and sort like the single warehouse's folder order (region, then period)."""
        region = (int(self.region.ljust(6, "0")[:6]) if self.region.isdigit()
                  else zlib.crc32(self.region.encode()) % 1_000_000)  # a named region: stable, not ordered
        m = re.match(r"^(\d{4})(?:-(\d{2}))?", self.period)
        period = int(m.group(1)) * 100 + int(m.group(2) or 0) if m else 0
        return (region * 1_000_000 + period) * 1000 + 1


def plan_steps(landing: Path) -> list[Step]:
    """The steps of a landing folder: each sub-folder is a region (its name, e.g. ``32`` or ``3204``),
    files directly in the folder the region ``all``; within a region, files group by the period their
    name declares (``ingestion.loader.declared_period``). Non-deliveries are left out as the loader
    leaves them out; a file we cannot load stays in its step, which records it as refused."""
    from ingestion.loader import declared_period, expand_paths

    landing = Path(landing)
    if not landing.is_dir():
        raise FileNotFoundError(f"landing folder {landing} not found")
    groups: dict[tuple[str, str], list[str]] = {}
    scan = expand_paths([landing])  # the loader's own rules for what is a delivery
    for f in scan.files + [n.path for n in scan.not_loaded if n.refused]:
        parts = f.relative_to(landing).parts
        region = parts[0] if len(parts) > 1 else ROOT_REGION
        if not _NAME.match(region):
            raise ValueError(f"{landing / region}: a region folder is named by letters and digits (a code such as 32)")
        period = declared_period(f).split(",")[0] or UNDATED
        groups.setdefault((region, period), []).append(str(f))
    # in the loader's order (an original before its re-deliveries), as the single warehouse loads them
    # and the steps in its folder order: region, then period (none first), which their load ids follow
    order = sorted(groups, key=lambda g: (g[0], "" if g[1] == UNDATED else g[1]))
    steps = [Step(r, p, tuple(groups[(r, p)])) for r, p in order]
    for s in steps:
        if len(s.files) > MAX_LOADS_PER_STEP:
            raise ValueError(f"step {s.key}: {len(s.files)} files, more than {MAX_LOADS_PER_STEP} "
                             "in one region and period")
    if len({s.key for s in steps}) != len(steps):
        raise ValueError("two steps share a name: " + ", ".join(s.key for s in steps))
    return steps


def split_rulebook(rulebook=None):
    """(rules judged within a step, rules judged over the whole lake) as two rulebooks."""
    from data_quality.rulebook import load_rulebook_full

    rb = rulebook or load_rulebook_full()
    local = tuple(r for r in rb.rules if not is_cross_partition(r))
    cross = tuple(r for r in rb.rules if is_cross_partition(r))
    return dataclasses.replace(rb, rules=local), dataclasses.replace(rb, rules=cross)


def is_cross_partition(rule) -> bool:
    return rule.where is None and rule.family not in ROW_LOCAL_QUERY_FAMILIES


@contextmanager
def _pii_key_in_env(key: str):
    """The step hashes identities with the lake warehouse's key, not a key of its private file."""
    from ingestion.pii import ENV_KEY

    before = os.environ.get(ENV_KEY)
    os.environ[ENV_KEY] = key
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(ENV_KEY, None)
        else:
            os.environ[ENV_KEY] = before


def _literal(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def run_step(step: Step, lake: Path, work: Path, pii_key: str) -> dict:
    """Ingest, stage and gate (row-local rules) one step in its own DuckDB file, export it to the lake.

    Idempotent: the private file is rebuilt from the step's deliveries, and the step's lake files are
    replaced. Returns counts for the run's metadata."""
    from data_quality import gate
    from ingestion import loader
    from pipelines.settings import connect, private_folder

    started = time.perf_counter()
    lake, work = Path(lake), Path(work)
    work.mkdir(parents=True, exist_ok=True)
    private_folder(work)  # the private files hold raw rows with personal data
    db = work / f"{step.key}.duckdb"
    _remove_db(db)
    local, _ = split_rulebook()
    out = {"step": step.key, "region": step.region, "period": step.period, "files": len(step.files)}
    with _pii_key_in_env(pii_key):
        con = connect(db, wait=0)
        try:
            con.execute("CREATE SCHEMA IF NOT EXISTS raw")
            con.execute(f"CREATE SEQUENCE raw.load_id_seq START {int(step.load_id_start)}")
            results = loader.ingest_paths(con, [Path(f) for f in step.files], warehouse=db, stage=False)
            touched: dict[str, set[str]] = {}
            for r in results:
                if r.status == "loaded":
                    touched.setdefault(r.table, set()).update(r.touched_partitions or r.partitions)
            for t, parts in sorted(touched.items()):
                loader.restage(con, t, sorted(parts), warehouse=db)
                gate.run_gate(con, t, sorted(parts), rulebook=local)
            out.update(files_loaded=sum(r.status == "loaded" for r in results),
                       files_failed=[f"{Path(r.file).name}: {r.message}" for r in results if r.status == "failed"],
                       tables=sorted(touched))
            out["written"] = _export(con, step, lake, sorted(touched))
        finally:
            con.close()
            _remove_db(db)
    out["seconds"] = round(time.perf_counter() - started, 2)
    return out


def _remove_db(db: Path) -> None:
    # never the folder's .cei_secret: beside the lake warehouse it is the key every run hashes with
    for p in (db, Path(f"{db}.wal")):
        p.unlink(missing_ok=True)


def _export(con, step: Step, lake: Path, tables: list[str]) -> int:
    """Write the step's rows, then swap them in; remove the step's files of partitions it no longer has."""
    from ingestion.schema import TABLES

    staged: list[tuple[Path, Path]] = []
    keep: set[Path] = set()
    try:
        for kind in KINDS:
            for t in TABLES:
                source = sql_text(f"lake/export_{kind}.sql").format(table=known_table(t)).strip()
                parts = [r[0] for r in con.execute(f"SELECT DISTINCT partition_key FROM ({source})").fetchall()] \
                    if t in tables else []
                for p in parts:
                    final = partition_dir(lake, kind, t, step.region, p) / f"{step.key}.parquet"
                    final.parent.mkdir(parents=True, exist_ok=True)
                    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
                    query = sql_text("lake/export_rows.sql").format(source=source).strip()
                    con.execute(f"COPY ({query}) TO {_literal(tmp)} (FORMAT parquet)", {"partition": p})
                    staged.append((tmp, final))
                    keep.add(final)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, final in staged:
        os.replace(tmp, final)  # atomic on one file system: the old file or the new, never half
    for old in lake.glob(f"*/*/region={step.region}/*/{step.key}.parquet"):
        if old not in keep:
            old.unlink()
    return len(staged)


def partition_dir(lake: Path, kind: str, table: str, region: str, partition: str | None) -> Path:
    if partition is not None and not re.fullmatch(r"\d{4}(-\d{2})?", partition):
        raise ValueError(f"unexpected partition key {partition!r}")
    return Path(lake) / kind / known_table(table) / f"region={region}" / f"period={partition or 'none'}"


def lake_files(lake: Path, kind: str, table: str) -> str | None:
    """The glob of a kind of a table's files (absolute: a view must not depend on the working
    directory), or None when the lake holds none."""
    base = (Path(lake) / kind / known_table(table)).resolve()
    if not any(base.glob("region=*/period=*/*.parquet")):
        return None
    return _literal(base / "*" / "*" / "*.parquet")


def combine(warehouse: Path, lake: Path, scope: str = "", periods: list[str] | None = None,
            spec=None) -> dict:
    """Build the lake's warehouse: views over the lake, the cross-partition pass, indicators and index.

    Built in a new file and swapped in at the end, so a reader never sees half a warehouse and a
    re-run replaces it whole (everything in it is derived from the lake)."""
    import uuid

    from data_quality import engine, gate
    from data_quality.gate import UNIT_COLUMN
    from ingestion.schema import TABLES
    from pipelines.settings import connect

    started = time.perf_counter()
    warehouse = Path(warehouse)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    tmp = warehouse.with_name(f".{warehouse.name}.building-{os.getpid()}")
    _remove_db(tmp)
    _, cross = split_rulebook()
    run_id = "lake-" + uuid.uuid4().hex[:8]
    now = datetime.now().replace(microsecond=0)
    out: dict = {"tables": {}, "cross_findings": {}}
    con = connect(tmp, wait=0)
    try:
        gate.ensure_tables(con)  # every schema and table, empty; the lake's tables become views below
        engine.prepare(con)
        con.execute(sql_text("lake/cross_findings_ddl.sql"))
        quarantine_parts, result_parts, rejects = [], [], []
        for t in TABLES:
            files = {k: lake_files(lake, k, t) for k in KINDS}
            if files["rejects"] is not None:
                rejects.append(files["rejects"])
            if files["staging"] is None:
                continue  # no step delivered this table: its empty tables stay
            con.execute(f"DROP TABLE staging.{t}")
            con.execute(sql_text("lake/staging_view.sql").format(table=t, files=files["staging"]))
            # the second pass: cross-partition rules on every staging row of the lake, by the same engine
            found = engine.evaluate(con, t, f"staging.{t}", rulebook=cross, run_id=run_id, prepared=True)
            con.register("_lake_found", found)
            con.execute(sql_text("lake/insert_cross_findings.sql"), {"now": now})
            con.unregister("_lake_found")
            out["cross_findings"][t] = found.groupby("rule_id").size().to_dict() if len(found) else {}
            con.execute(f"DROP TABLE clean.{t}")
            if files["clean"] is not None:
                con.execute(sql_text("lake/clean_view.sql").format(table=t, files=files["clean"]))
            else:  # every row quarantined in its step: an empty clean table of the right shape
                con.execute(f"CREATE TABLE clean.{t} AS SELECT *, CAST(NULL AS VARCHAR[]) AS dq_flags "
                            f"FROM staging.{t} LIMIT 0")
            unit = UNIT_COLUMN[t]
            if files["quarantine"] is not None:
                quarantine_parts.append(sql_text("lake/quarantine_local.sql").format(
                    table=t, quarantine_files=files["quarantine"]))
            if files["clean"] is not None:
                quarantine_parts.append(sql_text("lake/quarantine_cross.sql").format(
                    table=t, unit=unit, clean_files=files["clean"]))
            if files["rule_results"] is not None:
                result_parts.append(sql_text("lake/rule_results_local.sql").format(
                    table=t, rule_results_files=files["rule_results"]))
            result_parts.append(sql_text("lake/rule_results_cross.sql").format(table=t, unit=unit))
        for name, parts in (("quarantine", quarantine_parts), ("rule_results", result_parts)):
            if parts:  # the same columns as the gate's tables: the views read like them
                con.execute(f"DROP TABLE dq.{name}")
                con.execute(f"CREATE VIEW dq.{name} AS " + "\nUNION ALL BY NAME\n".join(f"({p})" for p in parts))
        if rejects:
            con.execute("DROP TABLE raw.rejects")
            con.execute(sql_text("lake/rejects_view.sql").format(files="[" + ", ".join(rejects) + "]"))
        for t in TABLES:
            staged, clean, quarantined = con.execute(sql_text("lake/reconcile.sql").format(table=t)).fetchall()[0]
            if staged != clean + quarantined:  # a row lost or counted twice between the two passes
                raise RuntimeError(f"lake {t}: staged {staged} != clean {clean} + quarantined {quarantined}")
            out["tables"][t] = {"staged": staged, "clean": clean, "quarantined": quarantined}
        out["index"] = _index(con, scope, periods, spec, _month_states(con, now))
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        _remove_db(tmp)  # the warehouse in place stays as it was
        raise
    con.close()
    os.replace(tmp, warehouse)
    Path(f"{warehouse}.wal").unlink(missing_ok=True)
    out["seconds"] = round(time.perf_counter() - started, 2)
    return out


def _month_states(con, now: datetime) -> tuple[dict, dict]:
    """What the gate's month checks say about every partition of the lake (publishability's ``now``
    and ``gates``): each month's error share (both passes' quarantines) and reject share, judged
    against the gate's limits. The lake is gated as it stands, so nothing in it is stale."""
    from data_quality.publishability import PUBLISHED_TABLES, CheckRecord, GateRecord, MonthNow
    from data_quality.thresholds import LIMITS, share

    states, gates = {}, {}
    for t in PUBLISHED_TABLES:
        for p, staged, quarantined, rejected in con.execute(sql_text("lake/month_counts.sql").format(
                table=known_table(t))).fetchall():
            states[(t, p)] = MonthNow(staged, None)
            gates[(t, p)] = GateRecord(now, staged, None, (
                CheckRecord("error_share", share(quarantined, staged), LIMITS["error_share"]),
                CheckRecord("reject_share", share(rejected, staged + rejected), LIMITS["reject_share"])))
    return states, gates


def _index(con, scope: str, periods: list[str] | None, spec, months: tuple[dict, dict]) -> dict:
    """The existing indicators and index on the views, per period, for the scope given or the data's.
    A period with a month held back by the gate's checks, or a month without complaint records, is not
    published (``data_quality.publishability.judge``, as the single warehouse's index refuses it)."""
    from data_quality.publishability import judge, period_partitions

    from indicators import run_indicators
    from indicators.scores import index_for, write_index_scores
    from pipelines.index_guards import index_problems
    from indicators.scopes import scope_units

    if not con.execute("SELECT count(*) FROM clean.complaints").fetchall()[0][0]:
        return {"scope": scope, "periods": {}}
    # the scope and periods as assets.index.resolve_targets chooses them (that module imports Dagster)
    from indicators.scopes import canonical_scope
    from pipelines.index_guards import scope_from_regions

    scope = canonical_scope(scope or scope_from_regions(con.execute(sql_text("pipelines/data_scope.sql")).fetchall()))
    periods = list(periods or []) or [r[0] for r in con.execute(sql_text("pipelines/data_years.sql")).fetchall()]
    expected = scope_units(scope).unit_code.tolist()
    done: dict = {}
    for period in periods:
        verdict = judge(scope, period, period_partitions(period), *months)
        if not verdict.publishable:
            done[period] = {"written": 0, "problems": {"publishable": [verdict.message()]}}
            continue
        run_indicators(con, scope, period, spec)
        run = index_for(con, scope, period, spec)
        problems = {} if run is None else {k: v for k, v in index_problems(run, expected).items() if v}
        # as the index asset: a period failing a check (a NaN score, a missing region, ...) is not written
        written = write_index_scores(con, run) if run is not None and not problems else 0
        done[period] = {"written": written, "problems": {k: v[:5] for k, v in problems.items()}}
    return {"scope": scope, "periods": done}
