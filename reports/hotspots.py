"""Complaint hotspots from the words people write (热点词语) — issue 10 point 7.

The coded fields say *which category* grows; the free text (诉求内容) says *what about it*: 异响,
预付卡退费, 虚假宣传. This module finds the words and short phrases whose share of complaints rose
against their own baseline, with counts, masked example excerpts and a draft 消费提示 paragraph an
analyst edits before anything is published. No Dagster; SQL in ``sql/reports/hotspot_*.sql``.

**Terms.** Text is segmented with jieba (precise mode, no HMM new-word guessing, so every term of two
or more characters is a word of jieba's dictionary or of the shipped user list — no fragments such as
``机系统``), with the user words and stop words of ``hotspots_lexicon.yaml``. A *word* is a token of
at least two Chinese characters (or a Latin abbreviation of at least two letters such as ABS), not a
stop word, not a person's name (jieba's dictionary tags: a name is personal data) nor a GB/T 2260
division name (where complaints rise the coded fields already say) and with no digits (amounts, model numbers and masked numbers are not hotspots). A *phrase*
is 2–3 consecutive words (a leading 不/未/无/没 may join: 不予解决, 未解决). Each complaint counts once
per term (document frequency), so a long complaint repeating a word does not make a hotspot.

**Test.** For a term and a tested period let ``x`` of ``n`` complaints contain it, against ``S`` of
``N`` in the baseline (up to ``baseline_periods`` previous periods). If the term's rate per complaint
did not change, conditionally on ``x + S`` the count ``x`` is Binomial(``x + S``, ``n / (n + N)``) —
the exact conditional test of two Poisson rates with exposures (the surge test of
:mod:`reports.surges`, whose ``binom_sf`` and ``benjamini_hochberg`` are used, with complaints as the
exposure). One-sided p = P(X >= x). Over every term × tested period with a baseline of at least
``min_baseline_docs`` complaints the p-values are adjusted with Benjamini–Hochberg; cells below the
minimum count enter with p = 1 (conservative, as in the surge test). A term is a **hotspot** when
q <= ``fdr_q``, ``x >= min_count`` and its share rose at least ``min_ratio``-fold (or it is new).
Of two hotspots where one contains the other (异响 / 变速箱异响) the longer is kept when it covers
at least ``nested_share`` of the shorter's complaints.

**Bounded work.** Per month at most ``sample_cap`` complaints are read (a deterministic sample: the
lowest hashes of the record id), streamed from DuckDB in batches of ``batch_rows``; memory holds one
term counter per month of the window (bounded by the cap, not by the number of records). The page
says the cap and how many complaints each month had.

**Personal data.** Texts are masked before they are segmented (a name or number is
never a term), and excerpts are cut from the content *after* it is masked again here with the
pipeline's own macro (:func:`ingestion.pii.mask_numbers`: phones, ID numbers in every written form)
plus a pattern for a person named with an honorific (王先生 -> 某先生) or after 我叫 / 姓名 /
联系人; masking first means a number is never cut in half at the excerpt's edge and so missed.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd
import yaml

from reports import labels
from reports.surges import benjamini_hochberg, binom_sf

LEXICON = Path(__file__).with_name("hotspots_lexicon.yaml")
NEGATIONS = frozenset("不未无没")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_ALL_CJK = re.compile(r"[\u4e00-\u9fff]+")
_LATIN = re.compile(r"[A-Za-z]{2,}")
_DIGIT = re.compile(r"[0-9０-９]")


@dataclass(frozen=True)
class HotspotMethod:
    baseline_periods: int = 6      # previous periods (months) forming the baseline
    min_baseline_docs: int = 200   # a baseline of fewer complaints tests nothing
    min_count: int = 10            # complaints containing the term in the tested period
    min_ratio: float = 2.0         # share now / share in the baseline
    fdr_q: float = 0.01            # Benjamini–Hochberg level over all terms × periods
    nested_share: float = 0.8      # a longer hotspot covering this share of a shorter one replaces it
    sample_cap: int = 2000         # complaints read per month (deterministic sample; ~0.3 ms each to segment)
    batch_rows: int = 1000         # rows fetched from DuckDB at a time
    max_ngram: int = 3             # phrases of 2..max_ngram words
    excerpts: int = 3              # example excerpts per hotspot
    excerpt_chars: int = 30        # characters either side of the term
    max_rows: int = 20             # hotspots shown
    max_drafts: int = 5            # draft 消费提示 paragraphs (strongest hotspots not sharing an excerpt)


DEFAULT_METHOD = HotspotMethod()


# --- segmentation -----------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _lexicon(path: str) -> tuple[tuple[str, ...], frozenset[str]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return tuple(str(w) for w in data.get("user_words", [])), frozenset(str(w) for w in data.get("stop_words", []))


class Segmenter:
    """jieba with the shipped user words and stop words; :meth:`terms` gives a text's term set."""

    def __init__(self, lexicon: Path = LEXICON, max_ngram: int = 3):
        import jieba

        jieba.setLogLevel(60)  # jieba prints "Building prefix dict..." to stderr otherwise
        self.user_words, self.stop_words = _lexicon(str(lexicon))
        self.max_ngram = max_ngram
        self._tk = jieba.Tokenizer()  # a private dictionary: the global jieba state stays untouched
        self._tk.initialize()
        for w in self.user_words:
            self._tk.add_word(w)
        self.names = _name_words() - set(self.user_words)
        for w in _division_names():  # 海门区 one token (then not a term), not 海门 + 区
            if len(w) >= 3 and w not in self._tk.FREQ:
                self._tk.add_word(w)

    def tokens(self, text: str) -> list[str]:
        return self._tk.lcut(text or "", HMM=False)

    def is_word(self, tok: str) -> bool:
        if tok in self.names:  # a place or a person: the coded fields say where; a name is personal data
            return False
        if tok in self.stop_words or _DIGIT.search(tok):
            return tok in self.user_words and tok not in self.stop_words  # 4S店 is a word, 2000元 is not
        if _ALL_CJK.fullmatch(tok):
            return len(tok) >= 2
        return bool(_LATIN.fullmatch(tok)) or tok in self.user_words

    def known(self, word: str) -> bool:
        """A word jieba's dictionary or the user list holds (every word :meth:`terms` returns is one)."""
        return word in self.user_words or self._tk.FREQ.get(word, 0) > 0

    def terms(self, text: str) -> set[str]:
        toks = self.tokens(text)
        ok = [self.is_word(t) for t in toks]
        out = {t for t, k in zip(toks, ok) if k}
        n = len(toks)
        for i in range(n):
            lead_neg = toks[i] in NEGATIONS
            if not (ok[i] or lead_neg):
                continue
            words = 1 if ok[i] else 0
            for j in range(i + 1, min(n, i + self.max_ngram)):
                if not ok[j]:
                    break
                words += 1
                if words >= (1 if lead_neg else 2):
                    out.add("".join(toks[i:j + 1]))
        return out


# jieba's tags of Chinese person names (not nrt/ns: transliterated and place names are brands too, 福特, 长安)
NAME_TAGS = frozenset({"nr", "nrfg"})


@lru_cache(maxsize=1)
def _division_names() -> dict[str, str]:
    """GB/T 2260 name -> code, current and historical."""
    import reference

    d = pd.concat([reference.admin_divisions_history()[["code", "name"]], reference.admin_divisions()[["code", "name"]]])
    return dict(zip(d["name"].astype(str), d["code"].astype(str)))


@lru_cache(maxsize=1)
def _name_words() -> frozenset[str]:
    """Words that are never terms: what jieba's dictionary tags as a person's name, every GB/T 2260
    division name, and the short form of provinces and prefectures (常州市 and 常州; a county's short
    form is often a common word or a brand: 长安, 鼓楼)."""
    import jieba

    out = set()
    with jieba.get_dict_file() as f:
        for line in f:
            parts = line.decode("utf-8").split()
            if len(parts) == 3 and parts[2] in NAME_TAGS:
                out.add(parts[0])
    for n, code in _division_names().items():
        out.add(n)
        short = re.sub(r"(?:自治州|地区|盟|特别行政区|省|市)$", "", n)
        if code.endswith("00") and len(short) >= 2:
            out.add(short)
    return frozenset(out)


@lru_cache(maxsize=1)
def default_segmenter() -> Segmenter:
    return Segmenter()


# --- counting -------------------------------------------------------------------------------------

@dataclass
class PeriodCounts:
    """Complaints read in one period and, per term, how many of them contain it."""
    period: str
    docs: int = 0
    counts: Counter = field(default_factory=Counter)
    total_docs: int | None = None  # complaints in the period before sampling (None: all were read)

    def add(self, texts: Iterable[str], segmenter: Segmenter, batch: int = 1000) -> None:
        """Count ``texts`` (masked first, in batches: a name or number is never a term)."""
        buf: list[str] = []
        for text in texts:
            if text:
                buf.append(text)
            if len(buf) >= batch:
                self._count(buf, segmenter)
                buf = []
        self._count(buf, segmenter)

    def _count(self, texts: list[str], segmenter: Segmenter) -> None:
        for text in mask_texts(texts):
            self.docs += 1
            self.counts.update(segmenter.terms(text))


def count_periods(frame: pd.DataFrame, text_col: str, period_col: str, segmenter: Segmenter | None = None
                  ) -> list[PeriodCounts]:
    """:class:`PeriodCounts` per period of a frame (sorted by period label)."""
    seg = segmenter or default_segmenter()
    out = []
    for p, g in frame.groupby(period_col, sort=True):
        pc = PeriodCounts(str(p))
        pc.add(g[text_col].dropna().astype(str), seg)
        out.append(pc)
    return out


# --- the test -------------------------------------------------------------------------------------

RESULT_COLUMNS = ["period", "term", "count", "docs", "share", "baseline_count", "baseline_docs",
                  "baseline_periods", "baseline_share", "ratio", "p_value", "q_value", "hotspot"]


def rising_terms(periods: Sequence[PeriodCounts], tested: Iterable[str] | None = None,
                 method: HotspotMethod = DEFAULT_METHOD) -> pd.DataFrame:
    """Every term × tested period with a usable baseline, tested (see module doc), strongest first.

    ``periods`` are in time order and consecutive (an empty month is a PeriodCounts with 0 docs);
    ``tested`` names the periods to test (default: all with a baseline). ``attrs['tested']`` is the
    number of cells in the Benjamini–Hochberg family."""
    want = None if tested is None else {str(t) for t in tested}
    rows = []
    for i, cur in enumerate(periods):
        if want is not None and cur.period not in want:
            continue
        base = periods[max(0, i - method.baseline_periods):i]
        n_base = sum(b.docs for b in base)
        if not cur.docs or n_base < method.min_baseline_docs:
            continue
        p_cur = cur.docs / (cur.docs + n_base)
        for term, x in cur.counts.items():
            s = sum(b.counts.get(term, 0) for b in base)
            share, bshare = x / cur.docs, s / n_base
            ratio = share / bshare if s else math.inf
            p = binom_sf(x, x + s, p_cur) if x >= method.min_count else 1.0
            rows.append((cur.period, term, x, cur.docs, share, s, n_base, len(base), bshare, ratio, p))
    res = pd.DataFrame(rows, columns=RESULT_COLUMNS[:-2])
    res["q_value"] = benjamini_hochberg(res["p_value"]) if len(res) else pd.Series(dtype=float)
    res["hotspot"] = ((res["q_value"] <= method.fdr_q) & (res["count"] >= method.min_count)
                      & (res["ratio"] >= method.min_ratio)) if len(res) else pd.Series(dtype=bool)
    res = res.sort_values(["hotspot", "p_value", "count", "term"], ascending=[False, True, False, True],
                          kind="stable").reset_index(drop=True)
    res.attrs["tested"] = len(res)
    return res


def collapse_nested(hot: pd.DataFrame, method: HotspotMethod = DEFAULT_METHOD) -> pd.DataFrame:
    """Drop a hotspot that a longer hotspot of the same period contains and mostly explains."""
    keep = []
    for r in hot.itertuples(index=False):
        same = hot[(hot["period"] == r.period) & (hot["term"] != r.term)]
        inside = [len(t) > len(r.term) and r.term in t for t in same["term"]]
        longer = same.loc[pd.Series(inside, index=same.index, dtype=bool), "count"]
        keep.append(not (longer >= method.nested_share * r.count).any())
    return hot.loc[pd.Series(keep, index=hot.index, dtype=bool)].reset_index(drop=True)


# --- excerpts -------------------------------------------------------------------------------------

_HONORIFIC = re.compile(r"[\u4e00-\u9fff](?=先生|女士|小姐|师傅)")  # the surname: 王先生 -> 某先生
_INTRODUCED = re.compile(r"(我叫|我是|姓名[:：]?|联系人[:：]?)\s*[\u4e00-\u9fff]{2,3}")


def _mask_names(s: str) -> str:
    s = _INTRODUCED.sub(lambda m: m.group(1) + "[姓名]", s)
    return _HONORIFIC.sub("某", s)


def mask_text(text: str) -> str:
    """The pipeline's number masking (phones, ID numbers) plus names introduced or with an honorific."""
    from ingestion.pii import mask_numbers

    return _mask_names(mask_numbers(text) or "")


def mask_texts(texts: Sequence[str]) -> list[str]:
    """:func:`mask_text` for a batch: one query of the same SQL macro (``pii_mask_numbers``) over the list."""
    from ingestion.pii import mask_numbers_many

    masked = mask_numbers_many(["" if t is None else str(t) for t in texts])
    return [_mask_names(s) for s in masked]


def excerpt(text: str, term: str, width: int = 30) -> str | None:
    """``width`` characters either side of the first ``term`` in the masked text (None: not there)."""
    s = re.sub(r"\s+", " ", mask_text(text or "")).strip()
    i = s.find(term)
    if i < 0:
        return None
    a, b = max(0, i - width), min(len(s), i + len(term) + width)
    return ("…" if a > 0 else "") + s[a:b] + ("…" if b < len(s) else "")


def excerpts(texts: Iterable[str], term: str, n: int = 3, width: int = 30) -> list[str]:
    out = []
    for t in texts:
        e = excerpt(t, term, width)
        if e and e not in out:
            out.append(e)
            if len(out) >= n:
                break
    return out


# --- draft 消费提示 ---------------------------------------------------------------------------------

def fmt_ratio(ratio: float, lang: str) -> str:
    return labels.label("hs.new", lang) if math.isinf(ratio) else f"{ratio:.1f}"


def draft_warning(row: dict, examples: Sequence[str], lang: str = "zh", *, scope_label: str = "",
                  category: str | None = None) -> str:
    """A draft 消费提示 paragraph for one hotspot: catalog text, numbers from the data."""
    from reports.render import fmt_pvalue

    t = labels.translator(lang)
    v = labels.value_translator(lang)
    parts = [t("hs.draft.lead", period=row["period"], scope=scope_label, term=row["term"], count=f"{row['count']:,}",
               docs=f"{row['docs']:,}", share=f"{row['share'] * 100:.1f}%")]
    if math.isinf(row["ratio"]):
        parts.append(t("hs.draft.new", k=row["baseline_periods"], p=fmt_pvalue(row["p_value"])))
    else:
        parts.append(t("hs.draft.rise", k=row["baseline_periods"], base=f"{row['baseline_share'] * 100:.1f}%",
                       ratio=f"{row['ratio']:.1f}", p=fmt_pvalue(row["p_value"])))
    if category:
        parts.append(t("hs.draft.category", category=v(category)))
    if examples:
        parts.append(t("hs.draft.example", example=examples[0].strip("…")))
    parts.append(t("hs.draft.advice"))
    return t("hs.draft.mark") + "".join(parts)


# --- from the warehouse ---------------------------------------------------------------------------

@dataclass
class HotspotResult:
    method: HotspotMethod
    periods: list[PeriodCounts]
    tested: pd.DataFrame        # every tested term × period
    hotspots: pd.DataFrame      # hotspots shown (collapsed, strongest first, at most max_rows)
    examples: dict              # (period, term) -> list of masked excerpts
    categories: dict            # (period, term) -> the category most of its complaints have
    tested_periods: list[str]
    sources: dict = field(default_factory=dict)  # (period, term) -> hashes of the complaints quoted


def _iter_texts(con, name: str, params: dict, batch_rows: int):
    from reports.queries import query_params, report_sql

    if set(params) != query_params(name):
        raise TypeError(f"query {name}: parameters {sorted(params)} != {sorted(query_params(name))}")
    cur = con.execute(report_sql(name), params)
    while True:
        rows = cur.fetchmany(batch_rows)
        if not rows:
            return
        yield from (r[0] for r in rows)


def collect_hotspots(con, prefix: str, months: Sequence[dt.date], tested: Sequence[dt.date],
                     method: HotspotMethod = DEFAULT_METHOD, segmenter: Segmenter | None = None) -> HotspotResult:
    """Count terms month by month (sampled, streamed), test the ``tested`` months, fetch excerpts.

    ``months`` are consecutive first days of months, the baseline window included."""
    from reports.queries import run

    seg = segmenter or default_segmenter()
    periods = []
    for m in months:
        start = dt.datetime.combine(m, dt.time())
        end = dt.datetime.combine((pd.Timestamp(m) + pd.offsets.MonthBegin(1)).date(), dt.time())
        pc = PeriodCounts(m.strftime("%Y-%m"))
        pc.add(_iter_texts(con, "hotspot_texts", {"prefix": prefix, "start": start, "end": end,
                                                  "cap": method.sample_cap}, method.batch_rows), seg)
        total = run(con, "hotspot_month_docs", prefix=prefix, start=start, end=end)
        pc.total_docs = int(total["n"].iloc[0]) if len(total) else 0
        periods.append(pc)
    tested_labels = [m.strftime("%Y-%m") for m in tested]
    res = rising_terms(periods, tested_labels, method)
    hot = collapse_nested(res[res["hotspot"]], method).head(method.max_rows) if len(res) else res
    examples, categories, sources = {}, {}, {}
    for r in hot.itertuples(index=False):
        m = pd.Timestamp(r.period + "-01")
        w = {"prefix": prefix, "start": m.to_pydatetime(), "end": (m + pd.offsets.MonthBegin(1)).to_pydatetime(),
             "term": r.term}
        ex = run(con, "hotspot_examples", n=method.excerpts * 3, **w)
        examples[(r.period, r.term)] = excerpts(ex["content"], r.term, method.excerpts, method.excerpt_chars)
        sources[(r.period, r.term)] = {hash(c) for c in ex["content"].head(method.excerpts)}
        cat = run(con, "hotspot_term_category", **w)
        categories[(r.period, r.term)] = cat["category"].iloc[0] if len(cat) else None
    return HotspotResult(method, periods, res, hot, examples, categories, tested_labels, sources)


def section(result: HotspotResult | None, lang: str, scope_label: str = "") -> dict:
    """Template context for the 热点词语 section: method text, table rows, excerpts, drafts."""
    from reports.render import fmt_pvalue, table

    t = labels.translator(lang)
    m = result.method if result else DEFAULT_METHOD
    ctx = {"method": t("hs.method", cap=f"{m.sample_cap:,}", k=m.baseline_periods, kmin=f"{m.min_baseline_docs:,}",
                       q=m.fdr_q, min_count=m.min_count, ratio=f"{m.min_ratio:g}", n=m.max_ngram),
           "items": [], "table": None, "coverage": "", "drafts": []}
    if result is None:
        return ctx
    tested = set(result.tested_periods)
    cov = [p for p in result.periods if p.period in tested]
    read, total = sum(p.docs for p in cov), sum(p.total_docs or p.docs for p in cov)
    months = len(set(result.tested["period"])) if len(result.tested) else 0
    ctx["coverage"] = t("hs.coverage", read=f"{read:,}", total=f"{total:,}", months=months, untested=len(cov) - months,
                        terms=f"{result.tested.attrs.get('tested', len(result.tested)):,}",
                        found=len(result.hotspots))
    hot = result.hotspots.copy()
    hot["ratio_label"] = [fmt_ratio(r, lang) for r in hot["ratio"]]
    hot["p_label"] = [fmt_pvalue(p) for p in hot["p_value"]]
    ctx["table"] = table("tbl-hotspots", [
        ("period", t("col.month")), ("term", t("hs.col.term")), ("count", t("hs.col.count"), "int"),
        ("docs", t("hs.col.docs"), "int"), ("share", t("hs.col.share"), "pct"),
        ("baseline_count", t("hs.col.baseline_count"), "int"), ("baseline_docs", t("hs.col.baseline_docs"), "int"),
        ("baseline_share", t("hs.col.baseline_share"), "pct"), ("ratio_label", t("col.ratio")),
        ("p_label", t("col.p_value"))], hot)
    quoted: set[str] = set()
    for i, r in enumerate(hot.to_dict("records")):
        key = (r["period"], r["term"])
        ex = result.examples.get(key, [])
        item = {"term": r["term"], "period": r["period"], "count": r["count"], "excerpts": ex,
                "anchor": f"hotspot-{i + 1}"}
        ctx["items"].append(item)
        # one draft per surge: a hotspot whose example complaints were quoted for an earlier one is
        # the same complaints seen through another word
        src = result.sources.get(key) or set(ex)
        if len(ctx["drafts"]) < m.max_drafts and not (src & quoted):
            quoted.update(src)
            ctx["drafts"].append({"term": r["term"], "period": r["period"], "anchor": f"draft-{i + 1}",
                                  "text": draft_warning(r, ex, lang, scope_label=scope_label,
                                                        category=result.categories.get(key))})
    return ctx


def write_drafts_docx(path: Path, ctx: dict, lang: str, title: str) -> Path | None:
    """The draft 消费提示 paragraphs as an editable Word file (None when there is no draft)."""
    path = Path(path)
    if not ctx.get("drafts"):
        path.unlink(missing_ok=True)  # an earlier run's drafts must not outlive their data
        return None
    from docx import Document

    path.parent.mkdir(parents=True, exist_ok=True)

    t = labels.translator(lang)
    doc = Document()
    doc.add_heading(title, level=1)
    doc.add_paragraph(t("hs.drafts.note"))
    for d in ctx["drafts"]:
        doc.add_heading(f"{d['period']} · {d['term']}", level=2)
        doc.add_paragraph(d["text"])
    doc.save(str(path))
    return path


def for_report(con, scope, period, last_month: dt.date | None, lang: str = "zh",
               method: HotspotMethod = DEFAULT_METHOD) -> dict:
    """The 热点词语 section of the 12315 analysis page for ``scope`` (a reports.scope.Scope) and ``period``:
    the period's months with data are tested against the ``baseline_periods`` months before each."""
    from reports.periods import add_months

    tested = [m for m in period.months if last_month is None or m <= last_month]
    if not tested:
        return section(None, lang)
    first = add_months(period.start, -method.baseline_periods)
    months = [add_months(first, i) for i in range(method.baseline_periods + len(tested))]
    result = collect_hotspots(con, scope.prefix, months, tested, method)
    return section(result, lang, scope.label(lang))
