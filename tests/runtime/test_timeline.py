"""``flowscribe timeline`` on a run with threads and a child process, recorded for real."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

APP = """\
import subprocess, sys, threading
import flowscribe
flowscribe.init(app_name="tl")
def work(ticker):
    with flowscribe.flow("data/fetch", ticker=ticker) as f:
        f.checkpoint("rows", n=0 if ticker == "NFLX" else 3)
        if ticker == "NFLX":
            f.failure("DATA.EMPTY", "no rows for NFLX")
with flowscribe.flow("day/run") as day:
    threads = [threading.Thread(target=flowscribe.wrap(work), args=(t,), name=f"w-{t}")
               for t in ("AAPL", "NFLX")]
    for t in threads: t.start()
    for t in threads: t.join()
    subprocess.run([sys.executable, "child.py"], check=True, env=flowscribe.child_env())
flowscribe.end_session()
"""
CHILD = """\
import flowscribe
with flowscribe.flow("child/report", ticker="NFLX") as f:
    f.checkpoint("sent", lines=2)
"""


def _cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flowscribe", "timeline", *args], cwd=project,
                          capture_output=True, text=True, timeout=60)


def _column(line: str) -> int:
    """Where the event id starts: after the time, the thread and the indentation."""
    found = re.search(r"[0-9a-f]{8}-\d+", line)
    assert found is not None
    return found.start()


def _run(project: Path) -> None:
    (project / "app.py").write_text(APP)
    (project / "child.py").write_text(CHILD)
    subprocess.run([sys.executable, "app.py"], cwd=project, check=True, timeout=60,
                   capture_output=True)


def test_timeline_filters_and_tree(project: Path) -> None:
    _run(project)
    out = _cli(project, "--where", "ticker=NFLX")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any("FAILURE data/fetch[ticker=NFLX] DATA.EMPTY" in line for line in lines)
    assert any("child/report[ticker=NFLX] sent" in line for line in lines)  # the child process
    assert not any("AAPL" in line for line in lines)
    start = next(line for line in lines if " start data/fetch" in line)
    step = next(line for line in lines if " step data/fetch" in line)
    assert "w-NFLX" in step and _column(step) == _column(start) + 2  # under its flow


def test_timeline_json_types_grep_and_no_match(project: Path) -> None:
    _run(project)
    out = _cli(project, "--type", "failure", "--json")
    events = [json.loads(line) for line in out.stdout.splitlines()]
    assert [e["error_class"] for e in events] == ["DATA.EMPTY"]
    inst = events[0]["instance"]
    out = _cli(project, "--instance", inst, "--flat", "--grep", "no rows")
    assert out.returncode == 0 and len(out.stdout.splitlines()) == 2  # failure + flow_end
    out = _cli(project, "--grep", "nothing-like-this")
    assert out.returncode == 1 and "match" in out.stderr
    out = _cli(project, "--type", "bogus")
    assert out.returncode == 1 and "unknown event type bogus" in out.stderr
