"""Where things live: the warehouse file and the landing folder (environment, then defaults)."""
from __future__ import annotations

import errno
import os
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path

DEFAULT_WAREHOUSE = Path("data/warehouse.duckdb")
DEFAULT_LANDING = Path("data/landing")


def warehouse_path(explicit: str | os.PathLike | None = None, create_folder: bool = True) -> Path:
    """``--warehouse`` if given, else ``CEI_WAREHOUSE``, else ``data/warehouse.duckdb`` (its folder
    created private unless ``create_folder`` is false: commands that only read create nothing)."""
    p = Path(explicit or os.environ.get("CEI_WAREHOUSE") or DEFAULT_WAREHOUSE)
    if create_folder:
        private_folder(p.parent)
    return p


# The warehouse keeps personal data in raw: its folder and file are private to the owner. DuckDB
# creates the file (and, at each write after a checkpoint, the .wal) with the process umask, so
# the file is narrowed right after it is created and the .wal whenever a connection opens; a
# folder the pipeline creates is 0700, which keeps a .wal written later private as well.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_folder(folder: Path) -> None:
    """Create ``folder`` (and missing parents) if needed; the folder itself, when new, gets 0700.
    An existing folder is left as it is (it may be shared on purpose, e.g. the working directory)."""
    folder = Path(folder)
    if folder.is_dir():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir(mode=PRIVATE_DIR_MODE)
    except FileExistsError:  # another process made it first
        return
    os.chmod(folder, PRIVATE_DIR_MODE)  # mkdir's mode is filtered by the umask


def private_files(path: str | os.PathLike, created: bool) -> None:
    """0600 on the warehouse file when this process created it, and on its .wal when there is one."""
    p = Path(path)
    targets = ([p] if created else []) + [p.with_name(p.name + ".wal")]
    for f in targets:
        try:
            if f.is_file() and f.stat().st_uid == os.getuid():
                os.chmod(f, PRIVATE_FILE_MODE)
        except OSError:  # vanished between the check and chmod (a checkpoint removed the .wal)
            pass


def landing_dir(explicit: str | os.PathLike | None = None) -> Path:
    return Path(explicit or os.environ.get("CEI_LANDING") or DEFAULT_LANDING)


# DuckDB by default may take 80% of RAM for its buffers; the pipeline keeps to a budget and spills
# to disk beyond it (measured: 1M-record ingest peaks at ~1.3 GB RSS with 1200MB, ~2.4 GB without).
DEFAULT_MEMORY_LIMIT = "1200MB"


# DuckDB allocates through its own jemalloc, which keeps freed pages for reuse and, without its background
# threads, hands them back only when DuckDB allocates again. A query that spilled 11 GB left ~740 MB
# resident with nothing in use, and report after report piled such pages up: the national year's report
# process reached 3.9 GB while DuckDB held under its 1.2 GB (BENCHMARKS.md, issue 12). The background
# threads (allocator_background_threads) return them while Python alone works, and freed pages are let go
# after 1 s instead of jemalloc's 10 (tests/test_memory_release.py: 14 MB against 540 MB still resident
# 3 s after the same query). jemalloc reads DUCKDB_JE_MALLOC_CONF once, at DuckDB's first allocation, so it
# is set when this module is imported (every warehouse connection comes through it), unless already set.
ALLOCATOR_ENV = "DUCKDB_JE_MALLOC_CONF"
ALLOCATOR_CONF = "dirty_decay_ms:1000,muzzy_decay_ms:0"
os.environ.setdefault(ALLOCATOR_ENV, ALLOCATOR_CONF)


def duckdb_config() -> dict:
    return {"memory_limit": os.environ.get("CEI_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT,
            "allocator_background_threads": True}


class WarehouseBusy(Exception):
    """Another process holds the warehouse (DuckDB lets one process open a file for writing, and
    none read while it does). The message is one line naming the holder, for the CLI to print."""


class DiskFull(Exception):
    """A write failed because the disk is full; the message names the path. The transaction in
    flight was rolled back, so the warehouse holds what it held before."""


KEEP_EDITIONS_ENV = "CEI_KEEP_EDITIONS"


def keep_editions(explicit: int | None = None) -> int:
    """Report editions kept per folder under ``reports/history/`` (``reports.editions.prune_history``):
    ``explicit`` if given, else ``$CEI_KEEP_EDITIONS``, else 0 = every edition."""
    if explicit is not None:
        return max(int(explicit), 0)
    raw = os.environ.get(KEEP_EDITIONS_ENV, "").strip()
    if not raw:
        return 0
    if not raw.isdigit():
        raise ValueError(f"{KEEP_EDITIONS_ENV}={raw!r}: a whole number of editions to keep (0 = every one)")
    return int(raw)


WAIT_ENV = "CEI_WAIT"
# DuckDB's text: Could not set lock on file "x.duckdb": Conflicting lock is held in /usr/bin/python3 (PID 1234)
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<exe>.*?) \(PID (?P<pid>\d+)\)")


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc)
    return "Could not set lock on file" in text or "Conflicting lock is held" in text


def _command_line(pid: int) -> str | None:
    """What the process runs, from /proc (Linux), shortened: `cei run --landing x`, `python -m pytest`."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    args = [a.decode("utf-8", "replace") for a in argv if a]
    if not args:
        return None
    # python /path/.venv/bin/cei run ... -> cei run ...
    if Path(args[0]).name.startswith("python") and len(args) > 1 and not args[1].startswith("-"):
        args = args[1:]
    args[0] = Path(args[0]).name
    text = " ".join(args)
    return text if len(text) <= 80 else text[:77] + "..."


def lock_holder(message: str) -> str:
    """'PID 1234 (cei run --landing x)' from DuckDB's lock error, or 'another process'."""
    m = _LOCK_HOLDER.search(message)
    if not m:
        return "another process"
    pid = m.group("pid")
    what = _command_line(int(pid)) or Path(m.group("exe").strip()).name
    return f"PID {pid} ({what})" if what else f"PID {pid}"


def wait_seconds(explicit: float | None = None) -> float:
    """``--wait`` if given, else ``CEI_WAIT``, else 0 (fail at once when the warehouse is in use)."""
    if explicit is not None:
        return max(float(explicit), 0.0)
    try:
        return max(float(os.environ.get(WAIT_ENV) or 0), 0.0)
    except ValueError:
        return 0.0


def connect(path: str | os.PathLike, read_only: bool = False, wait: float | None = None):
    """A DuckDB connection to the warehouse with the pipeline's settings.

    When another process holds the file, retries with backoff for ``wait`` seconds (default
    :func:`wait_seconds`), then raises :class:`WarehouseBusy` with a one-line message."""
    import duckdb

    wait = wait_seconds(wait)
    deadline = time.monotonic() + wait
    delay = 0.05
    in_memory = str(path) in ("", ":memory:") or str(path).startswith(":memory:")
    created = not read_only and not in_memory and not Path(path).exists()
    if created:
        private_folder(Path(path).parent)
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=duckdb_config())
            if not (sys.stdout and sys.stdout.isatty()):  # a scheduled run's log, not a terminal: its bar is noise
                con.execute("SET enable_progress_bar = false")  # (2,988 bar lines in the 44M run's log)
            if not in_memory and not read_only:
                private_files(path, created)
            return con
        except duckdb.IOException as e:
            if not _is_lock_error(e):
                raise
            left = deadline - time.monotonic()
            if left <= 0:
                waited = f" (waited {wait:g}s)" if wait else "; give --wait SECONDS to wait for it"
                raise WarehouseBusy(f"warehouse {path} is in use by {lock_holder(str(e))}{waited}") from None
            time.sleep(min(delay, left))
            delay = min(delay * 2, 1.0)


def wait_for_warehouse(path: str | os.PathLike, wait: float | None = None) -> None:
    """Block until the warehouse can be opened for writing (or raise :class:`WarehouseBusy`), for
    runs whose connections are opened elsewhere (Dagster's DuckDB resource in ``cei run``)."""
    connect(path, wait=wait).close()


def disk_full(exc) -> DiskFull | None:
    """A :class:`DiskFull` naming the path if ``exc`` (or an exception it replaced, e.g. a failed
    ROLLBACK after a failed COMMIT) is a disk-full write error; else None. ``exc`` may also be
    Dagster's serialised error of a failed step (``message``, ``cause``, ``context``)."""
    seen: set[int] = set()
    e = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, DiskFull):
            return e
        text = str(e) if isinstance(e, BaseException) else str(getattr(e, "message", ""))
        if (isinstance(e, OSError) and e.errno == errno.ENOSPC) or "No space left on device" in text:
            where = getattr(e, "filename", None)
            if not where:  # DuckDB: Could not write file "x.duckdb.wal": No space left on device
                m = re.search(r'"([^"]+)"', text)
                where = m.group(1) if m else None
            return DiskFull(f"disk full writing {where or 'the warehouse'}: the change in progress was rolled back "
                            f"and the warehouse is intact; free space on {Path(where).parent if where else 'its disk'} "
                            "and run the same command again")
        e = (e.__cause__ or e.__context__) if isinstance(e, BaseException) else \
            (getattr(e, "cause", None) or getattr(e, "context", None))
    return None


@contextmanager
def disk_full_as_message():
    """Turn a disk-full write error inside the block into :class:`DiskFull` (one clear line)."""
    try:
        yield
    except DiskFull:
        raise
    except Exception as e:
        full = disk_full(e)
        if full is None:
            raise
        raise full from None
