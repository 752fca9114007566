"""Every label the reports print, in Chinese (default) and English: ``LABELS[key] = (zh, en)``.

``translator(lang)`` returns ``t(key)``; an unknown key raises ``KeyError`` (tests render every page
in both languages, so a missing label fails a test, not a reader). ``value_translator(lang)`` maps
controlled-vocabulary values from the data (record types, channels, categories, ...) to English;
in Chinese, and for values it does not know (names), it returns the value unchanged.
Templates get ``t`` and ``v``; text from here is escaped like everything else.
"""
from __future__ import annotations

import pandas as pd

LANGS = ("zh", "en")
HTML_LANG = {"zh": "zh-CN", "en": "en"}

LABELS: dict[str, tuple[str, str]] = {
    # --- page frame
    "nav.index": ("返回报告目录", "Back to the report index"),
    "meta.scope": ("范围：", "Scope: "),
    "meta.period": ("期间：", "Period: "),
    "meta.generated": ("生成时间：", "Generated: "),
    "footer.privacy": ("本报告不含个人信息（姓名、电话、证件号码）；数据来自质量门控后的 clean 表。",
                       "No personal data (names, phone or ID numbers); data from the clean tables after the quality gate."),
    "footer.offline": ("离线可用：图表库 plotly.min.js 与本页位于同一文件夹。",
                       "Works offline: the chart library plotly.min.js sits in the same folder."),
    "common.no_data": ("本期无数据。", "No data for this period."),
    "common.truncated": ("仅显示前 {shown} 行，共 {total} 行。", "Showing the first {shown} of {total} rows."),
    "common.not_given": ("（未填写）", "(not given)"),
    "common.total": ("合计", "Total"),
    "common.few_records": ("样本少", "few records"),
    "common.few_records_note": ("“样本少”：分母低于该指标的最小记录数，比率波动大，仅供参考。",
                                "\"few records\": the denominator is below the KPI's minimum count; the rate is noisy."),
    # --- index page
    "index.title": ("消费环境报告目录", "Consumer-environment reports"),
    "index.intro": ("本文件夹中的报告（点击打开）。所有页面离线可用。",
                    "Reports in this folder (click to open). Every page works offline."),
    "index.none": ("本文件夹中还没有报告。", "No reports in this folder yet."),
    "index.downloads": ("下载", "Downloads"),
    "report.index_report": ("区域消费环境指数排名报告", "Regional consumer-environment index ranking"),
    "report.drilldown": ("指数逐级下钻", "Index drill-down"),
    "report.dashboard": ("决策者看板", "Policymaker dashboard"),
    "report.complaints_analysis": ("12315投诉举报数据分析报告", "12315 complaints and reports analysis"),
    "report.kpi_scorecard": ("12315工作指标考核表", "12315 bureau KPI scorecard"),
    "report.sampling_report": ("商品质量抽检分析报告", "Commodity quality sampling report"),
    "report.dq_report": ("数据质量报告", "Data-quality report"),
    "desc.index_report": ("综合与维度得分、排名及变化、排名区间、优势与短板、方法说明。",
                          "Composite and dimension scores, rank and change, rank interval, strengths and weaknesses, method."),
    "desc.drilldown": ("从综合指数逐级下钻到维度、指标、地区及其背后的记录。",
                       "From the composite to dimensions, indicators, regions and the records behind a value."),
    "desc.dashboard": ("排名、维度热力图、指标层级、趋势与排名不确定性。",
                       "Ranking, dimension heatmap, hierarchy, trends and rank uncertainty."),
    "desc.complaints_analysis": ("登记量与结构、五大重点领域、网购与平台、异常激增（统计检验）、挽回经济损失。",
                                 "Volumes and mix, five key categories, online share and platforms, statistically tested surges, money recovered."),
    "desc.kpi_scorecard": ("各单位电话接通率、调解成功率、办结率、满意率、诉转案率对照目标值（红/绿）。",
                           "Answer, mediation success, closure, satisfaction and complaint-to-case rates per bureau against targets (red/green)."),
    "desc.sampling_report": ("按产品类别、场所、线上线下的合格率，不合格项目（安全/标签），不合格商品核查处置情况。",
                             "Pass rates by category, venue and channel; failed items (safety / labelling); disposal of failed batches."),
    "desc.dq_report": ("规则结果、隔离原因、录入单位质量评分。", "Rule results, quarantine reasons, entry-unit scorecard."),
    # --- common columns / axes
    "col.unit": ("单位", "Unit"),
    "col.unit_code": ("区划代码", "Code"),
    "col.value": ("类别", "Value"),
    "col.n": ("件数", "Records"),
    "col.share": ("占比", "Share"),
    "col.n_complaints": ("投诉", "Complaints"),
    "col.n_reports": ("举报", "Reports"),
    "col.n_consultations": ("咨询", "Consultations"),
    "col.n_online": ("网购件数", "Online records"),
    "col.online_share": ("网购占比", "Online share"),
    "col.amount_disputed": ("争议金额（元）", "Amount disputed (yuan)"),
    "col.amount_recovered": ("挽回经济损失（元）", "Money recovered (yuan)"),
    "col.recovery_ratio": ("挽损率", "Recovered ÷ disputed"),
    "col.object_type": ("商品/服务", "Goods/services"),
    "col.category": ("类别", "Category"),
    "col.platform": ("电商平台", "Platform"),
    "col.month": ("月份", "Month"),
    "col.prev_n": ("上期件数", "Previous period"),
    "col.change": ("环比变化", "Change"),
    "col.series": ("对象", "Series"),
    "col.respondent": ("被投诉/举报方", "Respondent"),
    "col.uscc": ("统一社会信用代码", "USCC"),
    "col.count": ("当月件数", "Count"),
    "col.expected": ("基线月均", "Baseline mean"),
    "col.baseline_months": ("基线月数", "Baseline months"),
    "col.ratio": ("倍数", "Ratio"),
    "col.p_value": ("p 值", "p-value"),
    "col.q_value": ("BH 校正 q 值", "BH q-value"),
    "col.tested": ("抽检批次", "Batches"),
    "col.passed": ("合格", "Passed"),
    "col.failed": ("不合格", "Failed"),
    "col.pass_rate": ("合格率", "Pass rate"),
    "col.failed_safety": ("安全项目不合格", "Failed on safety"),
    "col.failed_label": ("标签标识不合格", "Failed on labelling"),
    "col.failed_both": ("两者均有", "Both"),
    "col.item": ("不合格项目", "Failed item"),
    "col.failure_kind": ("不合格类型", "Failure type"),
    "col.venue": ("抽样场所", "Venue"),
    "col.channel": ("渠道", "Channel"),
    "col.batches": ("批次", "Batches"),
    "col.sample_id": ("样品编号", "Sample"),
    "col.sampled_on": ("抽样日期", "Sampled"),
    "col.product": ("产品", "Product"),
    "col.seller": ("被抽样单位", "Seller"),
    "col.manufacturer": ("标称生产者", "Manufacturer"),
    "col.notified_on": ("结果通知日期", "Notified"),
    "col.correction_deadline": ("整改期限（通知+{days}天）", "Correction due (notice + {days} d)"),
    "col.corrected_on": ("整改完成", "Corrected"),
    "col.correction_status": ("整改状态", "Correction"),
    "col.reinspection_deadline": ("复查期限（通知+{days}天）", "Re-inspection due (notice + {days} d)"),
    "col.reinspected_on": ("复查日期", "Re-inspected"),
    "col.reinspection_status": ("复查状态", "Re-inspection"),
    "col.reinspection_result": ("复查结论", "Re-inspection result"),
    "col.kpi": ("指标", "KPI"),
    "col.definition": ("口径", "Definition"),
    "col.target": ("目标值", "Target"),
    "col.min_denominator": ("最小记录数", "Minimum count"),
    "col.basis": ("依据", "Basis"),
    "col.rate": ("比率", "Rate"),
    "col.counts": ("分子/分母", "Numerator/denominator"),
    "col.status": ("达标情况", "Status"),
    "col.met": ("达标指标数", "Targets met"),
    "axis.records": ("件数", "Records"),
    "axis.yuan": ("元", "Yuan"),
    "axis.rate": ("比率", "Rate"),
    "axis.pass_rate": ("合格率", "Pass rate"),
    "axis.share": ("占比", "Share"),
    "axis.batches": ("批次", "Batches"),
    # --- 12315 analysis report
    "ca.sec.summary": ("概况", "Summary"),
    "ca.sec.volume": ("登记量走势", "Volumes over time"),
    "ca.sec.mix": ("结构分析", "Mix"),
    "ca.sec.units": ("各单位登记量", "Volumes by bureau"),
    "ca.sec.key": ("五大重点领域", "The five key categories"),
    "ca.sec.online": ("网购与电商平台", "Online purchases and platforms"),
    "ca.sec.surges": ("热点与异常激增", "Hotspots and surges"),
    "ca.sec.money": ("争议金额与挽回经济损失", "Money disputed and recovered"),
    "ca.sec.method": ("口径与方法", "Definitions and method"),
    "ca.tile.records": ("登记总量", "Records"),
    "ca.tile.complaints": ("投诉", "Complaints"),
    "ca.tile.reports": ("举报", "Reports"),
    "ca.tile.consultations": ("咨询", "Consultations"),
    "ca.tile.online_share": ("网购占比", "Online share"),
    "ca.tile.recovered": ("挽回经济损失（元）", "Money recovered (yuan)"),
    "ca.tile.recovery_ratio": ("挽损率", "Recovered ÷ disputed"),
    "ca.tile.surges": ("检出激增", "Surges found"),
    "ca.fig.volume": ("各月登记量（按诉求类型）", "Records per month by type"),
    "ca.fig.record_type": ("诉求类型", "Record type"),
    "ca.fig.channel": ("接收渠道", "Channel"),
    "ca.fig.object_type": ("商品/服务", "Goods / services"),
    "ca.fig.category": ("商品服务类别（前{n}位）", "Categories (top {n})"),
    "ca.fig.problem_type": ("问题类别", "Problem types"),
    "ca.fig.units": ("各单位登记量", "Records per bureau"),
    "ca.fig.key": ("五大重点领域各月投诉举报量", "Complaints and reports per month, five key categories"),
    "ca.fig.online": ("网购件数及占比", "Online records and share"),
    "ca.fig.platforms": ("电商平台（前{n}位）", "Platforms (top {n})"),
    "ca.fig.surges": ("检出激增的序列", "Series with a surge"),
    "ca.fig.money": ("各月争议金额与挽回经济损失", "Money disputed and recovered per month"),
    "ca.mix.record_type": ("按诉求类型", "By record type"),
    "ca.mix.channel": ("按接收渠道", "By channel"),
    "ca.mix.object_type": ("按商品/服务", "By goods / services"),
    "ca.mix.category": ("按商品服务类别", "By category"),
    "ca.mix.problem_type": ("按问题类别", "By problem type"),
    "ca.key.note": ("五大重点领域：家用电子电器、服装鞋帽、装饰装修材料、交通工具、有关服务（投诉与举报）。环比为与紧邻的上一等长期间相比。",
                    "Five key categories named by policy (complaints and reports). Change = against the equally long period just before."),
    "ca.online.note": ("网购占比 = 标记为网购的记录 ÷ 全部记录；平台占比 = 该平台记录 ÷ 网购记录。",
                       "Online share = records flagged online ÷ all records; platform share = its records ÷ online records."),
    "ca.surges.family.category": ("按类别（全范围）", "By category (whole scope)"),
    "ca.surges.family.unit_category": ("按单位 × 类别", "By bureau × category"),
    "ca.surges.family.respondent": ("按被投诉/举报方", "By respondent"),
    "ca.surges.tested": ("检验单元 {tested} 个，检出激增 {found} 个；历史不足未检验 {untested} 个。",
                         "{tested} cells tested, {found} surges; {untested} not tested (too little history)."),
    "ca.surges.none": ("未检出激增。", "No surge found."),
    "ca.surges.method": (
        "方法：对每个序列（类别、单位×类别、被投诉/举报方）在报告期内的每个月 m，取其前 {k} 个月（数据起始之前的月份不计，至少 {kmin} 个月）为基线，"
        "基线合计 S、月数 k。若各月件数服从同一速率的泊松分布，则给定 x+S 时当月件数 x 服从二项分布 B(x+S, 1/(k+1))（泊松速率比的精确条件检验），"
        "单侧 p 值 = P(X ≥ x)。同一族序列内对全部检验单元作 Benjamini–Hochberg 校正。判为激增须同时满足：校正后 q ≤ {q}；当月件数 x ≥ {min_count}；"
        "x ≥ {ratio} × 基线月均 S/k（效应量，防止季节性高峰如3·15、双11被误判）。校正的检验总数 m 为该族全部“序列×月份”单元（被投诉方为当月有记录者）；"
        "低于最小件数的单元不可能判为激增，按 p = 1 计入（保守）。",
        "Method: for every series (category, bureau × category, respondent) and every month m of the period, the baseline is the "
        "{k} months before m (months before the data begin are not counted; at least {kmin} needed), with sum S over k months. If the "
        "monthly counts are Poisson with one rate, then given x + S the month's count x is Binomial(x + S, 1/(k + 1)) — the exact "
        "conditional test of a Poisson rate ratio; one-sided p = P(X ≥ x). p-values are adjusted with Benjamini–Hochberg within each "
        "family. A surge needs all of: q ≤ {q}; x ≥ {min_count}; x ≥ {ratio} × the baseline mean S/k (effect size, so seasonal peaks "
        "such as 3·15 or 双11 are not flagged). The adjustment's m counts every series × month of the family (for respondents: those "
        "with a record that month); cells below the minimum count cannot be flagged and enter with p = 1 (conservative)."),
    "ca.money.note": ("挽损率 = 挽回经济损失合计 ÷ 争议金额合计（全部记录）。金额单位：元。",
                      "Recovered ÷ disputed = total money recovered ÷ total amount disputed (all records). Yuan."),
    "ca.method.scope": ("范围按处理单位行政区划（handling_region_code）归属；期间按登记时间（received_at）归属。",
                        "Records belong to the scope by the handling bureau's code and to the period by the received date."),
    "ca.method.privacy": ("本页不显示投诉人任何信息（包括其加密标识），被投诉/举报方为经营者。",
                          "No complainant information is shown (not even the keyed hash); respondents are businesses."),
    # --- KPI scorecard
    "kpi.sec.table": ("各单位指标与目标值", "KPIs per bureau against targets"),
    "kpi.sec.charts": ("分指标比较", "Per KPI"),
    "kpi.sec.definitions": ("指标口径（唯一定义处：reports/kpi.py）", "KPI definitions (single source: reports/kpi.py)"),
    "kpi.fig": ("{kpi}（目标 {target}）", "{kpi} (target {target})"),
    "kpi.target_line": ("目标 {target}", "target {target}"),
    "kpi.status.green": ("达标", "met"),
    "kpi.status.red": ("未达标", "missed"),
    "kpi.status.none": ("无数据", "no data"),
    "kpi.legend": ("绿色 ✓ = 达到或优于目标值；红色 ✗ = 未达到；灰色 = 无分母。比率下方小字为分子/分母。",
                   "Green ✓ = meets or beats the target; red ✗ = misses it; grey = no denominator. Below each rate: numerator/denominator."),
    "kpi.cohort_note": ("投诉类指标按登记时间归期：期末登记的投诉可能尚未办结，办结率相应偏低。",
                        "Complaint KPIs use the records received in the period; records received near its end may still be open."),
    "kpi.hotline_missing": ("无热线话务数据：电话接通率显示为无数据。", "No hotline statistics: the answer rate shows no data."),
    # --- sampling report
    "sr.sec.summary": ("概况", "Summary"),
    "sr.sec.category": ("按产品类别", "By product category"),
    "sr.sec.venue": ("按抽样场所", "By venue"),
    "sr.sec.channel": ("线上与线下", "Online and offline"),
    "sr.sec.units": ("按地区", "By region"),
    "sr.sec.items": ("不合格项目", "Failed items"),
    "sr.sec.disposal": ("不合格商品核查处置", "Disposal of failed batches"),
    "sr.sec.method": ("口径与依据", "Definitions and basis"),
    "sr.tile.batches": ("抽检批次", "Batches"),
    "sr.tile.failed": ("不合格批次", "Failed batches"),
    "sr.tile.pass_rate": ("合格率", "Pass rate"),
    "sr.tile.safety": ("安全项目不合格", "Failed on safety"),
    "sr.tile.label": ("标签标识不合格", "Failed on labelling"),
    "sr.tile.overdue": ("处置逾期批次", "Overdue disposals"),
    "sr.fig.category": ("各产品类别合格率", "Pass rate by product category"),
    "sr.fig.venue": ("各场所类型合格率", "Pass rate by venue type"),
    "sr.fig.channel": ("线上/线下合格率", "Pass rate online / offline"),
    "sr.fig.units": ("各地区合格率", "Pass rate by region"),
    "sr.fig.split": ("不合格批次：安全项目与标签标识", "Failed batches: safety and labelling items"),
    "sr.fig.items": ("不合格项目（前{n}位）", "Failed items (top {n})"),
    "sr.fig.disposal": ("处置状态（截至 {as_of}）", "Disposal status (as of {as_of})"),
    "sr.split.safety_only": ("仅安全项目", "Safety only"),
    "sr.split.label_only": ("仅标签标识", "Labelling only"),
    "sr.split.both": ("安全与标签均有", "Both"),
    "sr.split.unspecified": ("未标注", "Not flagged"),
    "sr.step.correction": ("责令改正（{days}天）", "Correction ({days} days)"),
    "sr.step.reinspection": ("复查（{days}天）", "Re-inspection ({days} days)"),
    "sr.items.note": ("一个批次可有多个不合格项目；安全/标签标志按批次标注，“含安全项目批次”指该项目所在批次带有安全项目不合格标志。",
                      "A batch may fail several items; the safety / labelling flags are per batch."),
    "sr.col.item_safety": ("其中安全项目不合格批次", "of which batches flagged safety"),
    "sr.overdue.title": ("逾期未整改或未复查的批次", "Batches with an overdue correction or re-inspection"),
    "sr.overdue.none": ("无逾期处置。", "No overdue disposal."),
    "sr.disposal.note": (
        "依据《产品质量监督抽查管理暂行办法》（总局令第18号）第四十六、四十七条：自结果通知之日起 {c} 日内完成整改、{r} 日内组织复查（日历日；责令改正日期未报送，以结果通知日期计）。"
        "状态截至 {as_of}：晚于该日的整改、复查记录视为尚未完成。",
        "Order No. 18 Art. 46–47: correction within {c} days and re-inspection within {r} days of the result notice (calendar days; "
        "the order date is not delivered, the notice date is used). Status as of {as_of}: steps dated later count as not done."),
    "sr.method.pass_rate": ("合格率 = 检验结论“合格”批次 ÷ （合格 + 不合格）批次；按抽样日期归期，按抽样地行政区划归属。",
                            "Pass rate = batches 合格 ÷ (合格 + 不合格); by sampling date and sampling place."),
    "status.on_time": ("按期完成", "on time"),
    "status.overdue": ("逾期完成", "done late"),
    "status.open": ("期限内未完成", "open, within limit"),
    "status.open_overdue": ("逾期未完成", "open, overdue"),
    "status.unknown": ("无法判断", "unknown"),
    "channel.online": ("线上（电商）", "Online"),
    "channel.offline": ("线下", "Offline"),
}

# Controlled vocabularies of ingestion/schema.py, English names for lang="en".
VALUES_EN: dict[str, str] = {
    "投诉": "Complaint", "举报": "Report", "咨询": "Consultation",
    "电话": "Phone", "互联网": "Web", "微信": "WeChat", "APP": "App", "来信": "Letter", "来访": "Visit",
    "12345转办": "12345 transfer", "其他": "Other",
    "受理": "Accepted", "不予受理": "Not accepted", "商品": "Goods", "服务": "Services",
    "服装鞋帽": "Clothing & footwear", "一般食品": "Food", "家居用品": "Household goods", "交通工具": "Vehicles",
    "家用电子电器": "Household electronics & appliances", "通讯产品": "Telecom products", "烟酒饮料": "Tobacco, alcohol & drinks",
    "首饰": "Jewellery", "化妆品": "Cosmetics", "装饰装修材料": "Decoration & building materials", "药品": "Medicines",
    "医疗器械": "Medical devices", "保健食品": "Health food", "其他商品": "Other goods",
    "餐饮和住宿服务": "Catering & accommodation", "销售服务": "Sales services", "美容美发洗浴服务": "Beauty, hair & bath",
    "专业技术服务": "Professional services", "制作保养和修理服务": "Making, maintenance & repair",
    "教育培训服务": "Education & training", "电信服务": "Telecom services", "停车服务": "Parking",
    "文化娱乐体育服务": "Culture, entertainment & sports", "旅游服务": "Tourism", "金融服务": "Financial services",
    "洗涤染色服务": "Laundry & dyeing", "有关服务": "Related services", "其他服务": "Other services",
    "质量": "Quality", "售后服务": "After-sales service", "合同": "Contract", "食品安全": "Food safety", "广告": "Advertising",
    "价格": "Price", "安全": "Safety", "人身权利": "Personal rights", "计量": "Measurement", "假冒": "Counterfeit",
    "不正当竞争": "Unfair competition", "商标": "Trademark", "检验检测": "Testing", "虚假宣传": "False advertising",
    "欺诈": "Fraud",
    "达成调解协议": "Mediation agreement", "协商和解成功": "Settled", "消费者撤回": "Withdrawn", "终止调解": "Mediation ended",
    "协商和解不成功": "Not settled",
    "满意": "Satisfied", "基本满意": "Fairly satisfied", "不满意": "Dissatisfied", "未回访": "No callback",
    "商场": "Department store", "超市": "Supermarket", "市场": "Market", "专卖店": "Brand store", "电商": "E-commerce",
    "合格": "Pass", "不合格": "Fail",
}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang {lang!r}: expected one of {LANGS}")
    return lang


def label(key: str, lang: str = "zh", **fmt) -> str:
    text = LABELS[key][LANGS.index(check_lang(lang))]
    return text.format(**fmt) if fmt else text


def translator(lang: str):
    check_lang(lang)

    def t(key: str, **fmt) -> str:
        return label(key, lang, **fmt)

    return t


def value_label(value, lang: str = "zh") -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return label("common.not_given", lang)
    s = str(value)
    if lang == "en":
        return VALUES_EN.get(s, s)
    return s


def value_translator(lang: str):
    check_lang(lang)

    def v(value) -> str:
        return value_label(value, lang)

    return v
