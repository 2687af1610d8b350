"""The registry of live runs and the launch a process belongs to, on real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowscribe import _launch
from flowscribe._launch import LiveRuns, Proc

pytestmark = pytest.mark.skipif(not Path("/proc/self/auxv").exists(), reason="Linux /proc")

RUN = "20261203T120000.000Z-abcdef"


def _dead_process() -> Proc:
    """A process that ran and is gone (reaped), with its real start time."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                            stdin=subprocess.PIPE)
    st = _launch._stat(proc.pid)
    assert st is not None
    proc.communicate(b"")
    return (proc.pid, st[2])


def test_the_last_session_out_is_told_so(tmp_path: Path) -> None:
    live = LiveRuns(tmp_path)
    first, second = live.enter(RUN), live.enter(RUN)
    assert live.leave(RUN, first) is False
    assert live.leave(RUN, second) is True
    assert os.listdir(tmp_path / "live") == [".lock"]


def test_sessions_of_processes_that_are_gone_do_not_count(tmp_path: Path) -> None:
    live = LiveRuns(tmp_path)
    mine = live.enter(RUN)
    pid, start = _dead_process()
    (tmp_path / "live" / f"{RUN}+{pid}-{start}-00000000-0badf00d").touch()  # never left
    assert live.leave(RUN, mine) is True


def test_a_process_that_became_another_program_does_not_count(tmp_path: Path) -> None:
    # Registered right after a fork (as a session's fork hook does), then exec'd: the
    # process lives on, running something else.
    live = LiveRuns(tmp_path)
    mine = live.enter(RUN)
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                            stdin=subprocess.PIPE)
    try:
        st = _launch._stat(proc.pid)
        assert st is not None
        copy_of_me = _launch.program_tag(os.getpid())  # what it had before the exec
        (tmp_path / "live" / f"{RUN}+{proc.pid}-{st[2]}-{copy_of_me}-0badf00d").touch()
        assert live.leave(RUN, mine) is True
    finally:
        proc.communicate(b"")


def test_a_launch_keeps_its_run_while_its_root_runs(tmp_path: Path) -> None:
    live = LiveRuns(tmp_path)
    root = _launch.me()
    assert live.run_of_launch(root, RUN) == (RUN, True)
    assert live.run_of_launch(root, "20261203T130000.000Z-123456") == (RUN, False)
    gone = _dead_process()
    assert live.run_of_launch(gone, RUN)[1] is True
    live.run_of_launch(root, RUN)  # any lookup forgets the launches whose root is gone
    assert not (tmp_path / "live" / f"launch-{gone[0]}-{gone[1]}").exists()


CHILD = """\
import json, multiprocessing, os, sys
from flowscribe import _launch

def report(queue):
    queue.put(_launch.launch_root())

if __name__ == "__main__":
    out = {"self": _launch.me()}
    pid = os.fork()
    if pid == 0:  # a fork copy, renamed as gunicorn's workers rename themselves
        with open("/proc/self/comm", "w") as fh:
            fh.write("worker")
        print(json.dumps(_launch.launch_root()), flush=True)
        os._exit(0)
    os.waitpid(pid, 0)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    p = ctx.Process(target=report, args=(queue,))
    p.start()
    out["spawned"] = queue.get(timeout=60)
    p.join()
    out["own"] = _launch.launch_root()
    print(json.dumps(out), flush=True)
"""


def test_fork_copies_and_spawned_helpers_belong_to_the_launch(tmp_path: Path) -> None:
    script = tmp_path / "launcher.py"
    script.write_text(CHILD, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, check=True)
    forked, report = (json.loads(line) for line in done.stdout.splitlines())
    me = report["self"]
    assert forked == me
    assert report["spawned"] == me
    assert report["own"] == me  # its parent (this test, another program) is not its launch
    assert me[0] != os.getpid()
