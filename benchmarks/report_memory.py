"""Where the report folder's memory goes: run what ``cei report`` runs (``reports.build_reports``, then the PDF
and Word export with the connection closed) on a warehouse, read-only, and print for each SQL file and each
report builder the resident memory beside three accounts of it.

    .venv/bin/python benchmarks/report_memory.py WAREHOUSE OUT_FOLDER [--scope CN] [--period 2025]

Each line: the resident memory of this process now; what DuckDB says it holds (``duckdb_memory()``, and its
spill); what glibc's ``malloc`` holds, in use and free (``mallinfo2``); live Python blocks
(``sys.getallocatedblocks``). Resident memory that none of them explains is memory an allocator kept after it
was freed. A thread samples the process tree every 0.2 s; the peak of each step (with the export's Chromium
children) is printed when the next begins, and the largest at the end. Issue 12 (BENCHMARKS.md, twelfth session).
"""
from __future__ import annotations

import argparse
import ctypes
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from pipelines.settings import connect  # noqa: E402  (sets DuckDB's allocator, as every cei command does)

MB = 2 ** 20


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                               "fsmblks", "uordblks", "fordblks", "keepcost")]


def _glibc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        return libc
    except (OSError, AttributeError):  # not glibc: the column reads "-"
        return None


class Trace:
    def __init__(self, probe):
        self.me, self.probe, self.libc = psutil.Process(), probe, _glibc()
        self.lock = threading.Lock()
        self.step, self.t0 = "start", time.monotonic()
        self.peak = (0, 0, 0)  # (tree, self, children) of the current step
        self.top = (0, 0, 0, "")
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            own = self.me.memory_info().rss
            kids = 0
            for c in self.me.children(recursive=True):
                try:
                    kids += c.memory_info().rss
                except psutil.Error:
                    pass
            with self.lock:
                if own + kids > self.peak[0]:
                    self.peak = (own + kids, own, kids)
                if own + kids > self.top[0]:
                    self.top = (own + kids, own, kids, self.step)
            time.sleep(0.2)

    def accounts(self) -> str:
        duck = spill = None
        if self.probe is not None:
            duck, spill = self.probe.execute("SELECT sum(memory_usage_bytes), sum(temporary_storage_bytes) "
                                             "FROM duckdb_memory()").fetchone()
        glibc = "-"
        if self.libc is not None:
            mi = self.libc.mallinfo2()
            glibc = f"{(mi.uordblks + mi.hblkhd) / MB:,.0f} in use, {mi.fordblks / MB:,.0f} free"
        ddb = "-" if duck is None else f"{duck / MB:,.0f} (spill {spill / MB:,.0f})"
        return (f"resident {self.me.memory_info().rss / MB:,.0f} | DuckDB {ddb} | glibc {glibc} | "
                f"Python blocks {sys.getallocatedblocks() / 1e6:.1f}M")

    def mark(self, step: str) -> None:
        with self.lock:
            ended, (tree, own, kids) = self.step, self.peak
            self.step, self.peak = step, (0, 0, 0)
        peak = (f"peak {tree / MB:6,.0f} MB (cei {own / MB:,.0f}, children {kids / MB:,.0f})" if tree
                else "(shorter than a sample)")
        print(f"{time.monotonic() - self.t0:8.1f}s  {peak} during {ended}", flush=True)
        print(f"{'':10}{self.accounts()}", flush=True)


def _wrap(module, name: str, trace: Trace, label=None) -> None:
    real = getattr(module, name)

    def wrapped(*args, **kwargs):
        trace.mark(label(args, kwargs) if label else f"{name} (begins)")
        try:
            return real(*args, **kwargs)
        finally:
            if not label:
                trace.mark(f"{name} (ended)")

    setattr(module, name, wrapped)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("warehouse", type=Path)
    ap.add_argument("out", type=Path, help="the report folder to write (as cei report --out)")
    ap.add_argument("--scope", default="CN")
    ap.add_argument("--period", default="2025")
    ap.add_argument("--lang", default="zh")
    args = ap.parse_args()

    import indicators.sqlfiles as sqlfiles
    import reports
    from reports.export_files import export_report_folder

    con = connect(args.warehouse, read_only=True)
    trace = Trace(con.cursor())
    sql_label = (lambda a, k: f"{a[1]} {dict(a[2] if len(a) > 2 and a[2] else k.get('params') or {}).get('indicator_id', '')}".strip())
    _wrap(sqlfiles, "run", trace, sql_label)
    _wrap(sqlfiles, "stream", trace, lambda a, k: f"stream {a[1]}")
    for name in ("build_complaints_analysis", "build_kpi_scorecard", "build_sampling_report", "build_key_categories",
                 "build_index_outputs", "build_analysis", "build_dq_report", "build_drilldown", "build_index_report",
                 "build_dashboard", "narrative", "load_index_data"):
        if hasattr(reports, name):
            _wrap(reports, name, trace)
    reports.build_reports(con, args.scope, args.period, args.out, args.lang)
    con.close()
    trace.probe = None
    trace.mark("export (connection closed)")
    done = export_report_folder(args.out, args.scope, args.period, args.lang)
    trace.mark("end")
    tree, own, kids, step = trace.top
    print(f"largest: {tree / MB:,.0f} MB (cei {own / MB:,.0f}, children {kids / MB:,.0f}) during {step}; "
          f"export problems: {done.problems or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
