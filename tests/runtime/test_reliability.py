"""Many writers, forks and kills: no line lost, none interleaved, failures always on disk."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from pathlib import Path

import pytest
from _project import QUIET_CONFIG, of_type, read_lines, trace, write_config

from flowscribe.core import Session
from flowscribe.trace import ReadStats, iter_events

THREADS, PER_THREAD = 8, 20_000
PROCS, PER_PROC = 4, 10_000
#: Big enough that these runs never rotate the shared trace.
NO_ROTATION = QUIET_CONFIG + "retention:\n  max_trace_bytes: 1000000000\n"

WORKER = """\
import sys
import flowscribe
name, count = sys.argv[1], int(sys.argv[2])
with flowscribe.flow("load/proc", worker=name) as f:
    for n in range(count):
        f.checkpoint("tick", worker=name, n=n)
    f.success()
"""


@pytest.mark.slow
def test_threads_share_one_trace_without_loss_or_interleaving(project: Path) -> None:
    write_config(project, NO_ROTATION)
    session = Session()

    def work(t: int) -> None:
        with session.flow("load/thread", worker=t) as f:
            for n in range(PER_THREAD):
                f.checkpoint("tick", t=t, n=n)
            f.success()

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    session.end_session()

    for path in (project / ".autodev" / "trace.jsonl",
                 project / ".autodev" / "runs" / str(session.run_id) / "trace.jsonl"):
        events = read_lines(path)  # every line parses, and ends with a newline
        ticks = Counter((e["evidence"]["t"], e["evidence"]["n"]) for e in events
                        if e["step"] == "tick")
        assert len(ticks) == THREADS * PER_THREAD and set(ticks.values()) == {1}
        assert len({e["id"] for e in events}) == len(events)
    summary = of_type(trace(project), "summary")[0]["evidence"]
    assert summary["events"] == THREADS * (PER_THREAD + 3) + 1  # + run_start


@pytest.mark.slow
def test_processes_share_one_trace_without_loss_or_interleaving(
    project: Path, tmp_path: Path
) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    write_config(project, NO_ROTATION)
    session = Session()
    procs = [subprocess.Popen([sys.executable, str(script), f"w{n}", str(PER_PROC)])
             for n in range(PROCS)]
    with session.flow("load/parent") as f:  # the parent writes at the same time
        for n in range(PER_PROC):
            f.checkpoint("tick", worker="parent", n=n)
    assert [p.wait(120) for p in procs] == [0] * PROCS
    session.end_session()

    events = trace(project)
    ticks = Counter((e["evidence"]["worker"], e["evidence"]["n"]) for e in events
                    if e["step"] == "tick")
    assert len(ticks) == (PROCS + 1) * PER_PROC and set(ticks.values()) == {1}
    assert len({e["pid"] for e in events}) == PROCS + 1
    assert len({e["id"] for e in events}) == len(events)
    summary = events[-1]
    assert summary["event_type"] == "summary"
    assert summary["evidence"]["flows"] == PROCS + 1 and summary["evidence"]["passed"] == PROCS


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_prefork_workers_record_whole_lines_under_their_own_pid(project: Path) -> None:
    session = Session()
    stop = threading.Event()

    def busy() -> None:  # forks happen while this thread holds locks and fills buffers
        with session.flow("master/busy") as f:
            n = 0
            while not stop.is_set():
                f.checkpoint("busy", n=n)
                n += 1

    busy_thread = threading.Thread(target=busy)
    busy_thread.start()
    children = []
    try:
        for w in range(3):
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    with session.flow("worker/serve", worker=w) as f:
                        for n in range(2000):
                            f.checkpoint("request", worker=w, n=n)
                        f.success()
                    session.end_session()  # a worker: flushes, writes no artifacts
                except BaseException:
                    code = 1
                os._exit(code)
            children.append(pid)
    finally:
        stop.set()
        busy_thread.join()
    for pid in children:
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    session.end_session()

    events = trace(project)
    requests = [e for e in events if e["step"] == "request"]
    assert len(requests) == 3 * 2000
    by_pid = Counter(e["pid"] for e in requests)
    assert set(by_pid) == set(children) and set(by_pid.values()) == {2000}
    assert all(e["pid"] == os.getpid() for e in events if e["step"] == "busy")
    assert len({e["id"] for e in events}) == len(events)
    assert [e["event_type"] for e in events].count("summary") == 1
    assert events[-1]["evidence"]["passed"] == 3


KILLED = """\
import sys
import flowscribe
flowscribe.init(app_name="doomed")
n = 0
with flowscribe.flow("doomed/loop") as f:
    while True:
        f.checkpoint("tick", n=n, pad="x" * 200)
        if n % 50 == 0:
            eid = f.failure("DATA.EMPTY", "no rows", n=n)
            print(eid, flush=True)
        n += 1
"""


def test_sigkill_leaves_a_parsable_trace_with_every_failure(project: Path) -> None:
    (project / "app.py").write_text(textwrap.dedent(KILLED))
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=project,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    reported = []
    for line in proc.stdout:  # each id is printed after f.failure() returned
        reported.append(line.strip())
        if len(reported) >= 40:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    reported += [x.strip() for x in proc.stdout.read().splitlines() if x.strip()]

    path = project / ".autodev" / "trace.jsonl"
    data = path.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    stats = ReadStats()
    events = list(iter_events(path, stats=stats))
    assert stats.skipped.get("malformed", 0) == 0  # at most a cut last line, nothing else
    assert len(events) == complete.count(b"\n")
    failures = {e["id"] for e in events if e["event_type"] == "failure"}
    assert set(reported) <= failures
    assert not of_type(events, "summary")  # killed: no clean end
