"""index_model.spec: the shipped default spec (default_v2, DESIGN.md §4) and the loader's refusals."""
from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml

from index_model import SpecError, compute_index, default_spec, default_spec_path, dump_spec, load_spec, shipped_spec_path
from index_model.spec import snake_case

# DESIGN.md §4 table, row by row: L1 label -> L2 label -> [(indicator id, direction, source, target)]
DESIGN_TABLE = {
    ("safety", "安全度"): {
        ("product_quality_safety", "商品质量安全"): [
            ("sampling_pass_rate", 1, "sampling", None),
            ("key_category_pass_rate", 1, "sampling", None),
            ("failed_disposed_on_time_rate", 1, "sampling", 1.0)],
        ("safety_complaints", "消费安全投诉"): [("safety_complaints_per_10k_residents", -1, "complaints", None)],
        ("special_equipment_safety", "特种设备安全"): [("special_equipment_accidents_per_10k_units", -1, "profile", None)],
    },
    ("integrity", "诚信度"): {
        ("business_integrity", "经营者诚信"): [
            ("complaints_per_10k_entities", -1, "complaints", None),
            ("fraud_false_ad_share", -1, "complaints", None),
            ("substantiated_reports_per_10k_entities", -1, "complaints", None)],
        ("information_disclosure", "信息公示"): [("annual_report_filing_rate", 1, "profile", None)],
        ("labelling_integrity", "标识诚信"): [("label_failure_share", -1, "sampling", None)],
        ("voluntary_settlement", "主动和解"): [("business_settled_share", 1, "complaints", None)],
    },
    ("convenience", "便利度"): {
        ("channel_convenience", "渠道便利"): [
            ("hotline_first_answer_rate", 1, "hotline", 0.95),
            ("online_channel_share", 1, "complaints", None)],
        # 识别便利 (DESIGN.md §4, 常工商消〔2018〕1号), added in default_v2
        ("identification_convenience", "识别便利"): [
            ("price_licence_display_rate", 1, "profile", 1.0),
            ("online_licence_emark_rate", 1, "profile", 1.0)],
        ("redress_stations", "维权站点"): [("service_stations_per_10k_entities", 1, "profile", None)],
        ("handling_timeliness", "处理时效"): [
            ("acceptance_within_7wd_rate", 1, "complaints", None),
            ("median_working_days_to_close", -1, "complaints", None)],
    },
    ("rights_protection", "维权度"): {
        ("complaint_handling", "投诉处理"): [
            ("closure_rate", 1, "complaints", 1.0),
            ("mediation_success_rate", 1, "complaints", 0.80),
            ("satisfaction_rate", 1, "complaints", 0.95),
            ("money_recovery_ratio", 1, "complaints", None)],
        ("enforcement", "执法监管"): [
            ("complaint_to_case_rate", 1, "complaints", 0.05),
            ("report_checked_within_15wd_rate", 1, "complaints", None),
            ("report_substantiation_rate", 1, "complaints", None)],
        ("rights_organisations", "维权组织"): [("consumer_orgs_per_10k_residents", 1, "profile", None)],
        # DESIGN.md's "funding and staff per 10k residents" is split in two (different units)
        ("protection_measures", "保障措施"): [
            ("protection_funding_per_10k_residents", 1, "profile", None),
            ("protection_staff_per_10k_residents", 1, "profile", None)],
    },
}


def test_default_spec_implements_design_table():
    spec = default_spec()
    assert spec.spec_version == "default_v2"
    assert spec.root == "cei" and spec.nodes["cei"].label_zh == "消费环境指数"
    assert [c for c, _ in DESIGN_TABLE] == list(spec.children("cei"))
    for (l1, l1_zh), l2s in DESIGN_TABLE.items():
        assert spec.nodes[l1].label_zh == l1_zh and spec.level[l1] == 1
        assert [c for c, _ in l2s] == list(spec.children(l1))
        for (l2, l2_zh), inds in l2s.items():
            assert spec.nodes[l2].label_zh == l2_zh and spec.level[l2] == 2
            assert [i[0] for i in inds] == list(spec.children(l2))
            for iid, direction, source, target in inds:
                ind = spec.nodes[iid]
                assert spec.level[iid] == 3
                assert (ind.direction, ind.source, ind.target) == (direction, source, target), iid
                assert ind.label_zh and ind.label_en and ind.definition, iid
    assert len(spec.indicator_ids) == 28
    assert all(snake_case(n) for n in spec.preorder)


def test_default_spec_methods_are_the_design_defaults():
    m = default_spec().methods
    # DESIGN.md §4 default: fixed goalposts (each indicator carries its own; base period for base-relative ones)
    assert m.normalisation["method"] == "goalposts" and m.normalisation["base_period"] == "2024"
    assert m.weighting["method"] == "equal" and m.aggregation == "arithmetic"
    assert m.small_count["treatment"] in ("shrink", "missing", "flag")
    assert [lab for lab, _ in m.grades] == ["优", "良", "中", "差"]


def test_module_docstring_contract_table_matches_the_spec():
    """The indicator-id table in index_model/spec.py's docstring is the SQL layer's contract: keep it true."""
    import index_model.spec as mod

    spec = default_spec()
    rows = {}
    for line in mod.__doc__.splitlines():
        parts = line.split()
        if parts and parts[0] in spec.nodes and len(parts) >= 4:
            rows[parts[0]] = parts
    assert list(rows) == spec.indicator_ids
    for iid, parts in rows.items():
        ind = spec.nodes[iid]
        assert int(parts[1]) == ind.direction and parts[2] == ind.source, iid
        target = float(parts[3]) if len(parts) == 6 else None
        assert target == ind.target, iid
        assert parts[-2] == spec.parent[iid] and parts[-1] == f"({spec.parent[spec.parent[iid]]})", iid


def test_profile_indicators_have_no_record_minimum_and_record_based_ones_do():
    from indicators import definitions

    spec = default_spec()
    for ind in spec.indicators:
        if ind.source == "profile" and definitions()[ind.id].kind == "profile":
            assert spec.min_records_of(ind.id) == 0
        else:
            assert spec.min_records_of(ind.id) > 0, ind.id


def _raw() -> dict:
    return yaml.safe_load(default_spec_path().read_text(encoding="utf-8"))


def _problems(raw: dict) -> str:
    with pytest.raises(SpecError) as exc:
        load_spec(raw)
    return str(exc.value)


def test_unknown_child_id_is_named():
    raw = _raw()
    raw["aggregates"][2]["children"].append("no_such_indicator")
    assert "aggregate 'product_quality_safety' references unknown id 'no_such_indicator'" in _problems(raw)


def test_unplaced_indicator_is_named():
    raw = _raw()
    raw["indicators"].append({"id": "orphan_rate", "direction": 1})
    assert "indicator 'orphan_rate' is defined but not placed" in _problems(raw)


def test_bad_direction_is_named():
    raw = _raw()
    raw["indicators"][0]["direction"] = 2
    assert "indicator 'sampling_pass_rate': bad direction 2" in _problems(raw)
    raw["indicators"][0]["direction"] = "higher"
    assert "bad direction 'higher'" in _problems(raw)
    del raw["indicators"][0]["direction"]
    assert "indicator 'sampling_pass_rate': direction is missing" in _problems(raw)


def test_cycle_is_named():
    raw = _raw()
    # product_quality_safety -> safety closes a loop safety -> product_quality_safety -> safety
    raw["aggregates"][2]["children"].append("safety")
    msg = _problems(raw)
    assert "cycle in the hierarchy: " in msg
    assert "safety -> product_quality_safety -> safety" in msg


def test_two_parents_refused():
    raw = _raw()
    raw["aggregates"][3]["children"].append("sampling_pass_rate")
    assert "'sampling_pass_rate' has two parents" in _problems(raw)


def test_fixed_weights_must_add_up_per_parent():
    raw = _raw()
    raw["methods"]["weighting"] = {"method": "fixed"}
    nodes = {n["id"]: n for n in raw["aggregates"] + raw["indicators"]}
    for agg in raw["aggregates"]:
        k = len(agg["children"])
        for c in agg["children"]:
            nodes[c]["weight"] = 1 / k
    load_spec(copy.deepcopy(raw))  # adds up everywhere: fine
    nodes["safety"]["weight"] = 0.4  # L1 weights now 0.4 + 3 x 0.25 = 1.15
    msg = _problems(raw)
    assert "aggregate 'cei': fixed weights of its children add up to 1.15, not 1" in msg
    assert "safety=0.4" in msg
    del nodes["integrity"]["weight"]
    assert "child(ren) integrity have no weight" in _problems(raw)
    # weights written under equal weighting must not be silently ignored
    raw["methods"]["weighting"] = {"method": "equal"}
    assert "aggregate 'cei': weighting is 'equal' but its children carry unequal or partial weights" in _problems(raw)
    for c in ("safety", "integrity", "convenience", "rights_protection"):
        nodes[c]["weight"] = 0.5
    assert "aggregate 'cei': weights of its children add up to 2, not 1" in _problems(raw)


def test_unknown_methods_and_missing_version_refused():
    raw = _raw()
    raw["methods"]["normalisation"] = {"method": "rank_sum"}
    raw["methods"]["aggregation"] = {"method": "median"}
    raw["methods"]["small_count"]["treatment"] = "drop"
    del raw["spec_version"]
    msg = _problems(raw)
    assert "unknown method 'rank_sum'" in msg and "unknown method 'median'" in msg
    assert "treatment 'drop'" in msg and "spec_version is missing" in msg


def test_goalposts_need_bounds_per_indicator():
    raw = yaml.safe_load(shipped_spec_path("default_v1").read_text(encoding="utf-8"))  # no goalposts of its own
    raw["methods"]["normalisation"] = {"method": "goalposts"}
    assert "indicator 'sampling_pass_rate': goalposts normalisation needs its own 'low' and 'high'" in _problems(raw)


def test_ahp_matrix_must_match_children_and_be_reciprocal():
    raw = _raw()
    cei = raw["aggregates"][0]
    cei["weighting"] = {"method": "ahp", "matrix": [[1, 2], [0.5, 1]]}
    assert "AHP matrix is 2x2 but it has 4 children" in _problems(raw)
    cei["weighting"]["matrix"] = [[1, 2, 1, 1], [2, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]]
    assert "not reciprocal at (1,2)" in _problems(raw)
    cei["weighting"] = {"method": "ahp", "random_index": "chinese_textbook",
                        "matrix": [[1, 2, 3, 1], ["1/2", 1, 2, "1/2"], ["1/3", "1/2", 1, "1/3"], [1, 2, 3, 1]]}
    spec = load_spec(raw)
    assert spec.weighting_of("cei")["random_index"] == "chinese_textbook"


def test_data_lacking_an_indicator_is_named():
    spec = default_spec()
    data = pd.DataFrame({"region_code": ["320100", "320200"], **{i: [0.5, 0.6] for i in spec.indicator_ids[1:]}})
    with pytest.raises(SpecError, match="data lacks indicator\\(s\\) sampling_pass_rate defined in the spec"):
        compute_index(data, spec)
    with pytest.raises(SpecError, match="sampling_pass_rate"):
        load_spec(default_spec_path(), data_columns=data.columns)


def test_yaml_errors_and_missing_file(tmp_path):
    with pytest.raises(SpecError, match="file not found"):
        load_spec(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("spec_version: [unclosed", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(bad)


def test_dump_and_reload_round_trip(tmp_path):
    spec = default_spec()
    again = load_spec(dump_spec(spec, tmp_path / "copy.yaml"))
    assert again.to_dict() == spec.to_dict()
    assert again.nodes["safety"].label_zh == "安全度"


def test_with_methods_makes_a_validated_variant():
    spec = default_spec()
    geo = spec.with_methods(aggregation="geometric", normalisation={"method": "minmax", "low": 1, "high": 100})
    assert geo.methods.aggregation == "geometric" and geo.methods.normalisation["low"] == 1
    assert spec.methods.aggregation == "arithmetic"  # original untouched
    with pytest.raises(SpecError):
        spec.with_methods(weighting="fixed")  # the default spec carries no fixed weights
