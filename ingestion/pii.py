"""The key for hashing complainant identities (个人信息去标识化).

``CEI_PII_KEY`` in the environment wins; otherwise a random 256-bit key is kept in a secret file
(``CEI_SECRET_FILE``, default ``.cei_secret`` next to the warehouse), created with mode 0600 on
first use and git-ignored. The same key must be used for every load of a warehouse, or the same
person gets different keys across months.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def secret_file(warehouse: Path | None) -> Path:
    if os.environ.get("CEI_SECRET_FILE"):
        return Path(os.environ["CEI_SECRET_FILE"])
    base = Path(warehouse).resolve().parent if warehouse else Path.cwd()
    return base / ".cei_secret"


def pii_key(warehouse: Path | None = None) -> str:
    if os.environ.get("CEI_PII_KEY"):
        return os.environ["CEI_PII_KEY"]
    path = secret_file(warehouse)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    key = path.read_text().strip()
    if len(key) < 32:
        raise ValueError(f"{path}: the PII key is too short (need at least 32 characters)")
    return key
