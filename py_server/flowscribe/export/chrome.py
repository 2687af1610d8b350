"""A run as Chrome Trace Event JSON, which Perfetto and ``chrome://tracing`` open.

Mapping (documented in docs/exports.md):

- each process of the run is a Chrome process (``pid``), each thread a track (``tid``,
  named by the thread's name);
- a flow instance is a complete event (``ph: X``) from its ``flow_start`` to its
  ``flow_end``, named by the flow id; an instance still open at the end of the run lasts
  until the run's last event and is marked ``orphaned``;
- checkpoints, successes, failures and exceptions are thread-scoped instant events
  (``ph: i``); failures and exceptions have the category ``failure`` and a name that says
  so (``✗ DATA.EMPTY``);
- metrics are counter events (``ph: C``), one counter per metric name and process;
- the run's header (app, mode, git sha, run id) is in ``otherData``.

Times are microseconds since the run's first event. Recorded text goes into ``args`` as
data; nothing in it is interpreted by the viewers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowscribe.story import RunView

__all__ = ["chrome_trace"]

_INSTANT = {"checkpoint": "step", "success": "success", "failure": "failure",
            "exception": "failure"}


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else None


def chrome_trace(run: RunView) -> dict[str, Any]:
    """The Chrome Trace Event document (a JSON-ready dict) of ``run``."""
    times = [t for t in (_num(e.get("ts")) for e in run.events) if t is not None]
    t0 = min(times) if times else 0.0
    t_end = max(times) if times else 0.0

    def us(ts: Any) -> float:
        value = _num(ts)
        return round(((value if value is not None else t0) - t0) * 1_000_000, 1)

    tids: dict[tuple[int, str], int] = {}
    pids: set[int] = set()
    out: list[dict[str, Any]] = []

    def lane(ev: Mapping[str, Any]) -> tuple[int, int]:
        raw = ev.get("pid")
        pid = raw if isinstance(raw, int) else 0
        thread = str(ev.get("thread") or "?")
        pids.add(pid)
        key = (pid, thread)
        if key not in tids:
            tids[key] = len([k for k in tids if k[0] == pid]) + 1
        return pid, tids[key]

    for inst, start in run.starts.items():
        end = run.ends.get(inst)
        pid, tid = lane(start)
        begin = us(start.get("ts"))
        if end is not None:
            # From the two events' own clock, like the instants between them: the monotonic
            # duration_ms can differ by a few µs and make Perfetto drop a slice as overlapping.
            duration = _num(end.get("duration_ms"))
            dur = us(end.get("ts")) - begin if _num(end.get("ts")) is not None else (
                duration * 1000 if duration is not None else 0.0)
            status = end.get("status")
        else:
            dur, status = us(t_end) - begin, "orphaned"
        args: dict[str, Any] = {"instance": inst, "status": status}
        if start.get("correlation"):
            args["correlation"] = start.get("correlation")
        if start.get("parent"):
            args["parent"] = start.get("parent")
        if end is not None and end.get("error_class"):
            args["error_class"] = end.get("error_class")
        if start.get("file"):
            args["at"] = f"{start.get('file')}:{start.get('line')}"
        out.append({"ph": "X", "name": str(start.get("flow_id") or "?"), "cat": "flow",
                    "ts": begin, "dur": max(0.0, round(dur, 1)), "pid": pid, "tid": tid,
                    "args": args})
    for ev in run.events:
        kind = ev.get("event_type")
        if kind in _INSTANT:
            pid, tid = lane(ev)
            if kind in ("failure", "exception"):
                raw_exc = ev.get("exception")
                exc = raw_exc if isinstance(raw_exc, Mapping) else {}
                label = exc.get("type") if kind == "exception" and exc.get("type") else \
                    ev.get("error_class")
                name = f"✗ {label or kind}"
            else:
                name = str(ev.get("step") or ev.get("reason") or kind)
            args = {"flow": ev.get("flow_id"), "event": ev.get("id")}
            for key in ("reason", "evidence", "severity"):
                if ev.get(key):
                    args[key] = ev.get(key)
            if ev.get("file"):
                args["at"] = f"{ev.get('file')}:{ev.get('line')}"
            out.append({"ph": "i", "s": "t", "name": name, "cat": _INSTANT[str(kind)],
                        "ts": us(ev.get("ts")), "pid": pid, "tid": tid, "args": args})
        elif kind == "metric" and _num(ev.get("value")) is not None:
            pid, _ = lane(ev)
            name = str(ev.get("step") or "metric")
            out.append({"ph": "C", "name": name, "ts": us(ev.get("ts")), "pid": pid,
                        "args": {name: _num(ev.get("value"))}})
    header = run.header
    app = header.get("app") if isinstance(header.get("app"), str) else "app"
    for pid in sorted(pids):
        out.append({"ph": "M", "name": "process_name", "pid": pid,
                    "args": {"name": f"{app} (pid {pid})"}})
    for (pid, thread), tid in sorted(tids.items()):
        out.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid,
                    "args": {"name": thread}})
    other = {"run_id": run.run_id, "app": header.get("app"), "mode": header.get("mode"),
             "git_sha": header.get("git_sha"), "exported_by": "flowscribe"}
    return {"traceEvents": out, "displayTimeUnit": "ms",
            "otherData": {k: v for k, v in other.items() if v is not None}}
