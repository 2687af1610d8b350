"""The exports' mapping on runs recorded by the real runtime (their real consumers, Perfetto
and mermaid, are in tests/e2e/test_exports.py)."""

from __future__ import annotations

from pathlib import Path

import flowscribe
from flowscribe.export import chrome_trace, failure_sequence, flow_graph
from flowscribe.export.mermaid import label
from flowscribe.story import load_run


def _run(project: Path) -> Path:
    return (project / ".autodev" / "latest").resolve() / "trace.jsonl"


def test_chrome_trace_nests_flows_and_marks_orphans(project: Path) -> None:
    flowscribe.init(app_name="t")
    with flowscribe.flow("outer/a") as outer:
        with flowscribe.flow("inner/b") as inner:
            inner.checkpoint("step1", rows=3)
            inner.failure("DATA.EMPTY", "none")
        outer.metric("rows", 3)
    flowscribe.start_flow("never/ends")
    flowscribe.end_session()
    doc = chrome_trace(load_run(_run(project)))
    slices = {e["name"]: e for e in doc["traceEvents"] if e["ph"] == "X"}
    outer_s, inner_s = slices["outer/a"], slices["inner/b"]
    assert outer_s["ts"] <= inner_s["ts"]
    assert inner_s["ts"] + inner_s["dur"] <= outer_s["ts"] + outer_s["dur"]
    assert inner_s["args"]["status"] == "failed" and inner_s["args"]["error_class"] == "DATA.EMPTY"
    assert slices["never/ends"]["args"]["status"] == "orphaned"
    names = {e["name"] for e in doc["traceEvents"] if e["ph"] == "i"}
    assert {"step1", "✗ DATA.EMPTY"} <= names
    assert any(e["ph"] == "C" and e["args"] == {"rows": 3.0} for e in doc["traceEvents"])
    assert doc["otherData"]["app"] == "t"


def test_mermaid_labels_are_inert() -> None:
    assert label('a"]-->b') == "a#34;#93;--#62;b"
    assert "\n" not in label("x\nclick f1 call alert(1)")
    assert label("x" * 200).endswith("…") and len(label("x" * 200)) == 80


def test_mermaid_graph_and_sequence(project: Path) -> None:
    flowscribe.init(app_name="t")
    with flowscribe.flow("job/run"), flowscribe.flow("job/step") as f:
        f.failure("DATA.EMPTY", "none")
    flowscribe.end_session()
    run = load_run(_run(project))
    graph = flow_graph(run)
    assert graph.startswith("flowchart TD") and "f1 --> f2" in graph and "class f2 failed" in graph
    seq = failure_sequence(run)
    assert seq.startswith("sequenceDiagram")
    assert "Note over p1: ✗ DATA.EMPTY none" in seq
