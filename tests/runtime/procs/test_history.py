"""History survives a busy day (issue 8 §4): several processes of one run fill the
top-level trace many times over; it keeps ``trace_backups`` rotated files of at most
``max_trace_bytes`` each, whole lines, the newest events, and the run folder keeps all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from _apps import TIMEOUT, clean_env, write_app
from _project import read_lines, write_config

MAX_BYTES = 65536
BACKUPS = 3
#: Processes that check the size at the same instant may each add their batch: a file
#: passes the limit by at most that (here: a few lines per worker).
SLACK = 16384

CONFIG = f"""\
version: 1
profile: all
sinks:
  - type: jsonl
    path: .autodev/trace.jsonl
retention:
  max_trace_bytes: {MAX_BYTES}
  trace_backups: {BACKUPS}
"""

BUSY_APP = """\
    import multiprocessing
    import flowscribe

    def task(n):
        with flowscribe.flow("busy/request", n=n) as f:
            f.checkpoint("work", n=n, pad="x" * 40)
            f.success("done")
        return n

    if __name__ == "__main__":
        flowscribe.init(app_name="busy")
        with multiprocessing.get_context("fork").Pool(4) as pool:
            assert sorted(pool.map(task, range(3000), chunksize=25)) == list(range(3000))
"""


def test_the_shared_trace_keeps_a_bounded_history_of_whole_lines(project: Path) -> None:
    write_config(project, CONFIG)
    write_app(project, BUSY_APP)
    done = subprocess.run([sys.executable, "app.py"], cwd=project, env=clean_env(),
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr
    autodev = project / ".autodev"
    files = [autodev / f"trace.jsonl.{n}" for n in range(BACKUPS, 0, -1)]
    files.append(autodev / "trace.jsonl")
    assert all(p.is_file() for p in files)
    assert not (autodev / f"trace.jsonl.{BACKUPS + 1}").exists()
    # The bound: N backups and the live file, none (much) past the limit. Before each
    # write asked the file's size, four workers grew one file to twice the limit.
    assert all(p.stat().st_size <= MAX_BYTES + SLACK for p in files), [
        p.stat().st_size for p in files]
    assert sum(p.stat().st_size for p in files) <= (BACKUPS + 1) * MAX_BYTES + SLACK
    kept = []
    for p in files:
        raw = p.read_bytes()
        assert raw.endswith(b"\n")
        kept += [json.loads(line) for line in raw.splitlines()]  # every line whole
    (run_dir,) = (autodev / "runs").iterdir()
    everything = read_lines(run_dir / "trace.jsonl")  # the run folder is never rotated
    assert sum(e["event_type"] == "flow_end" for e in everything) == 3000
    assert len(everything) > 2 * len(kept)  # the stream really rotated past its history
    # What the stream kept is the newest part of the run, each event once.
    ids = [e["id"] for e in kept]
    assert len(set(ids)) == len(ids)
    assert set(ids) <= {e["id"] for e in everything}
    assert kept[-1]["event_type"] == "summary" == everything[-1]["event_type"]
    assert kept[-1]["evidence"]["flows"] == 3000
