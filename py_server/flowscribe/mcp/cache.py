"""What one ``flowscribe mcp`` process has read of each run, so that a run's trace is read
and parsed at most once while it is unchanged.

An agent calls several tools about the same run in a row (failures, then a story, then a
diff); on a 1M-event run each read costs seconds. Each run's reads are kept in a
:class:`RunData`, found by the trace's path, size and modification time and the run id (the
top-level trace holds several runs): a trace that grows or is replaced is a new key, so an
answer never comes from a stale read. What is kept:

- the run's failure and exception events, found by a substring scan of the trace before
  any JSON parsing (:func:`flowscribe.trace.iter_events` with ``types``);
- per flow: verdict counts and durations (``get_flow``), from the ``flow_end`` lines only;
- the story library's bounded view of the run (stories, diffs, event pages), with the
  indexes the story memoizes on it (values, top failures, the diff's aggregate);
- the last few event selections (one instance's, one correlation value's), for paging.

At most :data:`MAX_RUNS` runs are kept, least recently used dropped first, and views of at
most :data:`MAX_VIEW_EVENTS` events in all (a view costs a few KB per event).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flowscribe.aggregate import Quantiles
from flowscribe.runs import RunInfo, run_events
from flowscribe.story import RunView, load_for_diff, load_info
from flowscribe.trace import iter_events

__all__ = ["MAX_RUNS", "MAX_VIEW_EVENTS", "PROCESS_CACHE", "FlowOutcome", "RunCache", "RunData"]

MAX_RUNS = 6
#: Event selections (an instance's, a correlation value's) kept per run, for paging.
MAX_SELECTIONS = 16
#: Two 1M-event runs (a failing run and its baseline, what a story compares) fit.
MAX_VIEW_EVENTS = 2_500_000
VERDICTS = ("failure", "exception")


@dataclass
class FlowOutcome:
    """One flow's verdicts in one run."""

    passed: int = 0
    failed: int = 0
    unfinished: int = 0
    durations: Quantiles = field(default_factory=Quantiles)


class RunData:
    """One run's reads, each made on first use (thread-safe: tools run in worker
    threads, and two asking at once wait for one read)."""

    def __init__(self, info: RunInfo) -> None:
        self.info = info
        self._lock = threading.Lock()
        self._failures: list[dict[str, Any]] | None = None
        self._flows: dict[str, FlowOutcome] | None = None
        self._view: RunView | None = None
        self._view_read = False
        self._diff_view: RunView | None = None
        self._selections: OrderedDict[tuple[Any, ...], list[dict[str, Any]]] = OrderedDict()

    def failures(self) -> list[dict[str, Any]]:
        """The run's failure and exception events, oldest first."""
        with self._lock:
            if self._failures is None:
                self._failures = [ev for ev in run_events(self.info, types=VERDICTS)
                                  if ev.get("event_type") in VERDICTS]
            return self._failures

    def flows(self) -> dict[str, FlowOutcome]:
        """Each flow's verdict counts and durations: from the run's saved aggregate.json
        as far as it covers the trace, and from the ``flow_end`` events after that."""
        with self._lock:
            if self._flows is None:
                flows, covered = self._saved_flows()
                trace = self.info.trace
                events = (iter_events(trace, types=("flow_end",), start=covered)
                          if covered is not None and trace is not None
                          else run_events(self.info, types=("flow_end",)))
                for ev in events:
                    fid = ev.get("flow_id")
                    if ev.get("event_type") != "flow_end" or not isinstance(fid, str):
                        continue
                    out = flows.get(fid)
                    if out is None:
                        out = flows[fid] = FlowOutcome()
                    status = ev.get("status")
                    if status == "passed":
                        out.passed += 1
                    elif status == "failed":
                        out.failed += 1
                    else:
                        out.unfinished += 1
                    d = ev.get("duration_ms")
                    if isinstance(d, (int, float)) and not isinstance(d, bool) and d == d:
                        out.durations.add(float(d))
                self._flows = flows
            return self._flows

    def _saved_flows(self) -> tuple[dict[str, FlowOutcome], int | None]:
        """The flows of the run's own aggregate.json and the trace bytes it covers; no
        flows and None when the run has none that matches its trace."""
        from flowscribe.artifacts.aggregate_file import load_aggregate

        info = self.info
        if not info.own_trace or info.run_dir is None:
            return {}, None
        saved = load_aggregate(info.run_dir)
        if saved is None:
            return {}, None
        agg, covered = saved
        return {fid: FlowOutcome(s.passed, s.failed, s.unfinished, s.durations)
                for fid, s in agg.flows.items() if s.passed or s.failed or s.unfinished
                }, covered

    def view(self) -> RunView | None:
        """The story library's view of the run (None when it has no readable trace)."""
        with self._lock:
            if not self._view_read:
                self._view = load_info(self.info)
                self._view_read = True
            return self._view

    def diff_view(self) -> RunView | None:
        """The run as ``diff_runs`` reads it: the view when it was read already, else
        one pass folding what a comparison needs (:func:`flowscribe.story.load_for_diff`),
        kept."""
        with self._lock:
            if self._view_read and self._view is not None:
                return self._view
            if self._diff_view is None:
                self._diff_view = load_for_diff(self.info)
            return self._diff_view

    def selection(self, key: tuple[Any, ...],
                  select: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """The events ``select()`` chose, kept under ``key`` (an agent pages through one
        instance or correlation value with offsets: it is chosen once)."""
        with self._lock:
            found = self._selections.get(key)
            if found is not None:
                self._selections.move_to_end(key)
                return found
        chosen = select()
        with self._lock:
            self._selections[key] = chosen
            while len(self._selections) > MAX_SELECTIONS:
                self._selections.popitem(last=False)
        return chosen

    def view_events(self) -> int:
        """Events held by the view (0 when it was not read)."""
        view = self._view
        return len(view.events) if view is not None else 0

    def drop_view(self) -> bool:
        """Forget the view; False (kept) when it is being read right now."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            self._view, self._view_read = None, False
        finally:
            self._lock.release()
        return True


def _key(info: RunInfo) -> tuple[str, int, int, str] | None:
    if info.trace is None:
        return None
    try:
        st = info.trace.stat()
    except OSError:
        return None
    return (str(info.trace), st.st_size, st.st_mtime_ns, info.run_id)


class RunCache:
    """The runs read by this process, by trace state (see the module doc)."""

    def __init__(self, max_runs: int = MAX_RUNS, max_view_events: int = MAX_VIEW_EVENTS
                 ) -> None:
        self.max_runs = max_runs
        self.max_view_events = max_view_events
        self._lock = threading.Lock()
        self._runs: OrderedDict[tuple[str, int, int, str], RunData] = OrderedDict()

    def get(self, info: RunInfo) -> RunData:
        """The reads of run ``info`` as its trace is now (fresh when it changed)."""
        key = _key(info)
        if key is None:
            return RunData(info)  # nothing to read, nothing to keep
        with self._lock:
            data = self._runs.get(key)
            if data is not None:
                self._runs.move_to_end(key)
                data.info = info  # the newest listing (is_latest, artifacts)
                return data
            # An older state of the same run's trace is of no more use.
            for old in [k for k in self._runs if k[0] == key[0] and k[3] == key[3]]:
                del self._runs[old]
            data = self._runs[key] = RunData(info)
            while len(self._runs) > self.max_runs:
                self._runs.popitem(last=False)
            return data

    def view(self, info: RunInfo) -> RunView | None:
        """The view of run ``info`` (kept, within :attr:`max_view_events`)."""
        data = self.get(info)
        view = data.view()
        self._trim(keep=data)
        return view

    def _trim(self, keep: RunData) -> None:
        with self._lock:
            held = sum(d.view_events() for d in self._runs.values())
            for data in list(self._runs.values()):  # least recently used first
                if held <= self.max_view_events:
                    break
                if data is keep:
                    continue
                size = data.view_events()
                if data.drop_view():
                    held -= size


#: The process's cache (``flowscribe mcp`` serves one workspace per process; every
#: request opens a :class:`~flowscribe.mcp.workspace.Workspace` that shares it).
PROCESS_CACHE = RunCache()
