"""12315 bureau KPIs (DESIGN §5.5, docs/domain.md §2.5): THE one definition table, plus the pure rules.

The KPIs are the ones the source documents grade 12315 work on, each quoted beside its figure:
工商消字〔2013〕133号 (电话接通率、诉求办结率、消费者满意率、举报查实率、申诉转案率), 工商消字〔2017〕22号
(… 调解成功率 … 诉转案率) and the targets of 常工商消〔2018〕1号 ("五率": 电话首次接通率 ≥ 95 %, 有效投诉
调解成功率 ≥ 80 %, 办结率 100 %, 消费者满意率 ≥ 95 %, 12315消费维权服务站覆盖率; "诉转案"率 ≥ 5 %).

Each KPI is ``numerator ÷ denominator`` (× ``scale``) of two count columns produced per reporting unit
by ``sql/reports/kpi_complaint_counts.sql``, ``kpi_hotline_counts.sql`` and ``kpi_profile_counts.sql``.
The complaint counts are sums of the per-record 0/1 flags of ``sql/indicators/complaints_records.sql``
— the same rule the index indicators use (办结率 over complaints whose handling period has ended,
mediation over closed valid complaints, …), never a second definition. A KPI with a target is
**green** when it meets it (rate >= target, compared exactly on the integer counts:
``numerator × target.denominator >= target.numerator × denominator``, so 95/100 against 95 % is green
and 949/1000 red), **red** otherwise, ``none`` (grey) when the denominator is 0; a KPI the documents
name without a target is ``info`` (shown, not judged). Rates with a denominator under
``min_denominator`` keep their colour but are flagged "few records" (DESIGN §4).

Period assignment: records by ``received_at`` in the period (a cohort), their decisions, closures and
outcomes counted up to the data cut-off (the latest event in ``clean.complaints``); hotline rows by
``month``; region profiles of the period's year.

KPI (target; source): numerator ÷ denominator

- 电话首次接通率 (95 %; hotline): calls_answered_first ÷ calls_offered, unit-months reporting both
- 办结率 (100 %; complaints): closed ÷ closure_due — accepted 投诉 whose handling period has ended, or closed
- 有效投诉调解成功率 (80 %; complaints): mediation_success ÷ mediation_ended — closed accepted 投诉 with a result
- 消费者满意率 (95 %; complaints): satisfied ÷ callbacks — 满意+基本满意 ÷ 满意/基本满意/不满意, any type
- 回访率 (—; complaints): callbacks_of_closed ÷ closed_items — closed records of any type
- 诉转案率（投诉+举报） (5 %; complaints): cases_filed ÷ complaints_and_reports
- 投诉转案率（申诉转案率） (—; complaints): complaint_cases ÷ complaints_case_known
- 举报转案率 (—; complaints): report_cases ÷ reports_case_known
- 举报查实率 (—; complaints): reports_substantiated ÷ reports_checked
- 12315消费维权服务站 per 10,000 market entities (—; profiles): service_stations × 10000 ÷ market_entities

12315消费维权服务站覆盖率 itself (stations ÷ the 商场、超市、市场、企业、景区 that should have one) cannot
be computed: no delivered table counts the venues to cover, so the scorecard shows stations per 10,000
market entities instead and says so.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import pandas as pd


@dataclass(frozen=True)
class KpiDef:
    id: str
    zh: str
    en: str
    numerator: str  # count column of the KPI count SQL
    denominator: str
    target: Fraction | None  # rate >= target is green; None = named by the documents without a target
    source: str  # complaints | hotline | profiles
    min_denominator: int
    definition_zh: str
    definition_en: str
    quote_zh: str  # the source document's own words, quoted
    basis: str  # the documents (names and article), never internal files
    scale: int = 1  # 1 = a share shown in per cent; 10000 = per 10,000

    @property
    def target_float(self) -> float | None:
        return None if self.target is None else float(self.target)

    @property
    def judged(self) -> bool:
        return self.target is not None


DOC_2013 = "《工商总局关于进一步强化监管 加强重点领域消费维权工作的通知》（工商消字〔2013〕133号）"
DOC_2016 = "《工商总局关于加强互联网领域消费者权益保护工作的意见》（工商消字〔2016〕204号）"
DOC_2017 = "《工商总局关于切实加强12315消费者权益保护工作的意见》（工商消字〔2017〕22号）"
DOC_2018 = "《2018年常州市工商和市场监管消保工作意见》（常工商消〔2018〕1号）"
DOC_2023 = "《2023年消费者权益保护工作意见》（范文）"
ORDER_20 = "《市场监督管理投诉举报处理暂行办法》（总局令第20号）"

KPIS: tuple[KpiDef, ...] = (
    KpiDef("first_answer_rate", "电话首次接通率", "Hotline first-attempt answer rate",
           "calls_answered_first", "calls_offered", Fraction("0.95"), "hotline", 100,
           "首次接通的来电 ÷ 呼入来电（仅计同时报送两项的单位月份；重拨后接通的不计入分子）",
           "calls answered at the first attempt ÷ calls offered (unit-months reporting both; calls answered "
           "only on a later attempt are not in the numerator)",
           "“电话首次接通率95%以上”（常工商消〔2018〕1号）；“电话接通率”（工商消字〔2013〕133号、〔2017〕22号）",
           f"{DOC_2018}“五率”；{DOC_2013}；{DOC_2017}"),
    KpiDef("closure_rate", "办结率", "Closure rate", "closed", "closure_due", Fraction("1"), "complaints", 30,
           "已办结的受理投诉 ÷ 处理期限已届满（受理后45个工作日）或已办结的受理投诉；截至数据截止日仍在法定期限内的为“在办”，"
           "不计为未办结",
           "accepted complaints closed ÷ accepted complaints whose handling period (45 working days after "
           "acceptance) had ended by the data cut-off, or that are closed; those still within it are in "
           "progress (在办), not failures",
           "“办结率100%”（常工商消〔2018〕1号）；“诉求办结率”（工商消字〔2013〕133号、〔2017〕22号）",
           f"{DOC_2018}“五率”；{DOC_2013}；{DOC_2017}；处理期限：{ORDER_20}第二十一条（45个工作日）"),
    KpiDef("mediation_success_rate", "有效投诉调解成功率", "Mediation success rate (valid complaints)",
           "mediation_success", "mediation_ended", Fraction("0.80"), "complaints", 30,
           "调解结果为“达成调解协议”或“协商和解成功”的有效投诉 ÷ 调解已终结（已办结且有调解结果）的有效投诉；"
           "有效投诉 = 已受理的投诉，不予受理的和仍在调解中的均不计入",
           "valid (accepted) complaints with 达成调解协议 / 协商和解成功 ÷ valid complaints whose mediation has "
           "ended (closed with a mediation result); complaints not accepted or still in mediation are in neither",
           "“有效投诉调解成功率80%以上”（常工商消〔2018〕1号）；“调解成功率”（工商消字〔2017〕22号）",
           f"{DOC_2018}“五率”；{DOC_2017}；{ORDER_20}第二十一条"),
    KpiDef("satisfaction_rate", "消费者满意率", "Consumer satisfaction rate", "satisfied", "callbacks",
           Fraction("0.95"), "complaints", 30,
           "回访评价“满意”“基本满意”的诉求 ÷ 已回访诉求（满意、基本满意、不满意；未回访的不计入，见回访率）",
           "callbacks rated 满意 or 基本满意 ÷ callbacks done (未回访 excluded: see the callback rate)",
           "“消费者满意率95%以上”（常工商消〔2018〕1号）；“消费者满意率”（工商消字〔2013〕133号）",
           f"{DOC_2018}“五率”；{DOC_2013}"),
    KpiDef("callback_rate", "回访率", "Callback rate (coverage of the satisfaction rate)", "callbacks_of_closed", "closed_items",
           None, "complaints", 30,
           "已回访的诉求 ÷ 已办结的诉求（投诉、举报、咨询）：满意率所覆盖的范围",
           "records with a callback ÷ closed records (complaints, reports, consultations): the coverage of "
           "the satisfaction rate",
           "“市局将对12315指挥中心转办的所有申诉案件进行回访”（2023年消费者权益保护工作意见）",
           f"{DOC_2023}（无目标值）"),
    KpiDef("case_rate", "诉转案率（投诉+举报）", "Complaint/report-to-case rate (combined)", "cases_filed",
           "complaints_and_reports", Fraction("0.05"), "complaints", 30,
           "转为立案查处的投诉和举报 ÷ 投诉与举报（有是否立案记录的）合计",
           "complaints and reports that led to a filed case ÷ complaints and reports (with the case flag)",
           "“全年各市场监管局‘诉转案’率不低于5%”（常工商消〔2018〕1号）；“诉转案率”（工商消字〔2017〕22号）",
           f"{DOC_2018}；{DOC_2017}；{DOC_2016}（“积极推进和规范‘诉转案’”）"),
    KpiDef("complaint_case_rate", "投诉转案率（申诉转案率）", "Complaint-to-case rate", "complaint_cases",
           "complaints_case_known", None, "complaints", 30,
           "转为立案查处的投诉 ÷ 投诉（有是否立案记录的）",
           "complaints that led to a filed case ÷ complaints (with the case flag)",
           "“申诉转案率”（工商消字〔2013〕133号）",
           f"{DOC_2013}（无目标值；5%目标见合计）"),
    KpiDef("report_case_rate", "举报转案率", "Report-to-case rate", "report_cases", "reports_case_known", None,
           "complaints", 10,
           "转为立案查处的举报 ÷ 举报（有是否立案记录的）",
           "reports that led to a filed case ÷ reports (with the case flag)",
           "“加强对申诉和举报违法线索的筛查和依法处理”（工商消字〔2013〕133号）",
           f"{DOC_2013}；{DOC_2017}（无目标值；5%目标见合计）"),
    KpiDef("report_substantiation_rate", "举报查实率", "Report substantiation rate", "reports_substantiated",
           "reports_checked", None, "complaints", 10,
           "核查属实的举报 ÷ 已核查完毕（有查实结论）的举报；仍在核查中的不计入",
           "reports found true ÷ reports whose check has ended (with a finding); reports still being checked "
           "are in neither",
           "“举报查实率”（工商消字〔2013〕133号、〔2017〕22号）",
           f"{DOC_2013}；{DOC_2017}（无目标值）"),
    KpiDef("service_station_density", "12315消费维权服务站（每万户市场主体）",
           "12315 service stations per 10,000 market entities", "service_stations", "market_entities", None,
           "profiles", 0,
           "12315消费维权服务站数 × 10000 ÷ 市场主体数（地区概况，当年）。覆盖率（已设站的商场、超市、市场、企业、景区 ÷ "
           "应设站的）无法计算：报送数据不含应覆盖的经营场所数，故以每万户市场主体站点数代替；各地自报数据",
           "12315 service stations × 10,000 ÷ market entities (region profile of the year). The coverage rate "
           "(venues with a station ÷ venues that should have one) cannot be computed: no delivered table counts "
           "the venues to cover, so stations per 10,000 entities stand in; self-reported figures",
           "“确保12315消费维权服务站覆盖率再提升”（常工商消〔2018〕1号）；“继续扩大12315‘五进’工作覆盖面”"
           "（工商消字〔2013〕133号）",
           f"{DOC_2018}“五率”；{DOC_2013}；{DOC_2017}（“五进”）", scale=10000),
)
KPI_BY_ID = {k.id: k for k in KPIS}
COUNT_COLUMNS = tuple(dict.fromkeys(c for k in KPIS for c in (k.numerator, k.denominator)))
# counts shown beside a KPI without being one: accepted complaints still within their handling period
EXTRA_COUNT_COLUMNS = ("in_progress",)

GREEN, RED, NONE, INFO = "green", "red", "none", "info"


def _int(v) -> int:
    return 0 if v is None or pd.isna(v) else int(v)


def kpi_status(numerator, denominator, target: Fraction | None) -> str:
    """green (meets target) | red | none (no denominator) | info (no target) — exact integer comparison."""
    den = _int(denominator)
    if den <= 0:
        return NONE
    if target is None:
        return INFO
    return GREEN if _int(numerator) * target.denominator >= target.numerator * den else RED


def kpi_rate(numerator, denominator, scale: int = 1) -> float:
    den = _int(denominator)
    if den <= 0:
        return float("nan")
    return _int(numerator) * scale / den


def scorecard(counts: pd.DataFrame, kpis: tuple[KpiDef, ...] = KPIS) -> pd.DataFrame:
    """Long table: one row per unit × KPI with numerator, denominator, rate, target, status, few_records.

    ``counts`` has ``unit_code`` and the count columns (:data:`COUNT_COLUMNS`); missing columns
    (e.g. no hotline data) count as no denominator.
    """
    rows = []
    for rec in counts.to_dict("records"):
        for k in kpis:
            num_i, den_i = _int(rec.get(k.numerator)), _int(rec.get(k.denominator))
            status = kpi_status(num_i, den_i, k.target)
            rows.append({
                "unit_code": rec["unit_code"], "kpi_id": k.id, "numerator": num_i, "denominator": den_i,
                "rate": kpi_rate(num_i, den_i, k.scale), "target": k.target_float, "status": status,
                "few_records": status != NONE and den_i < k.min_denominator,
            })
    return pd.DataFrame(rows, columns=["unit_code", "kpi_id", "numerator", "denominator", "rate", "target", "status",
                                       "few_records"])
