"""The MCP server's reads of a run: kept while its trace is unchanged, never stale after
the trace grows, and bounded (runs, and the events of the views held)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _mcp_workspace import make_workspace

from flowscribe.mcp import tools
from flowscribe.mcp.cache import RunCache
from flowscribe.mcp.workspace import Workspace


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_workspace(tmp_path_factory.mktemp("cache"))


def _failures(text: str) -> list[dict[str, object]]:
    match = re.search(r"```json\n(.*?)\n```", text, re.S)
    assert match, text
    doc = json.loads(match.group(1))
    assert isinstance(doc, dict)
    return list(doc["failures"])


def test_a_run_is_read_once_while_its_trace_is_unchanged(workspace: Path) -> None:
    cache = RunCache()
    ws = Workspace.open(workspace, cache)
    info = ws.run(None)
    first = cache.get(info)
    assert tools.get_failures(ws) == tools.get_failures(Workspace.open(workspace, cache))
    again = cache.get(ws.run(None))
    assert again is first
    assert again.failures() is first.failures()  # the same list: not scanned again
    assert ws.view(info) is Workspace.open(workspace, cache).view(ws.run(None))


def test_a_grown_trace_is_read_again(tmp_path: Path) -> None:
    root = make_workspace(tmp_path)
    cache = RunCache()
    ws = Workspace.open(root, cache)
    before = _failures(tools.get_failures(ws))
    assert before
    info = ws.run(None)
    assert info.trace is not None
    # The run's trace grows (a run still writing): one more failure, as the runtime
    # writes it, with a new id and a later sequence number.
    last = json.loads(json.dumps(before[-1]))
    lines = info.trace.read_bytes().splitlines()
    template = next(json.loads(ln) for ln in lines if json.loads(ln)["id"] == last["event_id"])
    template.update(id=template["id"] + "-again", seq=10**6, reason="it happened again")
    with info.trace.open("ab") as fh:
        fh.write(json.dumps(template, separators=(",", ":")).encode() + b"\n")
    after = _failures(tools.get_failures(Workspace.open(root, cache)))
    assert [f["event_id"] for f in after] == [f["event_id"] for f in before] + [template["id"]]
    assert after[-1]["reason"] == "it happened again"


def _recent_runs(text: str) -> list[dict[str, object]]:
    match = re.search(r"```json\n(.*?)\n```", text, re.S)
    assert match, text
    return list(json.loads(match.group(1))["recent_runs"])


def test_a_flows_outcomes_come_from_the_saved_aggregate_and_what_came_after(
    tmp_path: Path,
) -> None:
    root = make_workspace(tmp_path)
    ws = Workspace.open(root, RunCache())
    info = ws.run(None)
    assert info.trace is not None and info.run_dir is not None
    flow_id = str(next(f["flow"] for f in _failures(tools.get_failures(ws))))
    saved = _recent_runs(tools.get_flow(ws, flow_id))
    aggregate = info.run_dir / "aggregate.json"
    aggregate.rename(aggregate.with_suffix(".aside"))
    folded = _recent_runs(tools.get_flow(Workspace.open(root, RunCache()), flow_id))
    assert saved == folded and saved[0]["passed"] + saved[0]["failed"] > 0
    aggregate.with_suffix(".aside").rename(aggregate)
    # Read from the aggregate, not folded again: what it says is what is answered.
    doc = json.loads(aggregate.read_text(encoding="utf-8"))
    [stats] = [f for f in doc["aggregate"]["flows"] if f["flow_id"] == flow_id]
    stats["passed"] += 100
    aggregate.write_text(json.dumps(doc), encoding="utf-8")
    edited = _recent_runs(tools.get_flow(Workspace.open(root, RunCache()), flow_id))
    assert edited[0]["passed"] == saved[0]["passed"] + 100
    # A process of the run that went on writing after the aggregate was saved: its
    # flow_end counts too.
    end = next(json.loads(ln) for ln in info.trace.read_bytes().splitlines()
               if json.loads(ln)["event_type"] == "flow_end"
               and json.loads(ln)["flow_id"] == flow_id)
    end.update(id=end["id"] + "-late", seq=10**6, status="passed")
    with info.trace.open("ab") as fh:
        fh.write(json.dumps(end, separators=(",", ":")).encode() + b"\n")
    later = _recent_runs(tools.get_flow(Workspace.open(root, RunCache()), flow_id))
    assert later[0]["passed"] == saved[0]["passed"] + 100 + 1


def test_runs_and_views_held_are_bounded(workspace: Path) -> None:
    ws = Workspace.open(workspace, RunCache())
    latest, earlier = ws.runs()[:2]
    one = RunCache(max_runs=1)
    kept = one.get(latest)
    one.get(earlier)
    assert one.get(latest) is not kept  # pushed out by the other run
    few = RunCache(max_view_events=1)
    view = few.view(latest)
    assert view is not None and len(view.events) > 1
    assert few.view(latest) is view  # the view in use is kept, even over the bound
    few.view(earlier)
    assert few.view(latest) is not view  # it was dropped for the newer one, read again
