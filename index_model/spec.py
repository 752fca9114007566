"""Index specification: hierarchy, indicator metadata and method choices, loaded from versioned YAML.

A spec describes a composite indicator as a tree (OECD/JRC Handbook 2008, step 1 "theoretical
framework"; COINr's ``iMeta`` table plays the same role): one composite (level 0), its
dimensions (L1), sub-dimensions (L2) and the indicators (L3, leaves). Every indicator carries its
direction (+1 higher is better / -1 lower is better), an optional fixed weight, an optional
target, the minimum number of records behind a trustworthy value (``min_records``) and its
source (complaints | sampling | hotline | profile). The ``methods`` block selects normalisation,
weighting, aggregation, the missing-data rule, the small-count treatment, ranking, grade bands,
optional data preparation (denominate, impute, screen, treat outliers) and the Monte-Carlo
uncertainty settings.

Loading (:func:`load_spec`) fails with :class:`SpecError`, listing every problem found and naming
the node: an id referenced but never defined, an indicator defined but not placed in the tree, a
node with two parents, a cycle, a bad direction, fixed weights of one parent's children that do
not add up to 1, an unknown method, an inconsistent AHP matrix (CR > threshold) ... Data lacking
an indicator fails in :meth:`IndexSpec.check_data`.

Shipped specs (``index_model/specs/``, each file's ``spec_version`` = its name):

* ``default_v2.yaml`` — **the default** (:func:`default_spec`): DESIGN.md §4 with the L2 识别便利,
  every indicator normalised on **fixed goalposts** stored in the spec beside the reason and source of
  each (UNDP HDI style): the published target where a source document gives one, else a stated
  reference value, else multiples of the scope's pooled value in a stated **base period**
  (``methods.normalisation.base_period``). Values beyond a goalpost are capped, so scores stay in
  [0, 100], do not depend on the other regions of the period, and compare across periods.
* ``default_v1.yaml`` — the earlier default: min-max within the period (scores relative to the
  period's regions), kept for comparison and for scores stored under it.

Goalposts (normalisation ``{method: goalposts, low, high}`` on an indicator; ``low`` is the value
scoring 0 for a + indicator and 100 for a − one): ``relative_to: base`` makes ``low``/``high``
multiples of a base value, ``per_year: true`` marks a count per period (per-10k incidence) whose
goalposts are scaled by the period's share of a year. :func:`resolve_goalposts` turns both into
plain numbers before the model runs (``indicators.scores.index_for`` does it with the base period's
stored pooled values); the model refuses unresolved relative goalposts.

Indicator ids of ``default_v2`` (``default_v1`` lacks the two 识别便利 ones) — the contract with the SQL indicator layer
(``mart.indicator_values.indicator_id``). Shares and rates are proportions in [0, 1]; targets
are proportions too. ``record_count`` is the number of records behind the value: the
denominator for shares of records, the numerator count for per-10k incidence rates.

=========================================  ===  ==========  ======  ========================================
indicator_id                               dir  source      target  L2 node (L1)
=========================================  ===  ==========  ======  ========================================
sampling_pass_rate                         +1   sampling            product_quality_safety (safety)
key_category_pass_rate                     +1   sampling            product_quality_safety (safety)
failed_disposed_on_time_rate               +1   sampling    1       product_quality_safety (safety)
safety_complaints_per_10k_residents        -1   complaints          safety_complaints (safety)
special_equipment_accidents_per_10k_units  -1   profile             special_equipment_safety (safety)
complaints_per_10k_entities                -1   complaints          business_integrity (integrity)
fraud_false_ad_share                       -1   complaints          business_integrity (integrity)
substantiated_reports_per_10k_entities     -1   complaints          business_integrity (integrity)
annual_report_filing_rate                  +1   profile             information_disclosure (integrity)
label_failure_share                        -1   sampling            labelling_integrity (integrity)
business_settled_share                     +1   complaints          voluntary_settlement (integrity)
hotline_first_answer_rate                  +1   hotline     0.95    channel_convenience (convenience)
online_channel_share                       +1   complaints          channel_convenience (convenience)
price_licence_display_rate                 +1   profile     1       identification_convenience (convenience)
online_licence_emark_rate                  +1   profile     1       identification_convenience (convenience)
service_stations_per_10k_entities          +1   profile             redress_stations (convenience)
acceptance_within_7wd_rate                 +1   complaints          handling_timeliness (convenience)
median_working_days_to_close               -1   complaints          handling_timeliness (convenience)
closure_rate                               +1   complaints  1       complaint_handling (rights_protection)
mediation_success_rate                     +1   complaints  0.8     complaint_handling (rights_protection)
satisfaction_rate                          +1   complaints  0.95    complaint_handling (rights_protection)
money_recovery_ratio                       +1   complaints          complaint_handling (rights_protection)
complaint_to_case_rate                     +1   complaints  0.05    enforcement (rights_protection)
report_checked_within_15wd_rate            +1   complaints          enforcement (rights_protection)
report_substantiation_rate                 +1   complaints          enforcement (rights_protection)
consumer_orgs_per_10k_residents            +1   profile             rights_organisations (rights_protection)
protection_funding_per_10k_residents       +1   profile             protection_measures (rights_protection)
protection_staff_per_10k_residents         +1   profile             protection_measures (rights_protection)
=========================================  ===  ==========  ======  ========================================

Aggregate ids: ``cei`` (composite 消费环境指数); L1 ``safety``, ``integrity``, ``convenience``,
``rights_protection``; L2 as in the table. DESIGN.md's single row "consumer-protection funding
and staff per 10k residents" is split into two indicators (funding and staff have different
units and cannot be added); every other row of the table is one indicator. Numerators,
denominators and filters of each indicator are in the YAML (``definition``).
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from importlib.resources import files
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

__all__ = [
    "SpecError",
    "Indicator",
    "Aggregate",
    "Methods",
    "IndexSpec",
    "load_spec",
    "default_spec",
    "default_spec_path",
    "shipped_spec_path",
    "resolve_goalposts",
    "DEFAULT_SPEC_VERSION",
    "dump_spec",
    "NORMALISATION_METHODS",
    "WEIGHTING_METHODS",
    "AGGREGATION_METHODS",
    "SMALL_COUNT_TREATMENTS",
    "SOURCES",
]

NORMALISATION_METHODS = ("minmax", "zscore", "distance_to_target", "percentile_rank", "goalposts")
WEIGHTING_METHODS = ("equal", "fixed", "ahp", "entropy")
AGGREGATION_METHODS = ("arithmetic", "geometric")
SMALL_COUNT_TREATMENTS = ("shrink", "missing", "flag", "none")
IMPUTATION_METHODS = ("none", "mean", "median", "group_mean", "group_median")
TREATMENT_METHODS = ("none", "winsorise")
SOURCES = ("complaints", "sampling", "hotline", "profile")
NOISE_MODELS = ("binomial", "poisson", "none")  # index_model.noise
WEIGHT_TOLERANCE = 1e-6
DEFAULT_SPEC_VERSION = "default_v2"


class SpecError(ValueError):
    """A spec (or the data given to it) is invalid. ``problems`` lists every problem found."""

    def __init__(self, problems: Iterable[str], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        head = f"invalid index spec{f' {source}' if source else ''}"
        if len(self.problems) == 1:
            msg = f"{head}: {self.problems[0]}"
        else:
            msg = f"{head}: {len(self.problems)} problems:\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(msg)


@dataclass(frozen=True)
class Indicator:
    """A leaf of the hierarchy (an L3 indicator)."""

    id: str
    label_zh: str = ""
    label_en: str = ""
    direction: int = 1
    weight: float | None = None
    target: float | None = None
    min_records: int | None = None
    source: str | None = None
    unit: str | None = None
    definition: str | None = None
    denominator: str | None = None  # data column to divide by (COINr ``Denominate``)
    normalisation: Mapping[str, Any] | None = None  # per-indicator override of methods.normalisation
    treatment: str | None = None  # "none" exempts this indicator from outlier treatment
    goalpost_basis: str | None = None  # why the goalposts are where they are, with the source quoted
    noise: str | None = None  # sampling model of the value (index_model.noise): binomial | poisson | none
    self_reported: bool = False  # built on figures the bureaus report themselves: reports carry a caveat

    @property
    def is_indicator(self) -> bool:
        return True


@dataclass(frozen=True)
class Aggregate:
    """An inner node (composite, dimension or sub-dimension)."""

    id: str
    children: tuple[str, ...]
    label_zh: str = ""
    label_en: str = ""
    weight: float | None = None
    weighting: Mapping[str, Any] | None = None  # how THIS node weights its children (override)
    aggregation: str | None = None  # override of methods.aggregation for this node
    min_coverage: float | None = None  # override of methods.missing.min_coverage

    @property
    def is_indicator(self) -> bool:
        return False


@dataclass(frozen=True)
class Methods:
    """Method choices. Dicts keep the parameters of the chosen method (see ``specs/default_v2.yaml``)."""

    normalisation: Mapping[str, Any] = field(default_factory=lambda: {"method": "minmax", "low": 0.0, "high": 100.0})
    weighting: Mapping[str, Any] = field(default_factory=lambda: {"method": "equal"})
    aggregation: str = "arithmetic"
    min_coverage: float = 0.0
    small_count: Mapping[str, Any] = field(default_factory=lambda: {"treatment": "none", "min_records": 0, "count_suffix": "__n"})
    ranking: Mapping[str, Any] = field(default_factory=lambda: {"ties": "min", "decimals": None})
    grades: tuple[tuple[str, float | None], ...] = ()
    grade_meanings: Mapping[str, str] = field(default_factory=dict)  # band label -> what it means
    imputation: Mapping[str, Any] = field(default_factory=lambda: {"method": "none"})
    screening: Mapping[str, Any] = field(default_factory=lambda: {"min_unit_coverage": 0.0})
    treatment: Mapping[str, Any] = field(default_factory=lambda: {"method": "none"})
    uncertainty: Mapping[str, Any] = field(default_factory=dict)
    noise: Mapping[str, Any] = field(default_factory=dict)  # level, by_kind, change rule (index_model.noise)


@dataclass(frozen=True)
class IndexSpec:
    """A validated index specification. Build it with :func:`load_spec`."""

    spec_version: str
    root: str
    nodes: Mapping[str, Indicator | Aggregate]
    methods: Methods
    name_zh: str = ""
    name_en: str = ""
    unit_id: str | None = None
    description: str = ""
    methodology: str = ""  # free text: how scores and grade bands read (shown in the methodology)
    source: str | None = None
    # derived by load_spec
    parent: Mapping[str, str | None] = field(default_factory=dict)
    level: Mapping[str, int] = field(default_factory=dict)
    preorder: tuple[str, ...] = ()

    # ---- navigation -------------------------------------------------------------------------
    @property
    def indicator_ids(self) -> list[str]:
        """Indicator ids in hierarchy (pre-order) order."""
        return [n for n in self.preorder if isinstance(self.nodes[n], Indicator)]

    @property
    def aggregate_ids(self) -> list[str]:
        """Aggregate ids, root first (pre-order)."""
        return [n for n in self.preorder if isinstance(self.nodes[n], Aggregate)]

    @property
    def postorder_aggregates(self) -> list[str]:
        """Aggregates so that every node comes after all its descendants (evaluation order)."""
        out: list[str] = []

        def visit(n: str) -> None:
            node = self.nodes[n]
            if isinstance(node, Aggregate):
                for c in node.children:
                    visit(c)
                out.append(n)

        visit(self.root)
        return out

    @property
    def indicators(self) -> list[Indicator]:
        return [self.nodes[i] for i in self.indicator_ids]  # type: ignore[misc]

    def children(self, node_id: str) -> tuple[str, ...]:
        node = self.nodes[node_id]
        return node.children if isinstance(node, Aggregate) else ()

    def leaves(self, node_id: str) -> list[str]:
        """Indicator ids below (or equal to) ``node_id``."""
        node = self.nodes[node_id]
        if isinstance(node, Indicator):
            return [node_id]
        return [leaf for c in node.children for leaf in self.leaves(c)]

    def ancestors(self, node_id: str) -> list[str]:
        out = []
        p = self.parent.get(node_id)
        while p is not None:
            out.append(p)
            p = self.parent.get(p)
        return out

    def path(self, node_id: str) -> list[str]:
        """Root ... node_id."""
        return list(reversed(self.ancestors(node_id))) + [node_id]

    def aggregation_of(self, agg_id: str) -> str:
        node = self.nodes[agg_id]
        assert isinstance(node, Aggregate)
        return node.aggregation or self.methods.aggregation

    def weighting_of(self, agg_id: str) -> Mapping[str, Any]:
        node = self.nodes[agg_id]
        assert isinstance(node, Aggregate)
        return node.weighting or self.methods.weighting

    def min_coverage_of(self, agg_id: str) -> float:
        node = self.nodes[agg_id]
        assert isinstance(node, Aggregate)
        return self.methods.min_coverage if node.min_coverage is None else node.min_coverage

    def normalisation_of(self, ind_id: str) -> Mapping[str, Any]:
        node = self.nodes[ind_id]
        assert isinstance(node, Indicator)
        return node.normalisation or self.methods.normalisation

    def min_records_of(self, ind_id: str) -> int:
        node = self.nodes[ind_id]
        assert isinstance(node, Indicator)
        if node.min_records is not None:
            return int(node.min_records)
        return int(self.methods.small_count.get("min_records", 0) or 0)

    def label(self, node_id: str, lang: str = "zh") -> str:
        node = self.nodes[node_id]
        text = node.label_zh if lang == "zh" else node.label_en
        return text or node.label_en or node.label_zh or node_id

    # ---- data contract ----------------------------------------------------------------------
    def check_data(self, columns: Iterable[str], *, what: str = "data") -> None:
        """Fail with :class:`SpecError` when ``columns`` lack an indicator or denominator of the spec."""
        cols = set(columns)
        problems = []
        missing = [i for i in self.indicator_ids if i not in cols]
        if missing:
            problems.append(
                f"{what} lacks indicator(s) {', '.join(missing)} defined in the spec "
                f"(available columns: {', '.join(sorted(map(str, cols))) or 'none'})"
            )
        dens = sorted({ind.denominator for ind in self.indicators if ind.denominator and ind.denominator not in cols})
        if dens:
            problems.append(f"{what} lacks denominator column(s) {', '.join(dens)} named by the spec")
        if problems:
            raise SpecError(problems, self.source)

    # ---- variants -------------------------------------------------------------------------
    def with_methods(self, **changes: Any) -> "IndexSpec":
        """A copy with some method choices replaced (re-validated), e.g. ``with_methods(aggregation="geometric")``."""
        data = self.to_dict()
        m = data["methods"]
        for key, value in changes.items():
            if key == "min_coverage":
                m.setdefault("missing", {})["min_coverage"] = value
            elif key == "aggregation" and isinstance(value, str):
                m["aggregation"] = {"method": value}
            elif key == "weighting" and isinstance(value, str):
                m["weighting"] = {"method": value}
            else:
                m[key] = copy.deepcopy(value)
        return load_spec(data)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form that :func:`load_spec` accepts (and :func:`dump_spec` writes as YAML)."""
        m = self.methods
        methods: dict[str, Any] = {
            "normalisation": dict(m.normalisation),
            "weighting": copy.deepcopy(dict(m.weighting)),
            "aggregation": {"method": m.aggregation},
            "missing": {"min_coverage": m.min_coverage},
            "small_count": dict(m.small_count),
            "ranking": dict(m.ranking),
            "grades": [{"label": lab, "min": lo, **({"meaning": m.grade_meanings[lab]} if lab in m.grade_meanings else {})}
                       for lab, lo in m.grades],
            "imputation": dict(m.imputation),
            "screening": dict(m.screening),
            "treatment": copy.deepcopy(dict(m.treatment)),
            "uncertainty": copy.deepcopy(dict(m.uncertainty)),
            **({"noise": copy.deepcopy(dict(m.noise))} if m.noise else {}),
        }
        aggs, inds = [], []
        for nid in self.preorder:
            node = self.nodes[nid]
            if isinstance(node, Aggregate):
                d: dict[str, Any] = {"id": nid, "label_zh": node.label_zh, "label_en": node.label_en,
                                     "children": list(node.children)}
                if node.weight is not None:
                    d["weight"] = node.weight
                if node.weighting is not None:
                    d["weighting"] = copy.deepcopy(dict(node.weighting))
                if node.aggregation is not None:
                    d["aggregation"] = node.aggregation
                if node.min_coverage is not None:
                    d["min_coverage"] = node.min_coverage
                aggs.append(d)
            else:
                d = {"id": nid, "label_zh": node.label_zh, "label_en": node.label_en, "direction": node.direction}
                for key in ("weight", "target", "min_records", "source", "unit", "definition", "denominator", "treatment",
                            "goalpost_basis", "noise"):
                    v = getattr(node, key)
                    if v is not None:
                        d[key] = v
                if node.self_reported:
                    d["self_reported"] = True
                if node.normalisation is not None:
                    d["normalisation"] = dict(node.normalisation)
                inds.append(d)
        return {
            "spec_version": self.spec_version,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "description": self.description,
            **({"methodology": self.methodology} if self.methodology else {}),
            "unit_id": self.unit_id,
            "root": self.root,
            "methods": methods,
            "aggregates": aggs,
            "indicators": inds,
        }


# ------------------------------------------------------------------------------------------------
# loading and validation
# ------------------------------------------------------------------------------------------------

def shipped_spec_path(version: str) -> Path:
    """Path of a spec shipped in ``index_model/specs/`` (``default_v1``, ``default_v2``)."""
    p = Path(str(files("index_model") / "specs" / f"{version}.yaml"))
    if not p.exists():
        raise SpecError([f"no shipped spec {version!r} in {p.parent}"])
    return p


def default_spec_path() -> Path:
    return shipped_spec_path(DEFAULT_SPEC_VERSION)


def default_spec() -> IndexSpec:
    """The shipped default spec (``spec_version: default_v2``: DESIGN.md §4 on fixed goalposts)."""
    return load_spec(default_spec_path())


def resolve_goalposts(spec: IndexSpec, base: Mapping[str, float] | None = None, *,
                      period_fraction: float = 1.0) -> IndexSpec:
    """A copy of ``spec`` whose goalposts are plain numbers (same ``spec_version``).

    ``base``: indicator id -> base value (the scope's pooled value in the spec's base period, for a
    whole year) for goalposts with ``relative_to: base``; their ``low``/``high`` are multiples of it.
    ``period_fraction``: the period's share of a year (a quarter 0.25): goalposts of ``per_year``
    indicators (counts per period) are multiplied by it. Each resolved block records what was used
    (``base_value``, ``period_fraction``). Raises :class:`SpecError` naming every relative goalpost
    without a usable (finite, > 0) base value.
    """
    if not 0 < period_fraction <= 1:
        raise SpecError([f"period_fraction {period_fraction} must be within (0, 1]"], spec.source)
    data = spec.to_dict()
    problems = []
    changed = False
    for d in data["indicators"]:
        norm = d.get("normalisation")
        if not norm or norm.get("method") != "goalposts":
            continue
        factor = 1.0
        if norm.get("relative_to") == "base":
            b = (base or {}).get(d["id"])
            if b is None or not math.isfinite(float(b)) or float(b) <= 0:
                problems.append(f"indicator '{d['id']}': goalposts are relative to a base value, but none was "
                                f"given (base {b!r})")
                continue
            factor *= float(b)
            norm["base_value"] = float(b)
            del norm["relative_to"]
            changed = True  # also when the base is exactly 1: the mark must go
        if norm.get("per_year") and period_fraction != 1.0:
            factor *= period_fraction
            norm["period_fraction"] = period_fraction
            del norm["per_year"]  # applied once: resolving the result again must not scale twice
            changed = True
        if factor != 1.0:
            norm["low"] = float(norm["low"]) * factor
            norm["high"] = float(norm["high"]) * factor
    if problems:
        raise SpecError(problems, spec.source)
    if not changed:
        return spec
    out = load_spec(data)
    return IndexSpec(**{**out.__dict__, "source": spec.source})


def relative_goalposts(spec: IndexSpec) -> list[str]:
    """Indicator ids whose goalposts still need a base value (``relative_to: base``)."""
    return [i for i in spec.indicator_ids if spec.normalisation_of(i).get("relative_to") == "base"]


def dump_spec(spec: IndexSpec, path: str | Path) -> Path:
    """Write ``spec`` as YAML (UTF-8, Chinese labels kept readable)."""
    p = Path(path)
    p.write_text(yaml.safe_dump(spec.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return p


def _num(value: Any) -> float:
    """Parse a number, accepting fractions such as ``"1/3"`` (AHP judgements)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        s = value.strip()
        if "/" in s:
            return float(Fraction(s))
        return float(s)
    raise ValueError(f"{value!r} is not a number")


def _opt_num(value: Any) -> float | None:
    return None if value is None else _num(value)


def load_spec(source: str | Path | Mapping[str, Any], *, data_columns: Iterable[str] | None = None) -> IndexSpec:
    """Load and validate a spec from a YAML file path or an already-parsed mapping.

    With ``data_columns`` the spec is also checked against the columns of a data table
    (:meth:`IndexSpec.check_data`). Raises :class:`SpecError` naming every problem.
    """
    src_name: str | None = None
    if isinstance(source, Mapping):
        raw = copy.deepcopy(dict(source))
    else:
        p = Path(source)
        src_name = str(p)
        if not p.exists():
            raise SpecError([f"file not found: {p}"], src_name)
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise SpecError([f"not valid YAML: {exc}"], src_name) from exc
        if not isinstance(raw, dict):
            raise SpecError(["the file must hold a YAML mapping (spec_version, methods, aggregates, indicators)"], src_name)
    spec = _build(raw, src_name)
    if data_columns is not None:
        spec.check_data(data_columns)
    return spec


_KNOWN_TOP = {"spec_version", "name_zh", "name_en", "name", "description", "methodology", "unit_id", "root",
              "methods", "aggregates", "indicators"}
_KNOWN_IND = {"id", "label_zh", "label_en", "direction", "weight", "target", "min_records", "source", "unit",
              "definition", "denominator", "normalisation", "treatment", "goalpost_basis", "noise", "self_reported"}
_KNOWN_AGG = {"id", "label_zh", "label_en", "children", "weight", "weighting", "aggregation", "min_coverage"}


def _build(raw: dict[str, Any], src: str | None) -> IndexSpec:
    problems: list[str] = []

    unknown = sorted(set(raw) - _KNOWN_TOP)
    if unknown:
        problems.append(f"unknown top-level key(s): {', '.join(unknown)}")
    version = raw.get("spec_version")
    if version is None or str(version).strip() == "":
        problems.append("spec_version is missing (every spec must be versioned)")
        version = ""
    version = str(version).strip()

    nodes: dict[str, Indicator | Aggregate] = {}
    order_defined: list[str] = []

    # ---- indicators
    raw_inds = raw.get("indicators") or []
    if not isinstance(raw_inds, list) or not raw_inds:
        problems.append("'indicators' must be a non-empty list")
        raw_inds = []
    for k, item in enumerate(raw_inds):
        if not isinstance(item, dict) or not item.get("id"):
            problems.append(f"indicators[{k}] has no id")
            continue
        iid = str(item["id"]).strip()
        where = f"indicator '{iid}'"
        extra = sorted(set(item) - _KNOWN_IND)
        if extra:
            problems.append(f"{where}: unknown key(s) {', '.join(extra)}")
        if "children" in item:
            problems.append(f"{where}: an indicator cannot have children (put it under 'aggregates')")
        d = item.get("direction", None)
        direction = 1
        if d is None:
            problems.append(f"{where}: direction is missing (must be +1 or -1)")
        elif isinstance(d, bool) or d not in (1, -1, "+1", "-1", 1.0, -1.0):
            problems.append(f"{where}: bad direction {d!r} (must be +1 or -1)")
        else:
            direction = int(float(d))
        weight = target = None
        try:
            weight = _opt_num(item.get("weight"))
            if weight is not None and (not math.isfinite(weight) or weight < 0):
                problems.append(f"{where}: weight {weight} must be a finite number >= 0")
        except (ValueError, ZeroDivisionError):
            problems.append(f"{where}: weight {item.get('weight')!r} is not a number")
        try:
            target = _opt_num(item.get("target"))
            if target is not None and not math.isfinite(target):
                problems.append(f"{where}: target must be finite")
        except (ValueError, ZeroDivisionError):
            problems.append(f"{where}: target {item.get('target')!r} is not a number")
        mr = item.get("min_records")
        if mr is not None and (isinstance(mr, bool) or not isinstance(mr, int) or mr < 0):
            problems.append(f"{where}: min_records {mr!r} must be an integer >= 0")
            mr = None
        srcv = item.get("source")
        if srcv is not None and srcv not in SOURCES:
            problems.append(f"{where}: source {srcv!r} is not one of {', '.join(SOURCES)}")
        norm = item.get("normalisation")
        if norm is not None:
            norm = _check_normalisation(norm, f"{where} normalisation", problems)
        tr = item.get("treatment")
        if tr is not None and tr not in TREATMENT_METHODS:
            problems.append(f"{where}: treatment {tr!r} is not one of {', '.join(TREATMENT_METHODS)}")
        nz = item.get("noise")
        if nz is not None and nz not in NOISE_MODELS:
            problems.append(f"{where}: noise {nz!r} is not one of {', '.join(NOISE_MODELS)}")
            nz = None
        sr = item.get("self_reported", False)
        if not isinstance(sr, bool):
            problems.append(f"{where}: self_reported {sr!r} must be true or false")
            sr = False
        if iid in nodes:
            problems.append(f"id '{iid}' is defined twice")
            continue
        nodes[iid] = Indicator(
            id=iid, label_zh=str(item.get("label_zh") or ""), label_en=str(item.get("label_en") or ""),
            direction=direction, weight=weight, target=target, min_records=mr, source=srcv,
            unit=item.get("unit"), definition=item.get("definition"),
            denominator=(str(item["denominator"]) if item.get("denominator") else None),
            normalisation=norm, treatment=tr,
            goalpost_basis=(str(item["goalpost_basis"]).strip() if item.get("goalpost_basis") else None),
            noise=nz, self_reported=sr,
        )
        order_defined.append(iid)

    # ---- aggregates
    raw_aggs = raw.get("aggregates") or []
    if not isinstance(raw_aggs, list) or not raw_aggs:
        problems.append("'aggregates' must be a non-empty list (at least the composite)")
        raw_aggs = []
    for k, item in enumerate(raw_aggs):
        if not isinstance(item, dict) or not item.get("id"):
            problems.append(f"aggregates[{k}] has no id")
            continue
        aid = str(item["id"]).strip()
        where = f"aggregate '{aid}'"
        extra = sorted(set(item) - _KNOWN_AGG)
        if extra:
            problems.append(f"{where}: unknown key(s) {', '.join(extra)}")
        if "direction" in item:
            problems.append(f"{where}: only indicators have a direction")
        ch = item.get("children")
        if not isinstance(ch, list) or not ch:
            problems.append(f"{where}: 'children' must be a non-empty list of ids")
            ch = []
        children = tuple(str(c).strip() for c in ch)
        dup = sorted({c for c in children if children.count(c) > 1})
        if dup:
            problems.append(f"{where}: child(ren) listed twice: {', '.join(dup)}")
        weight = None
        try:
            weight = _opt_num(item.get("weight"))
            if weight is not None and (not math.isfinite(weight) or weight < 0):
                problems.append(f"{where}: weight {weight} must be a finite number >= 0")
        except (ValueError, ZeroDivisionError):
            problems.append(f"{where}: weight {item.get('weight')!r} is not a number")
        agg = item.get("aggregation")
        if isinstance(agg, dict):
            agg = agg.get("method")
        if agg is not None and agg not in AGGREGATION_METHODS:
            problems.append(f"{where}: aggregation {agg!r} is not one of {', '.join(AGGREGATION_METHODS)}")
        mc = item.get("min_coverage")
        if mc is not None:
            try:
                mc = _num(mc)
                if not 0 <= mc <= 1:
                    problems.append(f"{where}: min_coverage {mc} must be within [0, 1]")
            except ValueError:
                problems.append(f"{where}: min_coverage {mc!r} is not a number")
                mc = None
        wt = item.get("weighting")
        if isinstance(wt, str):
            wt = {"method": wt}
        if aid in nodes:
            problems.append(f"id '{aid}' is defined twice")
            continue
        nodes[aid] = Aggregate(
            id=aid, children=children, label_zh=str(item.get("label_zh") or ""),
            label_en=str(item.get("label_en") or ""), weight=weight, weighting=wt, aggregation=agg, min_coverage=mc,
        )
        order_defined.append(aid)

    methods = _build_methods(raw.get("methods") or {}, problems)

    # ---- structure: references, parents, root, cycles
    parent: dict[str, str | None] = {}
    for aid, node in nodes.items():
        if not isinstance(node, Aggregate):
            continue
        for c in node.children:
            if c not in nodes:
                problems.append(f"aggregate '{aid}' references unknown id '{c}' (not defined as an indicator or aggregate)")
                continue
            if c in parent and parent[c] != aid:
                problems.append(f"'{c}' has two parents ('{parent[c]}' and '{aid}'); the hierarchy must be a tree")
                continue
            parent[c] = aid

    cycle = _find_cycle(nodes)
    if cycle:
        problems.append("cycle in the hierarchy: " + " -> ".join(cycle))

    roots = [a for a, n in nodes.items() if isinstance(n, Aggregate) and a not in parent]
    root = raw.get("root")
    if root is not None:
        root = str(root)
        if root not in nodes:
            problems.append(f"root '{root}' is not defined")
        elif root in parent:
            problems.append(f"root '{root}' has a parent ('{parent[root]}')")
        others = [r for r in roots if r != root]
        if others:
            problems.append(f"aggregate(s) {', '.join(others)} are not below the root '{root}'")
    elif len(roots) == 1:
        root = roots[0]
    elif not roots and nodes and not cycle:
        problems.append("no composite: every aggregate is somebody's child")
    elif len(roots) > 1:
        problems.append(f"several top-level aggregates ({', '.join(roots)}); a spec has exactly one composite (or set 'root')")

    for iid, node in nodes.items():
        if isinstance(node, Indicator) and iid not in parent:
            problems.append(f"indicator '{iid}' is defined but not placed in the hierarchy (no aggregate lists it)")

    if problems:
        raise SpecError(problems, src)

    # derived: pre-order, levels
    preorder: list[str] = []
    level: dict[str, int] = {}

    def visit(n: str, depth: int) -> None:
        preorder.append(n)
        level[n] = depth
        node = nodes[n]
        if isinstance(node, Aggregate):
            for c in node.children:
                visit(c, depth + 1)

    assert isinstance(root, str)
    visit(root, 0)
    parent[root] = None

    spec = IndexSpec(
        spec_version=version, root=root, nodes=nodes, methods=methods,
        name_zh=str(raw.get("name_zh") or raw.get("name") or ""), name_en=str(raw.get("name_en") or ""),
        unit_id=(str(raw["unit_id"]) if raw.get("unit_id") else None), description=str(raw.get("description") or ""),
        methodology=str(raw.get("methodology") or ""), source=src, parent=parent, level=level, preorder=tuple(preorder),
    )
    _check_weights(spec, problems)
    if problems:
        raise SpecError(problems, src)
    return spec


def _find_cycle(nodes: Mapping[str, Indicator | Aggregate]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        node = nodes[n]
        if isinstance(node, Aggregate):
            for c in node.children:
                if c not in nodes:
                    continue
                if state.get(c) == 1:
                    return stack[stack.index(c):] + [c]
                if c not in state:
                    found = dfs(c)
                    if found:
                        return found
        stack.pop()
        state[n] = 2
        return None

    for n in nodes:
        if n not in state:
            found = dfs(n)
            if found:
                return found
    return None


def _check_normalisation(norm: Any, where: str, problems: list[str]) -> dict[str, Any]:
    if isinstance(norm, str):
        norm = {"method": norm}
    if not isinstance(norm, dict):
        problems.append(f"{where}: must be a mapping with a 'method'")
        return {"method": "minmax", "low": 0.0, "high": 100.0}
    norm = dict(norm)
    m = norm.get("method")
    if m not in NORMALISATION_METHODS:
        problems.append(f"{where}: unknown method {m!r} (one of {', '.join(NORMALISATION_METHODS)})")
        return norm
    try:
        if m in ("minmax", "distance_to_target", "percentile_rank"):
            default_hi = 1.0 if m == "percentile_rank" else 100.0
            norm["low"] = _num(norm.get("low", 0.0))
            norm["high"] = _num(norm.get("high", default_hi))
            if not norm["low"] < norm["high"]:
                problems.append(f"{where}: low ({norm['low']}) must be below high ({norm['high']})")
        if m == "zscore":
            norm["mean"] = _num(norm.get("mean", 0.0))
            norm["sd"] = _num(norm.get("sd", 1.0))
            if not norm["sd"] > 0:
                problems.append(f"{where}: sd must be > 0")
        if m == "distance_to_target":
            norm["cap"] = bool(norm.get("cap", True))
            ref = norm.get("reference", "min")
            if ref != "min":
                ref = _num(ref)
            norm["reference"] = ref
            fb = norm.get("fallback", "minmax")
            if fb not in ("minmax", "missing"):
                problems.append(f"{where}: fallback {fb!r} must be 'minmax' or 'missing'")
            norm["fallback"] = fb
        if m == "goalposts":
            if "low" in norm or "high" in norm:
                norm["low"] = _num(norm["low"])
                norm["high"] = _num(norm["high"])
                if not norm["low"] < norm["high"]:
                    problems.append(f"{where}: goalpost low ({norm['low']}) must be below high ({norm['high']})")
            norm["scale"] = _num(norm.get("scale", 100.0))
            norm["log"] = bool(norm.get("log", False))
            if norm["log"] and "low" in norm and norm["low"] <= 0:
                problems.append(f"{where}: log goalposts need low > 0")
            rel = norm.get("relative_to")
            if rel is not None and rel != "base":
                problems.append(f"{where}: relative_to {rel!r} must be 'base' (multiples of the base-period value)")
            if "per_year" in norm:
                norm["per_year"] = bool(norm["per_year"])
        if "constant_value" in norm and norm["constant_value"] is not None:
            norm["constant_value"] = _num(norm["constant_value"])
    except (ValueError, KeyError, ZeroDivisionError) as exc:
        problems.append(f"{where}: bad parameter ({exc})")
    return norm


def _build_methods(raw: Mapping[str, Any], problems: list[str]) -> Methods:
    if not isinstance(raw, Mapping):
        problems.append("'methods' must be a mapping")
        return Methods()
    known = {"normalisation", "weighting", "aggregation", "missing", "small_count", "ranking", "grades",
             "imputation", "screening", "treatment", "uncertainty", "noise"}
    extra = sorted(set(raw) - known)
    if extra:
        problems.append(f"methods: unknown key(s) {', '.join(extra)}")
    kw: dict[str, Any] = {}
    if "normalisation" in raw:
        kw["normalisation"] = _check_normalisation(raw["normalisation"], "methods.normalisation", problems)
    w = raw.get("weighting", {"method": "equal"})
    if isinstance(w, str):
        w = {"method": w}
    if not isinstance(w, Mapping) or w.get("method") not in WEIGHTING_METHODS:
        problems.append(f"methods.weighting: unknown method {w!r} (one of {', '.join(WEIGHTING_METHODS)})")
        w = {"method": "equal"}
    kw["weighting"] = dict(w)
    a = raw.get("aggregation", "arithmetic")
    if isinstance(a, Mapping):
        a = a.get("method")
    if a not in AGGREGATION_METHODS:
        problems.append(f"methods.aggregation: unknown method {a!r} (one of {', '.join(AGGREGATION_METHODS)})")
        a = "arithmetic"
    kw["aggregation"] = a
    miss = raw.get("missing", {}) or {}
    try:
        mc = _num(miss.get("min_coverage", 0.0))
        if not 0 <= mc <= 1:
            problems.append(f"methods.missing.min_coverage {mc} must be within [0, 1]")
        kw["min_coverage"] = mc
    except ValueError:
        problems.append(f"methods.missing.min_coverage {miss.get('min_coverage')!r} is not a number")
    sc = dict(raw.get("small_count", {}) or {})
    sc.setdefault("treatment", "none")
    sc.setdefault("min_records", 0)
    sc.setdefault("count_suffix", "__n")
    if sc["treatment"] not in SMALL_COUNT_TREATMENTS:
        problems.append(f"methods.small_count.treatment {sc['treatment']!r} is not one of {', '.join(SMALL_COUNT_TREATMENTS)}")
    if isinstance(sc["min_records"], bool) or not isinstance(sc["min_records"], int) or sc["min_records"] < 0:
        problems.append(f"methods.small_count.min_records {sc['min_records']!r} must be an integer >= 0")
    kw["small_count"] = sc
    rk = dict(raw.get("ranking", {}) or {})
    rk.setdefault("ties", "min")
    rk.setdefault("decimals", None)
    if rk["ties"] != "min":
        problems.append(f"methods.ranking.ties {rk['ties']!r}: only 'min' (competition ranking, 1 = best) is supported")
    if rk["decimals"] is not None and (isinstance(rk["decimals"], bool) or not isinstance(rk["decimals"], int)):
        problems.append("methods.ranking.decimals must be an integer or null")
    kw["ranking"] = rk
    grades = raw.get("grades") or []
    bands: list[tuple[str, float | None]] = []
    meanings: dict[str, str] = {}
    if not isinstance(grades, list):
        problems.append("methods.grades must be a list of {label, min}")
        grades = []
    last = math.inf
    for k, g in enumerate(grades):
        if not isinstance(g, Mapping) or not g.get("label"):
            problems.append(f"methods.grades[{k}] needs a label")
            continue
        lo = g.get("min")
        try:
            lo = None if lo is None else _num(lo)
        except ValueError:
            problems.append(f"methods.grades[{k}] min {lo!r} is not a number")
            continue
        if lo is None and k != len(grades) - 1:
            problems.append(f"methods.grades[{k}]: only the last band may have no minimum")
        if lo is not None and not lo < last:
            problems.append(f"methods.grades: thresholds must decrease (band '{g['label']}' min {lo} >= {last})")
        if lo is not None:
            last = lo
        bands.append((str(g["label"]), lo))
        if g.get("meaning"):
            meanings[str(g["label"])] = str(g["meaning"])
    kw["grades"] = tuple(bands)
    kw["grade_meanings"] = meanings
    imp = dict(raw.get("imputation", {}) or {})
    imp.setdefault("method", "none")
    if imp["method"] not in IMPUTATION_METHODS:
        problems.append(f"methods.imputation.method {imp['method']!r} is not one of {', '.join(IMPUTATION_METHODS)}")
    if imp["method"].startswith("group") and not imp.get("group_column"):
        problems.append("methods.imputation: group_mean/group_median need 'group_column'")
    kw["imputation"] = imp
    scr = dict(raw.get("screening", {}) or {})
    scr.setdefault("min_unit_coverage", 0.0)
    try:
        scr["min_unit_coverage"] = _num(scr["min_unit_coverage"])
        if not 0 <= scr["min_unit_coverage"] <= 1:
            problems.append("methods.screening.min_unit_coverage must be within [0, 1]")
    except ValueError:
        problems.append("methods.screening.min_unit_coverage is not a number")
    kw["screening"] = scr
    tr = dict(raw.get("treatment", {}) or {})
    tr.setdefault("method", "none")
    if tr["method"] not in TREATMENT_METHODS:
        problems.append(f"methods.treatment.method {tr['method']!r} is not one of {', '.join(TREATMENT_METHODS)}")
    tr.setdefault("skew_threshold", 2.0)
    tr.setdefault("kurtosis_threshold", 3.5)
    tr.setdefault("max_points", 5)
    tr.setdefault("fallback", "log_ct")
    if tr["fallback"] not in ("log_ct", "none"):
        problems.append("methods.treatment.fallback must be 'log_ct' or 'none'")
    kw["treatment"] = tr
    unc = dict(raw.get("uncertainty", {}) or {})
    for k, alt in enumerate(unc.get("normalisations", []) or []):
        unc["normalisations"][k] = _check_normalisation(alt, f"methods.uncertainty.normalisations[{k}]", problems)
    for alt in unc.get("aggregations", []) or []:
        if alt not in AGGREGATION_METHODS:
            problems.append(f"methods.uncertainty.aggregations: unknown method {alt!r}")
    wn = unc.get("weights")
    if wn is not None:
        if isinstance(wn, str):
            wn = {"method": wn}
            unc["weights"] = wn
        if wn.get("method") not in ("uniform", "dirichlet", "none"):
            problems.append("methods.uncertainty.weights.method must be 'uniform', 'dirichlet' or 'none'")
    kw["uncertainty"] = unc
    nz = raw.get("noise", {}) or {}
    if not isinstance(nz, Mapping):
        problems.append("methods.noise must be a mapping (level, by_kind, change, reason)")
        nz = {}
    nz = dict(nz)
    lv = nz.get("level", 0.95)
    if isinstance(lv, bool) or not isinstance(lv, (int, float)) or not 0 < float(lv) < 1:
        problems.append(f"methods.noise.level {lv!r} must be a number strictly between 0 and 1")
    bk = nz.get("by_kind") or {}
    if not isinstance(bk, Mapping) or any(v not in NOISE_MODELS for v in bk.values()):
        problems.append(f"methods.noise.by_kind: every model must be one of {', '.join(NOISE_MODELS)}")
    extra = sorted(set(nz) - {"level", "by_kind", "change", "reason"})
    if extra:
        problems.append(f"methods.noise: unknown key(s) {', '.join(extra)}")
    if nz.get("change", "mover") != "mover":
        problems.append(f"methods.noise.change {nz.get('change')!r}: only 'mover' (MOVER interval of the difference) is supported")
    kw["noise"] = nz
    return Methods(**kw)


def _check_weights(spec: IndexSpec, problems: list[str]) -> None:
    """Weights per aggregate: fixed weights of one parent's children must add up to 1; AHP matrices valid."""
    from .weights import (  # local: avoid cycle
        DEFAULT_RANDOM_INDEX, RANDOM_INDEX_TABLES, AHPError, ahp_weights, parse_pairwise_matrix)

    for iid in spec.indicator_ids:
        params = spec.normalisation_of(iid)
        if params.get("method") == "goalposts" and ("low" not in params or "high" not in params):
            problems.append(f"indicator '{iid}': goalposts normalisation needs its own 'low' and 'high' "
                            "(set normalisation: {method: goalposts, low: ..., high: ...} on the indicator)")
    for aid in spec.aggregate_ids:
        node = spec.nodes[aid]
        assert isinstance(node, Aggregate)
        w = spec.weighting_of(aid)
        method = w.get("method")
        where = f"aggregate '{aid}'"
        if method not in WEIGHTING_METHODS:
            problems.append(f"{where}: weighting method {method!r} is not one of {', '.join(WEIGHTING_METHODS)}")
            continue
        kids = node.children
        if method == "equal" and len(kids) > 1:
            ws = {c: spec.nodes[c].weight for c in kids}
            given = {c: v for c, v in ws.items() if v is not None}
            if given:
                listing = ", ".join(f"{c}={v:g}" if v is not None else f"{c}=(none)" for c, v in ws.items())
                if len(given) < len(kids) or max(given.values()) - min(given.values()) > WEIGHT_TOLERANCE:
                    problems.append(f"{where}: weighting is 'equal' but its children carry unequal or partial "
                                    f"weights ({listing}); set weighting: fixed to use them, or remove them")
                elif abs(sum(given.values()) - 1.0) > WEIGHT_TOLERANCE:
                    problems.append(f"{where}: weights of its children add up to {sum(given.values()):.6g}, not 1 "
                                    f"({listing})")
        if method == "fixed":
            ws = {c: spec.nodes[c].weight for c in kids}
            absent = [c for c, v in ws.items() if v is None]
            if absent:
                problems.append(f"{where}: fixed weighting but child(ren) {', '.join(absent)} have no weight")
                continue
            total = sum(ws.values())  # type: ignore[arg-type]
            if abs(total - 1.0) > WEIGHT_TOLERANCE:
                listing = ", ".join(f"{c}={v:g}" for c, v in ws.items())
                problems.append(f"{where}: fixed weights of its children add up to {total:.6g}, not 1 ({listing})")
        elif method == "ahp":
            if len(kids) == 1:
                continue
            if "matrix" not in w:
                problems.append(f"{where}: AHP weighting needs a pairwise 'matrix' over its children ({', '.join(kids)})")
                continue
            items = list(w.get("items") or kids)
            if sorted(items) != sorted(kids):
                problems.append(f"{where}: AHP 'items' {items} must be exactly its children {list(kids)}")
                continue
            table = w.get("random_index", DEFAULT_RANDOM_INDEX)
            if table not in RANDOM_INDEX_TABLES:
                problems.append(f"{where}: random_index {table!r} is not one of {', '.join(RANDOM_INDEX_TABLES)}")
                continue
            try:
                mat = parse_pairwise_matrix(w["matrix"])
                res = ahp_weights(mat, method=w.get("estimator", "eigenvector"), random_index=table)
            except (AHPError, ValueError) as exc:
                problems.append(f"{where}: {exc}")
                continue
            if mat.shape[0] != len(kids):
                problems.append(f"{where}: AHP matrix is {mat.shape[0]}x{mat.shape[0]} but it has {len(kids)} children")
                continue
            threshold = float(w.get("cr_threshold", 0.1))
            if res.cr > threshold and not w.get("allow_inconsistent", False):
                problems.append(
                    f"{where}: AHP matrix is inconsistent: CR = {res.cr:.4f} > {threshold} "
                    f"(lambda_max {res.lambda_max:.4f}, CI {res.ci:.4f}, RI {res.ri} from table {table}); "
                    "revise the judgements or set allow_inconsistent: true"
                )
        elif method == "entropy":
            variant = w.get("variant", "minmax")
            from .weights import ENTROPY_VARIANTS

            if variant not in ENTROPY_VARIANTS:
                problems.append(f"{where}: entropy variant {variant!r} is not one of {', '.join(ENTROPY_VARIANTS)}")


def snake_case(value: str) -> bool:
    """True for lower-case snake_case ids (the default spec's convention)."""
    return re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", value) is not None
