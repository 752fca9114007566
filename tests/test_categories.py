"""The five key categories as 工商消字〔2013〕133号 defines them, from ONE mapping table (issue 9, point 3),
and the census populations behind the synthetic Jiangsu (point 6)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from indicators import compute_indicators
from ingestion import schema
from ingestion.sqlfiles import sql_text as warehouse_sql
from reference.categories import KEY_AREAS, key_categories, key_category_of, key_group_of, members, population_2020

ROOT = Path(__file__).resolve().parents[1]
NOTICE = ROOT.parent / "shared" / "sources" / "2013_工商消字133号_重点领域消费维权.txt"


def test_the_table_covers_the_vocabulary_once_with_its_object_type():
    kc = key_categories()
    assert list(kc.category) == list(schema.GOODS_CATEGORIES + schema.SERVICE_CATEGORIES)
    assert set(kc.category[kc.object_type == "商品"]) == set(schema.GOODS_CATEGORIES)
    assert set(kc.category[kc.object_type == "服务"]) == set(schema.SERVICE_CATEGORIES)
    assert schema.KEY_CATEGORIES == KEY_AREAS == ("家用电子电器", "服装鞋帽", "装饰装修材料", "交通工具", "有关服务")
    assert all(b for b in kc.basis[kc.key_category != ""]), "every mapped row quotes its basis"


def test_key_areas_as_the_2013_notice_defines_them():
    # 家用电子电器: household appliances AND communication equipment and computers
    assert members("家用电子电器") == ("家用电子电器", "通讯产品")
    assert key_group_of("通讯产品") == "通讯器材及电脑" and key_group_of("家用电子电器") == "家用电器"
    # 有关服务: the whole service side, broken down by service type
    assert set(members("有关服务")) == set(schema.SERVICE_CATEGORIES)
    assert members("有关服务", "商品") == ()
    assert key_group_of("教育培训服务") == "教育培训服务"
    assert key_category_of("一般食品") is None and key_category_of("不存在") is None
    with pytest.raises(ValueError):
        members("食品")
    if NOTICE.exists():  # the passage the table rests on
        text = NOTICE.read_text(encoding="utf-8")
        assert "以家用电器、通讯器材、电脑等商品为重点" in text and "突出有关服务领域消费维权" in text


def test_no_other_module_lists_the_members_of_a_key_area():
    """The copies are gone: code and indicator SQL read the table (literal lists of key-area members
    such as ('家用电子电器', '服装鞋帽', ...) outside the table and its loader are not allowed)."""
    pattern = re.compile(r"'家用电子电器',\s*'服装鞋帽'|\"家用电子电器\",\s*\"服装鞋帽\"")
    allowed = {ROOT / "reference" / "categories.py"}
    offenders = []
    for sub in ("indicators", "reports", "synthetic", "ingestion", "sql", "data_quality"):
        for f in (ROOT / sub).rglob("*"):
            if f.suffix in (".py", ".sql") and f not in allowed and pattern.search(f.read_text(encoding="utf-8")):
                offenders.append(str(f.relative_to(ROOT)))
    assert offenders == []


def _sample(sid, region, category, result):
    return dict(sample_id=sid, plan_id="P", sampled_on=dt.date(2025, 5, 1), region_code=region, venue_type="超市",
                is_online=False, product_category=category, product_name="x", brand="b", seller_name="s",
                seller_uscc=None, manufacturer_name="m", manufacturer_uscc=None, standard_code="GB 0",
                result=result, failed_items=None, failed_safety_item=None, failed_label_item=None,
                notified_on=None, stop_sale_on=None, correction_due_on=None, corrected_on=None,
                reinspected_on=None, reinspection_result=None)


def test_key_category_pass_rate_counts_communication_products_and_computers():
    con = duckdb.connect()
    con.execute(warehouse_sql("ddl/warehouse.sql"))
    con.execute("CREATE TABLE clean.sampling_results AS SELECT * FROM staging.sampling_results")
    rows = [_sample("S1", "320402", "家用电子电器", "合格"), _sample("S2", "320402", "通讯产品", "不合格"),
            _sample("S3", "320402", "通讯产品", "合格"), _sample("S4", "320402", "一般食品", "不合格"),
            _sample("S5", "320402", "服装鞋帽", "不合格")]
    con.register("r", pd.DataFrame(rows))
    con.execute("INSERT INTO clean.sampling_results BY NAME SELECT * FROM r")
    df = compute_indicators(con, "3204", "2025", indicators=["key_category_pass_rate"], treatment="none",
                            as_of=dt.date(2026, 1, 6))
    r = df.set_index("region_code").loc["320402"]
    # 家用电子电器 + 2 × 通讯产品 + 服装鞋帽 = 4 batches, 2 passed (一般食品 is not a key area)
    assert (r.numerator, r.denominator, r.value) == (2.0, 4.0, 0.5)


def test_generator_uses_the_table_and_never_emits_the_area_name_as_a_category():
    from synthetic import vocab

    assert vocab.OBJECT_TYPE == dict(zip(key_categories().category, key_categories().object_type))
    assert vocab.SERVICE_CATEGORY_WEIGHTS["有关服务"] == 0.0
    assert {vocab.KEY_AREA[c] for c in vocab.SAMPLING_CATEGORY_WEIGHTS if c in vocab.KEY_AREA} == set(KEY_AREAS) - {"有关服务"}


def test_jiangsu_census_populations_drive_the_synthetic_prefectures():
    from synthetic.regions import build_universe, volume_weights

    census = population_2020("32").set_index("code")["resident_population_2020"]
    assert int(census.sum()) == 84_748_016 and census.idxmax() == "320500" and census.idxmin() == "321100"
    u = build_universe("32", 7)
    pop = u.prefectures.set_index("code")["population"]
    assert (pop.reindex(census.index) - census).abs().max() <= 13  # county shares rounded
    # record volumes scale with population: 苏州 gets more records than 镇江, 泰州 fewer than 苏州
    w = pd.Series(volume_weights(u, 2025), index=u.counties.code).groupby(u.counties.pref_code.to_numpy()).sum()
    assert w["320500"] > 2 * w["321100"] and w["320500"] > w["321200"]
    # a prefecture scope takes its real population too (常州 5.28M)
    assert abs(int(build_universe("3204", 7).counties.population.sum()) - int(census["320400"])) <= 13
    # other provinces keep the stated model (no census table shipped)
    with pytest.raises(KeyError):
        population_2020("33")
