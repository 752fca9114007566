"""Names of the units behind the records (issue 10 point 9): 12315 entry units (录入单位) and hotline
call centres (话务单位) by the name people know, rolled up to the bureau (市场监管局) they belong to.

Where names come from, in order:

1. the warehouse's unit reference table ``clean.units`` (unit_id, unit_name, bureau_code; the
   synthetic generator writes it as ``units.csv``, :mod:`synthetic.units`) when it exists;
2. the unit id itself when it follows the scheme the generator and the pilot deliveries use —
   ``EU``/``HL`` + the 6-digit GB/T 2260 code of the bureau + a 2-digit sequence — named after that
   bureau (:func:`scheme_name`, the same words as ``synthetic.units``);
3. otherwise the id with "(name not registered)": never a bare code.
"""
from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd

from reports.scope import as_scope, unit_names

UNIT_ID = re.compile(r"^(EU|HL)(\d{6})(\d{2})$")


def bureau_code(unit_id) -> str | None:
    """The GB/T 2260 code of the bureau a unit belongs to (from its id), or None."""
    m = UNIT_ID.match(str(unit_id or ""))
    return m.group(2) if m else None


@lru_cache(maxsize=None)  # reference data, the same all run: once per code (per call it was 5 s of the 1M CN dq report)
def bureau_name(code: str, lang: str = "zh") -> str:
    """"常州市天宁区市场监督管理局" — the bureau of a GB/T 2260 region (a county's named with its city)."""
    import reference

    names = dict(zip(reference.admin_divisions().code, reference.admin_divisions().name))
    region = names.get(code) or unit_names(as_scope("CN"), [code], lang)[code]
    city = names.get(code[:4] + "00") if code[4:] != "00" else None
    if city and not region.startswith(city):
        region = city + region
    return f"{region}市场监督管理局" if lang == "zh" else f"{region} Administration for Market Regulation"


def scheme_name(unit_id, lang: str = "zh") -> str | None:
    """The name of a unit whose id follows the EU/HL scheme (see module doc), else None."""
    m = UNIT_ID.match(str(unit_id or ""))
    if not m:
        return None
    kind, code, seq = m.group(1), m.group(2), int(m.group(3))
    bureau = bureau_name(code, lang)
    if lang == "zh":
        if kind == "EU":
            return f"{bureau}12315投诉举报中心" if seq == 1 else f"{bureau}第{seq - 1}市场监管所"
        return f"{bureau}12315热线话务中心" if seq == 1 else f"{bureau}12315热线第{seq}话务组"
    if kind == "EU":
        return f"{bureau}, 12315 centre" if seq == 1 else f"{bureau}, market supervision office {seq - 1}"
    return f"{bureau}, 12315 call centre" if seq == 1 else f"{bureau}, 12315 call group {seq}"


def _table(con) -> pd.DataFrame | None:
    if con is None:
        return None
    from reports.queries import table_exists

    if not table_exists(con, "clean", "units"):
        return None
    return con.execute("SELECT unit_id, unit_name, bureau_code FROM clean.units").df()


def unit_display_names(ids, lang: str = "zh", con=None) -> dict[str, str]:
    """unit id -> the name a reader knows (see module doc). Ids that are None are skipped."""
    table = _table(con)
    known = dict(zip(table.unit_id, table.unit_name)) if table is not None and lang == "zh" else {}
    out = {}
    for u in ids:
        if not isinstance(u, str):
            continue
        out[u] = known.get(u) or scheme_name(u, lang) or (
            f"{u}（未登记名称）" if lang == "zh" else f"{u} (name not registered)")
    return out


def bureau_rollup(frame: pd.DataFrame, unit_col: str, sum_cols: list[str], lang: str = "zh",
                  con=None) -> pd.DataFrame:
    """Sums of ``sum_cols`` per bureau (the bureau of each unit: ``clean.units.bureau_code`` or the id
    scheme); columns bureau_code, bureau, units (how many), then the sums. Units of no known bureau
    are one row "(bureau not known)"."""
    table = _table(con)
    of = dict(zip(table.unit_id, table.bureau_code)) if table is not None else {}
    f = frame.copy()
    f["bureau_code"] = [of.get(u) or bureau_code(u) or "" for u in f[unit_col]]
    g = f.groupby("bureau_code", sort=True).agg(units=(unit_col, "nunique"), **{c: (c, "sum") for c in sum_cols})
    g = g.reset_index()
    g["bureau"] = [bureau_name(c, lang) if c else ("（所属局不明）" if lang == "zh" else "(bureau not known)")
                   for c in g["bureau_code"]]
    return g[["bureau_code", "bureau", "units", *sum_cols]]
