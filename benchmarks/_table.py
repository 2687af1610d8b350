"""Shared helpers for the benchmark scripts: timing statistics, the machine header, tables.

Every benchmark prints its figures as a table whose first rows are baselines measured in
the same process, so a reader compares like with like on whatever machine ran it. Figures
are medians over repetitions, with the spread (25th to 75th percentile) beside them: the
machines these run on are shared and noisy, and a single figure would hide that.
"""

from __future__ import annotations

import mmap
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "Stats",
    "Timing",
    "fmt",
    "machine_header",
    "measure",
    "print_header",
    "print_table",
    "stats",
]


@dataclass(frozen=True)
class Stats:
    """Summary of repeated measurements of one quantity (any unit)."""

    median: float
    p25: float
    p75: float
    minimum: float
    n: int

    @property
    def spread(self) -> str:
        """The interquartile range as ``p25–p75``, or the single value for one sample."""
        return f"{fmt(self.p25)}–{fmt(self.p75)}"


def stats(samples: Sequence[float]) -> Stats:
    """Median, quartiles and minimum of ``samples`` (at least one)."""
    ordered = sorted(samples)
    if len(ordered) == 1:
        v = ordered[0]
        return Stats(v, v, v, v, 1)
    q = statistics.quantiles(ordered, n=4, method="inclusive")
    return Stats(statistics.median(ordered), q[0], q[2], ordered[0], len(ordered))


@dataclass(frozen=True)
class Timing:
    """Nanoseconds per operation: wall clock, and CPU time of the whole process.

    CPU time includes work a library hands to a background thread (a buffered writer's
    flush), which the caller's wall clock could otherwise hide on a multi-core machine.
    """

    wall: Stats
    cpu: Stats


def measure(
    runs: Mapping[str, Callable[[int], None]],
    ops: int,
    reps: int,
    warmup: int = 1,
) -> dict[str, Timing]:
    """Time each ``run(ops)`` ``reps`` times after ``warmup`` untimed runs; ns per op.

    Repetitions are interleaved (one of each run, then the next round), so that a burst of
    load from a neighbour on a shared machine falls on every row alike instead of on
    whichever row happened to be running; the median then discards the disturbed rounds.
    """
    for _ in range(warmup):
        for run in runs.values():
            run(ops)
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(reps):
        for name, run in runs.items():
            c0 = time.process_time_ns()
            t0 = time.perf_counter_ns()
            run(ops)
            t1 = time.perf_counter_ns()
            c1 = time.process_time_ns()
            wall[name].append((t1 - t0) / ops)
            cpu[name].append((c1 - c0) / ops)
    return {name: Timing(stats(wall[name]), stats(cpu[name])) for name in runs}


def fmt(v: float) -> str:
    """A figure with about three significant digits."""
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def machine_header() -> list[str]:
    """Lines describing where the figures come from (CPU, cores, load, Python)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except (OSError, AttributeError):
        load = "n/a"
    impl = platform.python_implementation()
    return [
        f"machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"python:  {impl} {platform.python_version()} ({sys.executable})",
        f"load average at start: {load} (shared machine: expect noise, compare within a run)",
        f"memory:  {page_touch_us():.2f} µs to touch a page of memory new to this process "
        "(about 0.2 on bare metal; a VM whose host has not backed its memory yet charges "
        "far more, and every appended trace page pays it)",
    ]


def page_touch_us(megabytes: int = 32) -> float:
    """CPU µs per 4 KiB page to first touch a fresh anonymous mapping.

    Appending to a file allocates page-cache pages the same way, so where this is high
    (a fresh VM whose host maps guest memory on first use: 5 µs a page was seen) every
    row that writes many bytes is inflated, flowscribe's 600-byte lines most of all.
    """
    size = megabytes << 20
    try:
        area = mmap.mmap(-1, size)
    except (OSError, ValueError):
        return float("nan")
    try:
        start = time.process_time()
        for offset in range(0, size, mmap.PAGESIZE):
            area[offset] = 1
        return (time.process_time() - start) / (size // mmap.PAGESIZE) * 1e6
    finally:
        area.close()


def print_header(title: str, notes: Sequence[str] = ()) -> None:
    """Print the benchmark's title, the machine it runs on and any notes."""
    print(f"# {title}")
    print()
    for line in [*machine_header(), *notes]:
        print(f"    {line}")
    print()


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print a Markdown table, columns padded so it also reads well in a terminal."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |"

    print(line(cells[0]))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print(line(row))
    print()
