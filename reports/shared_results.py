"""Query results shared by the reports of one folder build.

The reports of a folder read some of the same numbers: the KPI scorecard's counts per bureau feed
the narrative analysis's KPI sentences, the sampling report's breakdown feeds its sampling
sentences. Each is a full pass over the clean records (at 10M complaints the KPI counts rebuild
``sql/indicators/complaints_records.sql``, ~10 s), so inside :func:`sharing` a function marked
:func:`shared` runs once per connection and arguments and later calls get a copy of its result.
Outside :func:`sharing` nothing is kept: a test or a CLI call that changes the warehouse between two
calls sees the change. ``reports.build_reports`` shares for the duration of one folder, during which
the warehouse is only read.
"""
from __future__ import annotations

import contextvars
import copy
import functools
from contextlib import contextmanager

_RESULTS: contextvars.ContextVar[dict | None] = contextvars.ContextVar("reports_shared_results", default=None)


@contextmanager
def sharing():
    """Share the results of :func:`shared` functions until the block ends."""
    token = _RESULTS.set({})
    try:
        yield
    finally:
        _RESULTS.reset(token)


def shared(fn):
    """``fn(con, *args, **kwargs)``, computed once per (connection, arguments) inside :func:`sharing`;
    every caller gets its own deep copy (callers add columns to the frames they get)."""

    @functools.wraps(fn)
    def wrapper(con, *args, **kwargs):
        results = _RESULTS.get()
        if results is None:
            return fn(con, *args, **kwargs)
        key = (fn.__module__, fn.__qualname__, id(con), repr(args), repr(sorted(kwargs.items())))
        if key not in results:
            results[key] = fn(con, *args, **kwargs)
        return copy.deepcopy(results[key])

    return wrapper
