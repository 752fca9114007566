"""Files a report build writes in a second process while it goes on with the rest.

Writing a large workbook is pure Python (xlsxwriter), on one core; the rest of a report folder is
mostly DuckDB queries. At 10M records ``dq_report.xlsx`` (8.5 million cells) took 77 s of the
reports' 480 s, with the machine's second core idle whenever Python ran (py-spy, BENCHMARKS.md, issue 12). Inside
:func:`background_writes`, :func:`write_file` hands such a write to one worker process (spawned: it
shares nothing with DuckDB's threads) and returns at once; the block waits for every write at its
end and raises the first failure, so a build whose file was not written fails — never a green run
with a file missing. Outside the block, :func:`write_file` writes in the caller (tests, CLI calls).

The worker gets the function's arguments by pickling (data frames, not connections) and the
``render.provisional`` banner of the caller, so a provisional workbook is stamped as in the caller.
"""
from __future__ import annotations

import contextvars
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable

from reports import render

MAX_WAITING = 4  # writes handed over and not finished: their arguments are held here until the worker takes them
_WRITES: contextvars.ContextVar[list | None] = contextvars.ContextVar("reports_background_writes", default=None)


def _in_worker(banner: str, fn: Callable, args: tuple, kwargs: dict) -> Any:
    with render.provisional(banner):
        return fn(*args, **kwargs)


@contextmanager
def background_writes():
    """Writes handed to :func:`write_file` in this block run in one worker process; the block ends
    when they are all written (the first failure is raised; after a failure in the block itself the
    writes not yet started are cancelled)."""
    state: list = []  # [executor, futures]
    token = _WRITES.set(state)
    failed = True
    try:
        yield
        failed = False
    finally:
        _WRITES.reset(token)
        if state:
            pool, futures = state
            try:
                if failed:
                    for f in futures:
                        f.cancel()
                else:
                    for f in futures:
                        f.result()  # raises the worker's exception
            finally:
                pool.shutdown(wait=True, cancel_futures=failed)


def write_file(fn: Callable, *args, **kwargs) -> Future | None:
    """``fn(*args, **kwargs)`` in the worker inside :func:`background_writes` (``fn`` importable by name,
    arguments picklable), else right here. Returns the worker's future, or None when written here."""
    state = _WRITES.get()
    if state is None:
        fn(*args, **kwargs)
        return None
    if not state:
        state += [ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")), []]
    pool, futures = state
    # a write waiting for the worker holds its arguments in this process: at most MAX_WAITING of them, so
    # memory does not grow with the data when the worker falls behind (the caller waits instead)
    waiting = [f for f in futures if not f.done()]
    while len(waiting) >= MAX_WAITING:
        waiting.pop(0).result()
        waiting = [f for f in waiting if not f.done()]
    future = pool.submit(_in_worker, render.provisional_banner(), fn, args, kwargs)
    futures.append(future)
    return future
