"""Editions of a report folder (issue 10 point 10): every run kept per scope, period and run date, and
what changed between runs — data re-delivered, data-quality rules changed, index specification changed.

Folder layout (the one place it is defined; the report asset and ``cei report`` use these functions)::

    <out>/<scope>_<period>[_<lang>]/                      the latest run (folder_name)
    <out>/history/<scope>_<period>[_<lang>]/<stamp>/      a kept copy of every run (edition_folder)

``<stamp>`` = the run's date and time, then an optional run id: ``2026-12-06T071500_ab12cd34``.

Every folder :func:`reports.build_reports` writes carries ``edition.json`` (:func:`edition_record`):
when it was generated; the deliveries behind the period (per table and month: file name, SHA-256,
load time, from ``raw.load_log``); the data-quality rulebook (a digest per rule, from ``dq.rules``);
the index specification's version. :func:`changes` compares two records; the folder's ``index.html``
lists the earlier editions (:func:`list_editions`) with what changed, in words a reader knows (file
names, months, rule descriptions, "第2版"), never rule ids or column names.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

RECORD = "edition.json"
HISTORY = "history"


# ------------------------------------------------------------------------------------------ layout
def folder_name(scope: str, period: str, lang: str = "zh") -> str:
    """``32_2025`` (``32_2025_en`` in English): the latest folder's name inside the output root."""
    return f"{scope}_{period}" if lang == "zh" else f"{scope}_{period}_{lang}"


def latest_folder(out_root: str | Path, scope: str, period: str, lang: str = "zh") -> Path:
    return Path(out_root) / folder_name(scope, period, lang)


def edition_stamp(when: dt.datetime | None = None, run_id: str | None = None) -> str:
    """``2026-12-06T071500`` (``…_ab12cd34`` with a run id): sorts in time order."""
    s = f"{(when or dt.datetime.now()):%Y-%m-%dT%H%M%S}"
    return f"{s}_{run_id[:8]}" if run_id else s


def edition_folder(out_root: str | Path, scope: str, period: str, lang: str, stamp: str) -> Path:
    """``<out>/history/<scope>_<period>[_<lang>]/<stamp>``."""
    return Path(out_root) / HISTORY / folder_name(scope, period, lang) / stamp


def history_of(folder: str | Path) -> Path:
    """The history folder of a latest folder: ``<out>/history/<folder name>``."""
    folder = Path(folder)
    return folder.parent / HISTORY / folder.name


def keep_edition(folder: str | Path, stamp: str | None = None, keep: int = 0) -> Path:
    """Copy a built report folder to its history (never overwritten: a second copy in the same second
    gets a suffix). Returns the copy's path. ``keep`` > 0: then only the newest ``keep`` editions of the
    folder stay (:func:`prune_history`); 0 keeps every one."""
    folder = Path(folder)
    stamp = stamp or edition_stamp()
    target = history_of(folder) / stamp
    n = 1
    while target.exists():
        n += 1
        target = history_of(folder) / f"{stamp}-{n}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(folder, target)
    # the copy's index page links the editions before it from where it now lives (siblings)
    page = target / "index.html"
    if page.is_file():
        text = page.read_text(encoding="utf-8")
        page.write_text(text.replace(f'href="../{HISTORY}/{folder.name}/', 'href="../'), encoding="utf-8")
    prune_history(folder, keep)
    return target


def prune_history(folder: str | Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` editions of a latest folder's history (``keep`` <= 0: none
    removed); returns the folders removed, oldest first. A 10M-record national edition is 2.5–5 GB
    (BENCHMARKS.md, issue 12), so a scheduled run that keeps every edition fills the disk; the default
    stays "keep every edition" because a bureau may be asked for any report it was sent."""
    if keep <= 0:
        return []
    root = history_of(folder)
    editions = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name) if root.is_dir() else []
    removed = editions[:-keep]
    for old in removed:
        shutil.rmtree(old)
    return removed


# ------------------------------------------------------------------------------------------ record
def _months(period) -> list[str]:
    start, end = dt.date.fromisoformat(str(period.start)[:10]), dt.date.fromisoformat(str(period.end)[:10])
    out, d = [], start.replace(day=1)
    while d < end:
        out.append(f"{d:%Y-%m}")
        d = (d.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


def _table_exists(con, schema: str, table: str) -> bool:
    from reports.queries import table_exists

    return table_exists(con, schema, table)


def edition_record(con, scope, period, lang: str, generated_at: dt.datetime, spec_version: str | None = None) -> dict:
    """What this run was made from (see module doc). Reads the warehouse; never raises on a missing table."""
    from reports.queries import report_sql

    months = _months(period)
    deliveries = []
    if _table_exists(con, "raw", "load_log"):
        for table, name, sha, loaded, parts in con.execute(report_sql("edition_deliveries")).fetchall():
            for m in sorted(set(parts or []) & set(months)):
                deliveries.append({"table": table, "month": m, "file": name, "sha256": sha,
                                   "loaded_at": str(loaded)[:19]})
    rules = {}
    if _table_exists(con, "dq", "rules"):
        for r in con.execute(report_sql("edition_rules")).fetchall():
            rules[r[0]] = {"digest": hashlib.sha256(json.dumps(r[1:], default=str).encode()).hexdigest()[:16],
                           "zh": r[5] or "", "en": r[6] or r[5] or ""}
    if spec_version is None and _table_exists(con, "mart", "index_scores"):
        v = con.execute(report_sql("edition_spec_version"), {"scope": scope.key, "period": period.key}).fetchone()
        spec_version = v[0] if v else None
    return {"scope": scope.key, "period": period.key, "lang": lang,
            "generated_at": generated_at.strftime("%Y-%m-%d %H:%M:%S"), "spec_version": spec_version,
            "deliveries": deliveries, "rules": rules}


def write_record(folder: str | Path, record: dict) -> Path:
    path = Path(folder) / RECORD
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_record(folder: str | Path) -> dict | None:
    try:
        return json.loads((Path(folder) / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# ----------------------------------------------------------------------------------------- changes
@dataclass
class Changes:
    redelivered: list[dict] = field(default_factory=list)  # {table, month, file, before}
    new_data: list[dict] = field(default_factory=list)  # {table, month, file}
    rules_added: list[str] = field(default_factory=list)  # descriptions
    rules_changed: list[str] = field(default_factory=list)
    rules_removed: list[str] = field(default_factory=list)
    spec: tuple[str, str] | None = None  # (before, after) display names

    @property
    def none(self) -> bool:
        return not (self.redelivered or self.new_data or self.rules_added or self.rules_changed or self.rules_removed
                    or self.spec)


def changes(before: dict, after: dict, lang: str = "zh") -> Changes:
    """What changed from edition ``before`` to ``after``."""
    c = Changes()
    key = (lambda d: (d["table"], d["month"]))
    b = {}
    for d in before.get("deliveries", []):
        b.setdefault(key(d), set()).add(d["sha256"])
    a = {}
    for d in after.get("deliveries", []):
        a.setdefault(key(d), []).append(d)
    for k, ds in sorted(a.items()):
        shas = {d["sha256"] for d in ds}
        if k not in b:
            c.new_data.append({"table": k[0], "month": k[1], "file": ds[-1]["file"]})
        elif shas != b[k]:
            c.redelivered.append({"table": k[0], "month": k[1], "file": ds[-1]["file"]})
    rb, ra = before.get("rules", {}), after.get("rules", {})
    text = (lambda r: r.get(lang) or r.get("zh") or "")
    c.rules_added = [text(ra[r]) for r in sorted(set(ra) - set(rb))]
    c.rules_removed = [text(rb[r]) for r in sorted(set(rb) - set(ra))]
    c.rules_changed = [text(ra[r]) for r in sorted(set(ra) & set(rb)) if ra[r]["digest"] != rb[r]["digest"]]
    sb, sa = before.get("spec_version"), after.get("spec_version")
    if sb != sa and (sb or sa):
        c.spec = (spec_name(sb, lang), spec_name(sa, lang))
    return c


def spec_name(version: str | None, lang: str = "zh") -> str:
    """"第2版" for ``default_v2``; the version text for a spec without a number; "–" for none."""
    import re

    from reports import labels

    if not version:
        return "–"
    m = re.search(r"v(\d+)$", str(version))
    return labels.label("spec.version_n", lang, n=m.group(1)) if m else str(version)


def change_lines(c: Changes, lang: str = "zh") -> list[str]:
    """The changes in words (one line each); [] when nothing changed."""
    from reports import labels

    t = labels.translator(lang)
    v = labels.value_translator(lang)
    out = []
    if c.redelivered:
        out.append(t("ed.redelivered", items=t("ed.sep").join(
            t("ed.item", table=t(f"ed.table.{d['table']}") if f"ed.table.{d['table']}" in labels.LABELS else v(d["table"]),
              month=d["month"], file=d["file"]) for d in c.redelivered)))
    if c.new_data:
        months = sorted({d["month"] for d in c.new_data})
        out.append(t("ed.new_data", n=len(c.new_data), months=t("ed.sep").join(months)))
    for key, items in (("ed.rules_added", c.rules_added), ("ed.rules_changed", c.rules_changed),
                       ("ed.rules_removed", c.rules_removed)):
        if items:
            shown = items[:5]
            more = t("ed.more", n=len(items) - len(shown)) if len(items) > len(shown) else ""
            out.append(t(key, n=len(items), items=t("ed.sep").join(shown) + more))
    if c.spec:
        out.append(t("ed.spec", before=c.spec[0], after=c.spec[1]))
    return out


@dataclass
class Edition:
    stamp: str
    generated_at: str
    href: str  # relative to the latest folder
    lines: list[str]  # what changed against the edition before it


def list_editions(folder: str | Path, lang: str = "zh", current: dict | None = None) -> tuple[list[Edition], list[str]]:
    """The kept editions of a latest folder, newest first, each with what changed against the one
    before it; and what changed from the newest kept edition to ``current`` (this run's record)."""
    folder = Path(folder)
    hist = history_of(folder)
    found = []
    if hist.is_dir():
        for d in sorted(p for p in hist.iterdir() if p.is_dir()):
            rec = read_record(d)
            if rec is not None and (d / "index.html").is_file():
                found.append((d, rec))
    eds = []
    for i, (d, rec) in enumerate(found):
        lines = change_lines(changes(found[i - 1][1], rec, lang), lang) if i else []
        href = Path(os.path.relpath(d / "index.html", folder)).as_posix()
        eds.append(Edition(d.name, rec.get("generated_at", d.name), href, lines))
    now = change_lines(changes(found[-1][1], current, lang), lang) if found and current else []
    return eds[::-1], now


# the names the report asset (assets/reports.py) and pipelines/periods.py use for the same layout, so the
# asset can take them from here: one definition of where folders go
report_folder_name = folder_name


def history_folder(out_dir: str | Path, scope: str, period: str, lang: str, stamp: str) -> Path:
    """Alias of :func:`edition_folder` (the report asset's name for it)."""
    return edition_folder(out_dir, scope, period, lang, stamp)
