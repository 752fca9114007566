"""What a report folder build shares between its reports (reports.shared_results) and hands to a second
process (reports.background): a failed write fails the build, the provisional banner reaches the worker,
and a shared query runs once inside a build but is never kept outside one."""
import pandas as pd
import pytest
from openpyxl import load_workbook

from reports import background, render
from reports.drilldown import write_list
from reports.shared_results import shared, sharing

CALLS: list = []


def _fail_to_write(path):
    raise OSError(f"disk full writing {path}")


def test_a_failed_background_write_fails_the_block(tmp_path):
    with pytest.raises(OSError, match="disk full"):
        with background.background_writes():
            future = background.write_file(_fail_to_write, tmp_path / "x.xlsx")
            assert future is not None  # handed to the worker, not written here


def test_the_worker_stamps_the_provisional_banner(tmp_path):
    path = tmp_path / "list.xlsx"
    with render.provisional("暂定：2025-12 未通过质量闸门"), background.background_writes():
        background.write_file(write_list, path, "records", ["id", "day"], [["A1", "2025-01-02"]])
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert rows[0][0] == "暂定：2025-12 未通过质量闸门"
    assert rows[1][:2] == ("id", "day") and rows[2][:2] == ("A1", "2025-01-02")


def test_the_caller_waits_when_too_many_writes_are_waiting(tmp_path, monkeypatch):
    monkeypatch.setattr(background, "MAX_WAITING", 1)
    paths = [tmp_path / f"list{i}.xlsx" for i in range(3)]
    with background.background_writes():
        futures = [background.write_file(write_list, p, "records", ["id"], [[f"A{i}"]]) for i, p in enumerate(paths)]
        # each write waited for the one before it: never more than one handed over and not finished
        assert all(f.done() for f in futures[:-1])
    assert [load_workbook(p).active["A2"].value for p in paths] == ["A0", "A1", "A2"]


def test_outside_the_block_the_file_is_written_in_the_caller(tmp_path):
    path = tmp_path / "list.xlsx"
    assert background.write_file(write_list, path, "records", ["id"], [["A1"]]) is None
    assert path.exists()


@shared
def _counts(con, unit):
    CALLS.append(unit)
    return pd.DataFrame({"unit": [unit], "n": [len(CALLS)]})


def test_shared_results_run_once_inside_a_build_and_callers_get_copies():
    CALLS.clear()
    con = object()
    with sharing():
        a = _counts(con, "3201")
        a["n"] = 99  # a caller changing its frame does not change the next caller's
        b = _counts(con, "3201")
        c = _counts(con, "3202")
    assert CALLS == ["3201", "3202"] and b["n"].tolist() == [1]
    # outside a build nothing is kept: a warehouse changed between two calls is read again
    _counts(con, "3201")
    _counts(con, "3201")
    assert CALLS == ["3201", "3202", "3201", "3201"]
    assert c["n"].tolist() == [2]
