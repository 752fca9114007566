"""Reference data shipped with the project (GB/T 2260 divisions, the official holiday calendar).

The CSV files in ``reference/data`` are copies of ``shared/reference`` and
``shared/verification/codes/cn_holidays.csv`` (sources in ``reference/data/README.md``);
nothing is downloaded at run time.
"""
from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import pandas as pd

DATA = files(__package__) / "data"


def data_path(name: str) -> str:
    return str(DATA / name)


@lru_cache(maxsize=None)
def admin_divisions() -> pd.DataFrame:
    """Current GB/T 2260 codes (民政部 2025 list): code, name, level, parent_code, source_version."""
    return pd.read_csv(data_path("admin_divisions.csv"), dtype=str, keep_default_na=False)


@lru_cache(maxsize=None)
def admin_divisions_history() -> pd.DataFrame:
    """Every code of 1981–2025 with the years it was valid (valid_to_year empty = still valid)."""
    df = pd.read_csv(data_path("admin_divisions_history.csv"), dtype=str, keep_default_na=False)
    df["valid_from_year"] = df["valid_from_year"].astype(int)
    df["valid_to_year"] = pd.to_numeric(df["valid_to_year"].replace("", None), errors="coerce").astype("Int64")
    return df


def resolve_scope(scope: str) -> dict:
    """Interpret a scope: ``CN`` (all provinces), a 2-digit province (``32``) or a 4-digit prefecture (``3204``).

    Returns the scope's own code, its name, the level of the units it ranks (the children)
    and the prefecture and county codes it covers.
    """
    div = admin_divisions()
    s = scope.strip().upper()
    if s in ("CN", "CHINA", "全国"):
        own, name, unit_level = "000000", "全国", "province"
        covered = div
    elif s.isdigit() and len(s) in (2, 6) and (len(s) == 2 or s.endswith("0000")):
        own = s[:2] + "0000"
        row = div[div.code == own]
        if row.empty:
            raise ValueError(f"scope {scope!r}: {own} is not a GB/T 2260 province code")
        name, unit_level = row.name.iloc[0], "prefecture"
        covered = div[div.code.str.startswith(s[:2])]
    elif s.isdigit() and len(s) in (4, 6) and (len(s) == 4 or s.endswith("00")):
        own = s[:4] + "00"
        row = div[(div.code == own) & (div.level == "prefecture")]
        if row.empty:
            raise ValueError(f"scope {scope!r}: {own} is not a GB/T 2260 prefecture code")
        name, unit_level = row.name.iloc[0], "county"
        covered = div[div.code.str.startswith(s[:4])]
    else:
        raise ValueError(f"scope {scope!r}: expected CN, a province (32) or a prefecture (3204)")
    return {
        "scope": s if s != "CHINA" else "CN",
        "code": own,
        "name": name,
        "unit_level": unit_level,
        "provinces": covered[covered.level == "province"].reset_index(drop=True),
        "prefectures": covered[covered.level == "prefecture"].reset_index(drop=True),
        "counties": covered[covered.level == "county"].reset_index(drop=True),
    }


@lru_cache(maxsize=None)
def official_holidays() -> pd.DataFrame:
    """State Council holidays and 调休 make-up working days 2023–2026: date, kind (holiday|workday), name."""
    df = pd.read_csv(data_path("cn_holidays_2023_2026.csv"), dtype=str)
    df["date"] = pd.to_datetime(df["date"]).dt.date
    return df
