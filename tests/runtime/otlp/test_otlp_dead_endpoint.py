"""A dead OTLP endpoint never breaks or holds the app: nothing listening, or a black hole
that takes the connection and never answers. The run completes, every event the backend
did not get is counted and reported in summary.md, and the app's own output is intact."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _otlp_receiver import free_port, otlp_project

pytest.importorskip("opentelemetry.exporter.otlp.proto.http")

FLOWS = 3000
APP = f"""\
import flowscribe
flowscribe.init(app_name="shop", mode="test")
for n in range({FLOWS}):
    with flowscribe.flow("orders/submit", ticker="AAPL") as f:
        f.checkpoint("validate", rows=3)
        f.success("ok")
flowscribe.end_session()
print("app done")
"""


@contextlib.contextmanager
def _dead(kind: str) -> Iterator[int]:
    """A port with nothing listening, or a black hole: a socket that is listening (the
    kernel completes the connection, the request is sent) but never reads or answers."""
    if kind == "nothing listening":
        yield free_port()
        return
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(64)
        yield int(hole.getsockname()[1])


@pytest.mark.parametrize("kind", ["nothing listening", "black hole"])
@pytest.mark.parametrize("queue", [500, 100_000])  # overflowing, and holding it all
def test_a_dead_endpoint_drops_counted_and_the_app_runs_on(project: Path, kind: str,
                                                           queue: int) -> None:
    with _dead(kind) as port:
        otlp_project(project, port, APP, extra=f"max_queue_events: {queue}\ntimeout_s: 30")
        # The bound is only against a hang (the run's end waits for the exporter at most
        # 2.5 s, whatever its own 30 s timeout); speed is bench_otlp.py's to measure.
        out = subprocess.run([sys.executable, "app.py"], cwd=project, capture_output=True,
                             text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "app done\n"
    assert out.stderr.count("the otlp sink is dropping events") == 1  # warned once
    trace = (project / ".autodev" / "latest").resolve() / "trace.jsonl"
    events = trace.read_text(encoding="utf-8").splitlines()
    assert len(events) == 4 * FLOWS + 2  # the JSONL sink lost nothing
    summary = (project / ".autodev" / "summary.md").read_text(encoding="utf-8")
    found = re.search(r"\*\*(\d+) events not written:\*\* not exported over OTLP", summary)
    assert found, summary
    # Every event of every flow is counted (run_start and the closing summary map to no
    # span of their own and may not be).
    assert 4 * FLOWS <= int(found.group(1)) <= len(events)



RECOVERS = """\
import os, time
import flowscribe
flowscribe.init(app_name="shop", mode="test")
with flowscribe.flow("orders/early") as f:
    f.success("ok")
flowscribe.flush()
while not os.path.exists("go"):  # the test starts the receiver once this was refused
    time.sleep(0.05)
time.sleep(1.5)  # past the sink's first backoff (1 s)
for n in range(3):
    with flowscribe.flow("orders/late") as f:
        f.success("ok")
flowscribe.end_session()
"""


def test_a_backend_that_comes_back_gets_the_spans_recorded_after(project: Path) -> None:
    import asyncio

    from _otlp_receiver import receive

    port = free_port()
    otlp_project(project, port, RECOVERS)

    async def outage_then_receiver() -> list[object]:
        app = await asyncio.create_subprocess_exec(sys.executable, "app.py", cwd=project,
                                                   stderr=asyncio.subprocess.PIPE)
        assert app.stderr is not None
        # No receiver yet: the first export is refused (the app warns once) ...
        line = await asyncio.wait_for(app.stderr.readline(), 60)
        assert b"the otlp sink is dropping events" in line

        async def resume() -> None:  # ... then the receiver is up, and the app goes on
            (project / "go").touch()
            assert await app.wait() == 0

        spans, _ = await receive(port, resume, spans={"orders/late"})
        return spans

    spans = asyncio.run(outage_then_receiver())
    names = [getattr(s, "name", "") for s in spans]
    assert names.count("orders/late") == 3 and "orders/early" not in names
    summary = (project / ".autodev" / "summary.md").read_text(encoding="utf-8")
    assert re.search(r"\*\*[23] events not written:\*\* not exported over OTLP", summary)


def _flow_events(n: int) -> list[tuple[dict[str, object], str]]:
    """A flow instance of three events (start, checkpoint, end), as the writer hands them."""
    inst = f"p-{n}s"
    base = {"run_id": "r1", "ts": 1.0 + n, "flow_id": "orders/submit", "instance": inst,
            "pid": 7, "parent": None, "status": None}
    return [({**base, "id": inst, "event_type": "flow_start"}, ""),
            ({**base, "id": f"p-{n}c", "event_type": "checkpoint", "step": "s"}, ""),
            ({**base, "id": f"p-{n}e", "event_type": "flow_end", "status": "passed"}, "")]


def test_once_the_backend_is_known_down_events_are_dropped_at_the_door(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """While the backend is down, nothing is queued for the exporter (no mapping, no
    encoding: the app pays a clock read per batch); every event is still counted once."""
    import time

    from flowscribe.config import OtlpOptions
    from flowscribe.sinks import otlp
    from flowscribe.sinks.otlp import OtlpSink

    # A first backoff longer than any stall of a loaded machine: the writes below all
    # fall inside it.
    monkeypatch.setattr(otlp, "_BACKOFF_FIRST_S", 600.0)

    sink = OtlpSink(OtlpOptions(endpoint=f"http://127.0.0.1:{free_port()}", timeout_s=1.0),
                    env={})
    try:
        first = _flow_events(0)
        sink.write(first[:2])  # a flow open across the outage
        sink.write(_flow_events(1))
        deadline = time.monotonic() + 30
        while sink.not_written()[0] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # the first export is refused
        assert sink.not_written()[0] == 3 + 2  # the sent flow, and the open one given up on
        for n in range(2, 1002):
            sink.write(_flow_events(n))
            assert sink.idle()  # dropped at the door: nothing waits for the exporter
        assert sink.not_written()[0] == 5 + 3000
        sink.write(first[2:])  # the open flow's end, still within the backoff
        assert sink.not_written()[0] == 5 + 3000 + 1
    finally:
        sink.close()
    assert sink.not_written()[0] == 3 * 1002


#: A failing flow exported to a black hole (the exporter thread hangs in its request), the
#: otlp thread's blocked signals printed (from /proc), then asleep until stopped.
SIGNALLED = """\
import os, signal, threading, time
import flowscribe
flowscribe.init(app_name="shop", mode="test")
with flowscribe.flow("orders/submit") as f:
    f.failure("EXTERNAL.TIMEOUT", "no ack")
flowscribe.flush()
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    ours = [t for t in threading.enumerate() if t.name == "flowscribe-otlp"]
    if ours:
        break
    time.sleep(0.01)
status = open(f"/proc/self/task/{ours[0].native_id}/status").read()
blocked = int(next(ln for ln in status.splitlines() if ln.startswith("SigBlk:")).split()[1], 16)
print("blocked", blocked, flush=True)
time.sleep(60)
print("woke up", flush=True)
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads thread masks in /proc")
def test_sigterm_with_the_otlp_sink_on_still_writes_the_artifacts(project: Path) -> None:
    import signal

    with _dead("black hole") as port:
        otlp_project(project, port, SIGNALLED)
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=project, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    # The exporter's thread never takes the stopping signals: they reach the app's.
    blocked = int(line.split()[1])
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        assert blocked & (1 << (sig - 1)), (line, err)
    assert proc.returncode == -signal.SIGTERM, err
    assert "woke up" not in out
    summary = (project / ".autodev" / "summary.md").read_text(encoding="utf-8")
    assert "orders/submit" in summary and "EXTERNAL.TIMEOUT" in summary
