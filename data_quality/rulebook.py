"""The data-quality rulebook (``data_quality/rules.yaml``) as validated dataclasses.

Every rule has an id (``CMP-REQ-001``: table prefix, a three-letter group, a number), the table it
checks, a family (what kind of defect — the synthetic generator injects the families
``missing_required``, ``uscc_check``, ``region_code``, ``chronology``, ``statutory_deadline``,
``cross_channel_duplicate``, ``impossible_amount`` and ``sampling_disposal``), a GB/T 36344-2018
dimension (规范性 conformity, 完整性 completeness, 准确性 accuracy, 一致性 consistency, 时效性
timeliness, 可访问性 accessibility — English key + Chinese label), a severity (``error`` = the row
is quarantined, ``warn`` = it passes with a flag), a legal or standard basis, Chinese and English
descriptions, the columns it reads and its check.

The rulebook's ``keys`` name each table's record key (columns joined with ``|``; a date column
may carry a strftime format, e.g. hotline ``unit_id|YYYY-MM``) — the same keys the synthetic
generator writes into ``ground_truth_defects.csv``.

Checks are DuckDB SQL (engine: :mod:`data_quality.engine`), in one of two shapes:

* ``where`` — a predicate over one row that is TRUE for a violating row (row rules: formats, code
  lists, chronology, amounts); optional ``detail`` — an SQL expression explaining the violation;
* ``query`` — a SELECT returning ``record_key, detail`` of violating rows (whole-table rules:
  duplicates, statutory deadlines through ``complaint_deadlines(...)``, year-over-year checks).

Templates inside both: ``{rel}`` (the relation checked, as a quoted name), ``{rel_name}`` (the
same as a string literal, for table macros), ``{key}`` (the table's record-key expression),
``{row_ref}`` (the row's reference: ``load_id:source_row`` in staging, ``_row`` for a frame),
``{row_order}`` (the same identity as a numeric sort order, for choosing a survivor),
``{key:a}`` / ``{row_ref:a}`` (the same qualified by alias ``a``, for self-joins),
``{param}`` (a number from the rule's ``params``) and ``{vocab:NAME}`` (a code list from
``ingestion.schema`` as an SQL list literal) — code lists live in one place, the schema module.

Why SQL and not GX expectations: GX's SQL path on DuckDB is broken in 1.24.1 (every metric fails,
engineering-notes §2.5), row-wise Python on millions of rows is the known trap (§2.4), and
several rules are whole-table (duplicates, deadlines). GX is still the right tool for
column-level expectations on partition-sized pandas batches; ``gx`` entries in a rule (optional)
name the equivalent GX expectation so a suite can be generated from the same rulebook.

:func:`load_rulebook` refuses a rulebook with duplicate ids, unknown tables, dimensions,
severities, families written differently, columns not in the contract, missing bases or
descriptions, or template names it cannot fill — with a message naming the rule and the field.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

RULES_PATH = Path(__file__).with_name("rules.yaml")

# GB/T 36344-2018 信息技术 数据质量评价指标: the six indicator dimensions
DIMENSIONS: dict[str, str] = {
    "conformity": "规范性",
    "completeness": "完整性",
    "accuracy": "准确性",
    "consistency": "一致性",
    "timeliness": "时效性",
    "accessibility": "可访问性",
}
SEVERITIES = ("error", "warn")
TABLE_PREFIX = {"complaints": "CMP", "sampling_results": "SMP", "hotline_stats": "HOT", "region_profiles": "PRF"}
# families the synthetic generator injects; the gate must catch them with error rules
GENERATOR_FAMILIES = (
    "missing_required", "uscc_check", "region_code", "chronology", "statutory_deadline",
    "cross_channel_duplicate", "impossible_amount", "sampling_disposal",
)
# columns staging adds to the contract (Appendix A) that rules may read
STAGING_EXTRA_COLUMNS: dict[str, tuple[str, ...]] = {
    "complaints": ("complainant_key", "complainant_id_valid", "loaded_at", "source_row", "load_id"),
    "sampling_results": ("loaded_at", "source_row", "load_id"),
    "hotline_stats": ("loaded_at", "source_row", "load_id"),
    "region_profiles": ("loaded_at", "source_row", "load_id"),
}
ID_RE = re.compile(r"^(CMP|SMP|HOT|PRF)-[A-Z]{3}-\d{3}$")
FAMILY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
TEMPLATE_RE = re.compile(r"\{([a-z_:A-Z0-9]+)\}")
FIXED_TEMPLATES = {"rel", "rel_name", "key", "row_ref", "row_order"}


class RulebookError(ValueError):
    """The rulebook file is wrong; the message names the rule and the field."""


@dataclass(frozen=True)
class Rule:
    id: str
    table: str
    family: str
    dimension: str  # English key of DIMENSIONS
    severity: str  # error | warn
    basis: str
    description_zh: str
    description_en: str
    columns: tuple[str, ...]
    where: str | None = None
    query: str | None = None
    detail: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    gx: dict[str, Any] | None = None
    enabled: bool = True

    @property
    def dimension_zh(self) -> str:
        return DIMENSIONS[self.dimension]

    @property
    def kind(self) -> str:
        return "row" if self.where is not None else "table"

    @property
    def blocking(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True)
class Rulebook:
    version: int
    keys: dict[str, tuple[tuple[str, str | None], ...]]  # table -> ((column, strftime format or None), ...)
    rules: tuple[Rule, ...]

    def key_columns(self, table: str) -> list[str]:
        return [c for c, _ in self.keys[table]]

    def for_table(self, table: str) -> list[Rule]:
        return [r for r in self.rules if r.table == table and r.enabled]

    def by_id(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def as_frame(self):
        """The ``dq.rules`` table: one row per rule."""
        import pandas as pd

        return pd.DataFrame([
            {"rule_id": r.id, "table_name": r.table, "family": r.family, "dimension": r.dimension,
             "dimension_zh": r.dimension_zh, "severity": r.severity, "basis": r.basis,
             "description_zh": r.description_zh, "description_en": r.description_en,
             "columns": ",".join(r.columns), "kind": r.kind, "enabled": r.enabled}
            for r in self.rules
        ])


_RULE_FIELDS = {"id", "table", "family", "dimension", "severity", "basis", "description_zh", "description_en",
                "columns", "where", "query", "detail", "params", "gx", "enabled"}


def _vocabularies() -> dict[str, tuple[str, ...]]:
    from ingestion import schema

    return {k: v for k, v in vars(schema).items() if k.isupper() and isinstance(v, tuple) and v
            and all(isinstance(x, str) for x in v)}


def _check_templates(rule_id: str, fieldname: str, text: str, params: dict, vocab: dict) -> None:
    for name in TEMPLATE_RE.findall(text):
        if name in FIXED_TEMPLATES or re.fullmatch(r"(key|row_ref|row_order)(:[a-z_][a-z0-9_]*)?", name):
            continue
        if name.startswith("vocab:"):
            if name[6:] not in vocab:
                raise RulebookError(f"rule {rule_id}, field {fieldname}: unknown vocabulary {name[6:]!r} "
                                    f"(known: {', '.join(sorted(vocab))})")
            continue
        if name not in params:
            raise RulebookError(f"rule {rule_id}, field {fieldname}: template {{{name}}} has no value in params")


def parse_rulebook(data: dict, source: str = "rules.yaml") -> Rulebook:
    """Validate a parsed rulebook document and build the dataclasses."""
    from ingestion.schema import TABLES

    if not isinstance(data, dict) or "rules" not in data:
        raise RulebookError(f"{source}: expected a mapping with a 'rules' list")
    raw_keys = data.get("keys") or {}
    if set(raw_keys) != set(TABLE_PREFIX):
        raise RulebookError(f"{source}: 'keys' must give the record-key columns for exactly {sorted(TABLE_PREFIX)}")
    keys: dict[str, tuple[tuple[str, str | None], ...]] = {}
    for table, items in raw_keys.items():
        parts = []
        for item in items if isinstance(items, list) else [None]:
            col, fmt = (item, None) if isinstance(item, str) else (
                (item.get("column"), item.get("format")) if isinstance(item, dict) else (None, None))
            if col not in TABLES[table].column_names:
                raise RulebookError(f"{source}: keys of {table}: {item!r} is not a column of the contract "
                                    "(give a column name or {column: ..., format: '%Y-%m'})")
            parts.append((col, fmt))
        keys[table] = tuple(parts)
    dims = data.get("dimensions")
    if dims is not None and dims != DIMENSIONS:
        raise RulebookError(f"{source}: 'dimensions' differs from GB/T 36344-2018's six ({DIMENSIONS})")
    vocab = _vocabularies()
    rules: list[Rule] = []
    seen: set[str] = set()
    if not isinstance(data["rules"], list) or not data["rules"]:
        raise RulebookError(f"{source}: 'rules' must be a non-empty list")
    for n, raw in enumerate(data["rules"], start=1):
        where = f"{source}, rule #{n}"
        if not isinstance(raw, dict):
            raise RulebookError(f"{where}: expected a mapping")
        rid = raw.get("id")
        if not isinstance(rid, str) or not ID_RE.match(rid):
            raise RulebookError(f"{where}, field id: {rid!r} is not of the form CMP-REQ-001 "
                                "(CMP|SMP|HOT|PRF, three capital letters, three digits)")
        where = f"rule {rid}"
        unknown = set(raw) - _RULE_FIELDS
        if unknown:
            raise RulebookError(f"{where}: unknown field(s) {sorted(unknown)}")
        if rid in seen:
            raise RulebookError(f"{where}, field id: duplicate id")
        seen.add(rid)
        for f in ("table", "family", "dimension", "severity", "basis", "description_zh", "description_en", "columns"):
            if not raw.get(f):
                raise RulebookError(f"{where}, field {f}: missing or empty")
        table = raw["table"]
        if table not in TABLES:
            raise RulebookError(f"{where}, field table: unknown table {table!r} (known: {', '.join(TABLES)})")
        if not rid.startswith(TABLE_PREFIX[table] + "-"):
            raise RulebookError(f"{where}, field id: rules of {table} start with {TABLE_PREFIX[table]}-")
        if raw["dimension"] not in DIMENSIONS:
            raise RulebookError(f"{where}, field dimension: {raw['dimension']!r} is not a GB/T 36344 dimension "
                                f"({', '.join(f'{k} {v}' for k, v in DIMENSIONS.items())})")
        if raw["severity"] not in SEVERITIES:
            raise RulebookError(f"{where}, field severity: {raw['severity']!r} is not error|warn")
        if not FAMILY_RE.match(str(raw["family"])):
            raise RulebookError(f"{where}, field family: {raw['family']!r} must be snake_case")
        if not re.search(r"[\u4e00-\u9fff]", str(raw["description_zh"])):
            raise RulebookError(f"{where}, field description_zh: no Chinese text")
        cols = raw["columns"]
        if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
            raise RulebookError(f"{where}, field columns: expected a list of column names")
        known_cols = set(TABLES[table].column_names) | set(STAGING_EXTRA_COLUMNS[table])
        bad = [c for c in cols if c not in known_cols]
        if bad:
            raise RulebookError(f"{where}, field columns: {bad} not in the {table} contract")
        has_where, has_query = raw.get("where") is not None, raw.get("query") is not None
        if has_where == has_query:
            raise RulebookError(f"{where}: give exactly one of 'where' (row predicate) or 'query' (table query)")
        params = raw.get("params") or {}
        if not isinstance(params, dict) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                   for v in params.values()):
            raise RulebookError(f"{where}, field params: expected a mapping of names to numbers")
        for f in ("where", "query", "detail"):
            if raw.get(f) is not None:
                if not isinstance(raw[f], str) or not raw[f].strip():
                    raise RulebookError(f"{where}, field {f}: expected SQL text")
                if ";" in re.sub(r"'(?:[^']|'')*'", "''", raw[f]):  # outside string literals
                    raise RulebookError(f"{where}, field {f}: one expression/statement, no ';'")
                _check_templates(rid, f, raw[f], params, vocab)
        if has_query and "record_key" not in raw["query"]:
            raise RulebookError(f"{where}, field query: must select record_key (and detail)")
        if raw.get("detail") is not None and has_query:
            raise RulebookError(f"{where}, field detail: table queries select their own detail")
        if raw.get("gx") is not None:
            from data_quality.gx_suite import GX_EXPECTATIONS

            gxs = raw["gx"]
            if not (isinstance(gxs, dict) and gxs.get("expectation") in GX_EXPECTATIONS
                    and (gxs.get("column") or gxs.get("columns"))):
                raise RulebookError(f"{where}, field gx: expected expectation (one of {', '.join(GX_EXPECTATIONS)}) "
                                    "and column(s)")
            if gxs.get("vocabulary") is not None and gxs["vocabulary"] not in vocab:
                raise RulebookError(f"{where}, field gx: unknown vocabulary {gxs['vocabulary']!r}")
        rules.append(Rule(
            id=rid, table=table, family=raw["family"], dimension=raw["dimension"], severity=raw["severity"],
            basis=str(raw["basis"]).strip(), description_zh=str(raw["description_zh"]).strip(),
            description_en=str(raw["description_en"]).strip(), columns=tuple(cols),
            where=raw.get("where"), query=raw.get("query"), detail=raw.get("detail"), params=dict(params),
            gx=raw.get("gx"), enabled=bool(raw.get("enabled", True)),
        ))
    return Rulebook(version=int(data.get("version", 1)), keys=keys, rules=tuple(rules))


def load_rulebook(path: str | Path | None = None) -> list[Rule]:
    """The rules of ``rules.yaml`` (or ``path``), validated. See :func:`load_rulebook_full` for keys."""
    return list(load_rulebook_full(path).rules)


def load_rulebook_full(path: str | Path | None = None) -> Rulebook:
    p = Path(path) if path is not None else RULES_PATH
    return _load_cached(str(p.resolve()), p.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _load_cached(path: str, _mtime: int) -> Rulebook:
    with open(path, encoding="utf-8") as f:
        try:
            data = yaml.safe_load(f)
        except yaml.YAMLError as exc:
            raise RulebookError(f"{path}: not valid YAML: {exc}") from exc
    return parse_rulebook(data, source=Path(path).name)
