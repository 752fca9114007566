"""The index outputs (DESIGN §5.1–5.3): ranked index report (HTML + XLSX), drill-down, dashboard.

Built from the session's generated province (tests/conftest.py ``pipeline_warehouse``: the synthetic
generator, province 32, 2024–2025, through ``pipelines.runner.run_pipeline``: ingest -> quality ->
indicators -> index -> reports) and ``hostile_reports``: a copy of it with a hostile respondent name
planted in clean.complaints (after the index ran, so no value changes) and a hostile region name
planted through ``reports.index_report.region_names``, reports built by ``cei report`` in zh and en:
``<script>alert(1)</script>`` must show as text everywhere. tests/test_browser.py opens the same folders.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.conftest import PERIOD, SCOPE, XSS, XSS_ESCAPED, XSS_REGION
from tests.helpers import page_script_bodies


@pytest.fixture(scope="module")
def hostile_con(hostile_reports):
    """Read-only connection to the warehouse copy the hostile report folders were built from."""
    c = duckdb.connect(str(hostile_reports["wh"]), read_only=True)
    yield c
    c.close()


def _read(p: Path) -> str:
    return p.read_text(encoding="utf-8")


def _pages(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.html"))


# ----------------------------------------------------------------------------------- the folder
def test_pipeline_builds_the_index_outputs(pipeline_warehouse):
    for period in ("2024", "2025"):
        folder = pipeline_warehouse.reports_dir / f"{SCOPE}_{period}"
        for f in ("index_report.html", "index_report.xlsx", "dashboard.html", "drilldown/index.html"):
            assert (folder / f).is_file(), (period, f)
        idx = _read(folder / "index.html")
        for key in ("index_report", "drilldown", "dashboard"):
            assert f'id="link-{key}"' in idx
        assert 'href="index_report.xlsx"' in idx


def test_pages_exist_and_page_count_is_sane(hostile_reports):
    from index_model import default_spec

    spec = default_spec()
    for lang in ("zh", "en"):
        folder = hostile_reports[lang]
        dd = folder / "drilldown"
        assert (folder / "index_report.html").is_file() and (folder / "index_report.xlsx").is_file()
        assert (folder / "dashboard.html").is_file() and (dd / "index.html").is_file()
        nodes = sorted(p.name for p in dd.glob("node_*.html"))
        assert nodes == sorted(f"node_{n}.html" for n in spec.preorder[1:])  # every dimension, sub-dimension, indicator
        regions = sorted(p.name for p in dd.glob("region_*.html"))
        assert len(regions) == 13 and f"region_{XSS_REGION}.html" in regions  # Jiangsu's 13 prefectures
        assert len(list(dd.glob("records_*.csv"))) == 13
        assert (folder / "dq_report.html").is_file()  # the gate ran on this warehouse
        assert (folder / "key_categories.html").is_file()  # the five key categories side by side
        # index page, 3 clean-data reports, DQ report, index report, dashboard, drill-down overview, nodes, regions,
        # the narrative analysis, the key categories
        assert len(_pages(folder)) == 5 + 2 + 1 + len(nodes) + len(regions) + 1 + 1


def test_exactly_one_plotly_js_and_nothing_remote(hostile_reports):
    for lang in ("zh", "en"):
        folder = hostile_reports[lang]
        js = list(folder.rglob("*.js"))
        assert [p.relative_to(folder).as_posix() for p in js] == ["plotly.min.js"]
        for page in _pages(folder):
            text = _read(page)
            srcs = re.findall(r"<script[^>]*\bsrc\s*=\s*[\"']?([^\"' >]+)", text, flags=re.I)
            depth = len(page.relative_to(folder).parts) - 1
            if page.name != "index.html" or depth:
                assert srcs == ["../" * depth + "plotly.min.js"], (page, srcs)  # once per page, relative
            assert not any("://" in s for s in srcs), (page, srcs)
            assert not re.search(r"<link[^>]+href=[\"']?https?://", text), page
            assert not re.search(r"\b(src|href)=[\"']?(https?:)?//", text), page


def test_every_link_resolves_to_a_file(hostile_reports):
    for lang in ("zh", "en"):
        folder = hostile_reports[lang]
        for page in _pages(folder):
            text = _read(page)
            ids = set(re.findall(r'\bid="([^"]+)"', text))
            for href in re.findall(r'\bhref="([^"]*)"', text):
                assert "://" not in href and not href.startswith("//"), (page, href)
                target, _, frag = href.partition("#")
                if not target:
                    assert frag in ids, (page, href)  # in-page anchor
                    continue
                resolved = (page.parent / target).resolve()
                assert resolved.is_file(), (page.relative_to(folder), href)
                if frag and resolved.suffix == ".html":
                    assert f'id="{frag}"' in _read(resolved), (page.relative_to(folder), href)
            # the click-through targets carried in the figures' customdata exist too (plotly writes / as \u002f)
            for target in set(re.findall(r'"((?:drilldown/)?(?:node|region)_[A-Za-z0-9_]+\.html)(?:#[A-Za-z0-9_-]+)?"',
                                         text.replace("\\u002f", "/"))):
                assert (page.parent / target).resolve().is_file(), (page.relative_to(folder), target)


def test_sunburst_segments_lead_to_the_node_pages(hostile_reports):
    text = _read(hostile_reports["zh"] / "drilldown" / "index.html")
    assert "plotly_sunburstclick" in text and 'id="fig-hierarchy-sunburst"' in text
    from index_model import default_spec

    for n in default_spec().preorder[1:]:
        assert f'"node_{n}.html"' in text, n  # customdata of the segment
    assert '"index.html"' in text  # the centre goes back to the overview
    dash = _read(hostile_reports["zh"] / "dashboard.html").replace("\\u002f", "/")
    assert '"drilldown/node_safety.html"' in dash and '"drilldown/region_320200.html"' in dash


# ----------------------------------------------------------------------------------- XSS / privacy
def test_hostile_strings_show_as_text_everywhere(hostile_reports):
    for lang in ("zh", "en"):
        folder = hostile_reports[lang]
        for page in _pages(folder):
            text = _read(page)
            assert XSS not in text, page
            for body in page_script_bodies(text):
                assert body.strip() == "" or ("Plotly.newPlot" in body and "<" not in body), (page, body[:200])
            outside = re.sub(r"<script[^>]*>.*?</script>", "", text, flags=re.S | re.I)
            assert not re.search(r"<(img|iframe|object|embed)\b", outside, flags=re.I), page
        # the hostile region name is escaped text in the tables and plotly-escaped inside figures
        for name in ("index_report.html", "drilldown/index.html", f"drilldown/region_{XSS_REGION}.html",
                     "drilldown/node_safety.html"):
            assert XSS_ESCAPED in _read(folder / name), name
        dash = _read(folder / "dashboard.html")
        assert "&lt;script&gt;alert(1)&lt;\\u002fscript&gt;" in dash  # plot_text, then plotly's JSON
        # the hostile respondent (clean.complaints) in the closure-rate breakdown of its region
        region = _read(folder / "drilldown" / f"region_{XSS_REGION}.html")
        sec = region.split('id="ind-closure_rate"', 1)[1].split("</details>", 1)[0]
        assert XSS_ESCAPED in sec


def test_xlsx_keeps_hostile_strings_as_text(hostile_reports):
    from openpyxl import load_workbook

    wb = load_workbook(hostile_reports["zh"] / "index_report.xlsx")
    ws = wb["综合指数"]
    names = [ws.cell(row=r, column=2).value for r in range(2, ws.max_row + 1)]
    assert XSS in names
    cell = next(ws.cell(row=r, column=2) for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=2).value == XSS)
    assert cell.data_type == "s"


def test_no_personal_data_in_any_output(hostile_reports, pipeline_warehouse):
    landing = pipeline_warehouse.landing
    frames = [pd.read_csv(p, dtype=str) for p in sorted(landing.rglob("complaints*.csv"))]
    assert frames, "generator wrote no complaint CSV"
    df = pd.concat(frames)
    phones = set(df["complainant_phone"].dropna()) if "complainant_phone" in df else set()
    ids = set(df["complainant_id_number"].dropna()) if "complainant_id_number" in df else set()
    assert phones and ids
    folder = hostile_reports["zh"]
    files = _pages(folder) + list(folder.rglob("*.csv"))
    for f in files:
        text = f.read_text(encoding="utf-8-sig")
        assert not set(re.findall(r"(?<!\d)1[3-9]\d{9}(?!\d)", text)) & phones, f
        assert not set(re.findall(r"(?<![0-9A-Z])\d{17}[0-9X](?![0-9A-Z])", text)) & ids, f
        assert "complainant" not in text.lower(), f


# ----------------------------------------------------------------------------------- content
def test_index_report_content(hostile_reports, hostile_con):
    from indicators.scores import ranking_table

    folder = hostile_reports["zh"]
    text = _read(folder / "index_report.html")
    for element in ("tbl-ranking", "fig-rank-uncertainty", "fig-ranking", "fig-dimension-heatmap", "tbl-strengths",
                    "tbl-hierarchy", "tbl-method-choices", "tbl-indicator-definitions", "sec-method", 'href="index_report.xlsx"',
                    'data-report="index_report"'):
        assert element in text, element
    rt = ranking_table(hostile_con, SCOPE, PERIOD)
    rows = re.findall(r'<tr data-region="(\d{6})">(.*?)</tr>', text.split('id="tbl-ranking"', 1)[1].split("</table>", 1)[0],
                      flags=re.S)
    assert [c for c, _ in rows] == list(rt.region_code)  # same order as the CLI ranking
    for (code, cells), r in zip(rows, rt.itertuples()):
        assert f"<strong>{r.score:.2f}</strong>" in cells
        ch = int(r.rank_change)
        assert ("▲" + str(ch) if ch > 0 else "▼" + str(-ch) if ch < 0 else "＝") in cells  # 2024 is stored
        assert r.rank_interval in cells
    for label in ("安全度", "诚信度", "便利度", "维权度", "优势", "短板", "消费环境指数（第2版）", "固定阈值", "同级等权",
                  "加权算术平均", "蒙特卡洛模拟 1000 次", "商品质量抽检合格率 = 检验结论为合格的批次 ÷ 抽检批次"):
        assert label in text, label


def test_rank_change_is_a_dash_without_a_previous_period(hostile_reports, tmp_path):
    from reports import build_index_report

    with duckdb.connect(str(hostile_reports["wh"]), read_only=True) as con:
        page = build_index_report(con, SCOPE, "2024", tmp_path, "zh")  # 2023 is not stored
    text = _read(page)
    table = text.split('id="tbl-ranking"', 1)[1].split("</table>", 1)[0]
    assert table.count("change-none") == 13 and "▲" not in table and "▼" not in table
    assert ">—<" in table


def test_strengths_and_weaknesses_come_from_index_model(hostile_reports, hostile_con):
    from index_model import strengths_weaknesses
    from indicators.scores import index_for

    result = index_for(hostile_con, SCOPE, PERIOD, runs=0).result
    sw = strengths_weaknesses(result, n=3)
    page = _read(hostile_reports["zh"] / "index_report.html")
    block = page.split('id="tbl-strengths"', 1)[1].split("</table>", 1)[0]
    row = block.split('data-region="320200"', 1)[1].split("</tr>", 1)[0]
    for r in sw[sw.unit == "320200"].itertuples():
        assert r.label_zh in row
        assert f"第 {r.rank}/{r.n_ranked} 名" in row


def test_drilldown_pages_carry_the_values_behind(hostile_reports, hostile_con):
    values = hostile_con.execute("""SELECT * FROM mart.indicator_values WHERE scope = '32' AND period = '2025'
                            AND indicator_id = 'mediation_success_rate'""").df().set_index("region_code")
    page = _read(hostile_reports["zh"] / "drilldown" / "node_mediation_success_rate.html")
    for code, r in values.iterrows():
        row = page.split(f'data-region="{code}"', 1)[1].split("</tr>", 1)[0]
        assert f">{int(r.numerator):,}<" in row and f">{int(r.denominator):,}<" in row
        assert f">{int(r.record_count):,}<" in row
        assert f"{r.raw_value * 100:.1f}%" in row
        assert ("样本少" in row) == bool(r.small_count)
    region = _read(hostile_reports["zh"] / "drilldown" / "region_320200.html")
    for element in ('id="tbl-region-scores"', 'id="ind-mediation_success_rate"', 'id="ind-sampling_pass_rate"',
                    'id="list-strengths"', 'href="records_320200.csv"', "fig-region-sunburst"):
        assert element in region, element
    sec = region.split('id="ind-sampling_pass_rate"', 1)[1].split("</details>", 1)[0]
    # the breakdown, the four facts and the failed batches as summaries (tests/test_drilldown_facts.py)
    assert "按产品类别" in sec and 'id="facts-ind-sampling_pass_rate"' in sec and "抽样编号" in sec
    assert 'class="focus-xlsx" href="lists/320200_sampling_pass_rate.xlsx"' in sec


def _noise_and_boards(con):
    from index_model import attribute_change, change_verdicts, explain_change, short_boards
    from indicators.scores import index_for, indicator_noise

    r24 = index_for(con, SCOPE, "2024", runs=0).result
    r25 = index_for(con, SCOPE, PERIOD, runs=0).result
    q = "SELECT * FROM mart.indicator_values WHERE scope = $s AND period = $p"
    nt = indicator_noise(r25.spec, con.execute(q, {"s": SCOPE, "p": "2024"}).df(),
                         con.execute(q, {"s": SCOPE, "p": PERIOD}).df())
    ch = explain_change(r24, r25)
    verdicts = change_verdicts(ch.summary, attribute_change(ch.effects, nt), n_drivers=2)
    return nt, verdicts, short_boards(r25, previous=r24, noise=nt)


def test_ranking_drivers_are_only_changes_beyond_noise(hostile_reports, hostile_con):
    """Issue 9 point 4: the ranking's drivers column lists only indicators whose change exceeds their noise,
    with the part of the change within noise in brackets (or "在噪声范围内" when nothing exceeds it)."""
    nt, verdicts, _ = _noise_and_boards(hostile_con)
    assert len(nt) == 13 * 28 and nt["beyond_noise"].notna().sum() > 13 * 10  # shares and counts are measured
    within = nt[nt["beyond_noise"].eq(False).fillna(False)]
    assert len(within) > 0
    page = _read(hostile_reports["zh"] / "index_report.html")
    assert 'id="note-noise"' in page and "MOVER" in page
    table = page.split('id="tbl-ranking"', 1)[1].split("</table>", 1)[0]
    from index_model import default_spec

    spec = default_spec()
    for v in verdicts.itertuples():
        row = table.split(f'data-region="{v.unit}"', 1)[1].split("</tr>", 1)[0]
        assert f"{v.delta:+.2f}" in row
        if v.verdict == "within_noise":
            assert "在噪声范围内" in row
        for cid, effect in v.drivers:
            assert f"{spec.label(cid, 'zh')} {effect:+.2f}" in row
            assert bool(nt[(nt.region_code == v.unit) & (nt.indicator_id == cid)]["beyond_noise"].fillna(True).iloc[0])
        if abs(v.noise) >= 0.005:
            assert f"（噪声范围内的变动 {v.noise:+.2f}）" in row


def test_short_boards_on_the_report_and_region_pages(hostile_reports, hostile_con):
    """Issue 9 point 5: per region the weakest and strongest indicators and sub-dimensions with value, target,
    median, gap, last period and trend, on the index report and the region page; self-reported caveat."""
    _, _, sb = _noise_and_boards(hostile_con)
    assert set(sb.unit) == set(hostile_con.execute(
        "SELECT DISTINCT region_code FROM mart.index_scores WHERE scope='32' AND period='2025'").df().region_code)
    assert (sb.groupby(["unit", "level", "kind"]).size().to_dict()
            == {(u, lv, k): (3 if lv == "indicator" else 2) for u in set(sb.unit)
                for lv in ("indicator", "sub_dimension") for k in ("weakest", "strongest")})
    for zh_or_en, caveat in (("zh", "真实性未经核实"), ("en", "not verified")):
        page = _read(hostile_reports[zh_or_en] / "index_report.html")
        assert 'id="sec-boards"' in page and 'id="caveat-boards"' in page and 'id="caveat-method"' in page
        assert caveat in page
    page = _read(hostile_reports["zh"] / "index_report.html")
    region = _read(hostile_reports["zh"] / "drilldown" / "region_320200.html")
    assert 'id="tbl-region-boards"' in region and 'id="caveat-region"' in region and "95% 区间" in region
    block = page.split('<details data-region="320200"', 1)[1].split("</details>", 1)[0]
    mine = sb[sb.unit == "320200"]
    for r in mine.itertuples():
        row = block.split(f'data-node="{r.node_id}"', 1)[1].split("</tr>", 1)[0]
        rrow = region.split('id="tbl-region-boards"', 1)[1].split(f'data-node="{r.node_id}"', 1)[1].split("</tr>", 1)[0]
        assert f"{r.gap_points:+.1f}" in row and f"{r.gap_points:+.1f}" in rrow
        assert ("短板" if r.kind == "weakest" else "优势") in row
        trend = {"improved": "改善", "worsened": "变差", "within_noise": "在噪声范围内", "unchanged": "持平"}[r.trend]
        assert trend in row
        assert ("※自报" in row) == bool(r.self_reported)
    for page_name in ("dashboard.html", "drilldown/index.html"):
        assert "真实性未经核实" in _read(hostile_reports["zh"] / page_name), page_name
    # every rate carries its interval from its counts: accidents (exact Poisson) on the node page, next to
    # the rank interval (its own column)
    from index_model import value_interval
    from reports.index_report import fmt_interval
    from reports.render import fmt_num

    acc = hostile_con.execute("""SELECT region_code, numerator, denominator FROM mart.indicator_values WHERE scope='32'
        AND period='2025' AND indicator_id='special_equipment_accidents_per_10k_units'""").df().set_index("region_code")
    lo, hi = value_interval("poisson", acc.numerator, acc.denominator, 10000.0)
    node = _read(hostile_reports["zh"] / "drilldown" / "node_special_equipment_accidents_per_10k_units.html")
    stored = hostile_con.execute("""SELECT region_code, rank_low, rank_high FROM mart.index_scores WHERE scope='32'
        AND period='2025' AND node_id='special_equipment_accidents_per_10k_units'""").df().set_index("region_code")
    for code, a, b in zip(acc.index, lo, hi):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", node.split(f'data-region="{code}"', 1)[1].split("</tr>", 1)[0], re.S)
        assert f"{fmt_num(a, 2)}–{fmt_num(b, 2)}" in cells, (code, cells)
        assert cells[4] == fmt_interval(stored.at[code, "rank_low"], stored.at[code, "rank_high"]), (code, cells)
    # a self-reported indicator's node page carries the caveat; a record-based one does not
    assert 'id="caveat-node"' in _read(hostile_reports["zh"] / "drilldown" / "node_service_stations_per_10k_entities.html")
    assert 'id="caveat-node"' not in _read(hostile_reports["zh"] / "drilldown" / "node_closure_rate.html")


def test_record_csv_lists_every_record_behind_a_value(hostile_reports, hostile_con):
    from indicators import breakdown

    csv = pd.read_csv(hostile_reports["zh"] / "drilldown" / "records_320200.csv", dtype=str, encoding="utf-8-sig")
    for ind, idcol in (("closure_rate", "record_id"), ("sampling_pass_rate", "sample_id")):
        b = breakdown(hostile_con, SCOPE, PERIOD, ind, "320200")
        listed = set(csv[csv.indicator_id == ind].record_id)
        assert listed == set(b.records[idcol].astype(str)), ind
        assert len(listed) == int(b.summary["record_count"])


def test_batched_breakdowns_equal_indicators_breakdown(hostile_con, tmp_path):
    from indicators import breakdown
    from reports.drilldown import batch_breakdowns

    pairs = [("mediation_success_rate", "320100"), ("median_working_days_to_close", "320500"),
             ("money_recovery_ratio", "320200"), ("complaints_per_10k_entities", "320100"),
             ("sampling_pass_rate", "320400"), ("failed_disposed_on_time_rate", "320100"),
             ("hotline_first_answer_rate", "320300"), ("annual_report_filing_rate", "320600")]
    regions = sorted({p[1] for p in pairs})
    got = batch_breakdowns(hostile_con, SCOPE, PERIOD, [p[0] for p in pairs], regions, tables=None, record_limit=None)
    # bounded (what the pages use): the first 50 records, counted in full; once from a window query, once
    # from the record-CSV stream
    limit = 50
    bounded = batch_breakdowns(hostile_con, SCOPE, PERIOD, [p[0] for p in pairs], regions, tables=None,
                               record_limit=limit)
    streamed = batch_breakdowns(hostile_con, SCOPE, PERIOD, [p[0] for p in pairs], regions, tables=None,
                                record_limit=limit, csv_dir=tmp_path)
    for ind, reg in pairs:
        ref = breakdown(hostile_con, SCOPE, PERIOD, ind, reg)
        mine = got[(ind, reg)]
        pd.testing.assert_frame_equal(ref.records.reset_index(drop=True), mine.records.reset_index(drop=True))
        for b in (bounded[(ind, reg)], streamed[(ind, reg)]):
            assert b.n_records == len(ref.records), ind
            pd.testing.assert_frame_equal(ref.records.head(limit).reset_index(drop=True), b.records, check_dtype=False,
                                          obj=ind)
            for key, frame in ref.tables.items():
                pd.testing.assert_frame_equal(frame.reset_index(drop=True), b.tables[key].reset_index(drop=True),
                                              check_dtype=False, obj=f"{ind}/{key}")
        idcol = "record_id" if "record_id" in ref.records.columns else "sample_id" if "sample_id" in ref.records else None
        if idcol:  # the CSV lists every record, in order, with in_numerator
            csv = pd.read_csv(tmp_path / f"records_{reg}.csv", dtype=str, encoding="utf-8-sig", keep_default_na=False)
            rows = csv[csv.indicator_id == ind]
            assert list(rows.record_id) == [("'" + r if r[:1] in "=+-@" else r) for r in ref.records[idcol].astype(str)]
            assert list(rows.in_numerator) == ["" if pd.isna(k) else str(int(k)) for k in ref.records["in_numerator"]]
        assert set(mine.tables) == set(ref.tables), ind
        for key, frame in ref.tables.items():
            pd.testing.assert_frame_equal(frame.reset_index(drop=True), mine.tables[key].reset_index(drop=True),
                                          check_dtype=False, obj=f"{ind}/{key}")
        for k in ("numerator", "denominator", "record_count"):
            assert (pd.isna(mine.summary[k]) and pd.isna(ref.summary[k])) or mine.summary[k] == ref.summary[k], (ind, k)


def test_member_runs_cut_the_pieces_at_the_row_limit():
    from reports.drilldown import member_runs

    d1, d2, d3 = dt.date(2025, 1, 2), dt.date(2025, 1, 3), dt.date(2025, 2, 1)
    pieces = [("320100", d1, 4), ("320200", d1, 3), ("320300", d1, 5), ("320300", d3, 4), ("320400", d2, 1),
              ("320500", d1, 1)]
    assert member_runs(pieces, 7) == [("320100", d1, "320200", d1), ("320300", d1, "320300", d1),
                                      ("320300", d3, "320500", d1)]  # one unit split between runs
    assert member_runs(pieces, 1) == [(u, d, u, d) for u, d, _ in pieces]
    assert member_runs(pieces, 100) == [("320100", d1, "320500", d1)]
    assert member_runs([], 5) == []


def test_record_csvs_are_the_same_whatever_the_runs_of_units(hostile_con, tmp_path, monkeypatch):
    """The record ids are sorted a run of (unit, day) pieces at a time (reports.drilldown.member_runs): one day of
    one unit per run (a unit split over many runs), a few, or all at once write the same bytes."""
    from reports import drilldown

    inds = ["closure_rate", "online_channel_share", "mediation_success_rate", "sampling_pass_rate"]
    regions = [f"32{n:02d}00" for n in range(1, 14)]
    written = {}
    for limit in (1, 60, 10 ** 9):
        monkeypatch.setattr(drilldown, "CSV_SORT_ROWS", limit)
        out = tmp_path / str(limit)
        out.mkdir()
        drilldown.batch_breakdowns(hostile_con, SCOPE, PERIOD, inds, regions, record_limit=5, csv_dir=out)
        written[limit] = {p.name: p.read_bytes() for p in sorted(out.glob("records_*.csv"))}
    assert len(written[1]) == len(regions) and all(b.count(b"\r\n") > 1 for b in written[1].values())
    assert written[1] == written[60] == written[10 ** 9]



def test_record_csvs_fail_when_the_runs_miss_members(hostile_con, tmp_path, monkeypatch):
    """The drill-down counts the members itself (breakdown_member_units.sql) and refuses record CSVs whose runs
    wrote fewer ids: here the last run is dropped. No half-written CSV is left."""
    from reports import drilldown

    real = drilldown.member_runs
    monkeypatch.setattr(drilldown, "CSV_SORT_ROWS", 60)
    monkeypatch.setattr(drilldown, "member_runs", lambda pieces, limit: real(pieces, limit)[:-1])
    regions = [f"32{n:02d}00" for n in range(1, 14)]
    with pytest.raises(RuntimeError, match="record ids written for"):
        drilldown.batch_breakdowns(hostile_con, SCOPE, PERIOD, ["online_channel_share"], regions, record_limit=5,
                                   csv_dir=tmp_path)
    assert list(tmp_path.glob("records_*")) == []

def test_dashboard_content(hostile_reports):
    text = _read(hostile_reports["zh"] / "dashboard.html")
    for element in ("fig-ranking", "fig-dimension-heatmap", "fig-dimension-radar", "fig-hierarchy-sunburst",
                    "fig-trends", "fig-dimension-trends", "fig-rank-uncertainty", 'id="link-index_report"',
                    'id="link-drilldown"', 'id="dashboard-offline"', "plotly.min.js"):
        assert element in text, element
    assert '"x":["2024\\u5e74","2025\\u5e74"]' in text  # both stored periods (2024年, 2025年) in the trends
    assert "自包含" in text  # the page says the folder is the deliverable
    en = _read(hostile_reports["en"] / "dashboard.html")
    assert "Policymaker dashboard" in en and "决策者看板" not in en


# ----------------------------------------------------------------------------------- XLSX
def test_xlsx_sheets_frozen_headers_and_formats(hostile_reports, hostile_con):
    from openpyxl import load_workbook

    from index_model import default_spec

    wb = load_workbook(hostile_reports["zh"] / "index_report.xlsx")
    assert wb.sheetnames == ["综合指数", "一级指标(维度)", "二级指标", "三级指标", "方法说明", "指标定义", "短板与优势", "技术参数"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
    top = wb["综合指数"]
    head = [c.value for c in top[1]]
    assert head[:10] == ["排名", "地区", "区划代码", "得分", "排名变化", "上期排名", "排名区间下限（5%）", "排名区间上限（95%）",
                         "模拟排名中位数", "等级"]
    assert "安全度得分" in head and "优势" in head and "短板" in head
    stored = dict(hostile_con.execute("""SELECT region_code, score FROM mart.index_scores
                                 WHERE scope='32' AND period='2025' AND node_id='cei'""").fetchall())
    for r in range(2, top.max_row + 1):
        code, score = top.cell(row=r, column=3).value, top.cell(row=r, column=4)
        assert score.value == pytest.approx(stored[code]) and score.number_format == "0.00"
        assert top.cell(row=r, column=1).number_format == "0"
        assert isinstance(top.cell(row=r, column=1).value, int)
    assert top.max_row == 14
    l1 = wb["一级指标(维度)"]
    assert {l1.cell(row=r, column=2).value for r in range(2, l1.max_row + 1)} == {"safety", "integrity", "convenience",
                                                                                    "rights_protection"}
    spec = default_spec()  # one row per prefecture and node of the level, for the shipped spec's nodes
    per_level = {lvl: sum(1 for n in spec.preorder if spec.level[n] == lvl) for lvl in (1, 2, 3)}
    assert l1.max_row == 1 + per_level[1] * 13 and wb["二级指标"].max_row == 1 + per_level[2] * 13
    l3 = wb["三级指标"]
    h3 = [c.value for c in l3[1]]
    for col in ("原始值", "计算用值", "分子", "分母", "记录数", "样本少"):
        assert col in h3, col
    ci = {name: i + 1 for i, name in enumerate(h3)}
    seen = set()
    values = hostile_con.execute("SELECT region_code, indicator_id, raw_value, numerator, record_count, small_count "
                         "FROM mart.indicator_values WHERE scope='32' AND period='2025'").df()
    values = values.set_index(["indicator_id", "region_code"])
    for r in range(2, l3.max_row + 1):
        ind, code = l3.cell(row=r, column=ci["指标代码"]).value, l3.cell(row=r, column=ci["区划代码"]).value
        raw = l3.cell(row=r, column=ci["原始值"])
        if ind == "sampling_pass_rate":
            assert raw.number_format == "0.0%"
            seen.add("pct")
        if ind == "complaints_per_10k_entities":
            assert raw.number_format == "#,##0.00"
            seen.add("num")
        norm = l3.cell(row=r, column=ci["标准化得分"])
        assert norm.value is None or norm.number_format == "0.00"
        v = values.loc[(ind, code)]
        if pd.notna(v.raw_value):
            assert raw.value == pytest.approx(v.raw_value)
        if pd.notna(v.record_count):
            assert l3.cell(row=r, column=ci["记录数"]).value == int(v.record_count)
        assert l3.cell(row=r, column=ci["样本少"]).value == ("是" if v.small_count else "否")
    assert seen == {"pct", "num"}
    assert l3.max_row == 1 + 28 * 13  # default_v2: 28 indicators
    en = load_workbook(hostile_reports["en"] / "index_report.xlsx")
    assert en.sheetnames[:4] == ["Composite", "L1 dimensions", "L2 sub-dimensions", "L3 indicators"]


# ----------------------------------------------------------------------------------- methodology
def _fixed_weights_spec():
    from index_model import default_spec, load_spec

    data = default_spec().to_dict()
    data["spec_version"] = "test_fixed_weights_v9"
    weights = {"safety": 0.4, "integrity": 0.3, "convenience": 0.2, "rights_protection": 0.1}
    for agg in data["aggregates"]:
        if agg["id"] == "cei":
            agg["weighting"] = {"method": "fixed"}
        if agg["id"] in weights:
            agg["weight"] = weights[agg["id"]]
    return load_spec(data)


@pytest.fixture(scope="module")
def reweighted(pipeline_warehouse, tmp_path_factory):
    """A copy of the warehouse whose 2025 index was recomputed under a spec with fixed L1 weights."""
    from indicators.scores import index_for, write_index_scores

    root = tmp_path_factory.mktemp("reweighted")
    wh = pipeline_warehouse.copy(root)
    spec = _fixed_weights_spec()
    with duckdb.connect(str(wh)) as c:
        write_index_scores(c, index_for(c, SCOPE, PERIOD, spec, runs=50))
    return wh, spec, root


def test_methodology_reflects_the_spec_used(reweighted):
    from openpyxl import load_workbook

    from reports import build_index_report

    wh, spec, root = reweighted
    with duckdb.connect(str(wh), read_only=True) as c:
        page = build_index_report(c, SCOPE, PERIOD, root / "out", "zh", spec=spec)
    text = _read(page)
    method = text.split('id="sec-method"', 1)[1].split('id="tbl-indicator-definitions"', 1)[0]
    assert "消费环境指数（第9版）" in method and "第2版" not in method  # test_fixed_weights_v9, named as a reader would
    hier = text.split('id="tbl-hierarchy"', 1)[1].split("</table>", 1)[0]
    for node, pct in (("safety", "40.0%"), ("integrity", "30.0%"), ("convenience", "20.0%"), ("rights_protection", "10.0%")):
        row = hier.split(f'data-node="{node}"', 1)[1].split("</tr>", 1)[0]
        assert f">{pct}<" in row and f">{pct[:-1]}0%<" in row, (node, row)  # local and effective weight
        assert "专家固定权重" in row
    assert "25.0%" not in hier.split('data-node="safety"', 1)[1].split("</tr>", 1)[0]
    # the composite in the ranking is the stored, reweighted one
    with duckdb.connect(str(wh), read_only=True) as c:
        best = c.execute("""SELECT score FROM mart.index_scores WHERE scope='32' AND period='2025'
                            AND node_id='cei' AND rank = 1""").fetchall()[0][0]
    assert f"<strong>{best:.2f}</strong>" in text
    wb = load_workbook(root / "out" / "index_report.xlsx")
    ws = wb["方法说明"]
    rows = {ws.cell(row=r, column=3).value: ws.cell(row=r, column=6).value for r in range(2, ws.max_row + 1)}
    assert rows["safety"] == pytest.approx(0.4) and rows["rights_protection"] == pytest.approx(0.1)
    assert ws.cell(row=2, column=6).number_format == "0.0%"


def test_a_spec_that_did_not_produce_the_scores_is_refused(reweighted, tmp_path):
    from index_model import default_spec

    from reports import SpecNotFound, build_index_report, build_reports

    wh, _, _ = reweighted
    with duckdb.connect(str(wh), read_only=True) as c:
        with pytest.raises(SpecNotFound, match="test_fixed_weights_v9"):
            build_index_report(c, SCOPE, PERIOD, tmp_path / "a", "zh")  # not shipped: cannot be found
        with pytest.raises(SpecNotFound, match="default_v2"):
            build_index_report(c, SCOPE, PERIOD, tmp_path / "b", "zh", spec=default_spec())
        with pytest.warns(UserWarning, match="index outputs skipped"):
            idx = build_reports(c, SCOPE, PERIOD, tmp_path / "c", "zh")
    assert 'id="link-index_report"' not in _read(idx) and 'id="link-kpi_scorecard"' in _read(idx)


def test_reports_without_index_scores_still_build(tmp_path):
    """A warehouse without mart.index_scores: build_reports builds the other reports only."""
    from reports import build_reports, index_available
    from tests.test_reports import make_clean_tables

    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        make_clean_tables(c)
        assert not index_available(c, "3204", "2025")
        idx = build_reports(c, "3204", "2025", tmp_path / "out", "zh")
    assert not (tmp_path / "out" / "index_report.html").exists()
    assert 'id="link-dashboard"' not in _read(idx)
