"""The end of a run, in the process that owns it: its tally, the summary, the artifacts.

``_RunState`` is the run's in-process view (aggregate, last events, counts), fed by the
writer as a sink so that it sees exactly what the sinks saw; at the end it becomes the
``summary`` event's evidence and the run's ``summary.md`` / ``ask.md``. When child
processes wrote into the run's trace, their events are folded in first (``_joined.py``),
so they count too. Only a session that owns its run needs any of this: it is imported when
such a session starts, never by ``import flowscribe``.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import deque

from ._warn import suppressed, warn_once
from ._writer import Sink

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path
    from typing import Any

    from ._writer import Item
    from .aggregate import RunAggregate
    from .catalog import Catalog
    from .config import Config
    from .runs import RunLayout
    from .sinks.jsonl import JsonlSink

#: The summary event lists at most this many orphaned instances (the count is exact).
MAX_LISTED_ORPHANS = 100


class _RunState(Sink):
    """The run's in-process view, fed by the writer: aggregate, last events, counts.

    It is what the summary event and the end-of-run artifacts are made from, so it sees
    exactly what the sinks saw.
    """

    name = "aggregate"
    tally = True  # a failure is in the trace before it returns; here with the next batch

    def __init__(self, aggregate: RunAggregate | None, tail: int) -> None:
        self.aggregate = aggregate
        self.tail: deque[dict[str, Any]] = deque(maxlen=max(tail, 1))
        self.events = 0
        self.flows = 0
        self.verdicts = {"passed": 0, "failed": 0, "unfinished": 0}
        #: instance -> (flow_id, file, line) of flows started and not yet ended.
        self.open: dict[str, tuple[Any, Any, Any]] = {}

    def write(self, batch: Sequence[Item]) -> None:
        opened, verdicts = self.open, self.verdicts
        events = [ev for ev, _ in batch]
        count = len(events)
        for ev in events:
            etype = ev["event_type"]
            if etype == "flow_start":
                self.flows += 1
                if len(opened) < 10_000:
                    opened[ev["instance"]] = (ev["flow_id"], ev["file"], ev["line"])
            elif etype == "flow_end":
                status = ev["status"]
                verdicts[status if status in ("passed", "failed") else "unfinished"] += 1
                opened.pop(ev["instance"], None)
            elif etype == "summary":
                count -= 1
        self.events += count
        self.tail.extend(events[-(self.tail.maxlen or 1) :])
        agg = self.aggregate
        if agg is not None:
            try:
                # The session built these events itself: the aggregate's unchecked path.
                agg.add_trusted(events)
            except Exception as exc:
                warn_once("aggregate", f"run aggregate failed ({type(exc).__name__}: {exc})")

    def add(self, ev: dict[str, Any]) -> None:
        """Fold in one event read back from a trace (untrusted: fields may be missing)."""
        etype = ev.get("event_type")
        inst = ev.get("instance")
        if etype == "flow_start":
            self.flows += 1
            if isinstance(inst, str) and len(self.open) < 10_000:
                self.open[inst] = (ev.get("flow_id"), ev.get("file"), ev.get("line"))
        elif etype == "flow_end":
            status = ev.get("status")
            self.verdicts[status if status in ("passed", "failed") else "unfinished"] += 1
            if isinstance(inst, str):
                self.open.pop(inst, None)
        if etype != "summary":
            self.events += 1
        self.tail.append(ev)
        if self.aggregate is not None:
            try:
                self.aggregate.add(ev)
            except Exception as exc:
                warn_once("aggregate", f"run aggregate failed ({type(exc).__name__}: {exc})")

    def after_fork_child(self) -> None:
        # Only the process that owns the run writes its artifacts.
        self.aggregate = None
        self.tail.clear()


#: While a run records, its aggregate is saved beside its trace this often, once the trace
#: is this big: a reader that opens the run before it ends (the language server's lens
#: counts, the assistant tools) then folds only what came after, not the whole trace.
SNAPSHOT_EVERY_S = 5.0
SNAPSHOT_MIN_BYTES = 8 << 20


class _LiveSnapshot(Sink):
    """Saves the run's aggregate as ``aggregate.json`` beside its trace every
    :data:`SNAPSHOT_EVERY_S` while a big run records (fed after the run's trace and tally,
    under the writer's lock, so both have seen the same events).

    Only while this process alone has written the trace: another process's lines are not
    in this tally until the run ends. The end of the run replaces the file with the final
    aggregate; a run that is killed leaves the last snapshot, which readers extend by
    folding what follows it (docs/trace-format.md).
    """

    name = "aggregate snapshot"
    tally = True  # after the aggregate, which must have seen what the trace holds

    def __init__(self, state: _RunState, trace: JsonlSink, run_dir: Path) -> None:
        self.state, self.trace, self.run_dir = state, trace, run_dir
        self._due = time.monotonic() + SNAPSHOT_EVERY_S

    def write(self, batch: Sequence[Item]) -> None:
        now = time.monotonic()
        if now < self._due:
            return
        self._due = now + SNAPSHOT_EVERY_S
        agg, file = self.state.aggregate, self.trace.file
        try:
            size = os.path.getsize(file.path)
        except OSError:
            return
        if agg is None or size < SNAPSHOT_MIN_BYTES or size != file.bytes_written:
            return
        from .artifacts.aggregate_file import write_aggregate

        write_aggregate(agg, self.run_dir, covering=size)

    def after_fork_child(self) -> None:
        self._due = float("inf")  # only the process that owns the run saves its tally


def summary_evidence(state: _RunState, redacted: int) -> dict[str, Any]:
    """The ``summary`` event's evidence: counts, verdicts, orphaned instances, and the
    warnings this process held back (by kind)."""

    orphans = [
        {"instance": inst, "flow_id": fid, "file": file, "line": line}
        for inst, (fid, file, line) in itertools.islice(state.open.items(), MAX_LISTED_ORPHANS)
    ]
    return {
        "flows": state.flows,
        "passed": state.verdicts["passed"],
        "failed": state.verdicts["failed"],
        "unfinished": state.verdicts["unfinished"],
        "orphaned": len(state.open),
        "events": state.events,
        "redacted": redacted,
        "orphaned_instances": orphans,
        "warnings_not_shown": suppressed(),
    }


def reread_run(
    path: str, start: int, run_id: str | None, aggregate: RunAggregate | None, tail: int
) -> _RunState | None:
    """A fresh run state from the trace at ``path`` (from byte ``start``, this run's
    events only), or None when it cannot be read (warned once)."""
    from .trace import parse_line

    fresh = _RunState(aggregate, tail)
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            for line in fh:
                ev = parse_line(line)
                if ev is not None and ev.get("run_id") == run_id:
                    fresh.add(ev)
    except OSError as exc:
        warn_once("reaggregate", f"could not re-read {path} ({exc}); children's events "
                  "are missing from the summary")
        return None
    return fresh


def write_artifacts(
    state: _RunState | None,
    cfg: Config | None,
    catalog: Catalog | None,
    run_id: str | None,
    layout: RunLayout | None,
    redacted: int,
    *,
    top_level: bool = True,
) -> None:
    """``summary.md`` and ``ask.md`` of the run so far (a problem is warned, not raised);
    ``top_level=False`` (a test run) leaves the copies in ``.autodev/`` alone."""
    if state is None or cfg is None or layout is None:
        return
    try:
        from .aggregate import aggregate_for
        from .artifacts import write_run_artifacts

        # Without an aggregate (no artifact wanted) an empty one still lets
        # write_run_artifacts remove an older run's copies from .autodev/.
        agg = state.aggregate or aggregate_for(cfg, catalog, run_id)
        agg.note_redacted(redacted)
        write_run_artifacts(agg, catalog, cfg, list(state.tail), layout, top_level=top_level)
        if top_level and run_id is not None and cfg.artifacts.per_run_dirs:
            # The top-level copies are this run's now: so is ``latest``, even if another
            # launch started after this one (and ended before it).
            layout.point_latest(run_id)
    except Exception as exc:
        warn_once(
            "artifacts",
            f"writing the run's artifacts failed ({type(exc).__name__}: {exc})",
        )
