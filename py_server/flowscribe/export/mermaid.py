"""A run as Mermaid diagrams: the flow graph with this run's verdicts, and a failing
instance as a sequence of its steps and children.

Recorded text (flow ids, steps, reasons) is put in quoted labels with Mermaid's entity
codes for the characters that could end a label or start markup, so it is shown, never
interpreted; node ids are generated (``f1``, ``f2``…), never taken from the trace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flowscribe.story import RunView, top_failures

if TYPE_CHECKING:
    from flowscribe.catalog import Catalog

__all__ = ["failure_sequence", "flow_graph"]

_LABEL_MAX = 80
# Everything but plain letters, digits, spaces and a few safe marks becomes #code;
_UNSAFE = re.compile(r"[^A-Za-z0-9 _./:=,()\-+×✓✗…]")


def label(text: Any, limit: int = _LABEL_MAX) -> str:
    """``text`` as the inside of a quoted Mermaid label."""
    s = " ".join(str(text).split())
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return _UNSAFE.sub(lambda m: f"#{ord(m.group(0))};", s)


def _counts(run: RunView) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for inst, start in run.starts.items():
        fid = str(start.get("flow_id") or "?")
        c = out.setdefault(fid, {"passed": 0, "failed": 0, "other": 0})
        status = run.status(inst)
        c[status if status in ("passed", "failed") else "other"] += 1
    return out


def flow_graph(run: RunView, catalog: Catalog | None = None) -> str:
    """``flowchart TD``: catalog and trace flows as parent → child, with ✓/✗ counts."""
    counts = _counts(run)
    parents: dict[str, str | None] = {}
    if catalog is not None:
        for spec in catalog.flows.values():
            parents[spec.id] = spec.parent
    for start in run.starts.values():
        fid = str(start.get("flow_id") or "?")
        if parents.get(fid) is None:
            parent = start.get("parent_flow")
            parents[fid] = str(parent) if parent else parents.get(fid)
    ids = {fid: f"f{n}" for n, fid in enumerate(parents, 1)}
    lines = ["flowchart TD"]
    for fid, node in ids.items():
        c = counts.get(fid)
        marks = f"✓{c['passed']} ✗{c['failed']}" if c else "not run"
        lines.append(f'  {node}["{label(fid)}<br/>{label(marks)}"]')
    for fid, parent in parents.items():
        if parent and parent in ids:
            lines.append(f"  {ids[parent]} --> {ids[fid]}")
    lines += ["  classDef failed stroke:#c33,stroke-width:2px",
              "  classDef passed stroke:#3a3", "  classDef idle stroke-dasharray:4 3"]
    for fid, node in ids.items():
        c = counts.get(fid)
        kind = "idle" if not c else "failed" if c["failed"] else "passed"
        lines.append(f"  class {node} {kind}")
    return "\n".join(lines) + "\n"


def failure_sequence(run: RunView, event_id: str | None = None, max_steps: int = 60) -> str:
    """``sequenceDiagram`` of the instance that failed first (or of ``event_id``'s): its
    steps, its children's, and the failure."""
    failure: Mapping[str, Any] | None = run.by_id.get(event_id) if event_id else None
    if failure is None:
        tops = top_failures(run, limit=1)
        failure = tops[0].event if tops else None
    if failure is None or not isinstance(failure.get("instance"), str):
        return "sequenceDiagram\n  Note over run: no failure inside a flow in this run\n"
    root = str(failure["instance"])
    instances = [root, *run.descendants(root)]
    names: dict[str, str] = {}
    lines = ["sequenceDiagram"]
    for n, inst in enumerate(instances, 1):
        start = run.starts.get(inst, {})
        names[inst] = f"p{n}"
        lines.append(f"  participant p{n} as {label(start.get('flow_id') or inst)}")
    events = sorted((e for i in instances for e in run.by_instance.get(i, ())),
                    key=lambda e: run.position.get(str(e.get("id")), 0))
    for ev in events[:max_steps]:
        who = names.get(str(ev.get("instance")))
        kind = ev.get("event_type")
        if who is None:
            continue
        if kind == "flow_start":
            parent = names.get(str(ev.get("parent")))
            if parent is not None and parent != who:
                lines.append(f"  {parent}->>{who}: start")
        elif kind == "flow_end":
            parent = names.get(str(ev.get("parent")))
            text = label(f"{ev.get('status') or '?'}")
            if parent is not None and parent != who:
                lines.append(f"  {who}-->>{parent}: {text}")
            else:
                lines.append(f"  Note over {who}: end {text}")
        elif kind in ("failure", "exception"):
            what = ev.get("error_class") or kind
            lines.append(f"  Note over {who}: ✗ {label(what)} {label(ev.get('reason') or '', 60)}")
        else:
            lines.append(f"  {who}->>{who}: {label(ev.get('step') or kind, 60)}")
    if len(events) > max_steps:
        lines.append(f"  Note over {names[root]}: … {len(events) - max_steps} more events")
    return "\n".join(lines) + "\n"
