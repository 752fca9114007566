"""The partitioned path (issue 12 point 5; ``pipelines/lake.py``, ``assets/lake.py``).

One generated province, two months, delivered by two regions (sub-folders of the landing folder,
each with its own monthly files) plus the year files at the top: five steps. ``lake_job`` runs them
with its multiprocess executor; the same landing folder also goes through the single warehouse
(ingest -> restage -> gate of every month together -> indicators -> index, the functions the
assets call). Planted across regions and months: a record id delivered again in the other region's
next month (CMP-DUP-001), and the same complaint again through another channel the next day in the
other region (CMP-DUP-002) — neither step sees both rows; only the combine step's pass over the
whole lake does.
"""
from __future__ import annotations

import csv
import shutil
import warnings
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.helpers import TEST_PII_KEY, env

MONTHS = ("2025-01", "2025-02", "2025-03")  # a whole quarter: 2025Q1 is published
PERIOD = "2025Q1"
REGION_COLUMN = {"complaints": "handling_region_code", "sampling_results": "region_code"}
# two delivering regions, each for several prefectures, named by the first one's code
REGIONS = {"3201": "<= '3206'", "3207": "> '3206'"}
# each region's own feed name (the single warehouse takes a file's feed from its name, not its folder:
# two regions' complaints_2025-01.csv would be one delivery and its re-delivery there)
FEED = {"3201": "east", "3207": "west"}
LINEAGE = ("load_id", "loaded_at")  # number the loads of a run: differ between any two runs
DUP_CHANNEL_ID = "PLANTED-XCH-001"


def lake_job_for_test():
    from assets.lake import lake_job

    return lake_job


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    from synthetic import GeneratorConfig, generate

    root = tmp_path_factory.mktemp("lake_landing")
    gen, landing = root / "generated", root / "landing"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        generate(GeneratorConfig(scope="32", years=(2025,), records_per_year=15000, seed=11, out_dir=gen,
                                 defect_rate=0.03))
    con = duckdb.connect()
    for f in sorted(gen.glob("*.csv")):
        table = next((t for t in ("complaints", "sampling_results", "hotline_stats", "region_profiles")
                      if f.name.startswith(t)), None)
        if table in ("hotline_stats", "region_profiles"):  # year files: delivered at the top
            landing.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, landing / f.name)
        elif table and any(m in f.name for m in MONTHS):
            for region, cond in REGIONS.items():
                out = landing / region / f.name.replace(f"{table}_", f"{table}_{FEED[region]}_")
                out.parent.mkdir(parents=True, exist_ok=True)
                con.execute(f"COPY (SELECT * FROM read_csv('{f}', all_varchar = true, header = true) "
                            f"WHERE coalesce(substr({REGION_COLUMN[table]}, 1, 4), '') {cond}) TO '{out}' (HEADER)")
    (root / "planted_id").write_text(_plant(landing))  # beside the landing folder: not a delivery
    return landing


def _plant(landing: Path) -> str:
    """Copies of a late-January complaint of region 3201 into region 3207's February file: the same id
    on another channel, and a new id on another channel on 1 February, same complainant and content.
    Returns the id."""
    src, dst = landing / "3201" / "complaints_east_2025-01.csv", landing / "3207" / "complaints_west_2025-02.csv"
    with open(src, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    row = next(r for r in rows if r["record_type"] == "投诉" and r["complainant_phone"] and r["respondent_uscc"]
               and r["content"] and r["received_at"].startswith("2025-01-3"))
    dup = dict(row, channel="12345转办" if row["channel"] != "12345转办" else "电话")
    again = dict(dup, record_id=DUP_CHANNEL_ID, received_at="2025-02-01 09:00:00", accepted_at="", closed_at="")
    with open(dst, "a", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writerow(dup)
        w.writerow(again)
    return row["record_id"]


def _single_warehouse(landing: Path, wh: Path) -> None:
    """The single warehouse: what `cei run` does (landing_job, then monthly_job over the range, then the
    index), by the functions its assets call."""
    from data_quality import gate
    from indicators import run_indicators
    from indicators.scores import index_for, write_index_scores
    from ingestion import loader
    from pipelines.settings import connect

    with connect(wh) as con:
        results = loader.ingest_paths(con, [landing], warehouse=wh, stage=False)
        touched: dict[str, set] = {}
        assert not any(r.rows_replaced or r.rows_duplicate for r in results)
        for r in results:
            assert r.status in ("loaded", "ignored"), r.message
            if r.status == "loaded":
                touched.setdefault(r.table, set()).update(r.touched_partitions)
        for t, parts in sorted(touched.items()):
            loader.restage(con, t, sorted(parts), warehouse=wh)
            gate.run_gate(con, t, sorted(parts))
        run_indicators(con, "32", PERIOD)
        write_index_scores(con, index_for(con, "32", PERIOD))


def _lake_run_config(landing: Path, lake: Path) -> dict:
    return {"ops": {"lake_plan": {"config": {"landing_dir": str(landing), "lake_dir": str(lake),
                                             "warehouse": str(lake / "warehouse.duckdb"), "periods": [PERIOD]}}}}


@pytest.fixture(scope="module")
def both(landing, tmp_path_factory):
    """The single warehouse, and lake_job executed in this process (the steps one after the other: the
    same ops; the multiprocess executor itself is exercised by the slow test below)."""
    from assets.lake import lake_job

    root = tmp_path_factory.mktemp("lake_runs")
    single = root / "single.duckdb"
    with env(CEI_PII_KEY=TEST_PII_KEY):
        _single_warehouse(landing, single)
        result = lake_job.execute_in_process(run_config=_lake_run_config(landing, root / "lake"))
    assert result.success
    steps = sorted(e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS")
    return {"single": single, "lake_wh": root / "lake" / "warehouse.duckdb", "lake": root / "lake", "steps": steps}


def _rows(wh: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(wh), read_only=True) as con:
        return sorted(con.execute(sql).fetchall(), key=repr)


def _clean(wh: Path, table: str) -> list[tuple]:
    return _rows(wh, f"SELECT * EXCLUDE ({', '.join(LINEAGE)}) FROM clean.{table}")


def test_the_job_runs_each_region_and_period_as_its_own_step(both):
    assert [s for s in both["steps"] if s.startswith("lake_partition")] == [
        f"lake_partition[{r}_{m.replace('-', '_')}]" for r in REGIONS for m in MONTHS] + ["lake_partition[all_2025]"]
    lake = both["lake"]
    # a step's rows go to the partitions they belong to: the planted copy in 3207's February file was
    # received in January, so February's step writes a file beside January's own
    assert sorted(p.relative_to(lake).as_posix() for p in (lake / "clean" / "complaints").rglob("*.parquet")) == sorted(
        [f"clean/complaints/region={r}/period={m}/{r}_{m.replace('-', '_')}.parquet" for r in REGIONS for m in MONTHS]
        + ["clean/complaints/region=3207/period=2025-01/3207_2025_02.parquet"])
    assert not list(lake.rglob("*.tmp-*")) and not list((lake / "_work").glob("*.duckdb"))


@pytest.mark.slow
def test_the_multiprocess_executor_runs_each_step_in_its_own_process(landing, both, tmp_path):
    (tmp_path / "dagster").mkdir()
    with env(CEI_PII_KEY=TEST_PII_KEY), dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        with dg.execute_job(dg.reconstructable(lake_job_for_test), instance=instance,
                            run_config=_lake_run_config(landing, tmp_path / "lake")) as result:
            assert result.success, [e.message for e in result.all_events if e.is_failure]
            events = result.all_events
    starts = [e for e in events if e.event_type_value == "STEP_START"]
    assert len({e.pid for e in starts}) == len(starts) == len(both["steps"])  # a process each: plan, steps, combine
    for table in ("complaints", "hotline_stats"):
        assert _clean(tmp_path / "lake" / "warehouse.duckdb", table) == _clean(both["single"], table)


def test_the_partitioned_run_gives_the_single_warehouses_clean_rows(both):
    for table in ("complaints", "sampling_results", "hotline_stats", "region_profiles"):
        single, lake = _clean(both["single"], table), _clean(both["lake_wh"], table)
        assert len(single) > 0 and single == lake, table


def test_the_cross_partition_rules_see_the_whole_lake(both, landing):
    dup_id = (landing.parent / "planted_id").read_text()
    found = _rows(both["lake_wh"], "SELECT rule_id, record_key FROM dq.lake_cross_findings")
    assert ("CMP-DUP-002", DUP_CHANNEL_ID) in found  # another region, another month, another channel
    assert ("CMP-DUP-001", dup_id) in found  # the same id delivered again by another region
    first = _rows(both["single"], f"SELECT record_id, channel FROM staging.complaints WHERE record_id = '{dup_id}' "
                                  "ORDER BY load_id LIMIT 1")
    for wh in (both["single"], both["lake_wh"]):
        # the first delivery of the id stays clean, the copies are quarantined
        assert _rows(wh, f"SELECT record_id, channel FROM clean.complaints "
                         f"WHERE record_id IN ('{dup_id}', '{DUP_CHANNEL_ID}')") == first
        assert _rows(wh, "SELECT count(*) FROM dq.quarantine "
                         f"WHERE record_key IN ('{dup_id}', '{DUP_CHANNEL_ID}')") == [(2,)]
        # every staged row is clean or quarantined
        assert _rows(wh, "SELECT (SELECT count(*) FROM staging.complaints) - (SELECT count(*) FROM clean.complaints)"
                         " - (SELECT count(*) FROM dq.quarantine WHERE table_name = 'complaints')") == [(0,)]
    quarantined = "SELECT table_name, record_key, list_sort(rule_ids) FROM dq.quarantine"
    assert _rows(both["single"], quarantined) == _rows(both["lake_wh"], quarantined)


def test_the_partitioned_run_gives_the_single_warehouses_index(both):
    # doubles to 9 decimals: DuckDB sums doubles in parallel, in an order that may differ by the last bit
    # between any two runs (on 1M records the scores of the two paths differed by at most 3.4e-13)
    sql = "SELECT * EXCLUDE (computed_at) FROM mart.index_scores"
    single = _rounded(_rows(both["single"], sql))
    assert len(single) > 13 and single == _rounded(_rows(both["lake_wh"], sql))
    assert len({r[4] for r in single}) > 13  # scores, not a column of NULLs
    iv = "SELECT * FROM mart.indicator_values"
    assert _rounded(_rows(both["single"], iv)) == _rounded(_rows(both["lake_wh"], iv))


def _rounded(rows: list[tuple]) -> list[tuple]:
    return sorted((tuple(round(v, 9) if isinstance(v, float) else v for v in r) for r in rows), key=repr)


def test_a_step_run_again_replaces_its_files_and_nothing_else(landing, tmp_path):
    from pipelines import lake

    steps = {s.key: s for s in lake.plan_steps(landing)}
    step = steps["3207_2025_02"]
    with env(CEI_PII_KEY=TEST_PII_KEY):
        lake.run_step(step, tmp_path / "lake", tmp_path / "work", TEST_PII_KEY)
        other = lake.run_step(steps["3201_2025_02"], tmp_path / "lake", tmp_path / "work", TEST_PII_KEY)
        files = sorted((tmp_path / "lake").rglob("*.parquet"))
        first = {p: _parquet_rows(p) for p in files}
        again = lake.run_step(step, tmp_path / "lake", tmp_path / "work", TEST_PII_KEY)  # the same deliveries
        assert sorted((tmp_path / "lake").rglob("*.parquet")) == files
        assert {p: _parquet_rows(p) for p in files} == first
        # the region re-delivers February without its sampling file: that step's sampling files go,
        # the other region's stay
        fewer = lake.Step(step.region, step.period, tuple(f for f in step.files if "sampling" not in f))
        lake.run_step(fewer, tmp_path / "lake", tmp_path / "work", TEST_PII_KEY)
    left = sorted((tmp_path / "lake").rglob("*.parquet"))
    gone = set(files) - set(left)
    assert gone and all("sampling_results" in str(p) and "region=3207" in str(p) for p in gone)
    assert any("sampling_results" in str(p) and "region=3201" in str(p) for p in left)
    assert again["written"] == len([p for p in files if "region=3207" in str(p)]) and other["written"] > 0
    assert not list((tmp_path / "lake").rglob("*.tmp-*"))
    # the combine step rebuilds its warehouse whole, and leaves the key file beside it alone
    wh = tmp_path / "lake" / "warehouse.duckdb"
    (tmp_path / "lake" / ".cei_secret").write_text("k" * 64)
    with env(CEI_PII_KEY=TEST_PII_KEY):
        out = lake.combine(wh, tmp_path / "lake")
        first = _clean(wh, "complaints")
        lake.combine(wh, tmp_path / "lake")
    # February alone (and a late January copy): the year is not published (March has no complaint records), as the
    # single warehouse refuses it
    assert out["index"]["periods"]["2025"]["written"] == 0
    assert "2025-03 missing" in out["index"]["periods"]["2025"]["problems"]["publishable"][0]
    assert first and _clean(wh, "complaints") == first
    assert (tmp_path / "lake" / ".cei_secret").read_text() == "k" * 64
    assert not list((tmp_path / "lake").glob(".warehouse.duckdb.building-*"))


def test_every_whole_table_rule_is_either_cross_partition_or_judged_row_by_row():
    """A whole-table rule added later is cross-partition unless its family is declared row-local; the
    row-local families are the deadline and disposal rules, which read one row and constant tables."""
    from data_quality.rulebook import load_rulebook_full
    from pipelines import lake

    rb = load_rulebook_full()
    local, cross = lake.split_rulebook(rb)
    assert {r.id for r in cross.rules} == {"CMP-DUP-001", "CMP-DUP-002", "SMP-DUP-001", "HOT-DUP-001", "HOT-CNT-003",
                                           "PRF-PLS-003", "PRF-DUP-001"}
    assert len(local.rules) + len(cross.rules) == len(rb.rules)
    assert all(r.where is not None or r.family in lake.ROW_LOCAL_QUERY_FAMILIES for r in local.rules)


def _parquet_rows(path: Path) -> list[tuple]:
    with duckdb.connect() as con:
        return sorted(con.execute("SELECT * EXCLUDE (loaded_at) FROM read_parquet($p, hive_partitioning = false)"
                                  if "staging" in path.parts or "clean" in path.parts or "rejects" in path.parts
                                  else "SELECT 1 FROM read_parquet($p, hive_partitioning = false)",
                                  {"p": str(path)}).fetchall(), key=repr)


def test_the_plan_groups_a_regions_deliveries_by_period_in_the_loaders_order(tmp_path):
    from pipelines import lake

    for name in ("32/complaints_2025-03_v2.csv", "32/complaints_2025-03.csv", "32/hotline_stats_2025.csv",
                 "33/complaints_2025-03.csv", "33/notes.docx", "region_profiles_2025.csv", "manifest.json",
                 "ground_truth_defects.csv", "32/.hidden.csv"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    steps = {s.key: [Path(f).name for f in s.files] for s in lake.plan_steps(tmp_path)}
    assert steps == {"32_2025": ["hotline_stats_2025.csv"],
                     "32_2025_03": ["complaints_2025-03.csv", "complaints_2025-03_v2.csv"],  # original first
                     "33_2025_03": ["complaints_2025-03.csv"], "33_undated": ["notes.docx"],  # refused in its step
                     "all_2025": ["region_profiles_2025.csv"]}
    ids = [s.load_id_start for s in lake.plan_steps(tmp_path) if s.region != "all"]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)  # folder order, then period: the load order
    (tmp_path / "bad name").mkdir()
    (tmp_path / "bad name" / "complaints_2025-01.csv").write_text("x\n")
    with pytest.raises(ValueError, match="bad name"):
        lake.plan_steps(tmp_path)
