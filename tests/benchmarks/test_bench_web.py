"""bench_web.py still runs (``--quick``): it measures both middlewares against their bare
apps, reads the events per request back from the traces, and reaches its verdicts. No
timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_web_benchmark_measures_both_middlewares() -> None:
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "bench_web.py"), "--quick"],
                          capture_output=True, text=True, timeout=300, check=False,
                          cwd=BENCHMARKS.parent)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    out = proc.stdout
    for row in ("| asgi: Starlette, no flowscribe", "| asgi: + middleware, default config",
                "| wsgi: Flask, no flowscribe", "| wsgi: + middleware, default config"):
        assert row in out
    # the traced app really carried 7 events per request, the middleware alone 3
    assert "default 7.0 (ASGI), 7.0 (WSGI); middleware alone 3.0, 3.0" in out
    for kind in ("ASGI", "WSGI"):
        line = next(x for x in out.splitlines() if x.startswith(f"{kind} middleware, 7 events"))
        assert line.endswith((": MET", ": MISSED"))
