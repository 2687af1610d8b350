"""The end of a run that child processes joined: their events are folded into the owner's
summary once, in time order, without the owner's own events being counted again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _project import of_type, trace

import flowscribe
from flowscribe import _joined
from flowscribe._finish import _RunState
from flowscribe._joined import fold_other_processes
from flowscribe.aggregate import RunAggregate
from flowscribe.core import Session

CHILD = """\
import flowscribe
with flowscribe.flow("child/load") as f:
    f.failure("DATA.EMPTY", "the child found no rows", rows=0)
for i in range(3):
    with flowscribe.flow("child/work", n=i) as f:
        f.checkpoint("working")
        f.success("done")
"""


def test_the_summary_counts_each_child_event_once_and_the_earliest_failure_first(
    project: Path, tmp_path: Path
) -> None:
    (tmp_path / "child.py").write_text(CHILD)
    session = Session(app_name="owner")
    for i in range(300):  # more than one write batch of the owner's own
        with session.flow("owner/step", i=i) as f:
            f.success()
    subprocess.run([sys.executable, str(tmp_path / "child.py")], check=True,
                   env=flowscribe.child_env(), capture_output=True)
    with session.flow("owner/last") as f:
        f.failure("EXTERNAL.TIMEOUT", "the owner timed out")
    session.end_session()

    summary = of_type(trace(project), "summary")[-1]["evidence"]
    # 301 flows of the owner's, 4 of the child's: none counted twice, none missing
    assert (summary["flows"], summary["passed"], summary["failed"]) == (305, 303, 2)
    text = (project / ".autodev" / "summary.md").read_text(encoding="utf-8")
    first = text.split("## First failure", 1)[1].split("##", 1)[0]
    latest = text.split("## Latest failure", 1)[1].split("##", 1)[0]
    assert "DATA.EMPTY" in first and "EXTERNAL.TIMEOUT" in latest
    assert "child/work" in text and "owner/step" in text


@pytest.mark.parametrize("block", [1 << 22, 97, 600])  # lines cut across blocks, too
def test_only_other_processes_lines_are_folded_and_the_tail_stays_in_time_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    monkeypatch.setattr(_joined, "_BLOCK", block)
    def line(prefix: str, seq: int, ts: float, run: str = "r1") -> str:
        return (f'{{"schema":1,"id":"{prefix}-{seq}","run_id":"{run}","seq":{seq},"ts":{ts},'
                '"event_type":"checkpoint","flow_id":"f","instance":null,"parent":null,'
                '"parent_flow":null,"step":"s","correlation":{},"tags":[],"file":null,'
                '"line":null,"function":null,"thread":"T","pid":1,"severity":"info",'
                '"error_class":null,"reason":null,"evidence":{"nested":{"schema":1,'
                f'"id":"{prefix}-0"}}}},"value":null,"unit":null,"status":null,'
                '"duration_ms":null,"caused_by":null,"exception":null}\n')

    path = tmp_path / "trace.jsonl"
    owner, child = "aaaaaaaa", "bbbbbbbb"
    lines = [line(owner, i, 10.0 + i) for i in range(5)]
    lines.insert(2, line(child, 1, 10.5))
    lines.insert(4, line(child, 2, 11.5, run="another-run"))
    lines.append("not json at all\n")
    lines.append(line(child, 3, 20.0).rstrip("\n"))  # torn: no newline yet
    path.write_text("".join(lines), encoding="ascii")

    state = _RunState(RunAggregate(run_id="r1"), tail=4)
    for i in (0, 1, 2, 3, 4):  # what the owner's own writer fed it
        state.add({"event_type": "checkpoint", "run_id": "r1", "ts": 10.0 + i,
                   "id": f"{owner}-{i}", "flow_id": "f"})
    assert fold_other_processes(state, str(path), 0, "r1", owner + "-") == 2
    assert state.events == 7
    assert [e["id"] for e in state.tail] == [f"{owner}-2", f"{owner}-3", f"{owner}-4",
                                             f"{child}-3"]
    assert [e["ts"] for e in state.tail] == sorted(e["ts"] for e in state.tail)


def test_an_unreadable_trace_leaves_the_owners_state_as_it_was(tmp_path: Path) -> None:
    state = _RunState(RunAggregate(run_id="r1"), tail=3)
    state.add({"event_type": "checkpoint", "run_id": "r1", "ts": 1.0, "flow_id": "f"})
    assert fold_other_processes(state, str(tmp_path / "missing.jsonl"), 0, "r1",
                                "aaaaaaaa-") is None
    assert state.events == 1 and len(state.tail) == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_that_wrote_between_the_owners_writes_is_counted(project: Path) -> None:
    session = Session(app_name="owner")
    with session.flow("owner/before") as f:
        f.success()
    session.flush()
    pid = os.fork()
    if pid == 0:  # the child: its own descriptor, its own id prefix
        try:
            with session.flow("forked/child") as f:
                f.failure("CHILD.FAILED", "in the fork")
            session.end_session()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    with session.flow("owner/after") as f:
        f.success()
    session.end_session()
    summary = of_type(trace(project), "summary")[-1]["evidence"]
    assert (summary["flows"], summary["passed"], summary["failed"]) == (3, 2, 1)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_writing_the_run_so_far_then_ending_counts_a_childs_events_once(project: Path) -> None:
    """A signal handled by the app's own handler writes the run so far (folding in what
    children wrote), and the run's end folds again: only what came after (gunicorn's
    workers counted 64 flows of 40 before)."""
    session = Session(app_name="owner")
    pid = os.fork()
    if pid == 0:
        try:
            with session.flow("forked/child") as f:
                f.success()
            session.end_session()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    session.write_so_far()  # what the signal handler does before the app's own handler
    with session.flow("owner/after") as f:
        f.success()
    session.write_so_far()
    session.end_session()
    summary = of_type(trace(project), "summary")[-1]["evidence"]
    assert (summary["flows"], summary["passed"]) == (2, 2)
