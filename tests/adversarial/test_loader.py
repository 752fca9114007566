"""Adversarial deliveries against the loader's promises (issue 8, points 3-7 and the temp copies of 10).

- one bad file fails only itself (zero-byte XLSX, truncated Parquet, a CSV named .xlsx), in the
  library, and in the Dagster landing asset (the run fails red after the rest loaded);
- a folder scan lists every file it does not load, with the reason;
- records dated before the first monthly partition or in the future are rejected, the rest go on;
- a re-delivery removes exactly the delivery it supersedes (by load id), wherever its months fall;
- the same records under a new name are not counted twice.

Every test counts the input records independently (csv module / by construction) and checks
records in = loaded + rejected.
"""
from __future__ import annotations

import os
import stat
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pandas as pd
import pytest

from ingestion import loader
from ingestion.loader import FIRST_MONTH, declared_period, expand_paths, ingest_paths
from tests.helpers import complaint_rows, count_csv_records, valid_uscc, write_csv


def raw_count(con, where: str = "TRUE", params: dict | None = None) -> int:
    return con.execute(f"SELECT count(*) FROM raw.complaints WHERE {where}", params or {}).fetchall()[0][0]


def by_month(con, schema: str = "raw") -> dict[str, int]:
    return dict(con.execute(f"SELECT partition_key, count(*) FROM {schema}.complaints GROUP BY 1").fetchall())


def rejects(con, load_id: int | None = None) -> list[tuple]:
    return con.execute("SELECT source_row, stage, reason FROM raw.rejects WHERE $l IS NULL OR load_id = $l "
                       "ORDER BY load_id, source_row", {"l": load_id}).fetchall()


def broken_files(folder: Path) -> dict[str, Path]:
    """The three broken deliveries of issue 8 point 3."""
    zero = folder / "complaints_2025-04.xlsx"
    zero.write_bytes(b"")
    pq = folder / "complaints_2025-05.parquet"
    pd.DataFrame(complaint_rows(30, "2025-05", seed=5), dtype=str).to_parquet(pq, index=False)
    data = pq.read_bytes()
    pq.write_bytes(data[: len(data) // 2])  # truncated in transfer: no footer
    renamed = write_csv(folder / "complaints_2025-06.xlsx", complaint_rows(12, "2025-06", seed=6))  # a CSV named .xlsx
    return {"zero-byte xlsx": zero, "truncated parquet": pq, "csv named xlsx": renamed}


# --- point 3: one bad file fails only itself ------------------------------------------------------

def test_each_broken_file_fails_alone_and_every_other_file_loads(tmp_path, con, warehouse):
    folder = tmp_path / "landing"
    folder.mkdir()
    good1 = write_csv(folder / "complaints_2025-03.csv", complaint_rows(30, "2025-03", seed=3))
    broken = broken_files(folder)
    good2 = write_csv(folder / "complaints_2025-07.csv", complaint_rows(20, "2025-07", seed=7))
    expected = count_csv_records(good1) + count_csv_records(good2)
    assert expected == 50

    results = ingest_paths(con, [folder], warehouse=warehouse)
    status = {Path(r.file).name: r.status for r in results}
    assert status == {"complaints_2025-03.csv": "loaded", "complaints_2025-04.xlsx": "failed",
                      "complaints_2025-05.parquet": "failed", "complaints_2025-06.xlsx": "failed",
                      "complaints_2025-07.csv": "loaded"}
    for r in results:
        if r.status == "failed":
            assert str(r.file) in r.message            # names the file
            assert "\n" not in r.message and len(r.message) <= 400, r.message  # one short line
            assert "Traceback" not in r.message
    assert raw_count(con) == expected and by_month(con, "staging") == {"2025-03": 30, "2025-07": 20}
    log = dict(con.execute("SELECT file_name, status FROM raw.load_log").fetchall())
    assert {log[p.name] for p in broken.values()} == {"failed"} and len(log) == 5

    # the same broken files do not block the next run: retried (and failing alone again), nothing else changes
    again = ingest_paths(con, [folder], warehouse=warehouse)
    assert sorted(r.status for r in again) == ["failed", "failed", "failed", "skipped", "skipped"]
    assert raw_count(con) == expected
    assert con.execute("SELECT count(*) FROM raw.load_log WHERE status = 'failed'").fetchall()[0][0] == 6


@pytest.mark.slow  # 25–80 s: keeps `make test` under 15 minutes; runs in CI with `make test-slow`
def test_a_huge_header_row_gives_a_short_message(tmp_path, con, warehouse):
    f = tmp_path / "complaints_2025-03.csv"
    header = ",".join(f"unknown_column_with_a_long_name_{i:05d}" for i in range(5000))  # ~190,000 characters
    f.write_text(header + "\n" + ",".join("x" for _ in range(5000)) + "\n", encoding="utf-8")
    [r] = ingest_paths(con, [f], warehouse=warehouse)
    assert r.status == "failed" and str(f) in r.message
    assert "\n" not in r.message and len(r.message) <= 400
    stored = con.execute("SELECT message FROM raw.load_log").fetchall()[0][0]
    assert len(stored) <= 400


def test_landing_asset_loads_the_rest_then_fails_red(tmp_path, warehouse):
    from assets.ingest import landing_files
    from pipelines.resources import warehouse_resource

    landing = tmp_path / "landing"
    landing.mkdir()
    write_csv(landing / "complaints_2025-03.csv", complaint_rows(25, "2025-03", seed=3))
    broken_files(landing)
    result = dg.materialize([landing_files], resources={"duckdb": warehouse_resource(str(warehouse))},
                            run_config={"ops": {"raw__landing_files": {"config": {"landing_dir": str(landing)}}}},
                            raise_on_error=False)
    assert result.success is False  # the run is red
    [mat] = result.asset_materializations_for_node("raw__landing_files")  # but what loaded is recorded
    assert mat.metadata["files_loaded"].value == 1 and mat.metadata["files_failed"].value == 3
    assert mat.metadata["rows_raw"].value == 25
    assert mat.metadata["partitions"].value == {"complaints": ["2025-03"]}
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert "3 delivered file(s) refused" in failure.event_specific_data.error.message
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert raw_count(con) == 25  # rows loaded stay loaded
        assert con.execute("SELECT count(*) FROM raw.load_log WHERE status = 'failed'").fetchall()[0][0] == 3


# --- point 4: a folder scan never skips a delivery silently -------------------------------------

def test_folder_scan_lists_every_file_it_does_not_load(tmp_path):
    folder = tmp_path / "landing"
    (folder / "sub").mkdir(parents=True)
    (folder / ".git").mkdir()
    deliveries = [write_csv(folder / "complaints_2025-03.csv", complaint_rows(3)),
                  write_csv(folder / "sub" / "complaints_2025-04.txt", complaint_rows(3, "2025-04"))]
    for name in ("ground_truth_defects.csv", "region_traits.csv", "manifest.json", ".DS_Store", "~$complaints.xlsx",
                 ".git/config", "notes.docx", "complaints_2025-05.xls", "extract.json"):
        (folder / name).write_bytes(b"x")
    scan = expand_paths([folder])
    assert scan.files == sorted(deliveries)
    reasons = {p.path.relative_to(folder).as_posix(): (p.refused, p.reason) for p in scan.not_loaded}
    assert set(reasons) == {"ground_truth_defects.csv", "region_traits.csv", "manifest.json", ".DS_Store",
                            "~$complaints.xlsx", ".git/config", "notes.docx", "complaints_2025-05.xls", "extract.json"}
    not_refused = {k for k, (refused, _) in reasons.items() if not refused}
    assert not_refused == {"ground_truth_defects.csv", "region_traits.csv", "manifest.json", ".DS_Store",
                           "~$complaints.xlsx", ".git/config"}
    assert "generator metadata" in reasons["manifest.json"][1] and "lock file" in reasons["~$complaints.xlsx"][1]
    assert "hidden" in reasons[".git/config"][1]
    assert ".docx" in reasons["notes.docx"][1] and ".json" in reasons["extract.json"][1]
    assert "xlsx" in reasons["complaints_2025-05.xls"][1].lower()  # says how to convert


def test_refused_files_are_logged_and_the_rest_loads(tmp_path, con, warehouse):
    folder = tmp_path / "landing"
    folder.mkdir()
    good = write_csv(folder / "complaints_2025-03.csv", complaint_rows(17))
    (folder / "ground_truth_defects.csv").write_text("file,record_id,family\n", encoding="utf-8")
    (folder / "complaints_2025-04.xls").write_bytes(b"\xd0\xcf\x11\xe0 old excel")
    results = ingest_paths(con, [folder], warehouse=warehouse)
    status = {Path(r.file).name: r.status for r in results}
    assert status == {"ground_truth_defects.csv": "ignored", "complaints_2025-04.xls": "failed",
                      "complaints_2025-03.csv": "loaded"}
    assert raw_count(con) == count_csv_records(good) == 17
    log = con.execute("SELECT file_name, status FROM raw.load_log ORDER BY load_id").fetchall()
    assert log == [("complaints_2025-04.xls", "failed"), ("complaints_2025-03.csv", "loaded")]


# --- point 5: out-of-range dates never stall the pipeline ---------------------------------------

def _dated(rows: list[dict], dates: list[str]) -> list[dict]:
    for r, d in zip(rows, dates):
        r["received_at"], r["accepted_at"] = d, ""
    return rows


def test_records_before_the_first_partition_or_in_the_future_are_rejected(tmp_path, con, warehouse):
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    next_year = f"{today.year + 1}-{today.month:02d}-01 10:00:00"
    tomorrow = (today + timedelta(days=1)).isoformat()
    rows = complaint_rows(14, "2025-03", seed=11)
    _dated(rows[10:], ["1900-01-01", "2018-12-31 23:59:59", next_year, tomorrow])
    rows[9]["received_at"] = f"{FIRST_MONTH}-01 00:00:00"  # the first day of the first partition is fine
    f = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    [r] = ingest_paths(con, [f], warehouse=warehouse)
    assert r.status == "loaded" and count_csv_records(f) == 14
    assert (r.rows_read, r.rows_raw, r.rows_staged, r.rows_rejected) == (14, 10, 10, 4)
    assert r.partitions == [FIRST_MONTH, "2025-03"]
    got = rejects(con)
    assert [x[0] for x in got] == [11, 12, 13, 14] and {x[1] for x in got} == {"read"}
    assert "1900-01-01" in got[0][2] and "before the first monthly partition 2019-01" in got[0][2]
    assert "2018-12-31" in got[1][2] and "before the first monthly partition" in got[1][2]
    assert next_year[:10] in got[2][2] and "in the future" in got[2][2]
    assert tomorrow in got[3][2] and "in the future" in got[3][2]
    assert by_month(con) == {FIRST_MONTH: 1, "2025-03": 9}


def test_first_month_matches_the_dagster_partitions():
    from pipelines.partitions import monthly_partitions

    assert monthly_partitions.get_first_partition_key()[:7] == FIRST_MONTH


# --- point 6: re-delivery replaces exactly what it supersedes -----------------------------------

@pytest.mark.parametrize("name,period", [("complaints_2025-03.csv", "2025-03"), ("complaints_2025-03_v2.csv", "2025-03"),
                                         ("complaints_202503(1).xlsx", "2025-03"), ("投诉_2025年3月.csv", "2025-03"),
                                         ("hotline_stats_2025.parquet", "2025"), ("march_fix.csv", "")])
def test_declared_period_from_the_file_name(name, period):
    assert declared_period(Path(name)) == period


def test_march_v2_with_late_february_records_leaves_february_in_place(tmp_path, con, warehouse):
    feb = write_csv(tmp_path / "complaints_2025-02.csv", complaint_rows(20, "2025-02", seed=2))
    mar = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(30, "2025-03", seed=3))
    first = ingest_paths(con, [feb, mar], warehouse=warehouse)
    feb_load, mar_load = (r.load_id for r in first)
    assert by_month(con) == {"2025-02": 20, "2025-03": 30}

    late = complaint_rows(3, "2025-02", seed=42)  # three late February records, new to the warehouse
    v2 = write_csv(tmp_path / "complaints_2025-03_v2.csv", complaint_rows(30, "2025-03", seed=3)[:25] + late)
    [r] = ingest_paths(con, [v2], warehouse=warehouse)
    assert r.status == "loaded" and r.superseded == [mar_load] and r.rows_replaced == 30
    assert r.partitions == ["2025-02", "2025-03"] and r.touched_partitions == ["2025-02", "2025-03"]
    assert by_month(con) == {"2025-02": 23, "2025-03": 25}
    assert raw_count(con, "load_id = $l", {"l": feb_load}) == 20  # February's own delivery untouched
    assert by_month(con, "staging") == {"2025-02": 23, "2025-03": 25}
    assert con.execute("SELECT status, superseded_by FROM raw.load_log WHERE load_id = $l",
                       {"l": mar_load}).fetchall() == [("replaced", r.load_id)]

    # v3 drops the late records: the v2 rows leave February too (wherever their months fall)
    v3 = write_csv(tmp_path / "complaints_2025-03_v3.csv", complaint_rows(30, "2025-03", seed=3)[:28])
    [r3] = ingest_paths(con, [v3], warehouse=warehouse)
    assert r3.superseded == [r.load_id] and r3.rows_replaced == 28
    assert r3.partitions == ["2025-03"] and r3.touched_partitions == ["2025-02", "2025-03"]  # February re-gated
    assert by_month(con) == by_month(con, "staging") == {"2025-02": 20, "2025-03": 28}


def test_redelivery_does_not_touch_another_feeds_rows_for_the_same_month(tmp_path, con, warehouse):
    """Issue 13: "re-delivery also deletes another feed's rows for the same months" must go red."""
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    a_dir.mkdir(), b_dir.mkdir()
    a1 = write_csv(a_dir / "complaints_2025-03.csv", complaint_rows(30, "2025-03", seed=3))
    b1 = write_csv(b_dir / "complaints_2025-03.csv", complaint_rows(17, "2025-03", seed=8))
    ingest_paths(con, [a1], warehouse=warehouse)
    [rb] = ingest_paths(con, [b1], warehouse=warehouse, source_id="bureau_b")
    assert rb.status == "loaded" and rb.superseded == []  # another feed's March is not a re-delivery
    assert raw_count(con, "source_id = 'bureau_b'") == 17 and raw_count(con) == 47

    a2 = write_csv(a_dir / "complaints_2025-03_v2.csv", complaint_rows(30, "2025-03", seed=3)[:21])
    [ra] = ingest_paths(con, [a2], warehouse=warehouse)
    assert ra.rows_replaced == 30
    assert raw_count(con, "source_id = 'bureau_b'") == 17  # exactly unchanged
    assert raw_count(con, "load_id = $l", {"l": rb.load_id}) == 17
    assert con.execute("SELECT count(*) FROM staging.complaints WHERE source_id = 'bureau_b'").fetchall()[0][0] == 17
    assert raw_count(con) == 38


def test_reloading_a_superseded_file_is_refused_naming_its_successor(tmp_path, con, warehouse):
    v1 = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(12))
    v2 = write_csv(tmp_path / "complaints_2025-03_v2.csv", complaint_rows(12)[:10])
    ingest_paths(con, [v1, v2], warehouse=warehouse)
    [again] = ingest_paths(con, [v1], warehouse=warehouse)
    assert again.status == "skipped"
    assert "superseded by" in again.message and "complaints_2025-03_v2.csv" in again.message
    assert raw_count(con) == 10


def test_explicit_supersedes_names_the_earlier_delivery(tmp_path, con, warehouse):
    feb = write_csv(tmp_path / "complaints_2025-02.csv", complaint_rows(9, "2025-02", seed=2))
    old = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(12))
    ingest_paths(con, [feb, old], warehouse=warehouse)
    fix = write_csv(tmp_path / "march_fix.csv", complaint_rows(12)[:7])  # no period in its name
    [r] = ingest_paths(con, [fix], warehouse=warehouse, supersedes=old.name)
    assert r.status == "loaded" and r.rows_replaced == 12
    assert by_month(con) == {"2025-02": 9, "2025-03": 7}
    bad = write_csv(tmp_path / "another_fix.csv", complaint_rows(5, seed=5))
    [r2] = ingest_paths(con, [bad], warehouse=warehouse, supersedes="no_such_delivery.csv")
    assert r2.status == "failed" and "no loaded delivery" in r2.message
    assert by_month(con) == {"2025-02": 9, "2025-03": 7}


def test_load_log_migration_is_idempotent_on_an_existing_warehouse(tmp_path):
    wh = tmp_path / "old.duckdb"
    with duckdb.connect(str(wh)) as con:  # raw.load_log as warehouses created before superseded_by had it
        con.execute("CREATE SCHEMA raw; CREATE SEQUENCE raw.load_id_seq START 1")
        con.execute("""CREATE TABLE raw.load_log (load_id BIGINT PRIMARY KEY, source_file VARCHAR NOT NULL,
            file_name VARCHAR NOT NULL, source_sha256 VARCHAR NOT NULL, table_name VARCHAR, source_id VARCHAR,
            file_format VARCHAR, encoding VARCHAR, header_map VARCHAR, partitions VARCHAR[], rows_read BIGINT,
            rows_raw BIGINT, rows_staged BIGINT, rows_rejected BIGINT, rows_replaced BIGINT, status VARCHAR NOT NULL,
            message VARCHAR, loaded_at TIMESTAMP NOT NULL)""")
        con.execute("INSERT INTO raw.load_log VALUES (1, 'a.csv', 'a.csv', 'x', 'complaints', 'a', 'csv', 'utf-8', NULL, "
                    "['2025-03'], 1, 1, 1, 0, 0, 'loaded', '', TIMESTAMP '2025-04-01 00:00:00')")
        for _ in range(2):
            loader.open_warehouse(con)
        cols = [r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = 'raw' "
                                          "AND table_name = 'load_log' ORDER BY column_index").fetchall()]
        assert cols[-2:] == ["declared_period", "superseded_by"]
        assert con.execute("SELECT load_id, status, superseded_by FROM raw.load_log").fetchall() == [(1, "loaded", None)]


def test_a_redelivery_supersedes_a_load_logged_before_the_migration(tmp_path, warehouse):
    with duckdb.connect(str(warehouse)) as con:
        v1 = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(12))
        ingest_paths(con, [v1], warehouse=warehouse)
        con.execute("UPDATE raw.load_log SET declared_period = NULL")  # as an older version logged it
    with duckdb.connect(str(warehouse)) as con:
        v2 = write_csv(tmp_path / "complaints_2025-03_v2.csv", complaint_rows(12)[:9])
        [r] = ingest_paths(con, [v2], warehouse=warehouse)
        assert r.superseded == [1] and raw_count(con) == 9
        assert con.execute("SELECT declared_period FROM raw.load_log ORDER BY load_id").fetchall() == [("2025-03",), ("2025-03",)]


# --- point 7: the same records under a new name are not counted twice ---------------------------

def test_same_records_under_a_new_name_are_a_redelivery_not_a_second_count(tmp_path, con, warehouse):
    rows = complaint_rows(1618, "2025-01", seed=1)
    jan = write_csv(tmp_path / "complaints_2025-01.csv", rows)
    [first] = ingest_paths(con, [jan], warehouse=warehouse)
    copy = tmp_path / "export_from_the_other_system.csv"  # other bytes (GB18030), same records
    write_csv(copy, rows, encoding="gb18030")
    [r] = ingest_paths(con, [copy], warehouse=warehouse)
    assert r.status == "loaded"
    assert "1,618 of 1,618 records already loaded from complaints_2025-01.csv" in r.message
    assert r.superseded == [first.load_id]
    assert raw_count(con) == 1618 and by_month(con, "staging") == {"2025-01": 1618}


def test_repeated_records_inside_a_new_file_are_rejected_with_the_reason(tmp_path, con, warehouse):
    jan_rows = complaint_rows(40, "2025-01", seed=1)
    jan = write_csv(tmp_path / "complaints_2025-01.csv", jan_rows)
    ingest_paths(con, [jan], warehouse=warehouse)
    mixed = write_csv(tmp_path / "extra_2025-01.csv", jan_rows[:10] + complaint_rows(5, "2025-01", seed=9))
    [r] = ingest_paths(con, [mixed], warehouse=warehouse)
    assert count_csv_records(mixed) == 15
    assert (r.rows_read, r.rows_raw, r.rows_staged, r.rows_rejected, r.rows_duplicate) == (15, 5, 5, 10, 10)
    assert "10 of 15 records already loaded from complaints_2025-01.csv" in r.message
    got = rejects(con, r.load_id)
    assert [x[0] for x in got] == list(range(1, 11)) and {x[1] for x in got} == {"duplicate"}
    assert got[0][2].startswith("already loaded from complaints_2025-01.csv, row 1 ")
    assert raw_count(con) == 45 and by_month(con, "staging") == {"2025-01": 45}


def test_same_record_id_with_other_content_in_two_live_deliveries_has_one_survivor(tmp_path, con, warehouse):
    from data_quality.gate import run_gate

    uscc = valid_uscc()
    rows = complaint_rows(10, "2025-03", seed=3, uscc=uscc)
    a = write_csv(tmp_path / "complaints_2025-03.csv", rows)
    changed = {**rows[4], "amount_disputed": "777.00"}  # same record id, other content, another feed
    b = write_csv(tmp_path / "transfers_2025-03.csv", [changed] + complaint_rows(3, "2025-03", seed=4, uscc=uscc))
    results = ingest_paths(con, [a, b], warehouse=warehouse)
    assert [r.rows_raw for r in results] == [10, 4] and results[1].superseded == []
    survivors = []
    for _ in range(2):  # deterministic: the same survivor on every gate run
        run_gate(con, "complaints", ["2025-03"])
        survivors.append(con.execute("SELECT load_id, amount_disputed FROM clean.complaints WHERE record_id = $r",
                                     {"r": rows[4]["record_id"]}).fetchall())
        quarantined = con.execute("SELECT rule_ids FROM dq.quarantine WHERE record_key = $r",
                                  {"r": rows[4]["record_id"]}).fetchall()
        assert len(quarantined) == 1 and "CMP-DUP-001" in quarantined[0][0]
    assert len(survivors[0]) == 1 and survivors[0] == survivors[1]
    staged = con.execute("SELECT count(*) FROM staging.complaints").fetchall()[0][0]
    clean, quar = con.execute("SELECT (SELECT count(*) FROM clean.complaints), (SELECT count(*) FROM dq.quarantine)").fetchall()[0]
    assert staged == 14 and clean + quar == 14


# --- point 10 (temporary decoded copies) ----------------------------------------------------------

def test_decoded_copies_live_beside_the_warehouse_private_and_are_removed(tmp_path, con, warehouse, monkeypatch):
    import tempfile

    seen = []
    real_mkstemp = tempfile.mkstemp

    def spy(*args, **kwargs):
        fd, name = real_mkstemp(*args, **kwargs)
        seen.append((Path(name), stat.S_IMODE(os.stat(name).st_mode), stat.S_IMODE(os.stat(Path(name).parent).st_mode)))
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    root = warehouse.parent / ".cei_tmp"
    root.mkdir()
    stale = root / "cei_ingest_999999999_x"  # a killed run's leftovers (no such process)
    stale.mkdir()
    (stale / "decoded.csv").write_text("personal data", encoding="utf-8")
    f = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(8), encoding="gb18030")
    [r] = ingest_paths(con, [f], warehouse=warehouse)
    assert r.status == "loaded" and r.encoding == "gb18030" and r.rows_raw == 8
    assert seen, "a GB18030 file is transcoded into a temp copy"
    for path, file_mode, dir_mode in seen:
        assert path.parent.parent == root and path.parent.name.startswith(f"cei_ingest_{os.getpid()}_")
        assert file_mode == 0o600 and dir_mode == 0o700
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    assert list(root.iterdir()) == []  # own copies removed, the killed run's leftovers too


def test_temp_copies_are_removed_when_the_load_fails_or_is_interrupted(tmp_path, con, warehouse, monkeypatch):
    root = warehouse.parent / ".cei_tmp"
    f = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(8), encoding="gb18030")

    def broken(*args, **kwargs):
        raise duckdb.ConversionException("simulated failure inside the load")

    monkeypatch.setattr(loader, "_load_batch", broken)
    [r] = ingest_paths(con, [f], warehouse=warehouse)
    assert r.status == "failed" and "simulated failure" in r.message
    assert list(root.iterdir()) == []

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(loader, "_load_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest_paths(con, [f], warehouse=warehouse)
    assert list(root.iterdir()) == []
    assert raw_count(con) == 0


@pytest.mark.parametrize("name,version", [("complaints_2025-03.csv", 0), ("complaints_2025-03_v2.csv", 2),
                                          ("complaints_2025-03_v10.csv", 10), ("complaints_2025-03(1).csv", 1),
                                          ("complaints_2025-03_重报.csv", 1), ("gov2025_complaints.csv", 0)])
def test_delivery_version_from_the_file_name(name, version):
    assert loader.delivery_version(Path(name)) == version


def test_originals_load_before_their_redeliveries_and_a_late_older_version_does_not_replace(tmp_path, con, warehouse):
    folder = tmp_path / "landing"
    folder.mkdir()
    rows = complaint_rows(12)
    # "(" sorts before "." and "_v10" before "_v2": plain name order would load the re-deliveries first
    write_csv(folder / "complaints_2025-03(1).csv", rows[:11])
    write_csv(folder / "complaints_2025-03_v10.csv", rows[:8])
    write_csv(folder / "complaints_2025-03_v2.csv", rows[:9])
    write_csv(folder / "complaints_2025-03.csv", rows)
    results = ingest_paths(con, [folder], warehouse=warehouse)
    assert [Path(r.file).name for r in results] == ["complaints_2025-03.csv", "complaints_2025-03(1).csv",
                                                    "complaints_2025-03_v2.csv", "complaints_2025-03_v10.csv"]
    assert [r.status for r in results] == ["loaded"] * 4 and raw_count(con) == 8  # v10 is the live one
    v3 = write_csv(tmp_path / "complaints_2025-03_v3.csv", rows[:5])  # arrives late, older than v10
    [r] = ingest_paths(con, [v3], warehouse=warehouse)
    assert r.status == "skipped" and "older version of complaints_2025-03_v10.csv" in r.message
    assert raw_count(con) == 8
    [forced] = ingest_paths(con, [v3], warehouse=warehouse, supersedes="complaints_2025-03_v10.csv")
    assert forced.status == "loaded" and raw_count(con) == 5


def test_landing_asset_reports_the_superseded_deliverys_months_for_regating(tmp_path, warehouse):
    from assets.ingest import landing_files
    from pipelines.resources import warehouse_resource

    landing = tmp_path / "landing"
    landing.mkdir()
    resources = {"duckdb": warehouse_resource(str(warehouse))}
    config = {"ops": {"raw__landing_files": {"config": {"landing_dir": str(landing)}}}}
    march = complaint_rows(30, "2025-03", seed=3)
    write_csv(landing / "complaints_2025-03.csv", march[:20] + complaint_rows(3, "2025-02", seed=42))
    first = dg.materialize([landing_files], resources=resources, run_config=config)
    assert first.asset_materializations_for_node("raw__landing_files")[0].metadata["partitions"].value == {
        "complaints": ["2025-02", "2025-03"]}
    write_csv(landing / "complaints_2025-03_v2.csv", march)  # no February records any more
    second = dg.materialize([landing_files], resources=resources, run_config=config)
    meta = second.asset_materializations_for_node("raw__landing_files")[0].metadata
    assert meta["partitions"].value == {"complaints": ["2025-02", "2025-03"]}  # February must be restaged and re-gated
    assert meta["rows_replaced"].value == 23 and meta["rows_raw"].value == 30
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert by_month(con) == {"2025-03": 30}


def test_a_warehouse_kept_in_the_landing_folder_is_not_a_refused_delivery(tmp_path, monkeypatch):
    monkeypatch.setenv("CEI_PII_KEY", "test-key-0123456789abcdef0123456789abcdef")
    landing = tmp_path / "landing"
    landing.mkdir()
    write_csv(landing / "complaints_2025-03.csv", complaint_rows(6))
    wh = landing / "warehouse.duckdb"
    with duckdb.connect(str(wh)) as con:
        results = ingest_paths(con, [landing], warehouse=wh)
    status = {Path(r.file).name: (r.status, r.message) for r in results}
    assert status["complaints_2025-03.csv"][0] == "loaded"
    assert status["warehouse.duckdb"] == ("ignored", "the warehouse's own file, not a delivery")
    assert all(r.status != "failed" for r in results)


def test_an_interrupt_right_after_the_temp_folder_is_made_leaves_nothing_behind(tmp_path, con, warehouse, monkeypatch):
    """CI caught this race: SIGTERM landed between mkdtemp and the try that removes its folder, and a
    `cei_ingest_<pid>_*` folder (meant for decoded personal data) stayed after exit 130."""
    root = warehouse.parent / ".cei_tmp"
    f = write_csv(tmp_path / "complaints_2025-03.csv", complaint_rows(8), encoding="gb18030")
    real = loader._private_tmp_dir

    def made_then_interrupted(workdir):
        real(workdir)
        raise KeyboardInterrupt

    monkeypatch.setattr(loader, "_private_tmp_dir", made_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest_paths(con, [f], warehouse=warehouse)
    assert list(root.iterdir()) == []
    assert raw_count(con) == 0
