"""Issue 10 point 10: every report run is kept per scope, period and run date, and the folder's index
page lists the earlier editions with what changed — data re-delivered, data-quality rules changed,
index specification changed — in words, without rule ids or column names."""
from __future__ import annotations

import datetime as dt
import re

import duckdb
import pytest

from reports import editions, render
from reports.periods import parse_period
from reports.scope import as_scope

SCOPE, PERIOD = as_scope("32"), parse_period("2025")


def test_layout_is_one_set_of_functions(tmp_path):
    assert editions.folder_name("32", "2025") == "32_2025" and editions.folder_name("32", "2025Q2", "en") == "32_2025Q2_en"
    latest = editions.latest_folder(tmp_path, "32", "2025")
    stamp = editions.edition_stamp(dt.datetime(2026, 1, 5, 9, 30), "abcdef123456")
    assert stamp == "2026-01-05T093000_abcdef12"
    assert editions.edition_folder(tmp_path, "32", "2025", "zh", stamp) == editions.history_of(latest) / stamp
    latest.mkdir(parents=True)
    (latest / "index.html").write_text("x")
    a = editions.keep_edition(latest, stamp)
    b = editions.keep_edition(latest, stamp)  # the same second twice: both kept
    assert a != b and (a / "index.html").is_file() and (b / "index.html").is_file()


def test_history_keeps_the_newest_editions_when_asked(tmp_path, monkeypatch):
    from pipelines.settings import keep_editions

    latest = editions.latest_folder(tmp_path, "32", "2025")
    latest.mkdir(parents=True)
    (latest / "index.html").write_text("x")
    stamps = [editions.edition_stamp(dt.datetime(2026, 1, d, 9, 30)) for d in (5, 6, 7)]
    for s in stamps:
        editions.keep_edition(latest, s)  # the default keeps every edition
    assert sorted(p.name for p in editions.history_of(latest).iterdir()) == stamps
    newest = editions.keep_edition(latest, editions.edition_stamp(dt.datetime(2026, 1, 8, 9, 30)), keep=2)
    assert sorted(p.name for p in editions.history_of(latest).iterdir()) == [stamps[2], newest.name]
    assert (newest / "index.html").is_file()
    # the setting: $CEI_KEEP_EDITIONS, unset = every edition, a number or a clear error
    monkeypatch.delenv("CEI_KEEP_EDITIONS", raising=False)
    assert keep_editions() == 0 and keep_editions(3) == 3
    monkeypatch.setenv("CEI_KEEP_EDITIONS", "5")
    assert keep_editions() == 5
    monkeypatch.setenv("CEI_KEEP_EDITIONS", "five")
    with pytest.raises(ValueError, match="CEI_KEEP_EDITIONS"):
        keep_editions()


def _index_text(folder, con, when, lang="zh"):
    editions.write_record(folder, editions.edition_record(con, SCOPE, PERIOD, lang, when))
    return render.write_index(folder, scope_label="江苏省", period_label="2025年", lang=lang,
                              generated_at=when).read_text(encoding="utf-8")


def test_editions_listed_with_what_changed(pipeline_warehouse, tmp_path):
    wh = pipeline_warehouse.copy(tmp_path / "wh")
    folder = editions.latest_folder(tmp_path / "out", "32", "2025")
    t1, t2, t3 = (dt.datetime(2026, 1, d, 8) for d in (5, 6, 7))
    with duckdb.connect(str(wh)) as con:
        first = _index_text(folder, con, t1)
        assert "sec-editions" not in first  # nothing kept yet
        editions.keep_edition(folder, editions.edition_stamp(t1))
        # the same data again: the page says nothing changed
        again = _index_text(folder, con, t2)
        assert 'id="edition-unchanged"' in again and "tbl-editions" in again
        editions.keep_edition(folder, editions.edition_stamp(t2))
        # a bureau re-delivers March; a rule's wording changes; the index spec changes
        con.execute("""UPDATE raw.load_log SET source_sha256 = 'f' || source_sha256, file_name = 'complaints_2025-03_v2.csv'
                       WHERE table_name = 'complaints' AND list_contains(partitions, '2025-03')
                         AND status = 'loaded' AND superseded_by IS NULL""")
        rule = con.execute("SELECT rule_id, description_zh FROM dq.rules ORDER BY rule_id LIMIT 1").fetchone()
        con.execute("UPDATE dq.rules SET description_zh = description_zh || '（修订）' WHERE rule_id = $r", {"r": rule[0]})
        con.execute("UPDATE mart.index_scores SET spec_version = 'default_v3' WHERE scope = '32' AND period = '2025'")
        text = _index_text(folder, con, t3)
    changes = re.search(r'<ul id="edition-changes">(.*?)</ul>', text, flags=re.S).group(1)
    assert "数据重新交付：12315投诉举报2025-03（complaints_2025-03_v2.csv）" in changes
    assert "修改质量规则1条：" + rule[1] + "（修订）" in changes
    assert "指标体系由第2版改为第3版" in changes
    assert rule[0] not in text and "default_v" not in text  # no rule id, no internal version key
    # the two kept editions, newest first, linked relative to the folder
    rows = re.findall(r'<tr><td class="nw"><a href="([^"]+)">([^<]+)</a></td>\s*<td>([^<]*)</td>', text)
    assert [r[1] for r in rows] == ["2026-01-06 08:00:00", "2026-01-05 08:00:00"]
    assert rows[0][0] == "../history/32_2025/2026-01-06T080000/index.html" and rows[1][2] == "最早保存的版本"
    assert (folder / rows[0][0]).resolve().is_file()
    # a kept copy links the editions before it from where it lives
    kept = editions.keep_edition(folder, editions.edition_stamp(t3))
    older = re.findall(r'<td class="nw"><a href="([^"]+)">', (kept / "index.html").read_text(encoding="utf-8"))
    assert older == ["../2026-01-06T080000/index.html", "../2026-01-05T080000/index.html"]
    assert all((kept / h).resolve().is_file() for h in older)


def test_english_labels(tmp_path):
    c = editions.changes({"deliveries": [{"table": "sampling_results", "month": "2025-02", "file": "a.csv", "sha256": "1"}],
                          "rules": {}, "spec_version": "default_v2"},
                         {"deliveries": [{"table": "sampling_results", "month": "2025-02", "file": "b.csv", "sha256": "2"}],
                          "rules": {"X-1": {"digest": "d", "zh": "规则", "en": "a rule"}}, "spec_version": "default_v2"}, "en")
    assert editions.change_lines(c, "en") == ["Data re-delivered: sampling results 2025-02 (b.csv)",
                                              "1 data-quality rules added: a rule"]
    assert editions.changes({"spec_version": "default_v2"}, {"spec_version": "default_v2"}).none


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_folders_carry_their_record(hostile_reports, lang):
    rec = editions.read_record(hostile_reports[lang])
    assert rec["scope"] == "32" and rec["period"] == "2025" and rec["lang"] == lang
    assert {d["table"] for d in rec["deliveries"]} >= {"complaints", "sampling_results"}
    assert len({d["month"] for d in rec["deliveries"]}) == 12 and rec["rules"]


def test_the_asset_names_give_the_same_layout(tmp_path):
    assert editions.report_folder_name("32", "2025Q2", "en") == editions.folder_name("32", "2025Q2", "en")
    assert editions.history_folder(tmp_path, "32", "2025", "zh", "s") == tmp_path / "history" / "32_2025" / "s"
