"""The installed extension with no usable Python, in a real VS Code, through what a user sees.

A code-server of its own: its user settings name an interpreter that does not exist and its
PATH holds nothing but Node (which code-server runs on), so no python3/python is found. The
workspace is examples/trading_app after one real run. The extension must say so in a
notification that offers to pick an interpreter, show it in the status bar and the Flows
view's empty state, and still put ask.md into the Chat input (that needs no server).
Screenshots and logs go to test-artifacts/e2e/no-python/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from codeserver import CodeServer, Tools
from playwright.sync_api import Locator, Page
from workbench import Workbench, text_of, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TIMEOUT = 30.0  # seconds to wait for something to show; generous for a loaded 2-core machine

# What the extension shows without Python (vscode-ext/src/common/server.ts, statusBar.ts and
# the Flows view's viewsWelcome in package.json).
NOTIFICATION = "flowscribe needs Python 3.9 or newer to run its language server"
PICK_ACTION = "Select Interpreter"
PICKER_PLACEHOLDER = "Python 3.9 or newer for the flowscribe language server"
STATUS_TEXT = "flowscribe: no Python"
FLOWS_EMPTY_STATE = "found none that works"
FLOWS_EMPTY_ACTION = "Select Python Interpreter"


@pytest.fixture(scope="module")
def artifacts_dir(artifacts_dir: Path) -> Path:
    """This module's own folder: its screenshots and logs do not overwrite the others'."""
    folder = artifacts_dir / "no-python"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def missing_interpreter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("no-such-python") / "bin" / "python3"
    assert not path.exists()
    return path


@pytest.fixture(scope="module")
def code_server(tools: Tools, vsix: Path, workspace: Path, artifacts_dir: Path,
                missing_interpreter: Path,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[CodeServer]:
    """A code-server whose setting names a missing interpreter and whose PATH has only Node."""
    bin_dir = tmp_path_factory.mktemp("node-only-bin")
    (bin_dir / "node").symlink_to(tools.node)
    assert not [p for p in bin_dir.iterdir() if p.name.startswith("python")]
    server = CodeServer(tools, tmp_path_factory.mktemp("code-server-no-python"),
                        artifacts_dir / "code-server.log",
                        settings={"flowscribe.python.interpreter": str(missing_interpreter)},
                        # VSCODE_CLI: no login shell's environment (its PATH would have Python)
                        # for the extension host; code-server does not resolve one then.
                        env={"PATH": str(bin_dir), "VSCODE_CLI": "1"})
    with server.serving(vsix, workspace, artifacts_dir / "logs"):
        yield server


@pytest.fixture(scope="module")
def workbench(page: Page, code_server: CodeServer, workspace: Path,
              artifacts_dir: Path) -> Workbench:
    """The workspace open in the workbench (no diagnostics to wait for: there is no server)."""
    bench = Workbench(page, artifacts_dir)
    page.goto(f"{code_server.url}/?folder={workspace}")
    page.wait_for_selector(".monaco-workbench", timeout=90_000)
    bench.shot("workbench-loaded")
    return bench


def _no_python_toast(bench: Workbench) -> Locator:
    return bench.page.locator(".notifications-toasts .notification-toast").filter(
        has_text=NOTIFICATION)


def test_a_notification_says_no_python_works_and_offers_to_pick_one(
        workbench: Workbench) -> None:
    toast = _no_python_toast(workbench)
    wait_for(lambda: toast.count() and toast.first.is_visible(), TIMEOUT,
             "the notification that no usable Python was found")
    # The setting's interpreter was tried and refused, and nothing else was found.
    message = text_of(toast.first.locator(".notification-list-item-message").inner_text())
    assert "None of the interpreters found works" in message, message
    button = toast.first.get_by_role("button", name=PICK_ACTION, exact=True)
    assert button.is_visible(), f"no {PICK_ACTION!r} button in {message!r}"
    workbench.shot("no-python-notification")

    button.click()
    picker = workbench.page.locator(".quick-input-widget")
    wait_for(lambda: picker.is_visible() and PICKER_PLACEHOLDER in (
        picker.locator("input").get_attribute("placeholder") or ""), TIMEOUT,
        "the interpreter picker")
    workbench.shot("interpreter-picker")
    workbench.page.keyboard.press("Escape")


def test_status_bar_shows_the_no_python_state(workbench: Workbench) -> None:
    item = workbench.page.locator(".statusbar-item").filter(has_text=STATUS_TEXT)
    wait_for(lambda: item.count() and item.first.is_visible(), TIMEOUT,
             f"{STATUS_TEXT!r} in the status bar")
    # No verdict of the run: that needs the server.
    verdict = workbench.page.locator('.statusbar-item [aria-label^="flowscribe latest run"]')
    assert verdict.count() == 0
    workbench.shot("status-bar-no-python")


def test_flows_view_shows_its_no_python_state(workbench: Workbench) -> None:
    view = workbench.open_view("flowscribe", "Flows")
    welcome = view.locator(".welcome-view-content")
    wait_for(lambda: welcome.count() and FLOWS_EMPTY_STATE in text_of(welcome.first.inner_text()),
             TIMEOUT, "the Flows view's no-Python state")
    workbench.shot("flows-view-no-python")
    assert welcome.first.get_by_role("button", name=FLOWS_EMPTY_ACTION).is_visible()
    assert workbench.tree_items(view) == []


def test_open_ask_md_in_chat_still_works_without_a_server(
        workbench: Workbench, workspace: Path) -> None:
    first_line = next(line for line in
                      (workspace / ".autodev" / "ask.md").read_text().splitlines()
                      if line.strip())
    workbench.run_command("flowscribe: Open ask.md in Copilot Chat")
    wait_for(lambda: text_of(first_line) in workbench.chat_input_text(), TIMEOUT,
             f"ask.md's first line {first_line!r} in the chat input")
    workbench.shot("ask-in-chat-no-python")
