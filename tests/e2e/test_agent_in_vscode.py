"""flowscribe's language-model tools in a real VS Code: what Copilot's agent mode sees and
gets back, checked through a small test-only extension installed beside flowscribe
(agent_probe/: it calls ``vscode.lm.invokeTool`` as Copilot would and writes what it got
to a folder the test reads). The workspace is examples/trading_app after one real run.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from codeserver import CodeServer, Tools
from workbench import Workbench, text_of, wait_for

from flowscribe.mcp import tools
from flowscribe.mcp.workspace import Workspace

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).resolve().parent / "agent_probe"
TIMEOUT = 60.0  # the first call waits for the server to start on a loaded machine
MCP_TOOLS = ("list_runs", "get_failures", "get_failure_story", "get_flow", "get_flow_events",
             "diff_runs", "verify_fix")


@pytest.fixture(scope="module")
def probe_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("probe-out")


@pytest.fixture(scope="module")
def probe_vsix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("probe") / "probe.vsix"
    vsce = REPO / "vscode-ext" / "node_modules" / ".bin" / "vsce"
    done = subprocess.run([str(vsce), "package", "--no-dependencies", "--skip-license",
                           "--out", str(out)], cwd=PROBE, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0 and out.is_file(), done.stdout + done.stderr
    return out


@pytest.fixture(scope="module")
def code_server(tools: Tools, vsix: Path, probe_vsix: Path, probe_out: Path, workspace: Path,
                artifacts_dir: Path, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[CodeServer]:
    """conftest's code-server, with the probe installed too and told where to write."""
    server = CodeServer(tools, tmp_path_factory.mktemp("code-server"),
                        artifacts_dir / "code-server-agent.log",
                        env={"FLOWSCRIBE_PROBE_OUT": str(probe_out)})
    server.install_extension(probe_vsix)
    with server.serving(vsix, workspace, artifacts_dir / "logs-agent"):
        yield server


def _read(path: Path) -> dict[str, Any] | None:
    try:
        value: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value


def test_invoke_tool_returns_the_first_failures_story(
        workbench: Workbench, workspace: Path, probe_out: Path) -> None:
    expected = tools.get_failure_story(Workspace.open(workspace))
    target = probe_out / "story.json"

    def answered() -> dict[str, Any] | None:
        # Until the server runs, the tool says so: ask again.
        found = _read(target)
        if found is None or "text" not in found:
            target.unlink(missing_ok=True)
            workbench.run_command("flowscribe probe: Invoke the Failure Story Tool")
            return None
        return found

    got = wait_for(answered, TIMEOUT, "the story tool's answer", interval=3.0)
    workbench.shot("agent-story-invoked")
    # Exactly what `flowscribe mcp`'s get_failure_story says: the same function answered.
    assert got["text"] == expected
    registered = {t["name"]: t for t in got["tools"]}
    assert sorted(registered) == sorted(f"flowscribe_{n}" for n in MCP_TOOLS)
    story = registered["flowscribe_get_failure_story"]
    assert "causal story" in story["description"]
    assert "budget_tokens" in story["inputSchema"]["properties"]


def test_the_agent_instructions_are_a_chat_skill(workbench: Workbench, probe_out: Path) -> None:
    workbench.run_command("flowscribe probe: List Contributed Chat Files")
    got = wait_for(lambda: _read(probe_out / "chat-files.json"), TIMEOUT, "the chat files")
    ours = [f for f in got["files"] if f["extensionId"].lower() == "flowscribe.flowscribe"]
    assert [(f["type"], f["uri"]["path"].rsplit("/", 2)[-2:]) for f in ours] == [
        ("skill", ["flowscribe-runtime-failures", "SKILL.md"])], got


def _chat_text(workbench: Workbench) -> str:
    return text_of(" ".join(workbench.page.locator(".interactive-session").all_inner_texts()))


def test_the_participant_answers_through_the_chat_model_grounded_in_the_story(
        workbench: Workbench, workspace: Path, probe_out: Path) -> None:
    expected = tools.get_failure_story(Workspace.open(workspace))
    workbench.run_command("flowscribe probe: Ask @flowscribe to Explain")
    got = wait_for(lambda: _read(probe_out / "model-messages.json"), TIMEOUT,
                   "the stand-in model to be asked")
    # The model read the story exactly as the tool gives it (its recorded parts fenced).
    assert expected in got["messages"], got["messages"]
    assert "root cause" in got["messages"][-1]
    wait_for(lambda: "PROBE MODEL ANSWER" in _chat_text(workbench), TIMEOUT,
             "the model's answer in the Chat view")
    workbench.shot("participant-answered")


def test_no_model_gets_the_clear_message(
        workbench: Workbench, probe_out: Path) -> None:
    (probe_out / "no-model").write_text("")
    workbench.run_command("flowscribe probe: Ask @flowscribe to Explain")
    wait_for(lambda: "No language model is available" in _chat_text(workbench), TIMEOUT,
             "the no-model message in the Chat view")
    workbench.shot("participant-no-model")
