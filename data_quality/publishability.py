"""Can period P at scope S be published? (发布前检查) — the months that stop it, and why.

A period is publishable when every month it covers, in every table the index and reports read,
was gated on the staging rows it holds now and passed. A month is

* ``never_gated`` — staging (or its rejects) holds rows the gate has never judged;
* ``stale`` — staging changed since the month's last gate (its row count or content fingerprint
  differs from the one recorded in ``dq.month_status``), or staging was not rebuilt from the raw
  deliveries now there (a delivery landed, the staging step did not run or failed), or its
  look-back month changed since: the gate judges month P with the month before (P−1) as context
  (duplicates across months and channels flag rows of P by comparing them with P−1), so its record
  keeps P−1's staging rows and fingerprint as read, and a re-delivery of P−1 makes P stale too — a
  period holding P but not P−1 (2025Q2 when March changed) is not published from P's old results.
  A record written before look-back months were kept counts as stale when P−1 holds staging rows
  now (what the gate compared P with is unknown; one ``cei run`` records it), and not otherwise
  (there was nothing to compare with). Year partitions (region profiles) have no look-back;
* ``held_back`` — its last gate failed a check (``dq.month_checks``: reject or error share over its
  limit, judged by :func:`data_quality.thresholds.months_over`);
* ``missing`` — a month of the period without any 12315 complaint record (no delivery loaded, or
  every row rejected before staging): a year or quarter computed from the months that came would be
  published as if it were whole. Complaints are the monthly feed every dimension but 安全度 rests on;
  sampling and hotline statistics may have months without records, so only complaints are required.

The gate's months are months of the whole table (a partition spans every region), so the scope does
not narrow them. :func:`judge` is pure (states in, verdict out); :func:`check_period` reads the
states from the warehouse. ``cei index``, ``cei report`` and the index / report assets refuse a
period with any such month; ``--provisional`` publishes it with :meth:`Verdict.banner` on every
page and sheet.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from data_quality.thresholds import months_over

# the tables behind the index and the reports (region profiles are partitioned by year)
PUBLISHED_TABLES = ("complaints", "sampling_results", "hotline_stats", "region_profiles")
REQUIRED_MONTHLY = "complaints"  # every month of a published period has some (see ``missing``)
MONTH = re.compile(r"\d{4}-\d{2}")


def look_back_month(partition: str) -> str | None:
    """The month the gate reads as context when it judges ``partition`` (the month before);
    None for a year partition (region profiles)."""
    if len(partition) != 7:
        return None
    y, m = int(partition[:4]), int(partition[5:])
    return f"{y - 1}-12" if m == 1 else f"{y}-{m - 1:02d}"


@dataclass(frozen=True)
class CheckRecord:
    name: str
    value: float
    threshold: float


@dataclass(frozen=True)
class GateRecord:
    """What ``dq.month_status`` / ``dq.month_checks`` say about a month's last gate.

    ``context_*``: the look-back month as that gate read it (its staging rows and fingerprint);
    ``context_partition`` None means no look-back is checked (a year partition, or a record built
    by a caller that judges nothing across months, such as the lake). ``context_recorded`` False:
    a ``dq.month_status`` row written before the look-back month was kept (NULL columns)."""
    gated_at: dt.datetime
    staging_rows: int
    staging_fingerprint: int | None
    checks: tuple[CheckRecord, ...] = ()
    context_partition: str | None = None
    context_rows: int = 0
    context_fingerprint: int | None = None
    context_recorded: bool = True


@dataclass(frozen=True)
class MonthNow:
    """What the warehouse holds for a month now."""
    staging_rows: int
    staging_fingerprint: int | None
    built_from_raw: bool = True


@dataclass(frozen=True)
class MonthProblem:
    table: str
    partition: str
    state: str  # never_gated | stale | held_back | missing
    reason: str  # English, one line
    failed: tuple[CheckRecord, ...] = ()
    gated_at: dt.datetime | None = None
    reason_zh: str = ""  # Chinese reason of a stale month when it is not the usual one

    def text(self, lang: str = "en") -> str:
        checks = ", ".join(f"{c.name} {c.value:.2f} > {c.threshold:.2f}" for c in self.failed)
        if lang == "zh":
            why = {"held_back": f"因 {checks} 未通过检查",
                   "stale": self.reason_zh or "暂存数据在上次检查后已变更，尚未重新检查",
                   "never_gated": "尚未经过数据质量检查",
                   "missing": "无数据（未报送或全部被拒收）"}[self.state]
            return f"{self.partition} {why}（{self.table}）"
        why = {"held_back": f"held back by {checks}", "stale": f"stale: {self.reason}",
               "never_gated": "never gated", "missing": "missing: no records loaded"}[self.state]
        return f"{self.partition} {why} ({self.table})"


@dataclass(frozen=True)
class Verdict:
    scope: str
    period: str
    partitions: tuple[str, ...]  # every partition the period covers
    problems: tuple[MonthProblem, ...] = field(default_factory=tuple)

    @property
    def publishable(self) -> bool:
        return not self.problems

    @property
    def months(self) -> list[str]:
        return sorted({p.partition for p in self.problems})

    def message(self) -> str:
        """One paragraph for the console (refusal) naming each month and its failed checks."""
        if self.publishable:
            return f"scope {self.scope}, period {self.period}: every month gated and passed"
        what = "; ".join(p.text("en") for p in self.problems)
        hint = []
        if any(p.state in ("stale", "never_gated") for p in self.problems):
            hint.append("`cei run` gates stale months")
        if any(p.state == "missing" for p in self.problems):
            hint.append("load the missing months' deliveries")
        hint.append("--provisional publishes anyway, marked provisional")
        return (f"not publishing scope {self.scope}, period {self.period}: {what}. " + "; ".join(hint) + ".")

    def banner(self, lang: str = "zh") -> str:
        """The line every provisional page and sheet carries; empty when publishable."""
        if self.publishable:
            return ""
        if lang == "zh":
            return "临时数据：" + "；".join(p.text("zh") for p in self.problems)
        return "provisional: " + "; ".join(p.text("en") for p in self.problems)


def judge_month(table: str, partition: str, now: MonthNow | None, gate: GateRecord | None,
                look_back_now: MonthNow | None = None) -> MonthProblem | None:
    """A month's problem, or None when it was gated on what staging holds now and passed.
    ``look_back_now``: what the warehouse holds now for the month's look-back month (None: nothing)."""
    if gate is None:
        if now is None or (now.staging_rows == 0 and now.built_from_raw):
            return None  # nothing there, nothing gated: not a month of this table
        return MonthProblem(table, partition, "never_gated", "never gated")
    now = now or MonthNow(0, None)
    if (now.staging_rows, now.staging_fingerprint) != (gate.staging_rows, gate.staging_fingerprint):
        return MonthProblem(table, partition, "stale",
                            f"staging changed since its gate at {gate.gated_at:%Y-%m-%d %H:%M:%S} "
                            f"({gate.staging_rows} -> {now.staging_rows} rows)", gated_at=gate.gated_at)
    if not now.built_from_raw:
        return MonthProblem(table, partition, "stale", "raw deliveries changed; staging not rebuilt since",
                            gated_at=gate.gated_at)
    if changed := _look_back_changed(table, partition, gate, look_back_now):
        return changed
    failed = tuple(c for c in gate.checks if months_over({partition: c.value}, c.threshold))
    if failed:
        return MonthProblem(table, partition, "held_back", "held back", failed, gate.gated_at)
    return None


def _look_back_changed(table: str, partition: str, gate: GateRecord, now: MonthNow | None) -> MonthProblem | None:
    """Stale when the month before, which the gate read as context, is not what it read then."""
    before = look_back_month(partition)
    if before is None or (gate.context_recorded and gate.context_partition is None):
        return None
    now = now or MonthNow(0, None)
    at = f"{gate.gated_at:%Y-%m-%d %H:%M:%S}"
    if not gate.context_recorded:  # an older gate: what it compared with is unknown
        if not now.staging_rows:
            return None  # nothing to compare with now, and cross-month rules found nothing in it
        return MonthProblem(
            table, partition, "stale",
            f"the month before ({before}) was not recorded by this month's gate at {at} (an older version); "
            "cross-month rules look back at it", gated_at=gate.gated_at,
            reason_zh=f"本月上次检查（{at}）未记录上月（{before}）数据状态，跨月规则需回看上月，尚未重新检查")
    if (now.staging_rows, now.staging_fingerprint) == (gate.context_rows, gate.context_fingerprint) \
            and gate.context_partition == before:
        return None
    return MonthProblem(
        table, partition, "stale",
        f"the month before ({before}) changed since this month's gate at {at} "
        f"({gate.context_rows} -> {now.staging_rows} rows); cross-month rules look back at it",
        gated_at=gate.gated_at,
        reason_zh=f"上月（{before}）暂存数据在本月上次检查（{at}）后已变更，跨月规则需回看上月，尚未重新检查")


def judge(scope: str, period: str, partitions: list[str], now: dict[tuple[str, str], MonthNow],
          gates: dict[tuple[str, str], GateRecord]) -> Verdict:
    """Pure: the verdict on ``partitions`` from what the warehouse holds (``now``) and what the
    gate recorded (``gates``), both keyed by (table, partition)."""
    problems = []
    for table, partition in sorted(set(now) | set(gates), key=lambda k: (k[1], PUBLISHED_TABLES.index(k[0])
                                                                           if k[0] in PUBLISHED_TABLES else 99, k[0])):
        if partition not in partitions:
            continue
        before = look_back_month(partition)
        problem = judge_month(table, partition, now.get((table, partition)), gates.get((table, partition)),
                              now.get((table, before)) if before else None)
        if problem:
            problems.append(problem)
    for partition in partitions:
        if MONTH.fullmatch(partition) and (REQUIRED_MONTHLY, partition) not in gates \
                and not (now.get((REQUIRED_MONTHLY, partition)) or MonthNow(0, None)).staging_rows:
            problems.append(MonthProblem(REQUIRED_MONTHLY, partition, "missing", "no records loaded"))
    problems.sort(key=lambda p: p.partition)  # stable: a month's problems stay in table order
    return Verdict(scope, period, tuple(partitions), tuple(problems))


def period_partitions(period: str) -> list[str]:
    """The partitions a period covers: its months (``2025-01`` …) and its year (region profiles)."""
    from indicators.periods import parse_period

    p = parse_period(period)
    months, (y, m) = [], (p.start.year, p.start.month)
    while (y, m) <= (p.end.year, p.end.month):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months + [str(p.year)]


def read_states(con, partitions: list[str], tables: tuple[str, ...] = PUBLISHED_TABLES
                ) -> tuple[dict[tuple[str, str], MonthNow], dict[tuple[str, str], GateRecord]]:
    """What the warehouse holds now and what the gate recorded, for ``partitions`` of ``tables``.
    ``now`` also holds the look-back month of each month asked, inside the period or not."""
    from data_quality.gate import month_state
    from ingestion.sqlfiles import run, table_exists

    read = sorted(set(partitions) | {b for p in partitions if (b := look_back_month(p))})
    now: dict[tuple[str, str], MonthNow] = {}
    for t in tables:
        if table_exists(con, "staging", t) and table_exists(con, "raw", t):
            for p, rows, fingerprint, _rejected, built in month_state(con, t, read):
                now[(t, p)] = MonthNow(rows, fingerprint, bool(built))
    gates: dict[tuple[str, str], GateRecord] = {}
    if table_exists(con, "dq", "month_status"):
        asked = {"partitions": list(partitions), "tables": list(tables)}
        checks: dict[tuple[str, str], list[CheckRecord]] = {}
        for t, p, name, value, limit in run(con, "dq/publish/month_checks.sql", asked).fetchall():
            checks.setdefault((t, p), []).append(CheckRecord(name, value, limit))
        result = run(con, "dq/publish/month_status.sql", asked)
        columns = [d[0] for d in result.description]
        for values in result.fetchall():
            r = dict(zip(columns, values))  # a warehouse not gated since the look-back columns came lacks them
            key = (r["table_name"], r["partition_key"])
            recorded = r.get("context_partition") is not None or look_back_month(key[1]) is None
            gates[key] = GateRecord(r["gated_at"], r["staging_rows"], r["staging_fingerprint"],
                                    tuple(checks.get(key, ())), r.get("context_partition"),
                                    r.get("context_rows") or 0, r.get("context_fingerprint"), recorded)
    return now, gates


def check_period(con, scope: str, period: str, tables: tuple[str, ...] = PUBLISHED_TABLES) -> Verdict:
    """Can ``period`` at ``scope`` be published from this warehouse? (read-only connections work)"""
    partitions = period_partitions(period)
    now, gates = read_states(con, partitions, tables)
    return judge(scope, period, partitions, now, gates)


def looking_back_at(con, months: list[str], tables: tuple[str, ...] = PUBLISHED_TABLES) -> list[str]:
    """The gated months whose look-back month is one of ``months``: restaging ``months`` makes them
    stale, so ``cei run`` gates them in the same run."""
    from ingestion.sqlfiles import run, table_exists

    after = {m: b for m in months if (b := _month_after(m))}
    if not after or not table_exists(con, "dq", "month_status"):
        return []
    gated = run(con, "dq/publish/gated_months.sql", {"partitions": sorted(set(after.values())), "tables": list(tables)})
    return sorted(p for (p,) in gated.fetchall())


def _month_after(partition: str) -> str | None:
    if len(partition) != 7:
        return None
    y, m = int(partition[:4]), int(partition[5:])
    return f"{y + 1}-01" if m == 12 else f"{y}-{m + 1:02d}"


def unsettled_partitions(con, table: str) -> list[str]:
    """Every partition of ``table`` that is stale or never gated (``cei run`` gates them)."""
    from ingestion.sqlfiles import known_table, run, sql_text, table_exists

    t = known_table(table)
    if not (table_exists(con, "raw", t) and table_exists(con, "staging", t)):
        return []
    gated = sql_text("dq/publish/table_partitions_gated.sql") if table_exists(con, "dq", "month_status") else ""
    partitions = [r[0] for r in run(con, "dq/publish/table_partitions.sql", {"table_name": t}, table=t,
                                    gated=gated).fetchall()]
    now, gates = read_states(con, partitions, (t,))
    return sorted({p.partition for p in judge("", "", partitions, now, gates).problems
                   if p.state in ("stale", "never_gated")})
