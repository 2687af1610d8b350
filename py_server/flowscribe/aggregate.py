"""Streaming aggregates of one run: what summary.md, ask.md and the editor's lenses show.

:class:`RunAggregate` folds events in one at a time and keeps no per-event state, so its
memory does not grow with the length of a run: per flow it holds counters, a bounded
duration sketch (:class:`Quantiles`) and the first and latest failure. What could grow with
a run (failure classes, distinct issues, metric names, open flow instances) is capped, and
what was dropped is counted.

The aggregate knows nothing of files or config: latency buckets and SLA targets are passed
in, so the runtime, the CLI and the language server can all use it.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from ._record import Record
from .sites import location, not_a_file
from .vocabulary import default_error_class

if TYPE_CHECKING:
    from .catalog import Catalog
    from .config import Config

__all__ = [
    "DEFAULT_LATENCY_BUCKETS_MS",
    "MAX_FLOWS",
    "OTHER_FLOWS",
    "FailureInfo",
    "FlowStats",
    "InstanceInfo",
    "Issue",
    "MetricStats",
    "Quantiles",
    "RunAggregate",
    "SlaTargets",
    "aggregate_events",
    "aggregate_for",
    "aggregate_from_dict",
    "aggregate_to_dict",
]

DEFAULT_LATENCY_BUCKETS_MS: tuple[float, ...] = (50.0, 200.0, 1000.0)

# Caps on everything whose size a run could otherwise drive up.
MAX_CLASSES_PER_FLOW = 64
MAX_METRICS_PER_FLOW = 32
MAX_ISSUES = 64
MAX_EXCEPTIONS = 20
MAX_OPEN_INSTANCES = 10_000
MAX_LISTED_INSTANCES = 100
MAX_PIDS = 64
OTHER_CLASS = "(other)"
#: Flow ids with stats of their own; the long tail past them shares :data:`OTHER_FLOWS`
#: (a run that names a flow per order id or URL must not grow by 1.5 KB per id).
MAX_FLOWS = 1000
OTHER_FLOWS = "(other flows)"


class Quantiles:
    """A bounded sketch of a stream of non-negative values (durations in ms).

    The first :attr:`EXACT_LIMIT` values are kept as they are, so small runs get exact
    percentiles. After that the values move into a log-scale histogram whose bucket
    boundaries grow by :attr:`GAMMA`; each bucket reports the value that sits within
    ``(GAMMA - 1) / (GAMMA + 1)`` (about 1 %) of every value in it, so any percentile is
    within 1 % relative error of a value at that rank. Values at or below :attr:`FLOOR`
    share one bucket. At most ``log(max / FLOOR) / log(GAMMA)`` buckets exist (about
    1,400 for 1 µs to 11 days), whatever the number of values.

    Percentiles use the nearest-rank definition: ``p(q)`` is the smallest recorded value
    with at least ``q`` of all values at or below it.
    """

    EXACT_LIMIT = 512
    GAMMA = 1.02
    FLOOR = 1e-3

    __slots__ = ("_buckets", "_exact", "count", "max", "min", "total")

    def __init__(self) -> None:
        self._exact: list[float] | None = []
        self._buckets: dict[int, int] = {}
        self.count = 0
        self.total = 0.0
        self.min = math.inf
        self.max = -math.inf

    def add(self, value: float) -> None:
        """Record one value (negative values count as 0; NaN and inf are ignored)."""
        if not math.isfinite(value):
            return
        if value < 0.0:
            value = 0.0
        self.count += 1
        self.total += value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        if self._exact is not None:
            self._exact.append(value)
            if len(self._exact) > self.EXACT_LIMIT:
                for v in self._exact:
                    self._bucket_add(v)
                self._exact = None
        else:
            self._bucket_add(value)

    def _bucket_add(self, value: float) -> None:
        key = -1 if value <= self.FLOOR else math.ceil(math.log(value / self.FLOOR, self.GAMMA))
        self._buckets[key] = self._buckets.get(key, 0) + 1

    def _bucket_value(self, key: int) -> float:
        if key < 0:
            return 0.0
        upper = self.FLOOR * self.GAMMA**key
        # The point whose relative distance to both bucket ends is the same.
        return 2 * upper / (self.GAMMA + 1)

    @property
    def exact(self) -> bool:
        """True while every value is still kept (percentiles are exact)."""
        return self._exact is not None

    def percentile(self, q: float) -> float | None:
        """The ``q`` quantile (0 < q <= 1) by nearest rank, or None with no values."""
        if self.count == 0:
            return None
        rank = max(1, math.ceil(q * self.count))
        if self._exact is not None:
            return sorted(self._exact)[rank - 1]
        seen = 0
        for key in sorted(self._buckets):
            seen += self._buckets[key]
            if seen >= rank:
                # Never report beyond what was observed.
                return min(max(self._bucket_value(key), self.min), self.max)
        return self.max

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


class FailureInfo(Record):
    """A failure or exception event, reduced to what the artifacts and the editor show."""

    _fields = (
        "event_id", "event_type", "flow_id", "instance", "error_class", "reason", "severity",
        "file", "line", "function", "step", "ts", "thread", "evidence", "correlation",
        "exception_type", "exception_message",
    )
    __slots__ = _fields

    def __init__(
        self,
        event_id: str | None,
        event_type: str,
        flow_id: str | None,
        instance: str | None,
        error_class: str,
        reason: str,
        severity: str | None,
        file: str | None,
        line: int | None,
        function: str | None,
        step: str | None,
        ts: float | None,
        thread: str | None,
        evidence: dict[str, Any],
        correlation: dict[str, Any],
        exception_type: str | None = None,
        exception_message: str | None = None,
    ) -> None:
        self.event_id = event_id
        self.event_type = event_type
        self.flow_id = flow_id
        self.instance = instance
        self.error_class = error_class
        self.reason = reason
        self.severity = severity
        self.file = file
        self.line = line
        self.function = function
        self.step = step
        self.ts = ts
        self.thread = thread
        self.evidence = evidence
        self.correlation = correlation
        self.exception_type = exception_type
        self.exception_message = exception_message

    @property
    def location(self) -> str:
        """``file:line``, or what is known of it."""
        return location(self.file, self.line)

    @property
    def not_a_file(self) -> str | None:
        """What the location was when it is not a file (``typed at the prompt``, …)."""
        return not_a_file(self.file)


class Issue(Record):
    """Failures grouped by (flow, class, file, line): one line of "top issues"."""

    _fields = ("first", "latest", "count")
    __slots__ = _fields

    def __init__(self, first: FailureInfo, latest: FailureInfo, count: int = 1) -> None:
        self.first = first
        self.latest = latest
        self.count = count


class InstanceInfo(Record):
    """A flow instance that never ended with a verdict (unfinished or orphaned)."""

    _fields = ("flow_id", "instance", "file", "line", "ts")
    __slots__ = _fields

    def __init__(
        self,
        flow_id: str,
        instance: str | None,
        file: str | None = None,
        line: int | None = None,
        ts: float | None = None,
    ) -> None:
        self.flow_id = flow_id
        self.instance = instance
        self.file = file
        self.line = line
        self.ts = ts


class MetricStats(Record):
    """Count, total, min and max of one metric within one flow."""

    _fields = ("unit", "count", "total", "min", "max")
    __slots__ = _fields

    def __init__(self, unit: str | None = None, count: int = 0, total: float = 0.0,
                 min: float = math.inf, max: float = -math.inf) -> None:
        self.unit = unit
        self.count = count
        self.total = total
        self.min = min
        self.max = max

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


class FlowStats(Record):
    """Everything one run says about one flow id."""

    _fields = (
        "flow_id", "bucket_bounds_ms", "sla_p95_ms", "parent_flow", "started", "ended",
        "passed", "failed", "unfinished", "orphaned", "failures", "exceptions", "checkpoints",
        "successes", "failures_by_class", "durations", "buckets", "first_failure",
        "last_failure", "last_status", "metrics", "metrics_dropped",
    )
    __slots__ = _fields

    def __init__(
        self,
        flow_id: str,
        bucket_bounds_ms: tuple[float, ...],
        sla_p95_ms: float | None = None,
        parent_flow: str | None = None,
        started: int = 0,
        ended: int = 0,
        passed: int = 0,
        failed: int = 0,
        unfinished: int = 0,
        orphaned: int = 0,
        failures: int = 0,
        exceptions: int = 0,
        checkpoints: int = 0,
        successes: int = 0,
        failures_by_class: dict[str, int] | None = None,
        durations: Quantiles | None = None,
        buckets: list[int] | None = None,
        first_failure: FailureInfo | None = None,
        last_failure: FailureInfo | None = None,
        last_status: str | None = None,
        metrics: dict[str, MetricStats] | None = None,
        metrics_dropped: int = 0,
    ) -> None:
        self.flow_id = flow_id
        self.bucket_bounds_ms = bucket_bounds_ms
        self.sla_p95_ms = sla_p95_ms
        self.parent_flow = parent_flow
        self.started = started
        self.ended = ended
        self.passed = passed
        self.failed = failed
        self.unfinished = unfinished
        self.orphaned = orphaned
        self.failures = failures
        self.exceptions = exceptions
        self.checkpoints = checkpoints
        self.successes = successes
        self.failures_by_class: dict[str, int] = (
            {} if failures_by_class is None else failures_by_class)
        self.durations = Quantiles() if durations is None else durations
        #: One count per latency bucket (``bucket_bounds_ms`` and one above them all).
        self.buckets = buckets or [0] * (len(bucket_bounds_ms) + 1)
        self.first_failure = first_failure
        self.last_failure = last_failure
        self.last_status = last_status
        self.metrics: dict[str, MetricStats] = {} if metrics is None else metrics
        self.metrics_dropped = metrics_dropped

    @property
    def p50_ms(self) -> float | None:
        return self.durations.percentile(0.50)

    @property
    def p95_ms(self) -> float | None:
        return self.durations.percentile(0.95)

    @property
    def sla_ok(self) -> bool | None:
        """True/False against the SLA p95 target; None without a target or durations."""
        p95 = self.p95_ms
        if self.sla_p95_ms is None or p95 is None:
            return None
        return p95 <= self.sla_p95_ms

    @property
    def status(self) -> str:
        """``failed`` if any instance failed, else ``unfinished`` if any ended without a
        verdict or was orphaned, else ``passed`` (or ``unfinished`` when none ended)."""
        if self.failed or self.failures or self.exceptions:
            return "failed"
        if self.unfinished or self.orphaned or not self.passed:
            return "unfinished"
        return "passed"

    def bucket_labels(self) -> list[str]:
        """Human labels for :attr:`buckets`, e.g. ``<= 50 ms``, ``50-200 ms``, ``> 1000 ms``."""
        return bucket_labels(self.bucket_bounds_ms)


def bucket_labels(bounds: Sequence[float]) -> list[str]:
    """Labels for the ``len(bounds) + 1`` latency buckets delimited by ``bounds``."""
    if not bounds:
        return ["all"]
    labels = [f"<= {_num(bounds[0])} ms"]
    labels += [f"{_num(lo)}-{_num(hi)} ms" for lo, hi in zip(bounds, bounds[1:])]
    labels.append(f"> {_num(bounds[-1])} ms")
    return labels


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        f = float(value)
        return f if math.isfinite(f) else None
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _count_marker(value: Any, marker: str, depth: int = 0) -> int:
    """How many times ``marker`` occurs in the strings of ``value`` (JSON data, nested up
    to a small depth)."""
    t = type(value)
    if t is str:
        return value.count(marker)  # type: ignore[no-any-return]
    if t is dict:
        items = value.values()
    elif t is list:
        items = value
    else:
        return 0
    n = 0
    for item in items:
        ti = type(item)
        if ti is str:
            n += item.count(marker)
        elif (ti is dict or ti is list) and depth < 8:
            n += _count_marker(item, marker, depth + 1)
    return n


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


REDACTED_MARKER = "[REDACTED]"

# What the fold reads of each event type: (key, how add() makes a bad value safe, the
# types a good value has). A field of the wrong type reads as None, or as an empty dict
# or list; an event whose fields all have good types is folded as it is. Events of the
# runtime skip this (add_trusted). Unknown event types read only the common fields.
_NONE = type(None)
_GOOD: dict[Callable[[Any], Any], frozenset[type]] = {
    _str: frozenset({str, _NONE}),
    _int: frozenset({int, _NONE}),
    _float: frozenset({int, float, _NONE}),  # a float must be finite too
    _dict: frozenset({dict}),
    _list: frozenset({list}),
}
Field = tuple[str, Callable[[Any], Any], frozenset[type]]


def _fields(*spec: tuple[str, Callable[[Any], Any]]) -> tuple[Field, ...]:
    return tuple((key, safe, _GOOD[safe]) for key, safe in spec)


_COMMON_SPEC = (("ts", _float), ("pid", _int), ("flow_id", _str), ("parent_flow", _str))
_COMMON = _fields(*_COMMON_SPEC)
_FAILURE_FIELDS = (
    *_fields(
        *_COMMON_SPEC, ("id", _str), ("instance", _str), ("error_class", _str),
        ("reason", _str), ("severity", _str), ("file", _str), ("line", _int),
        ("function", _str), ("step", _str), ("thread", _str), ("evidence", _dict),
        ("correlation", _dict),
    ),
    ("exception", _dict, frozenset({dict, _NONE})),  # the fold reads None as {}
)
_FIELDS = {
    "run_start": _fields(*_COMMON_SPEC, ("evidence", _dict), ("tags", _list)),
    "summary": _fields(*_COMMON_SPEC, ("evidence", _dict)),
    "flow_start": _fields(*_COMMON_SPEC, ("instance", _str), ("file", _str), ("line", _int)),
    "flow_end": _fields(
        *_COMMON_SPEC, ("instance", _str), ("status", _str), ("file", _str), ("line", _int),
        ("duration_ms", _float),
    ),
    "metric": _fields(*_COMMON_SPEC, ("step", _str), ("value", _float), ("unit", _str)),
    "failure": _FAILURE_FIELDS,
    "exception": _FAILURE_FIELDS,
}
_ABSENT = object()
_isfinite = math.isfinite
#: Events of the run itself, never of a flow.
_RUN_TYPES = frozenset({"run_start", "summary"})
_FAILURE_TYPES = frozenset({"failure", "exception"})

#: Per-flow SLA p95 targets (ms): a mapping, or a function of the flow id.
SlaTargets = Union[Mapping[str, float], Callable[[str], Optional[float]]]


def _no_sla(flow_id: str) -> float | None:
    return None


class RunAggregate:
    """Streaming aggregates of one run. Feed every event of the run, in order, to :meth:`add`
    (events read from a trace), or in batches to :meth:`add_trusted` (the runtime's own).

    ``latency_buckets_ms`` are the upper bounds of the duration buckets
    (``performance.latency_buckets_ms``); ``sla_p95_ms`` gives each flow id its p95
    target in ms (the catalog's ``sla.p95_ms`` with ``performance.sla_overrides``
    applied), as a mapping or a function returning None for "no target".
    The first event fixes :attr:`run_id` unless one is given; events of other runs are
    ignored and counted in :attr:`foreign_events`. Bad field types are tolerated: a trace
    is untrusted input.
    """

    def __init__(
        self,
        latency_buckets_ms: Sequence[float] = DEFAULT_LATENCY_BUCKETS_MS,
        sla_p95_ms: SlaTargets | None = None,
        run_id: str | None = None,
        *,
        max_flows: int = MAX_FLOWS,
        keep_flows: Iterable[str] = (),
    ) -> None:
        self.bucket_bounds_ms = tuple(sorted(float(b) for b in latency_buckets_ms))
        #: Flow ids that get stats of their own however many others came first (the
        #: catalog's), and how many others do; the rest share :data:`OTHER_FLOWS`.
        self.keep_flows = frozenset(keep_flows)
        self.max_flows = max_flows
        #: Events and distinct-id first sightings folded into :data:`OTHER_FLOWS`.
        self.other_flow_events = 0
        #: The SLA targets as given (to make another aggregate like this one).
        self.sla_p95_ms = sla_p95_ms
        if sla_p95_ms is None:
            self._sla: Callable[[str], float | None] = _no_sla
        elif callable(sla_p95_ms):
            self._sla = sla_p95_ms
        else:
            self._sla = dict(sla_p95_ms).get
        self.run_id = run_id
        # Run header, from the first run_start.
        self.app: str | None = None
        self.mode: str | None = None
        self.tags: list[str] = []
        self.root: str | None = None
        self.git_sha: str | None = None
        self.python: str | None = None
        self.argv: list[str] = []
        self.started: float | None = None
        self.ended: float | None = None  # ts of the summary event: the run ended cleanly
        self.last_ts: float | None = None
        self.pids: set[int] = set()
        # Counts.
        self.events = 0
        self.by_type: dict[str, int] = {}
        self.foreign_events = 0
        self.skipped_lines = 0  # set by whoever read the trace (see trace.ReadStats)
        #: events the runtime could not write to a trace (full disk...), and why; set by
        #: the session before the artifacts are rendered.
        self.not_written = 0
        self.not_written_why = ""
        #: warnings the runtime held back (bounded per kind), by kind: the summary event's.
        self.warnings_not_shown: dict[str, int] = {}
        self.flows: dict[str, FlowStats] = {}
        # Failures.
        self.failures = 0
        self.exception_count = 0
        self.first_failure: FailureInfo | None = None
        self.last_failure: FailureInfo | None = None
        self.issues: dict[tuple[Any, ...], Issue] = {}
        self.issues_dropped = 0
        self.exceptions: list[FailureInfo] = []
        #: Failures and exceptions recorded outside any flow (in the counts above too).
        self.outside_flows = 0
        # Instances without a verdict.
        self.open_instances: dict[str, InstanceInfo] = {}
        self.open_dropped = 0
        self.unfinished: list[InstanceInfo] = []
        self.unfinished_total = 0
        self._summary_orphans: list[InstanceInfo] = []
        self._summary_orphan_count = 0
        self._summary_orphan_total = 0  # the summary event's own count, when it gives one
        self.summary_counts: dict[str, Any] = {}
        self._redacted_seen = 0  # markers seen by add()
        self._redacted_noted = 0  # the runtime's own count (note_redacted)

    # -- feeding ---------------------------------------------------------------------

    def add(self, event: Mapping[str, Any]) -> None:
        """Fold in one event read from a trace. Never raises on odd field types: each
        field the aggregate reads is checked and made safe first, then the event goes
        the way of :meth:`add_trusted`."""
        run_id = _str(event.get("run_id"))
        if self.run_id is None:
            self.run_id = run_id
        elif run_id is not None and run_id != self.run_id:
            self.foreign_events += 1
            return
        get = event.get
        etype = _str(get("event_type")) or "?"
        fields = _FIELDS.get(etype, _COMMON)
        good_types = etype is get("event_type")  # else it was not a string
        if good_types:
            for key, _, good in fields:
                value = get(key, _ABSENT)
                t = type(value)
                if t not in good or (t is float and not _isfinite(value)):
                    good_types = False
                    break
        ev = event
        if not good_types:
            ev = {key: safe(get(key)) for key, safe, _ in fields}
            ev["event_type"] = etype
        if etype != "summary":
            # A trace read back has no redaction count until its summary event: count the
            # markers (the runtime's own feed skips this; see note_redacted).
            evidence = get("evidence")
            if type(evidence) is dict and evidence:
                self._redacted_seen += _count_marker(evidence, REDACTED_MARKER)
            reason = get("reason")
            if reason is not None:
                self._redacted_seen += _count_marker(reason, REDACTED_MARKER)
        self.add_trusted((ev,))

    def add_trusted(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Fold in a batch of events the runtime built itself, in order.

        Each event holds the trace format's keys with their documented types (None, or a
        value of the field's type) and belongs to this aggregate's run (``run_id`` is the
        constructor's). Nothing is checked, which is what keeps the runtime's cost per
        event low, and no redaction markers are counted: the runtime reports its own count
        (:meth:`note_redacted`, the summary event). Whatever was read from a file goes
        through :meth:`add`.
        """
        flows, by_type, pids = self.flows, self.by_type, self.pids
        for ev in events:
            etype = ev["event_type"]
            self.events += 1
            by_type[etype] = by_type.get(etype, 0) + 1
            ts = ev["ts"]
            if ts is not None and (self.last_ts is None or ts > self.last_ts):
                self.last_ts = ts
            pid = ev["pid"]
            if pid not in pids and pid is not None and len(pids) < MAX_PIDS:
                pids.add(pid)
            flow_id = ev["flow_id"]
            if flow_id is None or etype in _RUN_TYPES:
                if etype == "run_start":
                    self._run_start(ev, ts)
                elif etype == "summary":
                    self._summary(ev["evidence"], ts)
                elif etype in _FAILURE_TYPES:  # raised outside any flow (sys.excepthook)
                    self._failure(None, ev, etype, ts)
                continue
            stats = flows.get(flow_id)
            if stats is None:
                stats = self.flow(flow_id)
            if stats.flow_id is OTHER_FLOWS:
                self.other_flow_events += 1
            elif stats.parent_flow is None:
                parent_flow = ev["parent_flow"]
                if parent_flow:
                    stats.parent_flow = parent_flow
            if etype == "checkpoint":
                stats.checkpoints += 1
            elif etype == "flow_start":
                self._flow_start(stats, ev, ts)
            elif etype == "flow_end":
                self._flow_end(stats, ev, ts)
            elif etype == "success":
                stats.successes += 1
            elif etype == "metric":
                self._metric(stats, ev)
            elif etype in _FAILURE_TYPES:
                self._failure(stats, ev, etype, ts)

    def note_redacted(self, count: int) -> None:
        """The runtime's own count of redacted values so far (it feeds
        :meth:`add_trusted`, which counts no markers); :attr:`redacted` reports at least
        this."""
        self._redacted_noted = max(self._redacted_noted, count)

    def flow(self, flow_id: str) -> FlowStats:
        """The stats of ``flow_id``, created empty on first use; past :attr:`max_flows`
        ids (those in :attr:`keep_flows` aside), the shared :data:`OTHER_FLOWS` stats."""
        stats = self.flows.get(flow_id)
        if stats is None:
            flows = self.flows
            if len(flows) >= self.max_flows and flow_id not in self.keep_flows:
                flow_id = OTHER_FLOWS
                stats = flows.get(flow_id)
                if stats is not None:
                    return stats
                sla = None
            else:
                sla = self._sla(flow_id)
            stats = FlowStats(flow_id, self.bucket_bounds_ms, sla_p95_ms=sla)
            flows[flow_id] = stats
        return stats

    @property
    def flows_folded(self) -> bool:
        """True when the run had more flow ids than :attr:`max_flows`: the long tail's
        counts are those of :data:`OTHER_FLOWS`."""
        return OTHER_FLOWS in self.flows

    # The fold's handlers read events through ev[key]: add_trusted's events as the runtime
    # built them, add's as _FIELDS made them safe. What nests inside a field (run header,
    # summary counts, the exception object) is still checked here: those events are rare.

    def _run_start(self, ev: Mapping[str, Any], ts: float | None) -> None:
        if self.started is not None:
            return  # a child process joining the run
        self.started = ts
        evidence = ev["evidence"]
        self.app = _str(evidence.get("app"))
        self.mode = _str(evidence.get("mode"))
        self.root = _str(evidence.get("root"))
        self.git_sha = _str(evidence.get("git_sha"))
        self.python = _str(evidence.get("python"))
        argv = evidence.get("argv")
        self.argv = [str(a) for a in argv[:32]] if isinstance(argv, list) else []
        self.tags = [str(t) for t in ev["tags"][:32]]

    def _summary(self, evidence: Mapping[str, Any], ts: float | None) -> None:
        self.ended = ts if ts is not None else self.last_ts
        self.summary_counts = {k: v for k, v in evidence.items() if _int(v) is not None}
        listed = evidence.get("orphaned")
        if not isinstance(listed, list):
            listed = evidence.get("orphaned_instances")
        if isinstance(listed, list):
            for item in listed:
                self._summary_orphan(item)
        self._summary_orphan_total = _int(evidence.get("orphaned")) or 0
        held = evidence.get("warnings_not_shown")
        if isinstance(held, dict):
            counts = {str(k)[:40]: _int(n) or 0 for k, n in list(held.items())[:20]}
            self.warnings_not_shown = {k: n for k, n in counts.items() if n > 0}

    def _summary_orphan(self, item: Any) -> None:
        if isinstance(item, dict):
            instance = _str(item.get("instance"))
            flow_id = _str(item.get("flow_id"))
        else:
            instance, flow_id = _str(item), None
        known = self.open_instances.pop(instance, None) if instance else None
        if known is not None:
            info = known
        elif flow_id is not None:
            info = InstanceInfo(
                flow_id, instance, _str(_dict(item).get("file")), _int(_dict(item).get("line"))
            )
        else:
            return
        self._summary_orphan_count += 1
        if len(self._summary_orphans) < MAX_LISTED_INSTANCES:
            self._summary_orphans.append(info)
        self.flow(info.flow_id).orphaned += 1

    def _flow_start(self, stats: FlowStats, ev: Mapping[str, Any], ts: float | None) -> None:
        stats.started += 1
        instance = ev["instance"]
        if instance is None:
            return
        if len(self.open_instances) >= MAX_OPEN_INSTANCES:
            self.open_dropped += 1
            return
        self.open_instances[instance] = InstanceInfo(
            stats.flow_id, instance, ev["file"], ev["line"], ts
        )

    def _flow_end(self, stats: FlowStats, ev: Mapping[str, Any], ts: float | None) -> None:
        stats.ended += 1
        instance = ev["instance"]
        opened = self.open_instances.pop(instance, None) if instance else None
        status = ev["status"]
        stats.last_status = status
        if status == "passed":
            stats.passed += 1
        elif status == "failed":
            stats.failed += 1
        else:
            stats.unfinished += 1
            self.unfinished_total += 1
            if len(self.unfinished) < MAX_LISTED_INSTANCES:
                self.unfinished.append(
                    opened or InstanceInfo(stats.flow_id, instance, ev["file"], ev["line"], ts)
                )
        duration = ev["duration_ms"]
        if duration is not None:
            stats.durations.add(duration)
            # The first bucket whose upper bound is >= the duration (the last: above all).
            stats.buckets[bisect_left(self.bucket_bounds_ms, duration)] += 1

    def _metric(self, stats: FlowStats, ev: Mapping[str, Any]) -> None:
        value = ev["value"]
        if value is None:
            return
        name = ev["step"] or "(unnamed)"
        metric = stats.metrics.get(name)
        if metric is None:
            if len(stats.metrics) >= MAX_METRICS_PER_FLOW:
                stats.metrics_dropped += 1
                return
            metric = stats.metrics[name] = MetricStats(unit=ev["unit"])
        metric.add(value)

    def _failure(
        self, stats: FlowStats | None, ev: Mapping[str, Any], etype: str, ts: float | None
    ) -> None:
        """A failure or exception; ``stats`` None for one outside any flow (an exception
        that reached ``sys.excepthook`` or the top of a thread): it counts for the run
        and its issues, but for no flow."""
        exc = ev["exception"]
        exc_type = exc_message = None
        if exc:
            exc_type, exc_message = _str(exc.get("type")), _str(exc.get("message"))
        error_class = ev["error_class"] or default_error_class(etype)
        reason = ev["reason"] or exc_message or ""
        # The event's own id, also when its stats are the long tail's shared ones.
        flow_id = ev["flow_id"] if stats is not None else None
        # Positional, in the record's order: keywords cost three times as much, and
        # this runs for every failure a run records.
        info = FailureInfo(
            ev["id"], etype, flow_id, ev["instance"], error_class, reason, ev["severity"],
            ev["file"], ev["line"], ev["function"], ev["step"], ts, ev["thread"],
            ev["evidence"], ev["correlation"], exc_type, exc_message,
        )
        if etype == "exception":
            self.exception_count += 1
            if len(self.exceptions) < MAX_EXCEPTIONS:
                self.exceptions.append(info)
        else:
            self.failures += 1
        if stats is not None:
            if etype == "exception":
                stats.exceptions += 1
            else:
                stats.failures += 1
            classes = stats.failures_by_class
            key_class = error_class
            if key_class not in classes and len(classes) >= MAX_CLASSES_PER_FLOW:
                key_class = OTHER_CLASS
            classes[key_class] = classes.get(key_class, 0) + 1
            stats.first_failure, stats.last_failure = _first_and_latest(
                info, stats.first_failure, stats.last_failure)
        else:
            self.outside_flows += 1
        self.first_failure, self.last_failure = _first_and_latest(
            info, self.first_failure, self.last_failure)
        key = (flow_id, error_class, info.file, info.line)
        issue = self.issues.get(key)
        if issue is not None:
            issue.count += 1
            issue.first, issue.latest = _first_and_latest(info, issue.first, issue.latest)
        elif len(self.issues) < MAX_ISSUES:
            self.issues[key] = Issue(first=info, latest=info)
        else:
            self.issues_dropped += 1

    # -- reading ---------------------------------------------------------------------

    @property
    def ended_cleanly(self) -> bool:
        """True when the run's summary event was seen."""
        return self.ended is not None

    @property
    def redacted(self) -> int:
        """Values redacted in this run: the runtime's own count (from the summary event,
        or :meth:`note_redacted`), at least the redaction markers :meth:`add` saw."""
        reported = _int(self.summary_counts.get("redacted")) or 0
        return max(reported, self._redacted_noted, self._redacted_seen)

    @property
    def has_failures(self) -> bool:
        """Any failure, exception or failed flow: what ``ask_md: on_failure`` asks for."""
        return bool(
            self.failures or self.exception_count or any(s.failed for s in self.flows.values())
        )

    def orphans(self) -> list[InstanceInfo]:
        """Instances open when the run ended: those the summary event listed, plus any
        still without a ``flow_end`` (all of them, for a run that ended without one).
        Capped at :data:`MAX_LISTED_INSTANCES`; :meth:`orphan_count` has the total."""
        found = list(self._summary_orphans)
        for info in self.open_instances.values():
            if len(found) >= MAX_LISTED_INSTANCES:
                break
            found.append(info)
        return found

    def orphan_count(self) -> int:
        """All orphaned instances, including those past the listing cap."""
        found = self._summary_orphan_count + len(self.open_instances) + self.open_dropped
        return max(found, self._summary_orphan_total)

    def orphans_by_flow(self) -> dict[str, int]:
        """Orphaned instance counts per flow id (summary-listed plus still open)."""
        counts = {fid: s.orphaned for fid, s in self.flows.items() if s.orphaned}
        for info in self.open_instances.values():
            counts[info.flow_id] = counts.get(info.flow_id, 0) + 1
        return counts

    def top_issues(self, limit: int = 10) -> list[Issue]:
        """Distinct issues, most frequent first, then by first occurrence."""
        ranked = sorted(
            self.issues.values(),
            key=lambda i: (-i.count, i.first.ts if i.first.ts is not None else 0.0),
        )
        return ranked[:limit]

    def unknown_flows(self, known: Iterable[str]) -> list[str]:
        """Flow ids seen in this run that ``known`` (the catalog's ids) lacks."""
        known_set = set(known)
        known_set.add(OTHER_FLOWS)
        return sorted(f for f in self.flows if f not in known_set)

    def never_seen(self, known: Iterable[str]) -> list[str]:
        """Ids in ``known`` (e.g. enabled catalog flows) that no event of this run used."""
        return sorted(f for f in set(known) if f not in self.flows)

    @property
    def duration_s(self) -> float | None:
        end = self.ended if self.ended is not None else self.last_ts
        if self.started is None or end is None:
            return None
        return max(0.0, end - self.started)

    def verdicts(self) -> dict[str, int]:
        """Run-wide counts: passed/failed/unfinished flow instances, orphans, failure and
        exception events (the shape of ``RunInfo.verdicts`` in docs/lsp-protocol.md)."""
        flows = self.flows.values()
        return {
            "passed": sum(s.passed for s in flows),
            "failed": sum(s.failed for s in flows),
            "unfinished": sum(s.unfinished for s in flows),
            "orphaned": self.orphan_count(),
            "failures": self.failures,
            "exceptions": self.exception_count,
        }


def _first_and_latest(
    info: FailureInfo, first: FailureInfo | None, latest: FailureInfo | None
) -> tuple[FailureInfo, FailureInfo]:
    """``(first, latest)`` once ``info`` is seen: it is the first if it happened before
    ``first``, and the latest unless it happened before ``latest`` (the first failure seen
    is both).

    Events arrive in the order they were written, which is time order within a process;
    the events of child processes that joined the run are folded in at its end
    (``flowscribe._joined``), so first and latest are decided by time, not arrival (an
    event without a time counts as later).
    """
    ts = info.ts
    if first is None or (ts is not None and first.ts is not None and ts < first.ts):
        first = info
    if latest is None or ts is None or latest.ts is None or ts >= latest.ts:
        latest = info
    return first, latest


def aggregate_events(
    events: Iterable[Mapping[str, Any]],
    run_id: str | None = None,
    tail: int = 0,
    factory: Callable[[str | None], RunAggregate] | None = None,
) -> tuple[RunAggregate, list[dict[str, Any]]]:
    """Aggregate one run out of a stream that may hold several (``.autodev/trace.jsonl``).

    With ``run_id`` None, the run is the last one to appear in the stream: whenever an
    event of a run not seen before arrives, the aggregate starts over. ``factory(run_id)``
    makes each aggregate (default: ``RunAggregate(run_id=run_id)``; pass one to set
    buckets and SLA targets). Returns the aggregate and the run's last ``tail`` events.
    """

    def fresh(rid: str | None) -> RunAggregate:
        return factory(rid) if factory is not None else RunAggregate(run_id=rid)

    agg = fresh(run_id)
    last: deque[dict[str, Any]] = deque(maxlen=max(tail, 0))
    seen: set[str] = set()
    for ev in events:
        rid = _str(ev.get("run_id"))
        if run_id is None and rid is not None and rid not in seen:
            seen.add(rid)
            if agg.run_id is not None:
                agg = fresh(rid)
                last.clear()
        if agg.run_id is not None and rid is not None and rid != agg.run_id:
            continue
        agg.add(ev)
        if tail > 0:
            last.append(dict(ev))
    return agg, list(last)


# -- serialisation (aggregate.json, docs/trace-format.md) --------------------------------
# A saved aggregate is read back by other processes (the language server, MCP) from a
# folder anyone may write to: every value is type-checked on the way in, and anything out
# of shape raises ValueError, so that the reader falls back to folding the trace.

AGGREGATE_VERSION = 1
#: The largest bucket key whose value is a finite float (``GAMMA ** key`` must not overflow).
_MAX_BUCKET_KEY = math.floor(math.log(1.7e308) / math.log(Quantiles.GAMMA)) - 1


def _finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _quantiles_dict(q: Quantiles) -> dict[str, Any]:
    return {
        "count": q.count, "total": q.total, "min": _finite_or_none(q.min),
        "max": _finite_or_none(q.max), "exact": q._exact,
        "buckets": None if q._exact is not None else [[k, n] for k, n in q._buckets.items()],
    }


def _failure_dict(f: FailureInfo | None) -> dict[str, Any] | None:
    return None if f is None else f._asdict()


def _instance_dict(i: InstanceInfo) -> dict[str, Any]:
    return i._asdict()


def _flow_dict(s: FlowStats) -> dict[str, Any]:
    return {
        "flow_id": s.flow_id, "parent_flow": s.parent_flow, "started": s.started,
        "ended": s.ended, "passed": s.passed, "failed": s.failed, "unfinished": s.unfinished,
        "orphaned": s.orphaned, "failures": s.failures, "exceptions": s.exceptions,
        "checkpoints": s.checkpoints, "successes": s.successes,
        "failures_by_class": s.failures_by_class, "durations": _quantiles_dict(s.durations),
        "buckets": s.buckets, "first_failure": _failure_dict(s.first_failure),
        "last_failure": _failure_dict(s.last_failure), "last_status": s.last_status,
        "metrics": {k: {**m._asdict(), "min": _finite_or_none(m.min),
                        "max": _finite_or_none(m.max)} for k, m in s.metrics.items()},
        "metrics_dropped": s.metrics_dropped,
    }


_SCALARS = (
    "run_id", "app", "mode", "root", "git_sha", "python", "started", "ended", "last_ts",
    "events", "foreign_events", "skipped_lines", "not_written", "not_written_why",
    "failures", "exception_count", "issues_dropped", "outside_flows", "open_dropped",
    "unfinished_total", "other_flow_events", "max_flows",
    "_summary_orphan_count", "_summary_orphan_total", "_redacted_seen", "_redacted_noted",
)


def aggregate_to_dict(agg: RunAggregate) -> dict[str, Any]:
    """The whole state of ``agg`` as JSON data (SLA targets aside: a reader brings its own
    catalog), for :func:`aggregate_from_dict` to resume folding from."""
    out: dict[str, Any] = {k: getattr(agg, k) for k in _SCALARS}
    out.update(
        version=AGGREGATE_VERSION,
        bucket_bounds_ms=list(agg.bucket_bounds_ms),
        keep_flows=sorted(agg.keep_flows),
        tags=agg.tags, argv=agg.argv, pids=sorted(agg.pids), by_type=agg.by_type,
        flows=[_flow_dict(s) for s in agg.flows.values()],
        first_failure=_failure_dict(agg.first_failure),
        last_failure=_failure_dict(agg.last_failure),
        issues=[{"key": list(key), "first": _failure_dict(i.first),
                 "latest": _failure_dict(i.latest), "count": i.count}
                for key, i in agg.issues.items()],
        exceptions=[_failure_dict(f) for f in agg.exceptions],
        open_instances=[_instance_dict(i) for i in agg.open_instances.values()],
        unfinished=[_instance_dict(i) for i in agg.unfinished],
        summary_orphans=[_instance_dict(i) for i in agg._summary_orphans],
        summary_counts=agg.summary_counts,
    )
    return out


class _Reader:
    """Checked access to one JSON object of a saved aggregate (ValueError when off)."""

    def __init__(self, data: Any, what: str) -> None:
        if not isinstance(data, dict):
            raise ValueError(f"{what}: not an object")
        self.data, self.what = data, what

    def _get(self, key: str, ok: Callable[[Any], bool], kind: str) -> Any:
        value = self.data.get(key)
        if not ok(value):
            raise ValueError(f"{self.what}.{key}: not {kind}")
        return value

    def count(self, key: str) -> int:
        v: int = self._get(key, lambda v: _int(v) is not None and v >= 0, "a count")
        return v

    def number(self, key: str) -> float | None:
        return self._get(key, lambda v: v is None or _float(v) is not None, "a number")  # type: ignore[no-any-return]

    def string(self, key: str) -> str | None:
        return self._get(key, lambda v: v is None or isinstance(v, str), "a string")  # type: ignore[no-any-return]

    def text(self, key: str) -> str:
        return self._get(key, lambda v: isinstance(v, str), "a string")  # type: ignore[no-any-return]

    def array(self, key: str) -> list[Any]:
        return self._get(key, lambda v: isinstance(v, list), "a list")  # type: ignore[no-any-return]

    def obj(self, key: str) -> dict[str, Any]:
        return self._get(key, lambda v: isinstance(v, dict), "an object")  # type: ignore[no-any-return]

    def integer(self, key: str) -> int | None:
        return self._get(key, lambda v: v is None or _int(v) is not None, "an integer")  # type: ignore[no-any-return]


def _counts(data: Any, what: str) -> dict[str, int]:
    r = _Reader(data, what)
    return {k: r.count(k) for k in r.data}


def _failure_from(data: Any, what: str) -> FailureInfo | None:
    if data is None:
        return None
    r = _Reader(data, what)
    return FailureInfo(
        event_id=r.string("event_id"), event_type=r.text("event_type"), flow_id=r.string("flow_id"),
        instance=r.string("instance"), error_class=r.text("error_class"), reason=r.text("reason"),
        severity=r.string("severity"), file=r.string("file"), line=r.integer("line"),
        function=r.string("function"), step=r.string("step"), ts=r.number("ts"),
        thread=r.string("thread"), evidence=r.obj("evidence"), correlation=r.obj("correlation"),
        exception_type=r.string("exception_type"), exception_message=r.string("exception_message"),
    )


def _instance_from(data: Any, what: str) -> InstanceInfo:
    r = _Reader(data, what)
    return InstanceInfo(r.text("flow_id"), r.string("instance"), r.string("file"),
                        r.integer("line"), r.number("ts"))


def _quantiles_from(data: Any, what: str) -> Quantiles:
    r = _Reader(data, what)
    q = Quantiles()
    q.count, q.total = r.count("count"), float(r.number("total") or 0.0)
    lo, hi = r.number("min"), r.number("max")
    q.min = math.inf if lo is None else float(lo)
    q.max = -math.inf if hi is None else float(hi)
    exact = r.data.get("exact")
    if exact is not None:
        if not isinstance(exact, list) or len(exact) > Quantiles.EXACT_LIMIT or not all(
                _float(v) is not None for v in exact):
            raise ValueError(f"{what}.exact: not a list of numbers")
        q._exact = [float(v) for v in exact]
    else:
        q._exact = None
        for pair in r.array("buckets"):
            # A key past any finite duration's would overflow the bucket's value.
            if not (isinstance(pair, list) and len(pair) == 2 and _int(pair[0]) is not None
                    and -1 <= pair[0] <= _MAX_BUCKET_KEY
                    and _int(pair[1]) is not None and pair[1] >= 0):
                raise ValueError(f"{what}.buckets: not [key, count] pairs")
            q._buckets[pair[0]] = pair[1]
    if (len(q._exact) if q._exact is not None else sum(q._buckets.values())) != q.count:
        raise ValueError(f"{what}: count does not match its values")
    return q


def _flow_from(data: Any, agg: RunAggregate, what: str) -> FlowStats:
    r = _Reader(data, what)
    flow_id = r.text("flow_id")
    sla = None if flow_id == OTHER_FLOWS else agg._sla(flow_id)
    s = FlowStats(flow_id, agg.bucket_bounds_ms, sla_p95_ms=sla,
                  parent_flow=r.string("parent_flow"))
    for key in ("started", "ended", "passed", "failed", "unfinished", "orphaned", "failures",
                "exceptions", "checkpoints", "successes", "metrics_dropped"):
        setattr(s, key, r.count(key))
    s.failures_by_class = _counts(r.obj("failures_by_class"), f"{what}.failures_by_class")
    s.durations = _quantiles_from(r.obj("durations"), f"{what}.durations")
    buckets = r.array("buckets")
    if len(buckets) != len(agg.bucket_bounds_ms) + 1 or not all(
            _int(b) is not None and b >= 0 for b in buckets):
        raise ValueError(f"{what}.buckets: not one count per latency bucket")
    s.buckets = list(buckets)
    s.first_failure = _failure_from(r.data.get("first_failure"), f"{what}.first_failure")
    s.last_failure = _failure_from(r.data.get("last_failure"), f"{what}.last_failure")
    s.last_status = r.string("last_status")
    for name, m in r.obj("metrics").items():
        mr = _Reader(m, f"{what}.metrics")
        lo, hi = mr.number("min"), mr.number("max")
        s.metrics[name] = MetricStats(
            unit=mr.string("unit"), count=mr.count("count"), total=float(mr.number("total") or 0.0),
            min=math.inf if lo is None else float(lo), max=-math.inf if hi is None else float(hi))
    return s


def aggregate_from_dict(data: Any, sla_p95_ms: SlaTargets | None = None) -> RunAggregate:
    """A :class:`RunAggregate` from :func:`aggregate_to_dict`'s data, to go on folding
    the events written after it. Raises ValueError on anything out of shape (the data was
    read from a file: untrusted)."""
    r = _Reader(data, "aggregate")
    if data.get("version") != AGGREGATE_VERSION:
        raise ValueError("aggregate: unknown version")
    bounds = r.array("bucket_bounds_ms")
    if len(bounds) > 64 or not all(_float(b) is not None for b in bounds):
        raise ValueError("aggregate.bucket_bounds_ms: not a list of numbers")
    keep = r.array("keep_flows")
    if not all(isinstance(k, str) for k in keep):
        raise ValueError("aggregate.keep_flows: not a list of flow ids")
    agg = RunAggregate(bounds, sla_p95_ms, run_id=r.string("run_id"),
                       max_flows=r.count("max_flows"), keep_flows=keep)
    for key in ("app", "mode", "root", "git_sha", "python", "not_written_why"):
        setattr(agg, key, r.string(key))
    agg.not_written_why = agg.not_written_why or ""
    for key in ("started", "ended", "last_ts"):
        setattr(agg, key, r.number(key))
    for key in ("events", "foreign_events", "skipped_lines", "not_written", "failures",
                "exception_count", "issues_dropped", "outside_flows", "open_dropped",
                "unfinished_total", "other_flow_events", "_summary_orphan_count",
                "_summary_orphan_total", "_redacted_seen", "_redacted_noted"):
        setattr(agg, key, r.count(key))
    for key in ("tags", "argv"):
        items = r.array(key)
        if not all(isinstance(v, str) for v in items):
            raise ValueError(f"aggregate.{key}: not a list of strings")
        setattr(agg, key, items)
    pids = r.array("pids")
    if len(pids) > MAX_PIDS or not all(_int(p) is not None for p in pids):
        raise ValueError("aggregate.pids: not a list of pids")
    agg.pids = set(pids)
    agg.by_type = _counts(r.obj("by_type"), "aggregate.by_type")
    for i, flow in enumerate(r.array("flows")):
        s = _flow_from(flow, agg, f"aggregate.flows[{i}]")
        agg.flows[s.flow_id] = s
    agg.first_failure = _failure_from(data.get("first_failure"), "aggregate.first_failure")
    agg.last_failure = _failure_from(data.get("last_failure"), "aggregate.last_failure")
    for i, item in enumerate(r.array("issues")):
        ir = _Reader(item, f"aggregate.issues[{i}]")
        first = _failure_from(ir.obj("first"), f"aggregate.issues[{i}].first")
        latest = _failure_from(ir.obj("latest"), f"aggregate.issues[{i}].latest")
        ikey = ir.array("key")
        if len(ikey) != 4 or not all(v is None or isinstance(v, (str, int)) for v in ikey):
            raise ValueError(f"aggregate.issues[{i}].key: not an issue key")
        assert first is not None and latest is not None
        agg.issues[tuple(ikey)] = Issue(first=first, latest=latest, count=ir.count("count"))
    agg.exceptions = [f for i, e in enumerate(r.array("exceptions"))
                      if (f := _failure_from(e, f"aggregate.exceptions[{i}]")) is not None]
    for i, item in enumerate(r.array("open_instances")):
        info = _instance_from(item, f"aggregate.open_instances[{i}]")
        if info.instance is None:
            raise ValueError(f"aggregate.open_instances[{i}]: no instance")
        agg.open_instances[info.instance] = info
    agg.unfinished = [_instance_from(v, "aggregate.unfinished") for v in r.array("unfinished")]
    agg._summary_orphans = [_instance_from(v, "aggregate.summary_orphans")
                            for v in r.array("summary_orphans")]
    agg.summary_counts = r.obj("summary_counts")
    return agg


def aggregate_for(config: Config | None, catalog: Catalog | None, run_id: str | None = None
                  ) -> RunAggregate:
    """An empty aggregate with the config's latency buckets and each flow's SLA p95
    target: ``performance.sla_overrides`` first, then the catalog's ``sla.p95_ms``. (Here,
    not with the artifacts: a session starting builds one, and must not import those.)"""
    from .catalog import sla_target

    buckets = (config.performance.latency_buckets_ms if config is not None
               else DEFAULT_LATENCY_BUCKETS_MS)

    def sla(flow_id: str) -> float | None:
        return sla_target(flow_id, catalog, config)

    # Catalog flows keep stats of their own however many other flow ids a run has.
    keep = catalog.flows if catalog is not None else ()
    return RunAggregate(buckets, sla, run_id=run_id, keep_flows=keep)
