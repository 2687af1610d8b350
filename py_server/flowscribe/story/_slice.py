"""Which failures to tell, and which events tell each one: the causal slice.

A failure is where a problem was *detected*; what explains it usually happened earlier and
elsewhere: in the flow's children, in a sibling that ran before it and handed it data, in
an event that shares a correlation value or a rare evidence value with it, along its
``caused_by`` chain. Each candidate event gets a score for the strongest reason it is
related; the slice is the best-scored events, shown in trace order.

Roll-ups (a parent that failed because a child failed, an exception recorded again by every
flow it escaped) are folded into the failure they follow from, so each top failure is a
distinct problem.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flowscribe.story._run import VERDICT_TYPES, RunView

__all__ = ["SliceItem", "TopFailure", "causal_slice", "top_failures"]

# Scores: the strongest reason an event belongs to a failure's story.
_FAILURE, _SAME, _CAUSE, _CHILD, _SIBLING, _PARENT, _SHARED, _RARE = (
    100, 90, 85, 75, 60, 55, 45, 35)
#: flow_start/flow_end brackets say little on their own.
_BRACKET_PENALTY = 25
#: Siblings that ran before the failing instance, looked at (newest first).
_MAX_SIBLINGS = 4
#: A correlation value carried by more than this share of the run's instances is not a clue.
_COMMON_SHARE = 0.34


@dataclass
class TopFailure:
    """A distinct problem: its first event, how often it recurred, and the roll-ups
    (failures elsewhere that followed from it)."""

    event: dict[str, Any]
    count: int = 1
    latest: dict[str, Any] | None = None
    consequences: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> tuple[Any, ...]:
        e = self.event
        return (e.get("flow_id"), e.get("error_class"), e.get("file"), e.get("line"))


@dataclass
class SliceItem:
    """One event of a failure's story and why it is there."""

    event: dict[str, Any]
    score: int
    why: str


def _key(ev: Mapping[str, Any]) -> tuple[Any, ...]:
    return (ev.get("flow_id"), ev.get("error_class"), ev.get("file"), ev.get("line"))


def _cause_of(run: RunView, ev: Mapping[str, Any]) -> dict[str, Any] | None:
    """The earlier verdict event ``ev`` follows from, if it is a roll-up."""
    cause = run.by_id.get(str(ev.get("caused_by") or ""))
    if cause is not None and cause.get("event_type") in VERDICT_TYPES and cause is not ev:
        return cause
    inst = ev.get("instance")
    if not isinstance(inst, str):
        return None
    mine = run.position.get(str(ev.get("id")), 1 << 62)
    below = set(run.descendants(inst))
    earlier = [e for i in below for e in run.by_instance.get(i, ())
               if e.get("event_type") in VERDICT_TYPES
               and run.position.get(str(e.get("id")), 1 << 62) < mine]
    if not earlier:
        return None
    return min(earlier, key=lambda e: run.position.get(str(e.get("id")), 0))


def top_failures(run: RunView, limit: int = 8) -> list[TopFailure]:
    """The run's distinct problems in the order they first happened, roll-ups folded
    (found once per view: a story is told again from the same run)."""
    if run.tops is None:
        run.tops = _top_failures(run)
    return list(run.tops[:limit])


def _top_failures(run: RunView) -> list[TopFailure]:
    groups: dict[tuple[Any, ...], TopFailure] = {}
    root_of: dict[str, tuple[Any, ...]] = {}
    for ev in run.verdict_events():
        cause = _cause_of(run, ev)
        root_key = root_of.get(str(cause.get("id"))) if cause is not None else None
        if root_key is not None and root_key in groups:
            groups[root_key].consequences.append(ev)
            root_of[str(ev.get("id"))] = root_key
            continue
        key = _key(ev)
        group = groups.get(key)
        if group is None:
            groups[key] = TopFailure(event=ev, latest=ev)
        else:
            group.count += 1
            group.latest = ev
        root_of[str(ev.get("id"))] = key
    # A flow that ended failed because of a failure in another instance (an exception
    # escaping it from a child, recorded once) is a roll-up of that failure too.
    for end in run.ends.values():
        cause = run.by_id.get(str(end.get("caused_by") or ""))
        if end.get("status") != "failed" or cause is None or (
                cause.get("instance") == end.get("instance")):
            continue
        root_key = root_of.get(str(cause.get("id")))
        if root_key in groups:
            groups[root_key].consequences.append(end)
    return list(groups.values())


def _values(value: Any, depth: int = 0) -> list[str]:
    """A text for every scalar in an evidence or correlation mapping: JSON's for numbers
    and booleans, the string in quotes (no escaping: the texts only need to tell values
    apart, and this runs for every value of a run)."""
    if not value or not isinstance(value, Mapping) or depth > 4:
        return []
    out: list[str] = []
    for v in list(value.values())[:50]:
        if isinstance(v, str):
            out.append(f'"{v}"')
        elif v is True or v is False:
            out.append("true" if v else "false")
        elif isinstance(v, (int, float)):
            out.append(repr(v))
        elif isinstance(v, Mapping):
            out.extend(_values(v, depth + 1))
    return out


def _value_index(run: RunView) -> dict[str, array[int]]:
    """Where each correlation and evidence value occurs in the run (see
    :attr:`RunView.value_index`); built once per view, whatever the failures told."""
    index = run.value_index
    if index is None:
        index = {}
        for n, ev in enumerate(run.events):
            for text in _values(ev.get("correlation")):
                index.setdefault(text, array("q")).append(2 * n)
            for text in _values(ev.get("evidence")):
                index.setdefault(text, array("q")).append(2 * n + 1)
        run.value_index = index
    return index


def _clue_values(run: RunView, failure: Mapping[str, Any]) -> set[str]:
    """Correlation and evidence values of the failure that are rare in the run."""
    index = _value_index(run)
    instances = max(1, len(run.starts))
    clues = set()
    for text in _values(failure.get("correlation")) + _values(failure.get("evidence")):
        if text in ('""', "0", "1", "true", "false", "null") or len(text) < 2:
            continue
        if len(index.get(text, ())) <= max(3, _COMMON_SHARE * instances):
            clues.add(text)
    return clues


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _conflicts(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """True when two correlations give one key different values."""
    return any(k in b and b[k] != v for k, v in a.items())


def causal_slice(run: RunView, failure: Mapping[str, Any], limit: int = 40) -> list[SliceItem]:
    """The events that tell ``failure``'s story, best first (at most ``limit``)."""
    scored: dict[str, SliceItem] = {}
    fpos = run.position.get(str(failure.get("id")), len(run.events))

    def add(ev: Mapping[str, Any], score: int, why: str) -> None:
        eid = ev.get("id")
        if not isinstance(eid, str):
            return
        bracket = ev.get("event_type") in ("flow_start", "flow_end")
        failed_end = ev.get("event_type") == "flow_end" and ev.get("status") == "failed"
        if bracket and score < _FAILURE and not failed_end:
            score -= _BRACKET_PENALTY
        if ev.get("event_type") in ("run_start", "summary"):
            return
        old = scored.get(eid)
        if old is None or old.score < score:
            scored[eid] = SliceItem(dict(ev), score, why)

    add(failure, _FAILURE, "the failure")
    inst = failure.get("instance")
    if isinstance(inst, str):
        for ev in run.by_instance.get(inst, ()):
            add(ev, _SAME, "same flow instance")
        for child in run.descendants(inst):
            for ev in run.by_instance.get(child, ()):
                add(ev, _CHILD, "a child flow")
        # Siblings for another correlation value (ticker=MSFT beside ticker=NFLX) ran in
        # parallel, not upstream: only the others can have handed the failing flow its data.
        corr = _mapping(failure.get("correlation"))
        upstream = [s for s in run.siblings_before(inst)
                    if not _conflicts(corr, _mapping(run.starts[s].get("correlation")))]
        for n, sib in enumerate(upstream[:_MAX_SIBLINGS]):
            for ev in run.by_instance.get(sib, ()):
                add(ev, _SIBLING - 3 * n, "ran before it under the same parent")
            for child in run.descendants(sib):
                for ev in run.by_instance.get(child, ()):
                    add(ev, _SIBLING - 3 * n - 5, "ran before it under the same parent")
        for depth, anc in enumerate(run.ancestors(inst)):
            for ev in run.by_instance.get(anc, ()):
                if run.position.get(str(ev.get("id")), 0) <= fpos:
                    add(ev, _PARENT - 5 * depth, "a parent flow")
    # The caused_by chain, both ways.
    cur: Mapping[str, Any] | None = failure
    for _ in range(20):
        cause = run.by_id.get(str(cur.get("caused_by") or "")) if cur else None
        if cause is None:
            break
        add(cause, _CAUSE, "caused_by")
        cur = cause
    # Events sharing a clue, from the index (in trace order; a shared correlation value
    # counts before a shared evidence value).
    index = _value_index(run)
    shared: set[int] = set()
    rare: set[int] = set()
    for text in _clue_values(run, failure):
        for code in index.get(text, ()):
            (rare if code & 1 else shared).add(code >> 1)
    for n in sorted(shared | rare):
        if n in shared:
            add(run.events[n], _SHARED, "shares a correlation value")
        else:
            add(run.events[n], _RARE, "shares a rare evidence value")

    def rank(item: SliceItem) -> tuple[int, int]:
        pos = run.position.get(str(item.event.get("id")), 0)
        return (-item.score, abs(fpos - pos))

    return sorted(scored.values(), key=rank)[:limit]
