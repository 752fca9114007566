"""The warehouse contract for delivered files (DESIGN.md Appendix A).

One place names every column of the four delivered tables: its canonical name, its type in
staging/clean, the Chinese header a bureau's export may carry instead (登记编号, 诉求类型, ...),
whether it is personal data (PII: only ``raw`` may keep it) and whether a delivery must carry it.

The synthetic generator writes these headers, ingestion maps delivered headers onto them, and
the data-quality rulebook refers to the same names, so a column is renamed here or nowhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # staging type: text | timestamp | date | bool | decimal | int | double
    zh: str  # the Chinese header of a 12315 / sampling export
    required: bool = False  # a file without this header is refused
    pii: bool = False  # personal data: kept in raw only, never in staging/clean
    aliases: tuple[str, ...] = ()  # further headers seen in real exports


@dataclass(frozen=True)
class TableSchema:
    name: str  # canonical table name in raw/staging/clean
    zh: str
    key: str  # unique record key
    month_column: str  # the column that assigns a row to a monthly partition (year for profiles)
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def pii_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.pii]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


COMPLAINTS = TableSchema(
    name="complaints",
    zh="12315投诉举报咨询登记",
    key="record_id",
    month_column="received_at",
    columns=(
        Column("record_id", "text", "登记编号", required=True, aliases=("工单号",)),
        Column("record_type", "text", "诉求类型", required=True, aliases=("记录类型", "类型")),
        Column("channel", "text", "接收方式", aliases=("来源渠道", "渠道")),
        Column("received_at", "timestamp", "登记时间", required=True, aliases=("登记日期", "接收时间")),
        Column("accepted_at", "timestamp", "受理决定时间", aliases=("受理时间",)),
        Column("closed_at", "timestamp", "办结时间", aliases=("办结日期",)),
        Column("accept_decision", "text", "受理决定", aliases=("是否受理",)),
        Column("entry_unit_id", "text", "录入单位", aliases=("录入单位编码",)),
        Column("handling_region_code", "text", "处理单位行政区划", aliases=("承办单位区划代码",)),
        Column("respondent_name", "text", "被投诉举报方名称", aliases=("被投诉对象名称", "涉及主体名称")),
        Column("respondent_uscc", "text", "被投诉方统一社会信用代码", aliases=("统一社会信用代码", "社会信用代码")),
        Column("respondent_region_code", "text", "被投诉方行政区划", aliases=("销售地行政区划",)),
        Column("object_type", "text", "客体类型", aliases=("商品服务类型",)),
        Column("category", "text", "客体类别", aliases=("商品服务类别",)),
        Column("problem_type", "text", "问题类别", aliases=("投诉问题类别",)),
        Column("is_online", "bool", "是否网购"),
        Column("platform_name", "text", "电商平台"),
        Column("amount_disputed", "decimal", "争议金额", aliases=("消费金额",)),
        Column("amount_recovered", "decimal", "挽回经济损失", aliases=("挽回经济损失金额",)),
        Column("mediation_result", "text", "调解结果"),
        Column("settled_by_business", "bool", "企业自行和解", aliases=("ODR和解",)),
        Column("case_filed", "bool", "是否诉转案", aliases=("诉转案",)),
        Column("report_substantiated", "bool", "举报是否查实", aliases=("举报查实",)),
        Column("satisfaction", "text", "回访满意度", aliases=("满意度",)),
        Column("complainant_name", "text", "投诉人姓名", pii=True, aliases=("姓名", "提供方姓名")),
        Column("complainant_phone", "text", "联系电话", pii=True, aliases=("投诉人电话", "来电号码")),
        Column("complainant_id_number", "text", "证件号码", pii=True, aliases=("身份证号码", "投诉人证件号码")),
        Column("content", "text", "诉求内容", aliases=("投诉内容",)),
    ),
)

SAMPLING = TableSchema(
    name="sampling_results",
    zh="商品质量抽检结果",
    key="sample_id",
    month_column="sampled_on",
    columns=(
        Column("sample_id", "text", "样品编号", required=True, aliases=("抽样单编号",)),
        Column("plan_id", "text", "计划编号", aliases=("任务编号",)),
        Column("sampled_on", "date", "抽样日期", required=True),
        Column("region_code", "text", "抽样地行政区划", required=True, aliases=("行政区划代码",)),
        Column("venue_type", "text", "抽样场所类型", aliases=("场所类型",)),
        Column("is_online", "bool", "是否电商"),
        Column("product_category", "text", "产品类别"),
        Column("product_name", "text", "产品名称"),
        Column("brand", "text", "商标品牌", aliases=("品牌",)),
        Column("seller_name", "text", "被抽样单位名称", aliases=("销售者名称",)),
        Column("seller_uscc", "text", "被抽样单位统一社会信用代码", aliases=("销售者统一社会信用代码",)),
        Column("manufacturer_name", "text", "标称生产者名称", aliases=("生产者名称",)),
        Column("manufacturer_uscc", "text", "标称生产者统一社会信用代码", aliases=("生产者统一社会信用代码",)),
        Column("standard_code", "text", "执行标准"),
        Column("result", "text", "检验结论", required=True, aliases=("结论",)),
        Column("failed_items", "text", "不合格项目"),
        Column("failed_safety_item", "bool", "安全项目不合格"),
        Column("failed_label_item", "bool", "标签标识不合格"),
        Column("notified_on", "date", "结果通知日期"),
        Column("stop_sale_on", "date", "停止销售日期"),
        Column("correction_due_on", "date", "责令改正期限"),
        Column("corrected_on", "date", "整改完成日期"),
        Column("reinspected_on", "date", "复查日期"),
        Column("reinspection_result", "text", "复查结论"),
    ),
)

HOTLINE = TableSchema(
    name="hotline_stats",
    zh="12315热线话务统计",
    key="unit_id,month",
    month_column="month",
    columns=(
        Column("unit_id", "text", "话务单位", required=True, aliases=("单位编码",)),
        Column("region_code", "text", "行政区划代码", required=True),
        Column("month", "date", "统计月份", required=True, aliases=("月份",)),
        Column("calls_offered", "int", "呼入量", required=True, aliases=("呼入总量",)),
        Column("calls_answered_first", "int", "首次接通量", aliases=("一次接通量",)),
        Column("calls_answered", "int", "接通量", aliases=("人工接通量",)),
    ),
)

REGION_PROFILES = TableSchema(
    name="region_profiles",
    zh="地区基础概况",
    key="region_code,year",
    month_column="year",
    columns=(
        Column("region_code", "text", "行政区划代码", required=True),
        Column("year", "int", "年份", required=True, aliases=("年度",)),
        Column("population", "int", "常住人口"),
        Column("market_entities", "int", "市场主体数量", aliases=("市场主体数",)),
        Column("service_stations", "int", "12315维权服务站数", aliases=("消费维权服务站数",)),
        Column("consumer_org_branches", "int", "消协分会数", aliases=("消费者权益保护组织数",)),
        Column("protection_staff", "int", "消费维权人员数"),
        Column("protection_funding_10k_yuan", "double", "消费维权经费(万元)", aliases=("消费维权经费",)),
        Column("special_equipment_units", "int", "特种设备数量", aliases=("特种设备台数",)),
        Column("special_equipment_accidents", "int", "特种设备事故数"),
        Column("annual_report_rate", "double", "年报公示率"),
        # 识别便利 (DESIGN.md §4): price-marking / licence-display inspections and online licence e-marks;
        # self-reported by the bureaus, optional (older deliveries lack them)
        Column("inspected_businesses", "int", "检查经营户数", aliases=("明码标价检查户数",)),
        Column("inspected_price_licence_ok", "int", "明码标价且亮照经营户数", aliases=("亮照经营户数",)),
        Column("online_shops", "int", "网店数", aliases=("网络经营主体数",)),
        Column("online_shops_emark", "int", "亮照网店数", aliases=("公示电子营业执照网店数",)),
    ),
)

TABLES: dict[str, TableSchema] = {t.name: t for t in (COMPLAINTS, SAMPLING, HOTLINE, REGION_PROFILES)}

# Controlled vocabularies (docs/domain.md §2.3). The DQ rulebook checks code lists against these.
RECORD_TYPES = ("投诉", "举报", "咨询")
CHANNELS = ("电话", "互联网", "微信", "APP", "来信", "来访", "12345转办", "其他")
ACCEPT_DECISIONS = ("受理", "不予受理")
OBJECT_TYPES = ("商品", "服务")
GOODS_CATEGORIES = (
    "服装鞋帽", "一般食品", "家居用品", "交通工具", "家用电子电器", "通讯产品", "烟酒饮料", "首饰",
    "化妆品", "装饰装修材料", "药品", "医疗器械", "保健食品", "其他商品",
)
SERVICE_CATEGORIES = (
    "餐饮和住宿服务", "销售服务", "美容美发洗浴服务", "专业技术服务", "制作保养和修理服务", "教育培训服务",
    "电信服务", "停车服务", "文化娱乐体育服务", "旅游服务", "金融服务", "洗涤染色服务", "有关服务", "其他服务",
)
# 五大重点领域 named by policy (DESIGN.md §1, 工商消字〔2013〕133号): the five key AREAS. Which categories
# belong to each (家用电子电器 + 通讯产品; every service category for 有关服务) is the one mapping table
# reference/data/key_categories.csv (reference.categories) — never test a category against this tuple.
from reference.categories import KEY_AREAS as KEY_CATEGORIES  # noqa: E402
PROBLEM_TYPES = (
    "质量", "售后服务", "合同", "食品安全", "广告", "价格", "安全", "人身权利", "计量", "假冒",
    "不正当竞争", "商标", "检验检测", "虚假宣传", "欺诈", "其他",
)
MEDIATION_RESULTS = ("达成调解协议", "协商和解成功", "消费者撤回", "终止调解", "协商和解不成功", "其他")
MEDIATION_SUCCESS = ("达成调解协议", "协商和解成功")
SATISFACTION_LEVELS = ("满意", "基本满意", "不满意", "未回访")
VENUE_TYPES = ("商场", "超市", "市场", "专卖店", "电商")
SAMPLING_RESULTS = ("合格", "不合格")
