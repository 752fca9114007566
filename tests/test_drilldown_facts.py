"""Issue 10 point 8: a drill-down that reaches the facts.

At every indicator the value, the target, the median of the scope's regions and the same period last
year; record lists of the records that matter (defined per indicator in
sql/indicators/*_breakdown_members.sql: ``in_focus``) as masked summaries, the first of them on the page
with the total and every one in an XLSX (streamed, formula-safe); a region links to its counties when
their index is stored. Built once per module from a copy of the session's pipeline warehouse in which
personal numbers and a formula were planted where the lists read them (clean.complaints content and
respondent), after the index ran, and county scores were computed for one prefecture (常州 3204).
"""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import PERIOD, SCOPE

PREFECTURE = "320400"  # its counties get index scores in the module's warehouse
PHONE, ID_NUMBER = "13912345678", "32010219900101123X"
FORMULA = '=HYPERLINK("http://x","y")'


@pytest.fixture(scope="module")
def built(pipeline_warehouse, tmp_path_factory):
    from indicators import run_indicators
    from indicators.scores import index_for, write_index_scores
    from reports.drilldown import build_drilldown

    root = tmp_path_factory.mktemp("drilldown_facts")
    wh = pipeline_warehouse.copy(root)
    with duckdb.connect(str(wh)) as c:
        # the open complaints behind 常州's closure rate: personal numbers written in their text (staging
        # masks these; planted after it, the drill-down's own masking must catch them) and a formula as
        # the respondent's name
        open_ids = c.execute(
            """SELECT record_id FROM clean.complaints
               WHERE handling_region_code LIKE '3204%' AND record_type = '投诉' AND accept_decision = '受理'
                 AND closed_at IS NULL AND received_at >= TIMESTAMP '2025-01-01'
                 AND received_at < TIMESTAMP '2025-07-01'
               ORDER BY received_at, record_id LIMIT 3""").fetchall()
        assert len(open_ids) == 3
        ids = [r[0] for r in open_ids]
        c.execute("UPDATE clean.complaints SET content = $t WHERE record_id = $r",
                  {"t": f"联系电话 {PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}，身份证{ID_NUMBER}，商家拒不退款", "r": ids[0]})
        c.execute("UPDATE clean.complaints SET content = $t WHERE record_id = $r",
                  {"t": "很长的一段话" * 9 + PHONE, "r": ids[1]})  # the number sits where the cut falls
        c.execute("UPDATE clean.complaints SET respondent_name = $x WHERE record_id = $r", {"x": FORMULA, "r": ids[2]})
        run_indicators(c, "3204", PERIOD)
        write_index_scores(c, index_for(c, "3204", PERIOD, runs=0))
        c.execute("CHECKPOINT")
    out = root / "out"
    with duckdb.connect(str(wh), read_only=True) as c:
        build_drilldown(c, SCOPE, PERIOD, out, "zh")
    con = duckdb.connect(str(wh), read_only=True)
    yield {"out": out, "dd": out / "drilldown", "con": con, "planted": ids}
    con.close()


def _read(p: Path) -> str:
    return p.read_text(encoding="utf-8")


def _section(page: str, indicator: str) -> str:
    return page.split(f'id="ind-{indicator}"', 1)[1].split("</details>", 1)[0]


def _value(con, indicator, code, period=PERIOD, scope=SCOPE):
    r = con.execute("SELECT value, numerator, denominator FROM mart.indicator_values WHERE scope = $s AND period = $p "
                    "AND indicator_id = $i AND region_code = $c", {"s": scope, "p": period, "i": indicator, "c": code}
                    ).fetchall()
    return r[0] if r else None


# ------------------------------------------------------------------------------- the records that matter
def test_every_record_indicator_says_which_records_matter_following_its_direction(built):
    """in_focus is defined for every complaint and sampling indicator of the spec; for a share it is the
    complement of the numerator when higher is better and the numerator when lower is better."""
    from index_model import default_spec
    from indicators.compute import _prepare_source, install_reference_tables
    from indicators.definitions import definitions
    from indicators.periods import parse_period
    from indicators.sqlfiles import run

    con = duckdb.connect(str(built["out"].parent / "warehouse.duckdb"), read_only=True)
    spec, defs = default_spec(), definitions()
    try:
        install_reference_tables(con, SCOPE)
        for s in ("profile", "complaints", "sampling"):
            _prepare_source(con, s, parse_period(PERIOD))
        checked = 0
        for ind in spec.indicator_ids:
            d = defs[ind]
            if d.source not in ("complaints", "sampling"):
                continue
            run(con, f"{d.source}_breakdown_members.sql", {"indicator_id": ind})
            m = con.execute("SELECT * FROM ind_breakdown_members").df()
            assert len(m) and m["in_focus"].notna().all() and set(m["in_focus"].unique()) <= {0, 1}, ind
            assert 0 < m["in_focus"].sum() < len(m) or d.kind == "per10k", ind
            if d.kind == "share":
                want = m["in_numerator"] if spec.nodes[ind].direction < 0 else 1 - m["in_numerator"]
                assert (m["in_focus"] == want).all(), ind
            elif d.kind == "per10k":
                assert (m["in_focus"] == 1).all(), ind
            elif ind == "median_working_days_to_close":
                med = m.groupby("unit")["wd_to_close"].transform("median")
                assert (m["in_focus"] == (m["wd_to_close"] > med).astype(int)).all()
            elif ind == "money_recovery_ratio":
                assert (m["in_focus"] == (m["amount_recovered"].fillna(0) < m["amount_disputed"]).astype(int)).all()
            checked += 1
        assert checked == 19  # 15 complaint-based, 4 sampling indicators
    finally:
        con.close()


def test_closure_rate_lists_the_open_complaints(built):
    page = _read(built["dd"] / f"region_{PREFECTURE}.html")
    sec = _section(page, "closure_rate")
    value, num, den = _value(built["con"], "closure_rate", PREFECTURE)
    n_open = int(den - num)
    assert n_open > 0
    heading = re.search(r'<h3 class="focus-heading">([^<]*)</h3>', sec).group(1)
    assert "处理期限已过、尚未办结的投诉" in heading and f"共 {n_open:,} 条" in heading and f"全部 {int(den):,} 条" in heading
    rows = re.findall(r"<tr>(.*?)</tr>", sec.split('-focus"', 1)[1].split("</table>", 1)[0], flags=re.S)
    body = [r for r in rows if "<td" in r]
    assert len(body) == min(20, n_open)
    statuses = {re.findall(r"<td[^>]*>(.*?)</td>", r)[5] for r in body}
    assert statuses <= {"已受理、未办结"}, statuses  # never a closed one
    # the full list: every open complaint, in the XLSX the page links
    href = re.search(r'class="focus-xlsx" href="([^"]+)"', sec).group(1)
    from openpyxl import load_workbook

    ws = load_workbook(built["dd"] / href, read_only=True).worksheets[0]
    listed = [r for r in ws.iter_rows(min_row=2, values_only=True)]
    assert len(listed) == n_open
    truth = built["con"].execute(
        """SELECT count(*) FROM clean.complaints c WHERE c.record_id IN (SELECT unnest($ids))""",
        {"ids": [r[0] for r in listed]}).fetchone()[0]
    assert truth == n_open and all(r[5] == "已受理、未办结" for r in listed)


def test_sampling_pass_rate_lists_the_failed_batches(built):
    page = _read(built["dd"] / f"region_{PREFECTURE}.html")
    sec = _section(page, "sampling_pass_rate")
    _, num, den = _value(built["con"], "sampling_pass_rate", PREFECTURE)
    assert f"共 {int(den - num):,} 条" in sec and "不合格批次" in sec
    table = sec.split('-focus"', 1)[1].split("</table>", 1)[0]
    assert "不合格" in table and ">合格<" not in table


# ------------------------------------------------------------------------------------------ facts
def test_value_target_median_and_last_year_at_every_indicator(built):
    from index_model import default_spec
    from reports.drilldown import last_year_key

    assert last_year_key("2025") == "2024" and last_year_key("2025Q3") == "2024Q3" and last_year_key("2025-03") == "2024-03"
    spec = default_spec()
    page = _read(built["dd"] / f"region_{PREFECTURE}.html")
    con = built["con"]
    for ind in ("closure_rate", "sampling_pass_rate", "hotline_first_answer_rate"):
        sec = _section(page, ind)
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", sec.split(f'id="facts-ind-{ind}"', 1)[1].split("</table>", 1)[0])
        value, ly = _value(con, ind, PREFECTURE)[0], _value(con, ind, PREFECTURE, "2024")[0]
        values = con.execute("SELECT value FROM mart.indicator_values WHERE scope = $s AND period = $p AND "
                             "indicator_id = $i", {"s": SCOPE, "p": PERIOD, "i": ind}).df()["value"]
        pct = (lambda v: f"{v * 100:.1f}%")
        assert cells == [pct(value), pct(spec.nodes[ind].target) if spec.nodes[ind].target is not None else "无公布目标",
                         pct(values.median()), pct(ly)], (ind, cells)
    node = _read(built["dd"] / "node_closure_rate.html")
    assert re.search(r'id="fact-target">100.0%<', node) and 'id="fact-median"' in node
    row = node.split(f'data-region="{PREFECTURE}"', 1)[1].split("</tr>", 1)[0]
    assert f"{_value(con, 'closure_rate', PREFECTURE, '2024')[0] * 100:.1f}%" in row


def test_last_year_is_a_dash_when_nothing_is_stored(built):
    from reports.drilldown import facts
    from reports.index_report import load_index_data

    d = load_index_data(built["con"], SCOPE, PERIOD, "zh")
    f = facts(d, "closure_rate", PREFECTURE, {})
    assert f["last_year"] == "—" and f["value"] != "—"


# ------------------------------------------------------------------------------ masking, safety
def test_no_phone_id_or_name_reaches_the_page_or_the_lists(built, pipeline_warehouse):
    page = _read(built["dd"] / f"region_{PREFECTURE}.html")
    sec = _section(page, "closure_rate")
    assert "[手机号码]" in sec and "[证件号码]" in sec  # the planted numbers, masked
    lists = sorted((built["dd"] / "lists").glob("*.xlsx"))
    assert len(lists) > 13 * 10
    from openpyxl import load_workbook

    landing = pipeline_warehouse.landing
    raw = pd.concat([pd.read_csv(p, dtype=str) for p in sorted(landing.rglob("complaints*.csv"))])
    phones, ids = set(raw["complainant_phone"].dropna()), set(raw["complainant_id_number"].dropna())
    names = {n for n in raw["complainant_name"].dropna() if len(n) >= 3}  # two-character names occur in words
    assert phones and ids and names
    texts = [_read(p) for p in sorted(built["dd"].glob("region_*.html"))]
    for p in lists:
        if p.name.startswith(PREFECTURE) or p.name.startswith("320100"):
            wb = load_workbook(p, read_only=True)
            texts.append("\n".join(str(v) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for v in r
                                   if v is not None))
    grams: set[str] = set()  # every 3- and 4-character piece of the text: a name is one of them
    for text in texts:
        digits = re.sub(r"[\s-]", "", text)
        assert PHONE not in digits and ID_NUMBER not in text
        assert not set(re.findall(r"(?<!\d)1[3-9]\d{9}(?!\d)", digits)) & phones
        assert not set(re.findall(r"(?<![0-9A-Z])\d{17}[0-9X](?![0-9A-Z])", text)) & ids
        for run in re.findall(r"[\u4e00-\u9fff]{3,}", text):
            grams.update(run[i:i + k] for k in (3, 4) for i in range(len(run) - k + 1))
    found = names & grams
    assert not found, sorted(found)[:5]


def test_excerpts_are_short_and_the_xlsx_cells_are_text(built):
    from openpyxl import load_workbook

    from reports.drilldown import EXCERPT_CHARS, excerpt

    assert excerpt("a  b\n c") == "a b c" and len(excerpt("字" * 100)) == EXCERPT_CHARS and excerpt("字" * 100).endswith("…")
    path = built["dd"] / "lists" / f"{PREFECTURE}_closure_rate.xlsx"
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    assert header[0] == "投诉举报编号" and header[-1] == "诉求内容摘要（已脱敏）"
    planted = [r for r in ws.iter_rows(min_row=2) if r[0].value in built["planted"]]
    assert len(planted) == 3
    for r in ws.iter_rows(min_row=2):
        assert len(r[-1].value or "") <= EXCERPT_CHARS
        assert r[1].is_date
    formula = [r[8] for r in planted if r[8].value == FORMULA]
    assert formula and formula[0].data_type == "s" and formula[0].quotePrefix
    cut = next(r[-1].value for r in planted if (r[-1].value or "").startswith("很长的一段话"))
    assert not re.search(r"\d{3,}", cut), cut  # a number at the cut is masked, never half shown


# ----------------------------------------------------------------------------------------- counties
def test_a_region_links_to_its_counties(built):
    page = _read(built["dd"] / f"region_{PREFECTURE}.html")
    assert 'id="sec-counties"' in page
    sub = built["dd"] / f"sub_{PREFECTURE}"
    hrefs = re.findall(r'href="(sub_[^"#]+)"', page.split('id="sec-counties"', 1)[1].split("</section>", 1)[0])
    assert f"sub_{PREFECTURE}/index.html" in hrefs
    counties = [h for h in hrefs if "/region_" in h]
    stored = built["con"].execute("SELECT DISTINCT region_code FROM mart.index_scores WHERE scope = '3204' AND "
                                  "period = $p", {"p": PERIOD}).df()["region_code"].astype(str)
    assert sorted(h.split("region_")[1][:6] for h in counties) == sorted(stored)
    for h in hrefs:
        assert (built["dd"] / h).is_file(), h
    county = _read(sub / f"region_{stored.iloc[0]}.html")
    assert 'id="ind-closure_rate"' in county and "plotly.min.js" in county
    assert '"../../plotly.min.js"' in county or "'../../plotly.min.js'" in county
    crumbs = county.split('id="crumbs"', 1)[1].split("</nav>", 1)[0]
    assert f'href="../region_{PREFECTURE}.html"' in crumbs and 'href="../index.html"' in crumbs
    for h in re.findall(r'href="([^"#]+\.(?:html|xlsx|csv))"', county):
        if (sub / h).resolve() == (built["out"] / "index.html").resolve():
            continue  # the report folder's index: build_reports writes it, this module builds the drill-down only
        assert (sub / h).resolve().is_file(), h
    # a region without county scores has no such section
    assert 'id="sec-counties"' not in _read(built["dd"] / "region_320100.html")


def test_the_xlsx_list_is_capped_and_says_how_many_there_are(tmp_path, monkeypatch):
    """A list holds the first LIST_ROWS records that matter, in the page's order, and ends with a line
    giving the total: the per-10k indicators put every complaint of a province in focus, and a million
    openpyxl rows cost minutes per indicator. SQL reads and masks only those rows; n_focus counts all."""
    from openpyxl import load_workbook

    from indicators.sqlfiles import stream
    from ingestion.sqlfiles import install_ingest_macros
    from reports import drilldown

    monkeypatch.setattr(drilldown, "LIST_ROWS", 3)
    con = duckdb.connect()
    install_ingest_macros(con)
    con.execute("""CREATE TEMP TABLE ind_breakdown_members AS
        SELECT CASE WHEN i < 5 THEN '320400' ELSE '320500' END AS unit, 'S' || lpad(i::VARCHAR, 3, '0') AS sample_id,
               DATE '2025-03-01' + i::INT AS sampled_on, '不合格' AS result, '食品' AS product_category,
               '菌落总数 联系13912345678' AS failed_items, 0 AS disposed_on_time, 0 AS disposed_late,
               NULL::INT AS days_to_correction, NULL::INT AS days_to_reinspection, '某厂' AS manufacturer_name,
               '饼干' AS product_name, '甲' AS brand, CASE WHEN i = 6 THEN 0 ELSE 1 END AS in_focus,
               DATE '2025-03-01' + (10 - i)::INT AS sort_on, 'S' || i AS sort_id
        FROM range(8) t(i)""")
    lists = drilldown._FocusLists("sampling", "pass_rate", ["320400", "320500"], 2, tmp_path, "zh")
    heads, counts = lists.write(stream(con, "sampling_breakdown_focus.sql",
                                       {"excerpt_chars": drilldown.EXCERPT_CHARS, "max_rows": drilldown.LIST_ROWS}))
    assert counts == {"320400": 5, "320500": 2}
    assert [r["id"] for r in heads["320400"]] == ["S004", "S003"]  # the page's first, in sort order
    rows = list(load_workbook(tmp_path / "320400_pass_rate.xlsx", read_only=True).worksheets[0].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:4]] == ["S004", "S003", "S002"] and "[手机号码]" in rows[1][4]
    assert len(rows) == 5 and rows[4][0] == ("仅列出前 3 条，共 5 条（排序同页面）；全部记录编号见下钻目录中的 records_320400.csv，"
                                              "完整记录请在数据仓库中按指标查询。")
    rows = list(load_workbook(tmp_path / "320500_pass_rate.xlsx", read_only=True).worksheets[0].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["S007", "S005"]  # not capped: no closing line
    # a provisional report's list starts with the banner, the header frozen below it
    from reports import render

    with render.provisional("临时版本：2025-03 未通过"):
        drilldown._FocusLists("sampling", "pass_rate", ["320500"], 2, tmp_path / "p", "zh").write(
            stream(con, "sampling_breakdown_focus.sql",
                   {"excerpt_chars": drilldown.EXCERPT_CHARS, "max_rows": drilldown.LIST_ROWS}))
    ws = load_workbook(tmp_path / "p" / "320500_pass_rate.xlsx").worksheets[0]
    assert ws["A1"].value == "临时版本：2025-03 未通过" and ws["A2"].font.b and ws.freeze_panes == "A3"
    assert [r[0] for r in ws.iter_rows(min_row=3, values_only=True)] == ["S007", "S005"]
