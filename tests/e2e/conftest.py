"""Fixtures for the extension's end-to-end tests in a real VS Code.

Once per session: build (or take) the .vsix. Once per test module (the processes end when
it does, not when the whole pytest session does): copy examples/trading_app to a temp
workspace and run it to produce real artifacts, install the .vsix into a throw-away
code-server, serve the workspace on loopback, and open it in headless Chromium.
Screenshots and logs go to test-artifacts/e2e/. Needs `bash .ci/setup-e2e.sh` (skipped
without it, failed under CI=true).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from codeserver import CodeServer, Tools, find_tools
from example_app import EXAMPLE, copy_example, run_app
from playwright.sync_api import Page, sync_playwright
from workbench import Workbench, wait_for

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "e2e"

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]

# Printed at the end of the session (measured, never asserted).
TIMINGS: dict[str, float] = {}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TIMINGS:
        terminalreporter.section("e2e timings (measured, not asserted)")
        for name, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{name:<58} {seconds:7.2f} s")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_OUTCOME] = report.failed
    return report


_OUTCOME = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def tools() -> Tools:
    found = find_tools()
    if found is None:
        reason = ("code-server is not installed for the end-to-end tests: "
                  "run `bash .ci/setup-e2e.sh` first")
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI runs the setup: a missing install is a broken step
        pytest.skip(reason)
    return found


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def vsix(tools: Tools, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extension package: $FLOWSCRIBE_VSIX, else what .ci/build-vsix.sh builds."""
    given = os.environ.get("FLOWSCRIBE_VSIX")
    if given:
        path = Path(given).resolve()
        assert path.is_file(), f"FLOWSCRIBE_VSIX={given} does not exist"
        return path
    out = tmp_path_factory.mktemp("vsix") / "flowscribe.vsix"
    done = subprocess.run(["bash", str(REPO / ".ci" / "build-vsix.sh")], cwd=REPO,
                          env={**os.environ, "VSIX_OUT": str(out)}, capture_output=True,
                          text=True, timeout=900, check=False)
    assert done.returncode == 0 and out.is_file(), (
        f"build-vsix.sh failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return out


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of examples/trading_app after one run of the app (its failures recorded)."""
    assert (EXAMPLE / "app.py").is_file(), f"the example app is missing: {EXAMPLE}"
    root = copy_example(tmp_path_factory.mktemp("e2e") / "trading_app")
    done = run_app(root)
    assert (root / ".autodev" / "ask.md").is_file(), (
        f"the example app wrote no ask.md (exit {done.returncode}):\n{done.stderr}")
    return root


@pytest.fixture(scope="module")
def code_server(tools: Tools, vsix: Path, workspace: Path, artifacts_dir: Path,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[CodeServer]:
    """A code-server with the .vsix installed, serving the workspace; stopped by PID."""
    server = CodeServer(tools, tmp_path_factory.mktemp("code-server"),
                        artifacts_dir / "code-server.log")
    with server.serving(vsix, workspace, artifacts_dir / "logs"):
        yield server


@pytest.fixture(scope="module")
def page(tools: Tools, code_server: CodeServer, artifacts_dir: Path,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    # Chromium keeps crash reports under XDG_CONFIG_HOME: not in the user's home.
    home = tmp_path_factory.mktemp("chromium")
    env = {**os.environ, "XDG_CONFIG_HOME": str(home), "XDG_CACHE_HOME": str(home)}
    with (artifacts_dir / "browser-console.log").open("w") as console, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(tools.chromium),
                                             headless=True, args=CHROMIUM_ARGS, env=env)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda msg: console.write(f"{msg.type}: {msg.text}\n"))
            yield page
        finally:
            browser.close()


@pytest.fixture(scope="module")
def workbench(page: Page, code_server: CodeServer, workspace: Path,
              artifacts_dir: Path) -> Workbench:
    """The workspace open in the workbench, once the extension's diagnostics showed up.

    Times (printed at the end): the workbench's load, and from then to the start-up
    moments in the logs (extension host, activation, server) and the first flowscribe
    diagnostic in the Problems panel.
    """
    bench = Workbench(page, artifacts_dir)
    started = time.monotonic()
    page.goto(f"{code_server.url}/?folder={workspace}")
    page.wait_for_selector(".monaco-workbench", timeout=90_000)
    loaded = time.monotonic()
    loaded_clock = datetime.now()
    TIMINGS["workbench loaded (from page open)"] = loaded - started
    bench.shot("workbench-loaded")
    bench.open_problems()
    first: float | None = None
    try:
        wait_for(lambda: [m for m in bench.problems() if m.source.startswith("flowscribe")],
                 60, "the first flowscribe diagnostic")
        first = time.monotonic() - loaded
    except AssertionError:
        pass  # the Problems test says what is missing, with a screenshot
    bench.shot("first-diagnostics")
    for moment, seconds in extension_moments(code_server, loaded_clock).items():
        TIMINGS[f"{moment} (from workbench loaded)"] = seconds
    if first is not None:
        TIMINGS["first diagnostics in Problems (from workbench loaded)"] = first
    return bench


# Log lines that mark the start-up: (log file name's end, moment, pattern of its time).
# VS Code's extension host log: "2026-11-25 14:49:58.410 [info] Extension host with pid ...";
# the extension's own: "[info  14:38:45.017] flowscribe 0.1.0 activated in 2.0 ms ...".
_LOG_MOMENTS = [
    ("exthost.log", "extension host started",
     re.compile(r"^[\d-]+ ([\d:.]+) \[info\] Extension host with pid \d+ started")),
    ("flowscribe.log", "extension activated",
     re.compile(r"^\[\w+\s+([\d:.]+)\] .* activated in ")),
    ("flowscribe.log", "server running", re.compile(r"^\[\w+\s+([\d:.]+)\] Server running")),
    ("flowscribe.log", "first diagnostics in the extension",
     re.compile(r"^\[\w+\s+([\d:.]+)\] First diagnostics ")),
]


def extension_moments(server: CodeServer, since: datetime) -> dict[str, float]:
    """When the extension host started, the extension activated, its server ran and the
    first diagnostics reached it, from the session's logs, in that order.

    Seconds after `since` (local wall clock, like the logs); moments not logged are left out.
    """
    logs = server.log_files()
    found: dict[str, float] = {}
    for suffix, moment, pattern in _LOG_MOMENTS:
        for log in (p for p in logs if p.name.endswith(suffix)):
            match = next(filter(None, map(pattern.match,
                                          log.read_text(errors="replace").splitlines())), None)
            if match:
                at = datetime.combine(since.date(),
                                      datetime.strptime(match[1], "%H:%M:%S.%f").time())
                found[moment] = (at - since).total_seconds()
                break
    return found


@pytest.fixture(autouse=True)
def _shot_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """A screenshot of the workbench when a test fails, named after the test."""
    yield
    if request.node.stash.get(_OUTCOME, False) and "workbench" in request.fixturenames:
        bench: Workbench = request.getfixturevalue("workbench")
        bench.shot(f"FAILED-{request.node.name}")
