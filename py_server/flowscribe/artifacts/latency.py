"""A flow's latency picture: p50/p95/p99 and ``ra.yaml``'s latency buckets, against its SLA.

One owner for what every view of a flow's latency shows (summary.md, the server's hover,
the Run Timeline's histogram panel): :func:`latency_of` takes the numbers from the
aggregate's :class:`~flowscribe.aggregate.FlowStats` (which already keeps the buckets and
the duration sketch), :func:`bar_lines` draws them as a compact text histogram, and
:func:`notable` says whether the picture tells a reader anything a p95 does not (used by
summary.md, which shows a histogram only then).

Everything here is numbers and our own words: no recorded text goes into a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowscribe.aggregate import bucket_labels
from flowscribe.artifacts._format import fmt_ms

if TYPE_CHECKING:
    from flowscribe.aggregate import FlowStats

__all__ = ["Latency", "bar_lines", "latency_of", "notable", "percentile_line"]

#: Characters of the longest bar; eighth blocks draw the remainder.
BAR_WIDTH = 16
_EIGHTHS = " ▏▎▍▌▋▊▉"
#: Fewest durations for a distribution's shape to mean anything.
MIN_SHAPE_COUNT = 10
#: A mode of a bimodal distribution holds at least this share of the durations...
MODE_SHARE = 0.15
#: ...and the buckets between two modes hold less than this fraction of the smaller one.
VALLEY_RATIO = 0.5


@dataclass(frozen=True)
class Latency:
    """One flow's durations in one run: percentiles (nearest rank, as summary.md's p50
    and p95), the count per bucket of ``ra.yaml``'s ``performance.latency_buckets_ms``
    (``counts[i]`` holds durations ``<= bounds_ms[i]``, the last one those above all),
    and the SLA p95 target when the flow has one."""

    flow_id: str
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    bounds_ms: tuple[float, ...]
    counts: tuple[int, ...]
    sla_p95_ms: float | None = None
    #: True once the percentiles come from the sketch (within 1 %), not every value.
    estimated: bool = False

    @property
    def labels(self) -> list[str]:
        """Human labels of :attr:`counts` (``<= 50 ms``, ``50-200 ms``, ``> 1000 ms``)."""
        return bucket_labels(self.bounds_ms)

    @property
    def over_sla(self) -> bool:
        """True when p95 is above the SLA p95 target."""
        return self.sla_p95_ms is not None and self.p95_ms > self.sla_p95_ms

    @property
    def sla_bucket(self) -> int | None:
        """The bucket the SLA target falls in (None without a target)."""
        if self.sla_p95_ms is None:
            return None
        return next((n for n, b in enumerate(self.bounds_ms) if self.sla_p95_ms <= b),
                    len(self.bounds_ms))

    @property
    def modes(self) -> tuple[int, int] | None:
        """The two buckets of a bimodal distribution, or None: two buckets each holding
        at least :data:`MODE_SHARE` of the durations, with buckets between them that
        together hold less than :data:`VALLEY_RATIO` of the smaller one (a fast path
        and a slow one: a cache, a retry, a timeout)."""
        if self.count < MIN_SHAPE_COUNT:
            return None
        peaks = [n for n, c in enumerate(self.counts) if c >= MODE_SHARE * self.count]
        for a, b in zip(peaks, peaks[1:]):
            between = self.counts[a + 1:b]
            if between and max(between) < VALLEY_RATIO * min(self.counts[a], self.counts[b]):
                return a, b
        return None

    def to_json(self) -> dict[str, Any]:
        """The protocol's ``FlowLatency`` (docs/timeline.md)."""
        return {
            "flowId": self.flow_id, "count": self.count, "p50Ms": self.p50_ms,
            "p95Ms": self.p95_ms, "p99Ms": self.p99_ms, "maxMs": self.max_ms,
            "boundsMs": list(self.bounds_ms), "counts": list(self.counts),
            "labels": self.labels, "slaP95Ms": self.sla_p95_ms, "overSla": self.over_sla,
            "estimated": self.estimated, "bimodal": self.modes is not None,
        }


def latency_of(stats: FlowStats, sla_p95_ms: float | None = None) -> Latency | None:
    """``stats``' latency (None when no instance ended with a duration). ``sla_p95_ms``
    overrides the target the aggregate was given."""
    d = stats.durations
    p50, p95, p99 = d.percentile(0.50), d.percentile(0.95), d.percentile(0.99)
    if p50 is None or p95 is None or p99 is None:
        return None
    return Latency(
        flow_id=stats.flow_id, count=d.count, p50_ms=p50, p95_ms=p95, p99_ms=p99,
        max_ms=d.max, bounds_ms=tuple(stats.bucket_bounds_ms), counts=tuple(stats.buckets),
        sla_p95_ms=sla_p95_ms if sla_p95_ms is not None else stats.sla_p95_ms,
        estimated=not d.exact)


def percentile_line(lat: Latency) -> str:
    """``p50 12 ms · p95 840 ms · p99 1.2 s · SLA p95 1000 ms ✓ · 40 ended``."""
    parts = [f"p50 {fmt_ms(lat.p50_ms)}", f"p95 {fmt_ms(lat.p95_ms)}",
             f"p99 {fmt_ms(lat.p99_ms)}"]
    if lat.sla_p95_ms is not None:
        parts.append(f"SLA p95 {fmt_ms(lat.sla_p95_ms)} " + ("✗ over" if lat.over_sla else "✓"))
    parts.append(f"{lat.count} ended" + (" (estimated within 1 %)" if lat.estimated else ""))
    return " · ".join(parts)


def _bar(count: int, most: int, width: int) -> str:
    if count <= 0 or most <= 0:
        return ""
    eighths = max(1, round(count / most * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def bar_lines(lat: Latency, width: int = BAR_WIDTH) -> list[str]:
    """One line per bucket: label, bar (longest = ``width`` characters), count, and
    where p50/p95/p99 and the SLA target fall::

        <= 50 ms     ████████████████  30  p50
        50-200 ms    ███▎               6  p95 p99
        200-1000 ms  ▌                  1  SLA
        > 1000 ms                       0
    """
    labels = lat.labels
    most = max(lat.counts, default=0)
    label_w = max(len(s) for s in labels)
    count_w = max(len(str(c)) for c in lat.counts)

    def bucket_of(ms: float) -> int:
        return next((n for n, b in enumerate(lat.bounds_ms) if ms <= b), len(lat.bounds_ms))

    notes: dict[int, list[str]] = {}
    for name, ms in (("p50", lat.p50_ms), ("p95", lat.p95_ms), ("p99", lat.p99_ms)):
        notes.setdefault(bucket_of(ms), []).append(name)
    sla = lat.sla_bucket
    if sla is not None:
        notes.setdefault(sla, []).append("SLA")
    lines = []
    for n, (label, c) in enumerate(zip(labels, lat.counts)):
        note = " ".join(notes.get(n, ()))
        line = f"{label:<{label_w}}  {_bar(c, most, width):<{width}}  {c:>{count_w}}"
        lines.append((line + "  " + note) if note else line.rstrip())
    return lines


def notable(lat: Latency) -> str | None:
    """Why ``lat``'s histogram is worth a reader's time, or None: p95 over the SLA
    target, or two modes (a p95 hides both)."""
    if lat.over_sla and lat.sla_p95_ms is not None:
        return f"p95 {fmt_ms(lat.p95_ms)} is over its SLA p95 of {fmt_ms(lat.sla_p95_ms)}"
    modes = lat.modes
    if modes is not None:
        labels = lat.labels
        return f"two modes: {labels[modes[0]]} and {labels[modes[1]]}"
    return None
