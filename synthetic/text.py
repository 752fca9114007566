"""Free text of a 12315 record (诉求内容), built from templates per record type, category and problem.

Examples of what comes out::

    本人于3月2日在常州鑫达电器有限公司购买了空调，价格3299元，使用不到一周就出现故障，要求更换商品。
    举报武进区王记餐馆销售过期食品，请依法查处。
    来电咨询预付卡退费的相关政策。
    东风日产逍客变速箱报故障码P17F1，要求商家给个说法。     (real 车质网 summary, 交通工具 only)

In about 20 % of all records (``pii_in_content``) the text also mentions the complainant's own
name, mobile number (sometimes written ``138 1234 5678``) or ID number — as real records do — so
the pipeline's masking has something to mask. Which records do is returned as a flag array.

Everything is assembled column-wise with numpy object arrays (no Python loop per record).
"""
from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import numpy as np
import pandas as pd

from . import vocab
from .codes import spaced_mobiles

COMPLAINT, REPORT, CONSULT = 0, 1, 2
PROBLEMS = list(vocab.COMPLAINT_PROBLEM_MIX)  # index order = ingestion.schema.PROBLEM_TYPES order
CARS = vocab.CATEGORIES.index("交通工具")


@lru_cache(maxsize=1)
def car_summaries() -> np.ndarray:
    path = files(__package__) / "data" / "car_complaint_summaries.csv"
    df = pd.read_csv(str(path), dtype=str, keep_default_na=False)
    return df["summary"].to_numpy(dtype=object)


def _ragged(table: dict, keys: list[str]):
    flat, offset, count = [], [], []
    for k in keys:
        opts = table[k]
        offset.append(len(flat))
        count.append(len(opts))
        flat.extend(opts)
    return np.asarray(flat, dtype=object), np.asarray(offset), np.asarray(count)


def pick_by(rng: np.random.Generator, table: dict, keys: list[str], key_idx: np.ndarray) -> np.ndarray:
    """For each record pick one option of ``table[keys[key_idx]]``."""
    flat, off, cnt = _ragged(table, keys)
    key_idx = np.asarray(key_idx)
    return flat[off[key_idx] + (rng.random(len(key_idx)) * cnt[key_idx]).astype(np.int64)]


def pick(rng: np.random.Generator, options, n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


def _istr(a) -> np.ndarray:
    return np.asarray(a).astype(np.int64).astype(str).astype(object)


def build_content(
    rng: np.random.Generator,
    rtype: np.ndarray,
    category: np.ndarray,
    problem: np.ndarray,
    online: np.ndarray,
    platform: np.ndarray,  # platform name ("" if offline)
    respondent: np.ndarray,  # respondent name ("" if none)
    shop: np.ndarray,  # online shop name ("" if none)
    amount: np.ndarray,  # float, NaN if none
    received_day: np.ndarray,  # datetime64[D]
    name: np.ndarray,
    phone: np.ndarray,
    id_number: np.ndarray,
    pii_share: float = 0.2,
) -> tuple[np.ndarray, np.ndarray]:
    n = len(rtype)
    is_goods = category < vocab.N_GOODS
    cats = list(vocab.CATEGORIES)
    item = pick_by(rng, vocab.ITEMS, cats, category)
    phrase = pick_by(rng, vocab.PROBLEM_PHRASES, PROBLEMS, problem)
    demand_tab = {p: vocab.DEMANDS.get(p, vocab.DEMANDS["_default"]) for p in PROBLEMS}
    demand = pick_by(rng, demand_tab, PROBLEMS, problem)
    violation = pick_by(rng, vocab.VIOLATIONS, PROBLEMS, problem)

    bought = received_day - rng.integers(1, 75, n).astype("timedelta64[D]")
    month = bought.astype("datetime64[M]")
    date = _istr(month.astype(np.int64) % 12 + 1) + "月" + _istr((bought - month.astype("datetime64[D]")).astype(np.int64) + 1) + "日"
    has_resp = respondent != ""
    where = np.where(online & (platform != ""), platform + "平台“" + shop + "”", np.where(has_resp, respondent, "某商家"))
    show_price = ~np.isnan(amount) & (rng.random(n) < 0.7)
    price = np.where(show_price, "，价格" + _istr(np.nan_to_num(np.round(amount))) + "元", "")

    text = np.empty(n, dtype=object)
    # --- 投诉: four templates; each is only assembled for its own rows (memory) ------------------------
    t = rng.integers(0, 4, n)
    verb_goods = np.where(t == 1, "买的", "购买了")
    obj = np.where(is_goods, verb_goods + item, np.where(t == 1, "消费的", "办理了") + item)
    cars = car_summaries()
    use_car = (category == CARS) & (rng.random(n) < 0.5)
    car_text = pick(rng, cars, n)
    comp = rtype == COMPLAINT
    for k in range(4):
        i = np.flatnonzero(comp & (t == k) & ~use_car)
        d, w, o, pr, ph, de = date[i], where[i], obj[i], price[i], phrase[i], demand[i]
        if k == 0:
            text[i] = "本人于" + d + "在" + w + o + pr + "，" + ph + "，" + de + "。"
        elif k == 1:
            text[i] = d + "在" + w + o + pr + "，" + ph + "。" + de + "。"
        elif k == 2:
            text[i] = "消费者反映：" + d + "在" + w + o + pr + "，" + ph + "，与商家协商未果，" + de + "。"
        else:
            text[i] = "我在" + w + o + pr + "，" + ph + "，" + de + "，请市场监管部门协助处理。"
    i = np.flatnonzero(comp & use_car)
    text[i] = car_text[i] + "，" + demand[i] + "。"

    # --- 举报 ---------------------------------------------------------------------------------------
    target = np.where(has_resp, respondent, "某商家")
    tr = rng.integers(0, 3, n)
    rep = rtype == REPORT
    i = np.flatnonzero(rep & (tr == 0))
    text[i] = "举报" + target[i] + violation[i] + "，请依法查处。"
    i = np.flatnonzero(rep & (tr == 1))
    text[i] = target[i] + violation[i] + "，希望相关部门核实处理。"
    i = np.flatnonzero(rep & (tr == 2))
    text[i] = "本人于" + date[i] + "发现" + target[i] + violation[i] + "，特此举报。"

    # --- 咨询 ---------------------------------------------------------------------------------------
    i = np.flatnonzero(rtype == CONSULT)
    topic = pick(rng, vocab.CONSULT_TOPICS, len(i))
    about = item[i] + pick(rng, vocab.CONSULT_ITEM_TOPICS, len(i))  # e.g. 空调的售后保修期限
    text[i] = pick(rng, vocab.CONSULT_PREFIXES, len(i)) + np.where(rng.random(len(i)) < 0.5, topic, about) + "。"

    # --- the complainant's own personal data in the text ----------------------------------------------
    has_any = (name != "") | (phone != "") | (id_number != "")
    # pii_share is a share of ALL records: scale it up for the records that carry personal data
    carry = float(has_any.mean()) if n else 1.0
    mention = has_any & (rng.random(n) < min(1.0, pii_share / max(carry, 1e-9)))
    v = rng.integers(0, 5, n)
    spaced = rng.random(n) < 0.2
    m = np.flatnonzero(mention)  # only the mentioning rows are assembled
    nm, pn, idn = name[m], phone[m], id_number[m]
    ph = np.where(spaced[m], spaced_mobiles(np.where(pn != "", pn, "00000000000")), pn)
    cands = [
        np.where((nm != "") & (pn != ""), "联系人：" + nm + "，电话：" + ph + "。", ""),
        np.where(idn != "", "本人身份证号" + idn + "。", ""),
        np.where(pn != "", "请尽快回电" + ph + "。", ""),
        np.where((nm != "") & (idn != ""), "投诉人" + nm + "（身份证号码：" + idn + "）。", ""),
        np.where(nm != "", "我叫" + nm + "。", ""),
    ]
    vm = v[m]
    extra = np.select([vm == 0, vm == 1, vm == 2, vm == 3], cands[:4], cands[4])
    # fall back to whatever the record has when the chosen variant needs a field it lacks
    for c in cands:
        extra = np.where(extra == "", c, extra)
    text[m] = text[m] + extra
    mention[m] = extra != ""
    return text.astype(object), mention


DEDUPE_SUFFIXES = ("望尽快处理。", "谢谢。", "盼复。", "请督促商家处理。", "希望得到解决。")


def make_unique(text: np.ndarray, active: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """Append a closing phrase to repeated (keys…, text) combinations among ``active`` rows.

    Used with the complainant's name and the respondent as keys, on records that name a complainant,
    so no two records of the same person about the same business read the same (only injected
    cross-channel duplicates do). Anonymous records cannot be matched to a person and are left alone.
    """
    text = np.asarray(text, dtype=object).copy()
    idx = np.flatnonzero(active)
    if len(idx) == 0:
        return text
    df = pd.DataFrame({f"k{i}": np.asarray(k, dtype=object)[idx] for i, k in enumerate(keys)} | {"t": text[idx]})
    for _ in range(5):
        r = df.groupby(list(df.columns), sort=False).cumcount().to_numpy()
        if not (r > 0).any():
            break
        suffix = np.array(("",) + DEDUPE_SUFFIXES, dtype=object)
        rr = np.minimum(r, len(DEDUPE_SUFFIXES))
        add = np.where(r <= len(DEDUPE_SUFFIXES), suffix[rr], "（第" + _istr(r + 1) + "次反映）")
        df["t"] = np.where(r > 0, df["t"].to_numpy() + add, df["t"].to_numpy())
    text[idx] = df["t"].to_numpy(dtype=object)
    return text
