"""Per-flow latency of a run, for the hover and the Run Timeline's histograms.

Only ``flow_end`` lines are parsed (the reader's substring prefilter skips the rest), and
they are folded into the runtime's :class:`~flowscribe.aggregate.RunAggregate` built with
the project's ``ra.yaml`` latency buckets, so the percentiles and bucket counts are the
ones summary.md computes. A live run is followed incrementally; memory is the
aggregate's (bounded per flow), whatever the run's size.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Callable

from flowscribe.aggregate import RunAggregate
from flowscribe.artifacts.latency import Latency, latency_of
from flowscribe.trace import TraceFollower

__all__ = ["LatencyFolds"]

#: Runs followed at once (the latest and a couple a timeline looks at).
_CACHED = 4


class _Followed:
    def __init__(self, trace: Path, run_id: str | None, bounds: tuple[float, ...]) -> None:
        self.follower = TraceFollower(trace, types=("flow_end",))
        self.run_id = run_id
        self.bounds = bounds
        self.agg = RunAggregate(run_id=run_id, latency_buckets_ms=bounds)


class LatencyFolds:
    """The flow durations of the runs asked about, each caught up with its file on request.

    Called from the index worker (the lock guards a second caller anyway)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._followed: dict[tuple[Path, str | None, tuple[float, ...]], _Followed] = {}

    def latencies(self, trace: Path, run_id: str | None, bounds: Sequence[float],
                  sla: Callable[[str], float | None], flows: Sequence[str] | None = None,
                  ) -> dict[str, Latency]:
        """``{flow id: Latency}`` of ``run_id`` in ``trace`` (every run's events when
        None), read up to the file's current end; only ``flows`` when given. ``sla``
        gives each flow's p95 target."""
        key = (trace, run_id, tuple(sorted(float(b) for b in bounds)))
        with self._lock:
            followed = self._followed.pop(key, None) or _Followed(trace, run_id, key[2])
            self._followed[key] = followed  # newest last: the oldest is evicted first
            while len(self._followed) > _CACHED:
                del self._followed[next(iter(self._followed))]
            while True:
                result = followed.follower.poll()
                if result.reset:
                    followed.agg = RunAggregate(run_id=run_id, latency_buckets_ms=key[2])
                for ev in result.events:
                    if run_id is None or ev.get("run_id") == run_id:
                        followed.agg.add(ev)
                if not result.more:
                    break
            wanted = followed.agg.flows if flows is None else {
                f: followed.agg.flows[f] for f in flows if f in followed.agg.flows}
            out = {}
            for fid, stats in wanted.items():
                lat = latency_of(stats, sla(fid))
                if lat is not None:
                    out[fid] = lat
            return out
