"""Warnings are bounded: once per problem, a few per kind, and a count of the rest at exit."""

from __future__ import annotations

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
