"""The asset graph as an analyst sees it in the UI, saved for the README (docs/asset_graph.png):
the test starts ``dagster-webserver`` (the UI half of ``make dev``) on a free port with a throw-away
DAGSTER_HOME, opens the global asset lineage in headless Chromium (tests/test_browser.py's DevTools
driver) and saves a PNG once every stage's assets are drawn.

Slow (the web server loads the code location, Chromium renders the graph): `make test-slow`.
Skipped without Chromium (CEI_REQUIRE_BROWSER=1 makes that a failure, as for the other browser tests)."""
from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOT = ROOT / "docs" / "asset_graph.png"
GROUPS = ("ingest", "quality", "index", "reports")
# drawn when every group is open (the UI shortens long names: ``indicat…_quarterly``)
EXPECTED = ("landing_files", "hotline_stats", "region_profiles", "indicator_values", "index_scores", "report_folders")
MISSING = "(() => { const t = document.body.innerText; return %s.filter(n => !t.includes(n)); })()" % (list(EXPECTED),)
_COUNT = "document.body.innerText.split(%s).length - 1"
OPEN = {"ingest": "document.body.innerText.includes('landing_files')",
        "quality": f"{_COUNT % json.dumps('sampling_results')} >= 2",  # staging's and clean's
        "index": "document.body.innerText.includes('indicator_values')",
        "reports": "document.body.innerText.includes('report_folders')"}
# the bounding box of the drawn asset nodes, with a margin
GRAPH_BOX = """(() => { let x0 = 1e9, y0 = 1e9, x1 = 0, y1 = 0;
  for (const el of document.querySelectorAll('div,span')) {
    const t = el.innerText ? el.innerText.trim() : '';
    if (el.children.length === 0 && (%s.includes(t) || t.includes('_quarterly') || %s.includes(t))) {
      const r = el.getBoundingClientRect(); if (r.x < 560) continue;
      x0 = Math.min(x0, r.x); y0 = Math.min(y0, r.y); x1 = Math.max(x1, r.right); y1 = Math.max(y1, r.bottom); } }
  const m = 80; return {x: Math.max(x0 - m, 0), y: Math.max(y0 - m, 0), width: x1 - x0 + 2 * m, height: y1 - y0 + 2 * m}; })()""" % (
    list(EXPECTED) + ["complaints", "sampling_results"], list(GROUPS))


def _click_button(browser, text: str) -> None:
    browser.eval("(() => { const b = [...document.querySelectorAll('button')].find(x => x.innerText.trim() === %s);"
                 " if (b) b.click(); })()" % json.dumps(text))
    browser.pump(1.0)


def _dismiss_dialog(browser, wait: float = 8.0) -> None:
    """The UI's first-visit newsletter dialog: skip it (it may open a few seconds after the page)."""
    deadline = time.time() + wait
    while time.time() < deadline:
        if browser.eval("[...document.querySelectorAll('button')].some(x => x.innerText.trim() === 'Skip')"):
            _click_button(browser, "Skip")
            return
        browser.pump(0.5)


def _wait_for(browser, expression: str, timeout: float = 120) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if browser.eval(expression):
            return
        browser.pump(0.5)
    raise TimeoutError(expression)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dagster-webserver exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


@pytest.mark.slow
def test_the_readme_screenshot_of_the_asset_graph(tmp_path):
    from tests.test_browser import Browser, _need_browser

    _need_browser()
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:  # the scope cei run would add for 常州市's data
        instance.add_dynamic_partitions("scope", ["3204"])
    port = _free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "CEI_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
           "CEI_LANDING": str(tmp_path / "landing")}
    log = (tmp_path / "webserver.log").open("wb")
    server = subprocess.Popen([str(Path(sys.executable).parent / "dagster-webserver"), "-m", "pipelines.definitions",
                               "-h", "127.0.0.1", "-p", str(port)], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    browser = None
    try:
        _wait_http(f"http://127.0.0.1:{port}/server_info", server)
        browser = Browser(tmp_path / "chromium")
        browser.call("Emulation.setDeviceMetricsOverride", session=True, width=2400, height=1100, deviceScaleFactor=1,
                     mobile=False)  # room for the whole graph
        since = len(browser.events)
        browser.call("Page.navigate", session=True, url=f"http://127.0.0.1:{port}/asset-groups")
        browser.wait_event("Page.loadEventFired", since, timeout=120)
        _wait_for(browser, "document.body.innerText.includes('reports')")  # the graph's group boxes
        _dismiss_dialog(browser)
        _click_button(browser, "Hide navigation")
        # the UI collapses the groups of a graph this size: its shortcut ⌥E (Alt+E) opens them all
        for kind in ("keyDown", "keyUp"):
            browser.call("Input.dispatchKeyEvent", session=True, type=kind, modifiers=1, key="e", code="KeyE",
                         windowsVirtualKeyCode=69)
        _wait_for(browser, " && ".join(f"({OPEN[g]})" for g in GROUPS), timeout=60)
        browser.pump(3.0)  # the layout settles
        for _ in range(4):  # zoom out (the mouse wheel over the graph) until the whole graph fits
            browser.call("Input.dispatchMouseEvent", session=True, type="mouseWheel", x=1400, y=550, deltaX=0,
                         deltaY=240, modifiers=2)  # Ctrl+wheel zooms (a plain wheel pans)
            browser.pump(0.7)
            box = browser.eval(GRAPH_BOX)
            if box["width"] < 2200 and box["height"] < 1050:
                break
        _dismiss_dialog(browser)  # it may come late
        browser.pump(1.0)
        missing = browser.eval(MISSING)
        assert missing == [], missing
        box = browser.eval(GRAPH_BOX)
        shot = browser.call("Page.captureScreenshot", session=True, format="png",
                            clip={**box, "scale": 1})
        SHOT.parent.mkdir(parents=True, exist_ok=True)
        SHOT.write_bytes(base64.b64decode(shot["data"]))
    finally:
        if browser is not None:
            browser.close()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()
    assert SHOT.is_file() and SHOT.stat().st_size > 20_000
    assert SHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
