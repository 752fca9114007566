"""Clean is never stale, held-back is never published (issue 8 point 8).

One warehouse walks a sequence of ``cei ingest``, ``cei run`` (Dagster in process), re-deliveries, a
month with 30% errors, a run that fails in the gate, and Dagster asset runs. After every step two
invariants are checked against the warehouse, with a model the test keeps itself (row contents, not
the fingerprints the code uses):

1. every clean row has its staging row (same ``load_id``, ``source_row``);
2. a staging month whose rows differ from the rows it had when it was last gated (or that was
   never gated, or whose raw deliveries are not all staged), or whose month before differs from what
   that gate read as look-back context, is reported stale — and no other month is.

And at each step ``cei index`` / ``cei report`` refuse exactly when a month of the period is stale or
held back, naming it and its failed check; ``--provisional`` writes the banner on every page and sheet.
"""
from __future__ import annotations

import csv
import gc
import shutil
import warnings
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from markupsafe import escape

from pipelines.cli import main

TABLES = ("complaints", "sampling_results", "hotline_stats", "region_profiles")
BANNER_ZH = "临时数据：2025-06 因 error_share 0.30 > 0.10 未通过检查（complaints）"


class Model:
    """The staging contents of each (table, month) as the gate last judged them."""

    def __init__(self, warehouse: Path):
        self.wh = warehouse
        self.judged: dict[tuple[str, str], frozenset] = {}
        self.judged_before: dict[tuple[str, str], frozenset] = {}  # the month before, as read by that gate
        self.runs: dict[tuple[str, str], str] = {}

    def _contents(self, con) -> dict[tuple[str, str], frozenset]:
        out: dict[tuple[str, str], set] = {}
        for t in TABLES:
            for p, row in con.execute(f"SELECT partition_key, CAST(to_json(s) AS VARCHAR) FROM staging.{t} s").fetchall():
                out.setdefault((t, p), set()).add(row)
        return {k: frozenset(v) for k, v in out.items()}

    def after_step(self) -> None:
        """Note the months gated in this step, then assert both invariants."""
        from data_quality.publishability import look_back_month, unsettled_partitions

        gc.collect()  # see _cli
        with duckdb.connect(str(self.wh), read_only=True) as con:
            contents = self._contents(con)
            gated = {}
            if con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'dq' "
                           "AND table_name = 'month_status'").fetchall()[0][0]:
                gated = {(t, p): run for t, p, run in con.execute(
                    "SELECT table_name, partition_key, run_id FROM dq.month_status").fetchall()}
            for key, run in gated.items():
                if self.runs.get(key) != run:  # gated in this step: what staging holds now is what it judged
                    self.judged[key] = contents.get(key, frozenset())
                    if before := look_back_month(key[1]):
                        self.judged_before[key] = contents.get((key[0], before), frozenset())
                    self.runs[key] = run
            # invariant 1: every clean row has its staging row
            for t in TABLES:
                if con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'clean' AND table_name = $t",
                               {"t": t}).fetchall()[0][0]:
                    orphans = con.execute(f"""SELECT count(*) FROM clean.{t} c ANTI JOIN staging.{t} s
                                              ON s.load_id = c.load_id AND s.source_row = c.source_row""").fetchall()[0][0]
                    assert orphans == 0, (t, orphans)
            # invariant 2: stale exactly when staging differs from what was judged (or raw is not all staged)
            unstaged = set()
            for t in TABLES:
                unstaged |= {(t, p) for (p,) in con.execute(
                    f"""SELECT DISTINCT partition_key FROM (
                          SELECT partition_key, load_id, source_row FROM raw.{t}
                          EXCEPT SELECT partition_key, load_id, source_row FROM staging.{t}
                          EXCEPT SELECT partition_key, load_id, source_row FROM raw.rejects
                                 WHERE table_name = $t AND stage = 'type')""", {"t": t}).fetchall()}
            months = set(contents) | set(self.judged)
            expected = {k for k in months if k not in self.judged or self.judged[k] != contents.get(k, frozenset())}
            expected |= {k for k, was in self.judged_before.items()
                         if was != contents.get((k[0], look_back_month(k[1])), frozenset())}
            expected |= unstaged
            reported = {(t, p) for t in TABLES for p in unsettled_partitions(con, t)}
            assert reported == expected, (sorted(reported - expected), sorted(expected - reported))


def _cli(wh: Path, *args: str):
    gc.collect()  # a failed Dagster step's traceback holds its DuckDB connection until collected
    return CliRunner().invoke(main, ["--warehouse", str(wh), *args])


def _rewrite(src: Path, dst: Path, change) -> int:
    """Copy a delivered CSV with ``change(rows)`` applied; returns the rows written."""
    with open(src, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    rows = change(rows)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(dst, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return len(rows)


def _negative_amounts(share: float):
    def change(rows):
        n = round(len(rows) * share)
        for r in rows[:n]:
            r["amount_disputed"] = "-1.00"  # CMP-AMT-001 (error): quarantined
        return rows
    return change


def _banner_everywhere(out: Path, banner: str) -> tuple[int, int]:
    from openpyxl import load_workbook

    pages = sorted(out.rglob("*.html"))
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert 'id="provisional-banner"' in text and str(escape(banner)) in text, page  # ">" as &gt;
    sheets = 0
    for book in sorted(out.rglob("*.xlsx")):
        for ws in load_workbook(book, read_only=True).worksheets:
            assert next(ws.iter_rows(min_row=1, max_row=1, max_col=1, values_only=True))[0] == banner, (book, ws.title)
            sheets += 1
    return len(pages), sheets


@pytest.fixture
def delivered(tmp_path):
    from synthetic import GeneratorConfig, generate

    gen = tmp_path / "generated"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        generate(GeneratorConfig(scope="32", years=(2025,), records_per_year=2400, seed=11, out_dir=gen))
    return gen


@pytest.mark.slow  # 25–80 s: keeps `make test` under 15 minutes; runs in CI with `make test-slow`
def test_ingest_run_redeliver_hold_back_fail_and_publish(tmp_path, warehouse, delivered, monkeypatch):
    import dagster as dg

    model = Model(warehouse)
    empty = tmp_path / "nothing_new"
    empty.mkdir()

    # 1. cei ingest: staged, never gated -> nothing may be published
    res = _cli(warehouse, "ingest", str(delivered))
    assert res.exit_code == 0, res.output
    model.after_step()
    res = _cli(warehouse, "index", "--scope", "32", "--period", "2025Q1")
    assert res.exit_code == 1
    assert "2025-01 never gated (complaints)" in res.output and "2025-03 never gated (complaints)" in res.output
    assert "Traceback" not in res.output

    # 2. cei run finds nothing new to load but gates the months `cei ingest` staged
    res = _cli(warehouse, "run", "--landing", str(empty))
    assert res.exit_code == 0, res.output
    assert "held back" not in res.output
    model.after_step()
    res = _cli(warehouse, "index", "--scope", "32", "--period", "2025")
    assert res.exit_code == 0, res.output
    assert "provisional" not in res.output and "江苏省" in res.output.splitlines()[0]

    # 3. March re-delivered with five records fewer: March is stale, and April, which the gate judged
    # with March as look-back context; nothing else
    redelivery = tmp_path / "redelivery"
    kept = _rewrite(delivered / "complaints_2025-03.csv", redelivery / "complaints_2025-03_v2.csv", lambda rows: rows[5:])
    res = _cli(warehouse, "ingest", str(redelivery / "complaints_2025-03_v2.csv"))
    assert res.exit_code == 0, res.output
    model.after_step()
    res = _cli(warehouse, "index", "--scope", "32", "--period", "2025")
    assert res.exit_code == 1
    assert "2025-03 stale: staging changed since its gate" in res.output and "(complaints)" in res.output
    assert "2025-04 stale: the month before (2025-03) changed since this month's gate" in res.output
    assert "2025-05" not in res.output and "2025-02" not in res.output
    res = _cli(warehouse, "index", "--scope", "32", "--period", "2025Q2")  # without March, but April looked back
    assert res.exit_code == 1 and "2025-04 stale: the month before (2025-03) changed" in res.output
    res = _cli(warehouse, "index", "--scope", "32", "--period", "2025Q3")  # a period without either is fine
    assert res.exit_code == 0, res.output

    # 4. gate them: cei run gates the stale months; the index is published again
    res = _cli(warehouse, "run", "--landing", str(empty))
    assert res.exit_code == 0, res.output
    model.after_step()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT rows_staged FROM dq.runs WHERE table_name = 'complaints' AND partition_key = '2025-03'"
                           ).fetchall() == [(kept,)]
    assert _cli(warehouse, "index", "--scope", "32", "--period", "2025").exit_code == 0

    # 4b. five more May records in a file of their own (it supersedes nothing: staging changes only when
    # the run restages May) through cei run: June, judged with May as look-back context, is gated with it
    extra = tmp_path / "extra"
    _rewrite(delivered / "complaints_2025-05.csv", extra / "complaints_extra.csv",
             lambda rows: [{**r, "record_id": r["record_id"][:-5] + f"9{i:04d}"} for i, r in enumerate(rows[:5])])
    res = _cli(warehouse, "run", "--landing", str(extra))
    assert res.exit_code == 0, res.output
    model.after_step()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        from data_quality.publishability import unsettled_partitions

        assert unsettled_partitions(con, "complaints") == []

    # 5. June re-delivered with 30% errors through the landing folder: held back, durably; July, which
    # looks back at June, is gated again in the same run, not left stale
    june = tmp_path / "june"
    _rewrite(delivered / "complaints_2025-06.csv", june / "complaints_2025-06_v2.csv", _negative_amounts(0.30))
    res = _cli(warehouse, "run", "--landing", str(june))
    assert "held back" in res.output
    model.after_step()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert unsettled_partitions(con, "complaints") == []
    res = _cli(warehouse, "report", "--scope", "32", "--period", "2025", "--out", str(tmp_path / "refused"))
    assert res.exit_code == 1
    assert "2025-06 held back by error_share 0.30 > 0.10 (complaints)" in res.output
    assert not (tmp_path / "refused").exists()
    res = _cli(warehouse, "index", "--scope", "32", "--period", "2025H1")  # another process, same verdict
    assert res.exit_code == 1 and "2025-06 held back by error_share 0.30 > 0.10" in res.output
    assert _cli(warehouse, "index", "--scope", "32", "--period", "2025Q1").exit_code == 0
    # the Dagster index asset refuses too (a failed run naming the month)
    from assets.index import indicator_values
    from pipelines.resources import warehouse_resource

    with dg.instance_for_test() as instance:  # the asset's partition: year 2025 of scope 32
        instance.add_dynamic_partitions("scope", ["32"])
        run = dg.materialize([indicator_values], resources={"duckdb": warehouse_resource(str(warehouse))},
                             raise_on_error=False, instance=instance,
                             partition_key=dg.MultiPartitionKey({"period": "2025", "scope": "32"}))
    assert not run.success
    failure = next(e for e in run.all_events if e.is_step_failure).event_specific_data
    assert "2025-06 held back by error_share 0.30 > 0.10" in failure.user_failure_data.description
    del run, failure
    model.after_step()

    # --provisional publishes with the banner on every page and every sheet
    res = _cli(warehouse, "report", "--scope", "32", "--period", "2025", "--out", str(tmp_path / "provisional"),
               "--provisional")
    assert res.exit_code == 0, res.output
    pages, sheets = _banner_everywhere(tmp_path / "provisional", BANNER_ZH)
    assert pages >= 8 and sheets >= 10, (pages, sheets)
    res = _cli(warehouse, "index", "--scope", "32", "--period", "2025", "--provisional")
    lines = res.output.splitlines()
    assert res.exit_code == 0 and BANNER_ZH in lines
    assert lines.index(BANNER_ZH) < next(i for i, line in enumerate(lines) if "江苏省" in line)  # above the ranking

    # 6. a fixed June arrives but the gate breaks mid-run: June is stale, not silently "passed"
    fixed = tmp_path / "june_fixed"
    _rewrite(delivered / "complaints_2025-06.csv", fixed / "complaints_2025-06_v3.csv", lambda rows: rows)

    def broken(*args, **kwargs):
        raise RuntimeError("disk went away")

    with monkeypatch.context() as m:
        m.setattr("data_quality.engine.evaluate", broken)
        res = _cli(warehouse, "run", "--landing", str(fixed))
    assert res.exit_code != 0
    model.after_step()
    res = _cli(warehouse, "report", "--scope", "32", "--period", "2025", "--out", str(tmp_path / "refused2"))
    assert res.exit_code == 1 and "2025-06 stale" in res.output

    # 7. the next run (nothing new to load) gates June; the report is published without a banner
    res = _cli(warehouse, "run", "--landing", str(empty))
    assert res.exit_code == 0, res.output
    model.after_step()
    out = tmp_path / "published"
    res = _cli(warehouse, "report", "--scope", "32", "--period", "2025", "--out", str(out), "--lang", "en")
    assert res.exit_code == 0, res.output
    for page in out.rglob("*.html"):
        assert 'id="provisional-banner"' not in page.read_text(encoding="utf-8"), page


def test_the_verdict_is_pure_and_names_every_failed_check():
    import datetime as dt

    from data_quality.publishability import CheckRecord, GateRecord, MonthNow, judge

    at = dt.datetime(2025, 7, 1, 8, 0)
    gates = {("complaints", "2025-05"): GateRecord(at, 10, 77, (CheckRecord("error_share", 0.05, 0.10),)),
             ("complaints", "2025-06"): GateRecord(at, 10, 88, (CheckRecord("error_share", 0.31, 0.10),
                                                                CheckRecord("reject_share", 0.06, 0.05))),
             ("hotline_stats", "2025-06"): GateRecord(at, 4, 5, (CheckRecord("reject_share", 0.05, 0.05),)),
             ("complaints", "2025-04"): GateRecord(at, 10, 66)}
    now = {("complaints", "2025-04"): MonthNow(10, 67), ("complaints", "2025-05"): MonthNow(10, 77),
           ("complaints", "2025-06"): MonthNow(10, 88), ("hotline_stats", "2025-06"): MonthNow(4, 5),
           ("sampling_results", "2025-05"): MonthNow(3, 1),
           ("sampling_results", "2025-04"): MonthNow(3, 2, built_from_raw=False)}
    parts = ["2025-04", "2025-05", "2025-06", "2025"]
    v = judge("32", "2025Q2", parts, now, gates)
    assert [(p.table, p.partition, p.state) for p in v.problems] == [
        ("complaints", "2025-04", "stale"), ("sampling_results", "2025-04", "never_gated"),
        ("sampling_results", "2025-05", "never_gated"), ("complaints", "2025-06", "held_back")]
    assert v.months == ["2025-04", "2025-05", "2025-06"] and not v.publishable
    assert v.banner("en").endswith("2025-06 held back by error_share 0.31 > 0.10, reject_share 0.06 > 0.05 (complaints)")
    assert "2025-06 因 error_share 0.31 > 0.10, reject_share 0.06 > 0.05 未通过检查（complaints）" in v.banner("zh")
    assert judge("32", "2025-05", ["2025-05"], {k: n for k, n in now.items() if k[0] == "complaints"}, gates).publishable


def test_a_period_with_a_month_without_complaints_is_not_published_as_whole():
    """A year computed from the eleven months that came must not pass for the year: the month with no
    12315 record is named as missing; a month without sampling or hotline rows is normal."""
    import datetime as dt

    from data_quality.publishability import GateRecord, MonthNow, judge

    at = dt.datetime(2025, 7, 1, 8, 0)
    months = ["2025-04", "2025-05", "2025-06"]
    gates = {("complaints", m): GateRecord(at, 10, i) for i, m in enumerate(months) if m != "2025-05"}
    now = {("complaints", m): MonthNow(10, i) for i, m in enumerate(months) if m != "2025-05"}
    v = judge("32", "2025Q2", [*months, "2025"], now, gates)
    assert [(p.table, p.partition, p.state) for p in v.problems] == [("complaints", "2025-05", "missing")]
    assert not v.publishable and "load the missing months' deliveries" in v.message()
    assert v.banner("zh") == "临时数据：2025-05 无数据（未报送或全部被拒收）（complaints）"
    # the same month delivered, gated and passed: whole again; no sampling or hotline rows asked for
    gates[("complaints", "2025-05")], now[("complaints", "2025-05")] = GateRecord(at, 3, 9), MonthNow(3, 9)
    assert judge("32", "2025Q2", [*months, "2025"], now, gates).publishable


def test_a_month_whose_look_back_month_changed_since_its_gate_is_stale():
    """The gate judges March with February as context and records February as read: March is stale when
    February's staging differs now (even in a period without February), not when it is the same; a
    record without the look-back month (older version) is stale only if February has rows; a year
    partition has no look-back."""
    import datetime as dt

    from data_quality.publishability import CheckRecord, GateRecord, MonthNow, judge, judge_month, look_back_month

    at = dt.datetime(2025, 4, 2, 9, 30)
    assert [look_back_month(p) for p in ("2025-03", "2025-01", "2025")] == ["2025-02", "2024-12", None]
    march = GateRecord(at, 10, 31, context_partition="2025-02", context_rows=8, context_fingerprint=28)
    now = {("complaints", "2025-03"): MonthNow(10, 31), ("complaints", "2025-02"): MonthNow(8, 28)}
    gates = {("complaints", "2025-03"): march}
    assert judge("32", "2025-03", ["2025-03", "2025"], now, gates).publishable
    for feb in (MonthNow(8, 29), MonthNow(7, 28), None):  # content, rows, or every row gone
        v = judge("32", "2025-03", ["2025-03", "2025"], {**now, ("complaints", "2025-02"): feb}, gates)
        assert [(p.table, p.partition, p.state, p.gated_at) for p in v.problems] == [
            ("complaints", "2025-03", "stale", at)]
        rows = feb.staging_rows if feb else 0
        assert v.problems[0].text("en") == (
            f"2025-03 stale: the month before (2025-02) changed since this month's gate at 2025-04-02 09:30:00 "
            f"(8 -> {rows} rows); cross-month rules look back at it (complaints)")
        assert v.problems[0].text("zh") == ("2025-03 上月（2025-02）暂存数据在本月上次检查（2025-04-02 09:30:00）后已变更，"
                                            "跨月规则需回看上月，尚未重新检查（complaints）")
        assert "`cei run` gates stale months" in v.message()
    # a month whose own staging changed says so first
    own = judge_month("complaints", "2025-03", MonthNow(9, 1), march, MonthNow(8, 29))
    assert own.reason.startswith("staging changed since its gate")
    # a gate record written before the look-back month was kept
    old = GateRecord(at, 10, 31, context_recorded=False)
    problem = judge_month("complaints", "2025-03", MonthNow(10, 31), old, MonthNow(8, 28))
    assert (problem.state, problem.reason) == ("stale", "the month before (2025-02) was not recorded by this month's "
                                                        "gate at 2025-04-02 09:30:00 (an older version); cross-month "
                                                        "rules look back at it")
    assert problem.text("zh") == ("2025-03 本月上次检查（2025-04-02 09:30:00）未记录上月（2025-02）数据状态，"
                                  "跨月规则需回看上月，尚未重新检查（complaints）")
    assert judge_month("complaints", "2025-03", MonthNow(10, 31), old, MonthNow(0, None, built_from_raw=False)) is None
    assert judge_month("complaints", "2025-03", MonthNow(10, 31), old, None) is None
    # year partitions (region profiles) have no look-back, recorded or not
    for profile in (GateRecord(at, 5, 6), GateRecord(at, 5, 6, context_recorded=False)):
        assert judge_month("region_profiles", "2025", MonthNow(5, 6), profile, MonthNow(8, 29)) is None
    # held back after the look-back check passes
    held = GateRecord(at, 10, 31, (CheckRecord("error_share", 0.2, 0.1),), "2025-02", 8, 28)
    assert judge_month("complaints", "2025-03", MonthNow(10, 31), held, MonthNow(8, 28)).state == "held_back"
