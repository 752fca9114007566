"""Helpers shared by the test modules (plain functions; the fixtures that use them are in conftest.py).

- ``complaint_rows`` / ``write_csv``: small, realistic delivered 12315 files with personal data;
- ``valid_uscc``: a USCC whose check character is computed by python-stdnum, not by our code;
- ``first_uncovered_year``: the first year the holiday calendar has no data for, derived from the
  calendar itself, so no test hard-codes which years the shipped notices cover;
- ``GeneratedWarehouse`` / ``build_generated_warehouse``: the synthetic generator's province run
  through the whole pipeline once per test session (see the ``pipeline_warehouse`` fixture).
"""
from __future__ import annotations

import csv
import hashlib
import os
import random
import re
import shutil
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from ingestion.schema import COMPLAINTS

TEST_PII_KEY = "test-key-0123456789abcdef0123456789abcdef"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"


def ascii_ids(values) -> list[str]:
    """Test ids in plain ASCII for parameters holding Chinese text, line breaks or bytes: pytest escapes
    those in ids ("\\u6263"), and an escaped id given back on the command line matches no test — mutmut
    runs the tests of a mutant by id (TESTING.md, "Mutation testing"). Numbered, with the ASCII left."""
    out = []
    for i, v in enumerate(values):
        text = v.decode("latin-1") if isinstance(v, bytes) else str(v)
        out.append(f"{i}-" + re.sub(r"[^A-Za-z0-9_.@+%:-]+", "_", text).strip("_")[:40])
    return out


def id_check_char(first17: str) -> str:
    """GB 11643 check character (ISO 7064 MOD 11-2), written out here independently of data_quality.codes."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


def valid_uscc(region: str = "320402", org: str = "MA1MXXXX0", kind: str = "91") -> str:
    """A GB 32100 unified social credit code; the check character comes from python-stdnum."""
    from stdnum.cn import uscc

    body = kind + region + org
    code = body + uscc.calc_check_digit(body)
    assert uscc.is_valid(code), code
    return code


def fake_person(rng: random.Random) -> tuple[str, str, str]:
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
    phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
    first17 = rng.choice(["320402", "320106", "110105"]) + f"{rng.randint(1950, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}" + f"{rng.randint(0, 999):03d}"
    return name, phone, first17 + id_check_char(first17)


def complaint_rows(n: int, month: str = "2025-03", seed: int = 1, uscc: str | None = None) -> list[dict]:
    """n plausible 12315 complaint rows as a bureau exports them (text), with personal data.

    By default 4 rows in 5 carry the placeholder USCC ``91320402MA1MXXXX0X`` (its check character is
    wrong, so the gate quarantines them) and the 5th none; give ``uscc=valid_uscc()`` for rows the
    gate lets through."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        name, phone, idn = fake_person(rng)
        day = rng.randint(1, 27)
        r = {c.name: "" for c in COMPLAINTS.columns}
        r.update(
            record_id=f"3204{month.replace('-', '')}{seed:02d}{i:05d}",
            record_type=rng.choice(["投诉", "投诉", "举报", "咨询"]),
            channel=rng.choice(["电话", "互联网", "微信"]),
            received_at=f"{month}-{day:02d} 09:{rng.randint(0, 59):02d}:00",
            accepted_at=f"{month}-{day + 1:02d} 10:00:00",
            accept_decision="受理",
            entry_unit_id="EU32040201",
            handling_region_code="320402",
            respondent_name=f"常州市某某商贸有限公司{i % 7}",
            respondent_uscc=(uscc or "91320402MA1MXXXX0X") if i % 5 else "",
            object_type="商品", category="服装鞋帽", problem_type="质量",
            is_online=rng.choice(["是", "否"]), platform_name="",
            amount_disputed=f"{rng.randint(50, 5000)}.00", amount_recovered="",
            complainant_name=name, complainant_phone=phone, complainant_id_number=idn,
            content=f"本人{name}，电话{phone}，身份证号{idn}。购买的商品存在质量问题，要求退货。",
        )
        rows.append(r)
    return rows


def write_csv(path: Path, rows: list[dict], encoding: str = "utf-8", headers: str = "canonical") -> Path:
    cols = [c.name for c in COMPLAINTS.columns]
    labels = [c.zh for c in COMPLAINTS.columns] if headers == "chinese" else cols
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(labels)
        for r in rows:
            w.writerow([r[c] for c in cols])
    return path


def count_csv_records(path: Path, encoding: str = "utf-8") -> int:
    """Records in a delivered CSV, counted with the csv module (independent of the loader)."""
    with open(path, encoding=encoding, newline="") as f:
        return sum(1 for _ in csv.DictReader(f))


def first_uncovered_year(calendar=None) -> int:
    """The first year after the calendar's covered run that has no holiday data (weekends only).

    Derived from ``WorkdayCalendar.covered_years`` so tests keep working when a new State Council
    notice is added to reference/data."""
    import pytest

    from reference.calendar import LAST_DAY, WorkdayCalendar

    cal = calendar or WorkdayCalendar()
    year = min(cal.covered_years)
    while year in cal.covered_years:
        year += 1
    if year > LAST_DAY.year - 1:  # the tests need the year and the next inside the calendar's range
        pytest.skip(f"the calendar covers every year up to {LAST_DAY.year}: no uncovered year to test")
    return year


@contextmanager
def env(**values: str):
    """Set environment variables for a block and restore them after (for session-scoped builds,
    where the function-scoped ``monkeypatch`` is not available)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# --------------------------------------------------------------------------- the generated warehouse
# One province through the whole pipeline (generate -> ingest -> staging -> gate -> indicators ->
# index -> report folders). 40,000 records a year: the index-stage tests need that many for the
# generator's latent region traits to show in 13 prefectures' rankings. 0.5% defects: the gate tests
# need ground truth to find, and at 1–5% some month's 26 hotline rows pass the 10% error share and
# hold the index back.
PIPELINE_CONFIG = dict(scope="32", years=(2024, 2025), records_per_year=40000, seed=5, defect_rate=0.005)
TABLE_OF_FILE = {"complaints_": "complaints", "sampling_results_": "sampling_results", "hotline_stats_": "hotline_stats"}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class GeneratedWarehouse:
    root: Path
    landing: Path
    path: Path                # the warehouse file: open read-only, or copy() it before writing
    reports_dir: Path         # the report folders the pipeline's reports asset wrote
    outcome: dict             # pipelines.runner.run_pipeline's return value
    truth: pd.DataFrame       # the generator's ground_truth_defects.csv, with a ``table`` column
    traits: pd.DataFrame      # latent traits per prefecture (region_code x trait)
    pii_key: str
    sha256: str               # of the file after the build; checked again when the session ends

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.path), read_only=True)

    def copy(self, folder: Path) -> Path:
        """A private, writable copy of the warehouse file in ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        dst = folder / "warehouse.duckdb"
        shutil.copy(self.path, dst)
        return dst

    def unchanged(self) -> bool:
        return _sha256(self.path) == self.sha256


def build_generated_warehouse(root: Path, **overrides) -> GeneratedWarehouse:
    from pipelines.runner import run_pipeline
    from synthetic import GeneratorConfig, generate

    cfg = {**PIPELINE_CONFIG, **overrides}
    landing, wh, reports = root / "landing", root / "warehouse.duckdb", root / "pipeline_reports"
    with env(CEI_PII_KEY=TEST_PII_KEY), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        generate(GeneratorConfig(out_dir=landing, **cfg))
        outcome = run_pipeline(landing, wh, say=lambda m: None, reports_dir=reports)
    truth = pd.read_csv(landing / "ground_truth_defects.csv", dtype=str)
    truth["table"] = truth.file.map(lambda f: next(t for p, t in TABLE_OF_FILE.items() if f.startswith(p)))
    traits = pd.read_csv(landing / "region_traits.csv", dtype={"region_code": str})
    traits = traits[traits.level == "prefecture"].pivot(index="region_code", columns="trait", values="value")
    return GeneratedWarehouse(root, landing, wh, reports, outcome, truth, traits, TEST_PII_KEY, _sha256(wh))


# The report pages' one static script (fits each chart to its card after layout): identical on every page.
FIT_CHARTS_SCRIPT = re.search(
    r'<script data-cei="fit-charts">(.*?)</script>',
    (Path(__file__).resolve().parents[1] / "reports" / "templates" / "base.html.j2").read_text(encoding="utf-8"),
    flags=re.S,
).group(1)


def page_script_bodies(text: str) -> list[str]:
    """Bodies of a page's <script> elements other than the static layout script: the data-bearing ones."""
    return [b for b in re.findall(r"<script[^>]*>(.*?)</script>", text, flags=re.S | re.I) if b != FIT_CHARTS_SCRIPT]
