"""What the reports of one folder build share (reports.shared_results): a shared query runs once inside a
build, every caller gets its own copy, and nothing is kept outside a build."""
import pandas as pd

from reports.shared_results import shared, sharing

CALLS: list = []


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


def test_a_folder_build_counts_the_kpi_records_once(pipeline_warehouse, tmp_path, monkeypatch):
    """build_reports: the KPI scorecard and the narrative's KPI sentences share one count of the records."""
    from reports import build_reports, kpi_scorecard
    from tests.conftest import PERIOD, SCOPE

    calls = []
    run = kpi_scorecard.run

    def counting(con, name, **kwargs):
        calls.append(name)
        return run(con, name, **kwargs)

    monkeypatch.setattr(kpi_scorecard, "run", counting)
    con = pipeline_warehouse.connect()
    try:
        build_reports(con, SCOPE, PERIOD, tmp_path / "out", "zh")
    finally:
        con.close()
    assert (tmp_path / "out" / "kpi_scorecard.html").is_file() and (tmp_path / "out" / "analysis.html").is_file()
    assert calls.count("kpi_complaint_counts") == 1


def test_a_data_quality_workbook_that_cannot_be_written_fails_the_build(pipeline_warehouse, tmp_path, monkeypatch):
    """dq_report.xlsx failing half-way (the disk fills after its first sheet) fails build_reports with that error,
    and leaves neither the workbook nor its temporary file: never a folder that looks complete without it."""
    import pytest

    from reports import build_reports, xlsx_stream
    from tests.conftest import PERIOD, SCOPE

    add_table = xlsx_stream.StreamingWorkbook.add_table
    sheets: list[str] = []

    def fills_the_disk(self, name, *args, **kwargs):
        if self.path.name == "dq_report.xlsx":  # the record lists and other workbooks are written as usual
            if sheets:
                raise OSError(28, "No space left on device")
            sheets.append(name)
        return add_table(self, name, *args, **kwargs)

    monkeypatch.setattr(xlsx_stream.StreamingWorkbook, "add_table", fills_the_disk)
    con = pipeline_warehouse.connect()
    try:
        with pytest.raises(OSError, match="No space left"):
            build_reports(con, SCOPE, PERIOD, tmp_path / "out", "zh")
    finally:
        con.close()
    assert sheets == ["complaints"]  # the workbook was under way when the disk filled
    assert not (tmp_path / "out" / "dq_report.xlsx").exists()
    assert not list((tmp_path / "out").glob("dq_report.xlsx*"))
