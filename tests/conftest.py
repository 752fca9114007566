"""Shared fixtures: a throw-away warehouse per test and small, realistic delivered files."""
from __future__ import annotations

import csv
import random
from pathlib import Path

import duckdb
import pytest

from ingestion.schema import COMPLAINTS

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"


def id_check_char(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


def fake_person(rng: random.Random) -> tuple[str, str, str]:
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
    phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
    first17 = rng.choice(["320402", "320106", "110105"]) + f"{rng.randint(1950, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}" + f"{rng.randint(0, 999):03d}"
    return name, phone, first17 + id_check_char(first17)


def complaint_rows(n: int, month: str = "2025-03", seed: int = 1) -> list[dict]:
    """n plausible 12315 complaint rows as a bureau exports them (text), with personal data."""
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
            respondent_uscc="91320402MA1MXXXX0X" if i % 5 else "",
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


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CEI_PII_KEY", "test-key-0123456789abcdef0123456789abcdef")
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def con(warehouse):
    c = duckdb.connect(str(warehouse))
    yield c
    c.close()
