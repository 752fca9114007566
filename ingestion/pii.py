"""The key for hashing complainant identities (个人信息去标识化).

``CEI_PII_KEY`` in the environment wins; otherwise a random 256-bit key is kept in a secret file
(``CEI_SECRET_FILE``, default ``.cei_secret`` next to the warehouse), created with mode 0600 on
first use and git-ignored. The same key must be used for every load of a warehouse, or the same
person gets different keys across months.

Either way the key must hold at least 32 bytes (256 bits, the strength of the SHA-256 it keys):
a short key can be guessed and the hashes recomputed from guessed identities, so it is refused.
The message never shows the key.
"""
from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

from ingestion.sqlfiles import run

ENV_KEY = "CEI_PII_KEY"
MIN_KEY_BYTES = 32


class PiiKeyError(ValueError):
    """The configured key is unusable (too short); the message says what to do, not the key."""


def secret_file(warehouse: Path | None) -> Path:
    if os.environ.get("CEI_SECRET_FILE"):
        return Path(os.environ["CEI_SECRET_FILE"])
    base = Path(warehouse).resolve().parent if warehouse else Path.cwd()
    return base / ".cei_secret"


def _check(key: str, where: str) -> str:
    size = len(key.encode("utf-8"))
    if size < MIN_KEY_BYTES:
        raise PiiKeyError(
            f"{where}: the PII key is too short ({size} bytes; at least {MIN_KEY_BYTES} needed, e.g. "
            f"the output of `python -c \"import secrets; print(secrets.token_hex(32))\"`)")
    return key


def check_env_key() -> None:
    """Refuse a too-short ``CEI_PII_KEY`` before anything is opened or created (no warehouse file
    is left behind by a command that cannot run)."""
    if os.environ.get(ENV_KEY) is not None:
        _check(os.environ[ENV_KEY], ENV_KEY)


def pii_key(warehouse: Path | None = None) -> str:
    if os.environ.get(ENV_KEY) is not None:  # set but empty is refused too, not silently replaced
        return _check(os.environ[ENV_KEY], ENV_KEY)
    path = secret_file(warehouse)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return _check(path.read_text().strip(), str(path))


_mask_con = None
_mask_lock = threading.Lock()


def _masked(relative: str, params: dict):
    """One query (``sql/<relative>``) on the private masking connection (created once: TEMP macros
    live in this one connection, a cursor would not see them)."""
    global _mask_con
    with _mask_lock:
        if _mask_con is None:
            import duckdb

            from data_quality.sql_macros import install_macros

            con = duckdb.connect()
            install_macros(con)
            _mask_con = con
        return run(_mask_con, relative, params).fetchall()[0][0]


def mask_numbers(text: str | None) -> str | None:
    """Phone and ID numbers in ``text`` masked for a message, by the same SQL macro as staging
    (``pii_mask_numbers``, sql/macros/codes.sql) on a private in-memory DuckDB connection."""
    if not text:
        return text
    return _masked("ingest/read/mask_numbers.sql", {"text": text})


def mask_numbers_many(texts: list[str]) -> list[str]:
    """:func:`mask_numbers` for a batch of strings, in one query ('' for an empty or missing text)."""
    if not texts:
        return []
    return _masked("ingest/read/mask_numbers_many.sql", {"texts": list(texts)})
