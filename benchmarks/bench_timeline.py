"""The Run Timeline's request on a 100k-event run, over stdio like the editor asks it (issue 14).

A generated app records N events through the real runtime (flows of 8 events: a job and
its step on two threads, one step in 997 failing). A server process is started on the
workspace and asked, in this order:

1. the first ``flowscribe/timeline`` (the fold of the whole run is built),
2. the same again (the fold is caught up: nothing new to read),
3. filtered requests (flow glob, verdict, a narrow window): the fold reused,
4. ``flowscribe/flowGraph``.

Baseline, in the same run: reading every line of the trace with ``json.loads``. Each row
is the median over repetitions (the first request once per server process) and the size
of the answer in bytes.

Usage: python benchmarks/bench_timeline.py [--events N] [--reps N] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _table
from bench_lsp import Client

#: The app that records the run (docs in it): 8 events per flow.
APP = Path(__file__).resolve().parent / "jobs_app.py"
RA_YAML = ("version: 1\nprofile: all\nartifacts:\n  ask_md: never\n"
           "retention:\n  rotate_trace: false\n")
EVENTS_PER_FLOW = 8


def make_workspace(root: Path, events: int) -> Path:
    (root / ".autodev").mkdir(parents=True)
    (root / ".autodev" / "ra.yaml").write_text(RA_YAML)
    shutil.copy(APP, root / "app.py")
    subprocess.run([sys.executable, "app.py", str(max(events // EVENTS_PER_FLOW, 1))],
                   cwd=root, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (root / ".autodev" / "latest").resolve() / "trace.jsonl"


async def timed(client: Client, method: str, params: dict[str, Any]) -> tuple[float, int, Any]:
    t0 = time.perf_counter()
    result = await client.request(method, params)
    return time.perf_counter() - t0, len(json.dumps(result)), result


async def one_server(ws: Path, rows: dict[str, list[tuple[float, int]]]) -> None:
    client = Client()
    await client.start(ws)
    try:
        # Wait until the server has indexed the run (the request answers with bars).
        for _ in range(600):
            result = await client.request("flowscribe/timeline", {"maxBars": 1})
            if result.get("bars"):
                break
            await asyncio.sleep(0.1)
        duration = result["duration"]
        asks = [
            ("timeline, fold caught up (default 1500 bars)", "flowscribe/timeline", {}),
            ("timeline, flow glob jobs/step", "flowscribe/timeline", {"flow": "jobs/step"}),
            ("timeline, verdict failed", "flowscribe/timeline", {"verdict": "failed"}),
            ("timeline, 1% window", "flowscribe/timeline", {"until": duration / 100}),
            ("flowGraph", "flowscribe/flowGraph", {}),
        ]
        for name, method, params in asks:
            took, size, _ = await timed(client, method, params)
            rows.setdefault(name, []).append((took, size))
    finally:
        await client.stop()


async def first_request(ws: Path, rows: dict[str, list[tuple[float, int]]]) -> None:
    """The very first request, answered with the fold built from nothing."""
    client = Client()
    await client.start(ws)
    try:
        for _ in range(600):
            took, size, result = await timed(client, "flowscribe/timeline", {})
            if result.get("bars"):
                rows.setdefault("timeline, first request (fold built)", []).append((took, size))
                return
            await asyncio.sleep(0.1)
    finally:
        await client.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="2,000 events, one rep (a smoke run)")
    args = ap.parse_args()
    if args.quick:
        args.events, args.reps = 2_000, 1
    with tempfile.TemporaryDirectory(prefix="bench-timeline-") as tmp:
        ws = Path(tmp) / "ws"
        trace = make_workspace(ws, args.events)
        lines = trace.read_bytes().splitlines()
        base = []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            for line in lines:
                json.loads(line)
            base.append(time.perf_counter() - t0)
        rows: dict[str, list[tuple[float, int]]] = {}
        for _ in range(args.reps):
            asyncio.run(first_request(ws, rows))
            asyncio.run(one_server(ws, rows))
        _table.print_header("flowscribe/timeline on a generated run", [
            f"{len(lines)} events, {trace.stat().st_size / 1e6:.1f} MB, {args.reps} reps"])
        table = [["baseline: json.loads of every line", _table.fmt(
            _table.stats(base).median * 1000), "-"]]
        for name, samples in rows.items():
            st = _table.stats([s[0] for s in samples])
            table.append([name, _table.fmt(st.median * 1000), str(max(s[1] for s in samples))])
        _table.print_table(["what", "ms (median)", "answer bytes"], table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
