"""What a flow costs in a multiprocessing child, which writes each flow_end at once.

A pool terminates its workers as soon as the last result is back (``with Pool() as p:``),
so a flow a worker ended must already be in the file: in a process multiprocessing
started, every ``flow_end`` is written before the marker returns, where the app's own
process leaves it to the flusher (at most 100 ms later). This prints what a whole flow
(``with flowscribe.flow(...)``, one checkpoint, a success) costs in both, measured the same
way in each: the parent process, and a spawned child (a real ``multiprocessing`` child,
timing itself and sending its figures back).

Usage: python benchmarks/bench_procs.py [--flows N] [--reps N] [--quick]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
from pathlib import Path

import _table

CONFIG = "version: 1\nprofile: all\nsinks:\n  - type: jsonl\n    path: .autodev/trace.jsonl\n"


def _time_flows(root: str, flows: int, reps: int) -> tuple[_table.Timing, bool]:
    """ns per flow in this process, and whether it is a multiprocessing child."""
    import flowscribe

    os.chdir(root)
    flowscribe.init(app_name="bench-procs")

    def run(n: int) -> None:
        for i in range(n):
            with flowscribe.flow("orders/submit", ticker="AAPL") as f:
                f.checkpoint("validate", rows=i)
                f.success("ack received")

    timing = _table.measure({"flow": run}, flows, reps)["flow"]
    flowscribe.end_session()
    return timing, multiprocessing.parent_process() is not None


def _child(root: str, flows: int, reps: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    out.put(_time_flows(root, flows, reps))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=2_000, help="flows per timed batch")
    parser.add_argument("--reps", type=int, default=31, help="timed repetitions per row")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.flows, opts.reps = 50, 3
    with tempfile.TemporaryDirectory(prefix="bench-procs-") as tmp:
        roots = []
        for name in ("parent", "child"):
            root = Path(tmp) / name / ".autodev"
            root.mkdir(parents=True)
            (root / "ra.yaml").write_text(CONFIG, encoding="utf-8")
            roots.append(str(root.parent))
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        proc = ctx.Process(target=_child, args=(roots[1], opts.flows, opts.reps, queue))
        proc.start()
        child, in_child = queue.get(timeout=600)
        proc.join()
        parent, _ = _time_flows(roots[0], opts.flows, opts.reps)
    _table.print_header("A flow in the app's process and in a multiprocessing child", [
        f"{opts.flows} flows per batch, {opts.reps} batches; a flow = with flow(), one "
        "checkpoint, a success (3 events, JSONL sink)",
    ])
    rows = [
        ("app's process: flow_end left to the flusher", parent),
        ("multiprocessing child: flow_end written at once", child),
    ]
    _table.print_table(
        ["row", "µs/flow wall", "spread", "µs/flow CPU"],
        [(name, _table.fmt(t.wall.median / 1000), _table.fmt(t.wall.p25 / 1000) + "–"
          + _table.fmt(t.wall.p75 / 1000), _table.fmt(t.cpu.median / 1000))
         for name, t in rows],
    )
    extra = (child.cpu.median - parent.cpu.median) / 1000
    print(f"writing each flow_end at once costs {extra:+.1f} µs CPU per flow "
          f"(child measured as a multiprocessing child: {in_child})")
    return 0 if in_child else 1


if __name__ == "__main__":
    sys.exit(main())
