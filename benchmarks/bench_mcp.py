"""The MCP server's speed: each tool's latency over stdio, as an agent's client sees it
(issue 11).

The workspace is bench_lsp.py's generated app (the real runtime, flows of 5 events, one in
50 failing), run twice so the latest run has a previous one to be compared with; the
latest run has ``--events`` events (1M by default). A ``flowscribe mcp`` process is driven
by the MCP SDK's own stdio client; each tool is called once cold (its first call) and then
``--reps`` times (median). Baseline, in the same run: a plain pass that ``json.loads``
every line of the latest run's trace.

Target (issue 11): ``get_failures`` on a 1M-event trace answers in under a second.

Measured 2026-12-03 (2 shared cores, load 4-6; the baseline pass alone took 19.6 s, about
4x its quiet-machine time), 1M events, median of 3 after the first call; before the
process's cache of runs (``flowscribe.mcp.cache``) the medians were get_failures 2.6 s,
get_failure_story 105 s, diff_runs 122 s::

    call                                     first (s)  median (s)
    get_failures limit=1, the first call       21.4        -        (lists both runs)
    list_runs                                   0.02       0.01
    get_failures                                0.02       0.02
    get_failures error_class=DATA               0.02       0.03
    get_failure_story                         128          1.62     (first: reads 2 runs)
    get_flow flow_id=orders/submit              8.68       0.02
    get_flow_events (an instance)               1.71       0.61
    get_flow_events where=ticker=T007           3.47       0.66
    diff_runs                                   0.04       0.04

Since the runs' aggregate.json (issue 12), listing runs reads a finished run's verdicts
from it: at a scaled 100,000 events (load 9-11, one rep), the process's first call
(``get_failures limit=1``) took 0.79 s, and 4.47 s with ``--no-saved-aggregate`` (the
traces folded, as before); the first ``get_failure_story`` 29.9 s against 35.5 s (the
story library still parses both runs whole).

Measured 2026-12-04 (quiet machine, load 0.5; the baseline pass 4.28 s), 1M events, first
call: get_failures limit=1 0.94 s, get_failure_story 0.02 s (told from the trace around
the failure), get_flow 0.86 s (outcomes from aggregate.json), get_flow_events of an
instance 0.01 s (its span) and of ticker=T007 0.78 s (the lines holding it), diff_runs
12.0 s (each run folded in one pass; 43 s through whole views).

Usage: python benchmarks/bench_mcp.py [--events N] [--reps N] [--quick] [--keep DIR]
       [--no-saved-aggregate]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _table
import bench_lsp


def _text(result: Any) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


def _is_error(result: Any) -> bool:
    flag = getattr(result, "is_error", None)
    return bool(flag if flag is not None else getattr(result, "isError", False))


async def bench_tools(ws: Path, reps: int) -> list[tuple[str, float, float, int]]:
    """(tool, first call s, median of reps s, answer chars) per tool."""
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "flowscribe", "mcp", "--workspace", str(ws)])
    rows: list[tuple[str, float, float, int]] = []
    async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
        await s.initialize()
        t0 = time.perf_counter()
        first = await s.call_tool("get_failures", {"limit": 1})
        opening = time.perf_counter() - t0
        match = re.search(r"```json\n(.*?)\n```", _text(first), re.S)
        item = json.loads(match.group(1))["failures"][0] if match else {}
        # The process's first call lists the runs (both traces read for their verdicts).
        rows.append(("get_failures limit=1, the process's first call", opening, float("nan"),
                     len(_text(first))))
        calls: list[tuple[str, dict[str, Any]]] = [
            ("list_runs", {}),
            ("get_failures", {}),
            ("get_failures", {"error_class": "DATA"}),
            ("get_failure_story", {"event_id": item.get("event_id")}),
            ("get_flow", {"flow_id": "orders/submit"}),
            ("get_flow_events", {"instance": item.get("instance")}),
            ("get_flow_events", {"where": "ticker=T007", "limit": 50}),
            ("diff_runs", {}),
        ]
        for name, args in calls:
            samples = []
            size = 0
            for _ in range(reps + 1):
                t0 = time.perf_counter()
                result = await s.call_tool(name, args)
                samples.append(time.perf_counter() - t0)
                if _is_error(result):
                    raise SystemExit(f"could not run {name}: {_text(result)[:200]}")
                size = len(_text(result))
            label = name + (" " + ",".join(f"{k}={v}" for k, v in args.items()
                                           if k not in ("event_id", "instance")) if args
                            else "")
            rows.append((label.strip(), samples[0], _table.stats(samples[1:]).median, size))
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="20k events, 1 rep (a smoke run)")
    p.add_argument("--keep", metavar="DIR", help="make the workspace in DIR and keep it")
    p.add_argument("--no-saved-aggregate", action="store_true",
                   help="remove the runs' aggregate.json first (readers fold the traces)")
    args = p.parse_args()
    if args.quick:
        args.events, args.reps = 20_000, 1
    try:
        import mcp  # noqa: F401
    except ImportError:
        print("could not run: the mcp SDK is not installed (pip install 'flowscribe[mcp]')")
        return 1
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-mcp-"))
    try:
        ws = tmp / "ws"
        _, _ = bench_lsp.make_workspace(ws, args.events)  # the previous run
        flows = max(args.events // bench_lsp.EVENTS_PER_FLOW, 1)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "app.py", str(flows)], cwd=ws, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        took = time.perf_counter() - t0
        trace = (ws / ".autodev" / "latest").resolve() / "trace.jsonl"
        if args.no_saved_aggregate:
            for saved in (ws / ".autodev" / "runs").glob("*/aggregate.json"):
                saved.unlink()
        base_s, _ = bench_lsp.json_loads_pass(trace)
        with open(trace, "rb") as fh:
            lines = sum(1 for _ in fh)
        rows = asyncio.run(bench_tools(ws, args.reps))
        _table.print_header("flowscribe mcp: tool latency over stdio", [
            f"latest run: {lines:,} events, {trace.stat().st_size / 1e6:.0f} MB "
            f"(recorded in {took:.1f} s), one earlier run of the same size",
            f"first call, then the median of {args.reps} more",
            "runs' aggregate.json: " + ("removed (traces folded)" if args.no_saved_aggregate
                                        else "as the runtime wrote them"),
        ])
        table = [("baseline: json.loads every line of the run's trace", _table.fmt(base_s),
                  "-", "-")]
        table += [(name, _table.fmt(first), _table.fmt(med) if med == med else "-", f"{size:,}")
                  for name, first, med, size in rows]
        _table.print_table(("call", "first (s)", "median (s)", "answer chars"), table)
        gf = next(r for r in rows if r[0] == "get_failures")
        print()
        print(f"target: get_failures < 1 s on a 1M-event trace: {gf[2]:.2f} s median, "
              f"{gf[1]:.2f} s first -> {bench_lsp.verdict(gf[2] < 1.0)}"
              + ("" if args.events >= 1_000_000 else f" (at {args.events:,} events)"))
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
