"""Dagster resources: the DuckDB warehouse (one writer at a time: every writing asset uses pool
"duckdb"), the landing folder (``CEI_LANDING``) and the alert target of the failure sensors.

A writing asset that meets a busy warehouse (another process holds DuckDB's lock) or a transient
I/O error asks Dagster to retry the step with exponential backoff (:func:`retry_when_busy`); a data
finding (a refused file, a held-back month) is a ``dg.Failure(allow_retries=False)`` and never retries.
"""
from __future__ import annotations

import errno
import os
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import Field

from pipelines.settings import (WarehouseBusy, _is_lock_error, connect, duckdb_config, landing_dir,
                                warehouse_path)

DUCKDB_POOL = "duckdb"

# Retries of a writing step that found the warehouse busy: connect waits CONNECT_TIMEOUT seconds,
# then the step is retried after RETRY_DELAY, 2×, 4× ... seconds, LOCK_RETRIES times.
CONNECT_TIMEOUT = 10.0
LOCK_RETRIES = 3
RETRY_DELAY = 15.0


class WarehouseResource(DuckDBResource):
    """The warehouse file, opened through ``pipelines.settings.connect`` (the pipeline's memory
    limit, private file modes, a one-line :class:`WarehouseBusy` naming the process holding it)."""

    connect_timeout: float = Field(default=CONNECT_TIMEOUT, description="Seconds to wait for the lock per attempt.")
    lock_retries: int = Field(default=LOCK_RETRIES, description="Step retries after a busy warehouse or I/O error.")
    retry_delay: float = Field(default=RETRY_DELAY, description="Seconds before the first retry (doubling).")

    @contextmanager
    def get_connection(self):
        con = connect(self.database, wait=self.connect_timeout)
        try:
            yield con
        finally:
            con.close()


def warehouse_resource(path: str | None = None, **options) -> WarehouseResource:
    """``--warehouse`` / ``CEI_WAREHOUSE`` / ``data/warehouse.duckdb``; ``options``: connect_timeout,
    lock_retries, retry_delay. ``CEI_WAIT`` (``cei --wait``) lengthens the wait per attempt."""
    wait = os.environ.get("CEI_WAIT")
    if wait and "connect_timeout" not in options:
        try:
            options["connect_timeout"] = max(float(wait), CONNECT_TIMEOUT)
        except ValueError:
            pass
    return WarehouseResource(database=str(warehouse_path(path)), connection_config=duckdb_config(), **options)


_TRANSIENT_ERRNOS = {errno.EIO, errno.EAGAIN, errno.EBUSY, errno.ETIMEDOUT, errno.EINTR}


def is_transient(exc: BaseException) -> bool:
    """A busy warehouse (DuckDB's lock) or an I/O error worth retrying; never a full disk or bad data."""
    import duckdb

    seen = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, WarehouseBusy) or (isinstance(e, duckdb.Error) and _is_lock_error(e)):
            return True
        if isinstance(e, OSError) and e.errno in _TRANSIENT_ERRNOS:
            return True
        if isinstance(e, duckdb.IOException) and ("Input/output error" in str(e)
                                                  or "Resource temporarily unavailable" in str(e)):
            return True
        e = e.__cause__ or e.__context__
    return False


@contextmanager
def retry_when_busy(context, warehouse: DuckDBResource):
    """Around a writing asset's body: a busy warehouse or a transient I/O error becomes
    ``dg.RetryRequested`` with exponential backoff (``retry_delay`` × 2^retry_number)."""
    try:
        yield
    except Exception as e:
        if not is_transient(e):
            raise
        retries = getattr(warehouse, "lock_retries", LOCK_RETRIES)
        delay = getattr(warehouse, "retry_delay", RETRY_DELAY) * 2 ** context.retry_number
        context.log.warning(f"warehouse busy or I/O error ({str(e).splitlines()[0][:200]}); "
                            f"retry {context.retry_number + 1} of {retries} in {delay:g}s")
        raise dg.RetryRequested(max_retries=retries, seconds_to_wait=delay) from e


class LandingFolder(dg.ConfigurableResource):
    """Where delivered files arrive: ``folder`` if set, else ``CEI_LANDING``, else ``data/landing``
    (read when a run starts, so the UI, the sensors, `cei run` and `make demo` agree)."""

    folder: str = ""

    def path(self) -> Path:
        return landing_dir(self.folder or None)


class LandingConfig(dg.Config):
    """Per-run options of the load: ``landing_dir`` overrides the landing folder resource;
    ``source_id`` overrides the feed name taken from file names; ``encoding`` forces one encoding
    for the CSV files (``cei run --encoding``); ``profile`` is a mapping profile, a YAML file or a
    shipped profile's name (``cei run --profile``)."""

    landing_dir: str = ""
    source_id: str | None = None
    encoding: str | None = None
    profile: str | None = None


# --- alerts -------------------------------------------------------------------------------------

ALERT_LOG_ENV, ALERT_WEBHOOK_ENV, ALERT_EMAIL_ENV, ALERT_SMTP_ENV = (
    "CEI_ALERT_LOG", "CEI_ALERT_WEBHOOK", "CEI_ALERT_EMAIL", "CEI_ALERT_SMTP")


def default_alert_log() -> str:
    """``CEI_ALERT_LOG``, else ``alerts.log`` in ``DAGSTER_HOME``, else next to the warehouse."""
    if os.environ.get(ALERT_LOG_ENV):
        return os.environ[ALERT_LOG_ENV]
    if os.environ.get("DAGSTER_HOME"):
        return str(Path(os.environ["DAGSTER_HOME"]) / "alerts.log")
    return str(warehouse_path().parent / "alerts.log")


class AlertTarget(dg.ConfigurableResource):
    """Where the failure sensors write: a log file (one JSON line per alert, always) and, when
    configured, a webhook (JSON POST) and an e-mail address (through ``smtp_host``). Off by default:
    set ``CEI_ALERT_WEBHOOK``, ``CEI_ALERT_EMAIL`` and ``CEI_ALERT_SMTP`` (host[:port])."""

    log_path: str = ""
    webhook_url: str = ""
    email_to: str = ""
    smtp_host: str = ""
    email_from: str = "cei-pipeline@localhost"
    timeout: float = 10.0

    @classmethod
    def from_env(cls) -> "AlertTarget":
        return cls(log_path=default_alert_log(), webhook_url=os.environ.get(ALERT_WEBHOOK_ENV, ""),
                   email_to=os.environ.get(ALERT_EMAIL_ENV, ""), smtp_host=os.environ.get(ALERT_SMTP_ENV, ""))

    def send(self, alert: dict) -> list[str]:
        """Write ``alert`` to every configured target; returns the targets written. A target that
        cannot be reached is logged in the file, never raised (an alert must not break the sensor)."""
        from pipelines import alerts

        return alerts.deliver(alert, log_path=Path(self.log_path or default_alert_log()),
                              webhook_url=self.webhook_url, email_to=self.email_to, smtp_host=self.smtp_host,
                              email_from=self.email_from, timeout=self.timeout)
