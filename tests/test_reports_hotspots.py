"""Issue 10 point 7: complaint hotspots from the free text (reports/hotspots.py).

* Real text: the 2,490 车质网 complaint titles of ../shared/external (written by nobody here), grouped
  by month. Nothing is planted; the assertions are stable properties checked against counts computed
  independently with a plain substring count.
* A hand-made case: a planted surge is found, a flat term is not.
* Masking: a phone or ID number inside a complaint never reaches the page or the Word drafts.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from reports import hotspots as hs

# shipped with the tests (tests/data/external/README.md: source and columns), so CI never skips them
CAR_CSV = Path(__file__).resolve().parent / "data" / "external" / "12365auto_car_complaints_2020_2021.csv"


@pytest.fixture(scope="module")
def seg():
    return hs.default_segmenter()


@pytest.fixture(scope="module")
def cars():
    d = pd.read_csv(CAR_CSV, dtype=str, keep_default_na=False)
    d["month"] = d["complaint_date"].str[:7]
    return d


@pytest.fixture(scope="module")
def car_result(cars, seg):
    periods = hs.count_periods(cars, "summary", "month", seg)
    res = hs.rising_terms(periods)
    return periods, res, hs.collapse_nested(res[res["hotspot"]])


def _substring_docs(cars: pd.DataFrame, term: str) -> dict[str, int]:
    return {m: int(g["summary"].str.contains(term, regex=False).sum()) for m, g in cars.groupby("month")}


def test_car_text_is_read_as_four_months(car_result):
    periods, res, _ = car_result
    assert [(p.period, p.docs) for p in periods] == [("2020-06", 900), ("2020-08", 900), ("2021-01", 600),
                                                     ("2021-02", 90)]
    # every month after the first has a baseline of >= 200 complaints; 2021-02 too (2,400 before it)
    assert set(res["period"]) == {"2020-08", "2021-01", "2021-02"}
    assert res.attrs["tested"] == len(res) > 1000


def test_a_rising_term_of_the_real_text_is_found(cars, car_result):
    """长安福特 (a brand): in no title of June or August 2020, in 17 of the 600 of January 2021 —
    counted here with a plain substring search, independently of the segmenter."""
    _, res, hot = car_result
    sub = _substring_docs(cars, "长安福特")
    assert sub["2020-06"] == sub["2020-08"] == 0 and sub["2021-01"] == 17
    row = hot[(hot["period"] == "2021-01") & (hot["term"] == "长安福特")]
    assert len(row) == 1
    r = row.iloc[0]
    assert (r["count"], r["docs"], r["baseline_count"], r["baseline_docs"]) == (17, 600, 0, 1800)
    assert math.isinf(r["ratio"]) and r["q_value"] <= hs.DEFAULT_METHOD.fdr_q


def test_every_hotspot_rises_in_plain_substring_counts(cars, car_result):
    _, _, hot = car_result
    assert len(hot) >= 3
    months = sorted(cars["month"].unique())
    docs = cars.groupby("month").size()
    for r in hot.itertuples():
        sub = _substring_docs(cars, r.term)
        i = months.index(r.period)
        base = months[max(0, i - hs.DEFAULT_METHOD.baseline_periods):i]
        # a title where the segmenter found the term contains it as a substring
        assert sub[r.period] >= r.count >= hs.DEFAULT_METHOD.min_count, r.term
        now = sub[r.period] / docs[r.period]
        before = sum(sub[m] for m in base) / sum(docs[m] for m in base)
        assert now >= 1.5 * before, (r.term, now, before)


def test_hotspot_terms_are_words_not_fragments(car_result, seg):
    periods, res, hot = car_result
    every = {t for p in periods for t in p.counts}
    for term in list(hot["term"]) + list(res["term"].head(300)):
        toks = seg.tokens(term)
        # dictionary words, a leading negation, or a Latin abbreviation (ABS, CVT, GS): no fragments
        assert all(seg.known(t) or t in hs.NEGATIONS or re.fullmatch("[A-Za-z]{2,}", t) for t in toks), (term, toks)
        assert not any(t in seg.stop_words for t in toks), term
        assert all(not re.search(r"\d", t) or t in seg.user_words for t in toks), term  # 4S店 yes, P17F1 no
    # the user words keep domain terms whole: 异响 and 卡顿 are terms, their halves are not
    assert {"异响", "卡顿", "车机系统"} <= every
    assert not {"异", "响", "卡", "顿", "机系统"} & every


def test_flat_terms_of_the_real_text_are_not_flagged(cars, car_result):
    _, res, _ = car_result
    sub = _substring_docs(cars, "变速箱")  # 114, 137, 97, 17: about 13-16 % every month
    assert sub == {"2020-06": 114, "2020-08": 137, "2021-01": 97, "2021-02": 17}
    assert not res[res["term"] == "变速箱"]["hotspot"].any()


def test_excerpts_of_the_real_text_contain_the_term(cars, car_result):
    _, _, hot = car_result
    for r in hot.itertuples():
        ex = hs.excerpts(cars.loc[cars["month"] == r.period, "summary"], r.term, 3, 30)
        assert 1 <= len(ex) <= 3 and all(r.term in e for e in ex), r.term


# --- hand-made periods ---------------------------------------------------------------------------

FILLER = ["商品质量不合格", "快递延误", "客服态度差", "价格变动", "发票未开具", "会员卡余额", "退款", "物流破损",
          "售后服务", "虚假宣传"]


def _planted_periods(seg, n_months: int = 8, per_month: int = 400, planted_month: int = 7):
    rng = np.random.default_rng(11)
    periods = []
    for m in range(n_months):
        pc = hs.PeriodCounts(f"2025-{m + 1:02d}")
        texts = []
        for _ in range(per_month):
            words = list(rng.choice(FILLER, size=2, replace=False))
            if rng.random() < 0.15:
                words.append("网约车")  # flat: 15 % every month
            p = 0.10 if m == planted_month else 0.004
            if rng.random() < p:
                words.append("充电宝鼓包")
            texts.append("，".join(words) + "。")
        pc.add(texts, seg)
        periods.append(pc)
    return periods


def test_planted_surge_found_and_flat_term_not(seg):
    periods = _planted_periods(seg)
    res = hs.rising_terms(periods)
    hot = res[res["hotspot"]]
    top = hot[hot["period"] == "2025-08"]
    assert "充电宝鼓包" in set(top["term"]), hot.head(10)
    # the planted phrase only in its month; the flat term never; no filler word either
    assert set(hot["term"]) <= {"充电宝", "鼓包", "充电宝鼓包"}
    assert set(hot["period"]) == {"2025-08"}
    flat = res[res["term"] == "网约车"]
    assert len(flat) >= 6 and not flat["hotspot"].any()
    # nested: 充电宝 and 鼓包 occur only inside 充电宝鼓包, so only the phrase is listed
    assert list(hs.collapse_nested(hot)["term"]) == ["充电宝鼓包"]


def test_pvalue_is_the_exact_conditional_binomial(seg):
    from scipy.stats import binomtest

    periods = _planted_periods(seg)
    res = hs.rising_terms(periods)
    r = res[(res["period"] == "2025-08") & (res["term"] == "充电宝鼓包")].iloc[0]
    n_base = sum(p.docs for p in periods[1:7])
    expect = binomtest(int(r["count"]), int(r["count"] + r["baseline_count"]),
                       r["docs"] / (r["docs"] + n_base), alternative="greater").pvalue
    assert r["baseline_docs"] == n_base and r["baseline_periods"] == 6
    assert r["p_value"] == pytest.approx(expect, rel=1e-9)


def test_nothing_rises_nothing_listed(seg):
    periods = _planted_periods(seg, planted_month=99)  # no surge planted
    res = hs.rising_terms(periods)
    assert len(res) > 0 and not res["hotspot"].any()
    empty = hs.collapse_nested(res[res["hotspot"]])
    assert list(empty.columns) == list(res.columns) and len(empty) == 0
    # a single hotspot (no other term of its month to compare with) is kept as it is
    one = hs.collapse_nested(res.head(1))
    assert list(one["term"]) == [res["term"].iloc[0]]


def test_no_baseline_no_test(seg):
    periods = _planted_periods(seg, n_months=2, per_month=100, planted_month=1)
    assert len(hs.rising_terms(periods)) == 0  # 100 complaints before: below min_baseline_docs


def test_draft_warning_is_marked_and_carries_the_numbers():
    row = {"period": "2025-08", "term": "充电宝鼓包", "count": 41, "docs": 400, "share": 41 / 400,
           "baseline_share": 0.004, "baseline_periods": 6, "ratio": 25.6, "p_value": 1e-20}
    zh = hs.draft_warning(row, ["…充电宝鼓包起火…"], "zh", scope_label="常州市", category="家用电子电器")
    assert zh.startswith("【草稿") and "41件" in zh and "25.6倍" in zh and "p < 0.001" in zh and "12315" in zh
    en = hs.draft_warning(row, [], "en", scope_label="Changzhou", category="家用电子电器")
    assert en.startswith("[DRAFT") and "“充电宝鼓包”" in en and "41 of the 400" in en
    assert not re.search(r"[\u4e00-\u9fff]", en.replace("充电宝鼓包", ""))  # labels translated, the term not


# --- masking, end to end through the 12315 analysis page -------------------------------------------

PHONE, PHONE_SPACED, ID_NO = "13812345678", "139 8765 4321", "320402199001011237"


def test_personal_numbers_in_excerpts_never_reach_the_page(tmp_path):
    from reports.complaints_analysis import HOTSPOT_DRAFTS, build_complaints_analysis
    from tests.test_reports import complaint_frame, make_clean_tables

    frame = complaint_frame()
    rng = np.random.default_rng(5)
    frame["content"] = [f"购买的{x}出现质量问题，要求退货。" for x in rng.choice(["衣服", "鞋子", "台灯", "茶叶"], len(frame))]
    june = (frame["received_at"] >= "2025-06-01") & (frame["received_at"] < "2025-07-01") \
        & frame["handling_region_code"].str.startswith("3204") & frame["record_type"].isin(["投诉", "举报"])
    idx = frame.index[june][:60]
    frame.loc[idx, "content"] = [
        f"我叫李四，电话{PHONE}，身份证号{ID_NO}，在商场买的充电宝鼓包起火，另一部手机{PHONE_SPACED}联系王先生。"
        for _ in idx]
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    make_clean_tables(con, complaints=frame)
    out = tmp_path / "out"
    page = build_complaints_analysis(con, "3204", "2025", out, "zh").read_text(encoding="utf-8")
    sec = page[page.index('id="sec-hotspots"'):page.index('id="sec-money"')]
    assert "充电宝鼓包" in sec and 'id="tbl-hotspots"' in sec and "【草稿" in sec
    assert "[手机号码]" in sec and "[证件号码]" in sec and "联系某先生" in sec
    # the planted complaints make several terms rise together: one draft, not one per term
    assert sec.count('class="draft"') == 1
    digits = re.sub(r"\D", "", page)
    for secret in ("李四", "王先生", PHONE_SPACED, ID_NO):
        assert secret not in page, secret
    assert PHONE not in digits and ID_NO not in digits and "98765" not in digits
    from docx import Document

    doc = "\n".join(p.text for p in Document(str(out / HOTSPOT_DRAFTS)).paragraphs)
    assert "充电宝鼓包" in doc and "【草稿" in doc
    assert PHONE not in re.sub(r"\D", "", doc) and ID_NO not in re.sub(r"\D", "", doc) and "李四" not in doc
    en = build_complaints_analysis(con, "3204", "2025", tmp_path / "en", "en").read_text(encoding="utf-8")
    sec = en[en.index('id="sec-hotspots"'):en.index('id="sec-money"')]
    assert "Hotspot terms" in sec and "充电宝鼓包" in sec and "[DRAFT" in sec
    con.close()


def test_person_and_division_names_are_never_terms(seg):
    terms = seg.terms("消费者李四反映建湖县某商行和南京市鼓楼区一家店销售过期食品，客服王磊态度恶劣")
    assert "过期食品" in terms and "态度恶劣" in terms
    # a person's name (jieba tags 李四 nr; 王磊 is not a dictionary word: two single characters),
    # a division name and a prefecture's short form are not terms, nor parts of phrases
    assert not {t for t in terms if any(n in t for n in ("李四", "王磊", "建湖县", "南京", "鼓楼区"))}, terms
    # brands that share a county's short name stay terms (长安 is also a district of Xi'an)
    assert "长安福特" in seg.terms("长安福特锐界发动机抖动")
