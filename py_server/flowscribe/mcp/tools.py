"""The answers of ``flowscribe mcp``'s read-only tools, as plain functions of a
:class:`~flowscribe.mcp.workspace.Workspace` (testable without the SDK).

Each returns the text the agent reads (:mod:`flowscribe.mcp.results`: recorded data fenced,
after a note that it is data) or raises :class:`~flowscribe.mcp.workspace.ToolInputError`
with what was wrong. Everything is read with the runtime's own readers
(:mod:`flowscribe.runs`, :mod:`flowscribe.trace`, :mod:`flowscribe.story`,
:mod:`flowscribe.timeline`), once per run and trace state (:mod:`flowscribe.mcp.cache`),
and every quoted event is redacted again first.
"""

from __future__ import annotations

import difflib
import itertools
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flowscribe.markdown import code
from flowscribe.mcp.cache import FlowOutcome
from flowscribe.mcp.results import PREAMBLE, data_result, text_result
from flowscribe.mcp.workspace import ToolInputError, Workspace, inside
from flowscribe.patterns import matches
from flowscribe.runs import RunInfo, run_events
from flowscribe.sites import UNKNOWN, told
from flowscribe.story import (
    DEFAULT_BUDGET_TOKENS,
    MAX_BUDGET_TOKENS,
    MIN_BUDGET_TOKENS,
    RunView,
    failure_prompt,
    load_instance,
    too_big_to_read_whole,
)
from flowscribe.trace import field_marker

__all__ = [
    "MAX_BUDGET_TOKENS",
    "MAX_LIMIT",
    "MIN_BUDGET_TOKENS",
    "ask_md",
    "diff_doc",
    "diff_runs",
    "get_failure_story",
    "get_failures",
    "get_flow",
    "get_flow_events",
    "list_runs",
    "run_brief",
    "run_passed",
    "summary_md",
]

#: The most items one page may hold (events, failures, runs).
MAX_LIMIT = 500
#: Recent runs a flow's outcomes are given for, at most.
MAX_FLOW_RUNS = 20
#: summary.md / ask.md larger than this are not artifacts flowscribe wrote.
MAX_ARTIFACT_BYTES = 1_000_000


# -- argument checks ------------------------------------------------------------------------


def _count(name: str, value: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ToolInputError(f"{name} must be a whole number (got {value!r})")
    if not low <= value <= high:
        raise ToolInputError(f"{name} must be between {low} and {high} (got {value})")
    return value


def _text_arg(name: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or "\x00" in value or len(value) > 1000:
        raise ToolInputError(f"{name} must be a short text")
    return value


# -- shared shapes ---------------------------------------------------------------------------


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
    except (OverflowError, OSError, ValueError):
        return None


def run_passed(info: RunInfo) -> bool:
    """True when the run recorded no failed flow, failure or exception."""
    v = info.verdicts
    return not (v.get("failed") or v.get("failures") or v.get("exceptions"))


def run_brief(info: RunInfo) -> dict[str, Any]:
    """What a tool says about a run."""
    return {"run_id": info.run_id, "started": _iso(info.started), "ended": _iso(info.ended),
            "app": info.app, "mode": info.mode, "passed": run_passed(info),
            "latest": info.is_latest, "verdicts": dict(info.verdicts)}


def _where(ev: Mapping[str, Any]) -> str | None:
    where, place = told(ev)
    if where == UNKNOWN:
        return None
    return f"{where} ({place})" if place else where


def _failure(ws: Workspace, raw: Mapping[str, Any]) -> dict[str, Any]:
    ev = ws.scrub(raw)
    corr = ev.get("correlation") if isinstance(ev.get("correlation"), Mapping) else {}
    out: dict[str, Any] = {
        "event_id": ev.get("id"),
        "type": ev.get("event_type"),
        "flow": ev.get("flow_id"),
        "instance": ev.get("instance"),
        "error_class": ev.get("error_class"),
        "severity": ev.get("severity"),
        "reason": ev.get("reason"),
        "where": _where(ev),
        "function": ev.get("function"),
        "step": ev.get("step"),
        "evidence": ev.get("evidence") or {},
        "correlation": corr,
        "time": _iso(ev.get("ts") if isinstance(ev.get("ts"), (int, float)) else None),
    }
    test = corr.get("test") if isinstance(corr, Mapping) else None
    if test is not None:
        out["test"] = test  # the pytest node id, when the run was a test run
    exc = ev.get("exception")
    if isinstance(exc, Mapping):
        out["exception"] = {"type": exc.get("type"), "message": exc.get("message")}
    if ev.get("caused_by"):
        out["caused_by"] = ev.get("caused_by")
    return out


# -- list_runs -------------------------------------------------------------------------------


def list_runs(ws: Workspace, limit: int = 20) -> str:
    """Recent runs, newest first, with their verdict counts."""
    _count("limit", limit, 1, MAX_LIMIT)
    runs = ws.runs()
    if not runs:
        raise ToolInputError("no runs yet in this workspace (run an app that uses flowscribe)")
    shown = [run_brief(r) for r in runs[:limit]]
    note = ("verdicts: passed/failed/unfinished count flow instances, failures/exceptions "
            "count events. 'passed' is true when the run recorded no failure at all.")
    if len(runs) > limit:
        note += f" {len(runs) - limit} older runs not shown (raise limit)."
    return data_result(f"{len(runs)} run{'s' if len(runs) != 1 else ''}, newest first",
                       shown, footer=note)


# -- get_failures ----------------------------------------------------------------------------


def _class_matches(pattern: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return value == pattern or value.startswith(pattern + ".")


def _file_matches(pattern: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    a, b = value.replace("\\", "/"), pattern.replace("\\", "/")
    return a == b or a.endswith("/" + b.lstrip("/"))


def get_failures(ws: Workspace, run: str | None = None, flow: str | None = None,
                 error_class: str | None = None, file: str | None = None,
                 offset: int = 0, limit: int = 50) -> str:
    """A run's failure and exception events, oldest first, filtered."""
    flow, error_class, file = (_text_arg("flow", flow), _text_arg("error_class", error_class),
                               _text_arg("file", file))
    _count("offset", offset, 0, 10**9)
    _count("limit", limit, 1, MAX_LIMIT)
    info = ws.run(run)
    found: list[Mapping[str, Any]] = []
    total = 0
    for ev in ws.cache.get(info).failures():
        fid = ev.get("flow_id")
        if flow is not None and not (isinstance(fid, str) and matches(flow, fid)):
            continue
        if error_class is not None and not _class_matches(error_class, ev.get("error_class")):
            continue
        if file is not None and not _file_matches(file, ev.get("file")):
            continue
        if offset <= total < offset + limit:
            found.append(ev)
        total += 1
    filters = ", ".join(f"{k} {code(v, 120)}" for k, v in (
        ("flow", flow), ("class", error_class), ("file", file)) if v is not None)
    title = f"{total} failure{'s' if total != 1 else ''} in run {code(info.run_id, 80)}"
    if filters:
        title += f" matching {filters}"
    items = [_failure(ws, ev) for ev in found]
    footer = ("Each 'where' is where the failure was *detected*; the cause is often "
              "upstream. get_failure_story with an event_id tells its causal story.")
    if offset + len(items) < total:
        footer += f" More: offset={offset + len(items)}."
    return data_result(title, {"run_id": info.run_id, "total": total, "offset": offset,
                               "failures": items}, footer=footer)


# -- get_failure_story ----------------------------------------------------------------------


def _first_failure_id(ws: Workspace, info: RunInfo) -> str | None:
    for ev in ws.cache.get(info).failures():
        eid = ev.get("id")
        if isinstance(eid, str):
            return eid
    return None


def get_failure_story(ws: Workspace, event_id: str | None = None, run: str | None = None,
                      budget_tokens: int = DEFAULT_BUDGET_TOKENS) -> str:
    """One failure's causal story (slice, code, contrast, diff, reproduce command, tests)
    within ``budget_tokens``; default: the run's first failure."""
    event_id = _text_arg("event_id", event_id)
    _count("budget_tokens", budget_tokens, MIN_BUDGET_TOKENS, MAX_BUDGET_TOKENS)
    info = ws.run(run)
    if event_id is None:
        event_id = _first_failure_id(ws, info)
        if event_id is None:
            raise ToolInputError(f"run {info.run_id} recorded no failure (see list_runs for "
                                 "one that did)")
    story = failure_prompt(ws.autodev_dir, info.run_id, event_id, catalog=ws.catalog,
                           root=ws.root, scrub=ws.scrub, budget_tokens=budget_tokens,
                           load=ws.cache.view)
    if story is None:
        raise ToolInputError(f"no event {event_id!r} in run {info.run_id} (see get_failures)")
    return f"{PREAMBLE}\n\n{story}"


# -- get_flow ------------------------------------------------------------------------------


def _spec(ws: Workspace, flow_id: str) -> dict[str, Any] | None:
    spec = ws.catalog.get(flow_id)
    if spec is None:
        return None
    where = ws.display(ws.catalog.path) if ws.catalog.path is not None else "flows.yaml"
    return {"id": spec.id, "enabled": spec.enabled, "description": spec.description,
            "parent": spec.parent, "parent_chain": ws.catalog.parent_chain(flow_id),
            "success_criteria": spec.success_criteria, "failure_classes": spec.failure_classes,
            "correlation_keys": spec.correlation_keys, "tags": spec.tags,
            "code_refs": spec.code_refs, "sla_p95_ms": spec.sla_p95_ms,
            "on_failure": spec.on_failure, "defined_at": f"{where}:{spec.line}"}


def _outcomes(ws: Workspace, info: RunInfo, flow_id: str) -> dict[str, Any] | None:
    """The flow's verdicts, p50/p95 and failure classes in one run; None if it did not run."""
    data = ws.cache.get(info)
    classes: dict[str, int] = {}
    last: Mapping[str, Any] | None = None
    for ev in data.failures():
        if ev.get("flow_id") == flow_id:
            cls = str(ev.get("error_class") or "?")
            classes[cls] = classes.get(cls, 0) + 1
            last = ev
    flow = data.flows().get(flow_id)
    if flow is None and last is None:
        return None
    if flow is None:
        flow = FlowOutcome()
    p50, p95 = flow.durations.percentile(0.5), flow.durations.percentile(0.95)
    out: dict[str, Any] = {
        "run_id": info.run_id, "started": _iso(info.started), "passed": flow.passed,
        "failed": flow.failed, "unfinished": flow.unfinished,
        "p50_ms": round(p50, 3) if p50 is not None else None,
        "p95_ms": round(p95, 3) if p95 is not None else None,
        "failures_by_class": classes,
    }
    if last is not None:
        out["last_failure"] = _failure(ws, last)
    return out


def get_flow(ws: Workspace, flow_id: str, runs: int = 5) -> str:
    """A flow's catalog entry and its outcomes in the most recent ``runs`` runs."""
    flow = _text_arg("flow_id", flow_id)
    if flow is None:
        raise ToolInputError("flow_id is required, e.g. 'orders/submit'")
    _count("runs", runs, 1, MAX_FLOW_RUNS)
    spec = _spec(ws, flow)
    recent = []
    for info in ws.runs()[:runs]:
        outcome = _outcomes(ws, info, flow)
        if outcome is not None:
            recent.append(outcome)
    if spec is None and not recent:
        known = set(ws.catalog.flows)
        for info in ws.runs()[:1]:
            known.update(ws.cache.get(info).flows())
        close = difflib.get_close_matches(flow, sorted(known), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ToolInputError(f"no flow {flow!r} in the catalog or the last {runs} runs.{hint}")
    sla = spec.get("sla_p95_ms") if spec is not None else None
    for outcome in recent:
        p95 = outcome["p95_ms"]
        outcome["sla_ok"] = None if sla is None or p95 is None else p95 <= sla
    doc = {"flow_id": flow, "catalog": spec, "recent_runs": recent}
    footer = ("catalog is null: the flow is not declared in .autodev/flows.yaml."
              if spec is None else "")
    return data_result(f"Flow {code(flow, 200)}", doc, footer=footer)


# -- get_flow_events -----------------------------------------------------------------------


def get_flow_events(ws: Workspace, run: str | None = None, instance: str | None = None,
                    where: str | None = None, offset: int = 0, limit: int = 50) -> str:
    """The events of one flow instance (and its children) or of one correlation value
    (``key=value``), oldest first, one compact line each, paged."""
    from flowscribe.timeline import TimelineFilter, render, select

    instance, where = _text_arg("instance", instance), _text_arg("where", where)
    if (instance is None) == (where is None):
        raise ToolInputError("give exactly one of instance (a flow instance id) or where "
                             "(a correlation key=value, e.g. ticker=AAPL)")
    _count("offset", offset, 0, 10**9)
    _count("limit", limit, 1, MAX_LIMIT)
    corr: dict[str, str] = {}
    if where is not None:
        key, sep, value = where.partition("=")
        if not sep or not key.strip():
            raise ToolInputError(f"where takes key=value (got {where!r})")
        corr[key.strip()] = value
    info = ws.run(run)
    # A run too big to read whole: one instance is read from its own span of the trace,
    # one correlation value from the lines that hold it.
    near, capped = None, False
    if too_big_to_read_whole(info.trace):
        if instance is not None:
            near = _instance_view(info, instance)
        else:
            near, capped = _where_view(info, *next(iter(corr.items())))
    view = near if near is not None else ws.view(info)

    def choose() -> list[dict[str, Any]]:
        if instance is not None and instance not in view.starts:
            # A big run's view keeps only its newest flow starts: read this instance's own
            # events from the trace (found by substring before parsing: cheap).
            return [ev for ev in run_events(info, contains=[field_marker("instance", instance)])
                    if ev.get("instance") == instance]
        return select(view, TimelineFilter(instance=instance, where=corr))

    chosen = ws.cache.get(info).selection((instance, tuple(corr.items())), choose)
    if instance is not None and not chosen:
        raise ToolInputError(f"no flow instance {instance!r} in run {info.run_id} "
                             "(instances are in get_failures results)")
    if not chosen:
        raise ToolInputError(f"no events in run {info.run_id} with {where!r}")
    page = [ws.scrub(ev) for ev in chosen[offset:offset + limit]]
    what = (f"flow instance {code(instance, 80)}" if instance is not None
            else f"correlation {code(where, 200)}")
    title = f"Events of {what} in run {code(info.run_id, 80)}"
    footer = (f"Events {offset + 1}-{offset + len(page)} of {len(chosen)}, oldest first: "
              "+seconds since the run started, thread, the event (its id first).")
    if not page:
        footer = f"No events at offset {offset}: there are {len(chosen)}."
    elif offset + len(page) < len(chosen):
        footer += f" More: offset={offset + len(page)}."
    if view.dropped:
        footer += (f" The run is large: {view.dropped} routine events far from any "
                   "failure were not kept.")
    if capped:
        footer += (f" The run is large: only its first {MAX_WHERE_EVENTS:,} events with "
                   f"{where} were read.")
    return text_result(title, "\n".join(render(view, page)) or "(none)", footer=footer)


def _instance_view(info: RunInfo, instance: str) -> RunView | None:
    """Instance ``instance`` of a big run, from its span (:func:`~flowscribe.story.
    load_instance`); None when the span is not found that way."""
    assert info.trace is not None
    return load_instance(info.trace, instance, info.trace_filter)


#: At most this many events of one correlation value are read from a big run.
MAX_WHERE_EVENTS = 200_000


def _where_view(info: RunInfo, key: str, value: str) -> tuple[RunView, bool]:
    """The events of a big run whose correlation ``key`` is ``value``, from the lines that
    hold it as text or as a JSON scalar (found before parsing), after the run's header
    (times are told from the run's start); and whether :data:`MAX_WHERE_EVENTS` cut them
    short (a value that nearly every event carries)."""
    markers = [field_marker(key, value)]
    if value.isascii() and value and value[0] in "-0123456789tfn":
        markers.append(json.dumps(key).encode("ascii") + b":" + value.encode("ascii"))
    header = next(run_events(info, types=("run_start",)), None)
    events = list(itertools.islice(run_events(info, contains=markers), MAX_WHERE_EVENTS + 1))
    capped = len(events) > MAX_WHERE_EVENTS
    del events[MAX_WHERE_EVENTS:]
    return RunView.from_events([header, *events] if header is not None else events), capped


# -- diff_runs -------------------------------------------------------------------------------


def diff_runs(ws: Workspace, before: str | None = None, after: str | None = None) -> str:
    """What changed from run ``before`` to run ``after`` (default: the latest run against
    the newest earlier one that passed, or the previous one)."""
    from flowscribe.story import diff_runs as compare

    later = ws.run(_text_arg("after", after))
    before = _text_arg("before", before)
    earlier = ws.run(before) if before is not None else ws.baseline(later)
    if earlier is None:
        raise ToolInputError(f"no run to compare {later.run_id} with (it is the only run)")
    if earlier.run_id == later.run_id:
        raise ToolInputError("before and after are the same run")
    view_a, view_b = ws.cache.get(earlier).diff_view(), ws.cache.get(later).diff_view()
    if view_a is None or view_b is None:
        missing = earlier if view_a is None else later
        raise ToolInputError(f"run {missing.run_id} has no readable trace")
    diff = compare(view_a, view_b, ws.sla_ms())
    return data_result(
        f"Changes from run {code(earlier.run_id, 80)} to run {code(later.run_id, 80)}",
        diff_doc(ws, earlier, later, diff))


def diff_doc(ws: Workspace, earlier: RunInfo, later: RunInfo, diff: Any) -> dict[str, Any]:
    """A run diff as a tool gives it (its texts redacted again)."""
    changes = [{"kind": c.kind, "flow": c.flow_id, "where": c.where or None,
                "change": ws.scrubber.text(c.text)} for c in diff.changes]
    return {"before": run_brief(earlier), "after": run_brief(later),
            "changes": changes}


# -- resources -------------------------------------------------------------------------------


def _artifact(ws: Workspace, name: str) -> str:
    info = ws.run(None)
    path = info.artifacts.get(name)
    if not isinstance(path, Path):
        raise ToolInputError(f"the latest run ({info.run_id}) has no {name}.md")
    if not inside(path, ws.root) or path.is_symlink():
        raise ToolInputError(f"{name}.md of the latest run is not inside the workspace")
    try:
        if path.stat().st_size > MAX_ARTIFACT_BYTES:
            raise ToolInputError(f"{name}.md of the latest run is too large to be ours")
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ToolInputError(f"cannot read {name}.md: {exc.strerror or exc}") from exc


def summary_md(ws: Workspace) -> str:
    """summary.md of the latest run, as the runtime wrote it (recorded text fenced)."""
    return _artifact(ws, "summary")


def ask_md(ws: Workspace) -> str:
    """ask.md of the latest run: its failure story, as the runtime wrote it."""
    return _artifact(ws, "ask")
