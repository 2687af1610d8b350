"""``flowscribe/agentTool`` over stdio: each of ``flowscribe mcp``'s tools answered by the
language server for the editor's language-model tools, on a workspace made by really
running a small shop (a good run, then one with a bug whose failure carries secrets).
Bad input is an answer with ``isError``, never a failed request or a dead server."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from _lsp_session import Session, find_line, uri
from _lsp_workspaces import REPO, run_app

from flowscribe.mcp.results import PREAMBLE

SHOP = REPO / "tests" / "runtime" / "mcp" / "apps" / "shop"
SECRETS = ("hunter2", "sk-live-abcdef")
TOOLS = ("list_runs", "get_failures", "get_failure_story", "get_flow", "get_flow_events",
         "diff_runs", "verify_fix")


def _set_bug(root: Path, on: bool) -> None:
    pick = root / "shop" / "pick.py"
    pick.write_text(pick.read_text().replace(f"BUG = {not on}", f"BUG = {on}"))


def _make_shop(dest: Path) -> Path:
    """The shop run once healthy, then once with its bug."""
    root = Path(shutil.copytree(SHOP, dest / "shop"))
    for bug in (False, True):
        _set_bug(root, bug)
        proc = run_app(root, script="main.py")
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


@pytest.fixture(scope="module")
def shop_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_shop(tmp_path_factory.mktemp("agent"))


@pytest.fixture
def shop(shop_template: Path, tmp_path: Path) -> Path:
    """A copy, for reading (its runs recorded another root: verify_fix refuses them)."""
    return Path(shutil.copytree(shop_template, tmp_path / "shop", symlinks=True))


async def _call(session: Session, tool: Any, given: Any = None) -> dict[str, Any]:
    params: dict[str, Any] = {"tool": tool}
    if given is not None:
        params["input"] = given
    result: dict[str, Any] = await session.request("flowscribe/agentTool", params)
    assert set(result) == {"text", "isError"}, result
    return result


def _fenced_json(text: str) -> Any:
    m = re.search(r"^(`{3,})json\n(.*?)^\1$", text, re.S | re.M)
    assert m, text
    return json.loads(m.group(2))


async def test_each_tool_answers_as_mcp_does_without_secrets(session: Session,
                                                              tmp_path: Path) -> None:
    shop = _make_shop(tmp_path)
    await session.start(shop)
    runs = await _call(session, "list_runs")
    assert not runs["isError"], runs
    listed = _fenced_json(runs["text"])
    assert [r["passed"] for r in listed] == [False, True]

    failures = await _call(session, "get_failures", {"flow": "shop/**"})
    doc = _fenced_json(failures["text"])
    assert doc["total"] == 1 and doc["failures"][0]["error_class"] == "DATA.EMPTY", doc
    failure = doc["failures"][0]
    line = find_line(shop / "main.py", 'f.failure("DATA.EMPTY"') + 1
    assert failure["where"] == f"main.py:{line}", failure

    story = await _call(session, "get_failure_story", {"event_id": failure["event_id"]})
    assert not story["isError"] and story["text"].startswith(PREAMBLE), story
    assert "DATA.EMPTY" in story["text"] and "pick" in story["text"]

    flow = await _call(session, "get_flow", {"flow_id": "shop/charge"})
    assert _fenced_json(flow["text"])["recent_runs"][0]["failed"] == 1, flow
    events = await _call(session, "get_flow_events", {"instance": failure["instance"]})
    assert not events["isError"] and "DATA.EMPTY" in events["text"], events
    diff = await _call(session, "diff_runs")
    kinds = {c["kind"] for c in _fenced_json(diff["text"])["changes"]}
    assert "new_failure" in kinds, diff

    # Before verify_fix runs anything, the editor asks the user, naming the command.
    planned = await session.request("flowscribe/agentTool", {
        "tool": "verify_fix", "input": {}, "prepare": True})
    assert planned == {"text": "", "isError": False, "command": "python main.py",
                       "cwd": "."}, planned
    assert len(_fenced_json((await _call(session, "list_runs"))["text"])) == 2  # ran nothing
    # verify_fix reruns the recorded command: with the bug gone the new run passes.
    _set_bug(shop, False)
    verified = await _call(session, "verify_fix", {"timeout_s": 120})
    assert not verified["isError"], verified
    assert _fenced_json(verified["text"])["fixed"] is True, verified

    everything = "\n".join(r["text"] for r in (runs, failures, story, flow, events, diff,
                                               verified))
    for secret in SECRETS:
        assert secret not in everything


@pytest.mark.parametrize(("tool", "given", "said"), [
    ("rm_rf", {}, "no tool 'rm_rf'"),
    ("", None, "tool is required"),
    (["list_runs"], None, "tool is required"),
    ("list_runs", {"limit": 0}, "limit must be between 1"),
    ("list_runs", {"limit": "ten"}, "limit must be a whole number"),
    ("list_runs", "limit=3", "input must be an object"),
    ("get_failures", {"fllow": "x"}, "unknown argument fllow"),
    ("get_flow", {}, "flow_id"),
    ("get_flow_events", {"instance": "a", "where": "b=c"}, "exactly one of"),
    ("get_failure_story", {"event_id": "nope"}, "no event 'nope'"),
    ("diff_runs", {"before": "zzz"}, "no run 'zzz'"),
])
async def test_bad_input_is_an_error_answer_not_a_crash(
        session: Session, shop: Path, tool: Any, given: Any, said: str) -> None:
    await session.start(shop)
    result = await _call(session, tool, given)
    assert result["isError"] and said in result["text"], result
    # The server still answers.
    assert not (await _call(session, "list_runs"))["isError"]


async def test_a_project_is_named_by_its_uri_as_the_views_give_it(
        session: Session, shop: Path) -> None:
    await session.start(shop)
    named = await session.request("flowscribe/agentTool",
                                  {"tool": "list_runs", "projectRoot": uri(shop)})
    assert not named["isError"], named
    other = await session.request("flowscribe/agentTool",
                                  {"tool": "list_runs", "projectRoot": uri(shop.parent)})
    assert other["isError"], other


async def test_no_project_is_an_error_answer(session: Session, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    await session.start(tmp_path / "empty")
    result = await _call(session, "get_failures")
    assert result["isError"], result


def test_the_tools_are_the_mcp_servers() -> None:
    """One list: the server answers exactly the tools ``flowscribe mcp`` registers."""
    pytest.importorskip("mcp")
    import asyncio

    from flowscribe.mcp.server import build_server
    from flowscribe_lsp.features.agent_tools import AGENT_TOOLS

    listed = asyncio.run(build_server(REPO).list_tools())
    assert sorted(t.name for t in listed) == sorted(AGENT_TOOLS) == sorted(TOOLS)


MCP_TOOLS = REPO / "vscode-ext" / "src" / "agent" / "mcpTools.json"


def test_the_checked_in_mcp_tool_list_is_the_servers() -> None:
    """``vscode-ext/src/agent/mcpTools.json`` is what ``flowscribe mcp`` lists (names,
    descriptions, input schemas): the extension's unit tests hold package.json's
    language-model tools to it. ``FLOWSCRIBE_REGENERATE=1`` rewrites it."""
    pytest.importorskip("mcp")
    import asyncio
    import os

    from flowscribe.mcp.server import build_server

    listed = asyncio.run(build_server(REPO).list_tools())
    current = [{"name": t.name, "description": t.description,
                "inputSchema": t.input_schema} for t in listed]
    text = json.dumps(current, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("FLOWSCRIBE_REGENERATE"):
        MCP_TOOLS.write_text(text, encoding="utf-8")
    assert MCP_TOOLS.read_text(encoding="utf-8") == text, (
        f"{MCP_TOOLS} is out of date: FLOWSCRIBE_REGENERATE=1 pytest {__file__} -k mcp_tool")


def test_the_extensions_chat_skill_says_what_flowscribe_init_adds() -> None:
    """The VS Code chat skill (vscode-ext/skills/) carries ``flowscribe init --agents``'s
    section word for word, so agents read one set of instructions wherever they run."""
    from flowscribe.mcp.agents import BEGIN, END, SECTION

    skill = REPO / "vscode-ext" / "skills" / "flowscribe-runtime-failures" / "SKILL.md"
    text = skill.read_text(encoding="utf-8")
    assert text.startswith("---\nname: flowscribe-runtime-failures\ndescription: ")
    body = SECTION.replace(BEGIN + "\n", "").replace(END + "\n", "")
    assert body in text
