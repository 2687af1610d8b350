"""A big run saves its aggregate beside its trace while it records (``_finish._LiveSnapshot``),
so a reader that opens it before it ends folds only what came after: the snapshot tells
exactly the bytes it says it covers, is never taken while another process writes the
trace too, and gives way to the final aggregate when the run ends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _project import QUIET_CONFIG, clean_env, write_config

from flowscribe.artifacts.aggregate_file import load_aggregate
from flowscribe.runs import RunLayout
from flowscribe.trace import iter_events

#: Records flows (argv[1]: fork a child that records some too, halfway), then waits for a
#: line on stdin before it ends. Snapshots after every batch, whatever the size.
APP = """\
import os, sys
import flowscribe
import flowscribe._finish as finish

finish.SNAPSHOT_EVERY_S = 0.0
finish.SNAPSHOT_MIN_BYTES = 0
flowscribe.init(app_name="live")

def orders(first, count):
    for n in range(first, first + count):
        with flowscribe.flow("orders/submit", n=n) as f:
            if n % 7 == 0:
                f.failure("DATA.EMPTY", "no rows")
            else:
                f.success("sent")
        flowscribe.flush()

orders(0, 150)
if sys.argv[1] == "fork":
    pid = os.fork()
    if pid == 0:
        orders(1000, 50)
        flowscribe.end_session()
        os._exit(0)
    os.waitpid(pid, 0)
orders(150, 150)
print("ready", flush=True)
sys.stdin.readline()
"""


def _start(project: Path, mode: str) -> subprocess.Popen[str]:
    write_config(project, QUIET_CONFIG + "artifacts:\n  per_run_dirs: true\n")
    (project / "app.py").write_text(APP, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "app.py", mode], cwd=project, env=clean_env(),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready", (
        proc.communicate(timeout=60))
    return proc


def _ended(proc: subprocess.Popen[str]) -> None:
    _, err = proc.communicate("\n", timeout=60)
    assert proc.returncode == 0, err


def _verdicts(trace: Path, end: int) -> tuple[int, int]:
    ends = [e for e in iter_events(trace, types=["flow_end"], limit=end)]
    return (sum(e["status"] == "passed" for e in ends), sum(e["status"] == "failed" for e in ends))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
@pytest.mark.parametrize("mode", ["alone", "fork"])
def test_a_live_runs_snapshot_tells_exactly_the_bytes_it_covers(
    project: Path, mode: str,
) -> None:
    proc = _start(project, mode)
    try:
        run_dir = RunLayout(project / ".autodev").latest_run_dir()
        assert run_dir is not None
        saved = load_aggregate(run_dir)
        assert saved is not None, "no snapshot of the live run"
        agg, covered = saved
        trace = run_dir / "trace.jsonl"
        stats = agg.flows["orders/submit"]
        assert agg.ended is None  # still running
        assert (stats.passed, stats.failed) == _verdicts(trace, covered)
        if mode == "alone":
            assert covered == trace.stat().st_size  # the last batch's snapshot
            assert (stats.passed, stats.failed) == (257, 43)
        else:
            # Once the child wrote into the trace, the parent's tally no longer tells it:
            # no snapshot was taken after that, and the one before covers the parent's
            # first 150 flows only.
            assert (stats.passed, stats.failed) == (128, 22)
            assert covered < trace.stat().st_size
        # What a reader of the listed runs makes of it: the snapshot, then the rest folded.
        [info] = [r for r in RunLayout(project / ".autodev").list_runs()
                  if r.run_id == run_dir.name]
        assert info.ended is None
        assert (info.verdicts["passed"], info.verdicts["failed"]) == _verdicts(
            trace, trace.stat().st_size)
    finally:
        _ended(proc)
    final = load_aggregate(run_dir)
    assert final is not None and final[0].ended is not None
    assert final[1] == trace.stat().st_size
