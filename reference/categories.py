"""The five key categories (五大重点领域) as the source documents define them: THE one mapping table.

工商消字〔2013〕133号 (shared/sources/2013_工商消字133号_重点领域消费维权.txt) names five key areas of
goods and services: 家用电子电器 (with 家用电器、通讯器材、电脑 at its core), 服装鞋帽, 装饰装修材料,
交通工具 and 有关服务 — the last is the **service side** (“突出有关服务领域消费维权”), not one service
category. ``reference/data/key_categories.csv`` maps every 12315 goods / service category of the
controlled vocabulary (``ingestion.schema.GOODS_CATEGORIES`` / ``SERVICE_CATEGORIES``, docs/domain.md
§2.3) onto its key area (empty = none) and a group inside it (家用电器 / 通讯器材及电脑 inside
家用电子电器; the service type inside 有关服务), with the passage that justifies the row.

The generator, the indicator SQL (``key_category_pass_rate``, via the ``ind_key_categories`` table
registered by ``indicators.compute.install_reference_tables``) and every report read this table
through :func:`key_categories`; nothing else lists the members of a key area.
"""
from __future__ import annotations

from functools import lru_cache

import pandas as pd

from . import data_path

__all__ = ["KEY_AREAS", "key_categories", "key_category_of", "key_group_of", "members", "population_2020"]

# the five key areas in the order of 工商消字〔2013〕133号 二(一)–(五)
KEY_AREAS = ("家用电子电器", "服装鞋帽", "装饰装修材料", "交通工具", "有关服务")


@lru_cache(maxsize=None)
def key_categories() -> pd.DataFrame:
    """category, object_type (商品/服务), key_category ('' = none), key_group, basis — one row per category."""
    df = pd.read_csv(data_path("key_categories.csv"), dtype=str, keep_default_na=False)
    bad = sorted(set(df.key_category) - set(KEY_AREAS) - {""})
    if bad or df.category.duplicated().any() or not set(df.object_type) <= {"商品", "服务"}:
        raise ValueError(f"reference/data/key_categories.csv: unknown key area(s) {bad}, duplicate category or "
                         "object_type other than 商品/服务")
    return df


def key_category_of(category: str | None) -> str | None:
    """The key area of a 12315 / sampling category, or None (unknown categories too)."""
    m = dict(zip(key_categories().category, key_categories().key_category))
    return m.get(category) or None


def key_group_of(category: str | None) -> str | None:
    m = dict(zip(key_categories().category, key_categories().key_group))
    return m.get(category) or None


def members(key_area: str, object_type: str | None = None) -> tuple[str, ...]:
    """Categories of one key area (optionally only 商品 or 服务), in table order."""
    if key_area not in KEY_AREAS:
        raise ValueError(f"{key_area!r} is not one of the five key areas {KEY_AREAS}")
    df = key_categories()
    df = df[df.key_category == key_area]
    if object_type is not None:
        df = df[df.object_type == object_type]
    return tuple(df.category)


@lru_cache(maxsize=None)
def population_2020(province: str = "32") -> pd.DataFrame:
    """Resident population at the 2020 census (第七次全国人口普查) per prefecture: code, name,
    resident_population_2020. Only Jiangsu (32) is shipped (reference/data/population_2020_jiangsu.csv)."""
    if province[:2] != "32":
        raise KeyError(f"no census population table for province {province[:2]} (only 32 Jiangsu is shipped)")
    df = pd.read_csv(data_path("population_2020_jiangsu.csv"), dtype={"code": str})
    df["resident_population_2020"] = df["resident_population_2020"].astype("int64")
    return df
