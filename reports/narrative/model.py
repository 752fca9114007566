"""The facts a narrative analysis is written from, and the text it returns. Plain dataclasses: the
gathering code (:mod:`reports.narrative.gather`) fills them from the warehouse, tests build them by
hand, :func:`reports.narrative.compose.compose` turns them into sections. Numbers stay numbers here
(shares as fractions, money in yuan); names are display names (never codes or internal ids, except
``node_id`` / ``parent_id``, which only select a label and are never printed)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    key: str  # overview | ranking | dimensions | boards | key_categories | hotspots | sampling | data_quality
    heading: str
    paragraphs: tuple[tuple[str, ...], ...]  # each paragraph a tuple of sentences

    @property
    def sentences(self) -> list[str]:
        return [s for p in self.paragraphs for s in p]


@dataclass
class RegionFact:
    name: str
    score: float | None
    rank: int | None
    grade: str | None = None  # 优 / 良 / 中 / 差
    prev_score: float | None = None
    prev_rank: int | None = None
    # index_model.change_verdicts: attributed (beyond noise) | within_noise | unchanged | None (not judged)
    verdict: str | None = None
    drivers: list[tuple[str, float]] = field(default_factory=list)  # (indicator label, score effect)
    signal: float | None = None  # the part of the score change carried by changes beyond noise
    noise: float | None = None  # the part within noise

    @property
    def significant(self) -> int:
        """+1 / -1 when the score rose / fell with the changes beyond noise pointing the same way, else 0."""
        if self.verdict != "attributed" or self.score is None or self.prev_score is None or self.signal is None:
            return 0
        delta = self.score - self.prev_score
        if delta > 0 and self.signal >= 0.005:
            return 1
        if delta < 0 and self.signal <= -0.005:
            return -1
        return 0


@dataclass
class DimensionFact:
    label: str
    median: float | None
    prev_median: float | None
    best: tuple[str, float] | None  # (region name, score)
    worst: tuple[str, float] | None
    n_regions: int = 0
    n_up: int = 0  # regions whose score in the dimension rose with a change beyond noise behind it
    n_down: int = 0
    n_compared: int = 0  # regions with a score in both periods


@dataclass
class IndexFacts:
    regions: list[RegionFact]  # ordered by rank
    dimensions: list[DimensionFact] = field(default_factory=list)
    has_prev: bool = False
    noise_level: float = 0.95


@dataclass
class BoardFact:
    region: str
    kind: str  # weakest | strongest
    label: str
    value: float
    reference: str  # target | median
    reference_value: float
    is_pct: bool = False
    is_indicator: bool = True
    trend: str | None = None  # improved | worsened | within_noise | unchanged | None
    change: float | None = None
    self_reported: bool = False
    parent_id: str | None = None  # the sub-dimension, selects the advice label (never printed)
    node_id: str | None = None


@dataclass
class KpiFact:
    label: str
    numerator: int
    denominator: int
    target: float | None
    status: str  # green | red | none | info (reports.kpi)
    unit: str | None = None  # None = the whole scope
    few_records: bool = False
    per10k: bool = False  # shown as a number per 10,000, not a percentage

    @property
    def rate(self) -> float | None:
        if self.denominator <= 0:
            return None
        return self.numerator * (10000 if self.per10k else 1) / self.denominator


@dataclass
class CountFact:
    label: str
    n: int
    prev: int | None = None  # None: the period compared with is not covered by the data
    share: float | None = None  # of the whole this count belongs to
    online: int | None = None  # of which online purchases
    top_problem: tuple[str, int] | None = None


@dataclass
class ComplaintFacts:
    total: CountFact
    by_type: list[CountFact]  # 投诉 / 举报 / 咨询
    online: int
    prev_online: int | None
    prev_total: int | None
    disputed: float  # yuan
    recovered: float  # yuan
    prev_recovered: float | None = None
    goods: int | None = None  # complaints and reports about goods / services
    services: int | None = None
    complaints_reports: int | None = None  # 投诉 + 举报 (the base of category and problem shares)
    categories: list[CountFact] = field(default_factory=list)  # largest first
    problems: list[CountFact] = field(default_factory=list)  # largest first
    key_categories: list[CountFact] = field(default_factory=list)  # the five, in their fixed order


@dataclass
class SurgeFact:
    series: str  # category, or region · category
    month: str  # label
    count: int
    expected: float
    ratio: float


@dataclass
class HotspotFacts:
    surges: list[SurgeFact]
    tested: int
    # a rising category or problem among the largest (count beyond noise): (label, n, prev)
    rising: list[CountFact] = field(default_factory=list)


@dataclass
class SamplingFacts:
    passed: int
    failed: int
    prev_passed: int | None = None
    prev_failed: int | None = None
    failed_safety: int = 0
    failed_label: int = 0
    worst: list[tuple[str, int, int]] = field(default_factory=list)  # (product category, batches, failed)
    key_categories: list[tuple[str, int, int]] = field(default_factory=list)  # (key category, batches, failed)
    overdue: int = 0
    min_batches: int = 20

    @property
    def tested(self) -> int:
        return self.passed + self.failed


@dataclass
class QualityFacts:
    rows_checked: int = 0
    rows_quarantined: int = 0
    rows_flagged: int = 0
    months_checked: int = 0
    stale_months: list[str] = field(default_factory=list)
    small_count_cells: int = 0
    value_cells: int = 0
    self_reported: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # notes of the index outputs, already in the page language
    provisional: str = ""


@dataclass
class NarrativeInput:
    scope_name: str  # 江苏省
    period_label: str  # 2025年
    comparison_label: str  # 2024年 (the period changes are measured against)
    comparison_kind: str  # yoy (a year against the year before: 同比) | pop (against the period just before: 环比)
    unit_word: str = "region"  # region | city | county | province: what the scope's units are called
    index: IndexFacts | None = None
    complaints: ComplaintFacts | None = None
    hotspots: HotspotFacts | None = None
    sampling: SamplingFacts | None = None
    kpis: list[KpiFact] = field(default_factory=list)  # the scope total (unit None) and every unit
    boards: list[BoardFact] = field(default_factory=list)
    quality: QualityFacts | None = None
