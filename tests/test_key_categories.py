"""Issue 10 point 6: lock-on analysis of the five key categories — complaints and sampling side by side
per category, per region and per sub-product, with problem types, online share and change on last
year; categories mapped by reference/data/key_categories.csv (工商消字〔2013〕133号)."""
from __future__ import annotations

import re

import pandas as pd

from reference.categories import KEY_AREAS
from reports.key_categories import same_period_last_year, summary_rows
from reports.periods import parse_period


def test_same_period_last_year():
    assert [same_period_last_year(parse_period(p)).key for p in ("2025", "2025Q2", "2025H1", "2025-03")] == [
        "2024", "2024Q2", "2024H1", "2024-03"]


def test_summary_rows_side_by_side():
    comp = pd.DataFrame({"which": ["cur", "cur", "cur", "prev"], "area": ["交通工具"] * 4,
                         "problem_type": ["质量", "质量", "安全", "质量"], "is_online": [True, False, False, False],
                         "n": [30, 10, 60, 80]})
    samp = pd.DataFrame({"which": ["cur", "prev"], "area": ["交通工具"] * 2, "tested": [40, 50], "failed": [10, 5]})
    (r,) = summary_rows(comp, samp, ["交通工具"], "zh")
    assert r["complaints"] == 100 and r["change"] == "+25.0%" and r["online"] == "30.0%"
    assert r["problems"] == "安全 60%；质量 40%"
    assert r["fail_rate"] == 0.25 and r["fail_ci"] == "14.2–40.2%" and r["fail_change"] == "+15.0"


def test_page_in_the_report_folders(hostile_reports):
    zh = (hostile_reports["zh"] / "key_categories.html").read_text(encoding="utf-8")
    for i, area in enumerate(KEY_AREAS, start=1):
        assert f'id="kc-area-{i}"' in zh and f"<h2>{area}</h2>" in zh
        assert f'id="tbl-kc-regions-{i}"' in zh
    assert 'id="fig-kc-overview"' in zh and 'id="tbl-kc-overview"' in zh
    rows = re.findall(r"<tr>\s*<td>(家用电子电器|服装鞋帽|装饰装修材料|交通工具|有关服务)</td>", zh)
    assert rows[:5] == list(KEY_AREAS)
    assert "未抽检" in zh  # services are not sampled, and the page says so
    assert "比2024年" in zh and "网购占比" in zh
    assert 'id="link-key_categories"' in (hostile_reports["zh"] / "index.html").read_text(encoding="utf-8")
    en = (hostile_reports["en"] / "key_categories.html").read_text(encoding="utf-8")
    assert "Five key categories" in en and "vs 2024" in en
