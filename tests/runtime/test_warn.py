"""Warnings are bounded: once per problem, a few per kind, and a count of the rest at exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

APP = """\
import flowscribe
flowscribe.init(app_name="noisy")
with flowscribe.flow("a/b") as f:
    for n in range(2000):
        f.failure("X.Y", "odd", severity=f"sev{n}")
flowscribe.end_session()
"""


def test_two_thousand_odd_severities_print_a_handful_of_lines(project: Path) -> None:
    (project / "app.py").write_text(APP)
    out = subprocess.run([sys.executable, "app.py"], cwd=project, capture_output=True,
                         text=True, timeout=120, check=True)
    lines = [line for line in out.stderr.splitlines() if line.startswith("flowscribe:")]
    severity = [line for line in lines if "unknown severity" in line]
    assert len(severity) == 5
    assert lines[-1] == "flowscribe: 1995 more 'severity' warnings not shown (the first 5 were)"
    assert len(lines) < 12


NOISY_TWO_KINDS = """\
import flowscribe
flowscribe.init(app_name="noisy")
with flowscribe.flow("a/b") as f:
    for n in range(2000):
        f.failure("X.Y", "odd", severity=f"sev{n}")
    for n in range(30):
        f.add_event(flowscribe.Event(event_type=f"odd{n}", flow_id=f.flow_id))
flowscribe.end_session()
"""


def test_the_warnings_not_shown_are_counted_in_the_summary(project: Path) -> None:
    (project / "app.py").write_text(NOISY_TWO_KINDS)
    subprocess.run([sys.executable, "app.py"], cwd=project, capture_output=True,
                   text=True, timeout=120, check=True)
    (run,) = (project / ".autodev" / "runs").iterdir()
    last = json.loads((run / "trace.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert last["event_type"] == "summary"
    assert last["evidence"]["warnings_not_shown"] == {"event-type": 25, "severity": 1995}
    summary = (run / "summary.md").read_text(encoding="utf-8")
    assert ("- **2020 warnings not shown** (stderr told the first of each kind): "
            "`event-type` ×25, `severity` ×1995") in summary
    # Rendered again from the trace alone (flowscribe summary), the line is the same.
    again = subprocess.run([sys.executable, "-m", "flowscribe", "summary"], cwd=project,
                           capture_output=True, text=True, timeout=60, check=True).stdout
    assert "2020 warnings not shown" in again


def test_a_quiet_run_says_nothing_of_warnings(project: Path) -> None:
    (project / "app.py").write_text(
        "import flowscribe\nwith flowscribe.flow('a/b'):\n    pass\nflowscribe.end_session()\n")
    subprocess.run([sys.executable, "app.py"], cwd=project, capture_output=True,
                   text=True, timeout=120, check=True)
    (run,) = (project / ".autodev" / "runs").iterdir()
    last = json.loads((run / "trace.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert last["evidence"]["warnings_not_shown"] == {}
    assert "not shown" not in (run / "summary.md").read_text(encoding="utf-8")
