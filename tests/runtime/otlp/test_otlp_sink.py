"""The otlp sink against a real OTLP/HTTP receiver (oteltap) on loopback: a real app run
in a subprocess arrives as spans with the recorded names, parents, statuses and code
attributes, its secrets redacted as in the trace."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from pathlib import Path

import pytest
from _otlp_receiver import APP, attrs, free_port, otlp_project, receive, run_app

oteltap = pytest.importorskip("oteltap")
pytest.importorskip("opentelemetry.exporter.otlp.proto.http")

def test_a_run_arrives_as_spans(project: Path) -> None:
    port = free_port()
    spans, _ = asyncio.run(receive(port, run_app(otlp_project(project, port))))
    by_name = {s.name: s for s in spans}
    submit, ack = by_name["orders/submit"], by_name["orders/ack"]
    assert ack.parent_span_id == submit.span_id
    assert ack.trace_id == submit.trace_id
    assert not submit.parent_span_id
    assert submit.status.code == 0  # unset: the flow had no failure
    assert ack.status.code == 2  # ERROR
    assert ack.status.message == "no ack password=[REDACTED]"
    a = attrs(ack)
    assert a["error.type"] == "EXTERNAL.TIMEOUT"
    assert a["flowscribe.failure.severity"] == "critical"
    assert a["code.file.path"].endswith("app.py")
    assert a["code.line.number"] == a["code.lineno"] == 5
    assert [e.name for e in submit.events] == ["validate"]
    assert "hunter2" not in str(spans)


def test_the_flow_duration_histogram_arrives_per_flow_with_error_type(project: Path,
                                                                     ) -> None:
    port = free_port()
    _, metrics = asyncio.run(receive(port, run_app(otlp_project(project, port)),
                                     metrics=True))
    [metric] = [m for m in metrics if m.name == "flowscribe.flow.duration"]
    assert metric.unit == "s"
    points = {attrs(p)["flowscribe.flow.id"]: p for p in metric.histogram.data_points}
    assert set(points) == {"orders/submit", "orders/ack"}
    assert [p.count for p in points.values()] == [1, 1]
    ack, submit = attrs(points["orders/ack"]), attrs(points["orders/submit"])
    assert ack["error.type"] == "EXTERNAL.TIMEOUT"
    assert ack["flowscribe.flow.status"] == "failed"
    # orders/submit ends with no verdict of its own: unfinished, and no error.type
    assert "error.type" not in submit and submit["flowscribe.flow.status"] == "unfinished"
    assert list(metric.histogram.data_points[0].explicit_bounds)[:2] == [0.005, 0.01]


def test_without_the_sdk_one_warning_names_the_install(project: Path) -> None:
    import subprocess

    (project / ".autodev" / "ra.yaml").write_text(
        "version: 1\nsinks: [{type: jsonl}, {type: otlp}]\n")
    (project / "app.py").write_text(APP)
    blocker = project / "block"
    blocker.mkdir()
    # A module finder that hides the SDK: the extra "not installed".
    (blocker / "sitecustomize.py").write_text(textwrap.dedent("""\
        import importlib.abc, sys
        class Hide(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.startswith("opentelemetry"):
                    raise ModuleNotFoundError(name)
                return None
        sys.meta_path.insert(0, Hide())
    """))
    import os

    env = {**os.environ, "PYTHONPATH": str(blocker)}
    out = subprocess.run([sys.executable, "app.py"], cwd=project, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert out.stderr.count("pip install 'flowscribe[otlp]'") == 1


def test_import_and_a_run_without_otlp_load_no_opentelemetry(project: Path) -> None:
    import subprocess

    code = ("import sys, flowscribe\n"
            "assert not [m for m in sys.modules if m.startswith('opentelemetry')]\n"
            "with flowscribe.flow('a/b') as f: f.success()\n"
            "flowscribe.end_session()\n"
            "assert not [m for m in sys.modules if m.startswith('opentelemetry')]\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
