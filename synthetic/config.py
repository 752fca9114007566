"""Parameters of one synthetic-data generation (the CLI ``cei generate`` fills these in)."""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Iterable

FORMATS = ("csv", "xlsx", "parquet")
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "gb18030": "gb18030"}
FIRST_YEAR, LAST_YEAR = 2004, 2034  # the working-day calendar covers 2004–2035; closures run into the next year


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate.

    scope              ``"CN"``, a province (``"32"``) or a prefecture (``"3204"``), GB/T 2260.
    years              calendar years to generate, e.g. ``(2024, 2025)`` or ``range(2021, 2026)``.
    records_per_year   12315 records (投诉+举报+咨询) per year across the scope, before the extra
                       rows that cross-channel-duplicate defects add.
    seed               everything random derives from it: same config -> byte-identical files.
    out_dir            landing folder (created if needed; other files in it are left alone).
    defect_rate        share of complaint / sampling / hotline rows given exactly one defect (0–0.5).
    file_format        csv | xlsx | parquet for the four delivered tables.
    encoding           utf-8 | gb18030 (csv only).
    chinese_headers    write the ``.zh`` headers of ingestion.schema instead of canonical names.
    sampling_batches_per_year  default ``records_per_year // 25``.
    pii_in_content     share of records whose free text repeats the complainant's name, phone or ID.
    """

    scope: str = "32"
    years: tuple[int, ...] = (2024, 2025)
    records_per_year: int = 60000
    seed: int = 7
    out_dir: Path = Path("data/landing")
    defect_rate: float = 0.0
    file_format: str = "csv"
    encoding: str = "utf-8"
    chinese_headers: bool = False
    sampling_batches_per_year: int | None = None
    pii_in_content: float = 0.2
    _validated: bool = field(default=False, repr=False, compare=False)

    def validated(self) -> "GeneratorConfig":
        years = self.years
        if isinstance(years, (int, str)):
            years = [years]
        years = tuple(sorted({int(y) for y in years}))  # type: ignore[arg-type]
        if not years:
            raise ValueError("years: give at least one year")
        bad = [y for y in years if not FIRST_YEAR <= y <= LAST_YEAR]
        if bad:
            raise ValueError(f"years {bad}: the working-day calendar supports {FIRST_YEAR}–{LAST_YEAR}")
        from reference.calendar import UncoveredYearWarning, WorkdayCalendar

        uncovered = [y for y in years if y not in WorkdayCalendar.default().covered_years]
        if uncovered:
            warnings.warn(f"no official holiday calendar for {uncovered}: working days counted Monday–Friday "
                          "(set CEI_HOLIDAYS to a date,kind table)", UncoveredYearWarning, stacklevel=2)
        fmt = str(self.file_format).lower().lstrip(".")
        if fmt not in FORMATS:
            raise ValueError(f"file_format {self.file_format!r}: expected one of {FORMATS}")
        enc = ENCODINGS.get(str(self.encoding).lower().replace("_", "-"))
        if enc is None:
            raise ValueError(f"encoding {self.encoding!r}: expected utf-8 or gb18030")
        if enc != "utf-8" and fmt != "csv":
            raise ValueError(f"encoding {enc} applies to csv only (got file_format {fmt})")
        if not 0.0 <= float(self.defect_rate) <= 0.5:
            raise ValueError(f"defect_rate {self.defect_rate}: expected 0–0.5")
        if int(self.records_per_year) < 0:
            raise ValueError("records_per_year must be >= 0")
        if not 0.0 <= float(self.pii_in_content) <= 1.0:
            raise ValueError("pii_in_content must be within 0–1")
        batches = self.sampling_batches_per_year
        if batches is not None and int(batches) < 0:
            raise ValueError("sampling_batches_per_year must be >= 0")
        return replace(
            self, scope=str(self.scope).strip().upper(), years=years, records_per_year=int(self.records_per_year),
            seed=int(self.seed), out_dir=Path(self.out_dir), defect_rate=float(self.defect_rate), file_format=fmt,
            encoding=enc, chinese_headers=bool(self.chinese_headers),
            sampling_batches_per_year=None if batches is None else int(batches),
            pii_in_content=float(self.pii_in_content), _validated=True,
        )

    @property
    def batches_per_year(self) -> int:
        if self.sampling_batches_per_year is not None:
            return self.sampling_batches_per_year
        return self.records_per_year // 25

    def parameters(self) -> dict:
        """The parameters that determine the output (out_dir excluded: same config, same bytes anywhere)."""
        d = asdict(self)
        for k in ("out_dir", "_validated"):
            d.pop(k)
        d["years"] = list(self.years)
        d["sampling_batches_per_year"] = self.batches_per_year
        return d


def as_years(value: str | Iterable[int]) -> tuple[int, ...]:
    """'2024,2025' or '2021-2025' -> (2024, 2025) / (2021, …, 2025); helper for the CLI."""
    if isinstance(value, str):
        out: list[int] = []
        for part in value.split(","):
            part = part.strip()
            if "-" in part:
                a, b = part.split("-", 1)
                out.extend(range(int(a), int(b) + 1))
            elif part:
                out.append(int(part))
        return tuple(out)
    return tuple(int(v) for v in value)
