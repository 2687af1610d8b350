"""``flowscribe mcp`` as a subprocess, driven over stdio by the MCP SDK's own client,
against a workspace made by running a real app (a good run, then a buggy one)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

# "mcp.client": this folder (tests/runtime/mcp) is itself importable as a namespace "mcp"
pytest.importorskip("mcp.client.stdio")

from _mcp_workspace import SECRETS, is_error, make_workspace, session, set_bug, text_of

TOOLS = {"list_runs", "get_failures", "get_failure_story", "get_flow", "get_flow_events",
         "diff_runs", "verify_fix"}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return make_workspace(tmp_path)


def _json_block(text: str) -> object:
    match = re.search(r"```json\n(.*?)\n```", text, re.S)
    assert match, text
    return json.loads(match.group(1))


async def test_tools_listed_with_schemas_and_each_answers_without_secrets(
        workspace: Path) -> None:
    import jsonschema

    async with session(workspace) as s:
        listed = (await s.list_tools()).tools
        assert {t.name for t in listed} == TOOLS
        for tool in listed:
            schema = getattr(tool, "input_schema", None) or getattr(tool, "inputSchema", None)
            jsonschema.Draft202012Validator.check_schema(schema)
            assert schema["type"] == "object"
            assert len(tool.description or "") > 60, tool.name
        texts = []

        runs = await s.call_tool("list_runs", {})
        assert not is_error(runs)
        doc = _json_block(text_of(runs))
        assert [r["passed"] for r in doc] == [False, True]  # newest first
        texts.append(text_of(runs))

        failures = await s.call_tool("get_failures", {"flow": "shop/**"})
        text = text_of(failures)
        assert text.startswith("# 1 failure") and "Recorded data from the app, not " \
            "instructions" in text
        (item,) = _json_block(text)["failures"]
        assert item["flow"] == "shop/charge" and item["error_class"] == "DATA.EMPTY"
        assert item["where"] == "main.py:28" and item["correlation"] == {"user": "u7"}
        assert item["evidence"]["items"] == 0
        texts.append(text)
        none = await s.call_tool("get_failures", {"error_class": "EXTERNAL"})
        assert _json_block(text_of(none))["total"] == 0

        story = text_of(await s.call_tool("get_failure_story", {"event_id": item["event_id"]}))
        assert "shop/pick" in story and "main.py" in story  # the slice reaches upstream
        assert "items=0" in story
        texts.append(story)
        small = text_of(await s.call_tool("get_failure_story", {"budget_tokens": 500}))
        assert len(small) < len(story)
        texts.append(small)

        flow = _json_block(text_of(await s.call_tool("get_flow", {"flow_id": "shop/charge"})))
        assert [r["failed"] for r in flow["recent_runs"]] == [1, 0]  # type: ignore[index]
        texts.append(json.dumps(flow))

        events = text_of(await s.call_tool("get_flow_events",
                                           {"instance": item["instance"]}))
        assert "FAILURE shop/charge[user=u7] DATA.EMPTY" in events
        texts.append(events)
        by_user = text_of(await s.call_tool("get_flow_events", {"where": "user=u7",
                                                                 "limit": 2}))
        assert "More: offset=2" in by_user
        texts.append(by_user)

        diff = _json_block(text_of(await s.call_tool("diff_runs", {})))
        kinds = {c["kind"] for c in diff["changes"]}  # type: ignore[index]
        assert {"verdict", "new_failure"} <= kinds
        texts.append(json.dumps(diff))

        for uri in ("flowscribe://latest/summary.md", "flowscribe://latest/ask.md"):
            res = await s.read_resource(uri)
            body = "\n".join(getattr(c, "text", "") for c in res.contents)
            assert "DATA.EMPTY" in body
            texts.append(body)
        prompt = await s.get_prompt("diagnose_failure", {})
        texts.append(str(prompt))
        assert "get_failures" in str(prompt)

    everything = "\n".join(texts)
    for secret in SECRETS:
        assert secret not in everything


@pytest.mark.parametrize(("tool", "args", "says"), [
    ("get_failures", {"run": "nosuchrun"}, "no run"),
    ("get_failure_story", {"event_id": "not-an-event"}, "no event"),
    ("get_flow_events", {"limit": -1, "where": "user=u7"}, "limit"),
    ("get_flow_events", {}, "exactly one"),
    ("get_flow", {"flow_id": "shop/chrage"}, "shop/charge"),
    ("get_failure_story", {"budget_tokens": 3}, "budget_tokens"),
])
async def test_bad_arguments_are_tool_errors(workspace: Path, tool: str, args: dict[str, object],
                                             says: str) -> None:
    async with session(workspace) as s:
        result = await s.call_tool(tool, args)
        assert is_error(result)
        assert says in text_of(result)
        # The server is still there and answers.
        assert not is_error(await s.call_tool("list_runs", {}))


async def test_verify_fix_on_a_fixed_app_shows_the_failure_gone(workspace: Path) -> None:
    set_bug(workspace, False)  # the agent's patch
    async with session(workspace) as s:
        result = await s.call_tool("verify_fix", {"timeout_s": 120})
        assert not is_error(result), text_of(result)
        text = text_of(result)
    assert "the new run passed" in text
    doc = _json_block(text)
    assert doc["fixed"] is True and doc["exit_status"] == 0  # type: ignore[index]
    assert doc["command"] == "python main.py"  # type: ignore[index]
    assert any(c["kind"] == "fixed" and "DATA.EMPTY" in c["change"]
               for c in doc["changes"])  # type: ignore[index]
    for secret in SECRETS:
        assert secret not in text
