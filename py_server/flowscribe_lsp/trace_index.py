"""The latest run of one artifacts folder, read incrementally: what diagnostics and lenses show.

Reading is split in two so that a large trace shows its failures fast:

1. *findings*: only ``failure``/``exception`` lines (plus ``run_start``/``summary``) are
   parsed — the reader's substring pre-filter skips every other line unparsed — and
   folded by site (file, line, flow, class) into :class:`Finding`. This is what the
   diagnostics need, and it is done first.
2. *outcomes*: the flow and failure events are fed, in order and in bounded slices, to the
   runtime's
   :class:`~flowscribe.aggregate.RunAggregate`, which gives the lenses and hovers their
   counts, p95 and last failure, and the sidebar its verdicts.

Each part has its own :class:`~flowscribe.trace.TraceFollower`, so each resumes at its own
offset when the run grows, and a replaced, truncated, rotated or deleted trace starts both
over. Nothing here stores events: sites, flows, and a bounded window of event locations.

A :class:`TraceIndex` is used by one thread at a time (the server's index worker); what
it hands out (:class:`RunSnapshot`) is immutable and safe to read anywhere.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowscribe.aggregate import FlowStats, RunAggregate
from flowscribe.artifacts import default_scrubber
from flowscribe.artifacts.aggregate_file import load_aggregate
from flowscribe.runs import RunLayout
from flowscribe.trace import (
    ReadStats,
    TraceFollower,
    field_marker,
    instance_span,
    instance_start,
    iter_events,
)
from flowscribe.vocabulary import default_error_class, severity_rank

__all__ = [
    "Finding",
    "FlowOutcome",
    "Loc",
    "RunSnapshot",
    "TraceIndex",
]

FINDING_TYPES = ("run_start", "failure", "exception", "summary")
#: What the outcome pass parses: everything the counts, durations, verdicts, open
#: instances and failures come from. Checkpoints, successes and metrics (half of a typical
#: trace) change nothing the editor shows, so they stay unparsed.
OUTCOME_TYPES = ("run_start", "flow_start", "flow_end", "failure", "exception", "summary")
#: Bytes per poll of the outcome pass: bounds the events held at once (RSS).
OUTCOME_READ = 2 << 20
#: Distinct failure sites kept per run; beyond it failures are counted, not shown.
MAX_SITES = 5000
#: Failure/exception event locations remembered to resolve ``caused_by``.
MAX_FAILURE_LOCS = 100_000
MAX_FRAMES = 12
#: Cause ids looked up in the part of a trace a saved aggregate covers: one needle each
#: in a single pass, so they are bounded.
MAX_LOOKUPS = 64


@dataclass(frozen=True)
class Loc:
    """Where an event happened, as the trace says (``file`` as recorded, 1-based line)."""

    file: str
    line: int
    label: str = ""


@dataclass(frozen=True)
class Finding:
    """Every failure or exception of a run at one site, folded.

    ``count`` is how many occurrences; the fields describing one event (ids, reason,
    evidence) are those of the latest occurrence.
    """

    key: tuple[Any, ...]
    event_type: str
    flow_id: str
    error_class: str
    severity: str
    file: str
    line: int
    count: int
    run_id: str
    event_id: str
    instance: str | None
    reason: str
    evidence: str
    function: str | None
    step: str | None
    exception_type: str | None
    caused_by: str | None
    frames: tuple[Loc, ...] = ()
    flow_start: Loc | None = None
    cause: Loc | None = None
    #: The previous run (``run 07:12:03``) when this failure did not happen there (same
    #: flow, class and kind, wherever the line moved); None when it did, or no previous run.
    new_since: str | None = None


@dataclass(frozen=True)
class LastFailure:
    """The most recent failure of a flow, for lenses, hovers and the sidebar."""

    error_class: str
    reason: str
    file: str | None
    line: int | None
    event_id: str | None
    event_type: str
    #: The exception's type (``TimeoutError``) when an exception failed the flow.
    exception_type: str | None = None


@dataclass(frozen=True)
class FlowOutcome:
    """One flow's results in the latest run, counted as summary.md counts them (the
    runtime's aggregate): ``unfinished`` ended with no verdict, ``orphaned`` were still
    open when the run ended (0 while it runs)."""

    flow_id: str
    status: str
    passed: int
    failed: int
    unfinished: int
    orphaned: int
    started: int
    p95_ms: float | None
    last_failure: LastFailure | None
    parent_flow: str | None


@dataclass(frozen=True)
class RunSnapshot:
    """What is known about the latest run of one artifacts folder, frozen in time."""

    run_id: str | None = None
    trace: Path | None = None
    findings: tuple[Finding, ...] = ()
    #: None until the outcome pass has caught up with the findings pass.
    outcomes: Mapping[str, FlowOutcome] | None = None
    app: str | None = None
    mode: str | None = None
    root: str | None = None
    started: float | None = None
    ended: float | None = None
    verdicts: Mapping[str, int] = field(default_factory=dict)
    failures: int = 0
    exceptions: int = 0
    sites_dropped: int = 0
    #: Lines skipped by either reader, by reason (``malformed``, ``truncated`` ...).
    skipped: Mapping[str, int] = field(default_factory=dict)
    generation: int = 0


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _float(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def site_key(ev: Mapping[str, Any]) -> tuple[Any, ...]:
    """How failures fold: same file, line, flow, class and kind."""
    etype = ev.get("event_type")
    return (
        _str(ev.get("file")),
        _int(ev.get("line")),
        _str(ev.get("flow_id")),
        _error_class(ev, etype),
        etype,
    )


def _error_class(ev: Mapping[str, Any], etype: Any) -> str:
    cls = _str(ev.get("error_class"))
    if cls:
        return cls
    return default_error_class(etype)


def compact(data: Any, limit: int = 160) -> str:
    """``k=v, k2=v2``: a one-line rendering of a small evidence/correlation object."""
    if not isinstance(data, dict) or not data:
        return ""
    parts = []
    for k, v in data.items():
        try:
            val = v if isinstance(v, str) else json.dumps(v, separators=(",", ":"),
                                                          ensure_ascii=False, default=str)
        except (TypeError, ValueError, RecursionError):
            val = "?"
        if len(val) > 40:
            val = val[:39] + "…"
        parts.append(f"{k}={val}")
    text = ", ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: A second redaction pass (the default keys) over the text findings quote: a trace written
#: by an older version, another tool or a hand may hold secrets the runtime would have
#: hidden, and Problems, hovers and lenses must not show them (issue 16 §5).
_SCRUB = default_scrubber()


def _clean(text: Any, limit: int = 300) -> str:
    """A short single line, secret shapes scrubbed: trace text is untrusted and may hold
    anything."""
    s = _SCRUB.text(text) if isinstance(text, str) else ""
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


class _Site:
    """A failure site being folded (worker-side, mutable)."""

    __slots__ = ("count", "key", "last", "severity")

    def __init__(self, key: tuple[Any, ...]) -> None:
        self.key = key
        self.count = 0
        self.severity = "debug"
        self.last: Mapping[str, Any] = {}

    def add(self, ev: Mapping[str, Any]) -> None:
        self.count += 1
        sev = _str(ev.get("severity")) or (
            "error" if ev.get("event_type") == "exception" else "warn")
        if severity_rank(sev) >= severity_rank(self.severity):
            self.severity = sev
        self.last = ev


class _Run:
    """Which run a stream of events belongs to: a fixed id (from ``latest``), or the last
    run to appear (a flat trace.jsonl holding several)."""

    def __init__(self, fixed: str | None) -> None:
        self.fixed = fixed
        self.current = fixed
        self.seen: set[str] = set()

    def accept(self, ev: Mapping[str, Any]) -> str:
        """``keep``, ``skip`` (another run) or ``new`` (a newer run starts: reset)."""
        rid = _str(ev.get("run_id"))
        if rid is None:
            return "keep" if self.current is not None else "skip"
        if self.fixed is not None:
            return "keep" if rid == self.fixed else "skip"
        if rid == self.current:
            return "keep"
        if rid in self.seen:
            return "skip"
        self.seen.add(rid)
        self.current = rid
        return "new"


class _Findings:
    """Pass 1: failure sites of the current run, plus what resolves ``caused_by``."""

    def __init__(self, fixed_run: str | None) -> None:
        self.run = _Run(fixed_run)
        self._reset()

    def _reset(self) -> None:
        self.sites: dict[tuple[Any, ...], _Site] = {}
        self.dropped = 0
        self.failures = 0
        self.exceptions = 0
        self.header: Mapping[str, Any] = {}
        self.started: float | None = None
        self.ended: float | None = None
        self.locs: OrderedDict[str, Loc] = OrderedDict()
        #: flow instance -> where its latest failure's line starts in the trace: what
        #: finds the rest of its events without reading the whole file.
        self.near: OrderedDict[str, int] = OrderedDict()

    def add(self, ev: Mapping[str, Any], offset: int | None = None) -> None:
        verdict = self.run.accept(ev)
        if verdict == "skip":
            return
        if verdict == "new":
            self._reset()
        inst = ev.get("instance")
        if offset is not None and isinstance(inst, str) and ev.get("event_type") in (
                "failure", "exception"):
            self.near[inst] = offset
            self.near.move_to_end(inst)
            if len(self.near) > MAX_FAILURE_LOCS:
                self.near.popitem(last=False)
        etype = ev.get("event_type")
        if etype == "run_start":
            if self.started is None:
                self.started = _float(ev.get("ts"))
                ev_data = ev.get("evidence")
                self.header = ev_data if isinstance(ev_data, dict) else {}
            return
        if etype == "summary":
            self.ended = _float(ev.get("ts"))
            return
        if etype == "exception":
            self.exceptions += 1
        else:
            self.failures += 1
        eid, file, line = _str(ev.get("id")), _str(ev.get("file")), _int(ev.get("line"))
        if eid and file and line:
            self.locs[eid] = Loc(file, line, f"{etype} {_error_class(ev, etype)}")
            if len(self.locs) > MAX_FAILURE_LOCS:
                self.locs.popitem(last=False)
        if not (_str(ev.get("flow_id")) and file and line and line > 0):
            return  # nothing to place in an editor
        key = site_key(ev)
        site = self.sites.get(key)
        if site is None:
            if len(self.sites) >= MAX_SITES:
                self.dropped += 1
                return
            site = self.sites[key] = _Site(key)
        site.add(ev)


class _Outcomes:
    """Pass 2: flow events into a RunAggregate, plus where flows started and where the
    ``caused_by`` events that pass 1 did not see (not failures) happened."""

    def __init__(self, fixed_run: str | None) -> None:
        self.run = _Run(fixed_run)
        self._reset(fixed_run)

    def _reset(self, run_id: str | None) -> None:
        self.agg = RunAggregate(run_id=run_id)
        self.starts: dict[tuple[Any, ...], Loc] = {}
        self.wanted: dict[str, Loc | None] = {}

    def add(self, ev: Mapping[str, Any]) -> None:
        verdict = self.run.accept(ev)
        if verdict == "skip":
            return
        if verdict == "new":
            self._reset(self.run.current)
        etype = ev.get("event_type")
        eid = ev.get("id")
        if eid in self.wanted:
            file, line = _str(ev.get("file")), _int(ev.get("line"))
            if file and line:
                self.wanted[eid] = Loc(file, line, str(etype))
        if etype in ("failure", "exception"):
            inst = _str(ev.get("instance"))
            opened = self.agg.open_instances.get(inst) if inst else None
            if opened is not None and opened.file and opened.line:
                key = site_key(ev)
                if key in self.starts or len(self.starts) < MAX_SITES:
                    self.starts[key] = Loc(opened.file, opened.line,
                                           f"flow {opened.flow_id} starts")
        self.agg.add(ev)


class _Source:
    """One trace file with its two followers; the outcome one starts at ``folded`` (the
    bytes a saved aggregate covers)."""

    def __init__(self, path: Path, static: bool, folded: int = 0) -> None:
        self.path = path
        self.static = static  # a rotated file: read once
        self.findings = TraceFollower(path, types=FINDING_TYPES)
        self.outcomes = TraceFollower(path, types=OUTCOME_TYPES, max_read=OUTCOME_READ,
                                      audit=True, start=folded)


class TraceIndex:
    """The latest run of one ``.autodev`` folder (see the module docstring)."""

    def __init__(self, autodev_dir: Path) -> None:
        self.layout = RunLayout(autodev_dir)
        self.autodev_dir = Path(autodev_dir)
        self.generation = 0
        self._restart()

    # -- where the latest run is ---------------------------------------------------------
    def _locate(self) -> tuple[str | None, list[tuple[Path, bool]]]:
        run_id = self.layout.latest_run_id()
        run_dir = self.layout.latest_run_dir()
        if run_dir is not None and (run_dir / "trace.jsonl").exists():
            return run_id, [(run_dir / "trace.jsonl", False)]
        # No per-run trace: the flat stream, the rotated part first.
        flat = self.layout.trace_path
        rotated = flat.with_name(flat.name + ".1")
        sources = [(rotated, True)] if rotated.exists() else []
        return run_id if run_dir is not None else None, [*sources, (flat, False)]

    def _restart(self) -> None:
        self.generation += 1
        self._pointer = self.layout.latest_run_id()
        self._fixed, where = self._locate()
        self._findings = _Findings(self._fixed)
        self._outcomes = _Outcomes(self._fixed)
        self._outcomes_ready = False  # pass 2 has caught up once with this run
        self._outcomes_pending = True
        #: Bytes of the trace a saved aggregate covers (pass 2 folds only what follows);
        #: the flow starts and causes of the failures in them are still to be looked up.
        self._saved = 0
        saved = None
        if self._fixed is not None and len(where) == 1 and not where[0][1]:
            saved = load_aggregate(where[0][0].parent)
        if saved is not None:
            self._outcomes.agg, self._saved = saved
            self._outcomes_ready = True
        self._sources = [_Source(p, static, self._saved) for p, static in where]
        self._previous: tuple[str, frozenset[tuple[str, str, str]]] | None = None
        self._previous_read = False

    def _previous_failures(self) -> tuple[str, frozenset[tuple[str, str, str]]] | None:
        """The run before the latest one, and the (flow, class, kind) of its failures:
        what "new since the previous run" is told against. Read once per latest run, and
        only its failure lines (the reader's prefilter skips the rest unparsed)."""
        if self._previous_read:
            return self._previous
        self._previous_read = True
        dirs = self.layout.run_dirs()
        names = [d.name for d in dirs]
        if self._fixed not in names or names.index(self._fixed) + 1 >= len(dirs):
            return None
        before = dirs[names.index(self._fixed) + 1]
        seen = set()
        label = before.name
        for ev in iter_events(before / "trace.jsonl",
                              types=("run_start", "failure", "exception")):
            if ev.get("event_type") == "run_start":
                ts = _float(ev.get("ts"))
                if ts is not None and label == before.name:
                    label = f"run {time.strftime('%H:%M:%S', time.localtime(ts))}"
                continue
            seen.add((str(ev.get("flow_id")), str(_error_class(ev, ev.get("event_type"))),
                      str(ev.get("event_type"))))
        self._previous = (label, frozenset(seen))
        return self._previous

    @property
    def trace_path(self) -> Path:
        return self._sources[-1].path

    def _moved(self) -> bool:
        """True if ``latest`` now points elsewhere, a per-run trace appeared, or the flat
        trace was rotated before we saw it (its first part is now in ``.1``)."""
        pointer = self.layout.latest_run_id()
        if pointer != self._pointer:
            return True
        last = self._sources[-1].path
        if last == self.layout.trace_path and len(self._sources) == 1:
            return last.with_name(last.name + ".1").exists()
        if self._fixed is None or last.parent.name == self._fixed:
            return False
        # latest pointed at a run dir without a trace; has its trace appeared?
        run_dir = self.layout.latest_run_dir()
        return run_dir is not None and (run_dir / "trace.jsonl").exists()

    # -- reading (worker thread) --------------------------------------------------------
    def read_findings(self) -> bool:
        """Pass 1 to the end of the trace. True if anything changed (or started over)."""
        changed = False
        if self._moved():
            self._restart()
            changed = True
        for src in self._sources:
            while True:
                res = src.findings.poll()
                if res.reset:
                    self._restart()
                    return self.read_findings() or True
                # Offsets only mean something in a run's own trace (one file, one run).
                if self._fixed is not None and len(self._sources) == 1:
                    for ev, offset in zip(res.events, res.offsets):
                        self._findings.add(ev, offset)
                else:
                    for ev in res.events:
                        self._findings.add(ev)
                changed = changed or bool(res.events)
                if not res.more:
                    break
        if changed:
            self._outcomes_pending = True
        return changed

    def read_outcomes(self, budget_s: float = 0.25) -> bool:
        """Pass 2 for at most ``budget_s`` seconds. True if anything changed."""
        deadline = time.monotonic() + budget_s
        changed = False
        self._outcomes.wanted.update(
            (s.last["caused_by"], None)
            for s in self._findings.sites.values()
            if isinstance(s.last.get("caused_by"), str)
            and s.last["caused_by"] not in self._findings.locs
            and s.last["caused_by"] not in self._outcomes.wanted
        )
        if self._saved:
            self._locate_in_saved()
        for src in self._sources:
            while True:
                res = src.outcomes.poll()
                if res.reset:
                    self._restart()
                    return True
                for ev in res.events:
                    self._outcomes.add(ev)
                changed = changed or bool(res.events)
                if not res.more:
                    break
                if time.monotonic() > deadline:
                    return changed
        self._outcomes_pending = False
        if not self._outcomes_ready:
            self._outcomes_ready = True
            changed = True
        return changed

    def _locate_in_saved(self) -> None:
        """Where the failures' flows started and their causes happened, for the part of
        the trace a saved aggregate covers (pass 2 did not read it): each flow start is
        looked for just before its failure's line, the few cause ids in one pass."""
        saved, self._saved = self._saved, 0
        o, f = self._outcomes, self._findings
        path = self._sources[-1].path
        for key, site in list(f.sites.items())[:MAX_SITES]:
            inst = site.last.get("instance")
            near = f.near.get(inst) if isinstance(inst, str) else None
            if key in o.starts or near is None or near >= saved:
                continue
            found = instance_start(path, str(inst), near)
            if found is None:
                continue
            ev = found[1]
            file, line = _str(ev.get("file")), _int(ev.get("line"))
            if file and line:
                o.starts[key] = Loc(file, line, f"flow {ev.get('flow_id')} starts")
        wanted = [eid for eid, loc in o.wanted.items() if loc is None][:MAX_LOOKUPS]
        if not wanted:
            return
        needles = [field_marker("id", e) for e in wanted]
        for ev in iter_events(path, contains=needles, limit=saved):
            eid, file, line = ev.get("id"), _str(ev.get("file")), _int(ev.get("line"))
            if isinstance(eid, str) and eid in o.wanted and o.wanted[eid] is None \
                    and file and line:
                o.wanted[eid] = Loc(file, line, str(ev.get("event_type")))

    def instance_span(self, instance: str) -> tuple[int, int | None] | None:
        """The bytes of the latest run's trace holding every event of ``instance`` (see
        :func:`flowscribe.trace.instance_span`), for an instance that failed; None when
        not known (read the whole trace)."""
        near = self._findings.near.get(instance)
        if near is None or self._fixed is None or len(self._sources) != 1:
            return None
        return instance_span(self.trace_path, instance, near)

    @property
    def outcome_backlog(self) -> int:
        """Bytes the outcome pass has yet to read (as of the last stat); with a saved
        aggregate, the bytes it covers count until the failures were located in them."""
        backlog = self._saved
        for src in self._sources:
            try:
                backlog += max(src.path.stat().st_size - src.outcomes.offset, 0)
            except OSError:
                continue
        return backlog

    @property
    def outcomes_pending(self) -> bool:
        """True while pass 2 has not caught up with pass 1."""
        return self._outcomes_pending

    # -- what the server shows ----------------------------------------------------------
    def snapshot(self) -> RunSnapshot:
        """Freeze the current state (cheap: proportional to sites and flows, not events)."""
        f, o = self._findings, self._outcomes
        outcomes = None
        same_run = o.agg.run_id == f.run.current or f.run.current is None
        if self._outcomes_ready and same_run:
            # Instances still open are orphans only once the run has ended; until then
            # they are running.
            orphans = o.agg.orphans_by_flow() if o.agg.ended_cleanly else {}
            outcomes = {fid: _outcome(st, orphans.get(fid, 0))
                        for fid, st in o.agg.flows.items()}
        previous = self._previous_failures()
        findings = tuple(self._finding(site, previous) for site in f.sites.values())
        skipped: dict[str, int] = {}
        for src in self._sources:
            for stats in (src.findings.stats, src.outcomes.stats):
                _merge(skipped, stats)
        header = f.header
        return RunSnapshot(
            run_id=f.run.current or o.agg.run_id,
            trace=self.trace_path if self.trace_path.exists() else None,
            findings=findings,
            outcomes=outcomes,
            app=_str(header.get("app")),
            mode=_str(header.get("mode")),
            root=_str(header.get("root")),
            started=f.started,
            ended=f.ended,
            verdicts=o.agg.verdicts() if outcomes is not None else {},
            failures=f.failures,
            exceptions=f.exceptions,
            sites_dropped=f.dropped,
            skipped=skipped,
            generation=self.generation,
        )

    def _finding(self, site: _Site,
                 previous: tuple[str, frozenset[tuple[str, str, str]]] | None) -> Finding:
        ev = site.last
        etype = str(ev.get("event_type"))
        exc = ev.get("exception") if isinstance(ev.get("exception"), dict) else {}
        assert isinstance(exc, dict)
        reason = _clean(ev.get("reason"))
        exc_type = _str(exc.get("type"))
        if etype == "exception" and not reason:
            reason = _clean(exc.get("message"))
        caused_by = _str(ev.get("caused_by"))
        cause = None
        if caused_by:
            cause = self._findings.locs.get(caused_by) or self._outcomes.wanted.get(caused_by)
        evidence = compact(_SCRUB.data(ev.get("evidence")))
        corr = compact(_SCRUB.data(ev.get("correlation")), 80)
        if corr:
            evidence = f"{evidence} · {corr}" if evidence else corr
        return Finding(
            key=site.key,
            event_type=etype,
            flow_id=str(site.key[2]),
            error_class=str(site.key[3]),
            severity=site.severity,
            file=str(site.key[0]),
            line=int(site.key[1]),
            count=site.count,
            run_id=_str(ev.get("run_id")) or "",
            event_id=_str(ev.get("id")) or "",
            instance=_str(ev.get("instance")),
            reason=reason,
            evidence=evidence,
            function=_str(ev.get("function")),
            step=_str(ev.get("step")),
            exception_type=exc_type,
            caused_by=caused_by,
            frames=_frames(exc.get("frames")),
            flow_start=self._outcomes.starts.get(site.key),
            cause=cause,
            new_since=(previous[0] if previous is not None and (
                str(site.key[2]), str(site.key[3]), etype) not in previous[1] else None),
        )


def _frames(raw: Any) -> tuple[Loc, ...]:
    if not isinstance(raw, list):
        return ()
    out = []
    for fr in raw[-MAX_FRAMES * 4:]:
        if isinstance(fr, dict):
            file, line = _str(fr.get("file")), _int(fr.get("line"))
            if file and line:
                out.append(Loc(file, line, _clean(fr.get("function"), 80) or "?"))
    return tuple(out)


def _outcome(st: FlowStats, orphaned: int) -> FlowOutcome:
    last = st.last_failure
    return FlowOutcome(
        flow_id=st.flow_id,
        status=st.status,
        passed=st.passed,
        failed=st.failed,
        unfinished=st.unfinished,
        orphaned=orphaned,
        started=st.started,
        p95_ms=st.p95_ms,
        last_failure=LastFailure(
            error_class=last.error_class,
            reason=_clean(last.reason),
            file=last.file,
            line=last.line,
            event_id=last.event_id,
            event_type=last.event_type,
            exception_type=(_clean(last.exception_type, 80) or None)
            if last.event_type == "exception" else None,
        ) if last is not None else None,
        parent_flow=st.parent_flow,
    )


def _merge(into: dict[str, int], stats: ReadStats) -> None:
    for k, v in stats.skipped.items():
        into[k] = max(into.get(k, 0), v)

