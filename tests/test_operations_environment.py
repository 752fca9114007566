"""One environment: `cei run` records its runs in the DAGSTER_HOME instance (the UI of `make dev`
shows them, and they take the `duckdb` pool), the landing folder is a resource read from
CEI_LANDING, `cei run` takes a mapping profile as `cei ingest` does, and the Makefile points the
demo, the CLI and the UI at the same warehouse, landing folder and instance."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import duckdb
from click.testing import CliRunner

from assets.ingest import landing_files
from pipelines.cli import main
from pipelines.definitions import defs
from pipelines.resources import warehouse_resource
from tests.helpers import complaint_rows, write_csv

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL = ROOT / "tests" / "data" / "external" / "12365auto_car_complaints_2020_2021.csv"


def test_cei_run_records_its_runs_in_the_dagster_home_instance(tmp_path, warehouse, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    landing = tmp_path / "landing"
    runner = CliRunner()
    res = runner.invoke(main, ["generate", "--scope", "3204", "--years", "2025", "--records-per-year", "300",
                               "--seed", "2", "--out", str(landing)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["--warehouse", str(warehouse), "run", "--landing", str(landing)])
    assert res.exit_code == 0, res.output

    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert {r.job_name for r in runs} == {"landing_job", "monthly_job", "profiles_job", "index_job"}
        # the index ran as the partition of the year and the scope the data implies (3204's counties)
        [index_run] = [r for r in runs if r.job_name == "index_job"]
        assert index_run.tags["dagster/partition"] == "2025|3204"
        assert instance.get_dynamic_partitions("scope") == ["3204"]
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        # what `make dev` shows: every asset of the code location materialised (quarters: `--period 2025Q2`)
        keys = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if not k.path[-1].endswith("_quarterly")]
        missing = [k.to_user_string() for k in keys if instance.get_latest_materialization_event(k) is None]
        assert missing == []
        # the steps took the duckdb pool of the instance (dagster.yaml: limit 1)
        assert "duckdb" in instance.event_log_storage.get_concurrency_keys()
        assert instance.event_log_storage.get_concurrency_info("duckdb").slot_count == 1


def test_without_dagster_home_cei_run_leaves_no_instance_behind(tmp_path, warehouse, monkeypatch):
    from pipelines.runner import run_instance

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert run_instance().is_ephemeral
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "not_there"))  # a folder that does not exist: ephemeral
    assert run_instance().is_ephemeral


def test_the_landing_folder_is_a_resource_read_from_cei_landing(tmp_path, warehouse, monkeypatch):
    landing = tmp_path / "elsewhere"
    landing.mkdir()
    write_csv(landing / "complaints_2025-03.csv", complaint_rows(7))
    monkeypatch.setenv("CEI_LANDING", str(landing))
    result = dg.materialize([landing_files], resources={"duckdb": warehouse_resource(str(warehouse))})
    assert result.asset_materializations_for_node("raw__landing_files")[0].metadata["rows_raw"].value == 7
    assert defs.get_assets_def(landing_files.key).required_resource_keys >= {"landing", "duckdb"}


def test_cei_run_takes_a_mapping_profile_like_cei_ingest(tmp_path, warehouse):
    landing = tmp_path / "landing"
    landing.mkdir()
    shutil.copy(EXTERNAL, landing / EXTERNAL.name)
    res = CliRunner().invoke(main, ["--warehouse", str(warehouse), "run", "--landing", str(landing),
                                    "--profile", "no_such_profile"])
    assert res.exit_code == 2 and "--profile" in res.output and "Traceback" not in res.output
    assert not warehouse.exists()  # refused before anything was loaded

    res = CliRunner().invoke(main, ["--warehouse", str(warehouse), "run", "--landing", str(landing),
                                    "--profile", "12365auto"])
    assert "files loaded 1" in res.output and "refused" not in res.output, res.output
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT source_id, rows_read FROM raw.load_log").fetchall() == [("12365auto", 2490)]
        assert con.execute("SELECT count(*) FROM staging.complaints").fetchall()[0][0] == 2490  # mapped and typed


def _make(*args: str, **env: str) -> str:
    fake = {"BIN": "/bin/echo-bin"}  # never runs the real tools: `make -n` prints the commands
    out = subprocess.run(["make", "-n", "-C", str(ROOT), *args, *(f"{k}={v}" for k, v in {**fake, **env}.items()),
                          "STAMP="], capture_output=True, text=True, check=True)
    return out.stdout


def test_make_demo_and_make_dev_share_the_warehouse_landing_folder_and_instance(tmp_path):
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    for var in ("CEI_WAREHOUSE", "CEI_LANDING", "DAGSTER_HOME"):
        assert re.search(rf"^demo dev validate-defs: export {var} :=", text, flags=re.M), var
    demo = _make("demo")
    assert "cei --warehouse data/warehouse.duckdb demo" in demo and "--dir data" in demo.replace("\\\n", " ")
    # the instance is set up before the demo records its runs (a fresh home: CI's `make validate-defs`
    # has already set up the default one, so make would rightly have nothing to copy there)
    fresh = _make("demo", DAGSTER_HOME=str(tmp_path / "home"))
    assert f"cp dagster.yaml {tmp_path / 'home'}/dagster.yaml" in fresh, fresh
    assert "dagster dev -m pipelines.definitions" in _make("dev")
    # the demo's folder follows the warehouse, and the CLI's defaults are the same files
    from pipelines.settings import DEFAULT_LANDING, DEFAULT_WAREHOUSE

    assert (str(DEFAULT_WAREHOUSE), str(DEFAULT_LANDING)) == ("data/warehouse.duckdb", "data/landing")
    moved = _make("demo", CEI_WAREHOUSE="/tmp/x/wh.duckdb")
    assert "--warehouse /tmp/x/wh.duckdb" in moved and "--dir /tmp/x" in moved.replace("\\\n", " ")


def test_a_demo_elsewhere_prints_the_one_line_that_points_cei_at_it(tmp_path, monkeypatch):
    from pipelines.cli import _environment_hint

    monkeypatch.delenv("CEI_WAREHOUSE", raising=False)
    monkeypatch.delenv("CEI_LANDING", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert _environment_hint(Path("data/warehouse.duckdb"), Path("data/landing")) is None  # `make demo`
    line = _environment_hint(Path("data/demo/warehouse.duckdb"), Path("data/demo/landing"))
    assert line.endswith(f"export CEI_WAREHOUSE={tmp_path}/data/demo/warehouse.duckdb "
                         f"CEI_LANDING={tmp_path}/data/demo/landing")
    monkeypatch.setenv("CEI_WAREHOUSE", "data/demo/warehouse.duckdb")
    monkeypatch.setenv("CEI_LANDING", "data/demo/landing")
    assert _environment_hint(Path("data/demo/warehouse.duckdb"), Path("data/demo/landing")) is None
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / ".dagster_home"))  # `make demo` sets it
    assert _environment_hint(Path("data/demo/warehouse.duckdb"), Path("data/demo/landing")) == (
        f"runs recorded in {tmp_path}/.dagster_home (make dev shows them; export DAGSTER_HOME={tmp_path}/.dagster_home "
        "to record `cei run` there too)")
