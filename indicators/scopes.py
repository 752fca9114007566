"""Scopes and their ranking units, and the map from any GB/T 2260 code to the unit it counts for.

A scope (``reference.resolve_scope``) ranks units one level below itself:

* ``CN`` -> the 31 provinces; a code counts for province ``code[:2] + "0000"``.
* a province (``32``) -> its prefectures (320100 ... 321300) **plus** the county-level units whose
  parent in ``reference/admin_divisions.csv`` is the province itself: the districts of a 直辖市
  (scope ``11`` ranks Beijing's 16 districts) and 省直辖县级 units such as 仙桃 429004 or 济源
  419001. They are prefecture-level units of their own (as in the synthetic generator).
  A county code counts for its prefecture (the parent, = ``code[:4] + "00"``), a prefecture
  code (a prefecture without counties such as 东莞 441900, or a prefecture-level hotline
  centre) for itself.
* a prefecture (``3204``) -> its counties; a county code counts for itself. A prefecture without
  counties (东莞 ``4419``) has one unit, itself.

Codes abolished since (``admin_divisions_history``) are mapped by the same prefix rule when the
unit they fall under still exists (320802 清河区, abolished 2016 -> 320800 淮安), so records dated
before a boundary change still count. Codes that map to no unit of the scope (the scope's own
code, e.g. a provincial hotline centre 320000 in scope 32, or a prefecture-level hotline centre
320400 in scope 3204) are not attributed to any unit: :func:`unmapped_note` says so.

The two tables are registered in DuckDB as ``ind_scope_units(unit_code, unit_name, unit_level)``
and ``ind_region_units(region_code, unit_code)``; the indicator SQL joins them, so no scope value
is ever written into SQL text.
"""
from __future__ import annotations

from functools import lru_cache

import pandas as pd

from reference import admin_divisions, admin_divisions_history, resolve_scope

__all__ = ["canonical_scope", "scope_units", "region_units", "scope_info"]


def canonical_scope(scope: str) -> str:
    """``CN`` | 2-digit province | 4-digit prefecture (``320000`` -> ``32``, ``320400`` -> ``3204``)."""
    info = resolve_scope(str(scope))
    if info["unit_level"] == "province":
        return "CN"
    if info["unit_level"] == "prefecture":
        return info["code"][:2]
    return info["code"][:4]


@lru_cache(maxsize=64)
def _scope_tables(scope: str) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    info = resolve_scope(scope)
    div = admin_divisions()
    level = info["unit_level"]
    if level == "province":
        units = info["provinces"][["code", "name"]]
    elif level == "prefecture":
        own = info["code"]
        orphans = info["counties"][info["counties"].parent_code == own]
        units = pd.concat([info["prefectures"][["code", "name"]], orphans[["code", "name"]]])
    else:
        units = info["counties"][["code", "name"]]
        if units.empty:  # a prefecture without counties (东莞 4419): the prefecture itself
            units = info["prefectures"][["code", "name"]]
    units = units.drop_duplicates("code").sort_values("code").reset_index(drop=True)
    unit_set = set(units.code)

    # every current and historical code starting with the scope's prefix
    prefix = "" if level == "province" else (info["code"][:2] if level == "prefecture" else info["code"][:4])
    hist = admin_divisions_history()
    codes = pd.concat([div[["code", "parent_code"]], hist[["code", "parent_code"]]]).drop_duplicates("code", keep="first")
    codes = codes[codes.code.str.startswith(prefix) & (codes.code.str.len() == 6)]
    current_parent = dict(zip(div.code, div.parent_code))

    def unit_of(code: str) -> str | None:
        if code in unit_set:
            return code
        if level == "province":
            u = code[:2] + "0000"
            return u if u in unit_set else None
        parent = current_parent.get(code)
        if parent in unit_set:
            return parent
        if level == "prefecture":  # abolished code: the prefecture by prefix, if still a unit
            u = code[:4] + "00"
            return u if u in unit_set else None
        return None

    mapped = [(c, unit_of(c)) for c in codes.code]
    regions = pd.DataFrame([(c, u) for c, u in mapped if u is not None], columns=["region_code", "unit_code"])
    regions = regions.sort_values("region_code").reset_index(drop=True)
    units = pd.DataFrame({"unit_code": units.code, "unit_name": units.name, "unit_level": level})
    return info, units, regions


def scope_info(scope: str) -> dict:
    return _scope_tables(canonical_scope(scope))[0]


def scope_units(scope: str) -> pd.DataFrame:
    """The units a scope ranks: unit_code, unit_name, unit_level."""
    return _scope_tables(canonical_scope(scope))[1].copy()


def region_units(scope: str) -> pd.DataFrame:
    """region_code -> unit_code for every current or historical GB/T 2260 code inside the scope."""
    return _scope_tables(canonical_scope(scope))[2].copy()
