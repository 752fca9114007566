"""The report label catalog (reports/catalog/*.yaml): a key in two files or without both languages
stops the import with the file and key named, so a broken edit never reaches a printed page."""
from __future__ import annotations

import pytest

from reports import labels


def _write(folder, name, text):
    (folder / name).write_text(text, encoding="utf-8")


def test_the_catalog_loads_labels_and_values(tmp_path):
    _write(tmp_path, "a.yaml", "x.title:\n  zh: '{n}家'\n  en: '{n} firms'\n")
    _write(tmp_path, "values.yaml", "投诉: Complaint\n")
    got, values = labels.load_catalog(tmp_path)
    assert got == {"x.title": ("{n}家", "{n} firms")} and values == {"投诉": "Complaint"}


def test_a_key_in_two_files_is_refused_naming_both(tmp_path):
    _write(tmp_path, "a.yaml", "x.title:\n  zh: 甲\n  en: A\n")
    _write(tmp_path, "b.yaml", "x.title:\n  zh: 乙\n  en: B\n")
    _write(tmp_path, "values.yaml", "{}\n")
    with pytest.raises(labels.CatalogError, match=r"b.yaml: label 'x.title' is already defined in a.yaml"):
        labels.load_catalog(tmp_path)


@pytest.mark.parametrize("entry", ["  zh: 甲\n", "  zh: 甲\n  en: A\n  fr: B\n", "  zh: 甲\n  en: 3\n"])
def test_an_entry_without_exactly_both_languages_is_refused(tmp_path, entry):
    _write(tmp_path, "a.yaml", "x.title:\n" + entry)
    _write(tmp_path, "values.yaml", "{}\n")
    with pytest.raises(labels.CatalogError, match=r"a.yaml: label 'x.title' needs exactly a zh and an en text"):
        labels.load_catalog(tmp_path)


def test_the_shipped_catalog_has_every_label_in_both_languages():
    assert len(labels.LABELS) > 700
    assert all(zh.strip() and en.strip() for zh, en in labels.LABELS.values())
    assert labels.label("map.title", "en", node="Safety") == "Safety: grade by region"
