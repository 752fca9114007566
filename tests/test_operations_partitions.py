"""Partitioned index and reports (issue 11, points 3 and 2): the monthly clean partitions map onto
the year and quarter partitions (× scope) of the index and report assets, so a re-materialised May
2025 makes exactly 2025 and 2025Q2 due; their automation condition runs them once the months passed
the gate, and a held-back month keeps its period waiting with the reason in the evaluation; every
partition keeps its own report folder, and every materialisation its copy under history/."""
from __future__ import annotations

import warnings
from pathlib import Path

import dagster as dg
import pytest

from pipelines.automation import MONTH_HELD_BACK
from pipelines.definitions import defs
from pipelines.partitions import (SCOPE_PARTITIONS, from_months, index_partition_key, index_partitions,
                                  monthly_partitions, period_and_scope)
from pipelines.periods import grain_of, partition_period_key, period_of_key, periods_of_month

TABLES = ("complaints", "sampling_results", "hotline_stats")
BLOCKING = ("error_share", "reconciled", "gx_column_expectations")


def test_a_month_belongs_to_one_year_and_one_quarter():
    assert periods_of_month("2025-05") == ["2025", "2025Q2"]
    assert periods_of_month("2025-12") == ["2025", "2025Q4"]
    assert [partition_period_key(p) for p in ("2025", "2025Q1", "2025Q2", "2025Q4")] == [
        "2025", "2025-01-01", "2025-04-01", "2025-10-01"]
    assert [period_of_key(k) for k in ("2025", "2025-07-01")] == ["2025", "2025Q3"]
    assert period_and_scope(index_partition_key("2025Q2", "3204")) == ("2025Q2", "3204")
    assert period_and_scope("2025-04-01|3204") == ("2025Q2", "3204")
    with pytest.raises(ValueError):
        grain_of("2025H1")  # half-years are computed on demand (cei index / cei report), not partitions


def test_may_2025_maps_to_exactly_2025_and_2025q2_of_every_scope():
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(SCOPE_PARTITIONS, ["3204", "32"])
    may = monthly_partitions.subset_with_partition_keys(["2025-05-01"])
    down = {grain: sorted(from_months.get_downstream_partitions_for_partitions(
        may, monthly_partitions, index_partitions[grain], dynamic_partitions_store=instance).get_partition_keys())
        for grain in ("year", "quarter")}
    assert down == {"year": ["2025|32", "2025|3204"], "quarter": ["2025-04-01|32", "2025-04-01|3204"]}
    # and back: the quarter reads its three months, the year its twelve
    up = from_months.get_upstream_mapped_partitions_result_for_partitions(
        index_partitions["quarter"].subset_with_partition_keys([index_partition_key("2025Q2", "3204")]),
        index_partitions["quarter"], monthly_partitions, dynamic_partitions_store=instance)
    assert sorted(up.partitions_subset.get_partition_keys()) == ["2025-04-01", "2025-05-01", "2025-06-01"]
    # the code location uses this mapping (a built-in one: the UI and the automation daemon see it)
    graph = defs.resolve_asset_graph()
    for key in ("mart/indicator_values", "mart/indicator_values_quarterly"):
        mapping = graph.get_partition_mapping(dg.AssetKey.from_user_string(key),
                                              dg.AssetKey.from_user_string("clean/complaints"))
        assert mapping == from_months
        assert isinstance(mapping, dg.MultiToSingleDimensionPartitionMapping)


# --- the declarative chain, evaluated on a temporary instance ------------------------------------

def _stub_clean_assets(verdicts: dict):
    """Stand-ins for the clean assets (same keys, partitions and checks; no warehouse): each run
    materialises its months and records the gate's verdict per month (``verdicts``: month -> passed),
    through the real ``month_results`` (the per-month results the automation reads)."""
    from assets.checks import month_check_spec, month_results

    def stub(table: str):
        key = dg.AssetKey(["clean", table])
        specs = [dg.AssetCheckSpec(n, asset=key, blocking=True) for n in BLOCKING]
        specs.append(month_check_spec("month_gate", key, "stub"))

        @dg.asset(key=key, partitions_def=monthly_partitions, check_specs=specs,
                  backfill_policy=dg.BackfillPolicy.single_run())
        def _clean(context):
            months = [k[:7] for k in context.partition_keys]
            yield dg.MaterializeResult()
            ok = all(verdicts.get(m, True) for m in months)
            for name in BLOCKING:  # like the gate's range checks: failed when a month of the run's range failed
                yield dg.AssetCheckResult(check_name=name, passed=ok)
            yield from month_results(context, key, "month_gate", {
                m: (verdicts.get(m, True), {} if verdicts.get(m, True) else {"failed": dg.MetadataValue.json(
                    [f"error_share 0.31 > 0.10 ({table})"])}) for m in months})

        return _clean

    stubs = [stub(t) for t in TABLES]
    profiles_key = dg.AssetKey(["clean", "region_profiles"])

    @dg.asset(key=profiles_key, check_specs=[dg.AssetCheckSpec(n, asset=profiles_key, blocking=True) for n in BLOCKING])
    def _profiles():
        yield dg.MaterializeResult()
        for name in BLOCKING:
            yield dg.AssetCheckResult(check_name=name, passed=True)

    return stubs, _profiles


def _land(instance, first: str, last: str, verdicts: dict | None = None, profiles: bool = False):
    stubs, prof = _stub_clean_assets(verdicts or {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = dg.materialize(stubs, instance=instance, raise_on_error=False,
                                tags={"dagster/asset_partition_range_start": f"{first}-01",
                                      "dagster/asset_partition_range_end": f"{last}-01"})
        assert result.success == all((verdicts or {}).values())  # a failed blocking check fails the run
        if profiles:
            assert dg.materialize([prof], instance=instance).success


def _due(instance, cursor=None):
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    due = {r.key.to_user_string(): sorted(str(ap.partition_key) for ap in r.true_subset.expensively_compute_asset_partitions())
           for r in result.results if isinstance(r.key, dg.AssetKey) and r.true_subset.size}
    return result, due


class _Daemon:
    """The same evaluation on the code location's snapshot (a ``RemoteRepositoryAssetGraph``, what
    the daemon evaluates ``index_automation_sensor`` on: conditions and partitioned checks as
    serialised, no code of ours), with its own cursor. Internal Dagster APIs, used only here."""

    def __init__(self):
        from dagster._core.definitions.asset_daemon_cursor import AssetDaemonCursor
        from dagster._core.remote_representation.external import RemoteRepository
        from dagster._core.remote_representation.external_data import RepositorySnap
        from dagster._core.remote_representation.handle import RepositoryHandle

        repo = RemoteRepository(RepositorySnap.from_def(defs.get_repository_def()), RepositoryHandle.for_test(),
                                auto_materialize_use_sensors=True)
        self.graph, self.cursor = repo.asset_graph, AssetDaemonCursor.empty()

    def due(self, instance) -> dict:
        import logging
        import time

        from dagster._core.definitions.declarative_automation.automation_condition_evaluator import (
            AutomationConditionEvaluator)

        keys = {k for k in self.graph.get_all_asset_keys() if self.graph.get(k).automation_condition is not None}
        results, _ = AutomationConditionEvaluator(
            asset_graph=self.graph, instance=instance, entity_keys=keys, evaluation_time=None, emit_backfills=False,
            logger=logging.getLogger("test"), cursor=self.cursor, evaluation_id=self.cursor.evaluation_id).evaluate()
        self.cursor = self.cursor.with_updates(
            evaluation_timestamp=time.time(), newly_observe_requested_asset_keys=[],
            evaluation_id=self.cursor.evaluation_id + 1, condition_cursors=[r.get_new_cursor() for r in results],
            asset_graph=self.graph)
        return {r.key.to_user_string(): _keys(r.true_subset) for r in results if r.true_subset.size}


def _keys(subset) -> list[str]:
    if isinstance(subset.key, dg.AssetCheckKey):  # a check's subset: its partitions directly
        value = subset.get_internal_value()
        return sorted(value.get_partition_keys()) if hasattr(value, "get_partition_keys") else []
    return sorted(str(ap.partition_key) for ap in subset.expensively_compute_asset_partitions())


def _labels(node, found=None) -> dict:
    """Every labelled or named sub-condition of an evaluation and its partitions (what the UI shows)."""
    found = {} if found is None else found
    label = node.condition.get_label() or node.condition.name
    found.setdefault(label, set()).update(_keys(node.true_subset))
    for child in node.child_results:
        _labels(child, found)
    return found


def _evaluation(result, key: str):
    return next(r for r in result.results if r.key == dg.AssetKey.from_user_string(key))


INDEX = ("mart/indicator_values", "mart/index_scores", "reports/report_folders")
SCOPES = ("32", "3204")


def _periods(*periods: str) -> dict:
    """What is due: every index and report asset, of these periods, for both scopes."""
    years = sorted(f"{p}|{s}" for p in periods if "Q" not in p for s in SCOPES)
    quarters = sorted(f"{index_partition_key(p, s)}" for p in periods if "Q" in p for s in SCOPES)
    due = {k: years for k in INDEX if years}
    due.update({f"{k}_quarterly": quarters for k in INDEX if quarters})
    return due


@pytest.mark.slow  # 30-80 s: in-process runs over 24 months, automation evaluated in process and as the daemon
def test_a_held_back_month_holds_only_its_year_and_quarter_and_releasing_it_makes_them_due():
    """May 2025 held back by the gate in a run over 2024-2025: 2024, its quarters, 2025Q1, Q3 and Q4
    run (every scope); 2025 and 2025Q2 wait, with the reason on the partition. May re-delivered and
    passing: exactly 2025 and 2025Q2 become due."""
    daemon = _Daemon()

    def tick(cursor=None):  # in process (dg.evaluate_automation_conditions) and as the daemon sees it
        result, due = _due(instance, cursor)
        assert daemon.due(instance) == due
        return result, due

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SCOPE_PARTITIONS, list(SCOPES))
        result, start = tick()
        assert start == {}  # nothing has landed
        _land(instance, "2024-01", "2025-12", verdicts={"2025-05": False}, profiles=True)
        result, due = tick(result.cursor)
        assert due == _periods("2024", "2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q3", "2025Q4")
        # the reason, on exactly the held partitions: the label, the check and its failed month
        for key, held in (("mart/indicator_values", ["2025|32", "2025|3204"]),
                          ("mart/indicator_values_quarterly", ["2025-04-01|32", "2025-04-01|3204"])):
            labels = _labels(_evaluation(result, key))
            assert sorted(labels[MONTH_HELD_BACK]) == held
            assert sorted(labels["clean/complaints:month_gate"]) == ["2025-05-01"]
        # and the failed rules in that month's check result (the check's page, partition 2025-05-01)
        from dagster._core.storage.event_log.base import PartitionKeyFilter

        gate = dg.AssetCheckKey(dg.AssetKey(["clean", "complaints"]), "month_gate")
        may = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [gate], partition_filter=PartitionKeyFilter(key="2025-05-01"))[gate]
        evaluation = may.event.dagster_event.event_specific_data
        assert (may.status.value, evaluation.metadata["failed"].value) == ("FAILED", ["error_share 0.31 > 0.10 (complaints)"])
        result, again = tick(result.cursor)
        assert again == {}  # requested once (since_last_handled), not on every tick

        _land(instance, "2025-05", "2025-05")  # May re-delivered and passing: released
        result, released = tick(result.cursor)
        assert released == _periods("2025", "2025Q2")
        assert _labels(_evaluation(result, "mart/indicator_values"))[MONTH_HELD_BACK] == set()
        result, _ = tick(result.cursor)

        _land(instance, "2025-08", "2025-08", verdicts={"2025-08": False})  # August held back on its own
        result, aug = tick(result.cursor)
        assert aug == {}  # neither 2025 nor 2025Q3 runs, and nothing else was touched
        labels = _labels(_evaluation(result, "mart/indicator_values_quarterly"))
        assert sorted(labels[MONTH_HELD_BACK]) == ["2025-07-01|32", "2025-07-01|3204"]
        assert sorted(labels["any_deps_updated"]) == ["2025-07-01|32", "2025-07-01|3204"]


def test_a_per_month_check_result_is_current_for_its_month():
    """The automation reads a partitioned check's status per month only when each result names the
    materialisation it judged (assets/checks.py): a run over April-June with May failing leaves May
    FAILED and April, June SUCCEEDED in Dagster's per-partition check state."""
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionResolvedStatus as Status

    gate = dg.AssetCheckKey(dg.AssetKey(["clean", "complaints"]), "month_gate")
    with dg.instance_for_test() as instance:
        _land(instance, "2025-04", "2025-06", verdicts={"2025-05": False})
        state = instance.event_log_storage.get_asset_check_state([(gate, monthly_partitions)])[gate]
        by_status = {status.value: sorted(subset.subset_value.get_partition_keys())
                     for status, subset in state.subsets.items() if not subset.is_empty}
        assert by_status == {"FAILED": ["2025-05-01"], "SUCCEEDED": ["2025-04-01", "2025-06-01"]}
        _land(instance, "2025-05", "2025-05")  # May again, passing: its newer result replaces the failed one
        state = instance.event_log_storage.get_asset_check_state([(gate, monthly_partitions)])[gate]
        assert sorted(state.subsets[Status.SUCCEEDED].subset_value.get_partition_keys()) == [
            "2025-04-01", "2025-05-01", "2025-06-01"]
        assert state.subsets[Status.FAILED].is_empty


@pytest.mark.slow  # builds three report folders from the shared pipeline warehouse
def test_two_partitions_keep_separate_report_folders_and_every_run_its_history(pipeline_warehouse, tmp_path):
    from dagster_duckdb import DuckDBResource

    from assets.reports import report_folders, report_folders_quarterly

    wh = pipeline_warehouse.copy(tmp_path)
    out = tmp_path / "reports"
    resources = {"duckdb": DuckDBResource(database=str(wh))}
    config = {"out_dir": str(out), "export": False}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SCOPE_PARTITIONS, ["32"])
        runs = [dg.materialize([asset], resources=resources, instance=instance,
                               partition_key=index_partition_key(period, "32"),
                               run_config={"ops": {asset.op.name: {"config": config}}})
                for asset, period in ((report_folders, "2025"), (report_folders_quarterly, "2025Q2"),
                                      (report_folders, "2025"))]
    assert all(r.success for r in runs)
    meta = [r.get_asset_materialization_events()[0].materialization.metadata for r in runs]
    assert [(m["scope"].value, m["period"].value) for m in meta] == [("32", "2025"), ("32", "2025Q2"), ("32", "2025")]
    # the latest folder per partition, where `cei report` and `cei run` write
    assert (out / "32_2025" / "index.html").is_file() and (out / "32_2025Q2" / "index.html").is_file()
    assert meta[0]["folder"].value == str(out / "32_2025")
    # and one history copy per materialisation: two for 2025, one for 2025Q2, never overwritten
    kept = {p.name: sorted(q.name for q in p.iterdir()) for p in (out / "history").iterdir()}
    assert sorted(kept) == ["32_2025", "32_2025Q2"]
    assert len(kept["32_2025"]) == 2 and len(kept["32_2025Q2"]) == 1
    assert [m["history"].value for m in meta] == [str(out / "history" / "32_2025" / kept["32_2025"][0]),
                                                 str(out / "history" / "32_2025Q2" / kept["32_2025Q2"][0]),
                                                 str(out / "history" / "32_2025" / kept["32_2025"][1])]
    assert all((out / "history" / "32_2025" / stamp / "index.html").is_file() for stamp in kept["32_2025"])


def test_the_scope_partition_comes_from_the_gated_data(tmp_path, monkeypatch):
    """scope_partitions_sensor adds the scope the data implies (a prefecture's records -> its counties),
    once, and waits quietly before anything was gated."""
    import duckdb

    from pipelines.sensors import scope_partitions_sensor

    wh = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("CEI_WAREHOUSE", str(wh))
    with dg.instance_for_test() as instance:
        duckdb.connect(str(wh)).close()
        assert "nothing gated" in scope_partitions_sensor(dg.build_sensor_context(instance=instance)).skip_message
        with duckdb.connect(str(wh)) as con:  # the one column sql/pipelines/data_scope.sql reads
            con.execute("CREATE SCHEMA clean; CREATE TABLE clean.complaints (handling_region_code VARCHAR)")
            con.execute("INSERT INTO clean.complaints VALUES ('320402'), ('320404'), ('320000'), (NULL)")
        result = scope_partitions_sensor(dg.build_sensor_context(instance=instance))
        [request] = result.dynamic_partitions_requests
        assert (request.partitions_def_name, list(request.partition_keys)) == (SCOPE_PARTITIONS, ["3204"])
        instance.add_dynamic_partitions(SCOPE_PARTITIONS, ["3204"])
        assert "already" in scope_partitions_sensor(dg.build_sensor_context(instance=instance)).skip_message


def test_cei_run_refuses_a_period_that_is_no_partition_before_loading(tmp_path, warehouse):
    from click.testing import CliRunner

    from pipelines.cli import main

    landing = tmp_path / "landing"
    landing.mkdir()
    res = CliRunner().invoke(main, ["--warehouse", str(warehouse), "run", "--landing", str(landing),
                                    "--period", "2025H1"])
    assert res.exit_code == 2 and "2025H1" in res.output and "2025Q2" in res.output, res.output
    assert not warehouse.exists()


def test_cei_report_keeps_a_history_copy_like_the_report_asset(tmp_path, monkeypatch):
    """`cei report` keeps every complete folder under ``history/<folder>/<stamp>/`` through
    reports.editions.keep_edition (the asset's path): two runs, two copies, the latest folder
    rewritten; a folder missing its index report (exit 1) is not kept."""
    import duckdb
    from click.testing import CliRunner

    from pipelines.cli import main

    wh = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(wh)).close()  # nothing gated: the command's own publishability check passes

    def build(con, scope, period, out_dir, lang):  # the folder, without the warehouse's data
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / "index.html").write_text(f"<p>{scope} {period} {build.n}</p>", encoding="utf-8")
        build.n += 1
        return Path(out_dir) / "index.html"

    build.n = 1
    monkeypatch.setattr("reports.build_reports", build)
    monkeypatch.setattr("reports.index_report.index_available", lambda con, scope, period: True)
    out = tmp_path / "reports" / "32_2025"
    args = ["--warehouse", str(wh), "report", "--scope", "32", "--period", "2025", "--out", str(out), "--no-export"]
    runs = [CliRunner().invoke(main, args) for _ in range(2)]
    assert [r.exit_code for r in runs] == [0, 0], [r.output for r in runs]
    history = tmp_path / "reports" / "history" / "32_2025"
    kept = sorted(history.iterdir())
    assert len(kept) == 2  # one per run, never overwritten (same second: a suffix)
    assert [r.stdout.splitlines()[-1] for r in runs] == [str(p.resolve()) for p in kept]
    assert [(p / "index.html").read_text(encoding="utf-8") for p in kept] == ["<p>32 2025 1</p>", "<p>32 2025 2</p>"]
    assert (out / "index.html").read_text(encoding="utf-8") == "<p>32 2025 2</p>"  # the latest, in place

    monkeypatch.setattr("reports.index_report.index_available", lambda con, scope, period: False)
    failed = CliRunner().invoke(main, args)
    assert failed.exit_code == 1 and len(list(history.iterdir())) == 2, failed.output
