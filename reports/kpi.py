"""12315 bureau KPIs (DESIGN §5.5, docs/domain.md §2.5): THE one definition table, plus the pure rules.

Each KPI is ``numerator ÷ denominator`` of two count columns produced per reporting unit by
``sql/reports/kpi_complaint_counts.sql`` / ``kpi_hotline_counts.sql`` (the SQL documents how each
count is selected). A rate is **green** when it meets the target (rate >= target, compared exactly
on the integer counts: ``numerator × target.denominator >= target.numerator × denominator``, so
95/100 against 95 % is green and 949/1000 is red), **red** otherwise, and ``none`` (grey) when the
denominator is 0. Rates with a denominator under ``min_denominator`` keep their colour but are
flagged "few records" (DESIGN §4: show the count behind every rate, flag small counts).

Period assignment: records by ``received_at`` in the period (a cohort: records received late in
the period may still be open, which lowers 办结率 — the page says so); hotline rows by ``month``.

==============  ====================================================  ===========  ======
KPI             numerator ÷ denominator                               target       source
==============  ====================================================  ===========  ======
电话接通率       calls_answered ÷ calls_offered (rows reporting both)   >= 95 %      hotline_stats
调解成功率       mediation_success ÷ closed (投诉 受理 and closed)        >= 80 %      complaints
办结率           closed ÷ accepted (投诉 with accept_decision 受理)       >= 100 %     complaints
满意率           satisfied (满意+基本满意) ÷ callbacks (满意/基本满意/不满意) >= 95 %      complaints
诉转案率         cases_filed ÷ complaints_and_reports (投诉+举报)         >= 5 %       complaints
==============  ====================================================  ===========  ======

调解成功率's denominator is closed *accepted* complaints: a complaint not accepted is never
mediated, and 办结率 uses the same accepted cohort. (The index indicator ``mediation_success_rate``
in index_model/specs says "closed complaints"; keep both in step if either changes.)
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
    target: Fraction  # rate >= target is green
    source: str  # complaints | hotline
    min_denominator: int
    definition_zh: str
    definition_en: str
    basis: str

    @property
    def target_float(self) -> float:
        return float(self.target)


KPIS: tuple[KpiDef, ...] = (
    KpiDef("answer_rate", "电话接通率", "Hotline answer rate", "calls_answered", "calls_offered", Fraction("0.95"),
           "hotline", 100,
           "热线接通量 ÷ 呼入量（仅计同时报送两项的单位月份）",
           "calls answered ÷ calls offered (unit-months reporting both)",
           "DESIGN §5.5; docs/domain.md §2.5 (12345 监测口径 ≈95%)"),
    KpiDef("mediation_success_rate", "调解成功率", "Mediation success rate", "mediation_success", "closed",
           Fraction("0.80"), "complaints", 30,
           "调解结果为“达成调解协议”或“协商和解成功”的投诉 ÷ 已受理且已办结的投诉",
           "complaints with 达成调解协议 / 协商和解成功 ÷ accepted complaints closed",
           "docs/domain.md §2.5（分母为办结数，广元2022Q1: 92÷241）"),
    KpiDef("closure_rate", "办结率", "Closure rate", "closed", "accepted", Fraction("1"), "complaints", 30,
           "已受理投诉中已办结的 ÷ 已受理投诉（按登记时间归期）",
           "accepted complaints closed ÷ accepted complaints (cohort by received date)",
           "docs/domain.md §2.5"),
    KpiDef("satisfaction_rate", "满意率", "Satisfaction rate", "satisfied", "callbacks", Fraction("0.95"),
           "complaints", 30,
           "回访“满意”“基本满意” ÷ 已回访（满意/基本满意/不满意，不含未回访）",
           "callbacks rated 满意 or 基本满意 ÷ callbacks done (excl. 未回访)",
           "docs/domain.md §2.5"),
    KpiDef("case_rate", "诉转案率", "Complaint-to-case rate", "cases_filed", "complaints_and_reports",
           Fraction("0.05"), "complaints", 30,
           "诉转案（立案）的投诉和举报 ÷ 投诉与举报总数",
           "complaints and reports with a case filed ÷ complaints + reports",
           "docs/domain.md §2.5 (target ≥ 5%)"),
)
KPI_BY_ID = {k.id: k for k in KPIS}
COUNT_COLUMNS = tuple(dict.fromkeys(c for k in KPIS for c in (k.numerator, k.denominator)))

GREEN, RED, NONE = "green", "red", "none"


def kpi_status(numerator, denominator, target: Fraction) -> str:
    """green (meets target) | red | none (no denominator) — exact integer comparison."""
    if denominator is None or pd.isna(denominator) or int(denominator) <= 0:
        return NONE
    num = 0 if numerator is None or pd.isna(numerator) else int(numerator)
    return GREEN if num * target.denominator >= target.numerator * int(denominator) else RED


def kpi_rate(numerator, denominator) -> float:
    if denominator is None or pd.isna(denominator) or int(denominator) <= 0:
        return float("nan")
    return (0 if numerator is None or pd.isna(numerator) else int(numerator)) / int(denominator)


def scorecard(counts: pd.DataFrame, kpis: tuple[KpiDef, ...] = KPIS) -> pd.DataFrame:
    """Long table: one row per unit × KPI with numerator, denominator, rate, target, status, few_records.

    ``counts`` has ``unit_code`` and the count columns (:data:`COUNT_COLUMNS`); missing columns
    (e.g. no hotline data) count as no denominator.
    """
    rows = []
    for rec in counts.to_dict("records"):
        for k in kpis:
            num, den = rec.get(k.numerator), rec.get(k.denominator)
            den_i = 0 if den is None or pd.isna(den) else int(den)
            num_i = 0 if num is None or pd.isna(num) else int(num)
            status = kpi_status(num_i, den_i, k.target)
            rows.append({
                "unit_code": rec["unit_code"], "kpi_id": k.id, "numerator": num_i, "denominator": den_i,
                "rate": kpi_rate(num_i, den_i), "target": k.target_float, "status": status,
                "few_records": status != NONE and den_i < k.min_denominator,
            })
    return pd.DataFrame(rows, columns=["unit_code", "kpi_id", "numerator", "denominator", "rate", "target", "status",
                                       "few_records"])
