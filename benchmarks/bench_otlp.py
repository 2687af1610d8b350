"""What the otlp sink costs per event, against the same app with the JSONL sink alone, and
what a dead endpoint costs the app (issue 15).

Each row is a child process recording flows of 5 events (start, checkpoint, metric,
success, end; 200 tickers as correlation) through the real runtime with one ``ra.yaml``:

- ``jsonl``: the JSONL sink alone (the baseline);
- ``jsonl + otlp, live receiver``: spans to a real OTLP/HTTP receiver (oteltap) started
  by this script on loopback;
- ``jsonl + otlp, nothing listening`` and ``..., black hole`` (a socket that takes the
  connection and never answers): the dead state, measured once the sink knows (its first
  export failed, after a 1 s timeout): the loop's events meet its backoff;
- ``..., black hole, first export pending``: the moment before it knows, the warm-up's
  export still hanging (its spans already built and encoded).

A child records a warm-up batch and waits until the sink has exported it (the SDK's
import and set-up are not counted), then records ``--events`` events. **App wall** is what
the recording loop took per event: what the app's own thread waits. **CPU** is the whole
process's CPU time per event from the loop's start until the sink has exported (or
dropped) every one of them: the exporter thread's mapping, encoding and sending included.
For the dead endpoints the CPU is read when the loop ends (their exporter never finishes).
Rows are interleaved (a round of every row, then the next), medians of ``--reps``.

Usage: python benchmarks/bench_otlp.py [--events N] [--reps N] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import socket
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _table

EVENTS_PER_FLOW = 5

CHILD = '''\
import json, sys, time
import flowscribe

flows, warmup, how = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
wait = how == "wait"
flowscribe.init(app_name="bench-otlp", mode="bench", root=".")
session = flowscribe.get_session()
otlp = next((s for s in session._writer.sinks if s.name == "otlp"), None)
TICKERS = ["T%03d" % i for i in range(200)]


def record(n_flows):
    for n in range(n_flows):
        with flowscribe.flow("orders/submit", ticker=TICKERS[n % 200]) as f:
            f.checkpoint("validate", rows=120)
            f.metric("latency_ms", 80.0 + n % 900, unit="ms")
            f.success("ack", order_id=n)


def settle(started=False):
    # Everything exported (or dropped); with ``started``, only until the exporter thread
    # has set up (imported the SDK) and taken what was queued: a dead endpoint's export
    # never ends, but its one-off start-up must not land in the measured loop either.
    flowscribe.flush()
    deadline = time.monotonic() + 60
    while otlp is not None and time.monotonic() < deadline:
        if started and otlp._exporter is not None and not otlp._queue:
            break
        if not started and otlp.idle():
            break
        time.sleep(0.001)


record(warmup)
settle(started=not wait)
if how == "down":  # measured once the sink knows: its first export failed
    deadline = time.monotonic() + 60
    while otlp.not_written()[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.001)
c0, t0 = time.process_time(), time.perf_counter()
record(flows)
t1 = time.perf_counter()
if wait:
    settle()
c1 = time.process_time()
flowscribe.end_session()
dropped = otlp.not_written()[0] if otlp is not None else 0
events = flows * 5
print(json.dumps({"wall_us": (t1 - t0) / events * 1e6, "cpu_us": (c1 - c0) / events * 1e6,
                  "dropped": dropped}))
'''

RA_YAML = """\
version: 1
profile: all
sinks:
  - type: jsonl
    path: .autodev/trace.jsonl
{otlp}artifacts:
  ask_md: never
retention:
  rotate_trace: false
"""

OTLP = """\
  - type: otlp
    endpoint: http://127.0.0.1:{port}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _black_hole() -> Iterator[int]:
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(64)
        yield int(hole.getsockname()[1])


def _project(root: Path, port: int | None, queue: int | None = None,
             timeout_s: float | None = None) -> Path:
    (root / ".autodev").mkdir(parents=True)
    otlp = OTLP.format(port=port) if port is not None else ""
    if queue is not None:
        otlp += f"    max_queue_events: {queue}\n"
    if timeout_s is not None:
        otlp += f"    timeout_s: {timeout_s}\n"
    (root / ".autodev" / "ra.yaml").write_text(RA_YAML.format(otlp=otlp))
    (root / "child.py").write_text(CHILD)
    return root


async def _child(root: Path, flows: int, warmup: int, how: str) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "child.py", str(flows), str(warmup), how,
        cwd=root, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"could not run the child in {root} (exit {proc.returncode})")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


async def _bench(tmp: Path, events: int, reps: int) -> tuple[list[tuple[Any, ...]], int]:
    import oteltap

    flows = max(events // EVENTS_PER_FLOW, 1)
    warmup = max(flows // 10, 20)
    port = _free_port()
    settings = oteltap.OtelTapHttpProtobufReceiverSettings(http_port=port)
    received = 0
    with _black_hole() as hole:
        rows = {
            "jsonl (baseline)": (_project(tmp / "off", None), "wait"),
            # A queue that holds a whole batch: the receiver takes everything, nothing
            # is dropped while the loop outruns the exporter.
            "jsonl + otlp, live receiver": (_project(tmp / "live", port, 10 * events),
                                            "wait"),
            # The dead state: the sink's first export has failed (1 s timeout), the
            # events of the loop meet a sink that knows.
            "jsonl + otlp, nothing listening": (
                _project(tmp / "refused", _free_port(), timeout_s=1.0), "down"),
            "jsonl + otlp, black hole": (_project(tmp / "hole", hole, timeout_s=1.0), "down"),
            # The moment before: the warm-up's export still hangs in the black hole
            # (its spans built and encoded), the loop's events fill the queue.
            "jsonl + otlp, black hole, first export pending": (
                _project(tmp / "pending", hole), "no"),
        }
        results: dict[str, list[dict[str, Any]]] = {name: [] for name in rows}
        async with oteltap.OtelTapHttpProtobufReceiver(settings) as receiver:
            async def count() -> None:
                nonlocal received
                async for _ in receiver.stream_traces():
                    received += 1

            counter = asyncio.create_task(count())
            for _ in range(reps):
                for name, (root, how) in rows.items():
                    results[name].append(await _child(root, flows, warmup, how))
            await asyncio.sleep(1.0)  # the receiver hands over the last spans
            counter.cancel()
    base_wall = _table.stats([r["wall_us"] for r in results["jsonl (baseline)"]]).median
    base_cpu = _table.stats([r["cpu_us"] for r in results["jsonl (baseline)"]]).median
    table = []
    for name, runs in results.items():
        wall = _table.stats([r["wall_us"] for r in runs])
        cpu = _table.stats([r["cpu_us"] for r in runs])
        dropped = sum(r["dropped"] for r in runs)
        table.append((name, _table.fmt(wall.median), wall.spread,
                      f"{wall.median - base_wall:+.2f}", _table.fmt(cpu.median),
                      f"{cpu.median - base_cpu:+.2f}", f"{dropped:,}"))
    return table, received


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=100_000, help="events per child")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="2,000 events, 1 rep (a smoke run)")
    args = p.parse_args()
    if args.quick:
        args.events, args.reps = 2_000, 1
    try:
        import opentelemetry.exporter.otlp.proto.http  # noqa: F401
        import oteltap  # noqa: F401
    except ImportError:
        print("could not run: needs flowscribe[otlp] and oteltap (pip install "
              "'flowscribe[otlp]' oteltap)")
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="bench-otlp-"))
    try:
        table, received = asyncio.run(_bench(tmp, args.events, args.reps))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    flows = max(args.events // EVENTS_PER_FLOW, 1)
    _table.print_header("flowscribe otlp sink: cost per event", [
        f"{flows * EVENTS_PER_FLOW:,} events per child ({flows:,} flows of "
        f"{EVENTS_PER_FLOW}), median of {args.reps} interleaved rounds",
        "app wall: the recording loop's time per event; CPU: the process's, until the "
        "sink has exported every span (dead endpoints: when the loop ends)",
    ])
    _table.print_table(("sink", "app wall (µs/event)", "p25–p75", "vs jsonl",
                        "CPU (µs/event)", "vs jsonl", "events dropped"), table)
    print()
    print(textwrap.fill(
        f"live receiver: {received:,} spans received (expected "
        f"{(flows + max(flows // 10, 20)) * args.reps:,} with the warm-up flows).", 92))
    return 0


if __name__ == "__main__":
    sys.exit(main())
