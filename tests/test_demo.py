"""`cei demo` (pipelines/cli.py): generated data with about 1 % injected defects go through the gate, no month
is held back, the demo publishes (exit 0) and its summary prints the findings — defects injected, rows
quarantined per rule (the same numbers as dq.quarantine), the entry units with the highest error rates and
where the data-quality report is."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines.cli import DEMO_DEFECT_RATE, main

pytestmark = pytest.mark.slow


def test_demo_default_defect_rate_is_about_one_percent():
    assert DEMO_DEFECT_RATE == 0.01


def test_demo_shows_the_gate_working_and_publishes(tmp_path, warehouse):
    demo_dir = tmp_path / "demo"
    res = CliRunner().invoke(main, ["--warehouse", str(warehouse), "demo", "--scope", "3204", "--years", "2025",
                                    "--records-per-year", "6000", "--dir", str(demo_dir)])
    out = res.output
    assert res.exit_code == 0, out
    assert "held back" not in out
    injected = int(re.search(r"defects injected \(ground truth\): (\d+)", out).group(1))
    assert injected > 0
    m = re.search(r"  complaints: (\d+) of (\d+) rows quarantined \(([\d.]+)%\)", out)
    quarantined, staged = int(m.group(1)), int(m.group(2))
    assert 0 < quarantined < 0.03 * staged
    assert re.search(r"complaints: .*months over the 10% error-share limit: none", out)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM dq.quarantine WHERE table_name = 'complaints'").fetchall()[0][0] == quarantined
        per_rule = dict(con.execute("SELECT r, count(*) FROM (SELECT unnest(rule_ids) AS r FROM dq.quarantine "
                                    "WHERE table_name = 'complaints') GROUP BY r").fetchall())
    shown = {rule: int(n) for rule, n in re.findall(r"^\s+(CMP-[A-Z]+-\d+)\s+error\s+quarantined (\d+)", out, flags=re.M)}
    assert shown == per_rule
    assert re.search(r"entry units \(录入单位\) with the highest complaint error rate", out)
    named = re.findall(r"^\s+(\S+)（(EU3204\d{4})）\s+\d+\.\d\d%  \(\d+ of \d+ rows\)$", out, flags=re.M)
    assert named and all("市场监督管理局" in name and uid not in name for name, uid in named), named  # names, not ids
    page = Path(re.search(r"data-quality report 2025: (\S+)", out).group(1))
    assert page.is_file() and page.name == "dq_report.html"
