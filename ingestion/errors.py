"""The one exception a reader raises for a file it cannot load (kept apart so every reader module can
import it without importing the others)."""
from __future__ import annotations

from pathlib import Path


class IngestError(Exception):
    """A file that cannot be loaded at all (unknown headers, undecodable bytes, ...)."""

    def __init__(self, file: str | Path, message: str, row: int | None = None, field: str | None = None):
        self.file, self.row, self.field = str(file), row, field
        where = [str(file)]
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field {field}")
        super().__init__(f"{', '.join(where)}: {message}")
