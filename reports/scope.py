"""Report scopes and their reporting units (the bureaus a report compares).

Scope ``CN`` compares provinces, ``32`` a province's prefectures, ``3204`` a prefecture's
counties (``reference.resolve_scope``). Records carry 6-digit GB/T 2260 codes of the handling
bureau (or the sampling place); :func:`unit_map` assigns every code of the scope — current and
historical — to the unit it belongs to:

* the scope's own code is its own unit, labelled 省本级 / 市本级 (the provincial / city bureau itself);
* province scope: a county goes to its prefecture; counties without one (直辖市 districts,
  省直辖县 such as 429004 仙桃市) are units themselves;
* codes in no list stay their own unit, named after the code (data quality reports them).

The map is reference data (no query): SQL joins it as the registered view ``report_unit_map``
(:func:`registered_unit_map`), so region codes are never spliced into SQL text.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

import reference

UNIT_MAP_VIEW = "report_unit_map"


@dataclass(frozen=True)
class Scope:
    key: str  # CN | 32 | 3204
    code: str  # 000000 | 320000 | 320400
    name: str
    unit_level: str  # province | prefecture | county
    prefix: str  # region-code prefix of every code in scope ('' = the nation)
    units: pd.DataFrame = field(repr=False, compare=False)  # unit_code, unit_name (the scope's regular units)

    def label(self, lang: str = "zh") -> str:
        if lang == "zh":
            return self.name
        return "China (provinces)" if self.key == "CN" else self.name  # the reference has no English names


@lru_cache(maxsize=None)
def load_scope(scope: str) -> Scope:
    info = reference.resolve_scope(scope)
    key = info["scope"]
    if key == "CN":
        prefix = ""
        units = info["provinces"]
    elif info["unit_level"] == "prefecture":
        prefix = info["code"][:2]
        units = _province_units(info)
    else:
        prefix = info["code"][:4]
        units = info["counties"]
    units = units[["code", "name"]].rename(columns={"code": "unit_code", "name": "unit_name"}).reset_index(drop=True)
    return Scope(key if key == "CN" else prefix, info["code"], info["name"], info["unit_level"], prefix, units)


def _province_units(info: dict) -> pd.DataFrame:
    """Prefectures, plus counties directly under the province (直辖市 districts, 省直辖县)."""
    pref = info["prefectures"]
    counties = info["counties"]
    direct = counties[counties.parent_code == info["code"]]
    return pd.concat([pref, direct], ignore_index=True).sort_values("code")


def as_scope(scope: str | Scope) -> Scope:
    return scope if isinstance(scope, Scope) else load_scope(str(scope))


def own_unit_name(scope: Scope, lang: str = "zh") -> str:
    if scope.key == "CN":
        return "全国本级" if lang == "zh" else "National level"
    suffix = {"prefecture": ("省本级", "provincial level"), "county": ("市本级", "city level")}[scope.unit_level]
    return f"{scope.name}{suffix[0]}" if lang == "zh" else f"{scope.name} ({suffix[1]})"


def unit_of(code: str, scope: Scope) -> str:
    """The unit code a 6-digit region code belongs to within ``scope`` (the code itself if unknown)."""
    code = str(code)
    if scope.key == "CN":
        return code[:2] + "0000"
    if code == scope.code:
        return code
    regular = set(scope.units.unit_code)
    if code in regular:
        return code
    if scope.unit_level == "prefecture" and code[:4] + "00" in regular:
        return code[:4] + "00"
    return code


@lru_cache(maxsize=None)
def _unit_map_cached(key: str) -> pd.DataFrame:
    scope = load_scope(key)
    cur = reference.admin_divisions()
    hist = reference.admin_divisions_history()
    codes = pd.concat([cur[["code", "name"]], hist[["code", "name"]]]).drop_duplicates("code")  # current names win
    codes = codes[codes.code.str.startswith(scope.prefix)]
    out = pd.DataFrame({"region_code": codes.code.to_numpy()})
    out["unit_code"] = [unit_of(c, scope) for c in out.region_code]
    return out.reset_index(drop=True)


def unit_map(scope: str | Scope) -> pd.DataFrame:
    """region_code -> unit_code for every current or historical GB/T 2260 code in the scope."""
    return _unit_map_cached(as_scope(scope).key).copy()


def unit_names(scope: str | Scope, codes, lang: str = "zh") -> dict[str, str]:
    """Display names for unit codes (regular units, the scope's own bureau, historical or unknown codes)."""
    scope = as_scope(scope)
    names = dict(zip(scope.units.unit_code, scope.units.unit_name))
    cur = dict(zip(reference.admin_divisions().code, reference.admin_divisions().name))
    hist = reference.admin_divisions_history()
    gone = dict(zip(hist.code, hist.name))
    out = {}
    for c in codes:
        c = str(c)
        if c == scope.code:
            out[c] = own_unit_name(scope, lang)
        elif c in names:
            out[c] = names[c]
        elif c in cur:
            out[c] = cur[c]
        elif c in gone:
            out[c] = f"{gone[c]}（已撤销 {c}）" if lang == "zh" else f"{gone[c]} (abolished code {c})"
        else:
            out[c] = f"未识别区划 {c}" if lang == "zh" else f"unknown code {c}"
    return out


@contextmanager
def registered_unit_map(con, scope: str | Scope):
    """Make ``report_unit_map(region_code, unit_code)`` visible to SQL on ``con`` for the block."""
    con.register(UNIT_MAP_VIEW, unit_map(scope))
    try:
        yield UNIT_MAP_VIEW
    finally:
        con.unregister(UNIT_MAP_VIEW)
