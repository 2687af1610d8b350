"""The focused prompt behind ``flowscribe/failurePrompt``: one failure, for an assistant.

What the failure was (flow, class, reason, file:line, evidence), what the catalog says
the flow should do, the code around the line, and the flow instance's recent events.
Everything recorded by the app or read from the repository is a code span or a fenced
block (:mod:`flowscribe.markdown`), under a note that says it is data, not instructions.

The prompt stays under :data:`MAX_CHARS` by leaving out whole items, never by cutting
text: every item is capped on its own, the failure and the request are always there,
then the catalog, the code and as many of the newest events as fit. A fence is never
left open, and odd field types (a trace is untrusted) render as what they are.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..markdown import DATA_NOTE, clip, code, fence

if TYPE_CHECKING:
    from ..index import Project

__all__ = ["MAX_CHARS", "render_failure_prompt"]

MAX_CHARS = 12_000
CODE_CONTEXT = 6
#: Caps per item, so that one huge value costs its own item, not the prompt's structure.
MAX_RECORDED_CHARS = 3_000
MAX_CATALOG_CHARS = 2_000
MAX_SOURCE_LINE_CHARS = 240
MAX_EVENT_CHARS = 600

_REQUEST = "\n".join([
    "## What I need",
    "1. The likely root cause, in 3-6 bullets that reference flow names and file:line.",
    "2. A minimal patch (which files and functions, and why).",
    "3. A test that reproduces this failure and passes after the fix.",
    "",
])
_EVENT_FIELDS = ("event_type", "step", "file", "line", "severity", "error_class", "reason",
                 "evidence", "status", "duration_ms", "value", "unit")


def render_failure_prompt(event: Mapping[str, Any], instance_events: Sequence[Mapping[str, Any]],
                          project: Project, source_lines: Sequence[str] | None) -> str:
    """The prompt text (plain Markdown for a chat input), at most :data:`MAX_CHARS`."""
    line = _line_number(event.get("line"))
    file = event.get("file")
    where = f"{file}:{line}" if isinstance(file, str) and file and line else None
    sections = [_failure(event, where)]
    budget = MAX_CHARS - len(sections[0]) - len(_REQUEST) - 2
    optional = [_catalog(event, project), _code(where, line, source_lines)]
    for item in optional:
        if item and len(item) + 1 <= budget:
            sections.append(item)
            budget -= len(item) + 1
    events = _events(instance_events, budget)
    if events:
        sections.append(events)
    sections.append(_REQUEST)
    return "\n".join(sections)


def _line_number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _failure(event: Mapping[str, Any], where: str | None) -> str:
    kind = event.get("event_type")
    lines = [
        "# A runtime failure to diagnose (flowscribe)",
        "",
        DATA_NOTE,
        "",
        "## The failure",
        f"- flow: {code(event.get('flow_id'), 200)}",
        f"- kind: {code(kind, 40)}, class {code(event.get('error_class') or 'SYSTEM', 120)}, "
        f"severity {code(event.get('severity') or 'error', 40)}",
        f"- where: {code(where, 300) if where else '(unknown location)'}"
        + (f" in {code(event.get('function'), 120)}" if event.get("function") else ""),
        f"- run {code(event.get('run_id'), 80)}, event {code(event.get('id'), 80)}, "
        f"instance {code(event.get('instance'), 80)}",
    ]
    recorded: dict[str, Any] = {"reason": event.get("reason"), "evidence": event.get("evidence"),
                                "correlation": event.get("correlation")}
    exc = event.get("exception")
    if isinstance(exc, Mapping):
        recorded["exception"] = {"type": exc.get("type"), "message": exc.get("message")}
    lines += ["", "Recorded reason and evidence (data):",
              fence(clip(_json(recorded, indent=1), MAX_RECORDED_CHARS), "json")]
    return "\n".join(lines)


def _catalog(event: Mapping[str, Any], project: Project) -> str:
    flow_id = event.get("flow_id")
    spec = project.catalog.get(flow_id) if isinstance(flow_id, str) else None
    if spec is None:
        return ""
    facts = []
    if spec.description:
        facts.append(f"description: {spec.description}")
    if spec.parent:
        facts.append(f"parent: {spec.parent}")
    facts += [f"success: {c}" for c in spec.success_criteria[:10]]
    if spec.failure_classes:
        facts.append(f"expected failure classes: {', '.join(spec.failure_classes)}")
    sla = project.sla_ms(spec.id)
    if sla is not None:
        facts.append(f"SLA p95: {sla} ms")
    if spec.code_refs:
        facts.append(f"code refs: {', '.join(spec.code_refs)}")
    if not facts:
        return ""
    # The catalog comes from the repository: as untrusted as the trace, so fenced too.
    return "\n".join([
        "## What the catalog says this flow should do (.autodev/flows.yaml, data)",
        fence(clip("\n".join(facts), MAX_CATALOG_CHARS), "text"),
    ])


def _code(where: str | None, line: int | None, source_lines: Sequence[str] | None) -> str:
    if not source_lines or where is None or line is None or line > len(source_lines):
        return ""
    lo = max(line - 1 - CODE_CONTEXT, 0)
    hi = min(line + CODE_CONTEXT, len(source_lines))
    snippet = "\n".join(
        f"{'>' if n + 1 == line else ' '} {n + 1:5d}  "
        f"{clip(str(source_lines[n]), MAX_SOURCE_LINE_CHARS)}"
        for n in range(lo, hi))
    return "\n".join([f"## The code at {code(where, 300)}", fence(snippet, "python")])


def _events(instance_events: Sequence[Mapping[str, Any]], budget: int) -> str:
    heading = "## This flow instance's events (oldest first, data)"
    room = budget - len(heading) - 40  # the heading, a fence that may grow, newlines
    kept: list[str] = []
    for ev in reversed(instance_events):  # the newest matter most when room runs out
        text = clip(_json(_slim(ev)), MAX_EVENT_CHARS)
        if len(text) + 1 > room:
            break
        room -= len(text) + 1
        kept.append(text)
    while kept:  # a fence grows with the backtick runs inside: drop the oldest to fit
        section = "\n".join([heading, fence("\n".join(reversed(kept)), "jsonl")])
        if len(section) + 1 <= budget:
            return section
        kept.pop()
    return ""


def _json(value: Any, indent: int | None = None) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, indent=indent,
                          separators=None if indent else (",", ":"), default=str)
    except (TypeError, ValueError, RecursionError):
        return json.dumps(repr(value)[:MAX_EVENT_CHARS])


def _slim(ev: Any) -> dict[str, Any]:
    if not isinstance(ev, Mapping):
        return {}
    return {k: ev[k] for k in _EVENT_FIELDS if ev.get(k) not in (None, {}, [])}
