"""The rulebook loads, covers DESIGN.md §3, and refuses broken rulebooks with a clear message."""
from __future__ import annotations

import copy

import pytest
import yaml

from data_quality.rulebook import (DIMENSIONS, GENERATOR_FAMILIES, RULES_PATH, Rule, RulebookError, load_rulebook,
                                   load_rulebook_full, parse_rulebook)


@pytest.fixture(scope="module")
def doc():
    return yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))


def test_loads_and_is_well_formed():
    rules = load_rulebook()
    assert rules and all(isinstance(r, Rule) for r in rules)
    assert len({r.id for r in rules}) == len(rules)
    assert {r.table for r in rules} == {"complaints", "sampling_results", "hotline_stats", "region_profiles"}
    assert {r.dimension for r in rules} <= set(DIMENSIONS)
    assert all(r.dimension_zh == DIMENSIONS[r.dimension] for r in rules)
    assert all(r.basis and r.description_zh and r.description_en and r.columns for r in rules)


def test_generator_families_are_covered():
    rules = load_rulebook()
    for fam in GENERATOR_FAMILIES:
        assert any(r.family == fam for r in rules), fam
        if fam != "statutory_deadline":
            assert any(r.family == fam and r.severity == "error" for r in rules), fam
    # late handling is reported, not quarantined: the index's timeliness indicators measure it
    assert all(r.severity == "warn" for r in rules if r.family == "statutory_deadline")
    # a USCC whose region digits are no GB/T 2260 code of any year only warns
    assert all(r.severity == "warn" for r in rules if r.family == "uscc_region_warning")
    assert {r.table for r in rules if r.family == "uscc_region_warning"} == {"complaints", "sampling_results"}


def test_design_section_3_families_present():
    fams = {(r.table, r.family) for r in load_rulebook()}
    for fam in ("missing_required", "code_list", "uscc_check", "id_number_check", "region_code", "chronology",
                "statutory_deadline", "mediation_consistency", "impossible_amount", "cross_channel_duplicate"):
        assert ("complaints", fam) in fams, fam
    for fam in ("missing_required", "uscc_check", "region_code", "chronology", "sampling_disposal"):
        assert ("sampling_results", fam) in fams, fam
    for table in ("hotline_stats", "region_profiles"):
        assert (table, "missing_required") in fams and (table, "region_code") in fams
    assert {r.dimension for r in load_rulebook()} == set(DIMENSIONS)  # all six GB/T 36344 dimensions used


def test_statutory_bases_cited():
    rb = load_rulebook_full()
    assert "第十四条" in rb.by_id("CMP-DDL-001").basis and "第20号" in rb.by_id("CMP-DDL-001").basis
    assert "第二十一条" in rb.by_id("CMP-DDL-002").basis
    assert "GB 32100" in rb.by_id("CMP-USC-001").basis
    assert "第18号" in rb.by_id("SMP-DSP-002").basis


def test_as_frame_is_dq_rules():
    f = load_rulebook_full().as_frame()
    assert {"rule_id", "dimension", "dimension_zh", "severity", "basis", "description_zh"} <= set(f.columns)
    assert f.rule_id.is_unique


def _broken(doc, i, **changes):
    d = copy.deepcopy(doc)
    for k, v in changes.items():
        if v is None:
            d["rules"][i].pop(k, None)
        else:
            d["rules"][i][k] = v
    return d


@pytest.mark.parametrize("changes,message", [
    ({"id": "CMP-REQ-002"}, "duplicate id"),
    ({"id": "cmp-req-1"}, "not of the form"),
    ({"id": "SMP-REQ-099"}, "start with CMP-"),
    ({"dimension": "quality"}, "not a GB/T 36344 dimension"),
    ({"severity": "fatal"}, "not error|warn"),
    ({"table": "complaint"}, "unknown table"),
    ({"columns": ["record_id", "phone"]}, "not in the complaints contract"),
    ({"basis": None}, "field basis: missing"),
    ({"description_zh": "record id missing"}, "no Chinese text"),
    ({"family": "Missing Required"}, "snake_case"),
    ({"query": "SELECT 1 AS record_key"}, "exactly one of"),
    ({"where": "amount_disputed > {limit}"}, "template {limit} has no value"),
    ({"where": "list_contains({vocab:COLOURS}, x)"}, "unknown vocabulary"),
    ({"where": "1=1; DROP TABLE x"}, "no ';'"),
    ({"owner": "me"}, "unknown field"),
    ({"gx": {"expectation": "expect_magic", "column": "record_id"}}, "field gx"),
])
def test_rulebook_errors(doc, changes, message):
    with pytest.raises(RulebookError, match=message.replace("{", r"\{").replace("}", r"\}").replace("|", r"\|")):
        parse_rulebook(_broken(doc, 0, **changes))


def test_rulebook_document_errors(doc, tmp_path):
    with pytest.raises(RulebookError, match="'keys'"):
        parse_rulebook({**doc, "keys": {"complaints": ["record_id"]}})
    with pytest.raises(RulebookError, match="not a column of the contract"):
        parse_rulebook({**doc, "keys": {**doc["keys"], "hotline_stats": ["unit", "month"]}})
    assert load_rulebook_full().keys["hotline_stats"] == (("unit_id", None), ("month", "%Y-%m"))
    with pytest.raises(RulebookError, match="dimensions"):
        parse_rulebook({**doc, "dimensions": {"conformity": "规范性"}})
    with pytest.raises(RulebookError, match="non-empty list"):
        parse_rulebook({**doc, "rules": []})
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules: [\n  - id: x\n", encoding="utf-8")
    with pytest.raises(RulebookError, match="not valid YAML"):
        load_rulebook(bad)
    ok = tmp_path / "ok.yaml"
    ok.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert len(load_rulebook(ok)) == len(load_rulebook())
