"""bench_procs.py still runs (``--quick``): it times flows in the app's process and in a
real multiprocessing child, and says what writing each flow_end at once costs. No figure
is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_procs_benchmark_measures_both_processes() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_procs.py"), "--quick"],
        capture_output=True, text=True, timeout=300, check=False, cwd=BENCHMARKS.parent,
    )
    assert proc.returncode == 0, proc.stderr
    assert "| app's process: flow_end left to the flusher" in proc.stdout
    assert "| multiprocessing child: flow_end written at once" in proc.stdout
    assert "(child measured as a multiprocessing child: True)" in proc.stdout
