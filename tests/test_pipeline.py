"""Dagster definitions, in-process materialisation of the ingest assets, and the `cei` CLI."""
from __future__ import annotations

import duckdb
import dagster as dg
import pytest
from click.testing import CliRunner

from assets.ingest import landing_files, monthly_staging_assets, staging_complaints
from pipelines.cli import main
from pipelines.definitions import defs
from pipelines.resources import warehouse_resource
from tests.helpers import complaint_rows, count_csv_records, write_csv


def test_definitions_load_and_name_the_stages():
    dg.Definitions.validate_loadable(defs)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw/landing_files", "staging/complaints", "staging/sampling_results", "staging/hotline_stats",
            "staging/region_profiles"} <= keys
    for name in ("landing_job", "monthly_job", "profiles_job"):
        assert defs.resolve_job_def(name) is not None


def test_ingest_assets_materialise_in_process(tmp_path, warehouse):
    landing = tmp_path / "landing"
    landing.mkdir()
    rows = complaint_rows(40)
    for r in rows[:4]:
        r["amount_disputed"] = "n/a"  # 10% untypeable: the blocking check must fail for March
    write_csv(landing / "complaints_2025-03.csv", rows)
    write_csv(landing / "complaints_2025-04.csv", complaint_rows(30, "2025-04", seed=4))
    resources = {"duckdb": warehouse_resource(str(warehouse))}

    result = dg.materialize([landing_files], resources=resources,
                            run_config={"ops": {"raw__landing_files": {"config": {"landing_dir": str(landing)}}}})
    meta = result.asset_materializations_for_node("raw__landing_files")[0].metadata
    assert meta["files_loaded"].value == 2 and meta["rows_raw"].value == 70
    assert meta["partitions"].value == {"complaints": ["2025-03", "2025-04"]}

    april = dg.materialize(monthly_staging_assets, partition_key="2025-04-01", resources=resources)
    assert april.success
    checks = {c.asset_key.to_user_string(): c.passed for c in april.get_asset_check_evaluations()
              if c.check_name == "reject_share"}
    assert checks["staging/complaints"] is True

    march = dg.materialize([staging_complaints], partition_key="2025-03-01", resources=resources, raise_on_error=False)
    [month, check] = sorted(march.get_asset_check_evaluations(), key=lambda c: c.check_name)
    assert (month.check_name, month.partition, month.passed) == ("month_reject_share", "2025-03-01", False)
    assert check.passed is False and check.metadata["rows_rejected"].value == 4

    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert dict(con.execute("SELECT partition_key, count(*) FROM staging.complaints GROUP BY 1").fetchall()) == {
            "2025-03": 36, "2025-04": 30}
    # re-running a partition is safe: same rows
    dg.materialize([staging_complaints], partition_key="2025-04-01", resources=resources)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM staging.complaints").fetchall()[0][0] == 66


@pytest.mark.parametrize("command", ["generate", "ingest", "run", "demo", "status", "index", "report", "compute-index", "dq-report"])
def test_every_command_has_help(command):
    out = CliRunner().invoke(main, [command, "--help"])
    assert out.exit_code == 0 and "Usage" in out.output


def _counts_line(output: str, table: str) -> list[str]:
    """The row of `cei run`'s closing table for ``table``: raw, staging, rejected, clean, quarantined."""
    return next(line.split()[1:] for line in output.splitlines() if line.split()[:1] == [table])


def test_cli_run_on_valid_data_loads_every_record(tmp_path, warehouse, monkeypatch):
    """`cei generate` (no defects) then `cei run` end to end: every record delivered (counted from the
    files with the csv module) is in raw, staging and clean, nothing is rejected or quarantined, the
    index and the report folder are written, exit status 0; a second run finds nothing new."""
    landing = tmp_path / "landing"
    runner = CliRunner()
    res = runner.invoke(main, ["generate", "--scope", "3204", "--years", "2025", "--records-per-year", "600",
                               "--seed", "3", "--out", str(landing)])
    assert res.exit_code == 0, res.output
    delivered = {t: sum(count_csv_records(f) for f in sorted(landing.glob(f"{t}_*.csv")))
                 for t in ("complaints", "sampling_results", "hotline_stats", "region_profiles")}
    assert delivered["complaints"] >= 600 and all(delivered.values()), delivered
    res = runner.invoke(main, ["--warehouse", str(warehouse), "run", "--landing", str(landing),
                               "--scope", "3204", "--period", "2025"])
    assert res.exit_code == 0, res.output
    assert "held back" not in res.output, res.output
    for table, n in delivered.items():
        assert _counts_line(res.output, table) == [str(n), str(n), "0", str(n), "0"], table
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table, n in delivered.items():
            for layer in ("raw", "staging", "clean"):
                assert con.execute(f"SELECT count(*) FROM {layer}.{table}").fetchall()[0][0] == n, (layer, table)
        assert con.execute("SELECT count(*) FROM dq.quarantine").fetchall()[0][0] == 0
        # the index ran: one composite score per county of 常州市 (GB/T 2260: 6 in 2025)
        assert con.execute("SELECT count(*) FROM mart.index_scores WHERE period = '2025' "
                           "AND node_id = 'cei'").fetchall()[0][0] == 6
    assert (warehouse.parent / "reports" / "3204_2025" / "index.html").is_file()
    # a second run finds nothing new and changes nothing
    res = runner.invoke(main, ["--warehouse", str(warehouse), "run", "--landing", str(landing)])
    assert res.exit_code == 0 and "nothing new" in res.output, res.output
    assert _counts_line(res.output, "complaints") == [str(delivered["complaints"])] * 2 + ["0", str(delivered["complaints"]), "0"]
    bad = tmp_path / "complaints_bad.csv"
    bad.write_text("record_id,foo\n1,2\n", encoding="utf-8")
    res = runner.invoke(main, ["--warehouse", str(warehouse), "ingest", str(bad)])
    assert res.exit_code == 1 and "foo" in res.output
    monkeypatch.setenv("CEI_WAREHOUSE", str(warehouse))
    res = runner.invoke(main, ["status"])
    assert res.exit_code == 0 and "complaints_bad.csv" in res.output


def test_cli_run_holds_the_index_back_and_exits_non_zero(tmp_path, warehouse):
    """4 rows in 5 with a USCC whose check character is wrong: the gate quarantines them, the month's
    error share (80%) fails the blocking check, the index is held back and `cei run` exits 3."""
    landing = tmp_path / "landing"
    landing.mkdir()
    rows = complaint_rows(25)  # the default placeholder USCC 91320402MA1MXXXX0X is invalid
    write_csv(landing / "complaints_2025-03.csv", rows)
    invalid = sum(1 for r in rows if r["respondent_uscc"])
    assert invalid == 20
    res = CliRunner().invoke(main, ["--warehouse", str(warehouse), "run", "--landing", str(landing)])
    assert res.exit_code == 3, res.output
    assert "held back" in res.output and "error_share" in res.output, res.output
    assert _counts_line(res.output, "complaints") == ["25", "25", "0", str(25 - invalid), str(invalid)]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rules = con.execute("SELECT DISTINCT rule_ids FROM dq.quarantine").fetchall()
        assert rules and all("CMP-USC-001" in r[0] for r in rules), rules
        has_index = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'mart' "
                                "AND table_name = 'index_scores'").fetchall()[0][0]
        assert not has_index or con.execute("SELECT count(*) FROM mart.index_scores").fetchall()[0][0] == 0


def test_compute_index_on_an_analysts_table(tmp_path):
    """`cei compute-index` reproduces UNDP's HDI 2021 from the analyst-style input file."""
    import json as _json

    import pandas as pd

    data = "tests/data/verification/hdi_2021/hdi_2021_input_and_published.csv"
    res = CliRunner().invoke(main, ["compute-index", "--indicators", data,
                                    "--spec", "tests/data/verification/specs/hdi_2021.yaml", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    summary = _json.loads(res.output)
    assert summary["units"] == 191 and summary["top"][0]["unit"] == "CHE"
    assert (tmp_path / "index_results.xlsx").exists()
    published = pd.read_csv(data).set_index("iso3")
    scores = pd.read_csv(next(tmp_path.glob("scores*.csv"))).set_index("iso3")
    hdi = scores[[c for c in scores.columns if c.lower().startswith("hdi")][0]]
    pub = published[[c for c in published.columns if "hdi" in c.lower() and "published" in c.lower()][0]]
    assert (hdi.round(3) - pub.reindex(hdi.index)).abs().max() < 1e-9


def test_landing_sensor_requests_one_run_per_new_state(tmp_path, monkeypatch):
    """First turned on, the sensor records the files already there (no run: it starts from now);
    a file that arrives after starts one run, with a key stable across evaluations."""
    from pipelines.sensors import landing_folder_sensor

    landing = tmp_path / "landing"
    landing.mkdir()
    monkeypatch.setenv("CEI_LANDING", str(landing))
    write_csv(landing / "complaints_2025-02.csv", complaint_rows(3, "2025-02"))
    start = dg.build_sensor_context()
    assert isinstance(landing_folder_sensor(start), dg.SkipReason)  # history: not replayed
    write_csv(landing / "complaints_2025-03.csv", complaint_rows(3))
    ctx1, ctx2 = dg.build_sensor_context(cursor=start.cursor), dg.build_sensor_context(cursor=start.cursor)
    first, again = landing_folder_sensor(ctx1), landing_folder_sensor(ctx2)
    assert isinstance(first, dg.RunRequest) and first.run_key == again.run_key  # stable across evaluations
    assert first.run_config["ops"]["raw__landing_files"]["config"]["landing_dir"] == str(landing)
    assert isinstance(landing_folder_sensor(dg.build_sensor_context(cursor=ctx1.cursor)), dg.SkipReason)
