"""Mapping profiles: load another system's export without code.

A profile is a YAML file (examples in ``ingestion/profiles/``) that says how an export's
columns and codes become ours:

```yaml
table: complaints            # target table (required)
encoding: gb18030            # CSV encoding, instead of detecting it (optional)
source: other_system         # feed name for re-delivery (optional; --source wins)
columns:                     # delivered header: canonical column (or its Chinese label)
  工单编号: record_id
  受理日期: received_at
ignore: [内部备注]            # delivered columns deliberately not loaded
defaults:                    # value for a column the export does not have at all
  record_type: 投诉
values:                      # per canonical column: delivered value -> our value
  channel: {"1": 电话, "2": 互联网}
date_formats:                # per date column: strptime formats tried in order
  received_at: ["%d/%m/%Y %H:%M", "%d/%m/%Y"]
```

Headers the profile does not list still map through the built-in labels (``ingestion.schema``);
any other header is an error, so no delivered column is dropped unless the profile says so.
Values not listed under ``values`` are kept as delivered (the data-quality gate judges them).
Every scalar is read as text (YAML's ``yes`` / ``01`` stay strings), and mistakes are reported
with the profile file and key. ``raw`` keeps the values after the profile's mapping; the profile
used and each header's fate are in ``raw.load_log.header_map``.

While a file is read, the profile is "in force" (:func:`using`): the readers' single header
mapping entry point (``readers.map_headers``) then maps through it, whatever the format. Value
mappings, date formats and defaults are applied afterwards in SQL on the ``_batch`` of the file
(:func:`apply_to_batch`), with every delivered string passed as a parameter.
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path

import yaml

from ingestion.encoding import canonical_name
from ingestion.readers import HeaderMap, IngestError, _header_index, check_mapping, normalise_header, normalised_headers
from ingestion.schema import TABLES, TableSchema
from ingestion.sqlfiles import run, statement

PROFILE_DIR = Path(__file__).parent / "profiles"
KEYS = ("profile", "description", "table", "encoding", "source", "columns", "ignore", "defaults", "values", "date_formats")
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")  # what the CSV reader reads; GBK / GB2312 are read as GB18030

_in_force: contextvars.ContextVar[Profile | None] = contextvars.ContextVar("cei_profile", default=None)


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the profile file and key."""

    def __init__(self, file: str | Path, key: str | None, message: str):
        super().__init__(f"profile {file}" + (f", key {key}" if key else "") + f": {message}")


@dataclass
class ProfileHeaderMap(HeaderMap):
    profile_file: str = ""

    def as_dict(self) -> dict:
        d = {h: (None if c.startswith("_ignored_") else c) for h, c in zip(self.delivered, self.canonical)}
        d["#profile"] = self.profile_file
        return d


@dataclass(frozen=True)
class Profile:
    file: str
    name: str
    table: TableSchema
    encoding: str | None = None
    source: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # normalised delivered header -> canonical
    ignore: frozenset[str] = frozenset()  # normalised delivered headers
    defaults: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    date_formats: dict[str, list[str]] = field(default_factory=dict)


def resolve(name_or_path: str | Path) -> Path:
    """A profile file, or the name of a shipped one (``12365auto`` -> ingestion/profiles/12365auto.yaml)."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    shipped = PROFILE_DIR / f"{p.name}.yaml"
    if p.suffix == "" and shipped.is_file():
        return shipped
    raise ProfileError(p, None, "no such file" + (f" (shipped profiles: {', '.join(sorted(x.stem for x in PROFILE_DIR.glob('*.yaml')))})"
                                                 if PROFILE_DIR.is_dir() else ""))


def _mapping(file, key, value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProfileError(file, key, f"expected a mapping (name: value), got {type(value).__name__}")
    return value


def _string_list(file, key, value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProfileError(file, key, "expected a text or a list of texts")
    return value


def _column(file, key, table: TableSchema, name: str) -> str:
    """A canonical column of ``table`` from its name or any of its labels."""
    index = _header_index(table)
    norm = normalise_header(name)
    if norm in index:
        return index[norm]
    close = get_close_matches(norm, table.column_names, n=2, cutoff=0.5)
    raise ProfileError(file, key, f"{name!r} is not a column of {table.name}"
                                  + (f" (did you mean {', '.join(close)}?)" if close else ""))


def load(name_or_path: str | Path) -> Profile:
    """Read and check a profile; every mistake is a :class:`ProfileError` naming file and key."""
    path = resolve(name_or_path)
    try:
        # BaseLoader: every scalar stays text, so codes such as 01, yes or 1.0 keep their spelling
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    except (OSError, UnicodeDecodeError) as e:
        raise ProfileError(path, None, f"cannot read: {e}") from None
    except yaml.YAMLError as e:
        raise ProfileError(path, None, f"not valid YAML: {str(e).splitlines()[0]}"
                           + (f" (line {e.problem_mark.line + 1})" if getattr(e, "problem_mark", None) else "")) from None
    if not isinstance(doc, dict):
        raise ProfileError(path, None, "expected a mapping of keys (table, columns, ...)")
    unknown = [k for k in doc if k not in KEYS]
    if unknown:
        raise ProfileError(path, unknown[0], f"unknown key; known keys: {', '.join(KEYS)}")
    if not doc.get("table"):
        raise ProfileError(path, "table", f"required: one of {', '.join(TABLES)}")
    if doc["table"] not in TABLES:
        raise ProfileError(path, "table", f"{doc['table']!r} is not a table; one of {', '.join(TABLES)}")
    table = TABLES[doc["table"]]

    encoding = doc.get("encoding") or None
    if encoding is not None:
        try:
            encoding = canonical_name(encoding)
        except LookupError:
            raise ProfileError(path, "encoding", f"unknown encoding {doc['encoding']!r}") from None
        encoding = {"gbk": "gb18030", "gb2312": "gb18030"}.get(encoding, encoding)
        if encoding not in ENCODINGS:
            raise ProfileError(path, "encoding", f"{doc['encoding']!r} is not read; one of {', '.join(ENCODINGS)}, gbk")

    columns: dict[str, str] = {}
    for header, target in _mapping(path, "columns", doc.get("columns")).items():
        if not isinstance(target, str):
            raise ProfileError(path, f"columns.{header}", "expected the name of one column")
        canonical = _column(path, f"columns.{header}", table, target)
        other = [h for h, c in columns.items() if c == canonical]
        if other:
            raise ProfileError(path, f"columns.{header}", f"{canonical} is already mapped from {other[0]!r}")
        columns[normalise_header(header)] = canonical
    ignore = frozenset(normalise_header(h) for h in _string_list(path, "ignore", doc.get("ignore")))
    both = sorted(ignore & set(columns))
    if both:
        raise ProfileError(path, "ignore", f"{both[0]!r} is both mapped under columns and ignored")

    defaults: dict[str, str] = {}
    for col, value in _mapping(path, "defaults", doc.get("defaults")).items():
        canonical = _column(path, f"defaults.{col}", table, col)
        if not isinstance(value, str) or not value.strip():
            raise ProfileError(path, f"defaults.{col}", "expected a non-empty text")
        if canonical in table.key.split(",") or table.column(canonical).pii:
            raise ProfileError(path, f"defaults.{col}", f"{canonical} identifies a record or a person; it cannot have a default")
        defaults[canonical] = value

    values: dict[str, dict[str, str]] = {}
    for col, mapping in _mapping(path, "values", doc.get("values")).items():
        canonical = _column(path, f"values.{col}", table, col)
        mapping = _mapping(path, f"values.{col}", mapping)
        if not all(isinstance(v, str) for v in mapping.values()):
            raise ProfileError(path, f"values.{col}", "each delivered value must map to one text")
        values[canonical] = {k.strip(): v for k, v in mapping.items()}

    date_formats: dict[str, list[str]] = {}
    for col, formats in _mapping(path, "date_formats", doc.get("date_formats")).items():
        canonical = _column(path, f"date_formats.{col}", table, col)
        if table.column(canonical).type not in ("timestamp", "date"):
            raise ProfileError(path, f"date_formats.{col}", f"{canonical} is not a date column")
        fmts = _string_list(path, f"date_formats.{col}", formats)
        bad = [f for f in fmts if "%" not in f]
        if not fmts or bad:
            raise ProfileError(path, f"date_formats.{col}", f"expected strptime formats such as '%d/%m/%Y', got {bad or fmts!r}")
        date_formats[canonical] = fmts

    return Profile(file=str(path), name=doc.get("profile") or path.stem, table=table, encoding=encoding,
                   source=doc.get("source") or None, columns=columns, ignore=ignore, defaults=defaults,
                   values=values, date_formats=date_formats)


def in_force() -> Profile | None:
    """The profile the current read maps through, if any."""
    return _in_force.get()


@contextlib.contextmanager
def using(profile: Profile | None):
    token = _in_force.set(profile)
    try:
        yield profile
    finally:
        _in_force.reset(token)


def map_headers(path: Path, headers: list[str], profile: Profile) -> HeaderMap:
    """Headers through the profile's ``columns`` and ``ignore``, then the built-in labels.

    Ignored columns get placeholder names (``_ignored_<n>``) that are not table columns, so the
    readers read past them and ``_batch`` never holds them."""
    table = profile.table
    builtin = _header_index(table)
    norm = normalised_headers(path, headers)
    canonical, unknown = [], []
    for i, (h, n) in enumerate(zip(headers, norm)):
        if n in profile.ignore:
            canonical.append(f"_ignored_{i}")
        elif n in profile.columns:
            canonical.append(profile.columns[n])
        elif n in builtin:
            canonical.append(builtin[n])
        else:
            canonical.append(None)
            unknown.append(h)
    if unknown:
        from ingestion.pii import mask_numbers  # a phone or ID number read as a label stays out

        shown = ", ".join(repr(mask_numbers(str(h))) for h in unknown[:10]) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        raise IngestError(path, f"profile {profile.name}: cannot map header(s) {shown} onto table {table.name}; "
                                f"map them under columns: or list them under ignore: in {profile.file}")
    missing_optional = check_mapping(path, table, canonical, set(canonical) | set(profile.defaults),
                                     who=f"profile {profile.name}: ",
                                     fix=f"; map a delivered header to them, or give defaults: in {profile.file}")
    return ProfileHeaderMap(table, list(headers), canonical, missing_optional, profile_file=profile.file)


def apply_to_batch(con, profile: Profile | None, hmap: HeaderMap) -> list[str]:
    """Value mappings, date formats and defaults on the file's ``_batch`` (in SQL, parameterised).

    ``_batch`` becomes a view over ``_profiled``, a copy with the mapped values (profiled
    exports are other systems' files, small next to our monthly deliveries). Returns notes for
    the file's message (defaults applied)."""
    if profile is None:
        return []
    table = profile.table
    delivered = {c for c in hmap.canonical if c in table.column_names}
    defaults = {c: v for c, v in profile.defaults.items() if c not in delivered}
    if not (profile.values or profile.date_formats or defaults):
        return []
    run(con, "ingest/read/profile_values_table.sql")
    pairs = [(c, k, v) for c, m in profile.values.items() for k, v in m.items()]
    if pairs:
        con.executemany(statement("ingest/read/insert_profile_values.sql")[0], pairs)
    exprs, joins, params = [], [], {}
    # Identifiers below are canonical column names from ingestion.schema (checked by load()),
    # never delivered text; every delivered or profile value is a parameter. Each piece is a
    # sql/ingest/read/ template bound with exactly the parameters its text uses (``used``: those
    # of the column's expression so far).
    for i, c in enumerate(table.column_names):
        e, used = f'b."{c}"', {}
        if c in defaults:
            e, used = statement("ingest/read/expr_profile_default.sql", {f"d{i}": defaults[c]}, param=f"d{i}")
        if c in profile.values:
            join, bound = statement("ingest/read/join_profile_values.sql", {**used, f"c{i}": c},
                                    alias=f"v{i}", param=f"c{i}", value=e)
            joins.append(join)
            params.update(bound)
            e, used = statement("ingest/read/expr_profile_value.sql", used, alias=f"v{i}", value=e)
        if c in profile.date_formats:
            e, used = statement("ingest/read/expr_profile_date.sql", {**used, f"f{i}": profile.date_formats[c]},
                                param=f"f{i}", value=e)
        expr, used = statement("ingest/read/expr_named.sql", used, value=e, column=f'"{c}"')
        exprs.append(expr)
        params.update(used)
    run(con, "ingest/read/profiled_table.sql", params, columns=", ".join(exprs), joins=" ".join(joins))
    run(con, "ingest/read/batch_from_profiled.sql")
    return [f"profile {profile.name}: " + ", ".join(f"{c} = {v!r} (not in the export)" for c, v in defaults.items())] if defaults else []
