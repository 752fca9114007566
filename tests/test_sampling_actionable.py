"""Issue 10 point 5: a sampling report a bureau can act on — failure rates by product line with counts
and intervals, worst first by what the data can support; the list of failed batches for 公示 and
清单式督查 with the next disposal step and its deadline, overdue first; no bare "未标注"."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from openpyxl import load_workbook

from reports.sampling_report import ACTION_ORDER, failed_list, product_lines, region_labels, with_failure_rates
from reports.scope import as_scope

AS_OF = dt.date(2025, 12, 31)


def test_failure_rates_have_wilson_intervals():
    d = with_failure_rates(pd.DataFrame({"tested": [64, 1, 0], "failed": [29, 1, 0]}))
    # 29/64: Wilson 95% interval 0.337–0.574 (by hand: centre (p + z²/2n)/(1 + z²/n) = 0.4558, half-width 0.1185)
    assert d.fail_rate[0] == pytest.approx(29 / 64)
    assert d.fail_lo[0] == pytest.approx(0.3373, abs=5e-4) and d.fail_hi[0] == pytest.approx(0.5743, abs=5e-4)
    assert d.fail_lo[1] == pytest.approx(0.2065, abs=5e-4) and d.fail_hi[1] == pytest.approx(1.0)
    assert d.fail_rate.isna()[2] and d.fail_lo.isna()[2]


def test_product_lines_worst_first_by_what_the_counts_support():
    products = pd.DataFrame({
        "product_category": ["家居用品", "玩具", "服装鞋帽", "电器"],
        "product_name": ["家用双层床", "积木", "袜子", "电热毯"],
        "n": [64, 1, 300, 0], "tested": [64, 1, 300, 0], "failed": [29, 1, 30, 0],
        "failed_safety": [20, 1, 0, 0], "failed_label": [12, 0, 30, 0], "failed_manufacturers": [10, 1, 20, 0]})
    lines = product_lines(products)
    # 45 % of 64 (interval 34–57 %) leads; 1 of 1 (100 %, interval 21–100 %) next; 10 % of 300 (7–14 %) last
    assert list(lines.product_name) == ["家用双层床", "积木", "袜子"]  # nothing tested: not a line
    assert lines.fail_lo.is_monotonic_decreasing


def _failed(**over):
    base = dict(sample_id="CJ1", sampled_on=pd.Timestamp("2025-03-01"), region_code="320402", unit_code="320400",
                product_category="家用电子电器", product_name="电热毯", brand="暖牌", seller_name="某商店",
                manufacturer_name="某厂", failed_items="温升、标志", failed_safety_item=True, failed_label_item=True,
                notified_on=pd.Timestamp("2025-03-10"), corrected_on=None, reinspected_on=None, reinspection_result=None,
                correction_status="open_overdue", reinspection_status="open_overdue",
                correction_deadline=pd.Timestamp("2025-05-09"), reinspection_deadline=pd.Timestamp("2025-05-24"))
    base.update(over)
    return base


def test_failed_list_puts_overdue_first_with_days_and_the_next_step():
    rows = pd.DataFrame([
        _failed(sample_id="DONE", correction_status="on_time", reinspection_status="on_time",
                reinspected_on=pd.Timestamp("2025-05-01"), reinspection_result="合格"),
        _failed(sample_id="OPEN", correction_status="open", reinspection_status="open",
                correction_deadline=pd.Timestamp("2026-01-20"), reinspection_deadline=pd.Timestamp("2026-02-04")),
        _failed(sample_id="LATE_SHORT", correction_deadline=pd.Timestamp("2025-12-01")),
        _failed(sample_id="LATE_LONG"),
        _failed(sample_id="REINSP", correction_status="on_time", reinspection_status="open_overdue",
                corrected_on=pd.Timestamp("2025-04-01"), reinspection_deadline=pd.Timestamp("2025-12-21")),
        _failed(sample_id="NO_NOTICE", notified_on=None, correction_status="unknown", reinspection_status="unknown"),
        _failed(sample_id="FAILED_AGAIN", correction_status="on_time", reinspection_status="on_time",
                reinspected_on=pd.Timestamp("2025-05-01"), reinspection_result="不合格"),
    ])
    out = failed_list(rows, as_scope("32"), AS_OF, "zh")
    assert list(out.sample_id) == ["LATE_LONG", "LATE_SHORT", "REINSP", "FAILED_AGAIN", "OPEN", "NO_NOTICE", "DONE"]
    first = out.iloc[0]
    assert first.action == "整改逾期未完成" and first.days_overdue == (AS_OF - dt.date(2025, 5, 9)).days
    assert first.deadline == pd.Timestamp("2025-05-09")
    assert out.set_index("sample_id").at["REINSP", "days_overdue"] == 10
    assert out.set_index("sample_id").at["OPEN", "action"] == "待整改（期限内）"
    assert "缺结果通知日期" in out.set_index("sample_id").at["NO_NOTICE", "action"]  # says why it cannot be judged
    # what a list for 公示 needs, and no code or credit number
    assert first["product"] == "家用电子电器 · 电热毯" and first.brand == "暖牌" and first.manufacturer_name == "某厂"
    assert first.region == "常州市天宁区" and first.failure_kind == "安全与标签均有"
    assert "uscc" not in " ".join(out.columns)
    assert set(out.action_key) <= set(ACTION_ORDER)


def test_region_labels_name_the_prefecture_and_the_county():
    assert region_labels(["320106", "320302", "320400"], ["320100", "320300", "320400"], as_scope("32")) == [
        "南京市鼓楼区", "徐州市鼓楼区", "常州市"]


def test_sampling_page_and_workbook(hostile_reports):
    folder = hostile_reports["zh"]
    text = (folder / "sampling_report.html").read_text(encoding="utf-8")
    for element in ("sec-products", "tbl-fail-products", "fig-fail-products", "sec-failed", "tbl-failed-batches",
                    'href="sampling_failed_batches.xlsx"'):
        assert element in text, element
    assert "95%区间" in text and "家用双层床" in text
    # "未标注" never stands alone: it says what is not flagged
    assert "未标注</td>" not in text and ">未标注<" not in text and "未标明安全或标签类别" in text
    wb = load_workbook(folder / "sampling_failed_batches.xlsx")
    ws = wb.active
    header = [c.value for c in ws[1]]
    assert header[:4] == ["抽样单编号", "抽样日期", "地区", "产品"] and "处置进度" in header and "逾期天数" in header
    assert ws.max_row > 1
    en = (hostile_reports["en"] / "sampling_report.html").read_text(encoding="utf-8")
    assert "Product lines that fail most" in en and "Failed batches" in en


def test_failed_batch_workbook_cells_keep_their_kinds(tmp_path):
    """The failed-batch list is streamed (reports.xlsx_stream), not built as openpyxl cells in memory:
    dates stay dates, whole numbers numbers, missing values blank, text text — formula-like text with the
    quote prefix — and a provisional run's banner comes first."""
    from reports import render
    from reports.sampling_report import write_failed_xlsx

    rows = pd.DataFrame({
        "sample_id": ["=HYPERLINK(\"http://x\")", "S-2"],
        "sampled_on": [dt.date(2025, 3, 4), pd.Timestamp("2025-05-06")],
        "days_overdue": pd.array([12, None], dtype="Int64"),
        "deadline": [None, float("nan")],
    })
    cols = [("sample_id", "抽样单编号"), ("sampled_on", "抽样日期"), ("days_overdue", "逾期天数"),
            ("deadline", "期限"), ("not_in_rows", "备注")]
    path = write_failed_xlsx(rows, cols, tmp_path / "failed.xlsx", "不合格批次")
    ws = load_workbook(path).active
    assert ws.title == "不合格批次" and [c.value for c in ws[1]] == ["抽样单编号", "抽样日期", "逾期天数", "期限", "备注"]
    first, second = ws[2], ws[3]
    assert first[0].value == '=HYPERLINK("http://x")' and first[0].data_type == "s" and first[0].quotePrefix
    assert first[1].is_date and first[1].value.date() == dt.date(2025, 3, 4)
    assert second[1].is_date and second[1].value.date() == dt.date(2025, 5, 6)
    assert first[2].value == 12 and second[2].value is None and first[3].value is None and first[4].value is None
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:E3"
    with render.provisional("临时数据"):
        banner = load_workbook(write_failed_xlsx(rows, cols, tmp_path / "p.xlsx", "不合格批次")).active
    assert banner["A1"].value == "临时数据" and banner["A2"].value == "抽样单编号" and banner.max_row == 4
