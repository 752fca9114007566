"""Every label the reports print, in Chinese (default) and English.

The labels live in a translation catalog, ``reports/catalog/*.yaml`` (one file per report or area,
``key: {zh: ..., en: ...}``; ``values.yaml`` maps delivered Chinese values to English), so a
translator or analyst edits text without touching code. ``LABELS[key] = (zh, en)`` is read from it
once, at import; a key defined in two files, or an entry without both languages, fails the import.

``translator(lang)`` returns ``t(key)``; an unknown key raises ``KeyError`` (tests render every page
in both languages, so a missing label fails a test, not a reader). ``value_translator(lang)`` maps
controlled-vocabulary values from the data (record types, channels, categories, ...) to English;
in Chinese, and for values it does not know (names), it returns the value unchanged.
Templates get ``t`` and ``v``; text from here is escaped like everything else.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

LANGS = ("zh", "en")
HTML_LANG = {"zh": "zh-CN", "en": "en"}
CATALOG_DIR = Path(__file__).with_name("catalog")
VALUES_FILE = "values.yaml"


class CatalogError(ValueError):
    """A catalog file the reports cannot use (named with the key at fault)."""


def _read_yaml(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: expected a mapping of keys to labels")
    return data


def load_catalog(folder: Path = CATALOG_DIR) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """``(labels, values_en)`` from the catalog folder."""
    labels: dict[str, tuple[str, str]] = {}
    where: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name == VALUES_FILE:
            continue
        for key, entry in _read_yaml(path).items():
            if key in where:
                raise CatalogError(f"{path.name}: label {key!r} is already defined in {where[key]}")
            if not isinstance(entry, dict) or set(entry) != set(LANGS) \
                    or not all(isinstance(entry[lang], str) for lang in LANGS):
                raise CatalogError(f"{path.name}: label {key!r} needs exactly a zh and an en text")
            labels[key] = (entry["zh"], entry["en"])
            where[key] = path.name
    values = {str(k): str(v) for k, v in _read_yaml(folder / VALUES_FILE).items()}
    return labels, values


LABELS, VALUES_EN = load_catalog()


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang {lang!r}: expected one of {LANGS}")
    return lang


def label(key: str, lang: str = "zh", **fmt) -> str:
    text = LABELS[key][LANGS.index(check_lang(lang))]
    return text.format(**fmt) if fmt else text


def translator(lang: str):
    check_lang(lang)

    def t(key: str, **fmt) -> str:
        return label(key, lang, **fmt)

    return t


def value_label(value, lang: str = "zh") -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return label("common.not_given", lang)
    s = str(value)
    if lang == "en":
        return VALUES_EN.get(s, s)
    return s


def value_translator(lang: str):
    check_lang(lang)

    def v(value) -> str:
        return value_label(value, lang)

    return v
